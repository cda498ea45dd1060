"""Invoice lines as a source: revenue N, N-1, N-2 and order fields per account."""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pandas as pd
import pytest

from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.sources.invoices import LineSettings, read_lines
from potentiel.validate import RawTable

from helpers import fr, write_workbook

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "sources"
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
    assert "no Accounts sheet" in said and "revenue N from invoice lines (2025, 3,000 lines)" in said
    # the accounts are written to a new Accounts sheet, with their names and results
    wb = openpyxl.load_workbook(out)
    ws = wb["Accounts"]
    assert [c.value for c in ws[1]][:3] == ["Account id", "Name", "Status"]
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
    path = write_workbook(tmp_path / "acc.xlsx", ["Code client", "Raison sociale", "Statut", "CA N"],
                          [["C1", "Un", "client", None], ["C2", "Deux", "client", 5000],
                           ["C3", "Trois", "prospect", None]], settings=settings)
    add_sheet(path, "Ventes", LINES_H, LINES)
    return path


# message keys (a French-headed workbook reads them in French)
UNKNOWN_IDS = ("{n} client code(s) of the invoice lines are not in Accounts ({shown}; revenue "
               "N {revenue:,.0f}); they are not scored: add them to Accounts, or set Add "
               "accounts from invoice lines = yes in Settings")
FROM_LINES = ("revenue {label} from invoice lines ({period}, {lines:,} lines) for {n} "
              "account(s); typed in Accounts for {typed}")


def test_typed_revenue_wins_and_unknown_ids_are_listed(tmp_path):
    result, _ = score_file(accounts_book(tmp_path), tmp_path / "o.xlsx")
    acc = result.accounts.set_index("id")
    assert acc.loc["C1", "revenue"] == 1000 and acc.loc["C1", "revenue_n1"] == 400
    assert acc.loc["C2", "revenue"] == 5000  # typed in Accounts wins
    assert acc.loc["C3", "revenue"] == 0 and acc.loc["C3", "orders_n"] == 0
    said = [str(p) for p in result.warnings]
    # French headers: the warnings are the catalog's French
    unknown = [str(p) for p in result.warnings if p.kind == "unknown-ids"]
    assert len(unknown) == 1 and "C8, C9" in unknown[0]
    assert fr(UNKNOWN_IDS).split("{shown}")[0].format(n=2) in unknown[0]
    assert any(fr(FROM_LINES, label="N", period="2025", lines=5, n=2, typed=1) in s
               for s in said)
    # an unreadable date is named by its cell
    bad = [p for p in result.warnings if p.kind == "unreadable-date"]
    assert [p.where for p in bad] == ["Ventes!B7"]
    assert bad[0].message.startswith(fr('"{value}" is not a date', value="le 3 mars"))


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
    assert not any(p.kind == "unknown-ids" for p in result.warnings)
    assert not any(fr(UNKNOWN_IDS).split(" (")[0].format(n=2) in str(p)
                   for p in result.warnings)


def test_sales_option_on_the_command_line(tmp_path, capsys):
    path = write_workbook(tmp_path / "acc.xlsx", ["Code client", "Raison sociale"],
                          [["C1", "Un"], ["C2", "Deux"]])
    lines = tmp_path / "lignes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Export"
    for r in [LINES_H, *LINES[:3]]:
        wb.active.append(r)
    wb.save(lines)
    code = main(["score", str(path), "-o", str(tmp_path / "o.xlsx"), "--sales", str(lines)])
    out = capsys.readouterr()
    assert code == 0, out.err
    # French headers: the console speaks French
    assert fr(FROM_LINES, label="N", period="2025", lines=3, n=2, typed=0) in out.out
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
    from helpers import fr, write_workbook
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
