"""The Excel front end through xlwings: the only module that imports xlwings.

Four entry points, each taking an ``xw.Book``: `recompute`, `check_rules`, `explain` and
`preview` (recompute also keeps the run's snapshot: `potentiel.review.history`).
The same code runs on a live workbook (desktop Excel, ``xw.Book.caller()`` from the
RunPython button) and on a remote one (``xw.Book(json=payload)`` built from what xlwings'
VBA or Office.js client sent to ``potentiel serve``): every read is a bulk read of a range,
every write is one ``setValues`` per contiguous block, values only (styling lives in the
template; an output sheet Potentiel adds to a user's workbook gets number formats, fills
and autofitted columns from `potentiel.sheet_styles`), and only on what Potentiel owns: its output columns on Accounts, the Matrix,
Summary, Explain and Log sheets and the named status cells. User errors (`UserError`) are
written to the status cells and the Log, never raised as a traceback.

On a remote book, values go in and out raw (``Range.raw_value``): `potentiel.excel_io`
cleans what is read and prepares what is written, a column at a time, the way xlwings'
converter would cell by cell. A live book keeps xlwings' converter, which knows what COM
and AppleScript need (their date and error types). Formulas come as the values Excel
computed. Number formats: a live book's are read once per input column (which cells show
percentages); a remote book carries none, and `potentiel.validate` guesses (and says so).

`run_button` is what the workbook's button runs: RunPython cannot tell which button was
pressed, so it reads the action cell beside the button (blank means Recompute).
`run_remote` is what the server calls: payload in, xlwings actions out.

Each entry point runs in the workbook's language (Settings ``Language`` / ``Langue``, else
the Accounts headers: `pipeline.run_language`); Potentiel's sheets named in the other
language are renamed (``sheet.name = …``, xlwings' ``setSheetName`` action, which Excel
applies to the names and charts that refer to the sheet) and its columns re-headed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import chain
from pathlib import Path, PurePath
from typing import Any, Callable, Sequence

import xlwings as xw

from . import gcpause
from .excel_io import (MAX_CELLS_PER_WRITE, clean_payload_rows, column_runs, mark_errors,
                       output_blocks, prepare_block, row_chunks)
from .fields import (NEAREST_REP_COLUMNS, OUTPUT_COLUMNS_HEAD, OUTPUT_COLUMNS_TAIL, Catalogue,
                     normalise)
from .sheetnames import ACCOUNTS_NAMES, REPS_NAMES, SETTINGS_NAMES
from .sheetnames import CHANGES_SHEET, HISTORY_SHEET, PREVIEW_SHEET
from .headless import _named_for, _potentiel_name
from .i18n import _, both, language, ngettext, use_language
from .layout import own_column_notices, place_outputs, settings_rows
from .problems import Problem, UserError, cell_ref, column_letter, warning_count
from .sheetnames import OBJECTIVES_SHEET, PLAN_SHEET, TERRITORY_SHEET, TOURS_SHEET
from .report import (EXPLAIN_SHEET, LOG_HEADERS, LOG_SHEET, MATRIX_SHEET, READING_SHEET,
                     SUMMARY_REP_ROW, SUMMARY_SHEET, Block, explain_blocks, extra_sheets, log_row,
                     reading_blocks,
                     matrix_blocks, summary_blocks)
from .sheet_styles import LAST_ROW, SHEETS, SheetLook, finished
from .sources.headers import column_map_rows, find_header_row, table_note
from .sources.ownership import (COL, SHEET, Marks, adopt_legacy, free_name, key_of, mark_name,
                                own_sheet_notice, parse_marks, refers_to, split_refers_to)
from .validate import RawTable
from .xlsxsheet import percent_format

# The workbook contract for the buttons: sheet-scoped names on Accounts and Settings.
ACTION_NAME = "PotentielAction"   # the action cell beside the button
STATUS_NAME = "PotentielStatus"   # the feedback cell under it
ACTIONS = {  # key → (English, French) as shown in the action cell's drop-down
    "recompute": ("Recompute", "Recalculer"),
    "check-rules": ("Check rules", "Vérifier les règles"),
    "explain": ("Explain", "Expliquer"),
    "plan": ("Plan", "Plan"),
    "territory": ("Territory", "Territoire"),
    "preview": ("Preview", "Aperçu"),
    "backtest": ("Backtest", "Rétrospective"),
}
STATUS_MAX = 1000  # characters in a status cell; the Log keeps the full text


def action_word(key: str) -> str:
    """The action's name in the run's language: ``Recompute`` or ``Recalculer``."""
    en, fr = ACTIONS[key]
    return fr if language() == "fr" else en


def action_label(key: str) -> str:
    """What the drop-down shows, in both languages: ``Recompute · Recalculer``."""
    en, fr = ACTIONS[key]
    return f"{en} · {fr}"


@dataclass
class Outcome:
    """What an entry point did: ``ok`` is False when a user error was reported."""

    ok: bool
    action: str
    message: str
    result: Any = None


@dataclass
class Options:
    """How a run may use the server's or the desktop's resources.

    ``remote`` runs serve a payload from the network: the workbook may not make the server
    load plugin folders or read files outside the rules folders (that would be code
    execution or file disclosure for anyone holding the token).
    """

    remote: bool = False
    plugin_dirs: Sequence[str | Path] = ()
    plugins: Any = None              # a ready `Plugins` (tests); None loads them
    when: dt.datetime | None = None  # the Log time (tests); None is now


# --------------------------------------------------------------------------- reading


@dataclass
class AccountsArea:
    sheet: Any           # xw.Sheet
    table: Any           # xw.Table or None
    header_row: int
    first_col: int
    last_col: int
    last_row: int        # last data row (totals excluded)
    raw: RawTable
    # header row to last row, the used cells right of last_col when they came with the
    # table's read (None: not read, `_check_free` reads them)
    beside: list[list[Any]] | None = None


def _remote(sheet) -> bool:
    """True on xlwings' remote engine (``xw.Book(json=...)``): values go in and out raw."""
    return sheet.book.app.engine.name == "remote"


def _grid(rng) -> list[list[Any]]:
    """One bulk read, always a list of rows, cells as ``Range.value`` reads them, error
    values as `ErrorCell`s (xlwings' converter would make them blanks)."""
    if _remote(rng.sheet):
        return clean_payload_rows(rng.raw_value)
    values = rng.options(ndim=2, err_to_str=True).value
    return mark_errors([list(r) for r in values]) if values else []


def _set(sheet, row: int, col: int, grid: list[list[Any]], remote: bool) -> None:
    """One setValues for a rectangle of prepared values (see `excel_io`); past xlwings'
    cell budget, one per chunk of rows, as its converter would."""
    width = len(grid[0])
    rng = sheet.range((row, col), (row + len(grid) - 1, col + width - 1))
    if not remote:
        rng.value = grid
        return
    chunks = row_chunks(len(grid), width,
                        getattr(rng.impl, "max_cells_per_write", MAX_CELLS_PER_WRITE))
    if len(chunks) == 1:
        rng.raw_value = grid
        return
    for start, stop in chunks:
        sheet.range((row + start, col), (row + stop - 1, col + width - 1)).raw_value = \
            grid[start:stop]


def _used_bounds(sheet) -> tuple[int, int]:
    """Last row and column of the used range (1, 1 for an empty sheet)."""
    used = sheet.used_range
    rows, cols = used.shape
    return used.row + rows - 1, used.column + cols - 1


def book_marks(book) -> Marks:
    """Potentiel's markers (workbook-level names ``_Potentiel.…``), read once per book."""
    cached = getattr(book, "_potentiel_marks", None)
    if cached is not None:
        return cached
    found = []
    for n in book.names:
        try:
            name = n.name
            if "!" in name or not name.lower().startswith("_potentiel."):
                continue
            sheet, addr = split_refers_to(n.refers_to or "")
        except Exception:  # a name pointing to #REF! or to a constant
            sheet = addr = None
        found.append((name, sheet, addr))
    marks = parse_marks(found)
    try:
        book._potentiel_marks = marks
    except AttributeError:
        pass
    return marks


