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

from .fields import (MONEY, NUMERIC_TYPES, PERCENT, STATUS, STATUSES, Catalogue,
                     normalise)
from .numbers import Ambiguous, parse_number
from .problems import Problem, cell_ref
from .sources.headers import year_columns
from .sources.reading import ColumnUse, FieldCount, LeftOut, ReadingReport
from .sources.totals import total_rows

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
    formulas: list[tuple[int, int]] | None = None  # (row, column) of cells holding a formula
    owned: dict[int, str] = field(default_factory=dict)  # sheet column → Potentiel output key
    header_note: str = ""  # how the header row was found (for the reading report)
    column_map: dict[str, str] = field(default_factory=dict)  # field → header (Settings, rules)

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
    previous_label: pd.Series | None = None     # the Category label column before this run
    report: ReadingReport | None = None


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _extra_name(header: Any) -> str:
    import re
    import unicodedata
    s = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^0-9a-z]+", "_", s).strip("_") or "column"


def map_headers(raw: RawTable, catalogue: Catalogue, warnings: list[Problem],
                uses: list[ColumnUse] | None = None) -> tuple[
        dict[str, int], dict[str, int], dict[str, int]]:
    """field → column for the headers read; extras (unknown headers, kept for rules);
    Potentiel's own output columns (key → column), known by their markers only.

    Precedence: the column map (Settings ``Column: <field>``, a rule file's ``columns:``),
    then the field names and aliases, then revenue by year (``CA 2025`` …). ``uses``
    receives one `ColumnUse` per column, for the reading report.
    """
    uses = uses if uses is not None else []
    columns: dict[str, int] = {}
    extras: dict[str, int] = {}
    owned: dict[str, int] = {}
    notes: dict[int, str] = {}
    mapped = {normalise(h): f for f, h in raw.column_map.items()}
    owned_js = {j for j, c in enumerate(raw.col_numbers) if c in raw.owned}
    # the column map first, so that an alias column of the same field is not used
    for j, header in enumerate(raw.headers):
        if j in owned_js or _blank(header):
            continue
        name = mapped.get(normalise(header))
        if name is not None and name not in columns:
            columns[name] = j
            notes[j] = f'the column map reads {name} from "{str(header).strip()}"'
    years = year_columns(raw.headers, skip=owned_js | set(columns.values()))
    for j, header in enumerate(raw.headers):
        cell = raw.header_cell(j)
        text = "" if _blank(header) else str(header).strip()
        if j in owned_js:
            key = raw.owned[raw.col_numbers[j]]
            owned.setdefault(key, j)
            uses.append(ColumnUse(cell, text, None, "Potentiel's output column (written, not read)"))
            continue
        if _blank(header):
            if any(not _blank(r[j]) for r in raw.rows[:200] if j < len(r)):
                warnings.append(Problem("a column without a header is ignored; give it a header "
                                        "if Potentiel should read it", cell, kind="no-header"))
                uses.append(ColumnUse(cell, "", None, "no header"))
            continue
        if j in notes:
            uses.append(ColumnUse(cell, text, _field_of(columns, j), notes[j]))
            continue
        name = catalogue.match(header)
        if name is None and j in years:
            y = years[j]
            if y.field is None or y.field in columns:
                why = y.note if y.field is None else \
                    f"{y.field} is read from {raw.header_cell(columns[y.field])}"
                uses.append(ColumnUse(cell, text, None, why))
                warnings.append(Problem(f'column "{text}" is not used: {why}', cell,
                                        kind="column-not-used"))
                continue
            columns[y.field] = j
            uses.append(ColumnUse(cell, text, y.field, y.note))
            continue
        if name is None:
            extra = _extra_name(header)
            hint = _typo_of(catalogue, header)
            note = "not a field Potentiel knows"
            if hint:
                note += f" (did you mean {catalogue[hint].title}? say so in the column map)"
                warnings.append(Problem(
                    f'unknown column "{text}" (did you mean {catalogue[hint].title} / '
                    f'{hint}?); it is not used for scoring', cell, kind="unknown-column"))
            if extra in extras or extra in columns:
                uses.append(ColumnUse(cell, text, None, note + "; a second column of that name"))
                continue
            extras[extra] = j
            uses.append(ColumnUse(cell, text, None, note + f"; rules may read it as {extra}"))
            continue
        if name in columns:
            why = f"a second {name} column; {raw.header_cell(columns[name])} is used"
            warnings.append(Problem(f'column "{text}" is not used: {why}', cell,
                                    kind="column-not-used"))
            uses.append(ColumnUse(cell, text, None, why))
            continue
        columns[name] = j
        uses.append(ColumnUse(cell, text, name, ""))
    if "id" not in columns:
        warnings.append(Problem("no id column (Code client / Identifiant / id): accounts are "
                                "scored but duplicates cannot be checked",
                                f"{raw.sheet}!{raw.header_row}:{raw.header_row}"))
    return columns, extras, owned


def _field_of(columns: dict[str, int], j: int) -> str | None:
    return next((f for f, k in columns.items() if k == j), None)


