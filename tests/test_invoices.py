"""Invoice lines as a source: revenue N, N-1, N-2 and order fields per account."""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections import Counter
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pandas as pd
import pytest

from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.sources.invoices import LineSettings, read_lines
from potentiel.validate import RawTable

from helpers import SHARED_CASES, write_workbook

CASES = SHARED_CASES / "sources"
CASE = CASES / "c_invoice_lines.xlsx"


def case_pivot() -> pd.DataFrame:
    """Sum of Montant HT by client and year, as a pivot table gives it (openpyxl, pandas)."""
    ws = openpyxl.load_workbook(CASE, data_only=True)["Factures"]
    rows = list(ws.iter_rows(values_only=True))
    df = pd.DataFrame(rows[1:], columns=rows[0])
    assert (df["Montant HT"] < 0).sum() > 0  # the case has credit notes
    df["year"] = pd.to_datetime(df["Date facture"]).dt.year
    return df.pivot_table(index="Code client", columns="year", values="Montant HT",
                          aggfunc="sum", fill_value=0.0)


def test_case_revenue_by_year_equals_the_pivot_table(tmp_path):
    pivot = case_pivot()
    result, out = score_file(CASE, tmp_path / "out.xlsx")
    acc = result.accounts.set_index("id")
    assert len(acc) == len(pivot) == 60
    for field, year in (("revenue", 2025), ("revenue_n1", 2024), ("revenue_n2", 2023)):
        got = acc[field].reindex(pivot.index)
        assert (got - pivot[year]).abs().max() < 0.005, field
    # last order date and order count, readable by rules
    ws = openpyxl.load_workbook(CASE, data_only=True)["Factures"]
    rows = list(ws.iter_rows(values_only=True))[1:]
    last = max(r[1] for r in rows if r[2] == "4110000" and r[5] > 0)
    assert acc.loc["4110000", "last_order_date"] == last.date().isoformat()
    n2025 = len({r[0] for r in rows if r[2] == "4110000" and r[1].year == 2025 and r[5] > 0})
    assert acc.loc["4110000", "orders_n"] == n2025
    assert acc.loc["4110000", "days_since_last_order"] == (dt.date(2025, 12, 28) - last.date()).days
    said = "\n".join(str(p) for p in result.warnings)
    assert "no Accounts sheet" in said
    # each year's notice counts the lines of that year (1,000 each), not all the lines
    per_year = Counter(r[1].year for r in rows)
    assert per_year == {2023: 1000, 2024: 1000, 2025: 1000}
    for label, year in (("N", 2025), ("N-1", 2024), ("N-2", 2023)):
        assert f"revenue {label} from invoice lines ({year}, {per_year[year]:,} lines)" in said
    # the accounts are written to a new Accounts sheet, with their names, reps and results
    wb = openpyxl.load_workbook(out)
    ws = wb["Accounts"]
    assert [c.value for c in ws[1]][:4] == ["Account id", "Name", "Status", "Salesperson"]
    assert ws.max_row == 61 and ws["A2"].value == "4110000" and ws["B2"].value == "Client A00 SAS"
    assert "How the invoice lines were read" in [r[0] for r in wb["Reading"].iter_rows(
        values_only=True)]


def test_ttc_is_not_used_when_ht_exists():
    ws = openpyxl.load_workbook(CASE, data_only=True)["Factures"]
    rows = list(ws.iter_rows(values_only=True))
    lines = read_lines(RawTable(list(rows[0]), [list(r) for r in rows[1:]], sheet="Factures"))
    ttc = [p for p in lines.warnings if p.kind == "ttc-not-used"]
    assert ttc and ttc[0].where == "Factures!H1" and "Montant HT" in ttc[0].message
    use = {c.header: c for c in lines.report.columns}
    assert use["Montant HT"].field == "amount" and use["Montant TTC"].field is None
    # with TTC only, it is used, and said
    only = read_lines(RawTable(["Code client", "Date", "Montant TTC"],
                               [["C1", dt.datetime(2025, 1, 2), 120.0],
                                ["C1", dt.datetime(2025, 12, 1), 60.0]]))
    assert only.fields.loc["C1", "revenue"] == 180.0
    assert pd.isna(only.fields.loc["C1", "revenue_n1"])  # the lines do not reach back to 2024
    assert any(p.kind == "not-covered" for p in only.warnings)
    assert any(p.kind == "ttc-used" for p in only.warnings)