def _mark(book, kind: str, key: str, sheet: str, row: int, col: int) -> None:
    """Add (or move) a marker name; an existing one pointing elsewhere is replaced."""
    name, target = mark_name(kind, key), refers_to(sheet, row, col)
    for n in book.names:
        try:
            if n.name.casefold() != name.casefold():
                continue
            if (n.refers_to or "").replace("'", "") == target.replace("'", ""):
                return
            n.delete()
        except Exception:
            pass
        break
    book.names.add(name, target)


def _find_sheet(book, names: tuple[str, ...]):
    for sheet in book.sheets:
        if normalise(sheet.name) in names:
            return sheet
    return None


def _find_table(book, names: tuple[str, ...]):
    for sheet in book.sheets:
        for table in sheet.tables:
            if normalise(table.name) in names:
                return sheet, table
    return None, None


def _table_area(sheet, table) -> tuple[int, int, int, int]:
    """Header row, first and last column, last data row of an Excel table."""
    rng = table.range
    header = table.header_row_range
    if header is None:
        raise UserError(_('the table "{name}" hides its header row; show it (Table Design '
                          "> Header Row) so columns can be matched by name").format(
                            name=table.name),
                        cell_ref(sheet.name, rng.row, rng.column))
    rows, cols = rng.shape
    last = rng.row + rows - 1
    totals = table.totals_row_range
    if totals is not None:
        last -= totals.shape[0]
    return header.row, rng.column, rng.column + cols - 1, last


def read_accounts(book, settings: list[tuple[Any, Any, str]] | None = None) -> AccountsArea:
    """The Accounts table (or sheet) in one bulk read, header row included; on a plain sheet
    the header row is found under any title rows (the Settings column map's headers count)."""
    try:
        mapped = tuple(column_map_rows(settings or [], _CATALOGUE)[0].values())
    except UserError:
        mapped = ()  # said with its cell when the run reads the column map
    sheet, table = _find_table(book, ACCOUNTS_NAMES)
    if sheet is None:
        sheet = _find_sheet(book, ACCOUNTS_NAMES)
        if sheet is None:
            from .sheetnames import only_data_sheet
            only = only_data_sheet([s.name for s in book.sheets],
                                   list(book_marks(book).sheets.values()))
            if only is not None:
                from .sources.headers import looks_like_accounts
                candidate = next(s for s in book.sheets if s.name == only)
                rows = min(_used_bounds(candidate)[0], 30)
                cols = _used_bounds(candidate)[1]
                if not looks_like_accounts(_grid(candidate.range((1, 1), (rows, cols))),
                                           _CATALOGUE):
                    only = None
            if only is None:
                names = ", ".join(s.name for s in book.sheets)
                raise UserError(_("no Accounts sheet (sheets here: {names}); name the sheet of "
                                  "your accounts Accounts, Comptes or Clients (one row per "
                                  "account, under a header row)").format(names=names))
            sheet = next(s for s in book.sheets if s.name == only)
            book_marks(book).notices.append(Problem(
                _("no sheet is named Accounts, Comptes or Clients: {sheet}, the workbook's only "
                  "sheet of data, is read as the accounts").format(sheet=only), only,
                kind="accounts-sheet"))
        table = next(iter(sheet.tables), None)
    # Beside the table, the used cells come in the same read when that costs nothing (a
    # payload holds them anyway, a plain sheet is read whole): placing new output columns
    # then reads nothing more (`_check_free`).
    with_beside = table is None or _remote(sheet)
    if table is not None:
        hr, c1, c2, last = _table_area(sheet, table)
        right = max(c2, _used_bounds(sheet)[1]) if with_beside else c2
        grid = _grid(sheet.range((hr, c1), (max(last, hr), right)))
        note = table_note(hr, table.name)
    else:
        last_row, last_col = _used_bounds(sheet)
        grid = _grid(sheet.range((1, 1), (last_row, last_col)))
        found, note = find_header_row(grid, _CATALOGUE, mapped)
        if found is None:
            raise UserError(_("sheet {name} is empty; paste the {what} with a header row (Code "
                              "client, Raison sociale, CA N, …)").format(
                                name=sheet.name, what=_("accounts")))
        hr = found + 1
        grid = grid[hr - 1:]
        filled = [j for j, v in enumerate(grid[0]) if v not in (None, "")]
        c1, c2 = 1, max(filled) + 1
        last = hr + len(grid) - 1
    width = c2 - c1 + 1
    beside = [] if with_beside else None  # [] when nothing is used beside the table
    if grid and len(grid[0]) > width:
        beside = [r[width:] for r in grid]
        grid = [r[:width] for r in grid]
    headers, rows = (grid[0], grid[1:]) if grid else ([], [])
    percent, unknown = _percent_cells(sheet, hr, c1, c2, len(rows))
    raw = RawTable(headers, rows, sheet=sheet.name, header_row=hr,
                   row_numbers=list(range(hr + 1, hr + 1 + len(rows))),
                   col_numbers=list(range(c1, c2 + 1)), header_note=note,
                   percent_cells=percent, unknown_formats=unknown)
    raw.owned = _owned_columns(book, sheet, hr, c1, headers)
    raw.check = _read_check(book) if raw.owned else None
    return AccountsArea(sheet, table, hr, c1, c2, last, raw, beside)


_CATALOGUE = Catalogue.build()
LEGACY_OUTPUTS = (*OUTPUT_COLUMNS_HEAD, *OUTPUT_COLUMNS_TAIL, *NEAREST_REP_COLUMNS)


def _owned_columns(book, sheet, header_row: int, first_col: int, headers: list[Any]
                   ) -> dict[int, str]:
    """Sheet column → output key of Potentiel's own columns: by marker; in a workbook scored
    before markers existed, the old output block is adopted (and said)."""
    marks = book_marks(book)
    if marks.any:
        return marks.columns_on(sheet.name)
    log = next((s for s in book.sheets if s.name in both(LOG_SHEET)), None)
    has_log = False
    if log is not None:
        first = _grid(log.range((1, 1), (1, len(LOG_HEADERS))))
        has_log = bool(first) and list(first[0]) == list(LOG_HEADERS)
    adopted = adopt_legacy(headers, first_col, LEGACY_OUTPUTS, has_log)
    if adopted:
        marks.adopted = [cell_ref(sheet.name, header_row, min(adopted)),
                         f"columns {column_letter(min(adopted))} to {column_letter(max(adopted))}"]
        for name in (MATRIX_SHEET, SUMMARY_SHEET, LOG_SHEET):
            if any(s.name == name for s in book.sheets):
                marks.sheets[key_of(name)] = name
        for c, k in adopted.items():
            marks.columns[k] = (sheet.name, c)
    return adopted


def _percent_cells(sheet, hr: int, c1: int, c2: int, n: int) -> tuple[list[tuple[int, int]],
                                                                       list[int]]:
    """Which data cells Excel shows as percentages: (row, column) positions, and the
    columns whose formats are not known. A remote book carries no number formats (all
    unknown); on the desktop, one read of ``Range.number_format`` per column: a column
    of mixed formats (Excel answers none) is unknown too. See `validate._as_shown`."""
    everything = list(range(c2 - c1 + 1))
    if _remote(sheet):
        return [], everything
    percent, unknown = [], []
    if n <= 0:
        return percent, unknown
    for j, col in enumerate(range(c1, c2 + 1)):
        try:
            fmt = sheet.range((hr + 1, col), (hr + n, col)).number_format
        except NotImplementedError:  # an engine that cannot read formats (remote's own)
            return [], everything
        if not fmt:
            unknown.append(j)
        elif percent_format(fmt):
            percent.extend((i, j) for i in range(n))
    return percent, unknown


