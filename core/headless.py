"""The headless front end: read and write the workbook file itself, without Excel.

It finds the Accounts table (an Excel table named Accounts/Comptes, or the used range of a
sheet so named), the Settings and Salespeople sheets, hands plain values to the pipeline,
and writes back only what Potentiel owns: its output columns (next to the inputs, inside
the table) and its output sheets. Values are read with python-calamine; writing changes
only those cells in the sheet's XML and copies every other part of the file unchanged
(`potentiel.xlsxpackage`), so charts, macros, buttons and formats are kept exactly. The
file is written next to the target, compared part by part with the original (in place,
a part Potentiel does not own that would be dropped or changed stops the save) and then
moved into place (`potentiel.savefile`). Everything written is in the run's language; when
the language changed since the last run, Potentiel's own sheets are renamed (the sheet, the
defined names and the chart and cell formulas that name it) and its columns re-headed. Before python-calamine reads anything, the
package's sizes, part count and XML (no DTD) and the sheet's extent are checked.
openpyxl is used here only to build test payloads (`remote_payload`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
import threading
import weakref
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from .fields import (BUILTIN_FIELDS, NEAREST_REP_COLUMNS, OUTPUT_COLUMNS_HEAD, OUTPUT_COLUMNS_TAIL,
                     Catalogue, normalise)
from . import gcpause, keptcells, keptwatch, progress, xlsxstream
from .i18n import _, both, ngettext, use_language
from .layout import Placement, own_column_notices, place_outputs, settings_rows
from .pipeline import Result, run_language, score_tables
from .problems import Problem, UserError, cell_ref, column_letter
from .report import (EXPLAIN_SHEET, LOG_HEADERS, LOG_SHEET, MATRIX_SHEET, READING_SHEET,
                     SUMMARY_SHEET, SUMMARY_CATEGORY_ROW, SUMMARY_REP_ROW, Block, Rows,
                     reading_blocks, extra_sheets, log_row, matrix_blocks, plain, summary_blocks)
from .sheet_styles import CHART, SHEETS, SheetLook, finished
from .savefile import backup_path, check_target, save_atomic
from .sources.headers import column_map_rows, find_header_row, table_note
from .sources.ownership import (COL, SHEET, Marks, adopt_legacy, free_name, key_of, mark_name,
                                own_sheet_notice, parse_marks, refers_to, split_refers_to)
from .validate import ErrorCell, FormulaCell, RawTable
from .xlsxpackage import MAIN, NS, Package, SheetRef, UnreadSheet
from .xlsxsheet import EMPTY_SHEET, KEEP, Sheet, Styles, col_letter, range_bounds

from .sheetnames import ACCOUNTS_NAMES, REPS_NAMES, SETTINGS_NAMES  # noqa: E402  (re-exported)
from .sheetnames import (OBJECTIVES_SHEET, PLAN_SHEET, TERRITORY_SHEET,  # noqa: E402
                         TOURS_SHEET)
from .sheetnames import CHANGES_SHEET, HISTORY_SHEET, PREVIEW_SHEET  # noqa: E402
# Number formats for output cells Potentiel creates (a template's own formats win).
OUTPUT_FORMATS = {"Score": "0.0", "Potential": "#,##0 €", "Penetration": "0%",
                  "Confidence": "0%", "Nearest rep km": "0"}
MAX_CELLS = 50_000_000  # rows × columns of one sheet, up to its last value (a read sheet is dense)
WIDE = {"Why": 70, "To collect": 40, "Matrix": 34, "Flags": 22, "Category label": 14}


# Error values python-calamine 0.9 reads (the others make it refuse the sheet).
_CALAMINE_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
# The value of an error cell (t="e") that is none of those: group 1 is the cell up to its
# <v>, group 2 the closing </v>; the scan never leaves the cell.
_NO_CELLS: list[Any] = []  # the row of a sparse grid's empty rows (never changed in place)
_UNKNOWN_ERROR = re.compile(
    rb'(<(?:\w+:)?c\b[^>]*\bt=["\']e["\'][^>]*(?<!/)>(?:(?!</?(?:\w+:)?c\b).)*?<(?:\w+:)?v>)'
    rb"(?!(?:" + b"|".join(re.escape(e.encode()) for e in _CALAMINE_ERRORS) + rb")<)"
    rb"[^<]*(</(?:\w+:)?v>)", re.DOTALL)


@dataclass
class Table:
    name: str
    part: str
    ref: str
    header_rows: int
    totals_rows: int


@dataclass
class Area:
    """Where a table of rows is: sheet, header row, columns, last data row, Excel table."""

    sheet: SheetRef
    header_row: int
    first_col: int
    last_col: int
    last_row: int
    table: Table | None = None
    note: str = ""  # how the header row was found


def _beside(fn: Callable[[], Any]):
    """``fn()`` run in a second thread named "potentiel-read" (python-calamine lets go of
    Python's lock while it reads): a `concurrent.futures.Future` of its result (or of the
    error it raised)."""
    from concurrent.futures import Future
    future: Future = Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 (raised again by result())
            future.set_exception(exc)
    threading.Thread(target=run, name="potentiel-read", daemon=True).start()
    return future


def _blanks_as_none(rows: list[list[Any]]) -> None:
    """python-calamine's blank ("") as None in every row, in place: each row replaced by
    a new list (the rows as read are let go one by one), the mapping done in C."""
    blanks = {"": None}
    for k, r in enumerate(rows):
        if r:
            rows[k] = list(map(blanks.get, r, r))


def _calamine_sheet(package, data: bytes | str):
    """python-calamine's sheet of a worksheet part holding ``data`` (the bytes Potentiel
    checked, or a part's name: its bytes as the file holds them), read from
    `potentiel.xlsxpackage.Package.reader_package` (never from the file itself, whose
    parts it could find otherwise), in a temporary folder removed once it is read."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="potentiel-"))
    try:
        return _first_sheet(package.reader_package(data, folder / "values.xlsx"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _first_sheet(path: Path):
    """python-calamine's first sheet of the package ``path`` (one Potentiel wrote)."""
    from python_calamine import CalamineWorkbook
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)


def _open_book(path: Path):
    """python-calamine's workbook of the package ``path`` (`Package.reader_book`), its
    folder removed once it is open (python-calamine keeps the file open; where a system
    refuses to remove an open file, at exit)."""
    import atexit
    import shutil

    from python_calamine import CalamineWorkbook
    try:
        return CalamineWorkbook.from_path(str(path))
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
        if path.parent.exists():
            atexit.register(shutil.rmtree, path.parent, True)


def _too_many_cells(name: str, row: int, col: int, cells: int) -> UserError:
    """The refusal of a sheet whose farthest value, in row ``row`` and column ``col``,
    would make a reader of values allocate ``cells`` cells, more than `MAX_CELLS`."""
    return UserError(_("sheet {name} has a value as far as cell {cell}: "
                       "{n:,} cells to read (limit {limit:,}); delete what is "
                       "far below or to the right of your data (Ctrl+End shows the last "
                       "used cell) and save again").format(
                         name=name, cell=f"{col_letter(col)}{row}", n=cells, limit=MAX_CELLS))


class Workbook:
    """An opened workbook file: its package of parts and its cell values."""

    def __init__(self, path: Path):
        self.path = path
        self.package = _open(path)
        self.styles = Styles(self.package)
        # (through a weak reference: the workbook, its sheets and their values are freed
        # when it is let go, not by the cycle collector at the end of the run)
        named = weakref.WeakMethod(self._cell_formats_named_beyond)
        self.styles.named_beyond = lambda count: (named() or (lambda c: -1))(count)
        # python-calamine's workbook of `Package.reader_book` (every sheet, each read once
        # checked), its file, and each part's sheet in it
        self._book = self._book_path = self._book_index = None
        self._values: dict[str, list[list[Any]]] = {}
        # the account rows cut from a grid, by (sheet, rows, columns): a run read again in
        # French cuts them once (`read_raw`; the first reading's table is dropped unchanged)
        self._cut: dict[tuple, list[list[Any]]] = {}
        self._sheets: dict[str, Sheet] = {}
        self._marks: Marks | None = None
        self.notices: list[Problem] = []  # choices made while reading and writing
        self.created: set[str] = set()  # parts of the output sheets created by this run
        self.renamed_parts: set[str] = set()  # parts changed to follow a renamed sheet
        try:
            self.restart_notices()
        except UserError:
            self.package.close()
            raise

    def restart_notices(self) -> None:
        """The notices start again (a run reads again in its own language): what opening
        the file found comes first, said in the current language."""
        self.notices[:] = [_unread_notice(u) for u in self.package.unread]
        readable = {normalise(s.name) for s in self.package.sheets}
        for u in self.package.unread:
            if normalise(u.name) in ACCOUNTS_NAMES and not readable & set(ACCOUNTS_NAMES):
                raise UserError(_unread_notice(u).message, u.name)

    def ref(self, names: tuple[str, ...]) -> SheetRef | None:
        for s in self.package.sheets:
            if normalise(s.name) in names:
                return s
        return None

    def sheet(self, ref: SheetRef) -> Sheet:
        if ref.part not in self._sheets:
            self._sheets[ref.part] = Sheet(self.package, ref.part, self.styles, MAX_CELLS)
        return self._sheets[ref.part]

    def values(self, ref: SheetRef) -> list[list[Any]]:
        """Cell values from A1 (blanks as None), formulas as their last computed value,
        an error value as an `ErrorCell` (python-calamine reads it as "")."""
        if ref.name not in self._values:
            progress.reading(ref.name)
            early = self._read_early(ref)
            if early is None and not self.sheet(ref).plain:
                self._values[ref.name] = self._values_of_copy(ref)
                return self._values[ref.name]
            compacted = held = None
            try:
                if early is None:  # values far apart, every row holding one: read at once
                    held = self.sheet(ref).rows_if_all_held(MAX_CELLS)
                    if held is not None:
                        compacted = self._read_compacted(ref, held)
                self._before_reading(ref)
                value_rows = self.sheet(ref).layout().value_rows
                sparse = value_rows is not None
                if compacted is not None and held != value_rows:
                    self._drop_reading(compacted)  # (never: every row held a value)
                    compacted = None
                if sparse and compacted is None:
                    # its compacted copy read while the error and formula cells are found
                    compacted = self._read_compacted(ref)
                errors = self.sheet(ref).error_cells()
                if sparse:  # (its blanks None already: the empty rows between not walked)
                    self.sheet(ref).formula_cells()  # (kept: the reading asks again)
                    rows = self._sparse_values(ref, compacted[0])
                else:
                    try:
                        if early is not None:
                            self._book, found = early.result()
                        else:
                            found = self._book_sheet(ref)
                        rows = found.to_python(skip_empty_area=False)
                    except Exception as exc:
                        if "cell error value" not in str(exc):
                            raise
                        # An error value python-calamine does not know (#SPILL!, #CALC!, …)
                        # stops its read of the sheet: it reads a copy where each is #N/A,
                        # and the error cells are then taken from the sheet's XML below.
                        rows = _calamine_sheet(self.package, _UNKNOWN_ERROR.sub(
                            rb"\1#N/A\2", self.sheet(ref).as_read())).to_python(
                                skip_empty_area=False)
            except UserError:
                raise  # (said already, with its cell: never folded into the message below)
            except Exception as exc:  # calamine raises its own error types
                raise UserError(_("{path}: sheet {name} cannot be read ({error}); open the "
                                  "file in Excel and save it again").format(
                                    path=self.path, name=ref.name, error=exc)) from None
            finally:
                if early is not None:
                    with contextlib.suppress(BaseException):
                        early.exception()  # never left reading: its outcome waited for
                if compacted is not None:
                    self._drop_reading(compacted)
            if not sparse:
                _blanks_as_none(rows)
            for (r, c), text in errors.items():
                if r <= len(rows) and c <= len(rows[r - 1]):
                    rows[r - 1][c - 1] = ErrorCell(text)
            self._values[ref.name] = rows
        return self._values[ref.name]

    def _cell_formats_named_beyond(self, count: int) -> int:
        """The highest cell format index a cell or row (``s``) or column (``style``) of any
        sheet names at or past ``count`` (the number the styles part defines), else -1
        (macro sheets, left as they are, too): one RE2 search
        per sheet's rows (`xlsxstream.style_named_at_least`), as read, unless the quick
        look before reading made it already (`xlsxstream.Look.styles_past`)."""
        top = -1
        pkg = self.package
        parts = [ref.part for ref in pkg.sheets]
        rels = pkg.rels_name(pkg.workbook_part)
        if pkg.unread and pkg.has(rels):  # (a macro sheet's part, left as it is)
            links = {r.get("Id"): r for r in pkg.xml(rels).iterfind("pr:Relationship", NS)}
            parts += [pkg.target(pkg.workbook_part, link.get("Target", ""))
                      for u in pkg.unread if (link := links.get(u.rid)) is not None
                      and link.get("TargetMode") != "External"]
        for part in parts:
            sheet = self._sheets.get(part)
            if sheet is not None and sheet.streamed:  # its columns' styles, then its rows
                top = max(top, xlsxstream.style_named_at_least(sheet.skeleton_as_read(),
                                                               count))
                if sheet.styles_seen == (count, False):
                    continue  # (the quick look before reading said: none in the rows)
                body = sheet.rows_as_read()
            elif part in self.package._trees:
                found = [int(x) for x in self.package._trees[part].xpath(
                    ".//m:c/@s | .//m:row/@s | .//m:col/@style", namespaces=NS)
                    if x.isdigit()]
                top = max([top, *(x for x in found if x >= count)])
                continue
            else:
                try:
                    body = self.package.read(part)
                except Exception:  # noqa: BLE001 (a part that cannot be read is said elsewhere)
                    continue
            top = max(top, xlsxstream.style_named_at_least(body, count))
        return top

    def _values_of_copy(self, ref: SheetRef) -> list[list[Any]]:
        """`values` of a sheet whose rows are not plain (not written as Excel writes them):
        python-calamine reads its `potentiel.xlsxsheet.plain_copy`, never the part itself,
        whose cells it could place elsewhere than Potentiel reads them, and allocate past
        what was checked (the copy's cells are counted as it places them)."""
        self.package.check_parts(self.package.reader_parts())
        copy = self.sheet(ref).plain_copy(ref.name)
        if copy.cells > MAX_CELLS:
            raise _too_many_cells(ref.name, copy.last_row, copy.last_col, copy.cells)
        errors = self.sheet(ref).error_cells()
        xml = _UNKNOWN_ERROR.sub(rb"\1#N/A\2", copy.xml) if b't="e"' in copy.xml else copy.xml
        try:
            rows = _calamine_sheet(self.package, xml).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types
            raise UserError(_("{path}: sheet {name} cannot be read ({error}); open the "
                              "file in Excel and save it again").format(
                                path=self.path, name=ref.name, error=exc)) from None
        _blanks_as_none(rows)
        if copy.rows is not None:  # the rows between put back, empty
            full: list[list[Any]] = [_NO_CELLS] * copy.rows[-1]
            for k, r in enumerate(copy.rows[:len(rows)]):
                full[r - 1] = rows[k]
            rows = full
        for (r, c), text in errors.items():
            if r <= len(rows) and c <= len(rows[r - 1]):
                row = rows[r - 1] if rows[r - 1] is not _NO_CELLS else None
                if row is not None:
                    row[c - 1] = ErrorCell(text)
        return rows

    def _read_early(self, ref: SheetRef):
        """python-calamine starts reading the sheet ``ref`` in a second thread (it lets go
        of Python's lock while it reads), while this one splits the sheet's rows and looks
        through them (`_before_reading`, the error and formula cells): a
        `concurrent.futures.Future` of its sheet, or None when it must wait for
        that look. It starts only when one quick look at the bytes
        (`potentiel.xlsxstream.look`; `Sheet.read_at_once` for a sheet split before)
        proves it allocates at most `MAX_CELLS` cells, and the rows are not so far apart
        that the sheet is read compacted."""
        self.package.check_parts(self.package.reader_parts())
        raw = seen = None
        if ref.part not in self._sheets and ref.part not in self.package._trees:
            # one quick look at the bytes before they are split: the reading starts sooner,
            # and the rows are split while it reads
            raw = self.package.read(ref.part)
            seen = xlsxstream.look(raw, MAX_CELLS, self.styles.count())
            at_once = seen is not None and seen.read_at_once
        else:
            at_once = self.sheet(ref).read_at_once(MAX_CELLS)
        future = None
        if at_once:
            future = self._start_reading(ref)
        try:
            if raw is not None:
                self._sheets[ref.part] = Sheet(self.package, ref.part, self.styles, MAX_CELLS,
                                               raw, seen)
            del raw
            if future is not None:
                self.sheet(ref).formula_cells()  # found meanwhile (kept: asked again later)
        except BaseException:
            if future is not None:  # never left reading: its outcome waited for
                with contextlib.suppress(BaseException):
                    future.exception()
            raise
        return future

    def _book_file(self) -> Path:
        """The file of `Package.reader_book`, written once (again if it went)."""
        import tempfile
        if self._book_path is None or not self._book_path.exists():
            folder = Path(tempfile.mkdtemp(prefix="potentiel-"))
            self._book_path = folder / "values.xlsx"
            self._book_index = self.package.reader_book(self._book_path)
        return self._book_path

    def _book_sheet(self, ref: SheetRef):
        """python-calamine's sheet of ``ref`` (checked), read from `Package.reader_book`."""
        if self._book is None:
            self._book = _open_book(self._book_file())
        if ref.part not in (self._book_index or {}):
            return _calamine_sheet(self.package, ref.part)
        return self._book.get_sheet_by_index(self._book_index[ref.part])

    def _start_reading(self, ref: SheetRef):
        """python-calamine's reading of the sheet ``ref`` (checked) started in a second
        thread: a `concurrent.futures.Future` of (its workbook, the sheet). The package
        it reads is written here (what that takes needs Python's lock, which the looking
        through the rows holds meanwhile): the second thread only reads."""
        book = self._book
        path = self._book_file() if book is None else None
        index = self._book_index.get(ref.part)
        if index is None:
            return _beside(lambda: (book, _calamine_sheet(self.package, ref.part)))

        def read():
            opened = book if book is not None else _open_book(path)
            return opened, opened.get_sheet_by_index(index)
        return _beside(read)

    def _compact_copy(self, ref: SheetRef, folder: Path):
        """python-calamine's sheet of a copy of ``ref`` holding only its rows with a value
        (renumbered 1, 2, 3 …: `Sheet.compacted`), written in ``folder``."""
        return _first_sheet(self._compact_file(ref, folder))

    def _compact_file(self, ref: SheetRef, folder: Path, rows: list[int] | None = None
                      ) -> Path:
        """The copy `_compact_copy` reads, written in ``folder`` (``rows``: the rows it
        keeps, else the layout's rows holding a value)."""
        copy = folder / "values.xlsx"
        compact = self.sheet(ref).compacted(rows)
        if b't="e"' in compact or b"t='e'" in compact:
            compact = _UNKNOWN_ERROR.sub(rb"\1#N/A\2", compact)
        return self.package.reader_package(compact, copy)

    @staticmethod
    def _drop_reading(reading: tuple) -> None:
        """A read of `_read_compacted` waited for (never left reading) and its copy's
        folder removed."""
        import shutil
        with contextlib.suppress(BaseException):
            reading[0].exception()
        shutil.rmtree(reading[1], ignore_errors=True)

    def _read_compacted(self, ref: SheetRef, rows: list[int] | None = None):
        """python-calamine reading `_compact_copy`'s sheet in a second thread, while this
        one finds the error and formula cells (``rows``: the rows the copy keeps, known
        before `layout` looked, else its rows holding a value): (a
        `concurrent.futures.Future` of the sheet, the temporary folder of the copy, removed
        by the caller once it is read, `_drop_reading`)."""
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="potentiel-"))
        try:
            copy = self._compact_file(ref, folder, rows)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return _beside(lambda: _first_sheet(copy)), folder

    def sparse_rows(self, ref: SheetRef) -> "_Rows":
        """The rows of a sheet whose values stand far apart, one at a time, as `values`
        gives them but without holding them (python-calamine's rows, blanks as ""; a run
        of empty rows between as one `_Skip`): what the check after writing reads."""
        import shutil
        import tempfile

        if not self.sheet(ref).plain:  # (read from its plain copy, the empty rows held)
            grid = self.values(ref)
            return _Rows(grid, max((len(r) for r in grid), default=0))
        self._before_reading(ref)
        numbers = self.sheet(ref).layout().value_rows or []
        folder = Path(tempfile.mkdtemp(prefix="potentiel-"))
        try:
            sheet = self._compact_copy(ref, folder)
            first, c0 = sheet.start if sheet.start else (0, 0)
            width = c0 + sheet.width if sheet.height else 0
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def rows():
            try:
                pad, at = [None] * c0, 1
                for k, row in enumerate(sheet.iter_rows()):
                    if numbers[first + k] > at:
                        yield _Skip(numbers[first + k] - at)
                    at = numbers[first + k] + 1
                    yield pad + row if c0 else row
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return _Rows(rows(), width)

    def _sparse_values(self, ref: SheetRef, reading) -> list[list[Any]]:
        """A sheet whose values stand far apart (a few rows at the top, a few at row
        1,048,576): python-calamine reads a copy holding only the rows with a value, so
        that it never allocates the empty rows between; they are put back as empty rows.
        The copy goes to a temporary file, so that its bytes are not held while read
        (``reading``: that read, started by `_read_compacted`)."""
        numbers = self.sheet(ref).layout().value_rows
        rows = reading.result().to_python(skip_empty_area=False)
        _blanks_as_none(rows)
        # the empty rows are one shared empty list (a grid's rows are replaced, never
        # changed in place): a million of them cost a million pointers, not a million lists
        full: list[list[Any]] = [_NO_CELLS] * (numbers[-1] if numbers else 0)
        for k, r in enumerate(numbers[:len(rows)]):
            full[r - 1] = rows[k]
        return full

    def _before_reading(self, ref: SheetRef) -> None:
        """What python-calamine will read is checked first: no DTD in the parts it opens,
        and a sheet whose cells fit in memory (it allocates every cell up to the last one,
        so one stray value in XFD1048576 would need hundreds of GB and end the process)."""
        self.package.check_parts(self.package.reader_parts())
        sheet = self.sheet(ref)
        if sheet.streamed:
            lay = sheet.layout()
            rows, cols, cells = lay.last_row, lay.last_col, lay.cells
        else:
            rows, cols = sheet.extent(refine_above=MAX_CELLS)
            cells = rows * cols
        if cells > MAX_CELLS:
            raise _too_many_cells(ref.name, rows, cols, cells)

    def tables(self, ref: SheetRef) -> list[Table]:
        out = []
        for part in self.package.related(ref.part, "table"):
            root = self.package.xml(part)
            out.append(Table(root.get("displayName") or root.get("name") or "", part,
                             root.get("ref"), int(root.get("headerRowCount", "1")),
                             int(root.get("totalsRowCount", "0"))))
        return out

    @property
    def marks(self) -> Marks:
        """Potentiel's markers (defined names ``_Potentiel.…``) as found in the file."""
        if self._marks is None:
            self._marks = parse_marks((n, *split_refers_to(t))
                                      for n, t, local in self.package.defined_names()
                                      if local is None)
        return self._marks

    def owned_ref(self, name: str) -> SheetRef | None:
        """Potentiel's output sheet ``name``, found by its marker (whatever it is called now)."""
        have = self.marks.sheets.get(key_of(name))
        if have is None:
            return None
        return next((s for s in self.package.sheets if s.name.casefold() == have.casefold()), None)

    def sheet_for(self, name: str, create: bool = True) -> Sheet | None:
        """Potentiel's output sheet ``name`` (its English name, the marker's key), created
        (empty) if the workbook has none, named in the run's language (``Synthèse``) and
        renamed when it bears its name in the other language. A user's sheet of that name
        (any case, chart sheets included) is never written: Potentiel's own then gets
        another name (``Summary (Potentiel)``). ``create=False``: only rename (None when
        the workbook has no such sheet)."""
        ref = self.owned_ref(name)
        wanted = _(name)
        if ref is None and not create:
            return None
        if ref is None:
            taken = self.package.all_sheet_names()
            new = free_name(wanted, taken)
            ref = self.package.add_sheet(new, EMPTY_SHEET)
            self.created.add(ref.part)
            self.marks.sheets[key_of(name)] = new
            self.package.define_name(mark_name(SHEET, key_of(name)), refers_to(new, 1, 1)[1:])
            if new != wanted:
                self.notices.append(own_sheet_notice(wanted, new, taken))
        elif not _named_for(ref.name, wanted) and _potentiel_name(ref.name, name):
            taken = [t for t in self.package.all_sheet_names() if t != ref.name]
            self.rename_sheet(ref, free_name(wanted, taken))
            self.marks.sheets[key_of(name)] = ref.name
        return self.sheet(ref)

    def rename_sheet(self, ref: SheetRef, new: str) -> None:
        """Rename a sheet as Excel does: its name in the workbook, and every defined name,
        chart series and cell formula that refers to it."""
        old = ref.name
        pkg = self.package
        root = pkg.xml(pkg.workbook_part)
        for s in root.iterfind("m:sheets/m:sheet", NS):
            if s.get("name") == old:
                s.set("name", new)
        for d in root.iterfind("m:definedNames/m:definedName", NS):
            if d.text and _mentions(d.text, old):
                d.text = sheet_renamed(d.text, old, new)
        pkg.touch(pkg.workbook_part)
        parts = [n for n in pkg.infos if n.startswith("xl/charts/chart") and n.endswith(".xml")]
        parts += [s.part for s in pkg.sheets]
        for part in parts:
            if part in pkg.removed or not pkg.has(part):
                continue
            if part not in pkg._trees and not _may_name(pkg.read(part), old):
                continue  # not parsed for nothing: the name is not in the part
            if part in self._sheets and self._sheets[part].streamed:
                self._sheets[part].rows  # its formulas are edited as a tree, with the rest
            tree = pkg.xml(part)
            hit = False
            # cells' formulas, and those of data validation and conditional formatting
            for f in tree.iter("{*}f", f"{{{MAIN}}}formula", f"{{{MAIN}}}formula1",
                               f"{{{MAIN}}}formula2"):
                if f.text and _mentions(f.text, old):
                    f.text = sheet_renamed(f.text, old, new)
                    hit = True
            if hit:
                pkg.touch(part)
                self.renamed_parts.add(part)
        ref.name = new
        if old in self._values:
            self._values[new] = self._values.pop(old)

    def mark_columns(self, sheet: str, header_row: int, columns: dict[str, int]) -> None:
        """Marker names for Potentiel's output columns (output name → sheet column)."""
        for name, col in columns.items():
            key = key_of(name)
            self.marks.columns[key] = (sheet, col)
            self.package.define_name(mark_name(COL, key), refers_to(sheet, header_row, col)[1:])

    def release_written(self) -> None:
        """Drop the cells written to the file (each sheet's patches), once it is written:
        the check that follows reads the file, and keeps the memory for that."""
        for sheet in self._sheets.values():
            sheet.release_written()

    def finish(self) -> None:
        removed = False
        for sheet in self._sheets.values():
            sheet.finish()
            removed |= sheet.removed_formula
        if removed:
            # a formula stood where an output now is: Excel's calculation chain would point
            # at it and ask to repair the file; without the chain, Excel rebuilds it.
            self.package.drop_calc_chain()
        self.package.recalc_on_open()