def generated(n_years: int = 4) -> tuple[list[str], list[list]]:
    """Lines on the 15th of every month from July 2021, 100 × month number, plus a credit
    note typed positive with Type = Avoir, and a product family."""
    rows = []
    d = dt.date(2021, 7, 15)
    k = 0
    while d <= dt.date(2025, 6, 15):
        rows.append([f"F{k}", d, "A1", 100.0 * d.month, "Facture", "Papier" if k % 2 else "Encre"])
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 15)
        k += 1
    rows.append(["AV1", dt.date(2025, 3, 1), "A1", 50.0, "Avoir", "Papier"])
    return ["N° facture", "Date facture", "Code client", "Montant HT", "Type", "Famille"], rows


def test_fiscal_year_ending_in_june():
    headers, rows = generated()
    lines = read_lines(RawTable(headers, rows), LineSettings(year_end_month=6))
    f = lines.fields.loc["A1"]
    year = 100.0 * sum(range(1, 13))  # July to June: every month once
    assert f["revenue"] == year - 50  # FY ending June 2025, the credit note counted negative
    assert f["revenue_n1"] == year and f["revenue_n2"] == year
    assert lines.periods[0] == lines.periods[0].__class__(
        "FY ending June 2025", dt.date(2024, 7, 1), dt.date(2025, 6, 30))
    assert f["orders_n"] == 12  # invoices, not the credit note
    assert f["last_order_date"] == "2025-06-15"
    assert f["revenue_family_papier"] + f["revenue_family_encre"] == year - 50
    assert any(p.kind == "credit-positive" for p in lines.warnings)
    # calendar years: the latest invoice (June 2025) leaves 2025 incomplete, N is 2024
    cal = read_lines(RawTable(headers, rows))
    assert cal.periods[0].label == "2024"
    assert cal.fields.loc["A1", "revenue"] == year
    assert "not complete" in cal.period_note


def test_last_twelve_months_to_a_date(tmp_path):
    headers, rows = generated()
    lines = read_lines(RawTable(headers, rows), LineSettings(up_to=dt.date(2025, 3, 31)))
    f = lines.fields.loc["A1"]
    # April 2024 … March 2025: every month once, minus the credit note of 1 March 2025
    assert f["revenue"] == 100.0 * sum(range(1, 13)) - 50
    assert lines.periods[0].start == dt.date(2024, 4, 1)
    assert f["days_since_last_order"] == (dt.date(2025, 3, 31) - dt.date(2025, 6, 15)).days
    # the same through the Settings row of a workbook
    path = write_workbook(tmp_path / "w.xlsx", ["Code client", "Raison sociale"], [["A1", "Acme"]],
                          settings=[("CA jusqu'au", dt.datetime(2025, 3, 31)),
                                    ("Fin d'exercice", "juin")])
    add_sheet(path, "Ventes", headers, rows)
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert result.accounts.loc[0, "revenue"] == 100.0 * sum(range(1, 13)) - 50


def add_sheet(path: Path, name: str, headers, rows) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet(name)
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    wb.save(path)


LINES_H = ["Code client", "Date facture", "Montant HT", "Montant TTC"]
LINES = [["C1", dt.datetime(2025, 12, 20), 1000.0, 1200.0],
         ["C1", dt.datetime(2024, 5, 2), 400.0, 480.0],
         ["C2", dt.datetime(2025, 1, 10), 300.0, 360.0],
         ["C9", dt.datetime(2025, 6, 1), 700.0, 840.0],
         ["C8", dt.datetime(2023, 1, 3), 50.0, 60.0],
         ["C2", "le 3 mars", 10.0, 12.0]]


def accounts_book(tmp_path, settings=()) -> Path:
    """French headers; the run in English (the messages the tests read)."""
    path = write_workbook(tmp_path / "acc.xlsx", ["Code client", "Raison sociale", "Statut", "CA N"],
                          [["C1", "Un", "client", None], ["C2", "Deux", "client", 5000],
                           ["C3", "Trois", "prospect", None]],
                          settings=[("Language", "English"), *settings])
    add_sheet(path, "Ventes", LINES_H, LINES)
    return path


