"""Output cells edited by hand: what Potentiel wrote last time, kept as a short check.

Potentiel rewrites its own output columns at every run. So that a cell someone typed over
(a Score, a Why) is said, not silently replaced, each run keeps a check of what it wrote
in its own Reading sheet, from column `CHECK_COL`: one line per account row, four
hexadecimal characters per output column (a digest of the value written). The next run
reads it back and names every cell whose value no longer matches what was written.

Only Potentiel's own columns (known by their markers) are checked; a check is four
characters per cell, so a workbook of 100,000 accounts and 20 outputs keeps about 8 MB.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

CHECK_COL = 10          # the Reading sheet's column J: the check's header, then one row per account
CHECK_TITLE = "Potentiel check (do not edit)"
WIDTH = 4               # hexadecimal characters per cell


def _norm(v: Any) -> str:
    """A cell's value as text that is the same however it was read back (1 and 1.0, a
    blank and an empty text, TRUE and True)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        f = float(v)
        if math.isnan(f):
            return ""
        return str(int(f)) if f.is_integer() else repr(round(f, 9))
    return str(v).strip()


def _norms(uniques: Any) -> list[str]:
    """`_norm` of each value of ``uniques`` (distinct values), the common kinds (text,
    Python and numpy floats, integers) without a call per value."""
    import numpy as np
    values = uniques.tolist() if isinstance(uniques, np.ndarray) and uniques.dtype.kind != "O" \
        else list(uniques)
    kinds = set(map(type, values))
    if kinds == {str}:
        return [v.strip() for v in values]
    if kinds <= {float, int, np.float64}:
        return _number_norms(values)
    numbers = [i for i, v in enumerate(values) if type(v) in (float, int, np.float64)]
    out = [None if type(v) in (float, int, np.float64) else
           v.strip() if type(v) is str else _norm(v) for v in values]
    for i, text in zip(numbers, _number_norms([values[i] for i in numbers])):
        out[i] = text
    return out  # type: ignore[return-value]


def _number_norms(values: list) -> list[str]:
    """`_norm` of Python or numpy numbers (no booleans): whole ones by numpy at once."""
    import numpy as np
    if not values:
        return []
    f = np.array(values, dtype=float)
    finite = np.isfinite(f)
    safe = np.where(finite, f, 0)
    whole = finite & (safe % 1 == 0) & (np.abs(safe) < 2.0 ** 62)
    out = np.where(whole, safe, 0).astype(np.int64).astype(str).tolist()
    for i in np.flatnonzero(~whole).tolist():
        x = float(f[i])
        out[i] = repr(round(x, 9)) if finite[i] and x % 1 else _norm(values[i])
    return out


_HEX: Any = None


def _hex_table():
    """The 65,536 four-character digests, once."""
    global _HEX
    if _HEX is None:
        import numpy as np
        _HEX = np.array([f"{i:04x}" for i in range(1 << 16)], dtype="<U4")
    return _HEX


def digests(values: Sequence[Any]):
    """The four-character digest of each value of a column (numpy array of str): each
    distinct value normalised once (`_norm`), hashed by pandas."""
    return _hex_table()[_hashes(values)]


def _hashes(values: Sequence[Any]):
    """The digest of each value of a column as its number (0–65535, numpy uint16)."""
    import numpy as np
    import pandas as pd

    from ..objects import factorize_all
    if isinstance(values, pd.Series) and not isinstance(values.dtype, np.dtype) and \
            len(values) and isinstance(values.dtype, pd.StringDtype):
        # pandas' text column: its distinct values found without Python objects; a
        # missing value is a blank ("")
        codes, uniques = pd.factorize(values)
        norm = np.array([*_norms(np.asarray(uniques, dtype=object)), ""], dtype=object)
    else:
        if hasattr(values, "to_numpy"):  # a Series: numbers as they are, the rest as objects
            numbers = isinstance(values.dtype, np.dtype) and values.dtype.kind == "f"
            arr = values.to_numpy() if numbers else values.to_numpy(dtype=object)
        else:
            arr = np.asarray(values, dtype=object)
        if not len(arr):
            return np.zeros(0, dtype=np.uint16)
        if arr.dtype.kind == "f":  # numbers as numbers; blanks (NaN) all alike, as ""
            codes, uniques = pd.factorize(arr)
            norm = np.array([*_norms(uniques), ""], dtype=object)
        else:
            codes, uniques = factorize_all(arr, shared_only=True)
            norm = np.array(_norms(uniques), dtype=object)
    # the uniques are distinct: hashing them without categorising first gives the same
    hashed = (pd.util.hash_array(norm, categorize=False) & 0xFFFF).astype(np.uint16)
    return hashed[codes]


def check_columns(columns: Sequence[Sequence[Any]], n: int):
    """The check text of each of ``n`` rows (numpy array of str objects): the digests of
    ``columns`` (each with ``n`` values) side by side, `WIDTH` characters each."""
    return _side_by_side([_hashes(c) for c in columns], n)


_ROWS_AT_ONCE = 2048  # rows of checks built together: no large temporary array