def _unread_notice(sheet: UnreadSheet) -> Problem:
    """What is said of a sheet left as it is, not read (`Package.unread`)."""
    if sheet.why == "macro":
        return Problem(_("sheet {name} is an Excel 4 macro sheet (or another kind Potentiel "
                         "does not read): it is left exactly as it is").format(name=sheet.name),
                       sheet.name, level="notice", kind="sheet-not-read")
    return Problem(_('sheet {name} points to no part of the file (its r:id "{rid}" names no '
                     "relationship), so it cannot be read: it is left as it is; open the "
                     "file in Excel and save it again to repair it").format(
                         name=sheet.name, rid=sheet.rid),
                   sheet.name, kind="sheet-not-read")


def _named_for(current: str, wanted: str) -> bool:
    """True when sheet name ``current`` is ``wanted`` or a free variant of it
    (``Synthèse (Potentiel)``, ``Synthèse (Potentiel 2)``)."""
    c, w = current.casefold(), wanted.casefold()
    return c == w or (c.startswith(w[:31 - len(" (potentiel 9)")]) and "(potentiel" in c)


def _potentiel_name(current: str, name: str) -> bool:
    """True when ``current`` is a name Potentiel gives its sheet ``name`` in any language:
    a sheet the user renamed keeps the user's name."""
    return any(_named_for(current, n) for n in both(name))


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _may_name(data: bytes, name: str) -> bool:
    """Whether the bytes of a part may hold the sheet name ``name``, written in any case
    or with a character as an XML reference (``Synth&#232;se``, as openpyxl writes it):
    its longest run of ASCII letters and digits looked for ignoring case (a name
    without one: any part holding a formula)."""
    runs = re.findall(r"[A-Za-z0-9]+", name)
    if not runs:
        return b"<f" in data or b":f>" in data or b"formula" in data
    return re.search(re.escape(max(runs, key=len).encode()), data, re.IGNORECASE) is not None


