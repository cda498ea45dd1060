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
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .fields import (INTEGER, MONEY, NUMERIC_TYPES, PERCENT, STATUS, STATUSES, Catalogue,
                     normalise)
from .numbers import (NOT_AVAILABLE, NOTE_BAND, NOTE_BY_RANGE, NOTE_DASH_ZERO, NOTE_NOT_AVAILABLE,
                      NOTE_OPEN_BAND, NOTE_TTC, Ambiguous, Reading, marker_key,
                      read_number)
from .i18n import _, ngettext
from .objects import factorize, identities, is_none, isna
from .problems import Problem, cell_ref
from .sources.headers import year_columns
from .sources.reading import ColumnUse, FieldCount, LeftOut, ReadingReport
from .sources.totals import is_total_label, total_rows

# The error values Excel shows in a cell (a formula that failed, or one pasted as values).
CELL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                         "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                         "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!",
                         "#DATA!"})


class FormulaCell(str):
    """A cell holding a formula (its text) whose value Excel did not save: unknown."""


class ErrorCell(str):
    """A cell holding an Excel error value (its text, one of `CELL_ERRORS`: ``"#N/A"``).

    Both front ends hand error cells over as this (the headless reader from the sheet's
    XML, the xlwings one from the error text Excel sends); `validate` blanks each one and
    names its cell. A plain text equal to an error (a CSV export) is read the same way.
    """


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
    owned: dict[int, str] = field(default_factory=dict)  # sheet column → Potentiel output key
    header_note: str = ""  # how the header row was found (for the reading report)
    column_map: dict[str, str] = field(default_factory=dict)  # field → header (Settings, rules)
    # what the last run wrote in Potentiel's columns: (output keys, {sheet row: check}),
    # read back from its Reading sheet (see potentiel.sources.fingerprint)
    check: tuple[list[str], dict[int, str]] | None = None

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
            notes[j] = _('the column map reads {field} from "{header}"').format(
                field=name, header=str(header).strip())
    years = year_columns(raw.headers, skip=owned_js | set(columns.values()))
    for j, header in enumerate(raw.headers):
        cell = raw.header_cell(j)
        text = "" if _blank(header) else str(header).strip()
        if j in owned_js:
            key = raw.owned[raw.col_numbers[j]]
            owned.setdefault(key, j)
            uses.append(ColumnUse(cell, text, None, _("Potentiel's output column (written, not read)")))
            continue
        if _blank(header):
            if any(not _blank(r[j]) for r in raw.rows[:200] if j < len(r)):
                warnings.append(Problem(_("a column without a header is ignored; give it a "
                                          "header if Potentiel should read it"), cell,
                                        kind="no-header"))
                uses.append(ColumnUse(cell, "", None, _("no header")))
            continue
        if j in notes:
            uses.append(ColumnUse(cell, text, _field_of(columns, j), notes[j]))
            continue
        name = catalogue.match(header)
        if name is None and j in years:
            y = years[j]
            if y.field is None or y.field in columns:
                why = y.note if y.field is None else \
                    _("{field} is read from {cell}").format(
                        field=y.field, cell=raw.header_cell(columns[y.field]))
                uses.append(ColumnUse(cell, text, None, why))
                warnings.append(Problem(_('column "{header}" is not used: {why}').format(
                    header=text, why=why), cell, kind="column-not-used"))
                continue
            columns[y.field] = j
            uses.append(ColumnUse(cell, text, y.field, y.note))
            continue
        if name is None:
            extra = _extra_name(header)
            hint = _typo_of(catalogue, header)
            note = _("not a field Potentiel knows")
            if is_total_label(header):
                hint, note = None, _("a total column (the sum of others), not an account field")
            if hint:
                note += _(" (did you mean {field}? say so in the column map)").format(
                    field=catalogue[hint].title)
                warnings.append(Problem(
                    _('unknown column "{header}" (did you mean {field} / {name}?); it is not '
                      'used for scoring').format(header=text, field=catalogue[hint].title,
                                                 name=hint), cell, kind="unknown-column"))
            if extra in extras or extra in columns:
                uses.append(ColumnUse(cell, text, None,
                                      note + _("; a second column of that name")))
                continue
            extras[extra] = j
            uses.append(ColumnUse(cell, text, None,
                                  note + _("; rules may read it as {name}").format(name=extra)))
            continue
        if name in columns:
            why = _("a second {field} column; {cell} is used").format(
                field=name, cell=raw.header_cell(columns[name]))
            warnings.append(Problem(_('column "{header}" is not used: {why}').format(
                header=text, why=why), cell, kind="column-not-used"))
            uses.append(ColumnUse(cell, text, None, why))
            continue
        columns[name] = j
        uses.append(ColumnUse(cell, text, name, ""))
    if "id" not in columns:
        warnings.append(Problem(_("no id column (Code client / Identifiant / id): accounts "
                                  "are scored but duplicates cannot be checked"),
                                f"{raw.sheet}!{raw.header_row}:{raw.header_row}",
                                kind="no-id-column"))
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
    """The data rows as one 2-D object array (short rows padded with blanks, long ones cut
    to the headers)."""
    m = len(raw.headers)
    rows = raw.rows
    if rows and m:
        try:
            # pandas' own C loop over the rows (a fourth of numpy's assignment); None pads
            grid = _to_object_array(rows, m)
        except (TypeError, ValueError, AttributeError):
            grid = None
        if grid is not None and grid.shape == (len(rows), m):
            return grid
        if grid is not None and grid.shape[0] == len(rows) and grid.shape[1] > m:
            return np.ascontiguousarray(grid[:, :m])
    if any(len(r) != m for r in rows):
        rows = [list(r[:m]) + [None] * (m - len(r)) for r in rows]
    grid = np.empty((len(rows), m), dtype=object)
    if rows and m:
        grid[:] = rows
    return grid


