"""Backtest from the workbook's own history (issue 15, points 2 and 3 wired together):
`potentiel backtest FILE` without --last, and the Backtest action when Settings name no
last year's file, take last year's categories from the run of the History about a year
before its last run (`read_history` → `snapshot_from_history` → `snapshots_from_frame`).

The portfolio of review_cases (two criteria, 50/50 by the rule file ``two.yaml``): run 1
(2025-03-03, 50/50) gives P3 A; P1, P2, P5, P6, P7 B; P4 C. Settings then weigh 80/20, so
the later runs give P1 and P3 A, P2 D, P7 C: a backtest that used a later run would show
other lifts. This year's revenue N (typed before the last run) and N-1 (last year's):

    id   N-1    N      run 1
    P1   1000   1000   B
    P2   2000   2000   B
    P3   3000   9000   A
    P4   4000    500   C
    P5   5000   5000   B
    P6   6000   6000   B
    P7   7000   1500   B
         28000  25000

By hand, with run 1's categories: A = P3: 9,000 of 25,000 (0.36) from 1 of 7 accounts:
lift 0.36 × 7 = 2.52, growth 9,000 / 3,000 − 1 = 200 %; B: 15,500 (0.62) from 5 of 7:
lift 0.868 → 0.87, growth 15,500 / 21,000 − 1 = −26.2 %; C = P4: 500 (0.02) from 1 of 7:
lift 0.14. (With run 3's categories A would be P1 + P3: lift 0.40 × 7 / 2 = 1.40.)
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pandas as pd
import pytest

from helpers import own_sheet, write_workbook
from potentiel.cli import main
from potentiel.review import backtest as B
from review_cases import HEADERS, NEW_WEIGHTS, ROWS, RULES, set_settings

LAST_YEAR, AUTUMN, NOW = (dt.datetime(2025, 3, 3, 9, 0), dt.datetime(2025, 9, 1, 9, 0),
                          dt.datetime(2026, 3, 2, 9, 0))
THIS_YEAR = {"P1": 1000, "P2": 2000, "P3": 9000, "P4": 500, "P5": 5000, "P6": 6000,
             "P7": 1500}


def book(tmp_path: Path, settings=()) -> Path:
    """The review portfolio with a revenue N-1 column (last year's figures, before the
    year: unknown)."""
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    return write_workbook(tmp_path / "book.xlsx", [*HEADERS, "revenue_n1"],
                          [(*r, None) for r in ROWS],
                          settings=[("Rules file", "two"), *settings])


def score(path: Path, when: dt.datetime) -> None:
    from potentiel.headless import score_file
    score_file(path, when=when)


def new_year(path: Path) -> None:
    """A year on: last year's revenue moves to N-1, this year's is typed in N."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    head = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        account = ws.cell(row, head["id"]).value
        if account in THIS_YEAR:
            ws.cell(row, head["revenue_n1"]).value = ws.cell(row, head["revenue"]).value
            ws.cell(row, head["revenue"]).value = THIS_YEAR[account]
    wb.save(path)


def scored_over_a_year(tmp_path: Path, settings=()) -> Path:
    """Run 1 a year ago (50/50), run 2 six months ago and run 3 now (80/20), this year's
    revenue typed before run 3."""
    path = book(tmp_path, settings)
    score(path, LAST_YEAR)
    set_settings(path, *NEW_WEIGHTS)
    score(path, AUTUMN)
    new_year(path)
    score(path, NOW)
    return path


def sheet_rows(path: Path) -> dict[int, list]:
    ws = openpyxl.load_workbook(path)[own_sheet(path, "Backtest")]
    return {r[0].row: [c.value for c in r] for r in ws.iter_rows(min_row=1, max_row=200)}


def table(rows: dict[int, list]) -> dict[str, list]:
    first = B.TABLE_ROW + 2
    return {rows[r][0]: rows[r] for r in range(first, first + B.MAX_CATEGORIES + 2)
            if rows.get(r) and rows[r][0] is not None}


