"""Cell values between Potentiel and xlwings, prepared in bulk: what comes in, what goes out.

xlwings' converter pipeline cleans every cell it reads and prepares every cell it writes
with a Python call per cell; on a 10,000-account workbook that is most of a recompute.
`potentiel.excel` reads and writes raw values instead (``Range.raw_value``) and this
module does the converter's work on whole grids and columns:

- `clean_payload_rows`: cells of an xlwings Server payload as ``Range.value`` would read
  them with ``err_to_str=True`` (blank text is None, ISO date-time text is a datetime),
  and an Excel error text as an `ErrorCell`, as the headless reader gives it;
- `prepare_cell`, `prepare_column`, `output_blocks`: values to write as the converter would
  send them to xlwings' VBA or Office.js client (numbers, text, booleans, "" for a blank,
  a date as ISO text, which the client parses back into a date), with text from data
  neutralised (`neutralise_text`) so Excel never runs it as a formula.

Plain lists, numpy and pandas only: `potentiel.excel` is the one module that imports xlwings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from itertools import chain, compress, repeat
from operator import is_
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .safety import FORMULA_STARTS, neutralise_text
from .validate import CELL_ERRORS, ErrorCell

# The error values xlwings' remote engine knows (``_xlremote._clean_value_data_element``
# reads them as blanks unless ``err_to_str``); the clients send every error as its text,
# newer ones too (#SPILL!, #CALC!), and all of `CELL_ERRORS` are kept as `ErrorCell`s:
# the value is unknown, and `validate` names the cell.
ERROR_TEXTS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
                         "#DATA!"})
# xlwings' own pattern for the ISO date-times its clients send (``_xlremote.datetime_regex``).
_ISO_DATETIME = re.compile(
    r"^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9])"
    r":([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?$")


# --------------------------------------------------------------------------- reading


def clean_payload_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows of payload cells (text, numbers, booleans, None) as xlwings' remote engine reads
    them through ``Range.options(err_to_str=True).value``: "" becomes None, an ISO
    date-time text (``2024-01-05T00:00:00.000Z``) a naive datetime, an error text
    (``#N/A``, one of `CELL_ERRORS`) an `ErrorCell`, the rest is kept as is.

    Each distinct text is examined once; the cells are then mapped in one C-level pass.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    distinct = list(set(chain.from_iterable(rows)))  # payload cells are all hashable
    fix: dict[Any, Any] = dict.fromkeys({""}.intersection(distinct))
    fix.update((e, ErrorCell(e)) for e in CELL_ERRORS.intersection(distinct))
    for text in compress(distinct, map(is_, map(type, distinct), repeat(str))):
        if ":" in text and _ISO_DATETIME.match(text):
            # as xlwings does: drop the final "Z" (Excel has no time zones)
            fix[text] = dt.datetime.fromisoformat(text[:-1])
    if not fix:
        return list(map(list, rows))
    get = fix.get  # keys are texts only: no number or boolean ever equals one
    return [list(map(get, r, r)) for r in rows]


def mark_errors(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows read from a live book with ``err_to_str=True``: each error text (``#N/A``)
    becomes an `ErrorCell`, as the remote and the headless readers give it."""
    distinct = set(chain.from_iterable(rows)) if rows else set()
    try:
        errors = CELL_ERRORS.intersection(distinct)
    except TypeError:  # an unhashable value: none is an error text
        errors = set()
    if not errors:
        return rows
    fix = {e: ErrorCell(e) for e in errors}
    return [[fix.get(v, v) if type(v) is str else v for v in r] for r in rows]


# --------------------------------------------------------------------------- writing


MAX_TEXT = 32767  # characters Excel holds in one cell (the headless writer cuts there too)


def _text(t: str) -> str:
    return neutralise_text(t[:MAX_TEXT])


def _texts_sent(texts: Iterable[str]) -> list[str]:
    """`_text` of each text, called only for those it changes (a formula start, too long)."""
    return [_text(t) if t.startswith(FORMULA_STARTS) or len(t) > MAX_TEXT else t
            for t in texts]


