"""Validate and coerce: from the cells a person typed to typed account fields.

The front ends hand over a `RawTable`: the header row and the data rows as plain values,
with the sheet name and the row and column numbers of every cell, so that any message
names its cell (``Accounts!F12``). This module matches headers to fields, drops empty
rows, turns text into numbers where that is unambiguous, blanks what cannot be used (with
a warning naming the cell and what would fix it) and never changes the input itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .fields import (INTEGER, NUMERIC_TYPES, PERCENT, STATUS, STATUSES, Catalogue,
                     is_output_header, normalise)
from .numbers import Ambiguous, parse_number
from .problems import Problem, cell_ref

MAX_WARNINGS_PER_COLUMN = 20


class FormulaCell(str):
    """A cell holding a formula (its text). Its value is unknown without Excel."""


@dataclass
class RawTable:
    """A table as read from a sheet: values only, plus where each cell is."""

    headers: list[Any]
    rows: list[list[Any]]
    sheet: str = "Accounts"
    header_row: int = 1
    row_numbers: list[int] | None = None  # sheet row of each data row
    col_numbers: list[int] | None = None  # sheet column of each header

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


def _column(raw: RawTable, j: int) -> np.ndarray:
    return np.array([r[j] if j < len(r) else None for r in raw.rows], dtype=object)


def validate(raw: RawTable, catalogue: Catalogue) -> Validated:
    """Typed accounts from a raw table; never modifies ``raw``."""
    warnings: list[Problem] = []
    columns, extras, category_col = map_headers(raw, catalogue, warnings)
    used = sorted(set(columns.values()) | set(extras.values()))
    nonempty = [i for i, r in enumerate(raw.rows)
                if any(not _blank(r[j]) for j in used if j < len(r))]
    index = pd.Index(nonempty, name="row")
    data: dict[str, Any] = {}
    for name, j in columns.items():
        values = _column(raw, j)[nonempty] if nonempty else np.array([], dtype=object)
        data[name] = _coerce(values, index, catalogue[name], raw, j, warnings)
    for name, j in extras.items():
        if name in data:
            continue
        values = _column(raw, j)[nonempty] if nonempty else np.array([], dtype=object)
        data[name] = _coerce_extra(values, index)
    accounts = pd.DataFrame(data, index=index)
    _check_ids(accounts, raw, columns, warnings)
    if "revenue" in accounts:
        neg = accounts.index[accounts["revenue"] < 0]
        for pos in neg[:MAX_WARNINGS_PER_COLUMN]:
            warnings.append(Problem(
                f"negative revenue ({accounts.at[pos, 'revenue']:,.0f}): it counts as 0 for "
                "ranking and penetration; check for credit notes", raw.cell(pos, columns["revenue"])))
    previous = None
    if category_col is not None:
        prev = _column(raw, category_col)
        previous = pd.Series(prev[nonempty] if nonempty else [], index=index, dtype=object)
    return Validated(accounts, columns, extras, warnings, previous)


def _coerce(values: np.ndarray, index: pd.Index, f, raw: RawTable, j: int,
            warnings: list[Problem]) -> pd.Series:
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

    formula = np.array([isinstance(v, FormulaCell) for v in values], dtype=bool)
    for k in np.flatnonzero(formula):
        warn(index[k], f"holds a formula ({str(values[k])[:40]}); its value is unknown without "
                       "Excel, so it is left blank: recompute in Excel, or paste values")
    if formula.any():
        values = values.copy()
        values[formula] = None
    if kind in NUMERIC_TYPES:
        return _coerce_number(values, index, f, warn)
    out = np.array([None if _blank(v) else _text(v) for v in values], dtype=object)
    series = pd.Series(out, index=index, dtype=object)
    if kind == STATUS:
        series = _coerce_status(series, warn)
    return series


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


_STATUS_WORDS = {"client": "client", "clients": "client", "customer": "client", "customers": "client",
                 "clientactif": "client", "prospect": "prospect", "prospects": "prospect",
                 "lead": "prospect", "suspect": "suspect", "suspects": "suspect"}


def _coerce_status(series: pd.Series, warn) -> pd.Series:
    distinct = {v for v in series.dropna().unique()}
    mapping = {v: _STATUS_WORDS.get(normalise(v)) for v in distinct}
    out = series.map(lambda v: mapping.get(v) or v if v is not None else None)
    bad = [v for v, m in mapping.items() if m is None]
    for v in bad:
        pos = series.index[series == v][0]
        warn(pos, f'status "{v}" is not one of {", ".join(STATUSES)}; kept as typed')
    return out.astype(object)


def _coerce_number(values: np.ndarray, index: pd.Index, f, warn) -> pd.Series:
    # Fast path: real numbers go straight through; only text cells are parsed one by one.
    is_num = np.array([isinstance(v, (int, float)) and not isinstance(v, bool) for v in values],
                      dtype=bool)
    out = np.full(len(values), np.nan)
    if is_num.any():
        out[is_num] = values[is_num].astype(float)
    for k in np.flatnonzero(~is_num):
        v = values[k]
        if _blank(v):
            continue
        if isinstance(v, bool):
            warn(index[k], f"{v} is not a number; left blank")
            continue
        if hasattr(v, "year"):  # a date typed in a number column
            warn(index[k], f'"{v}" is a date, not a number ({f.title}); left blank')
            continue
        try:
            out[k] = parse_number(str(v), percent=f.type == PERCENT)
        except Ambiguous as exc:
            warn(index[k], f'"{v}" {exc}; type it without thousands separator, e.g. 1200 or 1,2')
        except ValueError:
            warn(index[k], f'"{v}" is not a number ({f.title}); left blank: type a number or leave '
                           "the cell empty")
    bad = ~np.isfinite(out) & ~np.isnan(out)
    for k in np.flatnonzero(bad):
        warn(index[k], f"{values[k]} is not a usable number ({f.title}); left blank")
        out[k] = np.nan
    if f.min is not None or f.max is not None:
        lo = -np.inf if f.min is None else f.min
        hi = np.inf if f.max is None else f.max
        outside = (out < lo) | (out > hi)
        for k in np.flatnonzero(outside):
            rng = f"{f.min:g}–{f.max:g}" if f.min is not None and f.max is not None else (
                f"at least {f.min:g}" if f.min is not None else f"at most {f.max:g}")
            warn(index[k], f"{out[k]:g} is outside {rng} ({f.title}); left blank")
        out[outside] = np.nan
    if f.type == INTEGER:
        pass  # a fractional headcount is kept: an average is still meaningful
    return pd.Series(out, index=index, dtype=float)


def _coerce_extra(values: np.ndarray, index: pd.Index) -> pd.Series:
    """Unknown columns: numbers stay numbers, the rest is text (rules may read them)."""
    is_num = np.array([isinstance(v, (int, float)) and not isinstance(v, bool) for v in values],
                      dtype=bool)
    blank = np.array([_blank(v) for v in values], dtype=bool)
    if len(values) and (is_num | blank).all():
        out = np.full(len(values), np.nan)
        out[is_num] = values[is_num].astype(float)
        return pd.Series(out, index=index, dtype=float)
    return pd.Series([None if b else _text(v) for v, b in zip(values, blank)], index=index,
                     dtype=object)


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