def _side_by_side(hashes: list, n: int, at: Any = None, blank: int = 0):
    """Per row, the digests of ``hashes`` (one uint16 array per column) side by side, as
    an object array of str. ``at``: per row, the position in the arrays (-1: a row
    without a value, given ``blank``). Built a few thousand rows at a time, so that no
    temporary array is large (a large one freed makes the allocator keep later memory)."""
    import numpy as np
    out = np.empty(n, dtype=object)
    if not hashes:
        out[:] = ""
        return out
    table, k = _hex_table(), len(hashes)
    for start in range(0, n, _ROWS_AT_ONCE):
        stop = min(start + _ROWS_AT_ONCE, n)
        block = np.empty((stop - start, k), dtype=np.intp)
        where = None if at is None else at[start:stop]
        for j, h in enumerate(hashes):
            if where is None:
                block[:, j] = h[start:stop]
            else:
                block[:, j] = h[np.maximum(where, 0)] if len(h) else blank
                block[where < 0, j] = blank
        # a row's digests are contiguous: one string of WIDTH × columns characters
        out[start:stop] = table[block].view(f"<U{WIDTH * k}").reshape(stop - start).tolist()
    return out


def check_block(keys: Sequence[str], rows: Sequence[int],
                columns: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The grid written at `CHECK_COL` of the Reading sheet: a header (the title, then the
    output keys joined by "|"), then ``[sheet row, check]`` per row of ``rows``;
    ``columns``: each output column's values written on those rows, in the keys' order."""
    checks = check_columns(columns, len(rows))
    grid: list[list[Any]] = [[CHECK_TITLE, "|".join(keys)]]
    grid.extend(map(list, zip(rows, checks.tolist())))
    return grid


def check_header(keys: Sequence[str]) -> list[Any]:
    """The check's header row: its title, then the output keys joined by "|"."""
    return [CHECK_TITLE, "|".join(keys)]


def output_check(outputs: Any, row_numbers: Sequence[int]) -> list[list[Any]]:
    """`check_block` for a run's output columns (``outputs``: one row per account, index =
    data-row position) on every data row of the table (rows without an account blank)."""
    head, (rows, checks) = output_check_columns(outputs, row_numbers)
    return [*head, *map(list, zip(rows.tolist(), checks.tolist()))]


def output_check_columns(outputs: Any, row_numbers: Sequence[int]):
    """`output_check` as ``([header row], [sheet rows, checks])``: the header, then the
    two columns (numpy arrays: int64 sheet rows, str checks as objects)."""
    import numpy as np
    from .ownership import key_of
    positions = outputs.index.to_numpy()
    n = max(len(row_numbers), int(positions.max()) + 1 if len(positions) else 0)
    rows = np.asarray(list(row_numbers), dtype=np.int64)
    # accounts added under the table (from invoice lines) follow its last row
    last = int(rows[-1]) if len(rows) else 1
    rows = np.concatenate([rows, last + np.arange(1, n - len(rows) + 1, dtype=np.int64)])
    at = np.full(n, -1)
    at[positions] = np.arange(len(outputs))
    # each output column's digests per account, put on the rows (a row without one: blank)
    blank = int(_hashes(np.array([None], dtype=object))[0])
    hashes = [_hashes(outputs[name]) if len(outputs) else np.zeros(0, dtype=np.uint16)
              for name in outputs.columns]
    return [check_header([key_of(c) for c in outputs.columns])], \
        [rows, _side_by_side(hashes, n, at, blank)]


def read_check(grid: Sequence[Sequence[Any]]) -> tuple[list[str], dict[int, str]]:
    """``(keys, {sheet row: check})`` from the cells at `CHECK_COL` of the Reading sheet
    (``grid`` starts at that column, row 1); empty when there is no check."""
    if not grid or not grid[0] or grid[0][0] != CHECK_TITLE or len(grid[0]) < 2:
        return [], {}
    keys = str(grid[0][1] or "").split("|")
    out: dict[int, str] = {}
    for line in grid[1:]:
        if len(line) < 2 or line[0] in (None, "") or not isinstance(line[1], str):
            continue
        try:
            out[int(float(line[0]))] = line[1]
        except (TypeError, ValueError):
            continue
    return keys, out


def edited_cells(keys: Sequence[str], checks: dict[int, str],
                 current: dict[str, Sequence[Any]], rows: Sequence[int]) -> list[tuple[int, str]]:
    """``(sheet row, key)`` of each output cell whose value is not what the last run wrote.

    ``current``: output key → the column's values now, one per entry of ``rows`` (the
    sheet rows of the data rows)."""
    import numpy as np
    import pandas as pd
    out = []
    position = {k: i for i, k in enumerate(keys)}
    stored = pd.Series([checks.get(row, "") for row in rows], dtype=object).astype(str)
    rows_arr = np.asarray(list(rows))
    for key, values in current.items():
        at = position.get(key)
        if at is None:
            continue
        now = digests(values)
        lo, hi = at * WIDTH, (at + 1) * WIDTH
        then = stored.str.slice(lo, hi).to_numpy(dtype=object)
        known = stored.str.len().to_numpy() >= hi
        differ = known & (then != now.astype(object))
        out.extend((int(r), key) for r in rows_arr[differ])
    return sorted(out)