def _plain(v: Any) -> Any:
    """A value xlwings writes as a value: numbers, text (neutralised), booleans, dates."""
    if v is None:
        return None
    if isinstance(v, str):
        return _text(v)
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, (list, tuple)):  # numpy scalar
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, (int, dt.datetime, dt.date)):
        return v
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return _text(str(v))


def _as_sent(x: Any) -> Any:
    """What xlwings' remote engine sends for a `_plain` value
    (``_xlremote.Engine.prepare_xl_data_element``): "" for a blank, a date as ISO text."""
    if x is None or pd.isna(x):
        return ""
    if isinstance(x, dt.datetime):
        if x.time() == dt.time(0, 0):
            return x.date().isoformat()
        return x.replace(tzinfo=None).isoformat(sep=" ").split(".")[0]
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


def prepare_cell(v: Any, dates_as_text: bool = True) -> Any:
    """One value to write. ``dates_as_text`` for xlwings' remote clients, which take dates
    as ISO text; a live book (COM, AppleScript) gets the datetime and xlwings' converter."""
    v = _plain(v)
    return _as_sent(v) if dates_as_text else v


def prepare_rows(values: Sequence[Sequence[Any]], dates_as_text: bool = True
                 ) -> list[list[Any]]:
    """A small grid (a report block, a status cell) cell by cell, rows padded to one width."""
    width = max((len(r) for r in values), default=0)
    blank = "" if dates_as_text else None
    return [[prepare_cell(v, dates_as_text) for v in r] + [blank] * (width - len(r))
            for r in values]


def prepare_column(values: Any, dates_as_text: bool = True) -> np.ndarray:
    """A whole column as `prepare_cell` would prepare each value (a blank is ""), as an
    object array of plain Python values; numbers and texts without a Python call per cell."""
    if isinstance(values, pd.Series):
        numeric = isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf"
        # anything else as pandas' objects (a datetime64[ns] array would give integers)
        values = values.to_numpy() if numeric else values.to_numpy(dtype=object)
    values = np.asarray(values)
    kind = values.dtype.kind
    if kind in "biu":  # booleans and integers never are blank
        return values.astype(object)
    if kind == "f":
        out = values.astype(object)  # Python floats
        out[~np.isfinite(values)] = ""
        return out
    values = values.astype(object, copy=False)
    out = np.empty(len(values), dtype=object)
    if not len(values):
        return out
    # Output texts repeat (categories, flags, reasons): each distinct one is prepared once.
    # Only when all are texts: factorize takes 1, 1.0 and True for one value.
    try:
        codes, distinct = pd.factorize(values)  # blanks (None, NaN, NA, NaT) are code -1
    except TypeError:  # an unhashable value (a list): cell by cell below
        distinct = [None]
    if all(type(v) is str for v in distinct):
        return np.array([*_texts_sent(distinct), ""], dtype=object)[codes]
    if _distinct_safe(values):  # each distinct value prepared once
        return np.array([*(prepare_cell(v, dates_as_text) for v in distinct), ""],
                        dtype=object)[codes]
    is_text = np.fromiter(map(is_, map(type, values), repeat(str)), dtype=bool,
                          count=len(values))
    blank = np.asarray(pd.isna(values), dtype=bool) & ~is_text
    out[blank] = ""
    if is_text.any():
        texts = values[is_text]
        out[is_text] = texts
        risky = np.fromiter((t.startswith(FORMULA_STARTS) or len(t) > MAX_TEXT for t in texts),
                            dtype=bool, count=len(texts))
        if risky.any():
            where = np.flatnonzero(is_text)[risky]
            out[where] = [_text(t) for t in texts[risky]]
    rest = np.flatnonzero(~(is_text | blank))  # numbers, booleans, dates held as objects
    if len(rest):
        out[rest] = [prepare_cell(v, dates_as_text) for v in values[rest]]
    return out


_SAFE_TYPES = frozenset({str, float, int, bool, dt.datetime, dt.date, np.float64, np.int64,
                         np.bool_})
_NUMBERS = frozenset({float, int, bool, np.float64, np.int64, np.bool_})


