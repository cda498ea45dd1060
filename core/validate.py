"""Validate and coerce: from the cells a person typed to typed account fields.

The front ends hand over a `RawTable`: the header row and the data rows as plain values,
with the sheet name and the row and column numbers of every cell, so that any message
names its cell (``Accounts!F12``). This module matches headers to fields, drops empty
rows, turns text into numbers where that is unambiguous, blanks what cannot be used (with
a warning naming the cell and what would fix it) and never changes the input itself.
Cells are first taken as Excel shows them (`_as_shown`): a formula with no saved value is
unknown, and in a percent field a number formatted as a percentage is a share (0.117
shown as 11.7 % is 11.7).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .fields import (NUMERIC_TYPES, PERCENT, STATUS, STATUSES, Catalogue,
                     is_output_header, normalise)
from .numbers import Ambiguous, parse_number
from .problems import Problem, cell_ref

MAX_WARNINGS_PER_COLUMN = 20


class FormulaCell(str):
    """A cell holding a formula (its text) whose value Excel did not save: unknown."""


@dataclass
class RawTable:
    """A table as read from a sheet: values only, plus where each cell is."""

    headers: list[Any]
    rows: list[list[Any]]
    sheet: str = "Accounts"
    header_row: int = 1
    row_numbers: list[int] | None = None  # sheet row of each data row
    col_numbers: list[int] | None = None  # sheet column of each header
    # (row, column) of the cells holding a formula with no saved value (a `FormulaCell`);
    # a formula whose value Excel saved is handed over as that value
    formulas: list[tuple[int, int]] | None = None
    # How numbers are shown, as far as the front end can see number formats: (row, column)
    # of the number cells formatted as a percentage (0.117 shown as 11.7 %), and the
    # columns whose formats it could not see (xlwings remote: all of them)
    percent_cells: Collection[tuple[int, int]] = ()
    unknown_formats: Collection[int] = ()

    def __post_init__(self) -> None:
        if self.row_numbers is None:
            self.row_numbers = list(range(self.header_row + 1, self.header_row + 1 + len(self.rows)))
        if self.col_numbers is None:
            self.col_numbers = list(range(1, len(self.headers) + 1))

    def cell(self, pos: int, col: int) -> str:
        return cell_ref(self.sheet, self.row_numbers[pos], self.col_numbers[col])

    def header_cell(self, col: int) -> str:
        return cell_ref(self.sheet, self.header_row, self.col_numbers[col])


@dataclass
class Validated:
    """Typed accounts (canonical field names as columns, index = data-row position)."""

    accounts: pd.DataFrame
    columns: dict[str, int]  # field → column position in the RawTable
    extras: dict[str, int] = field(default_factory=dict)  # unknown headers kept for rules
    warnings: list[Problem] = field(default_factory=list)
    previous_category: pd.Series | None = None  # the Category column before this run


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _extra_name(header: Any) -> str:
    import re
    import unicodedata
    s = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^0-9a-z]+", "_", s).strip("_") or "column"


def map_headers(raw: RawTable, catalogue: Catalogue, warnings: list[Problem]) -> tuple[
        dict[str, int], dict[str, int], int | None]:
    """field → column for known headers; extras for the rest; the Category output column."""
    columns: dict[str, int] = {}
    extras: dict[str, int] = {}
    category_col = None
    for j, header in enumerate(raw.headers):
        if _blank(header):
            if any(not _blank(r[j]) for r in raw.rows[:200] if j < len(r)):
                warnings.append(Problem("a column without a header is ignored; give it a header "
                                        "if Potentiel should read it", raw.header_cell(j)))
            continue
        if is_output_header(header):
            if str(header).strip() == "Category":
                category_col = j
            continue
        name = catalogue.match(header)
        if name is None:
            hint = catalogue.suggest(header)
            if hint:
                warnings.append(Problem(
                    f'unknown column "{header}" (did you mean {catalogue[hint].title} / '
                    f'{hint}?); it is not used for scoring', raw.header_cell(j)))
            extras.setdefault(_extra_name(header), j)
            continue
        if name in columns:
            warnings.append(Problem(
                f'column "{header}" is a second {name} column; the first one '
                f'({raw.header_cell(columns[name])}) is used', raw.header_cell(j)))
            continue
        columns[name] = j
    if "id" not in columns:
        warnings.append(Problem("no id column (Code client / Identifiant / id): accounts are "
                                "scored but duplicates cannot be checked",
                                f"{raw.sheet}!{raw.header_row}:{raw.header_row}"))
    return columns, extras, category_col


def _grid(raw: RawTable) -> np.ndarray:
    """The data rows as one 2-D object array (short rows padded with blanks)."""
    m = len(raw.headers)
    rows = raw.rows
    if any(len(r) != m for r in rows):
        rows = [list(r[:m]) + [None] * (m - len(r)) for r in rows]
    grid = np.empty((len(rows), m), dtype=object)
    if rows and m:
        grid[:] = rows
    return grid


def validate(raw: RawTable, catalogue: Catalogue) -> Validated:
    """Typed accounts from a raw table; never modifies ``raw``.

    Column at a time: numbers convert in one step when the column holds only numbers and
    blanks; only text cells in a number column are parsed one by one, and text columns are
    cleaned once per distinct value.
    """
    warnings: list[Problem] = []
    columns, extras, category_col = map_headers(raw, catalogue, warnings)
    grid = _grid(raw)
    _as_shown(raw, grid, columns, catalogue, warnings)
    index = pd.RangeIndex(len(grid), name="row")
    data: dict[str, Any] = {}
    for name, j in columns.items():
        data[name] = _coerce(grid[:, j], index, catalogue[name], raw, j, warnings)
    for name, j in extras.items():
        if name not in data:
            data[name] = _coerce_extra(grid[:, j], index)
    accounts = pd.DataFrame(data, index=index)
    keep = accounts.notna().any(axis=1).to_numpy() if len(accounts.columns) else \
        np.zeros(len(index), dtype=bool)
    accounts = accounts[keep]
    accounts.index = pd.Index(np.flatnonzero(keep), name="row")
    _check_ids(accounts, raw, columns, warnings)
    if "revenue" in accounts:
        neg = accounts.index[accounts["revenue"] < 0]
        for pos in neg[:MAX_WARNINGS_PER_COLUMN]:
            warnings.append(Problem(
                f"negative revenue ({accounts.at[pos, 'revenue']:,.0f}): it counts as 0 for "
                "ranking and penetration; check for credit notes", raw.cell(pos, columns["revenue"])))
    previous = None
    if category_col is not None:
        previous = pd.Series(grid[keep, category_col], index=accounts.index, dtype=object)
    return Validated(accounts, columns, extras, warnings, previous)


def _as_shown(raw: RawTable, grid: np.ndarray, columns: dict[str, int], catalogue: Catalogue,
              warnings: list[Problem]) -> None:
    """The cells of ``grid`` (a copy of ``raw.rows``) as Excel shows them, in place.

    A formula with no saved value is blank, said once per column. In a percent field, a
    number shown as a percentage is a share: 0.117 shown as 11.7 % is 11.7 (percent
    points). Where the front end could not see number formats (`RawTable.unknown_formats`)
    a percent column whose numbers all lie within -1..1, not all whole, is taken as
    shares too, and said as a guess; any other is read as typed."""
    by_col: dict[int, list[int]] = {}
    for i, j in raw.formulas or ():
        by_col.setdefault(j, []).append(int(i))
    for j, rows in by_col.items():
        rows = sorted(rows)
        for i in rows:
            grid[i, j] = None
        n = len(rows)
        first = raw.rows[rows[0]][j]
        text = str(first)[:40] if isinstance(first, FormulaCell) else ""
        cells = ", ".join(_address(raw, i, j) + (f" {text}" if k == 0 and text else "")
                          for k, i in enumerate(rows[:3])) + (", …" if n > 3 else "")
        warnings.append(Problem(
            f"{n} formula{'s have' if n > 1 else ' has'} no saved value ({cells}); left "
            "blank: open and save the file in Excel, or paste the values",
            _column_ref(raw, j), kind="formula-no-value", column=str(raw.headers[j])))
    percent = {j for name, j in columns.items() if catalogue[name].type == PERCENT}
    if not percent:
        return
    for i, j in raw.percent_cells or ():
        if j in percent and i < len(grid) and _is_number(grid[i, j]):
            grid[i, j] = _shift(grid[i, j])
    for j in sorted(percent & set(raw.unknown_formats or ())):
        _guess_percent(raw, grid, j, warnings)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and \
        not isinstance(v, (bool, np.bool_)) and math.isfinite(v)


def _shift(v: Any) -> float:
    """A share as percent points, exact to the digits the cell holds (0.117 → 11.7)."""
    return float(Decimal(repr(float(v))).scaleb(2))


def _address(raw: RawTable, i: int, j: int) -> str:
    return raw.cell(i, j).rpartition("!")[2]


def _column_ref(raw: RawTable, j: int) -> str:
    """``Accounts!K``: a column of the sheet, for a message about several of its cells."""
    return raw.header_cell(j).rstrip("0123456789")


def _guess_percent(raw: RawTable, grid: np.ndarray, j: int, warnings: list[Problem]) -> None:
    """A percent column whose number formats are unknown (see `_as_shown`)."""
    rows = [i for i in range(len(grid)) if _is_number(grid[i, j])]
    if not rows:
        return
    values = [float(grid[i, j]) for i in rows]
    if any(not -1 <= v <= 1 for v in values) or all(v.is_integer() for v in values):
        return
    for i in rows:
        grid[i, j] = _shift(grid[i, j])
    header = str(raw.headers[j])
    first = ", ".join(f"{_address(raw, i, j)} {values[k]:g} → {_shift(values[k]):g} %"
                      for k, i in enumerate(rows[:2]))
    warnings.append(Problem(
        f"guessed: every number of {header} lies between -1 and 1, so they are read as "
        f"percentages, as Excel shows them when formatted % ({first}); Excel on the web does "
        "not send number formats: if they are plain numbers (0.5 meaning 0.5 %), recompute "
        "in desktop Excel or with potentiel score, which read the formats",
        _column_ref(raw, j), kind="percent-guess", column=header))


def _coerce(values: np.ndarray, index: pd.Index, f, raw: RawTable, j: int,
            warnings: list[Problem], formula_rows=()) -> pd.Series:
    kind = f.type
    said = 0

    def warn(pos: int, msg: str) -> None:
        nonlocal said
        said += 1
        if said <= MAX_WARNINGS_PER_COLUMN:
            warnings.append(Problem(msg, raw.cell(pos, j)))
        elif said == MAX_WARNINGS_PER_COLUMN + 1:
            warnings.append(Problem(f"more cells like these in column {f.title}; "
                                    "only the first ones are listed", raw.header_cell(j)))

    if len(formula_rows):
        values = values.copy()
        for k in formula_rows:
            warn(index[k], f"holds a formula ({str(values[k])[:40]}); its value is unknown "
                           "without Excel, so it is left blank: recompute in Excel, or paste values")
            values[k] = None
    if kind in NUMERIC_TYPES:
        return _coerce_number(values, index, f, warn)
    series = pd.Series(_texts(values), index=index, dtype=object)
    if kind == STATUS:
        series = _coerce_status(series, warn)
    return series


def _text(v: Any) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() or None


def _texts(values: np.ndarray) -> np.ndarray:
    """Cleaned text per cell (None for blanks), computed once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    cleaned = np.empty(len(uniques) + 1, dtype=object)
    types = pd.Series(uniques, dtype=object).map(type).to_numpy()
    is_str = types == str
    if is_str.any():
        stripped = pd.Series(uniques[is_str], dtype=object).str.strip().to_numpy(dtype=object, copy=True)
        stripped[stripped == ""] = None
        cleaned[:-1][is_str] = stripped
    others = np.flatnonzero(~is_str)
    cleaned[:-1][others] = [_text(uniques[k]) for k in others]
    cleaned[-1] = None  # code -1: a blank cell
    return cleaned[codes]


