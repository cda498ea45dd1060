"""Scoring table files: CSV and Parquet in, CSV, Parquet or a new workbook out.

The headless front end's companion for files that are one table (`score_table_file`): the
source module reads the accounts (`potentiel.sources.csv`, `potentiel.sources.parquet`),
the pipeline scores them exactly as a workbook's, and this module writes the inputs and
the output columns:

- **CSV**: one header row, the input columns as read, then Potentiel's columns. Always
  UTF-8 with a BOM (every character survives, and Excel opens it right); the separator
  and the decimal mark are the input's (a ``;`` file with decimal commas comes back as
  one), ``;`` and a decimal comma by default (a French Excel). Input cells are written as
  they were in the file. Formula injection (OWASP, CSV injection): a text cell starting
  with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading
  ``'`` so that a spreadsheet shows it as text; a number (``-12,5``, ``+33 1 45``: digits,
  spaces, separators and a sign only) stays a number. A notice counts the cells.
- **Parquet**: the input columns with their own types (a Parquet input's columns are
  copied as they are), the outputs typed (numbers, text, booleans); the file's metadata
  (key ``potentiel``) lists the output columns, so a later run knows them as Potentiel's.
- **A new workbook** (``-o scored.xlsx``): the input grid (title lines included, rows at
  the same numbers) goes into an Accounts sheet of a minimal workbook, which the headless
  front end then scores like any workbook: Accounts with inputs and outputs, Matrix,
  Summary, Log, Reading, and Potentiel's markers, so ``potentiel score scored.xlsx`` works
  on it in place.

A workbook read here (``potentiel score book.xlsx -o out.csv``) is read by the headless
front end's reader, Settings and Salespeople included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .i18n import _
from .layout import place_outputs
from .pipeline import Result, score_tables
from .problems import Problem, UserError, cell_ref
from .safety import FORMULA_STARTS
from .savefile import check_target, save_atomic
from .sources import filekind
from .sources.csv import CsvFormat
from .sources.parquet import META_KEY

# A cell that is a number as people write it: a sign, digits, spaces, "." and "," only (a
# trailing € or %). Nothing in it can call a function, so it is written as it is.
_NUMBER_TEXT = re.compile(r"^[-+]?\d[\d  ., ]*(?:[eE][-+]?\d+)?\s*[€%]?$")
DEFAULT_CSV = CsvFormat()  # UTF-8 with BOM, ";", decimal comma


def output_kind(path: Path) -> str:
    """"workbook", "csv" or "parquet" for an output path, by its extension."""
    ext = path.suffix.lower()
    if ext == ".xlsx":
        return "workbook"
    if ext in filekind.CSV_EXTS:
        return "csv"
    if ext in filekind.PARQUET_EXTS:
        return "parquet"
    if ext == ".xlsm":
        raise UserError(_("{path}: a table file has no macros to keep; write to .xlsx, or "
                          "create a workbook with buttons with `potentiel new` and paste the "
                          "accounts into it").format(path=path))
    raise UserError(_("{path}: the output must be an .xlsx, .csv or .parquet file").format(
        path=path))


def default_output(path: Path) -> Path:
    """Without -o, a CSV or Parquet export is never overwritten: NAME.scored.EXT."""
    return path.with_name(f"{path.stem}.scored{path.suffix}")


# --------------------------------------------------------------------------- the run


def score_table_file(path: str | Path, out: str | Path | None = None, *, source: str,
                     rules: str | None = None, plugin_dirs: Iterable[str] = (),
                     engine: str | None = None, when: dt.datetime | None = None,
                     sales: str | Path | None = None) -> tuple[Result, Path]:
    """Score ``path`` (``source``: "csv", "parquet" or "workbook") into ``out`` (.csv,
    .parquet, or .xlsx for a table file); ``sales``: a file of invoice lines. Raises
    `UserError` for anything to fix."""
    path = Path(path)
    target = Path(out) if out else default_output(path)
    kind = output_kind(target)
    if target.resolve() == path.resolve():
        raise UserError(_("{target}: would overwrite the file being read; write to another "
                          "file with -o").format(target=target))
    check_target(target)
    if source == "workbook":
        return _score_workbook(path, target, kind, rules, plugin_dirs, engine, sales)
    if source == "csv":
        from .sources import csv as source_csv
        raw, notices, got = source_csv.read_table(path)
        fmt, records, arrow = got.format, got.records, None
    else:
        from .sources import parquet as source_parquet
        raw, notices, arrow = source_parquet.read_table(path)
        fmt, records = DEFAULT_CSV, None
    if kind == "workbook":
        grid = records if records is not None else [raw.headers, *raw.rows]
        return _score_into_workbook(path, target, grid, raw, notices, rules, plugin_dirs,
                                    engine, when, sales)
    lines, line_notices = _sales(sales)
    result = score_tables(raw, (), None, rules=rules, plugin_dirs=plugin_dirs, engine=engine,
                          base_dir=path.parent, sales=lines)
    _add_notices(result, [*notices, *line_notices])
    _write(target, kind, raw, result, fmt, arrow)
    return result, target


def _sales(sales: str | Path | None):
    """The invoice lines of ``--sales`` (a RawTable, or None) and their reading notices."""
    if sales is None:
        return None, []
    from .headless import read_sales_file
    return read_sales_file(sales)


def _add_notices(result: Result, notices: list[Problem]) -> None:
    result.warnings[:0] = notices
    if result.reading is not None:
        result.reading.notices[:0] = notices


def _score_workbook(path: Path, target: Path, kind: str, rules, plugin_dirs, engine,
                    sales=None) -> tuple[Result, Path]:
    if kind == "workbook":
        raise UserError(_("{target}: an .xlsx output from a workbook is written by the "
                          "workbook front end").format(target=target))
    from .headless import Workbook, _unexpected, read_accounts, read_sales, read_salespeople, \
        read_settings_rows

    wb = Workbook(path)
    try:
        with _unexpected(path):
            settings = read_settings_rows(wb)
            lines = read_sales(wb, sales)
            _area, raw = read_accounts(wb, settings)
            reps = read_salespeople(wb)
        result = score_tables(raw, settings, reps, rules=rules, plugin_dirs=plugin_dirs,
                              engine=engine, base_dir=path.parent, sales=lines)
        _add_notices(result, list(wb.notices))
    finally:
        wb.package.close()
    _write(target, kind, raw, result, DEFAULT_CSV, None)
    return result, target


def _write(target: Path, kind: str, raw, result: Result, fmt: CsvFormat, arrow) -> None:
    inputs = [j for j, c in enumerate(raw.col_numbers) if c not in raw.owned]
    headers = [_header(raw.headers[j], raw.col_numbers[j]) for j in inputs]
    plan = place_outputs(headers, 1, len(headers), list(result.outputs.columns))
    names = [plan.headers[n] for n in result.outputs.columns]
    n = len(raw.rows)
    outputs = {}
    positions = result.outputs.index.to_numpy()
    for name, header in zip(result.outputs.columns, names):
        column: list[Any] = [None] * n
        for pos, v in zip(positions, _plain_values(result.outputs[name])):
            column[int(pos)] = v
        outputs[header] = column
    if kind == "csv":
        write_csv(target, raw, inputs, headers, outputs, fmt, result)
    else:
        numeric = {h for name, h in zip(result.outputs.columns, names)
                   if result.outputs[name].dtype.kind == "f"}
        write_parquet(target, raw, inputs, headers, outputs, arrow, numeric)


def _header(h: Any, col: int) -> str:
    if h is None or not str(h).strip():
        from .problems import column_letter
        return f"Column {column_letter(col)}"
    return str(h)


def _plain_values(series: pd.Series) -> list[Any]:
    out = []
    for v in series.to_numpy(dtype=object):
        if v is None or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, float) and math.isnan(v):
            out.append(None)
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


# --------------------------------------------------------------------------- CSV


def neutralised(text: str) -> str:
    """``text`` safe in a CSV a spreadsheet opens: a leading ``'`` when it starts like a
    formula (= + - @ tab CR) and is not a number."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER_TEXT.match(text):
        return "'" + text
    return text


