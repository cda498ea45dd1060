"""The account rows cut from a sheet's values (`headless._cut`, for the header row, the
accounts and a sparse sheet's rows alike): each row its cells of the area's columns,
padded with None, a new list (the values read stay as they were)."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from potentiel.headless import _cut


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=2)),
                         max_size=8), max_size=12),
       st.integers(0, 5), st.integers(0, 6), st.integers(1, 14), st.integers(0, 14),
       st.booleans())
@example(grid=[[1], [2]], c1=0, extra=1, first=1, count=2, gaps=True)  # rows 1 and 3 of 2
def test_each_row_is_its_cells_of_the_area_padded(grid, c1, extra, first, count, gaps):
    c2 = c1 + extra
    # consecutive rows (the accounts), or rows apart (a sparse sheet's rows with a value)
    numbers = list(range(first, first + 2 * count, 2 if gaps else 1))[:count]
    before = [list(r) for r in grid]
    got = _cut(grid, numbers, c1, c2)
    expected = []
    for r in numbers:
        cells = grid[r - 1][c1:c2] if r - 1 < len(grid) else []
        expected.append(cells + [None] * (c2 - c1 - len(cells)))
    assert got == expected
    for row in got:  # new lists: changing one leaves the values read alone
        row[:] = ["x"] * len(row)
    assert grid == before