def read_settings(book) -> list[tuple[Any, Any, str]]:
    sheet = _find_sheet(book, SETTINGS_NAMES)
    if sheet is None:
        return []
    last_row, last_col = _used_bounds(sheet)
    return settings_rows(_grid(sheet.range((1, 1), (last_row, min(last_col, 6)))), sheet.name)


def read_salespeople(book) -> RawTable | None:
    """The Salespeople table (or sheet), header row found as the headless reader finds it."""
    return _read_side_table(book, REPS_NAMES, _CATALOGUE, None)


def _read_side_table(book, names: tuple[str, ...], catalogue, empty: str | None
                     ) -> RawTable | None:
    """A table (or sheet) named like ``names`` other than the accounts, in one bulk read:
    an Excel table by its range, a plain sheet under its title rows; None when there is
    none. ``empty``: the error for a sheet with no header row (None: no table)."""
    sheet, table = _find_table(book, names)
    if sheet is None:
        sheet = _find_sheet(book, names)
        if sheet is None:
            return None
        table = next(iter(sheet.tables), None)
    if table is not None:
        hr, c1, c2, last = _table_area(sheet, table)
        grid = _grid(sheet.range((hr, c1), (max(last, hr), c2)))
        note = table_note(hr, table.name)
    else:
        last, c2 = _used_bounds(sheet)
        whole = _grid(sheet.range((1, 1), (last, c2)))
        found, note = find_header_row(whole, catalogue)
        if found is None or (empty is None and last < 2):
            if empty is None:
                return None
            raise UserError(empty.format(sheet=sheet.name))
        hr, c1 = found + 1, 1
        grid = whole[found:]
    headers, rows = (grid[0], grid[1:]) if grid else ([], [])
    return RawTable(headers, rows, sheet=sheet.name, header_row=hr,
                    col_numbers=list(range(c1, c1 + len(headers))), header_note=note)


def _base_dir(book, options: Options) -> Path | None:
    if options.remote:
        return None
    try:
        path = Path(book.fullname)
    except Exception:  # an unsaved book or a cloud URL has no folder
        return None
    return path.parent if path.parent.is_dir() else None


def _guard_remote_settings(rows: list[tuple[Any, Any, str]]) -> None:
    """A remote workbook may name a rules file in the rules folders, nothing else."""
    for label, value, where in rows:
        if label is None or value in (None, "") or not isinstance(label, str):
            continue
        key = normalise(label)
        if key in ("pluginfolder", "dossierdesplugins"):
            raise UserError(_("the server does not load plugin folders named in a workbook; "
                              "leave Plugin folder blank (the server's administrator can start "
                              "potentiel serve --plugins DIR)"), where)
        if key in ("rulesfile", "fichierderegles"):
            p = PurePath(str(value).strip().replace("\\", "/"))
            if p.is_absolute() or ".." in p.parts or str(value).strip().startswith("~") \
                    or ":" in str(value):
                raise UserError(_('"{value}": on the server, name a rule file of the rules '
                                  "folder (e.g. default or clients/acme), not a path").format(
                                    value=value), where)


# --------------------------------------------------------------------------- writing


