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


def digests(values: Sequence[Any]):
    """The four-character digest of each value of a column (numpy array of str): each
    distinct value normalised once (`_norm`), hashed by pandas."""
    import numpy as np
    import pandas as pd
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype="<U4")
    if arr.dtype.kind == "f":  # blanks (NaN) all alike
        arr = np.where(np.isnan(arr), None, arr.astype(object))
    codes, uniques = pd.factorize(arr.astype(object), use_na_sentinel=False)
    norm = np.array([_norm(v) for v in uniques], dtype=object)
    hashed = (pd.util.hash_array(norm, categorize=True) & 0xFFFF).astype(np.uint16)
    return np.char.mod("%04x", hashed)[codes]


def check_block(keys: Sequence[str], rows: Sequence[int],
                columns: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The grid written at `CHECK_COL` of the Reading sheet: a header (the title, then the
    output keys joined by "|"), then ``[sheet row, check]`` per row of ``rows``;
    ``columns``: each output column's values written on those rows, in the keys' order."""
    import numpy as np
    checks = np.full(len(rows), "", dtype=object)
    for c in columns:
        checks = checks + digests(c).astype(object)
    grid: list[list[Any]] = [[CHECK_TITLE, "|".join(keys)]]
    grid.extend(map(list, zip(rows, checks.tolist())))
    return grid


def output_check(outputs: Any, row_numbers: Sequence[int]) -> list[list[Any]]:
    """`check_block` for a run's output columns (``outputs``: one row per account, index =
    data-row position) on every data row of the table (rows without an account blank)."""
    import numpy as np
    from .ownership import key_of
    positions = outputs.index.to_numpy()
    n = max(len(row_numbers), int(positions.max()) + 1 if len(positions) else 0)
    rows = list(row_numbers)
    # accounts added under the table (from invoice lines) follow its last row
    last = rows[-1] if rows else 1
    rows += [last + k for k in range(1, n - len(rows) + 1)]
    at = np.full(n, -1)
    at[positions] = np.arange(len(outputs))
    missing = at < 0
    columns = []
    for name in outputs.columns:
        values = outputs[name].to_numpy(dtype=object)
        taken = values[np.where(missing, 0, at)] if len(values) else np.full(n, None, dtype=object)
        if missing.any():
            taken = taken.copy()
            taken[missing] = None
        columns.append(taken)
    return check_block([key_of(c) for c in outputs.columns], rows, columns)

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