def _to_object_array(rows: list, m: int) -> np.ndarray | None:
    try:
        from pandas._libs.lib import to_object_array
    except ImportError:  # a pandas without it: numpy's assignment
        return None
    return to_object_array(rows if isinstance(rows, list) else list(rows), m)


def validate(raw: RawTable, catalogue: Catalogue) -> Validated:
    """Typed accounts from a raw table; never modifies ``raw``.

    Column at a time: numbers convert in one step when the column holds only numbers and
    blanks; only text cells in a number column are parsed one by one, and text columns are
    cleaned once per distinct value. Total rows (`total_rows`) are left out and listed in
    the report; when there are any, the cells are read a second time without them, so
    that no warning names a cell of a total row.
    """
    warnings: list[Problem] = []
    uses: list[ColumnUse] = []
    columns, extras, owned = map_headers(raw, catalogue, warnings, uses)
    blanks: dict[str, np.ndarray] = {}  # field → True where read as blank (all rows)
    grid, accounts, cells = _read_table(raw, columns, extras, catalogue, blanks)
    keep = _kept(accounts, blanks)
    left_out: list[LeftOut] = []
    money = [n for n in columns if catalogue[n].type == MONEY]
    first, ids_first = _first_texts(grid, keep, accounts, columns, catalogue)
    read = _rows(accounts, keep)
    # the first column's texts, when they are the ids, are looked at with the ids
    others = None if ids_first else first
    totals = total_rows(read, first, money) if _may_hold_totals(read, others) else {}
    if totals:
        # read again without the total rows: a total is said once, as a total, and none
        # of its cells ("Total" in a number column, =SUM with no saved value) as unreadable
        blanks = {}
        grid, accounts, cells = _read_table(raw, columns, extras, catalogue, blanks,
                                            set(totals))
        keep = _kept(accounts, blanks)
    warnings.extend(cells)
    for pos, why in totals.items():
        keep[pos] = False
        row = raw.row_numbers[pos]
        where = cell_ref(raw.sheet, row, raw.col_numbers[0])
        left_out.append(LeftOut(row, where, _("a total row, not an account: {why}").format(
            why=why)))
    if totals:
        rows = ", ".join(str(raw.row_numbers[p]) for p in list(totals)[:5])
        warnings.append(Problem(_("{n} total row(s) left out of scoring, Top 80 % and Summary "
                                  "(row {rows}); their output cells stay blank").format(
                                      n=len(totals), rows=rows),
                                f"{raw.sheet}!{raw.row_numbers[next(iter(totals))]}:"
                                f"{raw.row_numbers[next(iter(totals))]}", kind="total-row"))
    accounts = _rows(accounts, keep)
    accounts.index = pd.Index(np.flatnonzero(keep), name="row")
    _check_ids(accounts, raw, columns, warnings,
               blanks["id"][keep] if "id" in blanks and len(blanks["id"]) == len(keep) else None)
    if "revenue" in accounts:
        col = _Column(raw, columns["revenue"], catalogue["revenue"], warnings)
        neg = accounts["revenue"][accounts["revenue"] < 0]
        for pos, value in neg.items():
            col.warn(pos, _("negative revenue ({value:,.0f}): it counts as 0 for ranking and "
                            "penetration; check for credit notes").format(value=value),
                     "negative-revenue")
    _hand_edited_outputs(raw, grid, owned, warnings)
    previous = label = None
    if "category" in owned:
        previous = pd.Series(grid[keep, owned["category"]], index=accounts.index, dtype=object)
    if "category_label" in owned:
        label = pd.Series(grid[keep, owned["category_label"]], index=accounts.index, dtype=object)
    report = ReadingReport(raw.sheet, raw.header_row, raw.header_note, uses, left_out,
                           _counts(raw, grid, keep, accounts, columns, blanks),
                           _preview(accounts),
                           list(warnings))
    return Validated(accounts, columns, extras, warnings, previous, label, report)


def _read_table(raw: RawTable, columns: dict[str, int], extras: dict[str, int],
                catalogue: Catalogue, blanks: dict[str, np.ndarray], skip: Collection[int] = ()
                ) -> tuple[np.ndarray, pd.DataFrame, list[Problem]]:
    """The cells as shown (`_as_shown`) and typed, column at a time: ``(grid, accounts,
    per-cell warnings)``; the data rows at positions ``skip`` (total rows) are read as
    blank. ``blanks`` receives each column's blank values (`_missing`)."""
    warnings: list[Problem] = []
    grid = _grid(raw)
    if skip:
        grid[sorted(skip), :] = None
    _as_shown(raw, grid, columns, catalogue, warnings, skip)
    index = pd.RangeIndex(len(grid), name="row")
    data: dict[str, Any] = {}
    floats = _float_columns(grid, [j for name, j in columns.items()
                                   if catalogue[name].type in NUMERIC_TYPES])
    for name, j in columns.items():
        known: list[np.ndarray] = []
        data[name] = _coerce(grid[:, j], index, catalogue[name], raw, j, warnings, known,
                             floats.get(j, _UNKNOWN))
        blanks[name] = known[0] if known else _missing(data[name].to_numpy())
    for name, j in extras.items():
        if name not in data:
            data[name] = _coerce_extra(grid[:, j], index, _Column(raw, j, None, warnings))
            blanks[name] = _missing(data[name].to_numpy())
    if 0 < len(data) <= _SIDE_BY_SIDE:
        # the columns side by side as read, not copied into one block per dtype (that
        # block would be copied again each time a later stage replaces one of its columns)
        accounts = pd.concat(data, axis=1)
        accounts.index = index
    else:  # pandas warns past 100 blocks: a wide table is held in one block per dtype
        accounts = pd.DataFrame(data, index=index)
    return grid, accounts, warnings