def _mentions(formula: str, sheet: str) -> bool:
    return sheet_renamed(formula, sheet, "\0") != formula


_NAME_CHAR = re.compile(r"[\w.\u0300-\u036f]")
# a sheet's name written bare before "!": one, or two (a 3-D reference, First:Last)
_BARE_SHEETS = re.compile(r"([\w.\u0300-\u036f]+)(?::([\w.\u0300-\u036f]+))?!")
# a name Excel would take for a cell, a column, a row or an R1C1 reference (it quotes
# such a sheet name): never the first end of a bare 3-D reference
_LIKE_A_CELL = re.compile(r"\$?[A-Za-z]{1,3}\$?[0-9]*|\$?[0-9]+|[Rr][0-9]*[Cc][0-9]*")


def sheet_renamed(formula: str, old: str, new: str) -> str:
    """``formula`` with its references to sheet ``old`` pointing at ``new``, as Excel
    writes them (``Summary!$B$4`` → ``'Synthèse'!$B$4``; a 3-D reference with it at
    either end, ``Notes:Summary!B4`` → ``'Notes:Synthèse'!B4``), the name compared
    ignoring case. Left as they are: text in double quotes, a quoted name holding it
    (``'L''Summary'``), another workbook's sheets (``[1]Summary!``), a structured
    reference (``Table1[Summary!]``), a name it ends (``MySummary!``)."""
    fold = old.casefold()
    out: list[str] = []
    i, n = 0, len(formula)

    def renamed(names: list[str]) -> str | None:
        if not any(x.casefold() == fold for x in names):
            return None
        return _quote_sheet(":".join(new if x.casefold() == fold else x for x in names)) + "!"

    def closing(j: int, quote: str) -> int:  # the quote closing the one at j ("" or '')
        j += 1
        while j < n:
            if formula[j] == quote:
                if j + 1 < n and formula[j + 1] == quote:
                    j += 2
                    continue
                return j
            j += 1
        return n - 1

    while i < n:
        ch = formula[i]
        if ch == '"':  # a text
            j = closing(i, '"')
            out.append(formula[i:j + 1])
            i = j + 1
        elif ch == "[":  # another workbook ([1]Sheet!), or a structured reference
            depth, j = 0, i
            while j < n:
                depth += {"[": 1, "]": -1}.get(formula[j], 0)
                if depth == 0:
                    break
                j += 1
            found = _BARE_SHEETS.match(formula, j + 1)
            end = found.end() if found is not None else j + 1
            out.append(formula[i:end])
            i = end
        elif ch == "'":  # a quoted name
            j = closing(i, "'")
            inner = formula[i + 1:j].replace("''", "'")
            done = renamed(inner.split(":")) if j + 1 < n and formula[j + 1] == "!" and \
                not inner.startswith("[") and inner.count(":") <= 1 else None
            out.append(done if done is not None else formula[i:j + 1])
            i = j + 2 if done is not None else j + 1
        elif _NAME_CHAR.match(ch) and (i == 0 or not (_NAME_CHAR.match(formula[i - 1])
                                                      or formula[i - 1] in "$!'")):
            found = _BARE_SHEETS.match(formula, i)
            if found is not None and found.group(2) is not None and \
                    _LIKE_A_CELL.fullmatch(found.group(1)):
                found = None  # (A1:Summary!B2: a cell, then a sheet's reference)
            if found is None:
                word = re.match(r"[\w.\u0300-\u036f$]+", formula[i:])
                out.append(word.group(0))
                i += word.end()
                continue
            names = [x for x in found.groups() if x is not None]
            done = renamed(names)
            out.append(done if done is not None else found.group(0))
            i = found.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _open(path: Path) -> Package:
    from .sources.filekind import first_bytes
    head = first_bytes(path, 1024, _("a workbook"))
    if not head:
        raise UserError(_("{path}: the file is empty (0 bytes), not an Excel workbook").format(
                            path=path))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        kind = _ole_kind(path)
        if kind == "encrypted":
            raise UserError(_("{path}: the workbook is protected by a password (encrypted); "
                              "open it in Excel, remove the password (File > Info > Protect "
                              "Workbook) and save it").format(path=path))
        if kind == "xls":
            raise UserError(_("{path}: an old .xls workbook (Excel 97-2003); open it in Excel "
                              "and save it as .xlsx (Excel Workbook)").format(path=path))
        raise UserError(_("{path}: an old .xls workbook or an encrypted one; open it in Excel "
                          "and save it as .xlsx (Excel Workbook) without a password").format(
                            path=path))
    if not zipfile.is_zipfile(path):
        if head.startswith(b"PK\x03\x04"):
            raise UserError(_("{path}: the file is cut short or damaged, not an Excel workbook "
                              "that can be opened (the end of the zip is missing); copy it "
                              "again, or let Excel repair it").format(path=path))
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if text.startswith(b"<") and (b"<html" in text or b"<!doctype html" in text):
            raise UserError(_("{path}: a web page (HTML) with an Excel name, not an Excel "
                              "workbook; open it in Excel and save it as .xlsx").format(path=path))
        if text.startswith(b"<") and b"urn:schemas-microsoft-com:office:spreadsheet" in text:
            raise UserError(_("{path}: an XML Spreadsheet 2003 file, not an Excel workbook; "
                              "open it in Excel and save it as .xlsx").format(path=path))
        raise UserError(_("{path}: not an Excel workbook (.xlsx or .xlsm); if it is a CSV or "
                          "text export, open it in Excel and save it as .xlsx").format(path=path))
    try:
        return Package(path)
    except UserError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise UserError(_("{path}: cannot be read as an Excel workbook ({name}: {error}); open "
                          "it in Excel and save it again as .xlsx").format(
                            path=path, name=type(exc).__name__, error=exc)) from None


def _ole_kind(path: Path) -> str:
    """What an OLE2 compound file holds, from the stream names of its first directory
    sectors: "encrypted" (a password-protected .xlsx), "xls", or "" (unknown)."""
    import struct
    try:
        with open(path, "rb") as fh:
            header = fh.read(512)
            shift, = struct.unpack_from("<H", header, 0x1E)
            first, = struct.unpack_from("<I", header, 0x30)
            if not 7 <= shift <= 16:
                return ""
            fh.seek((first + 1) << shift)
            directory = fh.read(8 << shift)
    except (OSError, struct.error, OverflowError, ValueError):
        return ""
    if "EncryptedPackage".encode("utf-16-le") in directory:
        return "encrypted"
    if "Workbook".encode("utf-16-le") in directory or "Book\0".encode("utf-16-le") in directory:
        return "xls"
    return ""


def _find(wb: Workbook, names: tuple[str, ...]) -> tuple[SheetRef | None, Table | None]:
    """A table named like ``names`` on any sheet, else a sheet so named (and its table)."""
    for ref in wb.package.sheets:
        for t in wb.tables(ref):
            if normalise(t.name) in names:
                return ref, t
    ref = wb.ref(names)
    if ref is None:
        return None, None
    tables = wb.tables(ref)
    return ref, (tables[0] if tables else None)