def _distinct_safe(values: Any) -> bool:
    """Whether values that factorize takes for one are always the same value to write:
    ``values`` hold known types only, and at most one kind of number (1, 1.0 and True
    are one key to factorize). A date never equals a datetime."""
    kinds = set(map(type, values))
    return kinds <= _SAFE_TYPES and len(kinds & _NUMBERS) <= 1


def prepare_block(values: Sequence[Sequence[Any]], dates_as_text: bool = True
                  ) -> list[list[Any]]:
    """`prepare_rows` for a block of any size: a small one cell by cell, a large one a
    column at a time (`prepare_column`); a block held as columns (`potentiel.report.Rows`)
    from its columns, never as rows of Python cells first."""
    from .report import Rows
    if not dates_as_text:  # a live book: its converter takes None for a blank
        return prepare_rows(list(values), dates_as_text)
    if isinstance(values, Rows):
        head, columns = values.head, list(values.columns)
    else:
        width = max((len(r) for r in values), default=0)
        if len(values) * width <= 2_000:
            return prepare_rows(values, dates_as_text)
        head = []
        padded = [r if len(r) == width else [*r, *[None] * (width - len(r))] for r in values]
        columns = [np.array(c, dtype=object) for c in zip(*padded)] if padded else []
    width = max([len(columns), *(len(r) for r in head)])
    blank = ""
    out = [[*(prepare_cell(v, dates_as_text) for v in r), *[blank] * (width - len(r))]
           for r in head]
    if columns and len(columns[0]):
        prepared = [prepare_column(c, dates_as_text) for c in columns]
        prepared += [np.full(len(columns[0]), blank, dtype=object)] * (width - len(columns))
        out.extend(np.column_stack(prepared).tolist())  # rows, without a Python loop
    return out


# xlwings' converter writes more cells than this in row chunks (its engines'
# ``max_cells_per_write``, ``base_classes.DEFAULT_MAX_CELLS_PER_WRITE``): each setValues
# the client receives stays a size it can apply (Excel on the web limits a request).
MAX_CELLS_PER_WRITE = 100_000


def row_chunks(n_rows: int, n_cols: int, budget: int | None = MAX_CELLS_PER_WRITE
               ) -> list[tuple[int, int]]:
    """``(start, stop)`` row slices of a block, as xlwings' converter splits a write: the
    whole block when it fits the cell budget, else ``budget // n_cols`` rows at a time."""
    if budget is None or n_rows * n_cols <= budget:
        return [(0, n_rows)]
    step = max(1, budget // n_cols)
    return [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def column_runs(columns: Iterable[int]) -> list[list[int]]:
    """Consecutive column numbers grouped: [3, 4, 5, 9] → [[3, 4, 5], [9]]."""
    runs: list[list[int]] = []
    for c in sorted(columns):
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def output_blocks(outputs: pd.DataFrame, columns: dict[str, int], n_rows: int,
                  dates_as_text: bool = True, headers: dict[str, str] | None = None
                  ) -> list[tuple[int, list[list[Any]]]]:
    """The output columns as ``(first column, rows)`` blocks, one per contiguous run of
    sheet columns: the header, then ``n_rows`` data rows, where the value of the account at
    data-row position ``p`` (the index of ``outputs``) is on row ``p + 1``; rows without an
    account are blank."""
    positions = np.asarray(outputs.index, dtype=np.int64)
    keep = (positions >= 0) & (positions < n_rows)
    rows_at, all_kept = positions[keep] + 1, bool(keep.all())
    by_col = {col: name for name, col in columns.items()}
    blocks = []
    for run in column_runs(by_col):
        grid = np.full((n_rows + 1, len(run)), "", dtype=object)
        for j, col in enumerate(run):
            name = by_col[col]
            grid[0, j] = prepare_cell((headers or {}).get(name, name), dates_as_text)
            column = outputs[name]
            grid[rows_at, j] = prepare_column(column if all_kept else column[keep],
                                              dates_as_text)
        blocks.append((run[0], grid.tolist()))
    return blocks