_STATUS_WORDS = {"client": "client", "clients": "client", "customer": "client", "customers": "client",
                 "clientactif": "client", "prospect": "prospect", "prospects": "prospect",
                 "lead": "prospect", "suspect": "suspect", "suspects": "suspect"}


def _coerce_status(series: pd.Series, warn) -> pd.Series:
    distinct = list(series.dropna().unique())
    mapping = {v: _STATUS_WORDS.get(normalise(v)) or v for v in distinct}
    for v in distinct:
        if _STATUS_WORDS.get(normalise(v)) is None:
            pos = series.index[(series == v).to_numpy()][0]
            warn(pos, f'status "{v}" is not one of {", ".join(STATUSES)}; kept as typed')
    return series.map(mapping).astype(object).where(series.notna(), None)


def _as_floats(values: np.ndarray) -> np.ndarray | None:
    """The column as floats in one step, or None when it holds anything but numbers."""
    try:
        return pd.Series(values, dtype=object).astype("float64").to_numpy(copy=True)
    except (TypeError, ValueError):
        return None


def _coerce_number(values: np.ndarray, index: pd.Index, f, warn) -> pd.Series:
    out = _as_floats(values)
    if out is None:
        # Some cells are text (or dates, or booleans): numbers go through as they are, the
        # others are read one by one, as people type them.
        types = pd.Series(values, dtype=object).map(type).to_numpy()
        is_num = (types == float) | (types == int)
        out = np.full(len(values), np.nan)
        if is_num.any():
            out[is_num] = values[is_num].astype(float)
        for k in np.flatnonzero(~is_num):
            v = values[k]
            if _blank(v):
                continue
            if isinstance(v, (bool, np.bool_)):
                warn(index[k], f"{v} is not a number ({f.title}); left blank")
                continue
            if hasattr(v, "year"):
                warn(index[k], f'"{v}" is a date, not a number ({f.title}); left blank')
                continue
            if not isinstance(v, str) and isinstance(v, (np.integer, np.floating)):
                out[k] = float(v)
                continue
            try:
                out[k] = parse_number(str(v), percent=f.type == PERCENT)
            except Ambiguous as exc:
                warn(index[k], f'"{v}" {exc}; type it without thousands separator, e.g. 1200 '
                               "or 1,2")
            except ValueError:
                warn(index[k], f'"{v}" is not a number ({f.title}); left blank: type a number '
                               "or leave the cell empty")
    bad = np.isinf(out)
    for k in np.flatnonzero(bad):
        warn(index[k], f"{values[k]} is not a usable number ({f.title}); left blank")
    out[bad] = np.nan
    if f.min is not None or f.max is not None:
        lo = -np.inf if f.min is None else f.min
        hi = np.inf if f.max is None else f.max
        outside = (out < lo) | (out > hi)
        for k in np.flatnonzero(outside)[:MAX_WARNINGS_PER_COLUMN + 1]:
            rng = f"{f.min:g}–{f.max:g}" if f.min is not None and f.max is not None else (
                f"at least {f.min:g}" if f.min is not None else f"at most {f.max:g}")
            warn(index[k], f"{out[k]:g} is outside {rng} ({f.title}); left blank")
        out[outside] = np.nan
    # a fractional headcount (an average) is kept: it is still meaningful
    return pd.Series(out, index=index, dtype=float)


def _coerce_extra(values: np.ndarray, index: pd.Index) -> pd.Series:
    """Unknown columns: numbers stay numbers, the rest is text (rules may read them)."""
    out = _as_floats(values)
    if out is not None:
        return pd.Series(out, index=index, dtype=float)
    return pd.Series(_texts(values), index=index, dtype=object)


def _check_ids(accounts: pd.DataFrame, raw: RawTable, columns: dict[str, int],
               warnings: list[Problem]) -> None:
    if "id" not in accounts:
        return
    j = columns["id"]
    ids = accounts["id"]
    missing = ids.index[ids.isna()]
    for pos in missing[:MAX_WARNINGS_PER_COLUMN]:
        warnings.append(Problem("account without an id; it is scored, but give it an id so "
                                "results can be traced", raw.cell(pos, j)))
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    for value, group in list(dup.groupby(dup, sort=False))[:MAX_WARNINGS_PER_COLUMN]:
        cells = [raw.cell(p, j) for p in group.index]
        warnings.append(Problem(f'id "{value}" appears {len(cells)} times ({", ".join(cells[:5])}); '
                                "all rows are scored; make ids unique", cells[0]))
