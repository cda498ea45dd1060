"""The Parquet source: a Parquet file (a data warehouse export, pandas, Spark) → the accounts.

Parquet columns are typed: numbers come through as numbers, dates as dates, text as text,
nulls as blanks, and the same reading layer as for a workbook reads them
(`potentiel.validate`), so the reading report is the same. The column names are the
header row (row 1); the rows are counted from 2, as if the file were a sheet, so a cell is
named ``accounts.parquet!F12``. Output columns a previous run wrote are known by the
file's own metadata (key ``potentiel``, written by `potentiel.tabular`), never by their
names: they are rewritten, not read. A Parquet file has no Settings.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from pathlib import Path
from typing import Any

from ..fields import Catalogue
from ..i18n import _
from ..problems import Problem, UserError
from .reading import ReadingReport

MAX_CELLS = 50_000_000  # as for a sheet
META_KEY = b"potentiel"  # schema metadata: {"outputs": [column names Potentiel wrote]}
_CATALOGUE = Catalogue.build()


def read_arrow(path: str | Path):
    """The file as a `pyarrow.Table`. Raises `UserError` for a file pyarrow cannot read or
    one too large to hold."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        meta = pq.read_metadata(path)
        if meta.num_rows * max(meta.num_columns, 1) > MAX_CELLS:
            raise UserError(_("{path}: {rows:,} rows × {columns} columns, more than the "
                              "{max:,} cells Potentiel reads; keep only the accounts' "
                              "columns").format(path=path, rows=meta.num_rows,
                                                columns=meta.num_columns, max=MAX_CELLS))
        return pq.read_table(path)
    except UserError:
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError … on a damaged file
        raise UserError(_("{path}: cannot be read as a Parquet file ({error}); export it "
                          "again").format(path=path, error=f"{type(exc).__name__}: {exc}")
                        ) from None


def owned_names(table) -> list[str]:
    """The column names the file's metadata says Potentiel wrote."""
    meta = table.schema.metadata or {}
    try:
        return [str(n) for n in json.loads(meta.get(META_KEY, b"{}")).get("outputs", [])]
    except (ValueError, AttributeError):
        return []


def plain(v: Any) -> Any:
    """A value as the reading layer takes it: int/float/str/bool/datetime or None."""
    if v is None:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if isinstance(v, (bool, int, str, dt.datetime)):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def read_accounts_file(path: str | Path, catalogue: Catalogue | None = None
                       ) -> tuple["RawTable", list[Problem]]:
    """The accounts of a Parquet file as a `RawTable` (typed values, None for nulls; sheet
    = the file's name, header row 1) and the choices made reading it, as `Problem`s.
    Raises `UserError` for an unreadable file."""
    raw, notices, _table = read_table(path)
    return raw, notices


def read_table(path: str | Path):
    """`read_accounts_file` plus the `pyarrow.Table` itself (kept for writing the output
    with the input columns' own types)."""
    from ..validate import RawTable

    path = Path(path)
    table = read_arrow(path)
    headers = list(table.column_names)
    rows: list[list[Any]] = [[None] * len(headers) for _i in range(table.num_rows)]
    tz = False
    for j, column in enumerate(table.columns):
        values = column.to_pylist()
        for i, v in enumerate(values):
            if isinstance(v, dt.datetime) and v.tzinfo is not None:
                tz = True
                v = v.replace(tzinfo=None)
            rows[i][j] = plain(v)
    mine = set(owned_names(table))
    owned = {j + 1: _key(h) for j, h in enumerate(headers) if h in mine}
    notices = []
    if tz:
        notices.append(Problem(_("dates with a time zone are read as their local date and "
                                 "time (the zone is dropped)"), path.name,
                               kind="parquet-timezone"))
    if owned:
        notices.append(Problem(_("{n} column(s) are Potentiel's output of an earlier run "
                                 "(the file's metadata says so): rewritten, not read").format(
                                     n=len(owned)), path.name,
                               kind="adopted"))
    raw = RawTable(headers, rows, sheet=path.name, header_row=1, owned=owned,
                   header_note=_("the column names are the header row (row 1); rows are "
                                 "counted from 2, as in a sheet"))
    return raw, notices, table


def _key(name: str) -> str:
    from .ownership import key_of
    return key_of(name)


def reading_report(path: str | Path, catalogue: Catalogue | None = None) -> ReadingReport:
    """How the file is read (``potentiel inspect``), without scoring."""
    from ..validate import validate

    raw, notices = read_accounts_file(path, catalogue)
    report = validate(raw, catalogue or _CATALOGUE).report
    report.notices[:0] = notices
    return report