def write_block(sheet, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
    """One setValues for a rectangle; rows are padded to the same width."""
    if not len(values):
        return
    remote = _remote(sheet)
    grid = prepare_block(values, dates_as_text=remote)
    if not grid or not grid[0]:
        return
    _set(sheet, row, col, grid, remote)


def write_outputs(area: AccountsArea, outputs) -> None:
    """The output columns next to the inputs: header plus every data row, one setValues per
    contiguous run of output columns; input columns are never written."""
    raw, sheet = area.raw, area.sheet
    plan = place_outputs(raw.headers, area.first_col, area.last_col, list(outputs.columns),
                         raw.owned)
    n = area.last_row - area.header_row
    if plan.new:
        _check_free(area, [plan.columns[name] for name in plan.new])
    remote = _remote(sheet)
    for first, rows in output_blocks(outputs, plan.columns, n, dates_as_text=remote,
                                     headers=plan.headers):
        _set(sheet, area.header_row, first, rows, remote)
    book = sheet.book
    marks = book_marks(book)
    for name, col in plan.columns.items():
        key = key_of(name)
        if marks.columns.get(key) != (sheet.name, col) or marks.adopted:
            _mark(book, COL, key, sheet.name, area.header_row, col)
            marks.columns[key] = (sheet.name, col)
    if marks.adopted:  # a workbook scored before markers: its output sheets are marked too
        for key, name in marks.sheets.items():
            _mark(book, SHEET, key, name, 1, 1)
    if n > 0:
        for run in column_runs(plan.stale):
            sheet.range((area.header_row + 1, run[0]), (area.last_row, run[-1])).clear_contents()
    if plan.new and area.table is not None:
        last = area.table.range.row + area.table.range.shape[0] - 1
        area.table.resize(sheet.range((area.header_row, area.first_col), (last, plan.last_col)))
    return plan


def _check_free(area: AccountsArea, cols: list[int]) -> None:
    """New output columns go right of the table: refuse if a cell there holds something
    (past the used range every cell is empty)."""
    for run in column_runs(cols):
        beside = area.beside
        if beside is None:  # a live book: read only these cells
            rows = _grid(area.sheet.range((area.header_row, run[0]), (area.last_row, run[-1])))
            beside = [[None] * (run[0] - area.last_col - 1) + r for r in rows]
        for i, line in enumerate(beside):
            for col in run:
                j = col - area.last_col - 1
                if 0 <= j < len(line) and line[j] not in (None, ""):
                    raise UserError(_("cannot add the output columns: the cells to the right "
                                      "of the accounts are not empty; move what is in column "
                                      "{column} or leave it free").format(
                                        column=column_letter(col)),
                                    cell_ref(area.sheet.name, area.header_row + i, col))


def _owned_sheet(book, name: str):
    """Potentiel's output sheet ``name`` found by its marker, or None."""
    have = book_marks(book).sheets.get(key_of(name))
    if have is None:
        return None
    return next((s for s in book.sheets if s.name.casefold() == have.casefold()), None)


def _sheet(book, name: str):
    """Potentiel's output sheet ``name``, created and marked if missing. A user's sheet of
    that name is never written: Potentiel's gets another name (``Summary (Potentiel)``)."""
    sheet = _owned_sheet(book, name)
    wanted = _(name)
    marks = book_marks(book)
    if sheet is not None:
        if not _named_for(sheet.name, wanted) and _potentiel_name(sheet.name, name):
            new = free_name(wanted, [s.name for s in book.sheets if s.name != sheet.name])
            sheet.name = new  # the language changed: Excel renames, names and charts follow
            marks.sheets[key_of(name)] = new
        return sheet
    taken = [s.name for s in book.sheets]
    new = free_name(wanted, taken)
    sheet = book.sheets.add(new, after=book.sheets[len(book.sheets) - 1])
    _created(book).add(new.casefold())
    if new != wanted:
        marks.notices.append(own_sheet_notice(wanted, new, taken))
    marks.sheets[key_of(name)] = new
    _mark(book, SHEET, key_of(name), new, 1, 1)
    return sheet


def _created(book) -> set[str]:
    """Names (casefolded) of the output sheets this run added to ``book``."""
    created = getattr(book, "_potentiel_created", None)
    if created is None:
        created = set()
        try:
            book._potentiel_created = created
        except AttributeError:
            pass
    return created


def write_blocks(book, name: str, blocks: list[Block], look: SheetLook | None = None) -> None:
    """Write ``blocks`` on Potentiel's output sheet ``name``; a sheet this run added is then
    finished with ``look`` (`potentiel.sheet_styles`, see `_finish_sheet`)."""
    sheet = _sheet(book, name)
    for b in blocks:
        if b.clear_to_row:
            width = b.clear_cols or max(len(r) for r in b.values)
            first = b.row + len(b.values)
            if b.clear_to_row >= first:
                sheet.range((first, b.col), (b.clear_to_row, b.col + width - 1)).clear_contents()
        write_block(sheet, b.row, b.col, b.values)
    if look is not None and sheet.name.casefold() in _created(book):
        _finish_sheet(sheet, blocks, look)


def _finish_sheet(sheet, blocks: list[Block], look: SheetLook) -> None:
    """Number formats and fills of a sheet Potentiel added, then its columns autofitted:
    what xlwings' VBA client can do (``setNumberFormat``, ``setRangeColor``,
    ``setAutofit``; no fonts, widths or charts, so fills are the light ones of
    `potentiel.sheet_styles.Look.without_font`). A sheet that existed keeps its formats."""
    fit: list[tuple[int, int, int, int]] = []
    for b in blocks:
        for part in b.formats or ():
            cells = (b.row + part.row, b.col + part.col,
                     b.row + part.row + part.rows - 1, b.col + part.col + part.cols - 1)
            rng = sheet.range(cells[:2], cells[2:])
            plain = part.look.without_font()
            if plain.number_format:
                rng.number_format = plain.number_format
            if plain.fill:
                rng.color = plain.fill
            if part.fit:
                fit.append(cells)
    for col, column_look in look.column_looks.items():
        if column_look.number_format:
            sheet.range((look.column_looks_from, col), (LAST_ROW, col)).number_format = \
                column_look.number_format
    for r1, c1, r2, c2 in fit:
        sheet.range((r1, c1), (r2, c2)).columns.autofit()


def _read_check(book):
    """What the last run wrote in Potentiel's columns, from its Reading sheet (see
    `potentiel.sources.fingerprint`); None when there is none."""
    from .sources.fingerprint import CHECK_COL, read_check
    sheet = _owned_sheet(book, READING_SHEET)
    if sheet is None:
        return None
    last_row, last_col = _used_bounds(sheet)
    if last_col < CHECK_COL:
        return None
    return read_check(_grid(sheet.range((1, CHECK_COL), (last_row, CHECK_COL + 1)))) or None


def _previous_rep_rows(book) -> int:
    sheet = _owned_sheet(book, SUMMARY_SHEET)
    if sheet is not None:
        return max(0, _used_bounds(sheet)[0] - SUMMARY_REP_ROW)
    return 0


def append_log(book, row: list[Any]) -> None:
    """The run's row under the last filled row of the Log (headers written if missing)."""
    sheet = _sheet(book, LOG_SHEET)
    last_row = _used_bounds(sheet)[0]
    first = _grid(sheet.range((1, 1), (max(last_row, 1), 1)))
    filled = [i + 1 for i, r in enumerate(first) if r and r[0] not in (None, "")]
    headers = [_(h) for h in LOG_HEADERS]  # in the run's language, rewritten each time
    if not filled:
        write_blocks(book, LOG_SHEET, finished("log", [Block(1, 1, [headers, row])]),
                     SHEETS["log"])
    else:
        now = _grid(sheet.range((1, 1), (1, len(headers))))
        if not now or list(now[0]) != headers:  # the language changed
            write_block(sheet, 1, 1, [headers])
        write_block(sheet, filled[-1] + 1, 1, [row])


def _named_cells(book, name: str) -> list[tuple[Any, Any]]:
    """Every (sheet, range) a name such as ``Accounts!PotentielStatus`` points to."""
    out = []
    for n in book.names:
        try:
            full = n.name
            if full.rsplit("!", 1)[-1].casefold() != name.casefold():
                continue
            rng = n.refers_to_range
        except Exception:  # a name pointing to #REF! or to a constant
            continue
        out.append((rng.sheet, rng))
    return out


def write_status(book, text: str) -> None:
    for _sheet_, rng in _named_cells(book, STATUS_NAME):
        write_block(rng.sheet, rng.row, rng.column, [[text[:STATUS_MAX]]])


def _now(options: Options) -> dt.datetime:
    return (options.when or dt.datetime.now()).replace(microsecond=0)


def _message_row(when: dt.datetime, what: str, problems: list[Problem], rules: str = "") -> list[Any]:
    """A Log row for a run that wrote no outputs (a user error, a rules check)."""
    text = "; ".join(str(p) for p in problems[:20])
    if len(problems) > 20:
        text += "; " + _("… and {n} more").format(n=len(problems) - 20)
    row: list[Any] = [None] * len(LOG_HEADERS)
    row[0], row[1], row[4] = when, rules, what
    row[LOG_HEADERS.index("Warnings")] = len(problems)
    row[LOG_HEADERS.index("Messages")] = text[:32000]
    return row


def _report_error(book, action: str, exc: UserError, options: Options) -> Outcome:
    problems = exc.problems
    first = str(problems[0]) if problems else str(exc)
    more = _(" (+{n} more, see {log})").format(n=len(problems) - 1, log=_(LOG_SHEET)) \
        if len(problems) > 1 else ""
    message = _("Error ({action}): {message}").format(action=action_word(action).lower(),
                                                      message=first) + more
    write_status(book, message)
    append_log(book, _message_row(_now(options), _("{action}: error, nothing written").format(
        action=action_word(action)), problems))
    return Outcome(False, action, message)


def _guarded(action: str) -> Callable:
    """User errors become the status cell and a Log row; anything else is a bug and raises."""
    def wrap(fn: Callable) -> Callable:
        def entry(book, options: Options | None = None, **kw: Any) -> Outcome:
            options = options or Options(**kw)
            with use_language(book_language(book)):
                try:
                    return fn(book, options)
                except UserError as exc:
                    return _report_error(book, action, exc, options)
        entry.__name__, entry.__doc__ = fn.__name__, fn.__doc__
        entry.__wrapped__ = fn  # type: ignore[attr-defined]
        return entry
    return wrap


# --------------------------------------------------------------------------- entry points


def book_language(book) -> str:
    """The workbook's language (`pipeline.run_language`) from the Settings and the Accounts
    header row, read cheaply (the header row only); English when they cannot be read (the
    entry point then reports why, in English)."""
    from .pipeline import run_language
    try:
        rows = read_settings(book)
        sheet, table = _find_table(book, ACCOUNTS_NAMES)
        if sheet is None:
            sheet = _find_sheet(book, ACCOUNTS_NAMES)
            if sheet is None:
                return run_language(rows)
            table = next(iter(sheet.tables), None)
        owned = book_marks(book).columns_on(sheet.name)
        if table is not None and table.header_row_range is not None:
            head = table.header_row_range
            headers = _grid(head)[0]
            cols = list(range(head.column, head.column + len(headers)))
        else:
            last_row, last_col = _used_bounds(sheet)
            grid = _grid(sheet.range((1, 1), (min(last_row, 30), last_col)))
            headers = [v for r in grid for v in r]
            cols = [j + 1 for r in grid for j in range(len(r))]
        return run_language(rows, headers, owned, cols)
    except Exception:  # a book that cannot be read says so in the entry point itself
        return "en"


def _score(book, options: Options, area: AccountsArea | None = None):
    from .pipeline import score_tables

    rows = read_settings(book)
    if options.remote:
        _guard_remote_settings(rows)
    area = area or read_accounts(book, rows)
    result = score_tables(area.raw, rows, read_salespeople(book), plugin_dirs=options.plugin_dirs,
                          base_dir=_base_dir(book, options), plugins=options.plugins,
                          sales=read_sales(book))
    marks = book_marks(book)
    if marks.adopted:
        where, what = marks.adopted
        result.warnings.insert(0, Problem(
            _("{what} were written by an earlier version of Potentiel (no marker); they are "
              "taken as Potentiel's and marked now").format(what=what), where, kind="adopted"))
    return area, result


@_guarded("recompute")
def recompute(book, options: Options) -> Outcome:
    """Validate Settings and rules, score every account, write the outputs, a Log row."""
    return _recompute(book, options)


def _recompute(book, options: Options, more_sheets: Callable | None = None) -> Outcome:
    """`recompute`'s work. ``more_sheets(result, previous_rows)``: more sheets to write
    (the Plan action's `potentiel.plan.sheets.OutputSheet` list); ``previous_rows(name)``
    is the rows that sheet used before."""
    from .report import counts_text

    area, result = _score(book, options)
    # Everything is computed before the first write: a failure leaves the book as it was.
    matrix = matrix_blocks(result)
    summary = summary_blocks(result, _previous_rep_rows(book))
    sheets, problems = extra_sheets(result, result.output_sheets)
    result.warnings.extend(Problem(p) for p in problems)
    planned = more_sheets(result, lambda name: _used_rows(book, name)) if more_sheets else []
    when = _now(options)
    history_sheets, write_history = _keep_history(book, result, options, when)
    # Potentiel's sheets are added before any cell is written: Excel refuses a name taken
    # by a sheet the client did not send (xlwings' VBA client sends worksheets only, not
    # chart sheets), and its refusal must then find the workbook's cells as they were.
    for name in (MATRIX_SHEET, SUMMARY_SHEET, *sheets, *(m.name for m in planned),
                 *history_sheets, READING_SHEET, LOG_SHEET):
        _sheet(book, name)
    for name in (EXPLAIN_SHEET, PLAN_SHEET, OBJECTIVES_SHEET, TERRITORY_SHEET, TOURS_SHEET):
        if _owned_sheet(book, name) is not None:
            _sheet(book, name)  # named in the run's language too
    write_added_accounts(area, result)
    plan = write_outputs(area, result.outputs)
    result.warnings.extend(own_column_notices(plan, area.sheet.name, area.header_row))
    write_blocks(book, MATRIX_SHEET, finished("matrix", matrix), SHEETS["matrix"])
    write_blocks(book, SUMMARY_SHEET, finished("summary", summary), SHEETS["summary"])
    for name, blocks in sheets.items():
        write_blocks(book, name, blocks)
    for more in planned:  # Plan, Objectives, Tours (potentiel.plan)
        write_blocks(book, more.name, more.blocks, more.look)
        _restyle(book, more.name, more.restyle)
    write_history()
    result.warnings.extend(book_marks(book).notices)
    write_blocks(book, READING_SHEET,
                 finished("reading", reading_blocks(result, area.raw, clear_rows=5000)),
                 SHEETS["reading"])
    append_log(book, log_row(result, when))
    n = len(result.accounts)
    n_warn = warning_count(result.warnings)
    warn = _("; {n} warning(s), see {log}").format(n=n_warn, log=_(LOG_SHEET)) if n_warn else ""
    message = ngettext("Recomputed {n} account at {time} (rules {rules}): {counts}",
                       "Recomputed {n} accounts at {time} (rules {rules}): {counts}", n).format(
        n=n, time=f"{when:%H:%M}", rules=Path(result.rules_name).name or result.rules_name,
        counts=counts_text(result)) + warn
    write_status(book, message)
    return Outcome(True, "recompute", message, result)


@_guarded("check-rules")
def check_rules(book, options: Options) -> Outcome:
    """Check the Settings sheet and the rule file it names; nothing is scored or written
    but the status cells and a Log row."""
    from .config import read_settings as parse_settings
    from .manager import load_plugins
    from .pipeline import _resolve_dir, _setting, resolve_rules_file

    rows = read_settings(book)
    if options.remote:
        _guard_remote_settings(rows)
    base = _base_dir(book, options)
    plugins = options.plugins
    if plugins is None:
        folder = _setting(rows, ("Plugin folder", "Dossier des plugins"))
        dirs = [*options.plugin_dirs, *([_resolve_dir(folder[0], base)] if folder else [])]
        plugins = load_plugins(dirs)
    overrides, warnings = parse_settings(rows, set(plugins.criteria))
    name = overrides.values.get("Rules file")
    path = resolve_rules_file(name, base, overrides.where.get("Rules file", ""))
    problems, summary = _check_ruleset(path, plugins)
    problems = [*problems, *plugins.problems, *warnings]
    errors = [p for p in problems if p.level == "error"]
    shown = path.name if path else "default"
    when = _now(options)
    more = _(" (see {log})").format(log=_(LOG_SHEET)) if len(problems) > 1 else ""
    if errors:
        message = _("Rules {rules}: {n} error(s): {first}").format(
            rules=shown, n=len(errors), first=errors[0]) + more
    elif problems:
        message = _("Rules {rules}: OK, {n} warning(s): {first}").format(
            rules=shown, n=len(problems), first=problems[0]) + more
    else:
        message = _("Rules {rules}: OK{note} (checked at {time})").format(
            rules=shown, note=summary, time=f"{when:%H:%M}")
    write_status(book, message)
    verdict = _("errors") if errors else (_("OK with warnings") if problems else _("OK"))
    append_log(book, _message_row(when, _("Check rules: {verdict}").format(verdict=verdict),
                                  problems,
                                  str(path) if path else "default"))
    return Outcome(not errors, "check-rules", message, problems)


def _check_ruleset(path: Path | None, plugins) -> tuple[list[Problem], str]:
    """``rules.check_ruleset`` (errors and lint warnings, never raises) when the rules
    package has it; else loading the rule file is the check."""
    from . import rules as rules_pkg

    args = (path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    if hasattr(rules_pkg, "check_ruleset"):
        return list(rules_pkg.check_ruleset(*args)), ""
    if hasattr(rules_pkg, "load_ruleset"):
        try:
            rules_pkg.load_ruleset(*args)
        except UserError as exc:
            return list(exc.problems), ""
        return [], ""
    return [], _(" (no rules engine installed: Settings checked only)")


def _selected_position(book, area: AccountsArea, action: str = "explain") -> tuple[int, int]:
    """The data-row position and sheet row of the selected account (for ``action``)."""
    where = _("the Accounts table ({first}–{last})").format(first=area.raw.header_row + 1,
                                                          last=area.last_row)
    try:
        sel = book.selection
        sheet, row, col = sel.sheet.name, sel.row, sel.column
    except (AttributeError, TypeError):  # nothing selected, or a shape
        sheet = row = col = None
    if sheet != area.sheet.name:
        if action != "explain":
            raise UserError(_("select a cell in an account's row in {where}, then run "
                              "{action}").format(where=where, action=action_word(action)))
        raise UserError(_("select a cell in an account's row in {where}, then run "
                          "Explain").format(where=where))
    if not area.header_row < row <= area.last_row:
        raise UserError(_("row {row} is not an account row; select a cell in {where}").format(
            row=row, where=where), cell_ref(area.sheet.name, row, col))
    return row - area.header_row - 1, row


@_guarded("explain")
def explain(book, options: Options) -> Outcome:
    """Score, then write why the selected account has its category to the Explain sheet."""
    area = read_accounts(book)
    pos, row = _selected_position(book, area)
    result = _score(book, options, area)[1]
    if pos not in result.accounts.index:
        raise UserError(_("row {row} is empty; select a row with an account").format(row=row),
                        cell_ref(area.sheet.name, row, area.first_col))
    where = cell_ref(area.sheet.name, row, area.first_col)
    blocks = explain_blocks(result, pos, where)
    write_blocks(book, EXPLAIN_SHEET, blocks)
    ident = result.accounts.at[pos, "id"] if "id" in result.accounts else None
    explained = _sheet(book, EXPLAIN_SHEET)
    explained.activate()
    message = _("Explained account {id} ({where}): see the {sheet} sheet").format(
        id=ident or _("(no id)"), where=where, sheet=explained.name)
    write_status(book, message)
    return Outcome(True, "explain", message, result)


# --- the plan (potentiel.plan): the Plan and Territory actions -----------------------------

def _sheet_name(book, name: str) -> str:
    """The name Potentiel's sheet ``name`` (English name) has in the workbook."""
    sheet = _owned_sheet(book, name)
    return sheet.name if sheet is not None else _(name)


def _used_rows(book, name: str) -> int:
    """The rows Potentiel's sheet ``name`` (English name) uses now; 0 when there is none."""
    sheet = _owned_sheet(book, name)
    return _used_bounds(sheet)[0] if sheet is not None else 0


def _restyle(book, name: str, looks: dict) -> None:
    """Colour and number format of cells whose look follows the values, set at every run
    ((row, column) → `potentiel.sheet_styles.Look`: the Plan's load); one action per run
    of equal looks down a column. Where a look has no fill, a live book clears the fill
    and a remote one (whose client sets colours only) paints it white."""
    if not looks:
        return
    sheet = _sheet(book, name)
    remote = _remote(sheet)
    cells = sorted(looks.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    runs: list[list] = []
    for (r, c), look in cells:
        last = runs[-1] if runs else None
        if last and last[1] == c and last[3] == look and last[2] == r - 1:
            last[2] = r
        else:
            runs.append([r, c, r, look])
    for r1, c, r2, look in runs:
        rng = sheet.range((r1, c), (r2, c))
        plain_look = look.without_font()
        if plain_look.number_format:
            rng.number_format = plain_look.number_format
        rng.color = plain_look.fill or ("#FFFFFF" if remote else None)


@_guarded("plan")
def plan(book, options: Options) -> Outcome:
    """Recompute, then write the plan (`potentiel.plan`): the Plan sheet (visits against
    each rep's capacity, reps needed), the Objectives sheet (targets, action list) and the
    Tours sheet (each rep's day tours; the accounts not placed are warnings at their
    cells, in the Reading sheet)."""
    from .plan.sheets import build

    made: dict[str, Any] = {}

    def sheets(result, previous) -> list:
        made["plan"] = built = build(result, None, previous)
        result.warnings.extend(built.problems)
        return built.sheets

    done = _recompute(book, options, sheets)
    work = made["plan"].workload
    p = work.portfolio
    over = int(sum(1 for load in work.reps["load"] if load is not None and load > 1))
    shown = _sheet(book, PLAN_SHEET)
    shown.activate()
    needed = "-" if p["reps_needed"] is None else f"{float(p['reps_needed']):.2f}"
    tours = made["plan"].tours
    message = _("Plan at {time}: {needed} reps needed by the workload method ({today} today), "
                "{over} over capacity; {days:,} day tours, {lost:,} account(s) not placed; "
                "see the {sheet}, {objectives} and {tours} sheets").format(
        time=f"{_now(options):%H:%M}", needed=needed, today=p["reps_today"], over=over,
        days=len(tours.days), lost=len(tours.unplaced), sheet=shown.name,
        objectives=_sheet_name(book, OBJECTIVES_SHEET), tours=_sheet_name(book, TOURS_SHEET))
    write_status(book, message)
    return Outcome(True, "plan", message, done.result)


@_guarded("territory")
def territory(book, options: Options) -> Outcome:
    """Score, then write the territory of the rep of the selected account's row (the
    Territory sheet: A accounts, fragility zone, prospects within reach)."""
    from .plan.sheets import build

    area = read_accounts(book)
    pos, row = _selected_position(book, area, "territory")
    result = _score(book, options, area)[1]
    where = cell_ref(area.sheet.name, row, area.first_col)
    rep = result.accounts.at[pos, "salesperson"] \
        if pos in result.accounts.index and "salesperson" in result.accounts else None
    if not isinstance(rep, str) or not rep.strip():
        raise UserError(_("the account of row {row} has no salesperson; select a row of the "
                          "rep whose territory you want").format(row=row), where)
    built = build(result, rep, lambda name: _used_rows(book, name), tours=False)
    sheet = next(s for s in built.sheets if s.name == TERRITORY_SHEET)
    _sheet(book, TERRITORY_SHEET)
    write_blocks(book, sheet.name, sheet.blocks, sheet.look)
    _restyle(book, sheet.name, sheet.restyle)
    shown = _sheet(book, TERRITORY_SHEET)
    shown.activate()
    t = built.territory
    message = _("Territory of {rep}: {a} {letter} account(s), {f} in the fragility zone, {p} "
                "prospect(s) within {reach:g} km; see the {sheet} sheet").format(
        rep=t.rep, a=len(t.first), letter=t.first_letter, f=len(t.fragile), p=len(t.prospects),
        reach=t.reach, sheet=shown.name)
    write_status(book, message)
    return Outcome(True, "territory", message, result)


# --------------------------------------------------------------------------- check before you change


def _account_text(key: str) -> str:
    """An account id to write as text: one Excel would read as a number, a date or a
    boolean (``007``, ``2024-01``, ``TRUE``) gets the apostrophe that keeps it text."""
    if key[:1].isdigit() or key[:1] in "+-.'" or key[:1].isspace() or \
            key.upper() in ("TRUE", "FALSE", "VRAI", "FAUX"):
        return "'" + key
    return key


def _history_file(book, rows: list[tuple[Any, Any, str]], options: Options):
    """(History settings, the History file or None): a file only on the desktop, beside
    a saved workbook; elsewhere the hidden History sheet keeps the runs (said)."""
    from .review.history import history_settings
    hs = history_settings(rows)
    if hs.file is None:
        return hs, None
    where = hs.where.get("file", "")
    base = _base_dir(book, options)
    p = Path(hs.file).expanduser()
    if options.remote or (not p.is_absolute() and base is None):
        why = (_("the server writes no file") if options.remote else
               _("the workbook is not saved in a folder yet"))
        book_marks(book).notices.append(Problem(
            _("History file: {why}; the history is kept on the {sheet} sheet").format(
                why=why, sheet=_(HISTORY_SHEET)), where, level="notice", kind="history-file"))
        return hs, None
    return hs, (p if p.is_absolute() else base / p)


def _kept_history(book, file):
    """(the kept runs, the History sheet's last used row): from the History file; from the
    History sheet when there is no file yet (its runs then go on in the file)."""
    from .review.history import HEADERS, from_grid, read_file
    if file is not None and file.exists():
        return read_file(file), 0
    sheet = _owned_sheet(book, HISTORY_SHEET)
    if sheet is None:
        return from_grid([]), 0
    last_row, last_col = _used_bounds(sheet)
    grid = _grid(sheet.range((1, 1), (last_row, max(last_col, len(HEADERS)))))
    return from_grid(grid, sheet.name), last_row


def _keep_history(book, result, options: Options, when: dt.datetime):
    """The run's snapshot and the Changes sheet (`potentiel.review.history`), read and
    computed before anything is written. Returns the sheets to add first and the function
    that writes them (the History sheet, when this run adds it, is hidden on the desktop;
    xlwings' remote clients cannot hide a sheet, so there it stays visible, last)."""
    from .review.history import (MAX_SHEET_ROWS, LazyNames, Run, changes, changes_blocks,
                                 run_model, sheet_blocks, snapshot, write_file)
    rows = read_settings(book)
    hs, file = _history_file(book, rows, options)
    history, used = _kept_history(book, file)
    run = Run(history.next_run(), when.replace(second=0, microsecond=0), result.rules_name,
              run_model(result))
    history.add(snapshot(result, run.date, run.run), run, hs.runs,
                None if file is not None else MAX_SHEET_ROWS, len(result.accounts))
    ch = changes(history, hs.since, LazyNames(result), hs.where.get("since", ""))
    result.warnings.extend(ch.notices)
    kept = None if file is not None else sheet_blocks(history, hs.runs, used, _account_text)
    shown = _owned_sheet(book, CHANGES_SHEET)
    blocks = changes_blocks(ch, _used_bounds(shown)[0] if shown is not None else 0,
                            _account_text)

    def write() -> None:
        if kept is not None:
            write_blocks(book, HISTORY_SHEET, kept)
            sheet = _sheet(book, HISTORY_SHEET)
            if not _remote(sheet) and sheet.name.casefold() in _created(book):
                sheet.visible = False  # once, when added: a sheet someone unhid stays so
        write_blocks(book, CHANGES_SHEET, blocks)
        if file is not None:
            write_file(history, file)

    return ([HISTORY_SHEET] if kept is not None else []) + [CHANGES_SHEET], write


@_guarded("preview")
def preview(book, options: Options) -> Outcome:
    """Score with the current Settings and rules, write no output, and show on the Preview
    sheet which accounts would move between categories and why (`potentiel.review.preview`)."""
    from .review.preview import LOOK, preview as compare, preview_blocks, summary_text

    area, result = _score(book, options)
    history = _kept_history(book, _history_file(book, read_settings(book), options)[1])[0]
    shown = compare(result, area.raw, history)
    before = _owned_sheet(book, PREVIEW_SHEET)
    write_blocks(book, PREVIEW_SHEET, preview_blocks(shown, _used_bounds(before)[0]
                                                     if before is not None else 0,
                                                     _account_text), LOOK)
    sheet = _sheet(book, PREVIEW_SHEET)
    sheet.activate()
    message = _("Preview: {summary}; nothing else was written (see the {sheet} sheet)").format(
        summary=summary_text(shown), sheet=sheet.name)
    write_status(book, message)
    return Outcome(True, "preview", message, shown)


# --------------------------------------------------------------------------- backtest


@_guarded("backtest")
def backtest(book, options: Options) -> Outcome:
    """Last year's categories (the files Settings names in Last year's file; none named:
    the workbook's own history, its run about a year before the last) against this
    year's revenue (the accounts, or their Sales sheet): the Backtest sheet and suggested
    weights (`potentiel.review`), and a Log row. Nothing else is written. On the server
    no file a workbook names is read: the action says so."""
    from .review.backtest import BACKTEST_SHEET, STYLED_ROWS, backtest_blocks
    from .review.files import compute, sheet_look

    rows = read_settings(book)
    files: list = _last_year_files(rows, book, options)
    if not files:
        files = [_history_snapshot(book, rows, options)]
    area, result = _score(book, options)
    when = _now(options)
    bt, proposals = compute(result, area.raw, Path(book.name), files, None, rows)
    blocks = backtest_blocks(bt, proposals, chart_note=_(
        "No chart here: Excel's buttons write values and formats only; potentiel backtest "
        "on the command line draws the chart of the lift per category."))
    sheet = _sheet(book, BACKTEST_SHEET)
    created = sheet.name.casefold() in _created(book)
    if not created:  # the fixed rows take this run's formats (an unused slot none)
        sheet.range((STYLED_ROWS[0], 1), (STYLED_ROWS[1], 12)).clear_formats()
    write_blocks(book, BACKTEST_SHEET, blocks, sheet_look())
    if not created:
        _finish_sheet(sheet, blocks, sheet_look())
    groups = "; ".join(f"{g.name or _('all')}: ρ {g.rho:.2f}" for g in bt.groups
                       if g.rho is not None)
    message = _("Backtest of {n} accounts against {last}{groups}: see the {sheet} "
                "sheet").format(n=bt.matched, last=bt.snapshot.label,
                                groups=f" ({groups})" if groups else "", sheet=sheet.name)
    write_status(book, message)
    append_log(book, _message_row(when, message, bt.problems, result.rules_name))
    return Outcome(True, "backtest", message, (bt, proposals))


def _history_snapshot(book, rows: list[tuple[Any, Any, str]], options: Options):
    """Last year's snapshot from the workbook's own history (its History file, on the
    desktop, or its History sheet): the run about a year before the last. Raises
    `UserError` naming the Settings row to fill when no run is that old."""
    from .review.files import history_snapshot
    file = _history_file(book, rows, options)[1]
    history = _kept_history(book, file)[0]
    if file is not None and file.exists():
        place = file.name
    else:
        sheet = _owned_sheet(book, HISTORY_SHEET)
        place = sheet.name if sheet is not None else _(HISTORY_SHEET)
    return history_snapshot(history, book.name, place, _(
        "name last year's scored workbook in Settings, row Last year's file, then run "
        "Backtest again"))


def _last_year_files(rows: list[tuple[Any, Any, str]], book, options: Options) -> list[Path]:
    """The files the Settings row Last year's file names (several: separated by ;),
    relative to the workbook's folder; none when the row is blank (the workbook's own
    history is used). Raises `UserError` on the server, or for a missing file."""
    found = next(((value, where) for label, value, where in rows
                  if label is not None and normalise(label) in (
                      "lastyearsfile", "fichierdelandernier") and value not in (None, "")),
                 None)
    if found is None:
        return []
    value, where = found
    if options.remote:
        raise UserError(_("on the server, Backtest reads no file a workbook names; run "
                          "potentiel backtest THIS.xlsx --last LAST.xlsx on a computer that "
                          "has both files"), where)
    base = _base_dir(book, options)
    out = []
    for name in (p.strip() for p in str(value).split(";")):
        if not name:
            continue
        p = Path(name).expanduser()
        if not p.is_absolute() and base is not None:
            p = base / p
        if not p.is_file():
            raise UserError(_('"{name}" is not a file (looked for {path}); give the path of '
                              "last year's scored workbook").format(name=name, path=p), where)
        out.append(p)
    return out


ENTRY_POINTS: dict[str, Callable[..., Outcome]] = {
    "recompute": recompute, "check-rules": check_rules, "explain": explain, "plan": plan,
    "territory": territory, "preview": preview, "backtest": backtest}


def parse_action(text: Any) -> str | None:
    """The action an action cell names (English or French); blank is Recompute."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return "recompute"
    word = normalise(str(text).split("·")[0]) or normalise(text)
    for key, (en, fr) in ACTIONS.items():
        if word in (normalise(en), normalise(fr), normalise(key)) or \
                normalise(text) == normalise(action_label(key)):
            return key
    return None


def run_button(book, options: Options | None = None, **kw: Any) -> Outcome:
    """The workbook's button: run the action named in the active sheet's action cell.

    RunPython does not say which button was pressed, so the cell beside the button
    decides; after another action it is set back to Recompute, so the button's caption
    stays true.
    """
    options = options or Options(**kw)
    active = book.sheets.active
    cells = [rng for sheet, rng in _named_cells(book, ACTION_NAME) if sheet.name == active.name]
    text = cells[0].value if cells else None
    key = parse_action(text)
    if key is None:
        choices = ", ".join(action_label(k) for k in ACTIONS)
        with use_language(book_language(book)):
            return _report_error(book, "recompute", UserError(
                _('"{text}" is not an action; choose {choices}').format(text=text,
                                                                      choices=choices),
                cell_ref(active.name, cells[0].row, cells[0].column)), options)
    outcome = ENTRY_POINTS[key](book, options)
    if key != "recompute" and cells:
        write_block(cells[0].sheet, cells[0].row, cells[0].column, [[action_label("recompute")]])
    return outcome


# --------------------------------------------------------------------------- remote


class PayloadError(ValueError):
    """The request body is not a workbook payload this server can use (HTTP 400)."""


def remote_available() -> str | None:
    """None when xlwings' remote interpreter can run here, else why not."""
    if not getattr(xw, "__pro__", False):
        return ("xlwings Server mode needs an xlwings PRO licence key in XLWINGS_LICENSE_KEY "
                "(the key noncommercial is free for non-commercial use only); set it before "
                "starting the server")
    return None


_CELL_TYPES = frozenset({str, int, float, bool, type(None)})
MAX_NAME_CELLS = 1_000_000  # a named range the entry points read (status, action cells)
_TABLE_KEYS = ("name", "range_address", "header_row_range_address", "data_body_range_address",
               "total_row_range_address", "show_headers", "show_totals")


def check_payload(payload: Any) -> None:
    """Refuse what xlwings' clients never send, with a message naming the field."""
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise PayloadError(f"not an xlwings workbook payload: {what}")

    need(isinstance(payload, dict), "the body must be a JSON object")
    need(isinstance(payload.get("client"), str), '"client" must be a string')
    version = payload.get("version")
    need(isinstance(version, str), '"version" must be a string')
    if version != xw.__version__:
        raise PayloadError(
            f"xlwings version mismatch: the workbook's client is {version}, this server runs "
            f"{xw.__version__}; both must be equal (pip install xlwings=={xw.__version__} and "
            "update the workbook's xlwings VBA module or add-in)")
    book = payload.get("book")
    need(isinstance(book, dict), '"book" must be an object')
    need(isinstance(book.get("name"), str), '"book.name" must be a string')
    sheets = payload.get("sheets")
    need(isinstance(sheets, list) and sheets, '"sheets" must be a non-empty list')
    ix = book.get("active_sheet_index")
    need(isinstance(ix, int) and not isinstance(ix, bool) and 0 <= ix < len(sheets),
         '"book.active_sheet_index" must be the index of a sheet')
    need(book.get("selection") is None or isinstance(book.get("selection"), str),
         '"book.selection" must be a cell address or null')
    book.setdefault("selection", None)  # xlwings reads the key itself
    names = payload.get("names")
    need(isinstance(names, list), '"names" must be a list')
    for i, n in enumerate(names):
        need(isinstance(n, dict) and isinstance(n.get("name"), str) and "book_scope" in n
             and isinstance(n.get("sheet_index"), (int, type(None)))
             and isinstance(n.get("address"), (str, type(None))),
             f'"names[{i}]" must have name, sheet_index, address and book_scope')
        address, index = n.get("address"), n.get("sheet_index")
        need(address is None or (_is_address(address)
                                 and _address_cells(address) <= MAX_NAME_CELLS),
             f'"names[{i}]" ({n["name"]}) must name a cell range of at most {MAX_NAME_CELLS:,} '
             "cells")
        need(index is None or 0 <= index < len(sheets),
             f'"names[{i}].sheet_index" must be the index of a sheet')
        scope = n.get("scope_sheet_index")
        need(n["book_scope"] is True or (
            n["book_scope"] is False and isinstance(n.get("scope_sheet_name"), str)
            and type(scope) is int and 0 <= scope < len(sheets)),
             f'"names[{i}]": a sheet-scoped name needs scope_sheet_name and scope_sheet_index')
    for i, s in enumerate(sheets):
        need(isinstance(s, dict) and isinstance(s.get("name"), str),
             f'"sheets[{i}]" must be an object with a name')
        values = s.get("values")
        need(isinstance(values, list) and all(isinstance(r, list) for r in values),
             f'"sheets[{i}].values" must be a list of rows')
        # one C-level pass over the cells: a payload holds 10^5-10^6 of them
        odd = set(map(type, chain.from_iterable(values))) - _CELL_TYPES
        if odd:
            first = next(v for v in chain.from_iterable(values) if type(v) in odd)
            need(False, f'"sheets[{i}].values" holds a {type(first).__name__}, '
                        "not a cell value")
        tables = s.get("tables", [])
        need(isinstance(tables, list), f'"sheets[{i}].tables" must be a list')
        for t in tables:
            need(isinstance(t, dict) and all(k in t for k in _TABLE_KEYS),
                 f'"sheets[{i}].tables" entries need {", ".join(_TABLE_KEYS)}')
            width = max((len(r) for r in values), default=0)
            for k in ("range_address", "header_row_range_address", "data_body_range_address",
                      "total_row_range_address"):
                need(t[k] is None or _is_address(t[k]), f'"{k}" of table "{t.get("name")}" '
                                                         "is not a cell range address")
                # The clients send every cell from A1 to the end of the used range, which
                # holds every table: one beyond it would be read as millions of blanks.
                row, col = _address_end(t[k]) if t[k] else (0, 0)
                need(row <= len(values) and col <= width,
                     f'table "{t.get("name")}" ({t[k]}) reaches beyond the cells sent for sheet '
                     f'"{s["name"]}" ({len(values)} rows, {width} columns)')
        need(isinstance(s.get("pictures", []), list), f'"sheets[{i}].pictures" must be a list')
        s.setdefault("pictures", [])
        s.setdefault("tables", [])


def _address_end(text: str) -> tuple[int, int]:
    """The last row and column of an A1 address such as ``$A$5:$AQ$205``."""
    from .xlsxsheet import split_ref
    return split_ref(text.split(":")[-1].upper())


def _address_cells(text: str) -> int:
    from .xlsxsheet import split_ref
    (r1, c1), (r2, c2) = (split_ref(p.upper()) for p in (text.split(":") * 2)[:2])
    return (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)


def _is_address(text: Any) -> bool:
    import re
    return isinstance(text, str) and re.fullmatch(
        r"\$?[A-Za-z]{1,3}\$?[0-9]{1,7}(:\$?[A-Za-z]{1,3}\$?[0-9]{1,7})?", text) is not None


@gcpause.during
def run_remote(action: str, payload: Any, options: Options | None = None) -> dict:
    """``xw.Book(json=payload)`` → the entry point → ``book.json()``; the book is closed."""
    if action not in ENTRY_POINTS:
        raise PayloadError(f"unknown action {action!r}")
    why = remote_available()
    if why:
        raise RuntimeError(why)
    check_payload(payload)
    options = options or Options(remote=True)
    options.remote = True
    try:
        book = xw.Book(json=payload)
    except (KeyError, IndexError, TypeError, ValueError, xw.XlwingsError) as exc:
        raise PayloadError(f"the workbook payload cannot be read: {type(exc).__name__}: {exc}") \
            from None
    try:
        ENTRY_POINTS[action](book, options)
        return book.json()
    except xw.NoSuchObjectError as exc:  # e.g. a selection or name outside the sheets sent
        raise PayloadError(f"the workbook payload refers to a range it does not hold ({exc})") \
            from None
    finally:
        book.close()
        _forget_payload_values()


def _forget_payload_values() -> None:
    """Drop what xlwings' remote engine cached of this payload's cells.

    Every range read caches a copy of its whole sheet's values, keyed on them, in an
    unbounded cache (``_xlremote.get_range_api``): a long-running server would keep every
    workbook it was sent (about 30 MB per 10,000-account request). For a run going on in
    another thread, clearing it costs at most a cache miss.
    """
    from xlwings.pro import _xlremote

    clear = getattr(getattr(_xlremote, "get_range_api", None), "cache_clear", None)
    if clear is not None:
        clear()


# --- invoice lines (potentiel.sources.invoices): the Sales / Ventes / Factures sheet --------

def read_sales(book) -> RawTable | None:
    """The invoice lines of the book's Sales / Ventes / Invoices / Factures sheet (or a table
    so named), in one bulk read; None when there is none."""
    from .sources.invoices import SALES_SHEET_NAMES, line_catalogue
    return _read_side_table(book, SALES_SHEET_NAMES, line_catalogue(), _(
        "sheet {sheet} is empty; paste the invoice lines with a header row (Code client, Date "
        "facture, Montant HT)"))


def write_added_accounts(area: AccountsArea, result) -> None:
    """Accounts the invoice lines added (Settings: Add accounts from invoice lines), written
    under the last account (id, name, status); the area and the Excel table grow."""
    sales = getattr(result, "sales", None)
    if sales is None or not sales.added:
        return
    headers = list(area.raw.headers)
    first = min(r for r, _ in sales.added)
    last = max(r for r, _ in sales.added)
    grid = [[None] * len(headers) for _ in range(last - first + 1)]
    for r, values in sales.added:
        for h, v in values.items():
            if h in headers:
                grid[r - first][headers.index(h)] = v
    _set(area.sheet, first, area.first_col, grid, _remote(area.sheet))
    area.last_row = last
    if area.table is not None:
        area.table.resize(area.sheet.range((area.header_row, area.first_col),
                                           (last, area.last_col)))
