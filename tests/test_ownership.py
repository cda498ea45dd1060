"""Nothing typed is ever overwritten: columns and sheets are Potentiel's only by marker.

The ownership cases of ``../shared/cases/writing/`` (files from public test corpora given an
Accounts sheet), through the headless command (in place and with -o) and through xlwings'
remote engine with the VBA client's actions played on a copy (`vba_client`); then the
markers followed across runs (a renamed sheet, an inserted column, a deleted column), and
the last check before a file is replaced: the user's cells of the Accounts sheet.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import datetime as dt
import shutil
import warnings
from pathlib import Path

import openpyxl
import pytest

from helpers import SHARED_CASES
import xlwings as xw
from openpyxl.workbook.defined_name import DefinedName
from python_calamine import CalamineWorkbook

from potentiel.excel import Options, recompute
from potentiel.headless import changed_cells, remote_payload, score_file
from potentiel.problems import UserError
from vba_client import ExcelRefused, apply_actions

CASES = SHARED_CASES / "writing"
WHEN = dt.datetime(2025, 3, 1, 9, 30)
MODES = ("in-place", "-o")


def case(name: str, tmp_path: Path) -> Path:
    """A writable copy of a shared case (a missing case fails the test)."""
    src = CASES / name
    assert src.is_file(), f"missing shared case {src}"
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    dst.chmod(0o644)
    return dst


def headless(path: Path, mode: str):
    out = None if mode == "in-place" else path.with_name("out-" + path.name)
    result, target = score_file(path, out, when=WHEN)
    return result, target


def remote(path: Path, target: Path):
    """Recompute through xlwings' remote engine, the actions played by the VBA client."""
    book = xw.Book(json=copy.deepcopy(remote_payload(path)))
    try:
        outcome = recompute(book, Options(remote=True, when=WHEN))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert outcome.ok, outcome.message
    assert apply_actions(path, actions, target) == []
    return outcome.result, target


def grid(path: Path, sheet: str) -> list[list]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(
        skip_empty_area=False)
    return [[None if v == "" else v for v in r] for r in rows]


def column(path: Path, sheet: str, header: str) -> list:
    g = grid(path, sheet)
    j = g[0].index(header)
    return [r[j] for r in g]


