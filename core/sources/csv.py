"""The CSV source: a CSV export (a CRM, an ERP, Excel's "Save as CSV") → the accounts table.

Every cell is read as text and handed to the same reading layer as a workbook's cells
(`potentiel.validate`): ``1 234,56 €``, a decimal comma, bands, ``NC`` and error texts are
read there, so a CSV gives the same reading report as the same data in a workbook. This
module owns only what is proper to a CSV file:

- the encoding: UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"),
  else Windows-1252 (Excel's "CSV" on a French or English Windows); said in the report;
- the separator: ``;``, ``,``, tab or ``|``, the one that splits the lines most evenly
  (an Excel ``sep=;`` first line wins); said in the report;
- quoted fields, with separators, quotes and line breaks inside (the standard library's
  `csv` reader);
- places: a cell is named like a sheet's, ``accounts.csv!F12``, with the file's name as
  the sheet and the row as Excel shows the file (one row per record, so a quoted field with
  line breaks stays one row);
- the header row, found under title lines as in a sheet (`sources.headers`).

A CSV has no Settings: rules and plugins come from the command line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fields import Catalogue, is_output_header
from ..i18n import N_, _
from ..problems import Problem, UserError
from .headers import find_header_row
from .ownership import adopt_legacy
from .reading import ReadingReport

SEPARATORS = (";", ",", "\t", "|")  # in order of preference on a tie
SEPARATOR_NAMES = {";": '";"', ",": '","', "\t": N_("tab"), "|": '"|"'}
SNIFF_RECORDS = 60
MAX_BYTES = 1 << 30  # 1 GiB: beyond, a CSV export is not a portfolio of accounts
_DECIMAL_COMMA = re.compile(r"^[-+]?\d{1,3}(?:[  .]?\d{3})*,\d+\s*(?:€|%)?$")
_DECIMAL_DOT = re.compile(r"^[-+]?\d+\.\d+$")
_CATALOGUE = Catalogue.build()


@dataclass
class CsvFormat:
    """How a CSV file is written: what the writer repeats for its output."""

    encoding: str = "utf-8-sig"   # Python codec name
    encoding_name: str = "UTF-8 with BOM"
    separator: str = ";"
    decimal_comma: bool = True
    multiline: bool = False       # a quoted field holds a line break


@dataclass
class CsvRead:
    """A CSV file as read: its records (cells as text, None for empty) and its format."""

    records: list[list[Any]]
    format: CsvFormat
    notices: list[Problem] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str, str]:
    """``(text, codec, name)``: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig", "UTF-8 with BOM"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16", "UTF-16 (Excel's Unicode text)"
    try:
        return data.decode("utf-8"), "utf-8", "UTF-8"
    except UnicodeDecodeError:
        pass
    # Windows-1252 leaves five bytes undefined; none is a letter anyone typed, so each
    # becomes "\ufffd" instead of stopping the read.
    return data.decode("cp1252", errors="replace"), "cp1252", "Windows-1252 (not UTF-8)"


def _records(text: str, sep: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                        doublequote=True, skipinitialspace=False, strict=False)
    out = []
    for rec in reader:
        out.append(rec)
        if limit is not None and len(out) >= limit:
            break
    return out


