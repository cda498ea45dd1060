"""History (issue 15, point 2): each run keeps a compact snapshot, the Changes sheet and
`potentiel changes` say what changed since any earlier run, with each account's category
trend ("B → A in March"); the history's size is bounded and the bound is said.

The portfolio of review_cases: two criteria (prescription, relationship) weighted 50/50
by the rule file, so each run's categories are known by hand; Settings weights move them.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pandas as pd
import pytest

from helpers import fr, own_sheet, score_remote, write_workbook
from review_cases import HEADERS, NEW_WEIGHTS, ROWS, RULES, set_settings

JAN, MAR, APR = dt.datetime(2026, 1, 12, 9, 0), dt.datetime(2026, 3, 5, 9, 0), \
    dt.datetime(2026, 4, 2, 9, 0)


def book(tmp_path: Path, settings=(), headers=HEADERS, rows=ROWS) -> Path:
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    return write_workbook(tmp_path / "book.xlsx", headers, rows,
                          settings=[("Rules file", "two"), *settings])


def score(path: Path, when: dt.datetime, **kw):
    from potentiel.headless import score_file
    return score_file(path, when=when, **kw)[0]


def grid(path: Path, english: str) -> list[list]:
    wb = openpyxl.load_workbook(path)
    return [[c.value for c in r] for r in wb[own_sheet(path, english)].iter_rows()]


def test_each_run_keeps_a_snapshot_that_read_history_gives_back(tmp_path):
    from potentiel.review.history import read_history
    path = book(tmp_path)
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    score(path, MAR)
    frame = read_history(path)
    assert list(frame.columns[:7]) == ["run", "date", "account", "score", "category",
                                       "profile", "flags"]
    assert frame["run"].dtype.kind == "i"
    jan = frame[frame["run"] == 1].set_index("account")
    mar = frame[frame["run"] == 2].set_index("account")
    assert jan["date"].iloc[0] == pd.Timestamp(JAN) and mar["date"].iloc[0] == pd.Timestamp(MAR)
    assert jan["category"].to_dict() == {"P1": "B", "P2": "B", "P3": "A", "P4": "C", "P5": "B",
                                         "P6": "B", "P7": "B"}
    assert mar["category"].to_dict() == {"P1": "A", "P2": "D", "P3": "A", "P4": "C", "P5": "B",
                                         "P6": "B", "P7": "C"}
    assert mar["score"].to_dict() == {"P1": 80.0, "P2": 20.0, "P3": 100.0, "P4": 42.0,
                                      "P5": 63.0, "P6": 69.0, "P7": 36.0}
    assert jan.loc["P3", "flags"] is None and jan.loc["P3", "profile"] is None
    wb = openpyxl.load_workbook(path)
    history = own_sheet(path, "History")
    assert wb[history].sheet_state == "hidden"
    # compact: run 2 keeps only the accounts that changed (P3 stayed at 100, A)
    rows = [r for r in grid(path, "History")[4:] if r[0] == 2 and r[2] is not None]
    assert sorted(r[2] for r in rows) == ["P1", "P2", "P4", "P5", "P6", "P7"]


def test_the_changes_sheet_and_potentiel_changes_say_what_moved_with_its_trend(tmp_path,
                                                                              capsys):
    from potentiel.cli import main
    path = book(tmp_path)
    score(path, JAN)
    first = grid(path, "Changes")
    assert first[0][0] == "Run 1 of 2026-01-12 09:00 is the first one kept: the changes " \
                          "show from the next run on."
    set_settings(path, *NEW_WEIGHTS)
    score(path, MAR)
    sheet = grid(path, "Changes")
    assert sheet[0][0] == "Changes from run 1 (2026-01-12 09:00) to run 2 (2026-03-05 09:00)"
    assert sheet[1][0] == "1 moved up, 2 moved down, 0 changed otherwise, 0 new, 0 left"
    head = sheet.index(next(r for r in sheet if r[0] == "Account"))
    assert [r[:8] for r in sheet[head + 1:head + 4]] == [
        ["P1", "One", "B", "A", 50, 80, "up", "B → A in March"],
        ["P2", "Two", "B", "D", 50, 20, "down", "B → D in March"],
        ["P7", "Seven", "B", "C", 60, 36, "down", "B → C in March"]]
    # a third run: P1 back to B; the trend tells the whole story, --since reaches run 1
    set_settings(path, ("Weight: prescription", 50), ("Weight: relationship", 50))
    score(path, APR)
    assert main(["changes", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Changes from run 2 (2026-03-05 09:00) to run 3 (2026-04-02 09:00)" in out
    assert "P1 One: A → B (down)  · B → A in March, A → B in April" in out
    assert main(["changes", str(path), "--since", "2026-01-31"]) == 0
    out = capsys.readouterr().out
    assert "Changes from run 1" in out and "0 moved up, 0 moved down" in out
    assert main(["changes", str(path), "--account", "P1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Account P1: B → A in March, A → B in April"
    assert [ln.split()[:3] for ln in out[1:4]] == [["1", "2026-01-12", "B"],
                                                   ["2", "2026-03-05", "A"],
                                                   ["3", "2026-04-02", "B"]]
    assert main(["changes", str(path), "--since", "9"]) == 1
    assert "run 9 is not in the history (runs kept: 1, 2, 3)" in capsys.readouterr().err


def test_changes_since_in_settings_picks_the_earlier_run(tmp_path):
    path = book(tmp_path)
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    score(path, MAR)
    set_settings(path, ("Weight: prescription", 50), ("Weight: relationship", 50),
                 ("Changes since", 1))
    score(path, APR)
    sheet = grid(path, "Changes")
    assert sheet[0][0] == "Changes from run 1 (2026-01-12 09:00) to run 3 (2026-04-02 09:00)"
    assert sheet[1][0].startswith("0 moved up, 0 moved down")
    assert [r[0] for r in sheet[5:] if r[0]] == [], "rows of the earlier Changes were left"


def test_changes_since_a_run_no_longer_kept_is_a_warning_and_the_run_before_is_taken(
        tmp_path):
    path = book(tmp_path, settings=[("Changes since", 7)])
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    result = score(path, MAR)
    said = [str(p) for p in result.warnings if p.kind == "history-since"]
    assert said == ["Settings!B3: run 7 is not in the history (runs kept: 1, 2); give one of "
                    "them, or a date; the Changes sheet compares with the run before"]
    assert grid(path, "Changes")[0][0].startswith("Changes from run 1 ")


def test_a_second_run_on_the_same_day_replaces_that_days_snapshot(tmp_path):
    from potentiel.review.history import read_history
    path = book(tmp_path)
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    result = score(path, JAN.replace(hour=16))
    said = [str(p) for p in result.warnings if p.kind == "history-same-day"]
    assert said == ["History: this run replaces run 1 of 2026-01-12 09:00 in the history (one "
                    "snapshot per day: the day's last run)"]
    frame = read_history(path)
    assert frame["run"].unique().tolist() == [2]
    assert frame.set_index("account").loc["P1", "category"] == "A"
    assert frame["date"].iloc[0] == pd.Timestamp(JAN.replace(hour=16))


def test_the_number_of_runs_kept_is_bounded_and_the_drop_is_said(tmp_path):
    from potentiel.review.history import read_history
    path = book(tmp_path, settings=[("History runs", 2)])
    score(path, JAN)
    score(path, MAR)
    result = score(path, APR)
    frame = read_history(path)
    assert frame["run"].unique().tolist() == [2, 3]
    assert len(frame[frame["run"] == 2]) == 7  # the oldest run kept holds every account
    said = [str(p) for p in result.warnings if p.kind == "history-dropped"]
    assert said == ["History: the history keeps at most 2 runs: the oldest run(s) were "
                    "dropped (2026-01-12); to keep more, raise History runs in Settings, or "
                    "name a History file (.parquet) beside the workbook"]
    log = grid(path, "Log")
    assert "the history keeps at most 2 runs" in log[-1][-1]


def test_the_history_sheet_is_bounded_in_lines(tmp_path, monkeypatch):
    from potentiel.review import history
    from potentiel.review.history import read_history
    monkeypatch.setattr(history, "MAX_SHEET_ROWS", 12)  # one full run is 8 lines
    path = book(tmp_path)
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    result = score(path, MAR)
    assert read_history(path)["run"].unique().tolist() == [2]
    assert any("at most 12 lines on the History sheet" in str(p) for p in result.warnings)
    monkeypatch.setattr(history, "MAX_SHEET_ROWS", 5)  # a single run is more than that
    result = score(path, APR)
    assert read_history(path)["run"].unique().tolist() == [3]
    said = [str(p) for p in result.warnings if p.kind == "history-too-big"]
    assert said == ["History: one run of 7 accounts is more than the History sheet keeps (5 "
                    "lines): only this run is kept; name a History file (.parquet) beside the "
                    "workbook in Settings to keep every run"]


def test_an_account_that_left_and_a_new_one(tmp_path):
    from potentiel.review.history import read_history
    path = book(tmp_path)
    score(path, JAN)
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    ws["A8"] = "P8"  # P7's row now holds a new account, P8
    ws["B8"] = "Eight"
    wb.save(path)
    score(path, MAR)
    assert sorted(read_history(path).query("run == 2")["account"]) == \
        ["P1", "P2", "P3", "P4", "P5", "P6", "P8"]
    sheet = grid(path, "Changes")
    assert sheet[1][0] == "0 moved up, 0 moved down, 0 changed otherwise, 1 new, 1 left"
    head = sheet.index(next(r for r in sheet if r[0] == "Account"))
    assert [r[:8] for r in sheet[head + 1:head + 3]] == [
        ["P8", "Eight", None, "B", None, 60, "new", "new in March (B)"],
        ["P7", None, "B", None, 60, None, "left", "left in March"]]


def test_a_history_sheet_edited_by_hand_starts_a_new_history_and_says_so(tmp_path):
    path = book(tmp_path)
    score(path, JAN)
    wb = openpyxl.load_workbook(path)
    wb[own_sheet(path, "History")]["A4"] = "my notes"
    wb.save(path)
    result = score(path, MAR)
    said = [p for p in result.warnings if p.kind == "history-unreadable"]
    assert len(said) == 1 and "a new history starts with this run" in str(said[0])
    assert said[0].where == "History!A4"


def test_a_history_file_beside_the_workbook(tmp_path):
    from potentiel.review.history import read_history
    path = book(tmp_path, settings=[("History file", "runs.parquet")],
                rows=[("007", *ROWS[0][1:]), *ROWS[1:]])
    score(path, JAN)
    set_settings(path, *NEW_WEIGHTS)
    score(path, MAR)
    assert "History" not in openpyxl.load_workbook(path).sheetnames
    frame = read_history(tmp_path / "runs.parquet")
    assert frame.equals(read_history(path))  # the workbook reads its History file
    assert frame.set_index(["run", "account"]).loc[(2, "007"), "category"] == "A"
    # CSV, from the command line: the id 007 stays text
    from potentiel.cli import main
    assert main(["score", str(path), "--history", str(tmp_path / "runs.csv")]) == 0
    csv = read_history(tmp_path / "runs.csv")
    assert "007" in set(csv["account"])


def test_a_csv_file_scored_with_history_keeps_its_runs(tmp_path, capsys):
    from potentiel.cli import main
    from potentiel.review.history import read_history
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    src = tmp_path / "accounts.csv"
    src.write_text("id,prescription,relationship\nP1,5,1\nP2,0,5\n", encoding="utf-8")
    args = ["score", str(src), "--rules", str(tmp_path / "two.yaml"), "--history",
            str(tmp_path / "h.csv")]
    assert main(args) == 0
    frame = read_history(tmp_path / "h.csv")
    assert frame[["account", "category"]].values.tolist() == [["P1", "B"], ["P2", "B"]]


def test_a_bad_history_setting_names_its_cell(tmp_path, capsys):
    from potentiel.cli import main
    path = book(tmp_path, settings=[("History runs", "lots")])
    assert main(["score", str(path)]) == 1
    err = capsys.readouterr().err
    assert 'Settings!B3: "lots" is not a number of runs' in err


def test_a_french_workbook_keeps_its_history_in_french(tmp_path):
    headers = ["Code client", "Raison sociale", "Statut", "Prescription", "Relation", "CA N",
               "Distance"]
    path = book(tmp_path, headers=headers)
    score(path, JAN)
    set_settings(path, ("Poids : prescription", 80), ("Poids : relation", 20))
    score(path, MAR)
    assert own_sheet(path, "History") == "Historique"
    assert own_sheet(path, "Changes") == "Changements"
    sheet = grid(path, "Changes")
    head = sheet.index(next(r for r in sheet if r[0] == fr("Account")))
    assert sheet[head + 1][6:8] == [fr("up"), "B → A en mars"]
    assert sheet[1][0] == fr("{up} moved up, {down} moved down, {other} changed otherwise, "
                             "{new} new, {left} left", up=1, down=2, other=0, new=0, left=0)


# --------------------------------------------------------------------------- xlwings


def test_the_workbook_button_keeps_the_history_on_the_remote_path(tmp_path, monkeypatch):
    from potentiel.review.history import read_history
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))  # the server's rules folder
    path = book(tmp_path, rows=[("007", *ROWS[0][1:]), *ROWS[1:]])
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    score_remote(path, first, when=JAN)
    set_settings(first, *NEW_WEIGHTS)
    score_remote(first, second, when=MAR)
    frame = read_history(second)
    assert frame["run"].unique().tolist() == [1, 2]
    assert frame.set_index(["run", "account"]).loc[(2, "007"), "category"] == "A"
    sheet = grid(second, "Changes")
    head = sheet.index(next(r for r in sheet if r[0] == "Account"))
    assert [r[:8] for r in sheet[head + 1:head + 4]] == [
        ["007", "One", "B", "A", 50, 80, "up", "B → A in March"],
        ["P2", "Two", "B", "D", 50, 20, "down", "B → D in March"],
        ["P7", "Seven", "B", "C", 60, 36, "down", "B → C in March"]]


def test_the_server_keeps_the_history_in_the_workbook_when_settings_name_a_file(
        tmp_path, monkeypatch):
    from potentiel.review.history import read_history
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))
    path = book(tmp_path, settings=[("History file", "runs.parquet")])
    out = tmp_path / "out.xlsx"
    result = score_remote(path, out, when=JAN)
    assert not (tmp_path / "runs.parquet").exists()
    said = [str(p) for p in result.warnings if p.kind == "history-file"]
    assert said == ["Settings!B3: History file: the server writes no file; the history is "
                    "kept on the History sheet"]
    assert len(read_history(out)) == 7