def book(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def markers(path: Path) -> dict[str, str]:
    wb = book(path)
    return {n: d.attr_text for n, d in wb.defined_names.items() if n.startswith("_Potentiel.")}


def folded_unique(names: list[str]) -> bool:
    return len({n.casefold() for n in names}) == len(names)


RUNNERS = {"in-place": lambda p, t: headless(p, "in-place"),
           "-o": lambda p, t: headless(p, "-o"),
           "xlwings": lambda p, t: remote(p, t)}


@pytest.fixture(params=list(RUNNERS))
def run(request, tmp_path):
    """One of the three ways to recompute: returns (result, the file written)."""
    def go(path: Path):
        return RUNNERS[request.param](path, tmp_path / ("xw-" + path.name))
    go.mode = request.param
    return go


# ------------------------------------------------------------------ the five shared cases


def test_a_users_category_column_is_untouched(run, tmp_path):
    path = case("category-column-overwritten.xlsx", tmp_path)
    before = grid(path, "Accounts")
    families = column(path, "Accounts", "Category")
    result, target = run(path)
    after = grid(target, "Accounts")
    headers = after[0]
    assert headers.count("Category") == 1 and "Category (Potentiel)" in headers
    assert column(target, "Accounts", "Category") == families
    assert not set(families[1:]) & {"A", "B", "C", "D"}
    ours = column(target, "Accounts", "Category (Potentiel)")[1:]
    assert {v for v in ours if v is not None} <= {"A", "B", "C", "D"} and any(ours)
    width = len(before[0])  # every input cell as it was
    assert [r[:width] for r in after[:len(before)]] == before
    col = headers.index("Category (Potentiel)") + 1
    assert markers(target)["_Potentiel.col.category"].endswith(
        f"${openpyxl.utils.get_column_letter(col)}$1")
    assert any(w.kind == "own-column" and '"Category"' in w.message for w in result.warnings)


def test_a_typed_potential_is_read_and_never_changed(run, tmp_path):
    path = case("potential-column-wiped.xlsx", tmp_path)
    typed = column(path, "Accounts", "Potential")[1:]
    assert any(isinstance(v, (int, float)) for v in typed)
    result, target = run(path)
    assert list(result.accounts["potential"]) == pytest.approx(
        [float(v) for v in typed if v is not None])
    assert column(target, "Accounts", "Potential")[1:] == typed
    assert "Potential (Potentiel)" in grid(target, "Accounts")[0]


@pytest.mark.parametrize("name, user_sheet, a1", [
    ("own-Summary-sheet-overwritten.xlsx", "Summary", 11),
    ("sheet-named-SUMMARY-second-Summary-added.xlsx", "SUMMARY", None),  # formatted, empty
])
def test_a_users_summary_sheet_is_untouched(run, tmp_path, name, user_sheet, a1):
    path = case(name, tmp_path)
    mine = grid(path, user_sheet)
    assert (mine[0][0] if mine else None) == a1
    result, target = run(path)
    names = book(target).sheetnames
    assert folded_unique(names), names
    assert user_sheet in names and "Summary (Potentiel)" in names
    assert grid(target, user_sheet) == mine
    if a1 is not None:
        assert book(target)[user_sheet]["A1"].value == a1
    assert any(v is not None for r in grid(target, "Summary (Potentiel)") for v in r)
    assert markers(target)["_Potentiel.sheet.summary"].startswith("'Summary (Potentiel)'!")
    own = [w for w in result.warnings if w.kind == "own-sheet"]
    assert own and f'"{user_sheet}"' in own[0].message


def test_a_chart_sheet_named_summary_counts_headless(tmp_path):
    for mode in MODES:
        path = case("chartsheet-named-Summary-second-Summary-added.xlsx", tmp_path)
        _, target = headless(path, mode)
        wb = book(target)
        assert folded_unique(wb.sheetnames), wb.sheetnames
        assert [s.title for s in wb.chartsheets] == ["Summary"]
        assert "Summary (Potentiel)" in wb.sheetnames


def test_a_chart_sheet_named_summary_remote_is_refused_before_any_cell_is_written(tmp_path):
    """xlwings' VBA client sends worksheets only: the chart sheet is not seen and Excel
    refuses the name. Every sheet is added before any cell is written, so the refusal
    leaves the workbook's cells as they were."""
    path = case("chartsheet-named-Summary-second-Summary-added.xlsx", tmp_path)
    b = xw.Book(json=copy.deepcopy(remote_payload(path)))
    try:
        outcome = recompute(b, Options(remote=True, when=WHEN))
        actions = b.json()["actions"]
    finally:
        b.close()
    assert outcome.ok
    funcs = [a["func"] for a in actions]
    writes = [i for i, f in enumerate(funcs) if f in ("setValues", "rangeClearContents")]
    assert max(i for i, f in enumerate(funcs) if f == "addSheet") < min(writes)
    with pytest.raises(ExcelRefused, match="Summary"):
        apply_actions(path, actions, tmp_path / "out.xlsx")


# ------------------------------------------------------------------ markers across runs


def test_a_second_run_reuses_its_columns_and_sheets(run, tmp_path):
    path = case("own-Summary-sheet-overwritten.xlsx", tmp_path)
    _, first = run(path)
    once = grid(first, "Accounts")[0]
    sheets = book(first).sheetnames
    second = tmp_path / "second.xlsx"
    shutil.copyfile(first, second)
    result, again = run(second)
    assert grid(again, "Accounts")[0] == once
    assert book(again).sheetnames == sheets
    assert result.changes["changed"] == 0
    assert not [w for w in result.warnings if w.kind == "own-sheet"]


def test_a_renamed_summary_sheet_is_still_potentiels(run, tmp_path):
    path = case("own-Summary-sheet-overwritten.xlsx", tmp_path)
    _, first = run(path)
    wb = book(first)
    wb["Summary (Potentiel)"].title = "Résumé"
    # Excel moves a name with its sheet
    wb.defined_names["_Potentiel.sheet.summary"] = DefinedName(
        "_Potentiel.sheet.summary", attr_text="'Résumé'!$A$1")
    renamed = tmp_path / "renamed.xlsx"
    wb.save(renamed)
    mine = grid(renamed, "Summary")
    _, again = run(renamed)
    names = book(again).sheetnames
    assert "Résumé" in names and not any(n.casefold().startswith("summary (") for n in names)
    assert grid(again, "Summary") == mine
    assert any(v is not None for r in grid(again, "Résumé") for v in r)


def _shift_markers(wb, at: int) -> None:
    """What Excel does to the names when a column is inserted at ``at`` (1-based)."""
    from openpyxl.utils import column_index_from_string as index, get_column_letter as letter
    for n, d in list(wb.defined_names.items()):
        if not n.startswith("_Potentiel.col."):
            continue
        sheet, _, addr = d.attr_text.rpartition("!")
        col = index(addr.split("$")[1])
        if col >= at:
            wb.defined_names[n] = DefinedName(n, attr_text=f"{sheet}!${letter(col + 1)}$1")


def test_a_column_inserted_before_the_outputs_moves_them(run, tmp_path):
    path = case("own-Summary-sheet-overwritten.xlsx", tmp_path)
    _, first = run(path)
    headers = grid(first, "Accounts")[0]
    at = headers.index("Score") + 1
    wb = book(first)
    ws = wb["Accounts"]
    ws.insert_cols(at)
    ws.cell(row=1, column=at, value="Notes")
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=at, value=f"note {r}")
    _shift_markers(wb, at)
    moved = tmp_path / "moved.xlsx"
    wb.save(moved)
    before = grid(moved, "Accounts")
    _, again = run(moved)
    after = grid(again, "Accounts")
    assert after[0] == before[0]  # no new column: the outputs were found where they went
    assert [r[at - 1] for r in after] == [r[at - 1] for r in before]
    assert after[0].count("Score") == 1


