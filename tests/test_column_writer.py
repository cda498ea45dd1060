"""A column of Python floats held as objects (a blank as None: how most of Potentiel's
output columns arrive) is written a column at a time as numbers are, with exactly the
cells the per-value writer (`Sheet._cell_tail`) makes of each value."""

import math
import re

import numpy as np
from hypothesis import given, settings
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
@given(st.lists(st.one_of(st.floats(), st.floats(-1e3, 1e3).map(lambda x: round(x, 1)),
                          st.sampled_from([0.0, -0.0, 1e15, -1e15, 1e15 - 1, 9.5e14, 1e16,
                                           1e-7, 5e-324, 2.0 ** 53, 0.1 + 0.2])),
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
