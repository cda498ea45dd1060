"""What a file really is, from its first bytes, whatever its name says.

Each source reads one kind of file (workbook, CSV, Parquet); the command line picks the
source by the file's extension, and this module checks that the bytes agree first, so
that a ``.csv`` that is really a workbook, a ``.parquet`` that is text, or an ``.xlsx``
that is a CSV export is refused in one line saying what the file is.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..i18n import N_, _
from ..problems import UserError

WORKBOOK_EXTS = (".xlsx", ".xlsm")
CSV_EXTS = (".csv", ".tsv", ".txt")
PARQUET_EXTS = (".parquet", ".pq")

# What each kind is called in a message.
_NAMES = {"xlsx": N_("an Excel workbook (.xlsx)"),
          "xls": N_("an old Excel or encrypted workbook (.xls / password)"),
          "zip": N_("a zip archive"), "parquet": N_("a Parquet file"),
          "html": N_("a web page (HTML)"), "xml": N_("an XML file"),
          "pdf": N_("a PDF document"), "binary": N_("a binary file"),
          "text": N_("a text (CSV) file")}


def first_bytes(path: Path, n: int, what: str | None = None) -> bytes:
    """The first ``n`` bytes of ``path``. Raises `UserError` for a missing file or a folder."""
    path = Path(path)
    if not path.exists():
        raise UserError(_("{path}: file not found").format(path=path))
    if path.is_dir():
        raise UserError(_("{path}: is a folder, not {what}").format(
            path=path, what=what or _("a file")))
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
    return _(_NAMES[kind]) if kind in _NAMES else kind


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
        raise UserError(_("{path}: the file is empty (0 bytes)").format(path=path))
    if ext in WORKBOOK_EXTS:
        # zip, xls and broken workbooks get the workbook reader's own precise messages
        if kind in ("text", "parquet"):
            what = _("if it is a CSV export") if kind == "text" else \
                _("Potentiel reads it as such")
            raise UserError(_("{path}: named {ext} but it is {kind}, not an Excel workbook; "
                              "{what}, rename it {name}").format(
                                  path=path, ext=ext, kind=describe(kind), what=what,
                                  name=path.with_suffix(_ext_for(kind)).name))
        return "workbook"
    for exts, expected, source, message in (
            (CSV_EXTS, "text", "csv",
             N_("{path}: named {ext} but it is {kind}, not a CSV text file")),
            (PARQUET_EXTS, "parquet", "parquet",
             N_("{path}: named {ext} but it is {kind}, not a Parquet file"))):
        if ext not in exts:
            continue
        if kind != expected:  # a file Potentiel reads under another name: say which
            hint = _("; rename it {name}").format(name=path.with_suffix(_ext_for(kind)).name) \
                if kind in ("xlsx", "parquet", "text") else ""
            raise UserError(_(message).format(path=path, ext=ext, kind=describe(kind)) + hint)
        return source
    if kind in ("text", "parquet"):
        raise UserError(_("{path}: Potentiel reads .xlsx, .xlsm, .csv and .parquet files; "
                          "this one is {kind}: rename it {name}").format(
                              path=path, kind=describe(kind),
                              name=path.with_suffix(_ext_for(kind)).name))
    return "workbook"  # the workbook reader says precisely what else it is


def _ext_for(kind: str) -> str:
    return {"xlsx": ".xlsx", "parquet": ".parquet", "text": ".csv"}.get(kind, "")