_SIDE_BY_SIDE = 64  # columns read kept as separate blocks, up to this many


def _rows(accounts: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows ``keep`` (a copy only when some are left out)."""
    return accounts.copy(deep=False) if keep.all() else accounts[keep]


def _first_texts(grid: np.ndarray, keep: np.ndarray, accounts: pd.DataFrame,
                 columns: dict[str, int], catalogue: Catalogue
                 ) -> tuple[pd.Series | None, bool]:
    """The first column's cells as text (`_texts`), rows ``keep`` (None without columns),
    and whether they are the ids: when the first column is the id column, a text field
    without error cells, its texts are the ids already read."""
    if not grid.shape[1]:
        return None, False
    if columns.get("id") == 0 and catalogue["id"].type not in (*NUMERIC_TYPES, "date", STATUS) \
            and not _error_mask(grid[:, 0]).any():
        return accounts["id"][keep], True
    return pd.Series(_texts(grid[keep, 0]), index=np.flatnonzero(keep)), False


_TOTAL_STEMS = re.compile(r"t\W*o\W*t")


def _may_hold_totals(accounts: pd.DataFrame, first: pd.Series | None) -> bool:
    """False when `total_rows` can find no total row: every row has an id and no id or
    first-column text holds a total word's stem (what its own first pass looks for).
    Tested on the texts joined, in one search: a stem found in one cell is found in the
    joined text, so False is sure (True only sends the rows to `total_rows`)."""
    if "id" not in accounts:
        return True
    ids = accounts["id"].to_numpy(dtype=object)
    if not _is_string_array(ids, skipna=False):
        return True  # a row without an id (or an id that is not text)
    strings = ids.tolist()
    if not all(map(str.strip, strings)):
        return True  # an id of spaces only
    if first is not None:
        cells = first.to_numpy(dtype=object)
        cells = cells[pd.notna(cells)]
        strings += cells.tolist() if _is_string_array(cells, skipna=False) else \
            [v for v in cells.tolist() if isinstance(v, str)]
    joined = "\n".join(strings)
    if joined.isascii():
        low = joined.lower()
        # the alternation's fixed words by substring search (C), then t…o…t
        return any(w in low for w in ("somm", "sum", "ensembl", "cumul")) or \
            _TOTAL_STEMS.search(low) is not None
    return re.search(r"(?i)t\W*o\W*t|somm|sum|ensembl|cumul", joined) is not None


def _kept(accounts: pd.DataFrame, blanks: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The rows holding a value (empty rows are not accounts). ``blanks``: each column's
    blank values where known (`_read_table`); those not in it are added."""
    blanks = {} if blanks is None else blanks
    keep = np.zeros(len(accounts), dtype=bool)
    for name in accounts.columns:
        blank = blanks.get(name)
        if blank is None or len(blank) != len(accounts):
            blank = blanks[name] = _missing(accounts[name].to_numpy())
        keep |= ~blank
    return keep


def _missing(values: np.ndarray) -> np.ndarray:
    """``pd.isna`` of a typed column (a float column's NaN without pandas' dispatch)."""
    return isna(values)  # a float column's NaN, a text column's None from its pointers


def _hand_edited_outputs(raw: RawTable, grid: np.ndarray, owned: dict[str, int],
                         warnings: list[Problem]) -> None:
    """Potentiel's output cells typed over since the last run, named one by one (the
    Category cell is checked against its label elsewhere, with the letter it had)."""
    if not raw.check or not owned:
        return
    from .sources.fingerprint import edited_cells
    keys, checks = raw.check
    current = {k: grid[:, j] for k, j in owned.items() if k not in ("category", "category_label")}
    row_pos = {r: i for i, r in enumerate(raw.row_numbers)}
    for row, key in edited_cells(keys, checks, current, raw.row_numbers):
        j = owned[key]
        value = grid[row_pos[row], j]
        shown = "" if value is None else str(value)[:60]
        warnings.append(Problem(_('{header} was changed by hand since the last run ("{value}"); '
                                  "Potentiel's value is written back: its output columns are "
                                  "rewritten at every run (type your own values in a column "
                                  "of yours)").format(header=str(raw.headers[j]).strip(),
                                                      value=shown),
                                cell_ref(raw.sheet, row, raw.col_numbers[j]), kind="hand-edit",
                                column=str(raw.headers[j]).strip()))


def _counts(raw: RawTable, grid: np.ndarray, keep: np.ndarray, accounts: pd.DataFrame,
            columns: dict[str, int], blanks: dict[str, np.ndarray] | None = None
            ) -> list[FieldCount]:
    """Per field: cells read, blank, unreadable (typed but not usable), first unreadable.
    ``blanks``: field → blank cells of every row (`_kept`), when known."""
    out = []
    kept = np.flatnonzero(keep)
    blanks = blanks or {}
    for name, j in columns.items():
        missing = blanks[name][keep] if name in blanks and len(blanks[name]) == len(keep) \
            else accounts[name].isna().to_numpy()
        # only the cells read as missing are looked at: blank, or unreadable? A cell saying
        # the value is not known ("NC", "n.c.") counts as blank, not unreadable.
        at = np.flatnonzero(missing)
        rows = kept[at]
        blank = np.zeros(len(missing), dtype=bool)
        # empty cells in one step (read as pointers); the few others (text, NaN) one by one
        empty = is_none(grid[:, j], rows)
        rest = np.flatnonzero(~empty)
        empty[rest] = np.fromiter((_blank(v) or (isinstance(v, str) and len(v) < 20 and
                                                 marker_key(v) in NOT_AVAILABLE)
                                   for v in grid[rows[rest], j]), dtype=bool, count=len(rest))
        blank[at] = empty
        bad = missing & ~blank
        first = [raw.cell(int(p), j) for p in kept[bad][:5]]
        out.append(FieldCount(name, str(raw.headers[j]).strip(), int((~missing).sum()),
                              int(blank.sum()), int(bad.sum()), first))
    return out


def _preview(accounts: pd.DataFrame, n: int = 5) -> list[dict[str, Any]]:
    head = {col: accounts[col].to_numpy()[:n] for col in accounts.columns}  # as `at` reads
    rows = []
    for k in range(min(n, len(accounts))):
        row = {}
        for col, values in head.items():
            v = values[k]
            row[col] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        rows.append(row)
    return rows


def _as_shown(raw: RawTable, grid: np.ndarray, columns: dict[str, int], catalogue: Catalogue,
              warnings: list[Problem], skip: Collection[int] = ()) -> None:
    """The cells of ``grid`` (a copy of ``raw.rows``) as Excel shows them, in place.

    A formula with no saved value is blank, said once per column. In a percent field, a
    number shown as a percentage is a share: 0.117 shown as 11.7 % is 11.7 (percent
    points). Where the front end could not see number formats (`RawTable.unknown_formats`)
    a percent column whose numbers all lie within -1..1, not all whole, is taken as
    shares too, and said as a guess; any other is read as typed. Formulas in the rows at
    ``skip`` (total rows, read as blank) are not said."""
    by_col: dict[int, list[int]] = {}
    for i, j in raw.formulas or ():
        if i not in skip:
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
            ngettext("{n} formula has no saved value ({cells}); left blank: open and save the "
                     "file in Excel, or paste the values",
                     "{n} formulas have no saved value ({cells}); left blank: open and save the "
                     "file in Excel, or paste the values", n).format(n=n, cells=cells),
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
        _("guessed: every number of {header} lies between -1 and 1, so they are read as "
          "percentages, as Excel shows them when formatted % ({first}); Excel on the web does "
          "not send number formats: if they are plain numbers (0.5 meaning 0.5 %), recompute "
          "in desktop Excel or with potentiel score, which read the formats").format(
              header=header, first=first),
        _column_ref(raw, j), kind="percent-guess", column=header))