def _area(wb: Workbook, ref: SheetRef, table: Table | None, what: str,
          mapped: tuple[str, ...] = ()) -> Area:
    if table is not None:
        r1, c1, r2, c2 = range_bounds(table.ref)
        if table.header_rows == 0:  # the first data row would be read as the headers
            raise UserError(_('the table "{name}" hides its header row; show it (Table Design '
                              "> Header Row) so columns can be matched by name").format(
                                name=table.name),
                            cell_ref(ref.name, r1, c1))
        area = Area(ref, r1, c1, c2, r2 - table.totals_rows, table)
        area.note = table_note(r1, table.name)
        return area
    grid = wb.values(ref)
    header, note = find_header_row(grid, _CATALOGUE, mapped)
    if header is None:
        raise UserError(_("sheet {name} is empty; paste the {what} with a header row (Code "
                          "client, Raison sociale, CA N, …)").format(name=ref.name, what=what))
    cols = [j for j, v in enumerate(grid[header]) if v is not None]
    area = Area(ref, header + 1, cols[0] + 1, cols[-1] + 1, len(grid))
    area.note = note
    return area


_CATALOGUE = Catalogue.build()


def locate_accounts(wb: Workbook, mapped: tuple[str, ...] = ()) -> Area:
    """The accounts: an Excel table named Accounts/Comptes/Clients on any sheet, else the
    sheet so named, its header row found under any title rows (``mapped``: headers the
    column map names, recognised as headers too)."""
    ref, table = _find(wb, ACCOUNTS_NAMES)
    if ref is None:
        from .sheetnames import only_data_sheet
        only = only_data_sheet([s.name for s in wb.package.sheets],
                               list(wb.marks.sheets.values()))
        if only is not None:
            from .sources.headers import looks_like_accounts
            candidate = next(s for s in wb.package.sheets if s.name == only)
            if not looks_like_accounts(wb.values(candidate), _CATALOGUE):
                only = None
        if only is None:
            names = _listed([str(s.name) for s in wb.package.sheets], 10)
            raise UserError(_("no Accounts sheet (sheets here: {names}); name the sheet of "
                              "your accounts Accounts, Comptes or Clients (one row per "
                              "account, under a header row)").format(names=names))
        ref = next(s for s in wb.package.sheets if s.name == only)
        tables = wb.tables(ref)
        table = tables[0] if tables else None
        wb.notices.append(Problem(_("no sheet is named Accounts, Comptes or Clients: {sheet}, "
                                    "the workbook's only sheet of data, is read as the "
                                    "accounts").format(sheet=only), only, kind="accounts-sheet"))
    return _area(wb, ref, table, _("accounts"), mapped)


LEGACY_OUTPUTS = (*OUTPUT_COLUMNS_HEAD, *OUTPUT_COLUMNS_TAIL, *NEAREST_REP_COLUMNS)


def owned_columns(wb: Workbook, area: Area, headers: list[Any]) -> dict[int, str]:
    """Sheet column → output key of Potentiel's columns on the accounts sheet: by marker;
    in a workbook scored before markers existed, the old output block is adopted (said)."""
    marks = wb.marks
    if marks.any:
        return {c: k for c, k in marks.columns_on(area.sheet.name).items()
                if area.first_col <= c <= area.last_col or c > area.last_col}
    log = next((s for s in wb.package.sheets if s.name in both(LOG_SHEET)), None)
    has_log = log is not None and [v for v in (wb.values(log)[:1] or [[]])[0]
                                   if v is not None][:len(LOG_HEADERS)] == list(LOG_HEADERS)
    adopted = adopt_legacy(headers, area.first_col, LEGACY_OUTPUTS, has_log)
    if adopted:
        first, last = min(adopted), max(adopted)
        wb.notices.append(Problem(
            _("columns {first} to {last} were written by an earlier version "
              "of Potentiel (no marker); they are taken as Potentiel's and marked now").format(
                first=column_letter(first), last=column_letter(last)),
            cell_ref(area.sheet.name, area.header_row, first), kind="adopted"))
        for name in (MATRIX_SHEET, SUMMARY_SHEET, LOG_SHEET):
            if any(s.name == name for s in wb.package.sheets):
                marks.sheets[key_of(name)] = name
                wb.package.define_name(mark_name(SHEET, key_of(name)),
                                       refers_to(name, 1, 1)[1:])
        for c, k in adopted.items():
            marks.columns[k] = (area.sheet.name, c)
    return adopted


def read_raw(wb: Workbook, area: Area, owned: bool = True) -> RawTable:
    grid = wb.values(area.sheet)
    c1, c2 = area.first_col - 1, area.last_col
    width = c2 - c1
    headers = _cut(grid, [area.header_row], c1, c2)[0]
    sheet = wb.sheet(area.sheet)
    sparse = sheet.layout().value_rows if sheet.streamed else None
    if sparse is not None:
        # values far apart (rows at the top, rows at the bottom, a million empty rows
        # between): only the rows holding a value are read, each with its sheet row
        numbers = [r for r in sparse if area.header_row < r <= area.last_row]
        skipped = area.last_row - area.header_row - len(numbers)
        if skipped:
            wb.notices.append(Problem(ngettext(
                "{n:,} empty row in the accounts (rows {first}–{last}) was skipped",
                "{n:,} empty rows in the accounts (rows {first}–{last}) were skipped",
                skipped).format(n=skipped, first=area.header_row + 1, last=area.last_row),
                f"{area.sheet.name}!{area.header_row + 1}:{area.last_row}", kind="empty-rows"))
    else:
        numbers = list(range(area.header_row + 1, area.last_row + 1))
    key = (area.sheet.name, area.header_row, area.last_row, c1, c2, sparse is not None)
    rows = wb._cut.pop(key, None)
    if rows is None or len(rows) != len(numbers):
        rows = _cut(grid, numbers, c1, c2)
    if owned:  # the first reading of a run: kept for the second, in the run's language
        wb._cut[key] = rows
    position = {r: i for i, r in enumerate(numbers)}

    def inside(r: int, c: int) -> tuple[int, int] | None:
        i, j = position.get(r, -1), c - area.first_col
        return (i, j) if 0 <= i and 0 <= j < width else None

    # A formula whose value Excel saved is that value (python-calamine read it); only one
    # without a saved value is unknown, and handed over as its text.
    formulas = []
    for (r, c), saved in sheet.formula_cells().items():
        at = None if saved else inside(r, c)
        if at is not None:
            rows[at[0]][at[1]] = FormulaCell(_formula_text(wb, area.sheet, r, c))
            formulas.append(at)
    percent = [at for at in map(lambda rc: inside(*rc), sheet.percent_cells()) if at]
    return RawTable(headers, rows, sheet=area.sheet.name, header_row=area.header_row,
                    row_numbers=numbers,
                    col_numbers=list(range(area.first_col, area.last_col + 1)),
                    formulas=formulas, owned=owned_columns(wb, area, headers) if owned else {},
                    header_note=area.note, percent_cells=percent,
                    check=_read_check(wb) if owned else None)


def _cut(grid: list[list[Any]], numbers: list[int], c1: int, c2: int) -> list[list[Any]]:
    """The cells of columns c1+1 … c2 of the sheet rows ``numbers`` (ascending, 1-based),
    each row a new list padded with None to c2 - c1 cells. Consecutive rows that all reach
    column c2 (python-calamine's rows are as wide as the sheet) are sliced in one
    comprehension; others row by row."""
    width = c2 - c1
    if numbers and numbers[-1] - numbers[0] + 1 == len(numbers):
        block = grid[numbers[0] - 1:numbers[-1]]
        if len(block) == len(numbers) and min(map(len, block)) >= c2:
            return [r[c1:c2] for r in block]
    out = []
    for r in numbers:
        cells = grid[r - 1][c1:c2] if r - 1 < len(grid) else []
        out.append(cells + [None] * (width - len(cells)) if len(cells) < width else cells)
    return out


def _read_check(wb: Workbook):
    """What the last run wrote in Potentiel's columns, from its Reading sheet (see
    `potentiel.sources.fingerprint`); None when there is none."""
    from .sources.fingerprint import CHECK_COL, read_check
    ref = wb.owned_ref(READING_SHEET)
    if ref is None:
        return None
    grid = [row[CHECK_COL - 1:CHECK_COL + 1] for row in wb.values(ref)]
    return read_check(grid) or None


def _formula_text(wb: Workbook, ref: SheetRef, r: int, c: int) -> str:
    return wb.sheet(ref).formula_text(r, c)


def read_settings_rows(wb: Workbook) -> list[tuple[Any, Any, str]]:
    ref = wb.ref(SETTINGS_NAMES)
    if ref is None:
        return []
    grid = [r[:6] for r in wb.values(ref)]
    rows = settings_rows(grid, ref.name)
    unsaved = {cell_ref(ref.name, r, c) for (r, c), saved in wb.sheet(ref).formula_cells().items()
               if not saved}
    for label, value, where in rows:
        if where in unsaved:
            raise UserError(_("a formula with no saved value cannot be read without Excel; "
                              "open and save the file in Excel, or type the value"), where)
    return rows


def read_salespeople(wb: Workbook) -> RawTable | None:
    ref, table = _find(wb, REPS_NAMES)
    if ref is None:
        return None
    if table is None and len(wb.values(ref)) < 2:
        return None
    return read_raw(wb, _area(wb, ref, table, _("salespeople")), owned=False)


def write_outputs(wb: Workbook, area: Area, raw: RawTable, result: Result) -> Placement:
    """Write the output columns next to the inputs; inputs are never touched. Returns
    where each output column went (`Placement`: ``columns``, ``stale``)."""
    outputs = result.outputs
    plan = place_outputs(raw.headers, area.first_col, area.last_col, list(outputs.columns),
                         raw.owned)
    grid = wb.values(area.sheet)
    # the widest data row, once: a new column past it is free in every row
    widest = max(map(len, grid[area.header_row - 1:min(area.last_row, len(grid))]), default=0)
    _check_free_columns(grid, area, [(plan.columns[n], n) for n in plan.new
                                     if plan.columns[n] <= widest])
    sheet = wb.sheet(area.sheet)
    _check_no_formula(sheet.formula_cells(), area, {plan.columns[n]: n for n in plan.new},
                      sheet.formula_ranges())
    formats = {plan.columns[k]: f for k, f in OUTPUT_FORMATS.items() if k in plan.columns}
    for name in outputs.columns:
        if name.startswith("Score: "):
            formats[plan.columns[name]] = "0.0"
    # The data rows' old outputs are blanked (a row without an account keeps none), then
    # the header and each account's row are written a column at a time: numbers stay
    # numpy arrays, rendered a column at once.
    targets = sorted({*plan.columns.values(), *plan.stale})
    for col in targets:
        sheet.clear(area.header_row + 1, area.last_row, col, col)
    sheet.write_columns([area.header_row], [(plan.columns[name], [plan.headers[name]])
                                            for name in outputs.columns])
    numbers = np.asarray(raw.row_numbers, dtype=np.int64)
    positions = outputs.index.to_numpy()
    beyond = positions >= len(numbers)  # accounts added under the table (invoice lines)
    last = int(numbers[-1]) if len(numbers) else area.header_row
    rows = np.where(beyond, last + 1 + positions - len(numbers),
                    numbers[np.where(beyond, 0, positions)] if len(numbers) else 0)
    order = np.argsort(rows, kind="stable")
    columns = []
    for name in outputs.columns:
        values = outputs[name].to_numpy()
        if values.dtype.kind in "iu":
            values = values.astype(float)
        elif values.dtype.kind != "f":
            values = values.astype(object)
            values[values == ""] = None  # an empty text is a blank cell, as Excel keeps it
        columns.append((plan.columns[name], values[order]))
    if len(rows):
        sheet.write_columns(rows[order], columns, formats)
    for name in plan.new:
        sheet.set_width(plan.columns[name], WIDE.get(name, 12))
    if plan.new and area.table is not None:
        _extend_table(wb, area, plan.last_col, [plan.headers[n] for n in plan.columns])
    elif area.table is None:
        _widen_filter(wb, area, plan.last_col)
    if area.table is not None:
        _table_headers(wb, area, {plan.columns[n]: plan.headers[n] for n in plan.columns})
    wb.mark_columns(area.sheet.name, area.header_row, plan.columns)
    result.warnings.extend(own_column_notices(plan, area.sheet.name, area.header_row))
    return plan


