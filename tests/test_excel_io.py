"""Raw reads and writes prepare values exactly as xlwings' converter pipeline would.

Each check runs the real thing next to ours on a remote book (``xw.Book(json=...)``): a
``Range.value`` read against `clean_payload_rows` on ``Range.raw_value``, and a
``Range.value`` write against a ``Range.raw_value`` write of `prepare_cell` /
`prepare_column` values; the actions sent to the client must be the same, types included.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import xlwings as xw
from hypothesis import given, settings
from hypothesis import strategies as st

from potentiel.excel_io import (ERROR_TEXTS, clean_payload_rows, column_runs, output_blocks,
                                prepare_cell, prepare_column, prepare_rows, row_chunks)
from potentiel.validate import CELL_ERRORS, ErrorCell


@pytest.fixture(scope="module")
def pro():
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: set XLWINGS_LICENSE_KEY")


def book_with(values):
    return xw.Book(json={
        "client": "VBA", "version": xw.__version__, "names": [],
        "book": {"name": "t.xlsm", "active_sheet_index": 0, "selection": "A1"},
        "sheets": [{"name": "S", "values": values, "pictures": [], "tables": []}]})


def sent(write):
    """The values of the one setValues action ``write(range)`` queues, as JSON text."""
    book = book_with([[None]])
    try:
        write(book.sheets[0].range("A1"))
        (action,) = book.json()["actions"]
        return json.dumps(action["values"])
    finally:
        book.close()


def converter(values):
    """What xlwings' converter sends for rows of values (after Potentiel's `_plain`)."""
    from potentiel.excel_io import _plain
    rows = [[_plain(v) for v in r] for r in values]
    return sent(lambda rng: setattr(rng.resize(len(rows), len(rows[0])), "value", rows))


def raw(rows):
    return sent(lambda rng: setattr(rng.resize(len(rows), len(rows[0])), "raw_value", rows))


CELLS = ["Acme", "", "=1+1", "-Julien", "+33 1", "@SUM(A1)", "\tx", "'quoted", None,
         1, -3, 0, True, False, 1.5, -0.0, 1e300, float("nan"), float("inf"), -float("inf"),
         np.int64(7), np.float64(2.25), np.float32(0.5), np.bool_(True), np.float64("nan"),
         pd.NA, pd.NaT, pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01 10:20:30.5"),
         dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, 600),
         dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.timezone.utc), dt.date(2023, 12, 31),
         dt.time(9, 30), [1, 2], ("a",), {"k": 1}, 2 ** 40, "2024-01-05T00:00:00.000Z"]


def test_prepare_cell_sends_what_the_converter_sends(pro):
    for v in CELLS:
        assert raw([[prepare_cell(v)]]) == converter([[v]]), repr(v)


def test_prepare_rows_pads_like_the_old_writer(pro):
    rows = [["a", 1], ["=x"], []]
    assert raw(prepare_rows(rows)) == converter([r + [None] * (2 - len(r)) for r in rows])
    assert prepare_rows(rows, dates_as_text=False)[1] == ["'=x", None]
    assert prepare_rows([[dt.datetime(2024, 1, 2, 3, 4)]], dates_as_text=False) == \
        [[dt.datetime(2024, 1, 2, 3, 4)]]


COLUMNS = {
    "float": pd.Series([1.5, np.nan, np.inf, -2.0, 0.0]),
    "float32": pd.Series([1.5, np.nan, 3], dtype="float32"),
    "int": pd.Series([1, -2, 3]),
    "bool": pd.Series([True, False, True]),
    "object": pd.Series(["A", None, np.nan, "=SUM(1)", 3, 2.5, True, pd.NA, pd.NaT,
                         dt.datetime(2024, 1, 2, 3, 4), np.int64(4), float("inf"), "-x"],
                        dtype=object),
    "texts": pd.Series(["A", None, "=x", "A", np.nan, "B", pd.NA, "=x"], dtype=object),
    "texts and a list": pd.Series(["A", None, ["=x", 1], "A"], dtype=object),
    "texts and numbers": pd.Series(["1", 1, 1.0, True, "A", "True"], dtype=object),
    "str": pd.Series(["A", None, "@x", "B"], dtype="str"),
    "Int64": pd.Series([1, None, 3], dtype="Int64"),
    "boolean": pd.Series([True, None, False], dtype="boolean"),
    "Float64": pd.Series([1.25, None, 3.0], dtype="Float64"),
    "category": pd.Series(["A", "B", None, "+1"], dtype="category"),
    "datetime": pd.Series(pd.to_datetime(["2024-01-02", None, "2024-01-02 10:00"], format="ISO8601")),
    "datetime ns": pd.Series(pd.to_datetime(["2024-01-02", None, "2024-01-02 10:00:00.25"],
                                            format="ISO8601").as_unit("ns")),
    "empty": pd.Series([], dtype=object),
    "empty float": pd.Series([], dtype=float),
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_prepare_column_sends_what_the_converter_sends(pro, name):
    series = COLUMNS[name]
    got = prepare_column(series)
    assert got.dtype == object and len(got) == len(series)
    assert all(type(v) in (str, int, float, bool) for v in got)
    if len(series):
        assert raw([[v] for v in got]) == converter([[v] for v in series.to_numpy(dtype=object)])
    assert list(got) == [prepare_cell(v) for v in series.to_numpy(dtype=object)]


def test_output_blocks_align_by_position_and_split_runs():
    outputs = pd.DataFrame({"Score": [10.0, np.nan], "Why": ["=bad", "ok"], "Flag": [1, 2]},
                           index=pd.Index([0, 3], name="row"))
    blocks = output_blocks(outputs, {"Score": 7, "Why": 8, "Flag": 10}, n_rows=4)
    assert blocks == [(7, [["Score", "Why"], [10.0, "'=bad"], ["", ""], ["", ""], ["", "ok"]]),
                      (10, [["Flag"], [1], [""], [""], [2]])]
    # positions past the table are not written
    assert output_blocks(outputs, {"Score": 1}, n_rows=2) == [(1, [["Score"], [10.0], [""]])]
    dated = pd.DataFrame({"When": pd.to_datetime(["2024-01-02 10:00", "2024-01-03"],
                                                 format="ISO8601").as_unit("ns")}, index=[0, 3])
    assert output_blocks(dated, {"When": 1}, n_rows=2) == [
        (1, [["When"], ["2024-01-02 10:00:00"], [""]])]
    assert column_runs([9, 3, 5, 4]) == [[3, 4, 5], [9]]


def test_a_block_past_the_cell_budget_goes_in_row_chunks_like_the_converter(pro):
    from potentiel import excel

    grid = [[i * 7 + j for j in range(7)] for i in range(20_000)]  # 140,000 cells

    def actions(write):
        book = book_with([[None]])
        try:
            write(book.sheets[0])
            return json.dumps(book.json()["actions"])
        finally:
            book.close()

    ours = actions(lambda sheet: excel._set(sheet, 3, 2, grid, remote=True))
    theirs = actions(lambda sheet: setattr(sheet.range((3, 2), (20_002, 8)), "value", grid))
    assert ours == theirs and len(json.loads(ours)) == 2
    assert row_chunks(3, 2, budget=4) == [(0, 2), (2, 3)]
    assert row_chunks(2, 2, budget=4) == [(0, 2)] and row_chunks(5, 9, budget=4) == [
        (i, i + 1) for i in range(5)]


def reads(values):
    """``Range.value`` (xlwings' converter, errors as text) and ours on ``Range.raw_value``,
    same range."""
    book = book_with(values)
    try:
        rng = book.sheets[0].range((1, 1), (len(values), max(len(r) for r in values)))
        return rng.options(ndim=2, err_to_str=True).value, clean_payload_rows(rng.raw_value)
    finally:
        book.close()


def test_clean_payload_rows_reads_what_the_converter_reads(pro):
    values = [["id", "", None, "#N/A", "2024-01-05T00:00:00.000Z", "2024-01-05T10:11:12.5Z"],
              [1, 2.5, True, "#DIV/0!", "2024-01-05", "T12:00:00"],
              ["a:b", "10:30", "#data!", *sorted(ERROR_TEXTS)[:3]]]
    expected, got = reads(values)
    assert got == expected
    assert [[type(v) for v in r] for r in got] == [
        [ErrorCell if v in CELL_ERRORS else type(v) for v in r] for r in expected]
    assert got[0][4] == dt.datetime(2024, 1, 5) and got[0][1] is None
    assert got[1][3] == "#DIV/0!" and isinstance(got[1][3], ErrorCell)
    assert got[2][2] == "#data!" and not isinstance(got[2][2], ErrorCell)  # text, not an error


cell = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6),
                 st.floats(allow_nan=False, allow_infinity=False),
                 st.sampled_from(["", "#N/A", "#REF!", "2024-02-29T23:59:59.000Z", "x:y"]),
                 st.text(max_size=8))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(cell, min_size=w, max_size=w),
                                                    min_size=1, max_size=5)))
def test_clean_payload_rows_matches_the_converter_on_any_grid(values):
    expected, got = reads(values)
    assert json.dumps(got, default=str) == json.dumps(expected, default=str)


@pytest.mark.parametrize("notes", [False, True])
def test_the_live_book_path_writes_the_same_cells(pro, monkeypatch, tmp_path, notes):
    """A live book (COM, AppleScript) reads and writes through xlwings' converter instead:
    run on a remote book with that path forced, the actions must be the same."""
    import copy
    from pathlib import Path

    from helpers import payload_from_workbook
    from potentiel import excel
    from potentiel.manager import load_plugins

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "crit.py").write_text(
        "from potentiel import Criterion, Input, hookimpl\n"
        "class Rel(Criterion):\n"
        "    name, label, default_weight = 'rel', 'Relation', 1\n"
        "    inputs = (Input('relationship', 'rating'),)\n"
        "    def score(self, accounts, params):\n"
        "        return accounts['relationship'] * 20\n"
        "@hookimpl\n"
        "def register_criteria(register):\n"
        "    register(Rel())\n")
    plugins = load_plugins([folder], entry_points=False)  # "Score: rel" is a new column
    payload = payload_from_workbook(Path(__file__).resolve().parents[1] / "workbooks"
                                    / "portfolio.xlsm")
    grid = payload["sheets"][0]["values"]
    grid[5][1] = "=HYPERLINK(1)"
    if notes:
        for line in grid:
            line.append(None)
        grid[9][-1] = "my notes"

    def actions():
        book = xw.Book(json=copy.deepcopy(payload))
        try:
            outcome = excel.recompute(book, excel.Options(
                remote=True, plugins=plugins, when=dt.datetime(2026, 3, 2, 9, 30)))
            return outcome.ok, json.dumps(book.json())
        finally:
            book.close()

    remote = actions()
    monkeypatch.setattr(excel, "_remote", lambda sheet: False)
    assert actions() == remote and remote[0] is not notes