class _Column:
    """Where the warnings of one column go: each cell's own `Problem` (kind and column set,
    built cheaply: a column of 100,000 bad cells gives 100,000 problems), and the notices
    said once per column."""

    def __init__(self, raw: RawTable, j: int, f, warnings: list[Problem]):
        self.raw, self.j, self.f, self.warnings = raw, j, f, warnings
        header = raw.headers[j] if j < len(raw.headers) else None
        if _blank(header):
            header = f.title if f is not None else raw.header_cell(j)
        self.header = str(header).strip()
        self._prefix = cell_ref(raw.sheet, 1, raw.col_numbers[j])[:-1]  # "Accounts!F"
        self._rows = raw.row_numbers

    def where(self, pos: int) -> str:
        return self._prefix + str(self._rows[pos])

    def warn(self, pos: int, message: str, kind: str) -> None:
        self.warnings.append(Problem(message, self._prefix + str(self._rows[pos]), "warning",
                                     kind, self.header))

    def warn_each(self, positions, messages, kinds) -> None:
        """One problem per cell, in one pass: ``positions`` (data-row positions), their
        messages and kinds (lists, or one text for all)."""
        rows, prefix, header = self._rows, self._prefix, self.header
        n = len(positions)
        messages = [messages] * n if isinstance(messages, str) else messages
        kinds = [kinds] * n if isinstance(kinds, str) else kinds
        self.warnings.extend([Problem(m, prefix + str(rows[p]), "warning", k, header)
                              for p, m, k in zip(np.asarray(positions).tolist(), messages, kinds)])

    def cells(self, positions) -> str:
        """The cells of a notice, short (``F2, F3, F5 and 31 more``): its ``where`` names
        the sheet and the first one."""
        first = [str(self._rows[p]) for p in positions[:8]]
        letters = self._prefix.rpartition("!")[2]
        more = _(" and {n} more").format(n=len(positions) - 8) if len(positions) > 8 else ""
        return ", ".join(letters + r for r in first) + more

    def notice(self, positions, message: str, kind: str) -> None:
        """One problem for many cells of the column: ``positions`` in row order."""
        if len(positions) > 1:
            message = _("{message} (cells {cells})").format(message=message,
                                                            cells=self.cells(positions))
        self.warnings.append(Problem(message, self.where(positions[0]), "warning", kind,
                                     self.header))