def _table_headers(wb: Workbook, area: Area, headers: dict[int, str]) -> None:
    """The Excel table's column names follow the header cells of Potentiel's columns (a
    language switch re-heads them; Excel repairs a table whose names differ from its
    header cells)."""
    table = area.table
    root = wb.package.xml(table.part)
    r1, c1, r2, c2 = range_bounds(table.ref)
    cols = list(root.find("m:tableColumns", NS).iterfind("m:tableColumn", NS))
    changed = False
    for col, header in headers.items():
        j = col - c1
        if 0 <= j < len(cols) and cols[j].get("name") != header:
            cols[j].set("name", header)
            changed = True
    if changed:
        wb.package.touch(table.part)


def _check_free_columns(grid: list[list[Any]], area: Area, cols: list[tuple[int, str]]) -> None:
    """The new output columns ``(column, name)`` must be empty in the accounts' rows:
    one look per row at the cells from the first to the last of them (counted in C),
    the cell named as `_check_free` names it when one is not."""
    if not cols:
        return
    lo, hi = min(c for c, _n in cols), max(c for c, _n in cols)
    wanted = [c - 1 for c, _n in cols]
    for r in range(area.header_row, min(area.last_row, len(grid)) + 1):
        row = grid[r - 1]
        seg = row[lo - 1:hi]
        if seg and seg.count(None) + seg.count("") != len(seg) and any(
                j < len(row) and row[j] not in (None, "") for j in wanted):
            for c, name in cols:  # the same cell and message as one column at a time
                _check_free(grid, area, c, name)


def _check_no_formula(formulas: Iterable[tuple[int, int]], area: Area,
                      cols: dict[int, str],
                      ranges: Iterable[tuple[int, int, int, int]] = ()) -> None:
    """No formula of the user's stands where a new output column goes (column → its
    name), in the header's and the accounts' rows: one whose value is "" or was never
    saved (a file written by a program that does not compute) reads as an empty cell,
    and would be written over; nor a cell an array formula fills (``ranges``: first
    row, first col, last row, last col), which holds no formula of its own."""
    for r1, c1, r2, c2 in ranges:
        for c in sorted(cols):
            if c1 <= c <= c2 and r1 <= area.last_row and r2 >= area.header_row:
                formulas = [*formulas, (max(r1, area.header_row), c)]
    for r, c in sorted(formulas):
        if c in cols and area.header_row <= r <= area.last_row:
            raise UserError(_('cannot add the output column "{name}": the cells to the right '
                              "of the accounts are not empty; move what is in column "
                              "{column} or leave it free").format(
                                name=cols[c], column=column_letter(c)),
                            cell_ref(area.sheet.name, r, c))


def _check_free(grid: list[list[Any]], area: Area, col: int, name: str) -> None:
    for r in range(area.header_row, area.last_row + 1):
        row = grid[r - 1] if r - 1 < len(grid) else []
        v = row[col - 1] if col - 1 < len(row) else None
        if v not in (None, ""):
            raise UserError(_('cannot add the output column "{name}": the cells to the right '
                              "of the accounts are not empty; move what is in column "
                              "{column} or leave it free").format(
                                name=name, column=column_letter(col)),
                            cell_ref(area.sheet.name, r, col))


def _extend_table(wb: Workbook, area: Area, last_col: int, names: list[str]) -> None:
    from lxml import etree

    table = area.table
    root = wb.package.xml(table.part)
    r1, c1, r2, c2 = range_bounds(table.ref)
    ref = f"{col_letter(c1)}{r1}:{col_letter(last_col)}{r2}"
    root.set("ref", ref)
    auto = root.find("m:autoFilter", NS)
    if auto is not None:
        auto.set("ref", f"{col_letter(c1)}{r1}:{col_letter(last_col)}{r2 - table.totals_rows}")
    cols = root.find("m:tableColumns", NS)
    have = {c.get("name") for c in cols.iterfind("m:tableColumn", NS)}
    next_id = max((int(c.get("id")) for c in cols.iterfind("m:tableColumn", NS)), default=0) + 1
    for name in names:
        if name not in have:
            el = etree.SubElement(cols, f"{{{MAIN}}}tableColumn")
            el.set("id", str(next_id))
            el.set("name", name)
            next_id += 1
    cols.set("count", str(len(cols)))
    wb.package.touch(table.part)


def _widen_filter(wb: Workbook, area: Area, last_col: int) -> None:
    """An AutoFilter on the accounts' header row of a plain range (no Excel table) is
    widened over the output columns and down to the last account, and so is the hidden
    name Excel keeps for it (``_xlnm._FilterDatabase``, local to the sheet)."""
    sheet = wb.sheet(area.sheet)
    auto = sheet.root.find("m:autoFilter", NS)
    if auto is None or not auto.get("ref"):
        return
    r1, c1, r2, c2 = range_bounds(auto.get("ref"))
    if r1 != area.header_row or not c1 <= area.last_col <= c2 or c2 >= last_col:
        return  # a filter elsewhere on the sheet, or one that covers the outputs already
    r2 = max(r2, area.last_row)
    auto.set("ref", f"{col_letter(c1)}{r1}:{col_letter(last_col)}{r2}")
    sheet.changed = True
    pkg = wb.package
    index = pkg.sheet_index(area.sheet.rid)
    for name in pkg.xml(pkg.workbook_part).iterfind("m:definedNames/m:definedName", NS):
        if (name.get("name") or "").lower() == "_xlnm._filterdatabase" and \
                name.get("localSheetId") == str(index):
            prefix = (name.text or "").rpartition("!")[0] or _quoted(area.sheet.name)
            name.text = f"{prefix}!${col_letter(c1)}${r1}:${col_letter(last_col)}${r2}"
            pkg.touch(pkg.workbook_part)


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def write_blocks(wb: Workbook, sheet_name: str, blocks: list[Block],
                 look: SheetLook | None = None) -> None:
    """Write ``blocks`` on Potentiel's output sheet ``sheet_name``. A sheet this run creates
    is finished with ``look`` (`potentiel.sheet_styles`): widths, the blocks' ``formats``
    and, for the Summary, its chart; a sheet that existed keeps its formats."""
    sheet = wb.sheet_for(sheet_name)
    if look is not None and sheet.part in wb.created:
        _finish_sheet(wb, sheet, blocks, look)
    for b in blocks:
        if b.clear_to_row:
            width = b.clear_cols or max(len(r) for r in b.values)
            sheet.clear(b.row, b.clear_to_row, b.col, b.col + width - 1)
        if not b.values:
            continue
        if isinstance(b.values, Rows):  # held as columns (the Reading sheet's check)
            for rows, columns in b.values.parts(b.row, b.col, KEEP):
                sheet.write_columns(rows, columns)
            continue
        # a block a column at a time
        width = max(len(line) for line in b.values)
        columns = [(b.col + j, np.array([plain(line[j]) if j < len(line) else KEEP
                                         for line in b.values], dtype=object))
                   for j in range(width)]
        sheet.write_columns(range(b.row, b.row + len(b.values)), columns)


def _finish_sheet(wb: Workbook, sheet: Sheet, blocks: list[Block], look: SheetLook) -> None:
    """Widths, column-wide formats and cell formats of a new output sheet, written before
    its values (a value keeps its cell's format), and the Summary chart."""
    for col, width in look.widths.items():
        column_look = look.column_looks.get(col)
        sheet.set_width(col, width, wb.styles.look(None, column_look) if column_look else None)
    cells: dict[tuple[int, int], Any] = {}
    for col, column_look in look.column_looks.items():
        if col not in look.widths:
            sheet.set_width(col, 9.14, wb.styles.look(None, column_look))
    for b in blocks:
        for part in b.formats or ():
            for i in range(part.rows):
                for j in range(part.cols):
                    cells[(b.row + part.row + i, b.col + part.col + j)] = part.look
    sheet.set_styles({rc: wb.styles.look(None, cell_look) for rc, cell_look in cells.items()})
    sheet.print_landscape()
    if look.chart:
        _add_summary_chart(wb, sheet, blocks)


def _add_summary_chart(wb: Workbook, sheet: Sheet, blocks: list[Block]) -> None:
    """The Summary chart over the category rows (`potentiel.sheet_styles.CHART`)."""
    from .xlsxchart import column_chart_xml, drawing_xml
    chart = CHART
    name = next(s.name for s in wb.package.sheets if s.part == sheet.part)
    table = next((b for b in blocks if b.row == SUMMARY_CATEGORY_ROW), None)
    rows = table.values[1:] if table is not None else []
    head = table.values[0] if table is not None else []
    span = chart.last_row - chart.first_row + 1
    rows = (rows + [[]] * span)[:span]

    def at(line: list[Any], col: int) -> Any:
        return plain(line[col - 1]) if col - 1 < len(line) else None

    xml = column_chart_xml(name, chart, [at(r, chart.labels_col) for r in rows],
                           [at(r, chart.values_col) for r in rows], SUMMARY_CATEGORY_ROW,
                           str(at(head, chart.values_col) or ""))
    width = max((len(r) for b in blocks if b.row == SUMMARY_REP_ROW for r in b.values),
                default=0)
    rid = wb.package.add_chart(sheet.part, xml, drawing_xml(max(chart.anchor_col, width),
                                                           chart.anchor_row, chart.cols,
                                                           chart.rows))
    sheet.add_drawing(rid)


def append_log(wb: Workbook, result: Result, when: dt.datetime | None = None) -> None:
    """The run's row under the last one; the headers (row 1) in the run's language."""
    sheet = wb.sheet_for(LOG_SHEET)
    first = sheet.rows.get(1)
    headers = [_(h) for h in LOG_HEADERS]
    if first is None or not any(len(c) for c in first.iterfind("m:c", NS)):
        write_blocks(wb, LOG_SHEET, finished("log", [Block(1, 1, [headers])]), SHEETS["log"])
    else:
        sheet.write_row(1, {j: h for j, h in enumerate(headers, start=1)})
    row = max(sheet.last_row_with_value(1), 1) + 1
    sheet.write_row(row, {j: plain(v) for j, v in enumerate(log_row(result, when), start=1)})


def _previous_rep_rows(wb: Workbook) -> int:
    ref = wb.owned_ref(SUMMARY_SHEET)
    if ref is not None:
        return max(0, wb.sheet(ref).last_row_with_value(1) - SUMMARY_REP_ROW)
    return 0


def check_output(path: Path, target: Path) -> bool:
    """Refuse early an output Potentiel cannot write: not .xlsx or .xlsm, an .xlsx for a
    workbook with macros, a missing folder, a workbook open in Excel or read-only
    (`potentiel.savefile.check_target`). Returns whether ``target`` is ``path`` itself
    (in place: the workbook keeps its own name). Raises `UserError`."""
    in_place = target.resolve() == path.resolve()
    if not in_place and target.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(_("{target}: the output must be an .xlsx or .xlsm file").format(
                            target=target))
    if not in_place and path.suffix.lower() == ".xlsm" and target.suffix.lower() != ".xlsm":
        raise UserError(_("{target}: {name} has macros; write to an .xlsm file to keep them").format(
                            target=target, name=path.name))
    check_target(target)
    return in_place


def read_in_language(wb: Workbook, path: Path, sales: str | Path | None,
                     language: contextlib.ExitStack, accounts: Callable | None = None):
    """Read a workbook's Settings, invoice lines, accounts and salespeople, then enter the
    run's language (Settings ``Langue``, else the headers) in ``language``: scoring,
    writing and messages are said in it, and in French the sheets are read again so that
    what the reading noted (the header row found …) is said in French too. ``accounts(wb,
    settings, lines)``: how the accounts are read (default `read_accounts_or_lines`).
    Returns ``(settings, lines, area, raw, reps, language code)``; raises `UserError`."""
    accounts = accounts or read_accounts_or_lines

    def read(settings):
        lines = read_sales(wb, sales)
        area, raw = accounts(wb, settings, lines)
        return lines, area, raw, read_salespeople(wb)

    with _unexpected(path):
        settings = read_settings_rows(wb)
        lines, area, raw, reps = read(settings)
    lang = run_language(settings, raw.headers, raw.owned, raw.col_numbers)
    language.enter_context(use_language(lang))
    if lang != "en":
        with _unexpected(path):
            wb.restart_notices()
            lines, area, raw, reps = read(settings)
    wb._cut.clear()  # the rows are the run's now (validation may change them)
    return settings, lines, area, raw, reps, lang