def test_typed_revenue_wins_and_unknown_ids_are_listed(tmp_path):
    result, _ = score_file(accounts_book(tmp_path), tmp_path / "o.xlsx")
    acc = result.accounts.set_index("id")
    assert acc.loc["C1", "revenue"] == 1000 and acc.loc["C1", "revenue_n1"] == 400
    assert acc.loc["C2", "revenue"] == 5000  # typed in Accounts wins
    assert acc.loc["C3", "revenue"] == 0 and acc.loc["C3", "orders_n"] == 0
    said = [str(p) for p in result.warnings]
    unknown = [s for s in said if "not in Accounts" in s]
    assert len(unknown) == 1 and "C8, C9" in unknown[0]
    assert any("revenue N from invoice lines (2025, 3 lines) for 2 account(s), 0 for 1 "
               "account(s) with no line that year; typed in Accounts for 1" in s for s in said)
    # an unreadable date is named by its cell
    bad = [p for p in result.warnings if p.kind == "unreadable-date"]
    assert [p.where for p in bad] == ["Ventes!B7"] and '"le 3 mars"' in bad[0].message


def test_setting_adds_the_unknown_ids_as_clients(tmp_path):
    path = accounts_book(tmp_path, settings=[("Ajouter les comptes des factures", "oui")])
    result, out = score_file(path, tmp_path / "o.xlsx")
    acc = result.accounts.set_index("id")
    assert {"C8", "C9"} <= set(acc.index)
    assert acc.loc["C9", "status"] == "client" and acc.loc["C9", "revenue"] == 700
    ws = openpyxl.load_workbook(out)["Accounts"]
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    assert ids == ["C1", "C2", "C3", "C8", "C9"]
    assert ws.cell(6, 3).value == "client" and ws.cell(6, 5).value is not None  # Score
    assert not any("not in Accounts" in str(p) for p in result.warnings)