def _coerce(values: np.ndarray, index: pd.Index, f, raw: RawTable, j: int,
            warnings: list[Problem], blanks: list[np.ndarray] | None = None,
            floats: Any = None) -> pd.Series:
    """One field's cells as typed values (formulas without a saved value were blanked and
    said once per column before, in `_as_shown`). ``blanks`` receives, for a text
    column, True where the value is None (what `_missing` of the values gives).
    ``floats``: `_as_floats` of ``values`` when already known (`_float_columns`)."""
    col = _Column(raw, j, f, warnings)
    kind = f.type
    if kind in NUMERIC_TYPES:
        # a column of numbers and blanks converts in one step, and then holds no error
        # cell (no error text reads as a number); any other goes cell by cell
        out = _as_floats(values) if floats is _UNKNOWN else floats
        if out is None:
            values = _drop_errors(values, index, col)
        return _coerce_number(values, index, f, col, out)
    if kind == "date":
        return _coerce_date(_drop_errors(values, index, col), index, f, col)
    factorized = None
    if _mostly_distinct(values):  # ids, names: cleaned cell by cell, not hashed first
        if _error_mask(values).any():
            values = _drop_errors(values, index, col)
    else:
        factorized = _factorized(values)
        if _error_mask(factorized[1]).any():
            values = _drop_errors(values, index, col)
            factorized = None
    texts, blank = _texts_blanks(values, factorized)
    series = pd.Series(texts, index=index, dtype=object)
    if kind == STATUS:
        series = _coerce_status(series, col)  # a blank stays blank, a text stays text
    if blanks is not None:
        blanks.append(blank)
    return series


def _coerce_date(values: np.ndarray, index: pd.Index, f, col: "_Column") -> pd.Series:
    """A date field: date cells as dates, ISO text (``2024-03-31``, what Excel on the web
    sends) and day-first text (``31/03/2024``) read; anything else is named by cell."""
    from .rules.dates import to_date
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        if _blank(v):
            out[k] = None
            continue
        day = to_date(v)
        if day is None:
            col.warn(index[k], f'"{v}" is not a date ({f.title}); left blank: type a date such '
                               "as 31/03/2025", "not-a-date")
        out[k] = day
    return pd.Series(out, index=index, dtype=object)


def _error_mask(values: np.ndarray) -> np.ndarray:
    """True where a cell holds an Excel error (an `ErrorCell`, or its text)."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    if len(values) > 1000:
        try:
            # every error text starts with "#": a column of texts without one holds none
            # (the texts joined in one C loop; TypeError: some cell is not text)
            if "#" not in "".join(values.tolist()):
                return np.zeros(len(values), dtype=bool)
        except TypeError:
            pass
    return pd.Series(values, dtype=object).isin(CELL_ERRORS).to_numpy()


def _drop_errors(values: np.ndarray, index: pd.Index, col: "_Column") -> np.ndarray:
    """Error cells blanked, each named: its value is unknown."""
    bad = _error_mask(values)
    if not bad.any():
        return values
    where = np.flatnonzero(bad)
    said = {str(v): _("holds {value} (an Excel error); its value is unknown and left blank: "
                      "correct the cell in Excel, or type the value").format(value=v)
            for v in set(values[where])}
    col.warn_each(index[where], [said[str(v)] for v in values[where]], "error-cell")
    values = values.copy()
    values[bad] = None
    return values


def cell_text(v: Any) -> str | None:
    """A cell as text, as an id or a name column reads it: a whole number without its
    ``.0`` (``12.0`` → ``"12"``), spaces at the ends cut, a blank (None, NaN, spaces) None."""
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() or None


def _mostly_distinct(values: np.ndarray, sample: int = 1000) -> bool:
    """True for a long column whose first cells are nearly all different (ids, names):
    hashing it to clean each distinct value once would cost more than it saves."""
    if len(values) < 4 * sample:
        return False
    try:
        return len(set(values[:sample].tolist())) > 0.9 * sample
    except TypeError:  # an unhashable cell
        return False


def _is_string_array(values: np.ndarray, skipna: bool) -> bool:
    try:
        from pandas._libs.lib import is_string_array
    except ImportError:
        return False
    return bool(is_string_array(values, skipna=skipna))


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per cell, distinct values): code -1 for a blank (None, NaN); the cells told
    apart by identity first (`objects.factorize`: a column spread from a few distinct
    objects, as readers share repeated texts, is hashed once per object)."""
    return factorize(values)