@gcpause.during
def score_file(path: str | Path, out: str | Path | None = None, *, rules: str | None = None,
               plugin_dirs: Iterable[str] = (), engine: str | None = None,
               when: dt.datetime | None = None, sales: str | Path | None = None,
               notices: Iterable[Problem] = (), more_sheets: Any = None,
               history: str | Path | None = None) -> tuple[Result, Path]:
    """Recompute a workbook file: read, score, write (to ``out`` or in place, atomically).
    ``sales``: a file of invoice lines (``--sales``), else the workbook's Sales sheet.
    ``more_sheets(result, previous_rows)``: more sheets to write (`plan_file`), a list of
    `potentiel.plan.sheets.OutputSheet`; ``previous_rows(name)`` is the rows that sheet
    used before. ``history``: a History file (.csv, .parquet) that keeps the run's snapshot
    instead of the hidden History sheet (`keep_history`).

    A CSV or Parquet file, or an output to .csv or .parquet, goes to `potentiel.tabular`
    (chosen by extension once the file's bytes agree). ``notices``: choices a source made
    before (a CSV's encoding), put first in the warnings and the Reading sheet."""
    from .sources.filekind import source_of
    path = Path(path)
    source = source_of(path)
    if source != "workbook" or (out and Path(out).suffix.lower() not in (".xlsx", ".xlsm")):
        from .tabular import score_table_file
        done = score_table_file(path, out, source=source, rules=rules, plugin_dirs=plugin_dirs,
                                engine=engine, when=when, sales=sales)
        if history is not None:  # a CSV or Parquet run keeps its snapshot in that file
            keep_history_file(done[0], history, when)
        return done
    target = Path(out) if out else path
    in_place = check_output(path, target)
    wb = Workbook(path)
    language = contextlib.ExitStack()
    watch = None
    try:
        settings, lines, area, raw, reps, _lang = read_in_language(wb, path, sales, language)
        watch = _watch(wb, area)  # started now, its start beside the scoring
        wb.styles.foresee()  # the cell formats the sheets name, looked for beside it too
        result = score_tables(raw, settings, reps, rules=rules, plugin_dirs=plugin_dirs,
                              engine=engine, base_dir=path.parent, sales=lines)
        _return_freed_memory()  # what reading and scoring freed, before the outputs are made
        write_added_accounts(wb, area, result)
        result.warnings[:0] = [*notices, *wb.notices]
        if result.reading is not None:
            result.reading.notices[:0] = list(notices)
        wb.notices.clear()
        matrix = matrix_blocks(result)
        sheets, problems = extra_sheets(result, result.output_sheets)
        result.warnings.extend(Problem(p) for p in problems)
        planned = more_sheets(result, lambda name: used_rows(wb, name)) if more_sheets else []
        progress.writing(area.sheet.name)
        with _unexpected(path):
            plan = write_outputs(wb, area, raw, result)
            outputs = {*plan.columns.values(), *plan.stale}  # Potentiel's columns there
            watch = _watch(wb, area, outputs, watch)
            write_blocks(wb, MATRIX_SHEET, finished("matrix", matrix), SHEETS["matrix"])
            write_blocks(wb, SUMMARY_SHEET,
                         finished("summary", summary_blocks(result, _previous_rep_rows(wb))),
                         SHEETS["summary"])
            for name, blocks in sheets.items():
                write_blocks(wb, name, blocks)
            for more in planned:  # Plan, Objectives, Tours, Territory (potentiel.plan)
                write_blocks(wb, more.name, more.blocks, more.look)
                restyle(wb, more.name, more.restyle)
            kept, history_file = keep_history(wb, result, settings, path.parent, when, history)
            write_blocks(wb, READING_SHEET, finished("reading", reading_blocks(result, raw)),
                         SHEETS["reading"])
            append_log(wb, result, when)
            for name in (EXPLAIN_SHEET, PLAN_SHEET, OBJECTIVES_SHEET, TERRITORY_SHEET,
                         TOURS_SHEET):
                wb.sheet_for(name, create=False)  # named in the run's language too
            result.warnings.extend(wb.notices)
            owned, removable = _owned_parts(wb, area)
            wb.finish()
        lost: list[str] = []
        before = wb.values(area.sheet)
        del raw  # the account rows as cut for scoring: the check reads `before`, the grid

        def write(tmp: str) -> None:
            def started(part: str, offset: int) -> None:
                if part == area.sheet.part:
                    watch.writing(tmp, offset)
            if watch is None:
                wb.package.write(tmp)
            else:
                wb.package.write(tmp, on_stream=started)
            wb.release_written()  # what was rendered for the file is not needed by the check
            _return_freed_memory()
            # The user's cells of the accounts sheet, read back from the file written: a
            # typed value that would change stops the save, in place and with -o alike.
            # First their XML, byte for byte (`potentiel.keptcells`, its work done beside
            # the writing by `potentiel.keptwatch` on a large sheet); when that cannot
            # show it, their values as python-calamine reads them, cell by cell.
            progress.checking(area.sheet.name)
            changed = []
            same = None if watch is None else \
                keptwatch.kept(watch, wb.package, tmp, area.sheet.part, area.sheet.name)
            if same is None:
                same = keptcells.kept(wb.package, tmp, area.sheet.part, area.sheet.name,
                                      outputs)
            if not same:
                sparse = wb.sheet(area.sheet).layout().value_rows is not None
                changed = changed_cells(before, _read_back(tmp, area.sheet, sparse), outputs)
            if changed:
                first = changed[0]
                cells = _listed([_change_text(area.sheet.name, *c) for c in changed])
                raise UserError(
                    _("{path}: the file written would change cells you typed on sheet {name} "
                      "({cells}); nothing was written and {file} is left as it was: this is a "
                      "fault in Potentiel, please report it with the file").format(
                        path=path, name=area.sheet.name, cells=cells, file=path.name),
                    cell_ref(area.sheet.name, first[0], first[1]))
            # Nothing Potentiel does not own may be dropped or changed: in place, the
            # original is kept and the user is sent to -o (or Excel).
            lost.extend(wb.package.lost_parts(tmp, owned, removable))
            if lost and in_place:
                raise UserError(_("{path}: writing in place would drop or change parts "
                                  "Potentiel does not own ({listed}); the workbook is left as "
                                  "it was: write to another file with -o OUT, or recompute in "
                                  "Excel").format(path=path, listed=_listed(lost)))

        save_atomic(write, target, backup=backup_path(path) if in_place else None)
        if history_file is not None:  # once the workbook is saved
            from .review.history import write_file
            write_file(kept, history_file)
        if lost:
            result.warnings.append(Problem(_("{target} lacks or changed parts of {name} that "
                                             "Potentiel does not own ({listed}); the original "
                                             "is unchanged").format(
                                               target=target, name=path.name, listed=_listed(lost))))
    finally:
        if watch is not None:
            watch.close()
        language.close()
        wb.package.close()
    return result, target


def _watch(wb: Workbook, area: Area, outputs: set[int] | None = None,
           started: "keptwatch.Watch | None" = None) -> "keptwatch.Watch | None":
    """A watcher checking the accounts sheet beside the writing (`potentiel.keptwatch`),
    for a sheet written as a stream from `keptwatch.ABOVE` bytes; else None (the check
    after writing is then done here, `potentiel.keptcells`). Without ``outputs``, only
    started (once the sheet is read, before the scoring); with them, told what to watch
    (``started``: the one started then, else one started now, or closed when the sheet is
    no longer written as a stream)."""
    part = area.sheet.part
    info = wb.package.infos.get(part)
    if info is None or info.file_size < keptwatch.ABOVE or not wb.sheet(area.sheet).streamed:
        if started is not None:
            started.close()
        return None
    if outputs is None:
        return keptwatch.Watch()
    if started is None:
        return keptwatch.Watch(wb.package.path, info.filename, outputs)
    started.follow(wb.package.path, info.filename, outputs)
    return started


def used_rows(wb: Workbook, name: str) -> int:
    """The rows Potentiel's sheet ``name`` (English name) uses now; 0 when there is none."""
    ref = wb.owned_ref(name)
    return wb.sheet(ref).extent()[0] if ref is not None else 0


def restyle(wb: Workbook, name: str, looks: dict) -> None:
    """Give cells of Potentiel's sheet ``name`` their look at every run: (row, column) →
    `potentiel.sheet_styles.Look` (the Plan's load, red when over capacity)."""
    if looks:
        sheet = wb.sheet_for(name)
        sheet.set_styles({rc: wb.styles.look(None, look) for rc, look in looks.items()})


def plan_file(path: str | Path, out: str | Path | None = None, *, rep: str | None = None,
              **kw: Any):
    """`potentiel plan`: recompute the workbook as `score_file` does (``kw``: its options)
    and write the plan's sheets (`potentiel.plan.sheets.build`): Plan, Objectives and Tours
    (each rep's day tours), and with ``rep`` that rep's Territory. Returns (result, plan, target). A CSV or Parquet
    file, or an output that is not a workbook, is a `UserError`: the plan is sheets."""
    from .plan.sheets import build
    from .sources.filekind import source_of
    path = Path(path)
    target = Path(out) if out else path
    if source_of(path) != "workbook" or target.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(_("{path}: the plan is written as sheets of a workbook (.xlsx or "
                          ".xlsm); score a CSV or Parquet file into one first: potentiel score "
                          "{name} -o {stem}.xlsx").format(path=path if source_of(path) !=
                                                          "workbook" else target,
                                                          name=path.name, stem=path.stem))
    made: dict[str, Any] = {}

    def sheets(result: Result, previous) -> list:
        plan = build(result, rep, previous)
        result.warnings.extend(plan.problems)
        made["plan"] = plan
        return plan.sheets

    result, written = score_file(path, out, more_sheets=sheets, **kw)
    return result, made["plan"], written


def inspect_file(path: str | Path, *, rules: str | None = None,
                 plugin_dirs: Iterable[str] = (), sales: str | Path | None = None):
    """How a workbook's accounts are read (`potentiel inspect`): the `ReadingReport`, and
    nothing written. Invoice lines (``sales``, else the workbook's Sales sheet) are read
    too: their report is in its ``parts``; a workbook of lines only gives the accounts of
    the lines, as `score_file` does."""
    from .pipeline import inspect_tables, run_language
    from .sources.filekind import source_of
    path = Path(path)
    source = source_of(path)
    if source != "workbook":  # CSV, Parquet: no Settings, the rules from the command line
        from .sources import csv as csv_source
        from .sources import parquet as parquet_source
        reader = csv_source if source == "csv" else parquet_source
        raw, _notices = reader.read_accounts_file(path)
        lang = run_language((), raw.headers)
        with use_language(lang):  # read again, so the notes are in the file's language
            raw, notices = reader.read_accounts_file(path)
            lines, more = read_sales_file(sales) if sales is not None else (None, [])
            report = inspect_tables(raw, (), rules=rules, plugin_dirs=plugin_dirs,
                                    base_dir=path.parent, sales=lines)
        report.notices[:0] = [*notices, *more]
        report.language = lang
        return report
    wb = Workbook(path)
    try:
        with _unexpected(path):
            settings = read_settings_rows(wb)
            lines = read_sales(wb, sales)
            area, raw = read_accounts_or_lines(wb, settings, lines, writes=False)
        lang = run_language(settings, raw.headers, raw.owned, raw.col_numbers)
        with use_language(lang):  # as score does: what is said, in the workbook's language
            if lang != "en":
                with _unexpected(path):
                    wb.restart_notices()
                    lines = read_sales(wb, sales)
                    area, raw = read_accounts_or_lines(wb, settings, lines, writes=False)
            report = inspect_tables(raw, settings, rules=rules, plugin_dirs=plugin_dirs,
                                    base_dir=path.parent, sales=lines)
        report.notices[:0] = wb.notices
        report.language = lang
        return report
    finally:
        wb.package.close()


@contextmanager
def _unexpected(path: Path):
    """Parts that contradict each other (a relationship to a missing part, a table without
    columns, a row numbered "x2"): one line, nothing written, instead of a traceback."""
    try:
        yield
    except (KeyError, ValueError, AttributeError, IndexError, TypeError) as exc:
        raise UserError(_("{path}: a part of the workbook is not as Excel writes it ({name}: "
                          "{error}); nothing was written: open it in Excel and save it again").format(
                            path=path, name=type(exc).__name__, error=exc)) from None


