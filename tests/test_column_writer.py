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
