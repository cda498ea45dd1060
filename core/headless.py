"""The headless front end: read and write the workbook file itself, with openpyxl.

The only module that imports openpyxl. It finds the Accounts table (an Excel table named
Accounts/Comptes, or the used range of a sheet so named), the Settings and Salespeople
sheets, hands plain values to the pipeline, and writes back only what Potentiel owns: its
output columns (next to the inputs, inside the table) and its output sheets. The file is
written to a temporary file next to the target and then moved into place, so a failure
never leaves half a workbook; in place, the previous version is kept as a backup.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .fields import normalise
from .layout import place_outputs, settings_rows
from .pipeline import Result, score_tables
from .problems import Problem, UserError, cell_ref, column_letter
from .report import (LOG_HEADERS, LOG_SHEET, MATRIX_SHEET, SUMMARY_SHEET, SUMMARY_REP_ROW, Block,
                     extra_sheets, log_row, matrix_blocks, summary_blocks)
from .safety import formula_like
from .validate import FormulaCell, RawTable

ACCOUNTS_NAMES = ("accounts", "comptes", "clients")
SETTINGS_NAMES = ("settings", "parametres", "reglages", "configuration")
REPS_NAMES = ("salespeople", "commerciaux", "reps", "vendeurs", "salesreps")


@dataclass
class Area:
    """Where the Accounts table is: sheet, header row, columns, data rows, Excel table."""

    sheet: str
    header_row: int
    first_col: int
    last_col: int
    last_row: int
    table: Any = None  # openpyxl Table, when the accounts are an Excel table


def _load(path: Path):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a workbook")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError(f"{path}: an old .xls workbook or an encrypted one; open it in Excel and "
                        "save it as .xlsx (Excel Workbook) without a password")
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not an Excel workbook (.xlsx or .xlsm); if it is a CSV or text "
                        "export, open it in Excel and save it as .xlsx")
    keep_vba = path.suffix.lower() in (".xlsm", ".xltm")
    try:
        return openpyxl.load_workbook(path, keep_vba=keep_vba, keep_links=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}: "
                        f"{exc}); open it in Excel and save it again as .xlsx") from None


def _sheet(wb, names: tuple[str, ...]):
    for ws in wb.worksheets:
        if normalise(ws.title) in names:
            return ws
    return None


def _find_table(wb, names: tuple[str, ...]):
    for ws in wb.worksheets:
        for table in ws.tables.values():  # TableList.items() yields refs, not tables
            if normalise(table.displayName or table.name) in names:
                return ws, table
    return None, None


def _bounds(ref: str) -> tuple[int, int, int, int]:
    from openpyxl.utils.cell import range_boundaries
    return range_boundaries(ref)  # min_col, min_row, max_col, max_row


def locate_accounts(wb) -> tuple[Any, Area]:
    ws, table = _find_table(wb, ACCOUNTS_NAMES)
    if ws is None:
        ws = _sheet(wb, ACCOUNTS_NAMES)
        if ws is None:
            names = ", ".join(w.title for w in wb.worksheets)
            raise UserError(f"no Accounts sheet (sheets here: {names}); add a sheet named Accounts "
                            "(or Comptes) with one row per account and the headers in the first row")
        table = next(iter(ws.tables.values()), None)
    if table is not None:
        c1, r1, c2, r2 = _bounds(table.ref)
        r2 -= int(table.totalsRowCount or 0)
        return ws, Area(ws.title, r1, c1, c2, r2, table)
    header_row = None
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 50)):
        if sum(1 for c in row if c.value not in (None, "")) >= 1:
            header_row = row[0].row
            break
    if header_row is None:
        raise UserError(f"sheet {ws.title} is empty; paste the accounts with a header row "
                        "(Code client, Raison sociale, CA N, …)")
    cols = [c.column for c in ws[header_row] if c.value not in (None, "")]
    return ws, Area(ws.title, header_row, min(cols), max(cols), ws.max_row)


def _cell_value(cell) -> Any:
    if cell.data_type == "f":
        return FormulaCell(str(cell.value))
    v = cell.value
    if v is not None and not isinstance(v, (str, int, float, bool, dt.datetime, dt.date, dt.time)):
        return FormulaCell(str(getattr(v, "text", v)))  # ArrayFormula and friends
    return v


def read_raw(ws, area: Area) -> RawTable:
    headers, rows = [], []
    for row in ws.iter_rows(min_row=area.header_row, max_row=area.header_row,
                            min_col=area.first_col, max_col=area.last_col):
        headers = [c.value for c in row]
    formulas = []
    for i, row in enumerate(ws.iter_rows(min_row=area.header_row + 1, max_row=area.last_row,
                                         min_col=area.first_col, max_col=area.last_col)):
        values = [_cell_value(c) for c in row]
        formulas.extend((i, j) for j, v in enumerate(values) if type(v) is FormulaCell)
        rows.append(values)
    return RawTable(headers, rows, sheet=area.sheet, header_row=area.header_row,
                    row_numbers=list(range(area.header_row + 1, area.header_row + 1 + len(rows))),
                    col_numbers=list(range(area.first_col, area.last_col + 1)),
                    formulas=formulas)


def read_settings_rows(wb) -> list[tuple[Any, Any, str]]:
    ws = _sheet(wb, SETTINGS_NAMES)
    if ws is None:
        return []
    grid = [[_cell_value(c) for c in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row,
                                                                     max_col=min(ws.max_column, 6))]
    rows = settings_rows(grid, ws.title)
    for label, value, where in rows:
        if isinstance(value, FormulaCell):
            raise UserError("a formula in Settings cannot be read without Excel; type the value",
                            where)
    return rows


def read_salespeople(wb) -> RawTable | None:
    ws, table = _find_table(wb, REPS_NAMES)
    if ws is None:
        ws = _sheet(wb, REPS_NAMES)
        if ws is None:
            return None
        table = next(iter(ws.tables.values()), None)
    if table is not None:
        c1, r1, c2, r2 = _bounds(table.ref)
        area = Area(ws.title, r1, c1, c2, r2, table)
    else:
        if ws.max_row < 2:
            return None
        area = Area(ws.title, 1, 1, ws.max_column, ws.max_row)
    return read_raw(ws, area)


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _put(ws, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col)
    value = _plain(value)
    cell.value = value
    if isinstance(value, str) and (cell.data_type == "f" or formula_like(value)):
        # Text from data is stored as text, shown as typed, never run as a formula.
        cell.data_type = "s"
        cell.quotePrefix = True


def write_outputs(ws, area: Area, raw: RawTable, result: Result) -> None:
    """Write the output columns next to the inputs; inputs are never touched."""
    outputs = result.outputs
    plan = place_outputs(raw.headers, area.first_col, area.last_col, list(outputs.columns))
    for name in plan.new:
        _check_free(ws, area, plan.columns[name], name)
    n_rows = area.last_row - area.header_row
    positions = {pos: i for i, pos in enumerate(outputs.index)}
    for name, col in plan.columns.items():
        _put(ws, area.header_row, col, name)
        values = outputs[name].to_numpy(dtype=object)
        for pos in range(n_rows):
            i = positions.get(pos)
            _put(ws, area.header_row + 1 + pos, col, None if i is None else values[i])
    for col in plan.stale:
        for pos in range(n_rows):
            ws.cell(row=area.header_row + 1 + pos, column=col).value = None
    if plan.new and area.table is not None:
        _extend_table(area, plan.last_col, list(plan.columns))


def _check_free(ws, area: Area, col: int, name: str) -> None:
    for r in range(area.header_row, area.last_row + 1):
        v = ws.cell(row=r, column=col).value
        if v not in (None, ""):
            raise UserError(f'cannot add the output column "{name}": the cells to the right of '
                            f"the accounts are not empty; move what is in column "
                            f"{column_letter(col)} or leave it free",
                            cell_ref(ws.title, r, col))


def _extend_table(area: Area, last_col: int, names: list[str]) -> None:
    from openpyxl.worksheet.table import TableColumn
    from openpyxl.utils import get_column_letter
    table = area.table
    c1, r1, c2, r2 = _bounds(table.ref)
    have = {tc.name for tc in table.tableColumns}
    next_id = max((tc.id for tc in table.tableColumns), default=0) + 1
    for name in names:
        if name not in have:
            table.tableColumns.append(TableColumn(id=next_id, name=name))
            next_id += 1
    table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(last_col)}{r2}"
    if table.autoFilter is not None:
        table.autoFilter.ref = table.ref


def write_blocks(wb, sheet: str, blocks: list[Block]) -> None:
    ws = wb[sheet] if sheet in wb.sheetnames else wb.create_sheet(sheet)
    for b in blocks:
        if b.clear_to_row:
            width = b.clear_cols or max(len(r) for r in b.values)
            for r in range(b.row, b.clear_to_row + 1):
                for c in range(b.col, b.col + width):
                    if ws.cell(row=r, column=c).value is not None:
                        ws.cell(row=r, column=c).value = None
        for i, line in enumerate(b.values):
            for j, v in enumerate(line):
                _put(ws, b.row + i, b.col + j, v)


def append_log(wb, result: Result, when: dt.datetime | None = None) -> None:
    if LOG_SHEET in wb.sheetnames:
        ws = wb[LOG_SHEET]
    else:
        ws = wb.create_sheet(LOG_SHEET)
    if ws.cell(row=1, column=1).value in (None, ""):
        for j, h in enumerate(LOG_HEADERS, start=1):
            _put(ws, 1, j, h)
    row = ws.max_row + 1
    while row > 2 and ws.cell(row=row - 1, column=1).value in (None, ""):
        row -= 1
    for j, v in enumerate(log_row(result, when), start=1):
        _put(ws, row, j, v)


def _previous_rep_rows(wb) -> int:
    if SUMMARY_SHEET not in wb.sheetnames:
        return 0
    ws = wb[SUMMARY_SHEET]
    return max(0, ws.max_row - SUMMARY_REP_ROW)


def save_atomic(wb, target: Path, backup: Path | None = None) -> None:
    """Write next to the target, then move into place; keep the old file as ``backup``."""
    target = Path(target)
    lock = target.with_name("~$" + target.name)
    if lock.exists():
        raise UserError(f"{target}: the workbook is open in Excel (lock file {lock.name}); close it "
                        "first, or write to another file with -o")
    fd, tmp = tempfile.mkstemp(prefix=".~potentiel-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if backup is not None and target.exists():
            shutil.copy2(target, backup)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.backup{path.suffix}")


def score_file(path: str | Path, out: str | Path | None = None, *, rules: str | None = None,
               plugin_dirs: Iterable[str] = (), engine: str | None = None,
               when: dt.datetime | None = None) -> tuple[Result, Path]:
    """Recompute a workbook file: read, score, write (to ``out`` or in place, atomically)."""
    path = Path(path)
    target = Path(out) if out else path
    if out and target.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(f"{target}: the output must be an .xlsx or .xlsm file")
    if out and path.suffix.lower() == ".xlsm" and target.suffix.lower() != ".xlsm":
        raise UserError(f"{target}: {path.name} has macros; write to an .xlsm file to keep them")
    wb = _load(path)
    ws, area = locate_accounts(wb)
    raw = read_raw(ws, area)
    result = score_tables(raw, read_settings_rows(wb), read_salespeople(wb), rules=rules,
                          plugin_dirs=plugin_dirs, engine=engine, base_dir=path.parent)
    write_outputs(ws, area, raw, result)
    write_blocks(wb, MATRIX_SHEET, matrix_blocks(result))
    write_blocks(wb, SUMMARY_SHEET, summary_blocks(result, _previous_rep_rows(wb)))
    sheets, problems = extra_sheets(result, result.output_sheets)
    for name, blocks in sheets.items():
        write_blocks(wb, name, blocks)
    result.warnings.extend(Problem(p) for p in problems)
    append_log(wb, result, when)
    save_atomic(wb, target, backup=None if out else backup_path(path))
    return result, target


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