def assert_run_ones_lifts(rows: dict[int, list]) -> None:
    t = table(rows)
    assert t["A"][2:5] == [1, 3000, 9000] and t["A"][8] == 2.52
    assert t["A"][5] == pytest.approx(2.0)
    assert t["B"][2:5] == [5, 21000, 15500] and t["B"][8] == 0.87
    assert t["B"][5] == pytest.approx(15500 / 21000 - 1, abs=1e-4)
    assert t["C"][2:5] == [1, 4000, 500] and t["C"][8] == 0.14
    assert t["All"][2:5] == [7, 28000, 25000] and t["All"][8] == 1
    assert "D" not in t or t["D"][2] == 0


TAKEN = ("last year's categories are those of run 1 of 2025-03-03 in the history, the run "
         "closest to a year before its last one (run 3 of 2026-03-02)")


def test_backtest_without_last_takes_the_run_of_a_year_ago_from_the_history(tmp_path, capsys):
    path = scored_over_a_year(tmp_path)
    capsys.readouterr()
    out = tmp_path / "out.xlsx"
    assert main(["backtest", str(path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = sheet_rows(out)
    assert_run_ones_lifts(rows)
    # the run and its date, in the sheet and in the terminal
    assert rows[2][0].startswith("Last year: book.xlsx, History run 1 (2025-03-03); this "
                                 "year: revenue N from book.xlsx; revenue N-1 from book.xlsx. "
                                 "7 account(s) compared, 0 left out")
    assert "Last year: book.xlsx, History run 1 (2025-03-03)" in printed
    notes = {r[1] for i, r in rows.items() if i > B.NOTES_ROW and r[1]}
    assert TAKEN in notes
    assert f"History: {TAKEN}" in printed
    # the history keeps no criterion scores: the suggested weights say so, once
    assert printed.count("last year's snapshot has no criterion scores") == 1
    assert "weights cannot be fitted; give the workbook scored last year" in printed
    # only the Backtest sheet was added; the history is as it was
    from potentiel.review.history import read_history
    assert read_history(out).equals(read_history(path))


def test_the_same_backtest_as_from_last_years_scored_workbook(tmp_path, capsys):
    """The history's run 1 gives the categories last year's scored copy holds."""
    (tmp_path / "then").mkdir()
    then = book(tmp_path / "then")
    score(then, LAST_YEAR)
    path = scored_over_a_year(tmp_path)
    assert main(["backtest", str(path), "--last", str(then), "-o",
                 str(tmp_path / "from-file.xlsx")]) == 0
    assert main(["backtest", str(path), "-o", str(tmp_path / "from-history.xlsx")]) == 0
    capsys.readouterr()
    a, b = sheet_rows(tmp_path / "from-file.xlsx"), sheet_rows(tmp_path / "from-history.xlsx")
    assert_run_ones_lifts(a)
    for r in range(B.TABLE_ROW, B.CONVERSION_ROW):  # the same tables, Spearman included
        assert a.get(r) == b.get(r), r


def test_no_run_a_year_old_is_said_in_one_line_with_what_to_do(tmp_path, capsys):
    path = book(tmp_path)
    assert main(["backtest", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == ("error: History: the history of runs of book.xlsx keeps no run yet, so no "
                   "categories of a year ago; give last year's scored workbook with --last "
                   "LAST\n")
    score(path, LAST_YEAR)
    score(path, AUTUMN)
    capsys.readouterr()
    assert main(["backtest", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == ("error: History: the history of runs keeps no run about a year (9 to 15 "
                   "months) before its last one, run 2 of 2025-09-01 (the closest is run 1 "
                   "of 2025-03-03, 182 days before it); give last year's scored workbook "
                   "with --last LAST\n")
    assert "Backtest" not in openpyxl.load_workbook(path).sheetnames


def test_the_run_closest_to_a_year_before_the_latest_is_taken():
    frame = pd.DataFrame({
        "run": [1, 1, 2, 2, 3, 3, 4, 4],
        "date": pd.to_datetime(["2024-01-10"] * 2 + ["2024-12-20"] * 2 + ["2025-03-01"] * 2
                               + ["2026-01-10"] * 2),
        "account": ["a", "b"] * 4, "score": [10.0, 90.0, 20.0, 80.0, 30.0, 70.0, 40.0, 60.0],
        "category": ["D", "A", "D", "A", "C", "B", "C", "B"], "profile": [None] * 8,
        "flags": [None] * 8, "rules": [None] * 8})
    # 2024-01-10 is 731 days before the last run, 2024-12-20 386, 2025-03-01 315:
    # 386 is the closest to 365 of those between 270 and 460
    snap = B.snapshot_from_history(frame, "book.xlsx", "History", "fix it")
    assert snap.when == dt.datetime(2024, 12, 20) and list(snap.frame["score"]) == [20, 80]
    assert snap.label == "book.xlsx, History run 2 (2024-12-20)"
    assert snap.where == ["History, run 2"] * 2 and not len(snap.criteria.columns)
    assert snap.problems[0].message.startswith("last year's categories are those of run 2")
    with pytest.raises(Exception) as err:
        B.snapshot_from_history(frame[frame["run"] == 4], "book.xlsx", "History", "fix it")
    assert str(err.value) == ("History: the history of runs keeps no run about a year (9 to "
                              "15 months) before its last one, run 4 of 2026-01-10 (it is "
                              "the only run kept); fix it")


def test_a_history_file_is_read_as_the_history_with_or_without_last(tmp_path, capsys):
    path = scored_over_a_year(tmp_path, settings=[("History file", "history.csv")])
    assert (tmp_path / "history.csv").is_file()
    assert own_sheet(path, "History") not in openpyxl.load_workbook(path).sheetnames
    assert main(["backtest", str(path), "-o", str(tmp_path / "own.xlsx")]) == 0
    printed = capsys.readouterr().out
    assert "Last year: book.xlsx, history.csv run 1 (2025-03-03)" in printed
    assert_run_ones_lifts(sheet_rows(tmp_path / "own.xlsx"))
    # a History file given as last year's: its run about a year before its last, not its
    # last run (this year's) as a plain snapshot file's latest date would be
    assert main(["backtest", str(path), "--last", str(tmp_path / "history.csv"),
                 "-o", str(tmp_path / "given.xlsx")]) == 0
    assert "Last year: history.csv, history.csv run 1 (2025-03-03)" in capsys.readouterr().out
    assert_run_ones_lifts(sheet_rows(tmp_path / "given.xlsx"))


def test_a_csv_this_year_without_last_says_to_give_it(tmp_path, capsys):
    this = tmp_path / "this.csv"
    this.write_text("id;revenue\na1;100\n", encoding="utf-8")
    assert main(["backtest", str(this)]) == 1
    assert capsys.readouterr().err == (
        "error: this.csv keeps no history of its own: give last year's scored file, "
        "snapshot file or History file with --last\n")


# --------------------------------------------------------------------------- the workbook


def _xbook(path: Path):
    import xlwings as xw

    from helpers import payload_from_workbook
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set")
    return xw.Book(json=copy.deepcopy(payload_from_workbook(path)))


@pytest.mark.parametrize("remote", [False, True])
def test_the_backtest_action_without_last_years_file_uses_the_history(tmp_path, remote,
                                                                       monkeypatch):
    """Settings name no Last year's file: the action reads the History sheet (on the
    server too: no file is read)."""
    from potentiel.excel import Options, backtest
    from vba_client import apply_actions
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))  # where two.yaml is
    path = scored_over_a_year(tmp_path)
    xbook = _xbook(path)
    try:
        outcome = backtest(xbook, Options(remote=remote, when=dt.datetime(2026, 3, 3, 9)))
        actions = xbook.json()["actions"]
    finally:
        xbook.close()
    assert outcome.ok, outcome.message
    assert outcome.message.startswith("Backtest of 7 accounts against book.xlsx, History run "
                                      "1 (2025-03-03)")
    out = tmp_path / "after.xlsx"
    assert apply_actions(path, actions, out) == []
    rows = sheet_rows(out)
    assert_run_ones_lifts(rows)
    assert TAKEN in {r[1] for i, r in rows.items() if i > B.NOTES_ROW and r[1]}


def test_the_backtest_action_without_a_year_of_history_names_the_settings_row(tmp_path,
                                                                              monkeypatch):
    from potentiel.excel import Options, backtest
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))
    path = book(tmp_path)
    score(path, AUTUMN)
    xbook = _xbook(path)
    try:
        outcome = backtest(xbook, Options(remote=False))
    finally:
        xbook.close()
    assert not outcome.ok
    assert "no run about a year (9 to 15 months) before its last one, run 1 of 2025-09-01 " \
           "(it is the only run kept)" in outcome.message
    assert outcome.message.endswith("name last year's scored workbook in Settings, row Last "
                                    "year's file, then run Backtest again")