def guess_separator(text: str) -> str:
    """The separator that gives most records the same number of fields (two or more);
    title lines (one field) and a ragged tail do not count. ``;`` first on a tie (the
    French Excel separator, and the one a decimal comma cannot be mistaken for)."""
    best, best_score = ";", (-1, 0)
    for sep in SEPARATORS:
        try:
            recs = _records(text, sep, SNIFF_RECORDS)
        except csv.Error:
            continue
        counts: dict[int, int] = {}
        for r in recs:
            if len(r) >= 2:
                counts[len(r)] = counts.get(len(r), 0) + 1
        if not counts:
            continue
        width, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (n, width)
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv(path: str | Path) -> CsvRead:
    """The records of a CSV file and its format. Raises `UserError` (file and line) for a
    file too large, or one the csv reader cannot split."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UserError(_("{path}: {size:,} bytes, more than the {max:,} Potentiel reads "
                          "from a CSV; split the file or keep only the accounts").format(
                              path=path, size=size, max=MAX_BYTES))
    text, codec, name = decode(path.read_bytes())
    notices: list[Problem] = []
    where = path.name
    if codec == "cp1252":
        notices.append(Problem(_("the file is not UTF-8: read as {encoding} (Excel's CSV on "
                                 "Windows); if accented letters look wrong, save it as "
                                 '"CSV UTF-8" and run again').format(encoding=name), where,
                               kind="csv-encoding"))
    first, _nl, rest = text.partition("\n")
    m = re.match(r"^\s*sep=(.)\s*$", first)
    skipped = 0
    if m:  # Excel's "sep=;" hint line
        sep, text, skipped = m.group(1), rest, 1
    else:
        sep = guess_separator(text)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                            doublequote=True, strict=False)
        records: list[list[Any]] = []
        multiline = False
        for rec in reader:
            if reader.line_num - skipped != len(records) + 1:
                multiline = True
            records.append([c if c.strip() else None for c in rec])
    except csv.Error as exc:
        raise UserError(_("{path}: line {line}: the CSV cannot be read ({error}); check the "
                          "quotes on that line").format(path=path,
                                                        line=reader.line_num + skipped,
                                                        error=exc)) from None
    cells = [c for r in records[:200] for c in r if isinstance(c, str)]
    commas = sum(1 for c in cells if _DECIMAL_COMMA.match(c.strip()))
    dots = sum(1 for c in cells if _DECIMAL_DOT.match(c.strip()))
    fmt = CsvFormat(codec if codec != "utf-8" else "utf-8", name, sep,
                    decimal_comma=sep != "," and commas >= dots, multiline=multiline)
    return CsvRead(records, fmt, notices)


def read_accounts_file(path: str | Path, catalogue: Catalogue | None = None
                       ) -> tuple["RawTable", list[Problem]]:
    """The accounts of a CSV file as a `RawTable` (cells as text, None when empty; sheet
    = the file's name) and the choices made reading it (encoding), as `Problem`s.

    The header row is found under any title lines; the header note says the encoding and
    separator. Columns a previous run wrote (Potentiel's output block, from Score to the
    last output, exactly as the CSV writer puts it) are Potentiel's: rewritten, not read;
    a notice says so. Raises `UserError` for an unreadable file.
    """
    got = read_csv(path)
    return _table(Path(path), got, catalogue), got.notices


def read_table(path: str | Path, catalogue: Catalogue | None = None
               ) -> tuple["RawTable", list[Problem], CsvRead]:
    """`read_accounts_file` plus the file as read: its records (title lines included)
    and its `CsvFormat`, for writing the output alike."""
    got = read_csv(path)
    return _table(Path(path), got, catalogue), got.notices, got


def reading_report(path: str | Path, catalogue: Catalogue | None = None) -> ReadingReport:
    """How the file is read (``potentiel inspect``), without scoring."""
    from ..validate import validate

    raw, notices = read_accounts_file(path, catalogue)
    report = validate(raw, catalogue or _CATALOGUE).report
    report.notices[:0] = notices
    return report


def _table(path: Path, got: CsvRead, catalogue: Catalogue | None):
    from ..validate import RawTable

    records, fmt = got.records, got.format
    header, note = find_header_row(records, catalogue or _CATALOGUE)
    if header is None:
        raise UserError(_("{path}: no data; the file has no line with a value").format(
            path=path))
    headers = list(records[header])
    rows = records[header + 1:]
    width = max([len(headers), *(len(r) for r in rows)])
    headers += [None] * (width - len(headers))
    how = _("{encoding}, separator {separator}").format(
        encoding=fmt.encoding_name,
        separator=_(SEPARATOR_NAMES.get(fmt.separator, fmt.separator)))
    if fmt.multiline:
        how += _("; quoted cells hold line breaks: rows are counted as Excel shows the file")
    owned = owned_columns(headers)
    if owned:
        first = min(owned)
        got.notices.append(Problem(
            _('the columns from "{header}" on are Potentiel\'s output of an earlier run '
              "(Score, Category, Category label …): they are rewritten, not read").format(
                  header=headers[first - 1]),
            f"{path.name}!{header + 1}:{header + 1}", kind="adopted"))
    return RawTable(headers, rows, sheet=path.name, header_row=header + 1,
                    row_numbers=list(range(header + 2, header + 2 + len(rows))),
                    owned=owned, header_note=_("{note}; read as {how}").format(note=note, how=how))


def owned_columns(headers: list[Any]) -> dict[int, str]:
    """Column (1-based) → output key for the output block a previous run wrote: a CSV has
    no place for Potentiel's markers, so the block is known by its exact run of names,
    ``Score``, ``Category``, ``Category label`` and the outputs that follow it."""
    names = [h for h in headers if isinstance(h, str) and is_output_header(h)]
    return adopt_legacy(headers, 1, names, has_log=True) if names else {}
