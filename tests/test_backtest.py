"""Backtest (issue 15, point 3): last year's categories against this year's revenue.

Small portfolios whose figures are computed by hand below, on real files through the
command line (`potentiel backtest`), the headless writer and the xlwings entry point.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import zipfile
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from helpers import fr, own_sheet, write_workbook
from potentiel.cli import main
from potentiel.review import backtest as B

THIS_HEADERS = ("id", "name", "status", "revenue", "revenue_n1")
# account, last year's score, category, status; this year's revenue N-1 and N
PORTFOLIO = (("a1", 90, "A", "client", 1000, 1200), ("a2", 80, "A", "client", 800, 1000),
             ("a3", 60, "B", "client", 500, 400), ("a4", 55, "B", "client", 300, 500),
             ("a5", 40, "C", "client", 200, 100), ("a6", 30, "C", "prospect", 0, 300),
             ("a7", 10, "D", "prospect", 0, 0), ("a8", 5, "D", "prospect", 0, None))


def snapshot_csv(path: Path, rows=PORTFOLIO, sep: str = ";") -> Path:
    lines = [sep.join(("account", "score", "category", "status", "date"))]
    lines += [sep.join((a, str(s), c, st, "2025-01-15")) for a, s, c, st, *_ in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def this_year(path: Path, rows=PORTFOLIO, **kw) -> Path:
    return write_workbook(path, THIS_HEADERS,
                          [[a, f"Account {a}", st, n, n1] for a, _s, _c, st, n1, n in rows], **kw)


def sheet_rows(path: Path, name: str = "Backtest") -> dict[int, list]:
    wb = openpyxl.load_workbook(path)
    ws = wb[own_sheet(path, name)]
    return {r[0].row: [c.value for c in r] for r in ws.iter_rows(min_row=1, max_row=200)}


def table(rows: dict[int, list], k: int = 0) -> dict[str, list]:
    """The k-th table of the sheet: letter (or — / All) → its row."""
    first = B.TABLE_ROW + k * B.TABLE_HEIGHT + 2
    out = {}
    for r in range(first, first + B.MAX_CATEGORIES + 2):
        line = rows.get(r, [])
        if line and line[0] is not None:
            out[line[0]] = line
    return out


def test_lift_growth_order_and_spearman_by_hand(tmp_path, capsys):
    snap = snapshot_csv(tmp_path / "last-year.csv")
    book = this_year(tmp_path / "this.xlsx")
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "out.xlsx")]) == 0
    printed = capsys.readouterr().out
    rows = sheet_rows(tmp_path / "out.xlsx")
    t = table(rows)
    # 8 accounts, revenue N 3,500 in all (a8's blank counts as 0)
    # A: a1 + a2 = 2,200 of 3,500 from 2 of 8 accounts: lift (2200/3500)/(2/8) = 2.514…
    assert t["A"][2:5] == [2, 1800, 2200]
    assert t["A"][5] == pytest.approx(2200 / 1800 - 1, abs=1e-4)     # growth 22.2 %
    assert t["A"][6] == 0.25 and t["A"][7] == pytest.approx(0.6286, abs=1e-4)
    assert t["A"][8] == 2.51 and t["A"][9] == 1100
    assert t["B"][8] == 1.03 and t["B"][5] == pytest.approx(0.125)   # 900 / (8/2 × 3500)
    assert t["C"][8] == 0.46 and t["C"][5] == pytest.approx(1.0)     # 200 → 400
    assert t["D"][8] == 0 and t["D"][5] is None                      # N-1 was 0: no growth
    assert t["All"][2:5] == [8, 2800, 3500] and t["All"][8] == 1
    order_row = B.TABLE_ROW + 2 + B.MAX_CATEGORIES + 2
    assert rows[order_row][0] == "Order A > B > C > D"
    assert rows[order_row][1].startswith("holds")
    # Spearman by hand: score ranks 8…1 against revenue ranks 8, 7, 5, 6, 3, 4, 1.5, 1.5
    # (a7 and a8 tie at 0): Σ(x−x̄)(y−ȳ) = 39.5, Σ(x−x̄)² = 42, Σ(y−ȳ)² = 41.5,
    # ρ = 39.5 / √(42 × 41.5) = 0.946
    assert "ρ = 0.95, p < 0.001 (one-sided), 8 accounts" in rows[order_row + 1][1]
    assert "the score predicted next year's revenue" in rows[order_row + 1][1]
    # prospects a6 (C, 300 this year), a7 and a8 (D, nothing)
    conv = {r[0]: r for r in (rows[i] for i in range(B.CONVERSION_ROW + 2,
                                                     B.CONVERSION_ROW + 10)) if r[0]}
    assert conv["C"][2:5] == [1, 1, 1] and conv["D"][2:5] == [2, 0, 0]
    assert conv["All"][2:5] == [3, 1, pytest.approx(0.3333, abs=1e-4)]
    # the blank revenue N is said with its cell, in the sheet and in the terminal
    notes = [r for i, r in rows.items() if i > B.NOTES_ROW and r[1]]
    assert ["Accounts!D9", "revenue N is blank: counted as 0"] in [r[:2] for r in notes]
    assert "Accounts!D9: revenue N is blank: counted as 0" in printed
    assert "  A    Strategic" in printed and "2.51" in printed
    # only the Backtest sheet was added: every other part of the workbook is as it was
    assert "lacks or changed parts" not in printed
    with zipfile.ZipFile(book) as before, zipfile.ZipFile(tmp_path / "out.xlsx") as after:
        sheet = before.read("xl/worksheets/sheet1.xml")
        assert after.read("xl/worksheets/sheet1.xml") == sheet


def test_spearman_matches_the_hand_value():
    rho, p, n = B.spearman([90, 80, 60, 55, 40, 30, 10, 5], [1200, 1000, 400, 500, 100, 300, 0, 0])
    assert rho == pytest.approx(39.5 / (42 * 41.5) ** 0.5) and n == 8 and p < 0.001
    assert B.spearman([1, 2, 3], [5, 5, 5])[0] is None  # constant revenue: cannot say
    assert B.spearman([1, None, 3], [1, 2, 3])[0] is None  # two accounts with a score


def test_where_the_order_breaks_is_named(tmp_path):
    # C's accounts brought more per account than B's
    rows = (("a1", 90, "A", "client", 100, 1000), ("a2", 60, "B", "client", 100, 100),
            ("a3", 55, "B", "client", 100, 100), ("a4", 30, "C", "client", 100, 400),
            ("a5", 10, "D", "client", 100, 50))
    snap = snapshot_csv(tmp_path / "last.csv", rows)
    book = this_year(tmp_path / "this.xlsx", rows)
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    got = sheet_rows(tmp_path / "o.xlsx")
    # total 1,650 on 5 accounts (330 each): B 100 per account, lift 0.30; C 400, lift 1.21
    assert table(got)["B"][8] == 0.3 and table(got)["C"][8] == 1.21
    assert got[B.TABLE_ROW + 2 + B.MAX_CATEGORIES + 2][1] == \
        "breaks: C at or above B (lift 1.21 against 0.30)"


def test_last_years_accounts_missing_this_year_are_left_out_and_said(tmp_path, capsys):
    snap = snapshot_csv(tmp_path / "last.csv")
    book = this_year(tmp_path / "this.xlsx", PORTFOLIO[:6])
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "6 account(s) compared, 2 left out (not found this year)" in out
    # the snapshot's cells: a7 and a8 are on rows 8 and 9 of last.csv (header on row 1)
    assert "last.csv!A8, last.csv!A9: 2 cells in column account: account \"a7\" of last " \
        "year is not in this year's accounts (this.xlsx)" in out


def test_a_workbook_scored_last_year_is_read_by_its_markers_not_its_headers(tmp_path):
    """Potentiel's Score and Category columns are found by their markers (here headed in
    French); a user's own column headed Category is not read; the date is the Log's."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Code client", "Category", "CA N", "Score", "Catégorie", "Score : CA"])
    for a, s, c, st, n1, _n in PORTFOLIO:
        ws.append([a, "Z", n1, s, c, s / 2])
    log = wb.create_sheet("Journal")
    log.append(["Heure", "Fichier de règles"])
    log.append([dt.datetime(2025, 1, 10, 9, 0), "default"])
    log.append([dt.datetime(2025, 1, 15, 9, 0), "default"])
    for name, ref in (("_Potentiel.col.score", "Accounts!$D$1"),
                      ("_Potentiel.col.category", "Accounts!$E$1"),
                      ("_Potentiel.col.score.revenue", "Accounts!$F$1"),
                      ("_Potentiel.sheet.log", "Journal!$A$1")):
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    wb.save(tmp_path / "scored-2025.xlsx")
    snaps = B_files().read_last_year(tmp_path / "scored-2025.xlsx")
    assert len(snaps) == 1
    s = snaps[0]
    assert s.when == dt.datetime(2025, 1, 15, 9, 0) and s.label == "scored-2025.xlsx (2025-01-15)"
    assert list(s.frame["category"]) == ["A", "A", "B", "B", "C", "C", "D", "D"]
    assert list(s.frame["score"]) == [90, 80, 60, 55, 40, 30, 10, 5]
    assert list(s.frame["revenue"]) == [1000, 800, 500, 300, 200, 0, 0, 0]
    assert list(s.criteria.columns) == ["revenue"] and s.criteria["revenue"][0] == 45
    assert s.where[0] == "Accounts!A2"
    # the same backtest as from the snapshot file
    book = this_year(tmp_path / "this.xlsx")
    assert main(["backtest", str(book), "--last", str(tmp_path / "scored-2025.xlsx"),
                 "-o", str(tmp_path / "o.xlsx")]) == 0
    got = sheet_rows(tmp_path / "o.xlsx")
    assert table(got)["A"][8] == 2.51 and table(got)["C"][8] == 0.46
    assert got[2][0].startswith("Last year: scored-2025.xlsx (2025-01-15); this year: "
                                "revenue N from this.xlsx; revenue N-1 from this.xlsx.")