@pytest.mark.parametrize("refers", ["#REF!", "Accounts!#REF!"])
def test_a_marker_pointing_to_ref_gives_the_column_back_to_the_user(run, tmp_path, refers):
    path = case("own-Summary-sheet-overwritten.xlsx", tmp_path)
    _, first = run(path)
    old = column(first, "Accounts", "Category")
    wb = book(first)
    wb.defined_names["_Potentiel.col.category"] = DefinedName("_Potentiel.col.category",
                                                             attr_text=refers)
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    _, again = run(broken)
    headers = grid(again, "Accounts")[0]
    assert column(again, "Accounts", "Category") == old  # now the user's: never written
    assert "Category (Potentiel)" in headers
    col = headers.index("Category (Potentiel)") + 1
    assert markers(again)["_Potentiel.col.category"].endswith(
        f"${openpyxl.utils.get_column_letter(col)}$1")


# ------------------------------------------------------------------ the last check


def _corrupting(monkeypatch, cell=(2, 1), value="changed"):
    """The sheet writer also writes one input cell (a fault the check must catch)."""
    from potentiel import xlsxsheet
    real = xlsxsheet.Sheet.write_columns

    def write_columns(self, rows, columns, *a, **kw):
        real(self, rows, columns, *a, **kw)
        if self.part.endswith("sheet2.xml"):  # the Accounts sheet of the case
            real(self, [cell[0]], [(cell[1], [value])])
    monkeypatch.setattr(xlsxsheet.Sheet, "write_columns", write_columns)


@pytest.mark.parametrize("mode", MODES)
def test_a_typed_cell_that_would_change_refuses_the_write(monkeypatch, tmp_path, mode):
    path = case("own-Summary-sheet-overwritten.xlsx", tmp_path)
    original = path.read_bytes()
    _corrupting(monkeypatch)
    with pytest.raises(UserError) as err:
        headless(path, mode)
    assert "Accounts!A2" in str(err.value) and "nothing was written" in str(err.value)
    assert err.value.problems[0].where == "Accounts!A2"
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no backup, no output


def test_changed_cells_compares_values_outside_potentiels_columns():
    from potentiel.validate import ErrorCell
    before = [["id", "x", None], [1, ErrorCell("#N/A"), None], [2, "", None]]
    after = [["id", "x", "Score"], [1, None, 3.0], [2, None, 4.0, None], [None, None, 5.0]]
    assert changed_cells(before, after, {3}) == []
    after[2][0] = 7
    after.append(["extra"])
    assert changed_cells(before, after, {3}) == [(3, 1, 2, 7), (5, 1, None, "extra")]
    # a value past the end of the rows read, in a column that is not Potentiel's
    wider = [["id", "x", "Score", None, None], [1, None, 3.0, None, "typed"]]
    assert changed_cells(before[:2], wider, {3}) == [(2, 5, None, "typed")]
    assert changed_cells(before[:2], wider, {3, 5}) == []
