"""What a file really is, from its first bytes, whatever its name says.

Each source reads one kind of file (workbook, CSV, Parquet); the command line picks the
source by the file's extension, and this module checks that the bytes agree first, so
that a ``.csv`` that is really a workbook, a ``.parquet`` that is text, or an ``.xlsx``
that is a CSV export is refused in one line saying what the file is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..problems import UserError

WORKBOOK_EXTS = (".xlsx", ".xlsm")
CSV_EXTS = (".csv", ".tsv", ".txt")
PARQUET_EXTS = (".parquet", ".pq")

# What each kind is called in a message.
_NAMES = {"xlsx": "an Excel workbook (.xlsx)", "xls": "an old Excel or encrypted workbook "
          "(.xls / password)", "zip": "a zip archive", "parquet": "a Parquet file",
          "html": "a web page (HTML)", "xml": "an XML file", "pdf": "a PDF document",
          "binary": "a binary file", "text": "a text (CSV) file"}


def first_bytes(path: Path, n: int, what: str = "a file") -> bytes:
    """The first ``n`` bytes of ``path``. Raises `UserError` for a missing file or a folder."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not {what}")
    with open(path, "rb") as fh:
        return fh.read(n)


def sniff(path: Path) -> str:
    """The kind of ``path`` from its bytes: "empty", "xlsx", "xls", "zip", "parquet",
    "html", "xml", "pdf", "binary" or "text". Raises `UserError` for a missing file or a
    folder."""
    head = first_bytes(path, 4096)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return "zip"
        return "xlsx" if "xl/workbook.xml" in names or "[Content_Types].xml" in names else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"%PDF"):
        return "pdf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        return "html" if b"<html" in text or b"<!doctype html" in text else "xml"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    return "text"


def describe(kind: str) -> str:
    return _NAMES.get(kind, kind)


def source_of(path: Path) -> str:
    """"workbook", "csv" or "parquet" for ``path``, by its extension, once its bytes agree.

    Raises `UserError` in one line when the extension lies (what the file is, and what to
    do) or when a CSV or Parquet file is empty. Any other extension is left to the
    workbook reader, whose messages name old .xls, .ods, HTML and damaged files.
    """
    path = Path(path)
    ext = path.suffix.lower()
    kind = sniff(path)
    if kind == "empty" and ext not in WORKBOOK_EXTS:
        raise UserError(f"{path}: the file is empty (0 bytes)")
    if ext in WORKBOOK_EXTS:
        # zip, xls and broken workbooks get the workbook reader's own precise messages
        if kind in ("text", "parquet"):
            what = "if it is a CSV export" if kind == "text" else "Potentiel reads it as such"
            raise UserError(f"{path}: named {ext} but it is {describe(kind)}, not an Excel "
                            f"workbook; {what}, rename it "
                            f"{path.with_suffix(_ext_for(kind)).name}")
        return "workbook"
    if ext in CSV_EXTS:
        if kind != "text":
            hint = f"; rename it {path.with_suffix(_ext_for(kind)).name}" \
                if kind in ("xlsx", "parquet") else ""
            raise UserError(f"{path}: named {ext} but it is {describe(kind)}, not a CSV text "
                            f"file{hint}")
        return "csv"
    if ext in PARQUET_EXTS:
        if kind != "parquet":
            hint = f"; rename it {path.with_suffix(_ext_for(kind)).name}" \
                if kind in ("xlsx", "text") else ""
            raise UserError(f"{path}: named {ext} but it is {describe(kind)}, not a Parquet "
                            f"file{hint}")
        return "parquet"
    if kind in ("text", "parquet"):
        raise UserError(f"{path}: Potentiel reads .xlsx, .xlsm, .csv and .parquet files; this "
                        f"one is {describe(kind)}: rename it "
                        f"{path.with_suffix(_ext_for(kind)).name}")
    return "workbook"  # the workbook reader says precisely what else it is


def _ext_for(kind: str) -> str:
    return {"xlsx": ".xlsx", "parquet": ".parquet", "text": ".csv"}.get(kind, "")