def _texts(values: np.ndarray,
           factorized: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Cleaned text per cell (None for blanks), computed once per distinct value
    (``factorized``: `_factorized` of ``values``, when already known)."""
    return _texts_blanks(values, factorized)[0]


def _texts_blanks(values: np.ndarray, factorized: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """`_texts`, and True where the text is None (without another look at every cell)."""
    if factorized is None and _mostly_distinct(values):
        cells = np.asarray(values, dtype=object)
        if _is_string_array(cells, skipna=False):  # text only: stripped in one C loop
            out = np.empty(len(values), dtype=object)
            out[:] = stripped = list(map(str.strip, cells.tolist()))
            if all(stripped):
                return out, np.zeros(len(out), dtype=bool)
            blank = np.asarray(np.equal(out, ""), dtype=bool)
            out[blank] = None
            return out, blank
        if _is_string_array(cells, skipna=True):
            # text and blanks only (a blank: None, NaN or another NA, as factorize reads it)
            out = np.empty(len(values), dtype=object)
            out[:] = [(u.strip() or None) if isinstance(u, str) else None
                      for u in cells.tolist()]
            return out, np.asarray(np.equal(out, None), dtype=bool)
    codes, uniques = factorized if factorized is not None else _factorized(values)
    cleaned = np.empty(len(uniques) + 1, dtype=object)
    cleaned[:-1] = [(u.strip() or None) if type(u) is str else cell_text(u) for u in uniques]
    cleaned[-1] = None  # code -1: a blank cell
    return cleaned[codes], np.asarray(np.equal(cleaned, None), dtype=bool)[codes]


# Status words, compared as `normalise` gives them; a text that is none of these is read
# word by word (`_status_of`).
_STATUS_WORDS = {"client": "client", "clients": "client", "customer": "client",
                 "customers": "client", "prospect": "prospect", "prospects": "prospect",
                 "suspect": "suspect", "suspects": "suspect", "former": "former"}
_FORMER = {"ancien", "ancienne", "anciens", "former", "ex", "lost", "perdu", "perdus", "perdue",
           "inactif", "inactive", "inactifs", "churned", "churn", "resilie", "resiliee",
           "parti", "partie", "sorti"}
_PROSPECT = {"prospect", "prospects", "lead", "leads", "piste", "opportunite", "opportunity",
             "opportunities", "opportunites"}
_SUSPECT = {"suspect", "suspects", "cible", "target"}
_CLIENT = {"client", "clients", "customer", "customers", "compte", "account", "actif", "active",
           "fidele", "regulier", "occasionnel", "nouveau", "new", "existing", "existant"}


def _status_of(text: str) -> str | None:
    """The status a typed text means, or None when it is unclear."""
    exact = _STATUS_WORDS.get(normalise(text))
    if exact:
        return exact
    words = set(re.findall(r"[a-z]+", unicodedata.normalize("NFKD", text.lower())
                           .encode("ascii", "ignore").decode("ascii")))
    former, prospect = bool(words & _FORMER), bool(words & _PROSPECT)
    if former and prospect:
        return None  # "prospect perdu": a lost deal, not a former client
    if former:
        return "former"
    if prospect:
        return "prospect"
    if words & _SUSPECT:
        return "suspect"
    if words & {"client", "clients", "customer", "customers"} or \
            (words and words <= _CLIENT and words & {"actif", "active", "compte", "account"}):
        return "client"
    return None


def _coerce_status(series: pd.Series, col: "_Column") -> pd.Series:
    """Status words read as client / prospect / suspect / former; a word read from a longer
    text ("Ancien client" → former) is noted once per column; an unclear one is kept as
    typed and warned per cell."""
    codes, uniques = factorize(series.to_numpy(dtype=object))  # in order of appearance
    distinct = uniques.tolist()
    mapping: dict[Any, Any] = {}
    read: list[str] = []
    for v in distinct:
        status = _status_of(v)
        mapping[v] = status or v
        if status and _STATUS_WORDS.get(normalise(v)) is None:
            read.append(v)
    mapped = np.empty(len(distinct) + 1, dtype=object)
    mapped[:-1] = [mapping[v] for v in distinct]
    mapped[-1] = None
    out = pd.Series(mapped[codes], index=series.index, dtype=object)
    unknown = [v for v in distinct if _status_of(v) is None]
    if unknown:
        said = {v: _('status "{value}" is not one of {statuses}; kept as typed, so rules on '
                     "status do not see it: type one of these words").format(
                         value=v, statuses=", ".join(STATUSES)) for v in unknown}
        bad = series[np.isin(codes, [k for k, v in enumerate(distinct) if v in said])]
        col.warn_each(bad.index, [said[v] for v in bad.tolist()], "unknown-status")
    if read:
        said_read = set(read)
        hit = np.isin(codes, [k for k, v in enumerate(distinct) if v in said_read])
        counts = series[hit].value_counts(sort=False)
        said = ", ".join(_('"{value}" as {status} ({n})').format(
            value=v, status=mapping[v], n=counts[v]) for v in read[:6])
        more = _(" and {n} more").format(n=len(read) - 6) if len(read) > 6 else ""
        col.notice(series.index[hit], _("{header}: statuses read from the words typed: "
                                        "{said}").format(header=col.header, said=said + more),
                   "status-read")
    return out


_UNKNOWN = object()  # `_coerce`'s floats not worked out before
_ROWS_AT_ONCE = 1 << 13  # rows cast at a time (a block of a few MB)


def _float_columns(grid: np.ndarray, js: list[int]) -> dict[int, np.ndarray | None]:
    """`_as_floats` of each column ``js`` of ``grid``, at once: column → floats, or None
    for a column holding anything but numbers and blanks.

    Casting reads every cell's object, so the order follows where the objects stand in
    memory. A reader that makes a row's values one after the other (python-calamine, the
    JSON of Excel's add-in, CSV) leaves a row's side by side and a column's a row apart:
    going down a column then waits on memory at every cell (3 times slower). The cells are
    then cast in the order of the rows, a block of rows at a time; values made a column
    at a time (a table built from columns) are cast a column at a time (`_made_by_rows`
    tells). A block that will not cast is halved until the columns that will not are
    found."""
    out: dict[int, np.ndarray | None] = {}
    n = len(grid)
    if len(js) < 2 or not _made_by_rows(grid, js):
        for j in js if n else ():
            out[j] = _as_floats(grid[:, j])
        return out

    def cast(cols: list[int]) -> None:
        # a column per array, as casting each one makes them (one large block, freed once
        # the columns are copied, would leave the allocator keeping that much memory)
        got = [np.empty(n, dtype=np.float64) for _c in cols]
        try:
            for a in range(0, n, _ROWS_AT_ONCE):
                block = grid[a:a + _ROWS_AT_ONCE, cols]  # a copy, row after row
                flat = block.ravel().astype(np.float64).reshape(len(block), len(cols))
                for k in range(len(cols)):
                    got[k][a:a + len(block)] = flat[:, k]
        except (TypeError, ValueError):
            if len(cols) == 1:
                out[cols[0]] = None
                return
            half = len(cols) // 2
            cast(cols[:half])
            cast(cols[half:])
            return
        for k, j in enumerate(cols):
            out[j] = got[k]

    if js and n:
        cast(list(js))
    return out


def _made_by_rows(grid: np.ndarray, js: list[int], rows: int = 64) -> bool:
    """Whether the objects of columns ``js`` of ``grid`` stand nearer to their row's
    neighbours than to their column's in memory (their ``id``, CPython's address, over the
    first ``rows`` rows; blanks left out): the order `_float_columns` casts them in.
    A guess about speed only: either order gives the same floats."""
    head = np.ascontiguousarray(grid[:rows, js])
    if head.shape[0] < 2:
        return False
    ids = identities(head.ravel()).reshape(head.shape)
    real = ids != id(None)
    across = np.abs(np.diff(ids, axis=1))[real[:, 1:] & real[:, :-1]]
    down = np.abs(np.diff(ids, axis=0))[real[1:] & real[:-1]]
    if not len(across) or not len(down):
        return False
    return bool(np.median(across) < np.median(down))


def _as_floats(values: np.ndarray) -> np.ndarray | None:
    """The column as floats in one step, or None when it holds anything but numbers."""
    try:
        # what pandas' astype does for an object column (numpy's own conversion)
        return np.asarray(values, dtype=object).astype(np.float64)
    except (TypeError, ValueError):
        return None


def _range_text(f) -> str:
    if f.min is not None and f.max is not None:
        return f"{f.min:g}–{f.max:g}"
    return _("at least {n:g}").format(n=f.min) if f.min is not None else \
        _("at most {n:g}").format(n=f.max)


def _coerce_number(values: np.ndarray, index: pd.Index, f, col: "_Column",
                   out: np.ndarray | None = None) -> pd.Series:
    """``out``: `_as_floats` of ``values``, when already known."""
    if out is None:
        out = _as_floats(values)
    if out is None:
        out = _read_cells(values, index, f, col)
    bad = np.isinf(out)
    for k in np.flatnonzero(bad):
        col.warn(index[k], _("{value} is not a usable number ({field}); left blank").format(
            value=values[k], field=f.title),
                 "not-a-number")
    out[bad] = np.nan
    if f.min is not None or f.max is not None:
        lo = -np.inf if f.min is None else f.min
        hi = np.inf if f.max is None else f.max
        outside = (out < lo) | (out > hi)
        rng = _range_text(f)
        where = np.flatnonzero(outside)
        if len(where):
            said = {v: _("{value:g} is outside {range} ({field}); left blank").format(
                value=v, range=rng, field=f.title)
                    for v in set(out[where].tolist())}
            col.warn_each(index[where], [said[v] for v in out[where].tolist()], "out-of-range")
        out[outside] = np.nan
    # a fractional headcount (an average) is kept: it is still meaningful
    return pd.Series(out, index=index, dtype=float)


def _read_cells(values: np.ndarray, index: pd.Index, f, col: "_Column") -> np.ndarray:
    """A number column holding text (or dates, or booleans): numbers go through as they
    are, each distinct text is read once (`read_number`), as people type it; what could
    not be read is warned per cell, what was decided is noted once per column."""
    types = pd.Series(values, dtype=object).map(type).to_numpy()
    is_num = (types == float) | (types == int)
    out = np.full(len(values), np.nan)
    if is_num.any():
        out[is_num] = values[is_num].astype(float)
    is_text = np.asarray([issubclass(t, str) for t in types], dtype=bool)
    for k in np.flatnonzero(~is_num & ~is_text):
        v = values[k]
        if _blank(v):
            continue
        if isinstance(v, (bool, np.bool_)):
            col.warn(index[k], _("{value} is not a number ({field}); left blank").format(
                value=v, field=f.title), "not-a-number")
        elif hasattr(v, "year"):
            col.warn(index[k], _('"{value}" is a date, not a number ({field}); left '
                                 'blank').format(value=v, field=f.title), "date-not-number")
        elif isinstance(v, (np.integer, np.floating)):
            out[k] = float(v)
        else:
            col.warn(index[k], _('"{value}" is not a number ({field}); left blank').format(
                value=v, field=f.title), "not-a-number")
    texts = np.flatnonzero(is_text)
    if not len(texts):
        return out
    codes, uniques = pd.factorize(values[texts])
    ranged = f.min is not None and f.max is not None
    options = dict(amount=f.type == MONEY, bands=f.type == INTEGER,
                   low=f.min if ranged else None, high=f.max if ranged else None)
    readings: list[Reading | None] = []
    failures: list[tuple[str, str] | None] = []
    for u in uniques:
        text = str(u)
        if not text.strip():
            readings.append(Reading(None, "blank"))
            failures.append(None)
            continue
        try:
            readings.append(read_number(text, **options))
            failures.append(None)
        except Ambiguous as exc:
            readings.append(None)
            failures.append((_('"{text}" {reason}; type it without thousands separator, e.g. '
                               '1200 or 1,2').format(text=text, reason=exc), "ambiguous-number"))
        except ValueError:
            readings.append(None)
            failures.append((_('"{text}" is not a number ({field}); left blank: type a number '
                               'or leave the cell empty').format(text=text, field=f.title),
                             "not-a-number"))
    value_of = np.array([np.nan if r is None or r.value is None else r.value for r in readings]
                        + [np.nan])
    out[texts] = value_of[codes]
    failed = np.array([x is not None for x in failures] + [False])[codes]
    if failed.any():
        which = [failures[c] for c in codes[failed].tolist()]
        col.warn_each(index[texts[failed]], [m for m, _k in which], [k for _m, k in which])
    notes: dict[str, list[int]] = {}
    for c, r in enumerate(readings):
        if r is not None and r.note and r.note != "blank":
            notes.setdefault(r.note, []).append(c)
    if notes:
        _notices(notes, texts, codes, uniques, readings, index, f, col)
    return out


def _notices(notes: dict[str, list[int]], texts: np.ndarray, codes: np.ndarray,
             uniques, readings, index: pd.Index, f, col: "_Column") -> None:
    """One notice per column and kind of decision, with the count and the first cells."""

    def cells(which: list[int]) -> tuple[np.ndarray, int]:
        hit = np.isin(codes, which)
        return index[texts[hit]], int(hit.sum())

    def example(which: list[int]) -> str:
        c = which[0]
        return f'{str(uniques[c]).strip()} → {readings[c].value:g}'

    h = col.header
    if NOTE_BAND in notes or NOTE_OPEN_BAND in notes:
        band, open_ = notes.get(NOTE_BAND, []), notes.get(NOTE_OPEN_BAND, [])
        where, n = cells(band + open_)
        parts = []
        if band:
            parts.append(_("closed bands as their midpoint ({example})").format(
                example=example(band)))
        if open_:
            parts.append(_("open bands as their lower bound ({example})").format(
                example=example(open_)))
        col.notice(where, _("{header}: {n} band(s) read as a number, {how}; type the exact "
                            "figure where you know it").format(
                                header=h, n=n, how=_(" and ").join(parts)), "band")
    if NOTE_NOT_AVAILABLE in notes:
        which = notes[NOTE_NOT_AVAILABLE]
        where, n = cells(which)
        said = ", ".join(f'"{str(uniques[c]).strip()}"' for c in which[:4])
        col.notice(where, _("{header}: {n} cell(s) say the value is not available ({said}); "
                            "left blank, as unknown").format(header=h, n=n, said=said),
                   "not-available")
    if NOTE_DASH_ZERO in notes:
        where, n = cells(notes[NOTE_DASH_ZERO])
        col.notice(where, _('{header}: {n} cell(s) hold a dash alone ("-"), read as 0, as in '
                            "accounts; leave the cell empty if the amount is unknown").format(
                                header=h, n=n), "dash-zero")
    if NOTE_TTC in notes:
        which = notes[NOTE_TTC]
        where, n = cells(which)
        col.notice(where, _("{header}: {n} amount(s) marked TTC (tax included) are read as "
                            "typed, not converted to HT ({example}); type every amount of the "
                            "column on the same basis").format(header=h, n=n,
                                                               example=example(which)), "ttc")
    if NOTE_BY_RANGE in notes:
        which = notes[NOTE_BY_RANGE]
        where, n = cells(which)
        col.notice(where, _("{header}: {n} value(s) read with a decimal separator "
                            "({example}), the only reading within {range}").format(
                                header=h, n=n, example=example(which), range=_range_text(f)),
                   "decimal-by-range")


def _coerce_extra(values: np.ndarray, index: pd.Index, col: "_Column | None" = None
                  ) -> pd.Series:
    """Unknown columns: numbers stay numbers, the rest is text (rules may read them);
    error cells are blank, and named when ``col`` is given. A column holding text stays
    text, digits included (a SIRET or a postal code typed as text keeps its zeros)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("floating", "integer",
                                                        "mixed-integer-float", "empty"):
        out = _as_floats(values)  # numbers and blanks only: no text, no error cell
        if out is not None:
            return pd.Series(out, index=index, dtype=float)
    if col is not None:
        values = _drop_errors(values, index, col)
    typed = pd.Series(values, dtype=object).map(type)
    if not typed.isin((str, FormulaCell)).any():
        out = _as_floats(values)
        if out is not None:
            return pd.Series(out, index=index, dtype=float)
    return pd.Series(_texts(values), index=index, dtype=object)


