"""The number columns are cast a block of rows at a time (`validate._float_columns`):
the same floats, and the same columns refused, as casting each column on its own."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from potentiel import validate as v

cell_st = st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-10 ** 15, 10 ** 15),
                    st.booleans(), st.sampled_from(["12", " 3.5 ", "abc", "", "1e3", "#N/A"]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.integers(1, 6), st.booleans(), st.data())
def test_block_cast_equals_each_column_cast(n, m, by_rows, data):
    # a column is numbers only, or anything; a block of 7 rows crossed several times
    kinds = data.draw(st.lists(st.booleans(), min_size=m, max_size=m))
    grid = np.empty((n, m), dtype=object)
    for j, numbers_only in enumerate(kinds):
        cells = st.one_of(st.none(), st.floats(), st.integers(-99, 99)) if numbers_only \
            else cell_st
        grid[:, j] = data.draw(st.lists(cells, min_size=n, max_size=n)) if n else []
    js = data.draw(st.lists(st.sampled_from(range(m)), unique=True))
    real, guess = v._ROWS_AT_ONCE, v._made_by_rows
    v._ROWS_AT_ONCE, v._made_by_rows = 7, lambda *args: by_rows  # either order
    try:
        got = v._float_columns(grid, js)
    finally:
        v._ROWS_AT_ONCE, v._made_by_rows = real, guess
    assert set(got) == (set(js) if n else set())
    for j in got:
        each = v._as_floats(grid[:, j])
        if each is None:
            assert got[j] is None
        else:
            assert got[j] is not None
            np.testing.assert_array_equal(got[j], each)


_GUESS = """
import numpy as np
from potentiel import validate as v
n, m, made = 200, 6, 20_000
by_rows = [[float(r * m + c) + 0.5 for c in range(m)] for r in range(made)][10_000:10_000 + n]
columns = [[float(r * m + c) + 0.5 for r in range(made)][10_000:10_000 + n] for c in range(m)]
row_grid = np.empty((n, m), dtype=object)
row_grid[:] = by_rows
col_grid = np.empty((n, m), dtype=object)
for c in range(m):
    col_grid[:, c] = columns[c]
print(v._made_by_rows(row_grid, list(range(m))), v._made_by_rows(col_grid, list(range(m))))
"""


def test_the_order_guessed_is_the_order_the_values_were_made_in():
    """Values made a row after another are guessed so, values made a column at a time
    too. Made in a fresh interpreter, as a reading makes them: in a process that has
    freed much memory, the first objects made may fill places freed anywhere (the guess
    is about speed only; either order gives the same floats)."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _GUESS], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