def csv_cell(v: Any, decimal_comma: bool) -> tuple[str, bool]:
    """A value as CSV text, and whether it was neutralised."""
    if v is None:
        return "", False
    if isinstance(v, bool):
        return ("TRUE" if v else "FALSE"), False
    if isinstance(v, (int, np.integer)):
        return str(int(v)), False
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return "", False
        s = str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
        return (s.replace(".", ",") if decimal_comma else s), False
    if isinstance(v, dt.datetime):
        return (v.date().isoformat() if v.time() == dt.time(0) else
                v.isoformat(sep=" ", timespec="seconds")), False
    if isinstance(v, dt.date):
        return v.isoformat(), False
    s = str(v)
    safe = neutralised(s)
    return safe, safe is not s


def write_csv(target: Path, raw, inputs: list[int], headers: list[str],
              outputs: dict[str, list[Any]], fmt: CsvFormat, result: Result) -> None:
    comma = fmt.decimal_comma
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=fmt.separator, quotechar='"', quoting=csv.QUOTE_MINIMAL,
                   lineterminator="\r\n")
    guarded: list[str] = []
    all_headers = [*headers, *outputs]
    out_cols = list(outputs.values())

    def cells(values: list[Any], row_number: int, cols: list[int]) -> list[str]:
        line = []
        for k, v in enumerate(values):
            text, changed = csv_cell(v, comma)
            if changed:
                guarded.append(cell_ref(target.name, row_number, cols[k]))
            line.append(text)
        return line

    width = len(all_headers)
    numbers = list(range(1, width + 1))
    w.writerow(cells(all_headers, 1, numbers))
    for i, row in enumerate(raw.rows):
        values = [row[j] if j < len(row) else None for j in inputs]
        values += [col[i] for col in out_cols]
        w.writerow(cells(values, i + 2, numbers))
    if guarded:
        more = _(" and {n} more").format(n=len(guarded) - 3) if len(guarded) > 3 else ""
        result.warnings.append(Problem(
            _("{n} cell(s) starting with = + - @ or a tab are written with a leading ' so "
              "that a spreadsheet shows them as text, never runs them as a formula "
              "({cells}{more})").format(n=len(guarded), cells=", ".join(guarded[:3]),
                                        more=more),
            target.name, kind="csv-formula"))
    data = buf.getvalue().encode("utf-8-sig")

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    save_atomic(write, target)