def _check_ids(accounts: pd.DataFrame, raw: RawTable, columns: dict[str, int],
               warnings: list[Problem], blank: np.ndarray | None = None) -> None:
    """Accounts without an id, and ids given twice, named by cell. ``blank``: the ids'
    `_missing`, when the reading knows it."""
    if "id" not in accounts:
        return
    j = columns["id"]
    col = _Column(raw, j, None, warnings)
    ids = accounts["id"]
    na = _missing(ids.to_numpy()) if blank is None else blank
    for pos in ids.index[na]:
        col.warn(pos, _("account without an id; it is scored, but give it an id so results "
                        "can be traced"), "no-id")
    given = ids.to_numpy()[~na].tolist()
    try:
        if len(set(given)) == len(given):  # equal values hash equal: no two ids are equal
            return
    except TypeError:  # an unhashable id: pandas' own comparison
        pass
    dup = ids[~na & ids.duplicated(keep=False).to_numpy()]
    for value, group in dup.groupby(dup, sort=False):
        cells = [col.where(p) for p in group.index]
        shown = ", ".join(cells[:5]) + (_(" and {n} more").format(n=len(cells) - 5)
                                        if len(cells) > 5 else "")
        col.warn(group.index[0], _('id "{value}" appears {n} times ({cells}); all rows are '
                                   "scored; make ids unique").format(
                                       value=value, n=len(cells), cells=shown), "duplicate-id")