def B_files():
    from potentiel.review import files
    return files


def test_a_workbook_never_scored_is_refused_in_one_line(tmp_path, capsys):
    book = this_year(tmp_path / "this.xlsx")
    assert main(["backtest", str(book), "--last", str(book)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: this.xlsx: no Score and Category columns written by "
                          "Potentiel")
    assert "Traceback" not in err


def test_invoice_lines_give_this_years_revenue(tmp_path, capsys):
    snap = snapshot_csv(tmp_path / "last.csv")
    book = this_year(tmp_path / "this.xlsx")
    lines = tmp_path / "lines.csv"
    # 2025 is year N (complete: December is there), 2024 is N-1; a3, a5, a7, a8 bought
    # nothing in 2025; a6 (a prospect) bought 300
    lines.write_text("Code client;Date facture;Montant HT\n"
                     "a1;2025-03-01;700\na1;2025-12-20;500\na2;2025-06-01;1000\n"
                     "a4;2025-02-01;500\na6;2025-05-05;300\n"
                     "a1;2024-01-05;1000\na3;2024-05-01;500\n", encoding="utf-8")
    assert main(["backtest", str(book), "--last", str(snap), "--revenue", str(lines),
                 "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out
    t = table(sheet_rows(tmp_path / "o.xlsx"))
    # N: a1 1,200, a2 1,000, a4 500, a6 300 → 3,000; A 2,200 of 3,000 on 2 of 8: 2.93
    assert t["A"][3:5] == [1000, 2200] and t["A"][8] == 2.93
    assert t["B"][3:5] == [500, 500] and t["B"][5] == 0  # N-1: a3 500; N: a4 500
    assert "revenue N from invoice lines: 2025, 5 client code(s) with lines" in out
    assert "left out" in out and "8 account(s) compared, 0 left out" in out


def test_profiles_each_get_their_table_and_the_chart_reads_the_first(tmp_path):
    rows = PORTFOLIO
    snap = tmp_path / "last.csv"
    snap.write_text("account;score;category;profile;status\n" + "\n".join(
        f"{a};{s};{c};{'prospect' if st == 'prospect' else 'client'};{st}"
        for a, s, c, st, *_ in rows) + "\n", encoding="utf-8")
    book = this_year(tmp_path / "this.xlsx")
    assert main(["backtest", str(book), "--last", str(snap)]) == 0  # in place
    assert (tmp_path / "this.backup.xlsx").is_file()
    got = sheet_rows(book)
    assert got[B.TABLE_ROW][0] == "Profile client"
    assert got[B.TABLE_ROW + B.TABLE_HEIGHT][0] == "Profile prospect"
    clients = table(got, 0)
    # clients a1–a5: 3,200 on 5; A 2,200 on 2: lift (2200/3200)/(2/5) = 1.72
    assert clients["A"][8] == 1.72 and clients["All"][2] == 5
    prospects = table(got, 1)
    assert prospects["C"][1] == "Watch" and prospects["D"][1] == "Later"  # the profile's labels
    with zipfile.ZipFile(book) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        xml = z.read(charts[0]).decode()
    assert len(charts) == 1
    assert "'Backtest'!$I$6:$I$11" in xml and "'Backtest'!$B$6:$B$11" in xml


def test_a_second_run_rewrites_the_sheet_without_a_second_chart(tmp_path):
    snap = snapshot_csv(tmp_path / "last.csv")
    book = this_year(tmp_path / "this.xlsx")
    for _ in range(2):
        assert main(["backtest", str(book), "--last", str(snap)]) == 0
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Accounts", "Backtest"]
    with zipfile.ZipFile(book) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 1
    # the number formats stay where the numbers are: the lift column, the growth column
    ws = wb["Backtest"]
    assert ws.cell(6, B.LIFT_COL).number_format == "0.00"
    assert ws.cell(6, 6).number_format == "0.0%"
    assert ws.cell(B.TABLE_ROW + B.TABLE_HEIGHT + 2, B.LIFT_COL).number_format == "General"


def test_a_french_workbook_gets_its_retrospective_in_french(tmp_path, capsys):
    snap = snapshot_csv(tmp_path / "last.csv")
    book = write_workbook(tmp_path / "ce-annee.xlsx",
                          ("Code client", "Raison sociale", "Statut", "CA N", "CA N-1"),
                          [[a, f"Compte {a}", st, n, n1] for a, _s, _c, st, n1, n in PORTFOLIO])
    assert main(["backtest", str(book), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 0
    out = capsys.readouterr().out
    wb = openpyxl.load_workbook(tmp_path / "o.xlsx")
    assert fr("Backtest") == "Rétrospective" and "Rétrospective" in wb.sheetnames
    ws = wb["Rétrospective"]
    assert ws["A1"].value == fr("Backtest: did last year's categories predict this year's "
                                "revenue?")
    assert ws.cell(B.TABLE_ROW + 1, B.LIFT_COL).value == fr("Lift")
    assert fr("Rank correlation of score and revenue N (Spearman)") in out


def test_a_csv_this_year_is_printed_only(tmp_path, capsys):
    snap = snapshot_csv(tmp_path / "last.csv")
    this = tmp_path / "this.csv"
    this.write_text("id;status;revenue;revenue_n1\n" + "\n".join(
        f"{a};{st};{'' if n is None else n};{n1}" for a, _s, _c, st, n1, n in PORTFOLIO) + "\n",
        encoding="utf-8")
    assert main(["backtest", str(this), "--last", str(snap)]) == 0
    assert "2.51" in capsys.readouterr().out
    assert main(["backtest", str(this), "--last", str(snap), "-o", str(tmp_path / "o.xlsx")]) == 1
    assert "is written into a workbook" in capsys.readouterr().err


def test_a_snapshot_frame_of_several_runs_uses_the_latest(tmp_path):
    frame = __import__("pandas").DataFrame({
        "account": ["a1", "a2", "a1", "a2"], "score": [10, 90, 90, 10],
        "category": ["D", "A", "A", "D"],
        "date": ["2024-01-10", "2024-01-10", "2025-01-10", "2025-01-10"]})
    snaps = B.snapshots_from_frame(frame, "history")
    assert [s.when.year for s in snaps] == [2024, 2025]
    assert list(snaps[-1].frame["category"]) == ["A", "D"]
    with pytest.raises(Exception) as err:
        B.snapshots_from_frame(frame.drop(columns="score"), "history")
    assert "the columns account, score and category; score missing" in str(err.value)


# --------------------------------------------------------------------------- the workbook


def test_the_backtest_action_is_parsed_in_both_languages():
    from potentiel.excel import action_label, parse_action
    assert parse_action("Backtest") == parse_action("Rétrospective") == "backtest"
    assert parse_action(action_label("backtest")) == "backtest"


def _book(path: Path):
    import xlwings as xw

    from helpers import payload_from_workbook
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set")
    return xw.Book(json=copy.deepcopy(payload_from_workbook(path)))


def test_the_backtest_action_reads_the_file_settings_name(tmp_path):
    from potentiel.excel import Options, backtest
    from vba_client import apply_actions
    snap = snapshot_csv(tmp_path / "last.csv")
    book = this_year(tmp_path / "this.xlsx",
                     settings=[("Last year's file", str(snap))])
    xbook = _book(book)
    try:
        outcome = backtest(xbook, Options(remote=False, when=dt.datetime(2026, 3, 2, 9, 30)))
        actions = xbook.json()["actions"]
    finally:
        xbook.close()
    assert outcome.ok, outcome.message
    assert outcome.message.startswith("Backtest of 8 accounts against last.csv (2025-01-15)")
    out = tmp_path / "after.xlsx"
    assert apply_actions(book, actions, out) == []
    got = sheet_rows(out)
    assert table(got)["A"][8] == 2.51
    assert got[3][0].startswith("No chart here")
    log = openpyxl.load_workbook(out)["Log"]
    assert log.cell(2, 5).value.startswith("Backtest of 8 accounts")


def test_a_second_backtest_action_sets_the_formats_again(tmp_path):
    """Run by the button twice, the second time with profiles: the second table slot
    takes its formats then (the fixed rows' formats are cleared and set again)."""
    from potentiel.excel import Options, backtest
    from vba_client import apply_actions
    first = snapshot_csv(tmp_path / "first.csv")
    book = this_year(tmp_path / "this.xlsx", settings=[("Last year's file", str(first))])
    for name in ("first.csv", "profiles.csv"):
        if name == "profiles.csv":
            (tmp_path / name).write_text("account;score;category;profile\n" + "\n".join(
                f"{a};{s};{c};{'prospect' if st == 'prospect' else 'client'}"
                for a, s, c, st, *_ in PORTFOLIO) + "\n", encoding="utf-8")
            wb = openpyxl.load_workbook(book)
            wb["Settings"]["B2"] = str(tmp_path / name)
            wb.save(book)
        xbook = _book(book)
        try:
            assert backtest(xbook, Options(remote=False)).ok
            actions = xbook.json()["actions"]
        finally:
            xbook.close()
        assert apply_actions(book, actions, book) == []
    ws = openpyxl.load_workbook(book)["Backtest"]
    second = B.TABLE_ROW + B.TABLE_HEIGHT
    assert ws.cell(second, 1).value == "Profile prospect"
    assert ws.cell(second + 2, 7).number_format == "0.0%"     # share of accounts
    assert ws.cell(second + 2, 1).fill.fgColor.rgb == "FFA5D6A7"  # A, the light fill


def test_the_backtest_action_on_the_server_says_why_it_cannot(tmp_path):
    from potentiel.excel import Options, backtest
    snap = snapshot_csv(tmp_path / "last.csv")
    book = this_year(tmp_path / "this.xlsx", settings=[("Last year's file", str(snap))])
    xbook = _book(book)
    try:
        outcome = backtest(xbook, Options(remote=True))
    finally:
        xbook.close()
    assert not outcome.ok
    assert "on the server, Backtest reads no file a workbook names" in outcome.message
    assert "Settings!B2" in outcome.message


def test_the_backtest_action_without_the_setting_says_where_to_name_the_file(tmp_path):
    from potentiel.excel import Options, backtest
    book = this_year(tmp_path / "this.xlsx")
    xbook = _book(book)
    try:
        outcome = backtest(xbook, Options(remote=False))
    finally:
        xbook.close()
    assert not outcome.ok and "row Last year's file" in outcome.message


def test_the_review_modules_pass_every_message_through_the_catalog():
    from test_messages_fr import ROOT, _bare_messages
    bare = [hit for m in ("backtest", "weights", "files")
            for hit in _bare_messages(ROOT / "core" / "review" / f"{m}.py")]
    assert not bare, bare