def read_accounts(wb: Workbook, settings: list[tuple[Any, Any, str]] | None = None
                  ) -> tuple[Area, RawTable]:
    """The accounts as read (header row found, Potentiel's own columns known by their
    markers), with the Settings column map's headers recognised."""
    settings = read_settings_rows(wb) if settings is None else settings
    try:
        mapped, _ = column_map_rows(settings, _CATALOGUE)
    except UserError:
        mapped = {}  # said again, with its cell, when the run reads the column map
    area = locate_accounts(wb, tuple(mapped.values()))
    return area, read_raw(wb, area)


def _owned_parts(wb: Workbook, area: Area) -> tuple[set[str], set[str]]:
    """The parts Potentiel may change (the Accounts sheet and its table, the output sheets,
    the workbook's part, relationships and content types, the styles) and the ones it may
    remove (the calculation chain)."""
    pkg = wb.package
    owned = {area.sheet.part, *pkg.related(area.sheet.part, "table"), pkg.workbook_part,
             pkg.rels_name(pkg.workbook_part), "[Content_Types].xml", wb.styles.part}
    owned |= {s.part for s in pkg.sheets
              if s.name.casefold() in {n.casefold() for n in wb.marks.sheets.values()}}
    owned |= wb.renamed_parts  # formulas that follow a renamed sheet of Potentiel's
    removable = set(pkg.calc_chain_parts())
    return owned | removable, removable


class _Skip(int):
    """So many empty rows, in the rows of a sheet read back (`Workbook.sparse_rows`)."""


class _Rows:
    """The rows of a sheet read back, one at a time (``width``: the widest); a `_Skip`
    stands for a run of empty rows."""

    def __init__(self, rows: Iterable[list[Any]], width: int):
        self.rows, self.width = rows, width

    def __iter__(self):
        return iter(self.rows)


def _read_back(path: str, ref: SheetRef, sparse: bool = False) -> _Rows:
    """The values of one sheet of a written file, as `Workbook.values` reads them, a row
    at a time (python-calamine's rows become Python values as the comparison needs them:
    the whole sheet is never held twice). ``sparse``: as a sheet whose values stand far
    apart, without its empty rows."""
    def whole() -> _Rows:
        other = Workbook(Path(path))
        try:
            grid = other.values(next(s for s in other.package.sheets if s.name == ref.name))
            return _Rows(grid, max((len(r) for r in grid), default=0))
        finally:
            other.package.close()

    if sparse:
        other = Workbook(Path(path))
        try:
            return other.sparse_rows(next(s for s in other.package.sheets
                                          if s.name == ref.name))
        except UserError:
            raise
        except Exception:  # calamine raises its own error types: the long way
            return whole()
        finally:
            other.package.close()
    other = Workbook(Path(path))
    try:  # read as `values` reads: only what is proved to allocate few cells, checked
        found = other.sheet(next(s for s in other.package.sheets if s.name == ref.name))
        if not found.read_at_once(MAX_CELLS):
            sheet = None
        else:
            other.package.check_parts(other.package.reader_parts())
            sheet = _calamine_sheet(other.package, found.part)
            c0 = sheet.start[1] if sheet.start else 0
            height, width = sheet.height, sheet.width
    except UserError:
        raise
    except Exception:  # calamine raises its own error types: the long way (an error value
        sheet = None   # python-calamine does not know …)
    finally:
        other.package.close()
    if sheet is None:
        return whole()

    def rows():  # python-calamine's rows start at row 1, and at the first column used
        if not c0:
            yield from sheet.iter_rows()
            return
        pad = [None] * c0
        for row in sheet.iter_rows():
            yield pad + row

    return _Rows(rows(), c0 + width if height else 0)


def changed_cells(before: list[list[Any]], after: Iterable[list[Any]], skip: set[int],
                  most: int = 5) -> list[tuple[int, int, Any, Any]]:
    """The first ``most`` cells, ``(row, col, before, after)`` (1-based), whose values differ
    between two grids of one sheet, outside the columns ``skip`` (1-based). Blanks, ``""``
    and error cells (which a reader of values gives as ``""``) are equal. One pass over the
    cells; a row whose kept cells are equal costs one tuple comparison. ``after`` may be
    read a row at a time (`_Rows`, with its ``width``)."""
    from operator import itemgetter

    if not isinstance(after, _Rows):
        after = _Rows(after, max((len(r) for r in after), default=0))
    width = max(max((len(r) for r in before), default=0), after.width)
    keep = [j for j in range(width) if j + 1 not in skip]
    if not keep:
        return []
    pick = itemgetter(*keep) if len(keep) > 1 else (lambda r: (r[keep[0]],))

    need = keep[-1] + 1  # a row as long as the last column compared needs no padding

    def padded(r: list[Any]) -> list[Any]:
        return r if len(r) >= need else list(r) + [None] * (need - len(r))

    def blank(v: Any) -> Any:
        return None if v == "" or isinstance(v, ErrorCell) else v

    blanks = {"": None}

    out = []
    rows = iter(after)
    end = object()
    i = -1
    pending = 0  # empty rows still to compare one by one, of a run read back as a _Skip
    while True:
        i += 1
        if pending:
            pending, rb = pending - 1, []
        else:
            rb = next(rows, end)
            if type(rb) is _Skip:  # a run of empty rows: at once when empty here too
                seg = before[i:i + rb]
                if seg.count([]) == len(seg):
                    i += rb - 1
                    continue
                pending, rb = rb - 1, []
        if rb is end and i >= len(before):
            return out
        ra = before[i] if i < len(before) else []
        rb = [] if rb is end else rb
        if not ra and not rb:
            continue  # an empty row in both (a sparse sheet has a million of them)
        a, b = pick(padded(ra)), pick(padded(rb))
        b = tuple(map(blanks.get, b, b))  # "" as None, in C: the rows of a reader of values
        if a == b:
            continue
        for j, x, y in zip(keep, a, b):
            x, y = blank(x), blank(y)
            if x != y:
                out.append((i + 1, j + 1, x, y))
                if len(out) >= most:
                    return out


def _change_text(sheet: str, row: int, col: int, old: Any, new: Any) -> str:
    def shown(v: Any) -> str:
        return "blank" if v is None else repr(v) if isinstance(v, str) else str(v)
    return f"{cell_ref(sheet, row, col)} {shown(old)} → {shown(new)}"


def _listed(names: list[str], most: int = 5) -> str:
    more = _(" and {n} more").format(n=len(names) - most) if len(names) > most else ""
    return ", ".join(names[:most]) + more


