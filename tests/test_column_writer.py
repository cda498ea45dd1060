"""A column of Python floats held as objects (a blank as None: how most of Potentiel's
output columns arrive) is written a column at a time as numbers are, with exactly the
cells the per-value writer (`Sheet._cell_tail`) makes of each value."""

import math
import re

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from potentiel.headless import Workbook
from tests.helpers import write_workbook

values_st = st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                               st.floats(-1e6, 1e6).map(lambda x: round(x, 1)),
                               st.integers(-10**6, 10**6).map(float)),
                     min_size=65, max_size=150)


@settings(max_examples=60, deadline=None)
@given(values_st)
def test_floats_as_objects_are_the_cells_of_each_value(tmp_path_factory, values):
    path = write_workbook(tmp_path_factory.mktemp("w") / "b.xlsx", ["id"], [["a"]], table=False)
    wb = Workbook(path)
    sheet = wb.sheet(wb.ref(("accounts",)))
    rows = list(range(3, 3 + len(values)))
    column = np.empty(len(values), dtype=object)
    column[:] = values
    sheet.write_columns(rows, [(2, column)])
    body = b"".join(sheet._chunks()).decode()
    written = dict(re.findall(r'<row r="(\d+)">(.*?)</row>', body))
    expected = {}
    for r, v in zip(rows, values):
        if v is None or not math.isfinite(v):
            continue  # a blank on a new row: no cell
        expected[str(r)] = f'<c r="B{r}' + sheet._cell_tail(v, None)[1]
    assert {r: x for r, x in written.items() if int(r) >= 3} == expected
    wb.package.close()


def _cast_texts(arr: np.ndarray) -> list[str]:
    """What `number_texts` replaced: numpy's float-to-text cast of every element."""
    safe = np.where(np.isfinite(arr), arr, 0)
    whole = (np.abs(safe) < 1e15) & (safe % 1 == 0)
    return np.where(whole, np.where(whole, safe, 0).astype(np.int64).astype(str),
                    safe.astype(str)).tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.floats(1e-5, 2e10), st.floats(-2e10, -1e-5), st.floats(-1e3, 1e3).map(lambda x: round(x, 1)),
                          st.sampled_from([0.0, -0.0, 1e15, -1e15, 1e15 - 1, 9.5e14, 1e16,
                                           1e-7, 5e-324, 2.0 ** 53, 0.1 + 0.2, 1e-4,
                                           0.000099999, 0.00011, 9999999999.5, 1e10 + 0.5,
                                           -123456.789, 1e10, 1e-5])),
                max_size=80))
def test_number_texts_are_the_cast_of_every_element(values):
    from potentiel.xlsxsheet import number_texts
    arr = np.array(values, dtype=float)
    got = number_texts(arr)
    assert got == _cast_texts(arr)
    # and what the per-value writer puts in <v>, for the finite ones
    from potentiel.xlsxsheet import _number
    assert [t for t, v in zip(got, values) if math.isfinite(v)] == \
        [_number(v) for v in values if math.isfinite(v)]


cells_st = st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["A", "B", "Cible", "=x",
                                                                         " lead", "a\nb", ""]),
                     st.text(max_size=6), st.booleans(), st.floats(-1e3, 1e3),
                     st.integers(-10, 10))


@settings(max_examples=120, deadline=None)
@given(st.lists(cells_st, min_size=0, max_size=90), st.integers(1, 5000))
@example(cells=[True, 1, 1.0, False, 0, 0.0, None], spread=1)
@example(cells=[True, 1, 1.0, False, 0, 0.0, None], spread=4000)
def test_each_cell_of_an_object_column_is_written_as_its_value_alone(tmp_path_factory, cells,
                                                                     spread):
    """A column's values told apart once (`_distinct`: by identity, then by type and value,
    the blank last; a column of different objects not hashed) give each row the cell its
    value gives alone: True, 1 and 1.0 are not merged as pandas' factorize merges them."""
    path = write_workbook(tmp_path_factory.mktemp("d") / "b.xlsx", ["id"], [["a"]], table=False)
    wb = Workbook(path)
    sheet = wb.sheet(wb.ref(("accounts",)))
    column = np.empty(len(cells) * (1 + spread % 3), dtype=object)
    column[:] = cells * (1 + spread % 3)  # the same objects again: the identity path
    if len(column) and spread > 2500:
        column = np.concatenate([column] * (4096 // len(column) + 1))
    got = sheet._column(column, None, None)

    from potentiel.xlsxsheet import _VALUE, number_texts

    def cell(col, i):
        """(what is done, style, the cell's XML after its reference) of row i."""
        kind = int(np.asarray(col.kinds)[i])
        if kind != _VALUE:
            xml = ""
            assert col.cell_tails(i, i + 1)[0][0].as_py() is None  # no cell written
        else:
            xml = col.cell_tails(i, i + 1)[0][0].as_py()
            if col.numeric is not None:  # a column of numbers
                assert xml == col.numeric + number_texts(
                    np.asarray(col.values[i:i + 1], dtype=float))[0] + "</v></c>"
        return kind, int(np.asarray(col.styles)[i]), xml
    alone = {}
    for i, v in enumerate(column.tolist()):
        key = ("blank",) if v is None or (isinstance(v, float) and math.isnan(v)) \
            else (type(v), v)
        if key not in alone:
            single = np.empty(1, dtype=object)
            single[0] = v
            alone[key] = cell(sheet._column(single, None, None), 0)
        assert cell(got, i) == alone[key], (i, v)
    wb.package.close()
