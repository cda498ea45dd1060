"""Preview (issue 15, point 1): `potentiel score FILE --preview` and the workbook's Preview
action show which accounts new weights or rules would move, and why, writing nothing else.

The portfolio of review_cases (two criteria weighted 50/50 by its rule file): with
Settings weighing them 80/20, exactly P1 (B → A), P2 (B → D) and P7 (B → C) move, each
by 30 points of one criterion.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import openpyxl
import pytest

from helpers import fr, own_sheet, payload_from_workbook, write_workbook
from review_cases import HEADERS, ROWS, RULES, set_settings

FAR_RULE = """\
rules:
  - id: far-away
    when: distance_km >= 600
    then: {flag: far, cap: C}
    why: No rep nearby.
"""
FIRST_RUN = dt.datetime(2026, 1, 12, 9, 0)
# What made the difference, 50/50 → 80/20: each weight change on its own, from the last run
# (P1: relationship weighs 20 instead of 50 on its score 0, (50×100 + 20×0) / 70 = 71.4,
# so +21.4; prescription 80 instead of 50 on its 100, 8000 / 130 = 61.5, so +11.5).
MOVES = {"P2": "relationship weight 50 → 20 (score 100.0): -21.4 points; "
               "prescription weight 50 → 80 (score 0.0): -11.5 points",
         "P1": "relationship weight 50 → 20 (score 0.0): +21.4 points; "
               "prescription weight 50 → 80 (score 100.0): +11.5 points",
         "P7": "relationship weight 50 → 20 (score 100.0): -17.1 points; "
               "prescription weight 50 → 80 (score 20.0): -9.2 points"}


def scored(tmp_path: Path, headers=HEADERS, rows=ROWS, settings=()) -> Path:
    """The portfolio, scored once (headless) with the 50/50 rule file."""
    from potentiel.headless import score_file
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    path = write_workbook(tmp_path / "book.xlsx", headers, rows,
                          settings=[("Rules file", "two"), *settings])  # beside the workbook
    score_file(path, when=FIRST_RUN)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_weight_changed_in_settings_shows_exactly_the_predicted_moves(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path)
    set_settings(path, ("Weight: prescription", 80), ("Weight: relationship", 20))
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    assert main(["score", str(path), "--preview"]) == 0
    out = capsys.readouterr().out
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before, "--preview wrote a file"
    assert "3 of 7 accounts would change category: 1 up, 2 down, 0 to or from no category" in out
    lines = out.splitlines()
    moves = [ln.strip() for ln in lines if ln.strip().startswith(("P1 ", "P2 ", "P7 ", "P3 "))]
    assert moves == [f"P2 Two: B → D (50.0 → 20.0): {MOVES['P2']}",
                     f"P1 One: B → A (50.0 → 80.0): {MOVES['P1']}",
                     f"P7 Seven: B → C (60.0 → 36.0): {MOVES['P7']}"]
    # the migration matrix, from the rows' category to the columns': counts, then revenue
    counts = lines.index(next(ln for ln in lines if "Accounts: from ↓ to →" in ln))
    assert lines[counts + 2].split() == ["B", "1", "2", "1", "1", "0", "5"]
    assert lines[counts + 1].split() == ["A", "1", "0", "0", "0", "0", "1"]
    revenue = lines.index(next(ln for ln in lines if "Revenue: from ↓ to →" in ln))
    assert lines[revenue + 2].split() == ["B", "1,000", "11,000", "7,000", "2,000", "0", "21,000"]
    assert "Nothing was written" in out


def test_preview_with_o_writes_the_preview_sheet_and_nothing_else(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path)
    set_settings(path, ("Weight: prescription", 80), ("Weight: relationship", 20))
    out = tmp_path / "previewed.xlsx"
    assert main(["score", str(path), "--preview", "-o", str(out)]) == 0
    assert "The Preview sheet was written to" in capsys.readouterr().out
    a, b = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    assert b.sheetnames == [*a.sheetnames, "Preview"]
    for name in a.sheetnames:  # every other sheet as it was: outputs, Log, History
        assert [[c.value for c in r] for r in a[name].iter_rows()] == \
               [[c.value for c in r] for r in b[name].iter_rows()], name
    grid = [[c.value for c in r] for r in b["Preview"].iter_rows()]
    assert grid[1][0].startswith("3 of 7 accounts would change category")
    head = grid.index(next(r for r in grid if r[0] == "Accounts: from ↓ to →"))
    assert grid[head][:7] == ["Accounts: from ↓ to →", "A", "B", "C", "D", "—", "Total"]
    assert grid[head + 2][:7] == ["B", 1, 2, 1, 1, 0, 5]
    moved = grid.index(next(r for r in grid if r[0] == "Account"))
    assert grid[moved][:7] == ["Account", "Name", "Before", "After", "Score before",
                               "Score after", "What made the difference"]
    assert [r[:7] for r in grid[moved + 1:moved + 4]] == [
        ["P2", "Two", "B", "D", 50, 20, MOVES["P2"]],
        ["P1", "One", "B", "A", 50, 80, MOVES["P1"]],
        ["P7", "Seven", "B", "C", 60, 36, MOVES["P7"]]]
    # in place with -o FILE: the Preview sheet is updated, a backup kept, outputs unchanged
    set_settings(path, ("Weight: prescription", 50), ("Weight: relationship", 50))
    assert main(["score", str(path), "--preview", "-o", str(path)]) == 0
    again = [[c.value for c in r] for r in openpyxl.load_workbook(path)["Preview"].iter_rows()]
    assert again[1][0].startswith("0 of 7 accounts would change category")
    assert "(no account would change category)" in [r[0] for r in again]
    assert not any(r[0] == "P2" for r in again), "rows of the earlier preview were left"


def test_a_rule_that_fires_now_is_named(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path)
    strict = tmp_path / "strict.yaml"
    strict.write_text(RULES + FAR_RULE, encoding="utf-8")
    assert main(["score", str(path), "--preview", "--rules", str(strict)]) == 0
    out = capsys.readouterr().out
    assert "1 of 7 accounts would change category: 0 up, 1 down" in out
    assert "P3 Three: A → C (100.0 → 100.0): capped at C by a rule (fires now: far-away)" in out


def test_a_changed_input_and_a_changed_band_are_named(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Accounts"]["D5"] = 5  # P4's prescription 2 → 5: 45 → 75
    wb.save(path)
    set_settings(path, ("Band A", 70))
    assert main(["score", str(path), "--preview"]) == 0
    out = capsys.readouterr().out
    assert ("P4 Four: C → A (45.0 → 75.0): prescription score 40.0 → 100.0: +30.0 points; "
            "category A starts at 70 (was 75)") in out


def test_without_a_history_the_criterion_scores_that_changed_are_named(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb["History"]  # a workbook scored before histories existed
    wb["Accounts"]["D5"] = 5
    wb.save(path)
    set_settings(path, ("Weight: prescription", 80), ("Weight: relationship", 20))
    assert main(["score", str(path), "--preview"]) == 0
    out = capsys.readouterr().out
    assert "the weights of the last run are not known (the workbook has no history yet)" in out
    assert "P4 Four: C → A (45.0 → 90.0): prescription score 40.0 → 100.0" in out
    assert ("P1 One: B → A (50.0 → 80.0): the weights or the bands changed (the last run's "
            "are not known); now prescription brings the most: 80.0 points") in out


def test_a_workbook_never_scored_shows_every_account_as_new(tmp_path, capsys):
    from potentiel.cli import main
    (tmp_path / "two.yaml").write_text(RULES, encoding="utf-8")
    path = write_workbook(tmp_path / "new.xlsx", HEADERS, ROWS, settings=[("Rules file", "two")])
    assert main(["score", str(path), "--preview"]) == 0
    out = capsys.readouterr().out
    assert "7 of 7 accounts would change category: 0 up, 0 down, 7 to or from no category" in out
    assert "every account shows as new" in out
    assert "P3 Three: — → A (— → 100.0): not scored by the last run" in out


def test_preview_of_a_csv_file_is_refused_with_the_reason(tmp_path, capsys):
    from potentiel.cli import main
    path = tmp_path / "accounts.csv"
    path.write_text("id,prescription\nP1,3\n", encoding="utf-8")
    assert main(["score", str(path), "--preview"]) == 1
    assert "--preview compares with the categories of a workbook" in capsys.readouterr().err
    assert not (tmp_path / "accounts.scored.csv").exists()


def test_a_french_workbook_previews_in_french(tmp_path, capsys):
    from potentiel.cli import main
    headers = ["Code client", "Raison sociale", "Statut", "Prescription", "Relation", "CA N",
               "Distance"]
    rows = [(i, n, "client", p, r, ca, d) for i, n, _s, p, r, ca, d in ROWS]
    path = scored(tmp_path, headers, rows)
    set_settings(path, ("Poids : prescription", 80), ("Poids : relation", 20))
    out = tmp_path / "apercu.xlsx"
    assert main(["score", str(path), "--preview", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert fr("{n} of {total} accounts would change category: {up} up, {down} down, {other} "
              "to or from no category", n=3, total=7, up=1, down=2, other=0) in text
    sheet = own_sheet(out, "Preview")
    assert sheet == "Aperçu"
    grid = [[c.value for c in r] for r in openpyxl.load_workbook(out)[sheet].iter_rows()]
    moved = grid.index(next(r for r in grid if r[0] == fr("Account")))
    assert grid[moved][6] == fr("What made the difference")
    assert grid[moved + 2][6] == ("relation poids 50 → 20 (score 0.0) : +21.4 points; "
                                  "prescription poids 50 → 80 (score 100.0) : +11.5 points")


# --------------------------------------------------------------------------- the workbook action


def run_action(action, path: Path, out: Path, selection=None):
    """An entry point through xlwings' remote engine (the path of the workbook's buttons
    through xlwings Server); the actions played on ``out`` by the simulated VBA client."""
    import xlwings as xw

    from potentiel.excel import Options
    from vba_client import apply_actions
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set "
                    "before xlwings is first imported")
    book = xw.Book(json=copy.deepcopy(payload_from_workbook(path, selection)))
    try:
        outcome = action(book, Options(remote=True, when=dt.datetime(2026, 2, 1, 9, 0)))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert apply_actions(path, actions, out) == []
    return outcome, actions


def test_the_preview_action_writes_the_preview_sheet_only(tmp_path, monkeypatch):
    from potentiel.excel import preview
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))  # the server's rules folder
    path = scored(tmp_path)
    set_settings(path, ("Weight: prescription", 80), ("Weight: relationship", 20))
    out = tmp_path / "after.xlsx"
    outcome, actions = run_action(preview, path, out)
    assert outcome.ok and outcome.message.startswith(
        "Preview: 3 of 7 accounts would change category: 1 up, 2 down")
    a, b = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    assert b.sheetnames == [*a.sheetnames, "Preview"]
    for name in a.sheetnames:
        assert [[c.value for c in r] for r in a[name].iter_rows()] == \
               [[c.value for c in r] for r in b[name].iter_rows()], name
    grid = [[c.value for c in r] for r in b["Preview"].iter_rows()]
    moved = grid.index(next(r for r in grid if r[0] == "Account"))
    assert [r[:7] for r in grid[moved + 1:moved + 4]] == [
        ["P2", "Two", "B", "D", 50, 20, MOVES["P2"]],
        ["P1", "One", "B", "A", 50, 80, MOVES["P1"]],
        ["P7", "Seven", "B", "C", 60, 36, MOVES["P7"]]]
    written = {x["sheet_position"] for x in actions if x["func"] == "setValues"}
    assert written == {len(a.sheetnames)}, "the preview wrote outside its own sheet"


def test_the_action_cell_names_preview_in_both_languages():
    from potentiel.excel import ACTIONS, action_label, parse_action
    assert parse_action("Preview") == parse_action("Aperçu") == "preview"
    assert parse_action("aperçu") == parse_action(action_label("preview")) == "preview"
    assert ACTIONS["preview"] == ("Preview", "Aperçu")


def test_the_workbook_button_runs_the_preview_named_in_its_action_cell(tmp_path, monkeypatch):
    from potentiel.excel import run_button
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))
    path = scored(tmp_path)
    set_settings(path, ("Weight: prescription", 80), ("Weight: relationship", 20))
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    ws["D1"] = "Aperçu"
    from openpyxl.workbook.defined_name import DefinedName
    # the action and status cells are sheet-scoped names, as in the template
    ws.defined_names.add(DefinedName("PotentielAction", attr_text="Settings!$D$1"))
    ws.defined_names.add(DefinedName("PotentielStatus", attr_text="Settings!$D$2"))
    wb.save(path)
    import xlwings as xw
    from potentiel.excel import Options
    payload = payload_from_workbook(path, active_sheet="Settings")
    book = xw.Book(json=copy.deepcopy(payload))
    try:
        outcome = run_button(book, Options(remote=True))
    finally:
        book.close()
    assert outcome.ok and outcome.action == "preview"
    assert outcome.result.up == 1 and outcome.result.down == 2


def test_accounts_the_invoice_lines_add_are_in_the_matrix(tmp_path, capsys):
    from potentiel.cli import main
    path = scored(tmp_path, settings=[("Add accounts from invoice lines", "yes")])
    wb = openpyxl.load_workbook(path)
    sales = wb.create_sheet("Sales")
    sales.append(["Code client", "Date facture", "Montant HT"])
    sales.append(["P9", dt.datetime(2025, 6, 1), 1200])
    wb.save(path)
    assert main(["score", str(path), "--preview"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  0 of 8 accounts would change category: 0 up, 0 down, 0 to or from no category" \
        in lines  # P9 (no rating) has no category before or after
    counts = lines.index(next(ln for ln in lines if "Accounts: from ↓ to →" in ln))
    assert lines[counts + 5].split() == ["—", "0", "0", "0", "0", "1", "1"]