# --------------------------------------------------------------------------- Parquet


def _arrow_column(values: list[Any], numeric: bool = False):
    """A list of plain values as one typed Arrow array (mixed types → text; all blank →
    numbers when ``numeric``, else text)."""
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.array(values, type=pa.float64() if numeric else pa.string())
    if kinds <= {bool}:
        return pa.array(values, type=pa.bool_())
    if kinds <= {int}:
        return pa.array(values, type=pa.int64())
    if kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if kinds <= {dt.datetime, dt.date}:
        return pa.array(values, type=pa.timestamp("us"))
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def write_parquet(target: Path, raw, inputs: list[int], headers: list[str],
                  outputs: dict[str, list[Any]], arrow, numeric: set[str] | None = None
                  ) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns, names = [], []
    for j, h in zip(inputs, headers):
        if arrow is not None:
            columns.append(arrow.column(j))
        else:
            columns.append(_arrow_column([r[j] if j < len(r) else None for r in raw.rows]))
        names.append(h)
    numeric = numeric or set()
    for h, values in outputs.items():
        columns.append(_arrow_column(values, h in numeric))
        names.append(h)
    meta = dict((arrow.schema.metadata or {}) if arrow is not None else {})
    meta.pop(b"pandas", None)  # pandas' own index description no longer matches
    meta[META_KEY] = json.dumps({"outputs": list(outputs)}).encode()
    table = pa.table(columns, names=names).replace_schema_metadata(meta)

    def write(tmp: str) -> None:
        pq.write_table(table, tmp)

    save_atomic(write, target)


# --------------------------------------------------------------------------- a new workbook

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView/></bookViews><sheets><sheet name="Accounts" sheetId="1" '
    'r:id="rId1"/></sheets><calcPr calcId="191029"/></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
    'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" '
    'fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle '
    'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def new_workbook(path: Path, grid: list[list[Any]]) -> None:
    """A minimal workbook at ``path`` whose Accounts sheet holds ``grid`` from A1 (values
    as they are: text stays text, formula-like text is stored as text)."""
    from .headless import Workbook
    from .xlsxpackage import MAIN
    from .xlsxsheet import EMPTY_SHEET

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/worksheets/sheet1.xml", EMPTY_SHEET)
    wb = Workbook(path)
    try:
        sheet = wb.sheet(wb.package.sheets[0])
        # the rows in order first: the sheet then finds each one instead of searching
        # where a new row goes (which grows with the rows already there)
        from lxml import etree
        for r in range(1, len(grid) + 1):
            row = etree.SubElement(sheet.data, f"{{{MAIN}}}row")
            row.set("r", str(r))
            sheet.rows[r] = row
        sheet.write_rows({r: {c: v for c, v in enumerate(row, start=1) if v is not None}
                          for r, row in enumerate(grid, start=1)})
        wb.finish()
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent, prefix=".~potentiel-")
        os.close(fd)
        wb.package.write(tmp)
    finally:
        wb.package.close()
    os.replace(tmp, path)


def _score_into_workbook(path: Path, target: Path, grid: list[list[Any]], raw,
                         notices: list[Problem], rules, plugin_dirs, engine, when,
                         sales=None) -> tuple[Result, Path]:
    from .headless import score_file

    # Potentiel's columns of an earlier run are left out: the new workbook's are marked.
    drop = {c - 1 for c in raw.owned}
    if drop:
        grid = [[v for j, v in enumerate(row) if j not in drop] for row in grid]
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=target.resolve().parent,
                               prefix=".~potentiel-input-")
    os.close(fd)
    try:
        new_workbook(Path(tmp), grid)
        result, _written = score_file(
            tmp, target, rules=rules, plugin_dirs=plugin_dirs, engine=engine, when=when,
            sales=sales, notices=[*notices, Problem(
                _("read from {name}; this workbook was made from it (its cells as they were, "
                  "text as text)").format(name=path.name), "Accounts", kind="made-from")])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return result, target