def remote_payload(path: str | Path, selection: str | None = None,
                   active_sheet: str | None = None, client: str = "VBA",
                   version: str | None = None) -> dict[str, Any]:
    """What xlwings' VBA client (``RunRemotePython``) sends for this file, built from the
    file itself: for testing the server and trying it without Excel.

    Per worksheet, the values from A1 to the end of the used range (formulas as their
    cached values, dates as ISO text, blanks as null), its tables with absolute addresses
    (``$A$5:$AQ$205``) and the named ranges, as in xlwings' ``Remote.bas``. ``version``
    defaults to the installed xlwings' (read from its metadata: no xlwings import here).
    """
    import importlib.metadata
    import warnings

    import openpyxl
    from openpyxl.utils.cell import range_boundaries

    path = Path(path)
    if version is None:
        version = importlib.metadata.version("xlwings")
    with warnings.catch_warnings():  # openpyxl warns about extensions it does not read
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=True)
    index = {ws.title: i for i, ws in enumerate(wb.worksheets)}
    active = index[active_sheet] if active_sheet else wb.worksheets.index(wb.active)

    def absolute(c1: int, r1: int, c2: int, r2: int) -> str:
        a, b = f"${column_letter(c1)}${r1}", f"${column_letter(c2)}${r2}"
        return a if a == b else f"{a}:{b}"

    def value(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.isoformat(timespec="milliseconds") + "Z"
        if isinstance(v, dt.date):
            return dt.datetime(v.year, v.month, v.day).isoformat(timespec="milliseconds") + "Z"
        if isinstance(v, dt.time):
            return v.isoformat()
        return v

    names: list[dict[str, Any]] = []

    def add_name(name: str, ref: str, scope: Any) -> None:
        if "!" not in ref or "," in ref:
            return  # constants, formulas and multi-area names are not sent by the client
        sheet, _, addr = ref.lstrip("=").rpartition("!")
        sheet = sheet.strip("'").replace("''", "'")
        if sheet not in index:
            return
        try:
            c1, r1, c2, r2 = range_boundaries(addr.replace("$", ""))
        except ValueError:
            return
        rel = absolute(c1, r1, c2, r2).replace("$", "")
        names.append({"name": name if scope is None else f"{scope}!{name}",
                      "sheet_index": index[sheet], "address": rel, "book_scope": scope is None,
                      "scope_sheet_name": scope,
                      "scope_sheet_index": None if scope is None else index[scope]})

    for name, dn in wb.defined_names.items():
        add_name(name, dn.attr_text, None)
    sheets = []
    for ws in wb.worksheets:
        for name, dn in ws.defined_names.items():
            if not name.startswith("_xlnm."):
                add_name(name, dn.attr_text, ws.title)
        tables = []
        for table in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(table.ref)
            head = int(table.headerRowCount if table.headerRowCount is not None else 1)
            tot = int(table.totalsRowCount or 0)
            body = (r1 + head, r2 - tot)
            tables.append({
                "name": table.displayName or table.name,
                "range_address": absolute(c1, r1, c2, r2),
                "header_row_range_address": absolute(c1, r1, c2, r1) if head else None,
                "data_body_range_address": absolute(c1, body[0], c2, body[1])
                if body[1] >= body[0] else None,
                "total_row_range_address": absolute(c1, r2, c2, r2) if tot else None,
                "show_headers": bool(head), "show_totals": bool(tot),
                "table_style": table.tableStyleInfo.name if table.tableStyleInfo else None,
                "show_autofilter": table.autoFilter is not None})
        rows = [[value(c) for c in row] for row in ws.iter_rows(
            min_row=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)]
        if not any(v is not None for r in rows for v in r):
            rows = [[]]
        sheets.append({"name": ws.title, "pictures": [], "tables": tables, "values": rows})
    return {"client": client, "version": version,
            "book": {"name": path.name, "active_sheet_index": active, "selection": selection},
            "names": names, "sheets": sheets}


# --- invoice lines (potentiel.sources.invoices): a Sales sheet, or a --sales file -----------

def read_sales(wb: Workbook, path: str | Path | None = None) -> RawTable | None:
    """The invoice lines: the file ``path`` (`read_sales_file`), else the workbook's sheet
    Sales / Ventes / Invoices / Factures; None if none."""
    from .sources.invoices import SALES_SHEET_NAMES
    if path is not None:
        raw, notices = read_sales_file(path)
        wb.notices.extend(notices)
        return raw
    ref, table = _find(wb, SALES_SHEET_NAMES)
    if ref is None:
        return None
    return _sales_raw(wb, ref, table)


def read_sales_file(path: str | Path) -> tuple[RawTable, list[Problem]]:
    """Invoice lines from a file (``--sales``): an .xlsx/.xlsm (its Sales / Ventes /
    Factures sheet, else its first sheet), a CSV or a Parquet file; and the choices made
    reading it (a CSV's encoding)."""
    from .sources.filekind import source_of
    from .sources.invoices import SALES_SHEET_NAMES, line_catalogue
    p = Path(path)
    source = source_of(p)
    if source in ("csv", "parquet"):
        from .sources import csv as csv_source
        from .sources import parquet as parquet_source
        reader = csv_source if source == "csv" else parquet_source
        if source == "csv":
            return reader.read_accounts_file(p, line_catalogue())
        return reader.read_accounts_file(p)
    other = Workbook(p)
    try:
        ref, table = _find(other, SALES_SHEET_NAMES)
        if ref is None:
            ref, table = other.package.sheets[0], None
            tables = other.tables(ref)
            table = tables[0] if tables else None
        return _sales_raw(other, ref, table), []
    finally:
        other.package.close()


def _sales_raw(wb: Workbook, ref: SheetRef, table: Table | None) -> RawTable:
    from .sources.invoices import line_catalogue
    if table is not None:
        return read_raw(wb, _area(wb, ref, table, _("invoice lines")), owned=False)
    grid = wb.values(ref)
    header, note = find_header_row(grid, line_catalogue())
    if header is None:
        raise UserError(_("sheet {name} is empty; paste the invoice lines with a header row "
                          "(Code client, Date facture, Montant HT)").format(name=ref.name), ref.name)
    cols = [j for j, v in enumerate(grid[header]) if v is not None]
    area = Area(ref, header + 1, cols[0] + 1, cols[-1] + 1, len(grid), note=note)
    return read_raw(wb, area, owned=False)


ADDED_HEADERS = ("Account id", "Name", "Status", "Salesperson")


def read_accounts_or_lines(wb: Workbook, settings: list[tuple[Any, Any, str]],
                           lines: RawTable | None, writes: bool = True) -> tuple[Area, RawTable]:
    """The accounts; with no Accounts sheet but invoice lines, a new Accounts sheet (Account
    id, Name, Status, Salesperson) to which the accounts of the lines are written (said in
    the run; ``writes=False``, for inspect: said as what a run would write)."""
    if lines is None or _find(wb, ACCOUNTS_NAMES)[0] is not None:
        return read_accounts(wb, settings)
    name = free_name("Accounts", wb.package.all_sheet_names())
    ref = wb.package.add_sheet(name, EMPTY_SHEET)
    wb.sheet(ref).write_row(1, {j: h for j, h in enumerate(ADDED_HEADERS, start=1)})
    wb._values[ref.name] = [list(ADDED_HEADERS)]
    area = Area(ref, 1, 1, len(ADDED_HEADERS), 1,
                note=_("no Accounts sheet: {name} was added for the accounts of the invoice "
                       "lines").format(name=name))
    said = _("no Accounts sheet: the accounts are the client codes of the invoice lines "
             "({sheet}), written to a new sheet {name}") if writes else \
        _("no Accounts sheet: the accounts are the client codes of the invoice lines "
          "({sheet}); score writes them to a new sheet {name}")
    wb.notices.append(Problem(said.format(sheet=lines.sheet, name=name), name,
                              kind="accounts-from-lines"))
    return area, RawTable(list(ADDED_HEADERS), [], sheet=name, header_row=1,
                          header_note=area.note)


def write_added_accounts(wb: Workbook, area: Area, result: Result) -> None:
    """Rows the invoice lines added to the accounts (id, name, status), under the last one;
    the area (and the Excel table) grow to hold them."""
    sales = getattr(result, "sales", None)
    if sales is None or not sales.added:
        return
    sheet = wb.sheet(area.sheet)
    grid = wb.values(area.sheet)
    headers = [grid[area.header_row - 1][c - 1] if c - 1 < len(grid[area.header_row - 1])
               else None for c in range(area.first_col, area.last_col + 1)]
    rows = {}
    for r, values in sales.added:
        cells = {area.first_col + headers.index(h): v for h, v in values.items() if h in headers}
        rows[r] = cells
        while len(grid) < r:
            grid.append([])
        grid[r - 1] = [cells.get(c) for c in range(1, area.last_col + 1)]
    sheet.write_rows(rows)
    area.last_row = max(r for r, _ in sales.added)
    if area.table is not None:
        r1, c1, r2, c2 = range_bounds(area.table.ref)
        area.table.ref = f"{col_letter(c1)}{r1}:{col_letter(c2)}{area.last_row}"
        root = wb.package.xml(area.table.part)
        root.set("ref", area.table.ref)
        auto = root.find("m:autoFilter", NS)
        if auto is not None:
            auto.set("ref", area.table.ref)
        wb.package.touch(area.table.part)


# --- check before you change (potentiel.review): history, changes, preview -----------------

def _hide_sheet(wb: Workbook, name: str) -> None:
    """Potentiel's sheet ``name``, when this run created it, hidden (``state="hidden"`` in
    the workbook part) unless it is the active tab; a sheet someone unhid stays visible."""
    ref = wb.owned_ref(name)
    if ref is None or ref.part not in wb.created:
        return
    pkg = wb.package
    root = pkg.xml(pkg.workbook_part)
    sheets = root.findall("m:sheets/m:sheet", NS)
    view = root.find("m:bookViews/m:workbookView", NS)
    active = int(view.get("activeTab", "0")) if view is not None else 0
    for i, s in enumerate(sheets):
        if s.get("name") == ref.name and i != active and s.get("state") != "hidden":
            s.set("state", "hidden")
            pkg.touch(pkg.workbook_part)


def _write_long_blocks(wb: Workbook, name: str, blocks: list[Block]) -> None:
    """As `write_blocks` (no look): the History sheet holds up to 50,000 lines, held as
    columns (`potentiel.report.Rows`) and written a column at a time."""
    sheet = wb.sheet_for(name)
    for b in blocks:
        if b.clear_to_row:
            width = b.clear_cols or max(len(r) for r in b.values)
            sheet.clear(b.row, b.clear_to_row, b.col, b.col + width - 1)
        values = b.values if isinstance(b.values, Rows) else Rows(b.values, [])
        for rows, columns in values.parts(b.row, b.col, KEEP):
            sheet.write_columns(rows, columns)


def _return_freed_memory() -> None:
    """Memory just freed given back to the system: glibc's allocator keeps freed blocks for
    later, and the next stage's peak came on top of them. After scoring (what reading and
    scoring freed: 100,000 accounts, 633 → 615 MB at the peak, 3 ms) and before the check
    reads the file back (the cells rendered for it: 956 → 830 MB). Only with glibc
    (Linux); elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # another C library (musl): nothing to do
        pass


def _history_path(settings: list[tuple[Any, Any, str]], base: Path,
                  given: str | Path | None) -> Path | None:
    """The History file: ``--history`` (as given), else Settings History file (beside the
    workbook), else None (the History sheet)."""
    from .review.history import check_file, history_settings
    if given is not None:
        check_file(str(given))
        return Path(given)
    hs = history_settings(settings)
    if hs.file is None:
        return None
    p = Path(hs.file).expanduser()
    return p if p.is_absolute() else base / p


def _read_kept(wb: Workbook, file: Path | None):
    """(the kept runs, rows of the History sheet read): from the History file; from the
    History sheet when there is no file yet (its runs then go on in the file)."""
    from .review.history import from_grid, read_file
    if file is not None and file.exists():
        return read_file(file), 0
    ref = wb.owned_ref(HISTORY_SHEET)
    grid = wb.values(ref) if ref is not None else []
    return from_grid(grid, ref.name if ref is not None else ""), len(grid)


def account_names_of(path: str | Path) -> dict[str, str]:
    """Account id → name, as the workbook's Accounts hold them (for `potentiel changes`)."""
    from .review.history import account_key
    from .validate import validate
    wb = Workbook(Path(path))
    try:
        with _unexpected(Path(path)):
            settings = read_settings_rows(wb)
            raw = read_accounts(wb, settings)[1]
        acc = validate(raw, _CATALOGUE).accounts
    finally:
        wb.package.close()
    if "id" not in acc or "name" not in acc:
        return {}
    return {k: str(n) for k, n in zip(map(account_key, acc["id"].to_numpy(dtype=object)),
                                      acc["name"].to_numpy(dtype=object))
            if k is not None and plain(n) is not None}


def keep_history(wb: Workbook, result: Result, settings: list[tuple[Any, Any, str]],
                 base: Path, when: dt.datetime | None, given: str | Path | None = None):
    """The run's snapshot kept (`potentiel.review.history`): on the hidden History sheet, or
    in the History file (returned with the runs kept, written by the caller once the
    workbook is saved; on the sheet, None and None: the runs are not held any longer); the
    Changes sheet since the earlier run Settings name (else the run before). What was
    decided (runs dropped, a sheet that could not be read) joins the run's warnings."""
    from .review.history import (MAX_SHEET_ROWS, LazyNames, Run, changes, changes_blocks,
                                 history_settings, run_model, run_time, sheet_blocks, snapshot)
    hs = history_settings(settings)
    file = _history_path(settings, base, given)
    history, rows = _read_kept(wb, file)
    run = Run(history.next_run(), run_time(when), result.rules_name, run_model(result))
    history.add(snapshot(result, run.date, run.run), run, hs.runs,
                None if file is not None else MAX_SHEET_ROWS, len(result.accounts))
    if file is None:
        _write_long_blocks(wb, HISTORY_SHEET, sheet_blocks(history, hs.runs, rows))
        _hide_sheet(wb, HISTORY_SHEET)
    ch = changes(history, hs.since, LazyNames(result), hs.where.get("since", ""))
    ref = wb.owned_ref(CHANGES_SHEET)
    before = wb.sheet(ref).last_row_with_value(1) if ref is not None else 0
    write_blocks(wb, CHANGES_SHEET, changes_blocks(ch, before))
    result.warnings.extend(ch.notices)
    return (history, file) if file is not None else (None, None)


def keep_history_file(result: Result, file: str | Path, when: dt.datetime | None) -> None:
    """The run's snapshot kept in the History file ``file`` (a CSV or Parquet run)."""
    from .review.history import (Run, check_file, read_file, run_model, snapshot, write_file,
                                 run_time)
    check_file(str(file))
    history = read_file(Path(file))
    run = Run(history.next_run(), run_time(when), result.rules_name, run_model(result))
    history.add(snapshot(result, run.date, run.run), run, accounts=len(result.accounts))
    write_file(history, Path(file))
    result.warnings.extend(history.notices)


def read_history_of(path: str | Path, given: str | Path | None = None):
    """The kept runs of a workbook file: its History file (``given``, else the one its
    Settings name), else its History sheet (`potentiel.review.history.History`)."""
    path = Path(path)
    wb = Workbook(path)
    try:
        with _unexpected(path):
            settings = read_settings_rows(wb)
            lang = run_language(settings)
        with use_language(lang):
            file = _history_path(settings, path.parent, given)
            history = _read_kept(wb, file)[0]
        history.language = lang
        return history
    finally:
        wb.package.close()


def preview_file(path: str | Path, out: str | Path | None = None, *, rules: str | None = None,
                 plugin_dirs: Iterable[str] = (), engine: str | None = None,
                 sales: str | Path | None = None, history: str | Path | None = None):
    """``potentiel score FILE --preview``: score with the workbook's current Settings and
    rules, write no output, and compare the categories with the workbook's
    (`potentiel.review.preview`). With ``out``, the Preview sheet is written there (a copy
    of the workbook whose only change is that sheet; ``out`` may be the workbook itself,
    a backup is kept). Returns ``(preview, result, target or None)``."""
    from .review.preview import LOOK, preview, preview_blocks
    from .sources.filekind import source_of
    path = Path(path)
    if source_of(path) != "workbook":
        raise UserError(_("{path}: --preview compares with the categories of a workbook "
                          "(.xlsx or .xlsm); a CSV or Parquet file has none of Potentiel's "
                          "to compare with").format(path=path))
    target = Path(out) if out else None
    if target is not None:
        check_output(path, target)
    wb = Workbook(path)
    language = contextlib.ExitStack()
    try:
        settings, lines, area, raw, reps, lang = read_in_language(wb, path, sales, language)
        result = score_tables(raw, settings, reps, rules=rules, plugin_dirs=plugin_dirs,
                              engine=engine, base_dir=path.parent, sales=lines)
        result.warnings[:0] = wb.notices
        wb.notices.clear()
        with _unexpected(path):
            kept = _read_kept(wb, _history_path(settings, path.parent, history))[0]
        shown = preview(result, raw, kept)
        if target is None:
            return shown, result, None
        in_place = target.resolve() == path.resolve()
        with _unexpected(path):
            ref = wb.owned_ref(PREVIEW_SHEET)
            rows = wb.sheet(ref).last_row_with_value(1) if ref is not None else 0
            write_blocks(wb, PREVIEW_SHEET, preview_blocks(shown, rows), LOOK)
            owned, removable = _owned_parts(wb, area)
            # the accounts are never written by a preview: a change there stops the save
            owned -= {area.sheet.part, *wb.package.related(area.sheet.part, "table")}
            wb.finish()

        def write(tmp: str) -> None:
            wb.package.write(tmp)
            lost = wb.package.lost_parts(tmp, owned, removable)
            if lost:
                raise UserError(_("{path}: writing the Preview sheet would drop or change parts "
                                  "Potentiel does not own ({listed}); nothing was written").format(
                                    path=path, listed=_listed(lost)))

        save_atomic(write, target, backup=backup_path(path) if in_place else None)
        return shown, result, target
    finally:
        language.close()
        wb.package.close()