def _typo_of(catalogue: Catalogue, header: Any) -> str | None:
    """A field the header is a misspelling of, or None. Only near-identical spellings: a
    longer header that merely contains a field's words (``Chiffre d'affaires société``, the
    client's own turnover) must never be proposed as that field."""
    key = normalise(header)
    hint = catalogue.suggest(header, cutoff=0.85)
    if hint is None:
        return None
    f = catalogue[hint]
    names = [normalise(k) for k in (f.name, f.label, *f.aliases) if k]
    if not any(abs(len(n) - len(key)) <= 2 for n in names):
        return None
    return hint


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
    uses: list[ColumnUse] = []
    columns, extras, owned = map_headers(raw, catalogue, warnings, uses)
    grid = _grid(raw)
    formulas = _formula_cells(raw, grid)
    index = pd.RangeIndex(len(grid), name="row")
    data: dict[str, Any] = {}
    for name, j in columns.items():
        data[name] = _coerce(grid[:, j], index, catalogue[name], raw, j, warnings,
                             formulas.get(j, ()))
    for name, j in extras.items():
        if name not in data:
            data[name] = _coerce_extra(grid[:, j], index)
    accounts = pd.DataFrame(data, index=index)
    keep = accounts.notna().any(axis=1).to_numpy(copy=True) if len(accounts.columns) else \
        np.zeros(len(index), dtype=bool)
    left_out: list[LeftOut] = []
    money = [n for n in columns if catalogue[n].type == MONEY]
    first = pd.Series(_texts(grid[keep, 0]), index=np.flatnonzero(keep)) if grid.shape[1] else None
    totals = total_rows(accounts[keep], first, money)
    for pos, why in totals.items():
        keep[pos] = False
        row = raw.row_numbers[pos]
        where = cell_ref(raw.sheet, row, raw.col_numbers[0])
        left_out.append(LeftOut(row, where, f"a total row, not an account: {why}"))
    if totals:
        rows = ", ".join(str(raw.row_numbers[p]) for p in list(totals)[:5])
        warnings.append(Problem(f"{len(totals)} total row(s) left out of scoring, Top 80 % and "
                                f"Summary (row {rows}); their output cells stay blank",
                                f"{raw.sheet}!{raw.row_numbers[next(iter(totals))]}:"
                                f"{raw.row_numbers[next(iter(totals))]}", kind="total-row"))
    accounts = accounts[keep]
    accounts.index = pd.Index(np.flatnonzero(keep), name="row")
    _check_ids(accounts, raw, columns, warnings)
    if "revenue" in accounts:
        neg = accounts.index[accounts["revenue"] < 0]
        for pos in neg:
            warnings.append(Problem(
                f"negative revenue ({accounts.at[pos, 'revenue']:,.0f}): it counts as 0 for "
                "ranking and penetration; check for credit notes", raw.cell(pos, columns["revenue"]),
                kind="negative-revenue", column=str(raw.headers[columns["revenue"]])))
    previous = label = None
    if "category" in owned:
        previous = pd.Series(grid[keep, owned["category"]], index=accounts.index, dtype=object)
    if "category_label" in owned:
        label = pd.Series(grid[keep, owned["category_label"]], index=accounts.index, dtype=object)
    report = ReadingReport(raw.sheet, raw.header_row, raw.header_note, uses, left_out,
                           _counts(raw, grid, keep, accounts, columns), _preview(accounts),
                           list(warnings))
    return Validated(accounts, columns, extras, warnings, previous, label, report)


def _counts(raw: RawTable, grid: np.ndarray, keep: np.ndarray, accounts: pd.DataFrame,
            columns: dict[str, int]) -> list[FieldCount]:
    """Per field: cells read, blank, unreadable (typed but not usable), first unreadable."""
    out = []
    kept = np.flatnonzero(keep)
    for name, j in columns.items():
        cells = grid[kept, j]
        blank = np.fromiter((_blank(v) for v in cells), dtype=bool, count=len(cells))
        missing = accounts[name].isna().to_numpy()
        bad = missing & ~blank
        first = [raw.cell(int(p), j) for p in kept[bad][:5]]
        out.append(FieldCount(name, str(raw.headers[j]).strip(), int((~missing).sum()),
                              int(blank.sum()), int(bad.sum()), first))
    return out


def _preview(accounts: pd.DataFrame, n: int = 5) -> list[dict[str, Any]]:
    rows = []
    for pos in accounts.index[:n]:
        row = {}
        for col in accounts.columns:
            v = accounts.at[pos, col]
            row[col] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        rows.append(row)
    return rows


def _formula_cells(raw: RawTable, grid: np.ndarray) -> dict[int, list[int]]:
    """column → rows holding a formula, as listed by the adapter (the cells themselves hold
    a `FormulaCell` with the formula's text)."""
    found: dict[int, list[int]] = {}
    for i, j in raw.formulas or ():
        found.setdefault(j, []).append(int(i))
    return found


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