def test_sales_option_on_the_command_line(tmp_path, capsys):
    path = write_workbook(tmp_path / "acc.xlsx", ["Code client", "Raison sociale"],
                          [["C1", "Un"], ["C2", "Deux"]], settings=[("Language", "English")])
    lines = tmp_path / "lignes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Export"
    for r in [LINES_H, *LINES[:3]]:
        wb.active.append(r)
    wb.save(lines)
    code = main(["score", str(path), "-o", str(tmp_path / "o.xlsx"), "--sales", str(lines)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "revenue N from invoice lines (2025, 2 lines) for 2 account(s)" in out.out
    assert "Export!D1" in out.out  # Montant TTC not used, said with its cell


def test_ventes_sheet_through_xlwings_remote(tmp_path):
    import xlwings as xw

    from potentiel.excel import Options, recompute
    from potentiel.headless import remote_payload

    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set")
    path = accounts_book(tmp_path)
    book = xw.Book(json=copy.deepcopy(remote_payload(path)))
    try:
        outcome = recompute(book, Options(remote=True))
    finally:
        book.close()
    assert outcome.ok, outcome.message
    acc = outcome.result.accounts.set_index("id")
    assert acc.loc["C1", "revenue"] == 1000 and acc.loc["C2", "revenue"] == 5000
    assert acc.loc["C1", "last_order_date"] == "2025-12-20"
    assert any(p.kind == "unknown-ids" for p in outcome.result.warnings)
    assert [p.where for p in outcome.result.warnings if p.kind == "unreadable-date"] == \
        ["Ventes!B7"]


def test_sales_lines_from_a_csv_file(tmp_path):
    """--sales takes a CSV of lines too (French export: ';', decimal comma, Windows-1252),
    and a CSV of accounts can take --sales as well."""
    from helpers import write_workbook
    from potentiel.headless import score_file
    lines = tmp_path / "factures.csv"
    lines.write_text("Code client;Date facture;Montant HT;Type\n"
                     "C2;05/01/2024;50;Facture\nC1;20/06/2024;400;Facture\n"
                     "C1;15/03/2025;1 000,50;Facture\nC2;02/02/2025;300;Facture\n"
                     "C2;03/02/2025;100;Avoir\nC1;10/12/2025;10;Facture\n",
                     encoding="cp1252")
    book = write_workbook(tmp_path / "a.xlsx", ("Code client", "Raison sociale"),
                          [["C1", "Alpha"], ["C2", "Béta"]])
    result, _ = score_file(book, tmp_path / "o.xlsx", sales=lines)
    got = dict(zip(result.accounts["id"], result.accounts["revenue"]))
    assert got == {"C1": pytest.approx(1010.50), "C2": pytest.approx(200.0)}
    accounts = tmp_path / "comptes.csv"
    accounts.write_text("Code client;Raison sociale\nC1;Alpha\nC2;Beta\n", encoding="utf-8")
    result, _ = score_file(accounts, tmp_path / "o.csv", sales=lines)
    assert dict(zip(result.accounts["id"], result.accounts["revenue_n1"]))["C1"] == 400


# --- the user trial: codes that match nothing, inspect, per-account outputs, reps ---------

ERP = CASES.parent / "reading" / "a1_erp_title_row.xlsx"


def test_lines_whose_codes_match_no_account_are_not_merged(tmp_path):
    """a1's ids are C01001…, the lines' client codes 4110000…: none is an id of Accounts,
    so the lines give nothing (a blank CA 2025 stays unknown, not 0) and one warning says
    why, with a few ids of each side."""
    alone, _ = score_file(ERP, tmp_path / "alone.xlsx")
    result, out = score_file(ERP, tmp_path / "o.xlsx", sales=CASE)
    said = [p for p in result.warnings if p.kind == "ids-do-not-match"]
    assert len(said) == 1 and said[0].where == ""
    assert "60" in said[0].message and "4110000, 4110001, 4110002, …" in said[0].message
    assert "C01001, C01002, C01003, …" in said[0].message
    assert not any(p.kind in ("revenue-source", "unknown-ids", "line-fields")
                   for p in result.warnings)
    blank = alone.accounts["revenue"].isna()
    assert blank.sum() >= 2  # the accounts the trial saw change category
    for field in ("revenue", "revenue_n1", "revenue_n2"):
        pd.testing.assert_series_equal(result.accounts[field], alone.accounts[field])
    assert result.category.tolist() == alone.category.tolist()
    assert not any("invoices" in c for c in result.outputs.columns)


def test_almost_no_match_is_not_merged_either():
    from potentiel.sources.invoices import merge
    codes = [f"X{k}" for k in range(40)] + ["C1"]
    lines = read_lines(RawTable(["Code client", "Date facture", "Montant HT"],
                                [[c, dt.datetime(2025, 12, 1), 10.0] for c in codes]))
    accounts = pd.DataFrame({"id": [f"C{k}" for k in range(1, 31)],
                             "revenue": [None] * 30}, dtype=object)
    said: list = []
    assert merge(accounts, lines, said) == set()
    wrong = [p for p in said if p.kind == "ids-do-not-match"]
    assert len(wrong) == 1 and "only 1 of the 41 client codes" in wrong[0].message
    assert accounts["revenue"].isna().all()


def test_an_account_without_lines_gets_0_and_the_notice_counts_it(tmp_path):
    result, _ = score_file(accounts_book(tmp_path), tmp_path / "o.xlsx")
    said = [str(p) for p in result.warnings if p.kind == "revenue-source"]
    # N: C3 has no line at all, C2's typed revenue wins
    assert any("revenue N from invoice lines (2025, 3 lines) for 2 account(s), 0 for 1 "
               "account(s) with no line that year; typed in Accounts for 1" in s for s in said)
    # N-1: C1's line of 2024; C2 (no line in 2024, none typed) and C3 get 0
    assert any("revenue N-1 from invoice lines (2024, 1 lines) for 3 account(s), 0 for 2 "
               "account(s) with no line that year; typed in Accounts for 0" in s for s in said)


def test_inspect_a_workbook_of_invoice_lines_only(capsys):
    from potentiel.headless import inspect_file
    report = inspect_file(CASE)
    pivot = case_pivot()
    assert report.sheet == "Accounts" and report.accounts_read == 60
    [(title, lines)] = report.parts
    assert title == "How the invoice lines were read"
    assert lines.sheet == "Factures" and lines.header_row == 1
    use = {c.header: c.field for c in lines.columns}
    assert use["Code client"] == "account" and use["Montant HT"] == "amount"
    assert use["Commercial"] == "salesperson" and use["Montant TTC"] is None
    assert {c.field: c.read for c in lines.counts}["amount"] == 3000
    assert any(p.kind == "ttc-not-used" for p in lines.notices)
    first = report.preview[0]  # the accounts the lines give, with what the lines gave
    assert first["id"] == "4110000" and first["salesperson"]
    assert abs(first["revenue"] - pivot.loc["4110000", 2025]) < 0.005
    assert code_of(main(["inspect", str(CASE)])) == 0
    printed = capsys.readouterr().out
    assert "How the invoice lines were read:" in printed and "Factures!E1" in printed
    assert "revenue N-2 from invoice lines (2023, 1,000 lines)" in printed
    assert "Nothing was written." in printed


def code_of(code: int) -> int:
    return code


def test_inspect_shows_the_lines_of_a_workbook_and_of_sales(tmp_path, capsys):
    from potentiel.headless import inspect_file
    report = inspect_file(accounts_book(tmp_path))
    assert [t for t, _ in report.parts] == ["How the invoice lines were read"]
    assert any(p.kind == "unknown-ids" for p in report.notices)
    assert [p.where for p in report.parts[0][1].notices if p.kind == "unreadable-date"] == \
        ["Ventes!B7"]
    # --sales FILE on a workbook without lines
    book = write_workbook(tmp_path / "a.xlsx", ["Code client", "Raison sociale"],
                          [["4110000", "A"], ["4110001", "B"]])
    assert main(["inspect", str(book), "--sales", str(CASE)]) == 0
    printed = capsys.readouterr().out
    # French headers: French report
    assert "Comment les lignes de facture ont été lues" in printed and "revenue=" in printed


def test_what_the_lines_gave_is_an_output_per_account(tmp_path):
    pivot = case_pivot()
    result, out = score_file(CASE, tmp_path / "out.xlsx")
    outputs = result.outputs.set_index(result.accounts["id"])
    for header, year in (("Revenue N (from invoices)", 2025),
                         ("Revenue N-1 (from invoices)", 2024),
                         ("Revenue N-2 (from invoices)", 2023)):
        assert (outputs[header].reindex(pivot.index) - pivot[year]).abs().max() < 0.005
    acc = result.accounts.set_index("id")
    assert outputs.loc["4110000", "Last order (from invoices)"] == acc.loc["4110000",
                                                                           "last_order_date"]
    assert outputs.loc["4110000", "Orders N (from invoices)"] == acc.loc["4110000", "orders_n"]
    # written as Potentiel's columns (a defined name each), next to the user's
    wb = openpyxl.load_workbook(out)
    headers = [c.value for c in wb["Accounts"][1]]
    assert "Revenue N (from invoices)" in headers
    assert "_Potentiel.col.revenue_n_from_invoices" in wb.defined_names


def test_a_typed_value_is_never_overwritten_by_the_output(tmp_path):
    path = accounts_book(tmp_path)
    result, out = score_file(path, tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(out)["Accounts"]
    headers = [c.value for c in ws[1]]
    typed = headers.index("CA N") + 1
    given = headers.index("Revenue N (from invoices)") + 1
    assert ws.cell(3, 1).value == "C2" and ws.cell(3, typed).value == 5000  # typed, kept
    assert ws.cell(3, given).value == 300  # what the lines gave, beside it
    assert ws.cell(2, typed).value is None and ws.cell(2, given).value == 1000


def test_the_rep_comes_from_the_most_recent_line(tmp_path):
    pivot_reps = {}
    ws = openpyxl.load_workbook(CASE, data_only=True)["Factures"]
    for r in sorted(list(ws.iter_rows(values_only=True))[1:], key=lambda r: r[1]):
        pivot_reps[r[2]] = r[4]  # the last line by date wins
    result, out = score_file(CASE, tmp_path / "o.xlsx")
    acc = result.accounts.set_index("id")
    assert acc["salesperson"].to_dict() == pivot_reps
    summary = [r for r in openpyxl.load_workbook(out)["Summary"].iter_rows(values_only=True)]
    assert any(r and r[0] == "Julie Martin" for r in summary)  # Summary per rep works
    # a blank salesperson in Accounts takes the rep of the lines; a typed one is kept
    path = write_workbook(tmp_path / "acc.xlsx", ["Code client", "Commercial"],
                          [["C1", None], ["C2", "Zoé"]], settings=[("Language", "English")])
    add_sheet(path, "Ventes", ["Code client", "Date facture", "Montant HT", "Commercial"],
              [["C1", dt.datetime(2025, 1, 5), 10.0, "Ancien"],
               ["C1", dt.datetime(2025, 12, 5), 10.0, "Nouveau"],
               ["C2", dt.datetime(2025, 12, 5), 10.0, "Autre"]])
    result, _ = score_file(path, tmp_path / "o2.xlsx")
    assert result.accounts["salesperson"].tolist() == ["Nouveau", "Zoé"]
    assert any(p.kind == "reps-from-lines" and "1 account(s)" in p.message
               for p in result.warnings)
