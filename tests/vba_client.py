"""What xlwings' VBA client does with the server's answer, simulated on a file (openpyxl).

`VBA_FUNCS` is read from the installed xlwings' ``Remote.bas``: the action types the VBA
client can run (an action outside this set fails in Excel). `apply_actions` plays the
actions we emit on a copy of a workbook the way Excel's ``Range.Value = array`` would take
them: an apostrophe makes text, a string starting with ``=`` (or + - @) becomes a formula,
so a test that reads the result back sees exactly what a user would.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import xlwings
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from potentiel.headless import sheet_renamed
from openpyxl.worksheet.table import TableColumn

REMOTE_BAS = Path(xlwings.__file__).resolve().parent / "addin" / "Remote.bas"
VBA_FUNCS = frozenset(re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)",
                                 REMOTE_BAS.read_text(encoding="utf-8-sig"), re.M))
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$")
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")  # Excel reads it as a date
BIG_RANGE = 100_000  # rows: a range this tall is a whole column, styled as one
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class Formula(str):
    """A cell Excel would have turned into a formula."""


class ExcelRefused(Exception):
    """An action Excel would stop on (run-time error 1004): the actions after it are not
    run and nothing is saved here (in Excel, the ones before it stay done)."""


def excel_value(v: Any) -> Any:
    """The cell value Excel stores for one element of a setValues array."""
    if v == "" or v is None:
        return None
    if isinstance(v, str):
        if _ISO.match(v) or _DATETIME_TEXT.match(v):  # ParseIso, or Excel's own parsing
            return dt.datetime.fromisoformat(v.rstrip("Z"))
        if v.startswith("'"):
            return v[1:]
        if _NUMBER.match(v):
            return float(v)
        if v.startswith(("=", "+", "-", "@")):
            return Formula(v)
    return v


def _rect(ws, action: dict):
    r0, c0 = action["start_row"] + 1, action["start_column"] + 1
    return [[ws.cell(row=r0 + i, column=c0 + j) for j in range(action["column_count"])]
            for i in range(action["row_count"])]


def apply_actions(source: Path, actions: list[dict], target: Path) -> list[tuple[str, str]]:
    """Apply ``actions`` to a copy of ``source`` saved as ``target``; returns the cells that
    became formulas (sheet, coordinate), which must always be empty."""
    keep_vba = Path(source).suffix.lower() == ".xlsm"
    charts = _parts(source, "xl/charts/")  # read first: source and target may be one file
    wb = openpyxl.load_workbook(source, keep_vba=keep_vba)
    formulas = []
    renamed: list[tuple[str, str]] = []
    for action in actions:
        func = action["func"]
        assert func in VBA_FUNCS, f"the VBA client cannot run {func}"
        ws = wb.worksheets[action["sheet_position"]] if action["sheet_position"] is not None \
            else None
        if func == "setValues":
            values = action["values"]
            assert len(values) == action["row_count"], "setValues: row count differs"
            for line, cells in zip(values, _rect(ws, action)):
                assert len(line) == action["column_count"], "setValues: ragged row"
                for v, cell in zip(line, cells):
                    value = excel_value(v)
                    if isinstance(value, Formula):
                        formulas.append((ws.title, cell.coordinate))
                        cell.value = str(value)
                    else:
                        cell.value = value
                        cell.quotePrefix = isinstance(v, str) and v.startswith("'")
                        if isinstance(value, str):
                            cell.data_type = "s"
        elif func == "rangeClearContents":
            for cells in _rect(ws, action):
                for cell in cells:
                    cell.value = None
        elif func == "rangeClearFormats":  # Range.ClearFormats: the default look again
            from openpyxl.styles import Font
            for cells in _rect(ws, action):
                for cell in cells:
                    cell.number_format = "General"
                    cell.fill = PatternFill(fill_type=None)
                    cell.font = Font()
        elif func == "resizeTable":
            index, address = action["args"]
            table = list(ws.tables.values())[index]
            ref = address.replace("$", "")
            c1, r1, c2, r2 = range_boundaries(ref)
            names = [ws.cell(row=r1, column=c).value for c in range(c1, c2 + 1)]
            have = {tc.name for tc in table.tableColumns}
            next_id = max((tc.id for tc in table.tableColumns), default=0) + 1
            for name in names[len(table.tableColumns):]:
                assert name not in have
                table.tableColumns.append(TableColumn(id=next_id, name=str(name)))
                next_id += 1
            table.ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
        elif func == "addSheet":
            # Excel refuses a sheet name already taken, ignoring case, by a worksheet or a
            # chart sheet (openpyxl would quietly make it "Summary1")
            name = action["args"][1]
            if name is not None and name.casefold() in {n.casefold() for n in wb.sheetnames}:
                raise ExcelRefused(f'addSheet: the sheet name "{name}" is already taken')
            wb.create_sheet(name)
        elif func == "setNumberFormat":  # Range.NumberFormat = code
            code = action["args"][0]
            if action["row_count"] > BIG_RANGE:  # a whole column: its style, not each cell
                for k in range(action["column_count"]):
                    letter = get_column_letter(action["start_column"] + 1 + k)
                    ws.column_dimensions[letter].number_format = code
                    for cell in ws[letter][action["start_row"]:]:
                        cell.number_format = code
            else:
                for cells in _rect(ws, action):
                    for cell in cells:
                        cell.number_format = code
        elif func == "setRangeColor":  # Range.Interior.Color = HexToRgb("#RRGGBB")
            colour = action["args"][0]
            assert re.fullmatch(r"#[0-9A-Fa-f]{6}", colour), f"setRangeColor: {colour!r}"
            fill = PatternFill("solid", fgColor="FF" + colour[1:].upper())
            for cells in _rect(ws, action):
                for cell in cells:
                    cell.fill = fill
        elif func == "setAutofit":  # Range.Columns.AutoFit / Range.Rows.AutoFit
            assert action["args"][0] in ("columns", "rows"), action["args"]
            assert action["row_count"] <= BIG_RANGE, "autofit over a whole column"
            if action["args"][0] == "columns":
                for k, column in enumerate(zip(*_rect(ws, action))):
                    letter = get_column_letter(action["start_column"] + 1 + k)
                    ws.column_dimensions[letter].width = max(
                        [ws.column_dimensions[letter].width or 8.43,
                         *(_shown_width(c) for c in column)])
        elif func == "activateSheet":
            wb.active = action["args"][0]
        elif func == "namesAdd":  # Remote.bas: wb.Names.Add Name, RefersTo (replaces)
            from openpyxl.workbook.defined_name import DefinedName
            name, refers = action["args"]
            if name in wb.defined_names:
                del wb.defined_names[name]
            wb.defined_names[name] = DefinedName(name, attr_text=refers.lstrip("="))
        elif func == "setSheetName":
            # Remote.bas: wb.Sheets(i).Name = new; Excel refuses a name taken (any case),
            # and rewrites every defined name and chart formula that names the sheet
            new = action["args"][0] if isinstance(action["args"], list) else action["args"]
            if new.casefold() != ws.title.casefold() and \
                    new.casefold() in {n.casefold() for n in wb.sheetnames}:
                raise ExcelRefused(f'setSheetName: the sheet name "{new}" is already taken')
            old = ws.title
            ws.title = new
            renamed.append((old, new))
            for dn in list(wb.defined_names.values()):
                if dn.attr_text:
                    dn.attr_text = sheet_renamed(dn.attr_text, old, new)
        elif func == "nameDelete":
            name = action["args"][0]
            if name in wb.defined_names:
                del wb.defined_names[name]
        else:
            raise NotImplementedError(f"simulated VBA client: {func}")
    wb.save(target)
    for old, new in renamed:  # Excel's charts follow a renamed sheet
        charts = {n: _chart_renamed(data, old, new) for n, data in charts.items()}
    restore_parts(charts, target, "xl/charts/")
    return formulas


def _shown_width(cell) -> float:
    """About the width Excel's AutoFit gives a cell's shown value (characters)."""
    v = cell.value
    if v is None:
        return 0
    if isinstance(v, (dt.datetime, dt.date)):
        return 18
    if isinstance(v, float) and "%" in (cell.number_format or ""):
        return 7
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return len(f"{v:,.0f}") + (3 if "€" in (cell.number_format or "") else 1)
    return len(str(v)) * 1.1 + 1


def _chart_renamed(data: bytes, old: str, new: str) -> bytes:
    import re as _re
    return _re.sub(rb"(<c:f>)(.*?)(</c:f>)", lambda m: m.group(1) + sheet_renamed(
        m.group(2).decode(), old, new).encode() + m.group(3), data, flags=_re.S)


def _parts(path: Path, prefix: str) -> dict[str, bytes]:
    import zipfile
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith(prefix)}


def restore_parts(original: dict[str, bytes], target: Path, prefix: str) -> None:
    """Put back the original parts under ``prefix`` (same names): Excel never rewrites a
    chart when values change, openpyxl does (lossily), and the simulation should show
    what Excel shows."""
    import shutil
    import tempfile
    import zipfile

    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        if not original or set(original) != {n for n in names if n.startswith(prefix)}:
            return
        parts = {n: original.get(n) or z.read(n) for n in names}
    with tempfile.NamedTemporaryFile(delete=False, dir=Path(target).parent, suffix=".zip") as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for n in names:
                out.writestr(n, parts[n])
    shutil.move(tmp.name, target)
