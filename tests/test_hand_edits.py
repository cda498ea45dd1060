"""An output cell typed over by hand is said, cell by cell, and Potentiel's value written
back (headless and through xlwings' remote engine): the check each run keeps in its
Reading sheet (potentiel.sources.fingerprint)."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

from pathlib import Path

import openpyxl

from helpers import HEADERS, score_headless, score_remote, write_workbook
from potentiel.sources.fingerprint import check_block, edited_cells, read_check

ROWS = [["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
        ["C2", "Bobo", "Prospect", "Julien", None, None, 50000, None, None, 650],
        ["C3", "Cara", "Client", "Claire", 5000, 9000, 60000, 2, 2, 40]]


def _edit(path: Path, out: Path, edits: dict[tuple[int, str], object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    header = [c.value for c in ws[1]]
    for (row, column), value in edits.items():
        ws.cell(row=row, column=header.index(column) + 1).value = value
    wb.save(out)


def _hand_edits(result) -> list[tuple[str, str]]:
    return [(p.where, p.column) for p in result.warnings if p.kind == "hand-edit"]


def test_a_cell_typed_over_is_named_and_written_back(tmp_path):
    first = tmp_path / "first.xlsx"
    score_headless(write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS), first)
    again = score_headless(first, tmp_path / "again.xlsx")
    assert _hand_edits(again) == []  # a run over its own output: nothing was edited
    _edit(first, tmp_path / "edited.xlsx", {(2, "Score"): 99, (3, "Why"): "my own note"})
    result = score_headless(tmp_path / "edited.xlsx", tmp_path / "out.xlsx")
    edits = _hand_edits(result)
    assert [c for _, c in edits] == ["Score", "Why"]
    assert edits[0][0].endswith("2") and edits[1][0].endswith("3")
    out = openpyxl.load_workbook(tmp_path / "out.xlsx")["Accounts"]
    header = [c.value for c in out[1]]
    assert out.cell(row=2, column=header.index("Score") + 1).value != 99
    assert out.cell(row=3, column=header.index("Why") + 1).value != "my own note"
    assert result.changes["changed"] == 0  # an edit is never counted as a model change


def test_the_xlwings_front_end_keeps_and_reads_the_same_check(tmp_path):
    first = tmp_path / "first.xlsx"
    score_remote(write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS), first)
    assert _hand_edits(score_remote(first)) == []
    _edit(first, tmp_path / "edited.xlsx", {(4, "Flags"): "vip"})
    edits = _hand_edits(score_remote(tmp_path / "edited.xlsx"))
    assert edits and edits[0][1] == "Flags" and edits[0][0].endswith("4")
    # the headless front end reads the check the xlwings one wrote, and the other way
    assert [c for _, c in _hand_edits(score_headless(tmp_path / "edited.xlsx"))] == ["Flags"]


def test_the_check_itself():
    grid = check_block(["score", "why"], [2, 3], [[45.2, None], ["a", "b"]])
    keys, checks = read_check(grid)
    assert keys == ["score", "why"] and set(checks) == {2, 3}
    # 1 and 1.0, a blank and an empty text, read back alike
    assert edited_cells(keys, checks, {"score": [45.2, ""], "why": ["a", "b"]}, [2, 3]) == []
    assert edited_cells(keys, checks, {"score": [45.2, None], "why": ["a", "B"]},
                        [2, 3]) == [(3, "why")]
    assert read_check([["something else"]]) == ([], {})
