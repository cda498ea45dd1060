"""The proof, read from a file just written, that it keeps the cells a user typed on a
sheet: outside Potentiel's columns, the sheet's cells are the same XML, byte for byte and
in the same order, and what gives a cell its value is the same (the shared strings, the
number formats of the cell styles, the date system, the sheet's part).

This is what the check after writing (`potentiel.headless.score_file`) tries first: a
cell's XML holds its position (``r``), type, style, formula and value, so the same bytes
with the same shared strings, number formats and date system are the same value for any
reader, and a changed style or formula is seen too, which a comparison of values misses.
It streams both parts a few MB at a time (a sheet of a million rows is never whole in
memory) and costs about half of python-calamine's read of the written sheet.

When it cannot say so (a cell written without ``r``, a cell of Potentiel's columns in a
form it does not know, accounts the invoice lines added under the others, any byte that
differs), `kept` answers False and the caller compares the values the long way: the
written sheet read by python-calamine, cell by cell (`potentiel.headless.changed_cells`).
"""
from __future__ import annotations

import queue
import re
import threading
import zipfile
from pathlib import Path
from typing import Iterable, Iterator

from lxml import etree

from . import deflate
from .problems import column_letter
from .xlsxpackage import NS, REL, Package, counts_from_1904, parse_xml

CHUNK = 1 << 20  # bytes inflated at a time: small, so that inflating and comparing overlap

_SHEET_DATA, _SHEET_DATA_END, _ROW_END = b"<sheetData>", b"</sheetData>", b"</row>"
# Every repetition below is possessive (``*+``, ``++``: Python 3.11's patterns): what
# follows each one can never match where it gave a character back (after ``[^>]*`` comes
# ">", after the digits '"', after the attributes "/>" or ">", after a run of cells
# nothing), so the matches are those of the greedy forms, found without keeping the
# positions to go back to: a fifth less time over Potentiel's own cells (the test compares
# both forms on every kind of bytes).
_ROW_TAG = rb"<row\b[^>]*+>|</row>"
# A cell of Potentiel's columns as Potentiel writes it, and as Excel saves it again:
# a value, an inline string, or nothing; its style and type only. Any other form stays
# in the bytes compared, so that a cell in another form is never passed over unseen.
_OUTPUT_CELL = (rb'[0-9]++"(?: [st]="[^"<>]*+")*+'
                rb'(?:/>|><v>[^<]*+</v></c>|><is><t(?: xml:space="preserve")?>[^<]*+</t></is></c>)')


_PLACELESS = re.compile(rb'<c(?! r=")(?=[\s/>])')  # a cell that does not say where it is


class _NoProof(Exception):
    """The bytes cannot show the cells are the same (the values are compared instead)."""


def kept(before: Package, written: str | Path, part: str, name: str,
         outputs: Iterable[int]) -> bool:
    """True when the sheet ``name`` (part ``part`` of the package ``before``) of the file
    ``written`` holds the same cells as in ``before`` outside the columns ``outputs``
    (1-based; Potentiel's own, whose cells are left out on both sides), with the same
    shared strings, number formats of the cell styles present in ``before``, date system,
    and the sheet name pointing to the same part. False when that cannot be shown from
    the bytes, which is not a change found: the caller then compares the values.
    Raises nothing of its own; a file that cannot be read answers False."""
    try:
        with zipfile.ZipFile(written) as after:
            if not _same_context(before, after, part, name):
                return False
            strip = _stripper(outputs)
            with before.open_original(part) as a, after.open(part) as b:
                deflate.faster_reading(a)
                deflate.faster_reading(b)
                return _same(_cells(_chunks(a), strip), _cells(_chunks(b), strip, check_r=True))
    except Exception:  # noqa: BLE001 (_NoProof, an unreadable part …: the long way)
        return False


def column_pattern(columns: Iterable[int]) -> bytes:
    """A regular expression matching exactly the letters of ``columns`` (1-based), as a
    tree of their letters (``[VWXYZ]|A[A-R]``), which a regex engine tries in a few steps
    where a list of 20 names would be tried one by one."""
    def tree(words: list[str]) -> str:
        if "" in words:
            rest = [w for w in words if w]
            return f"(?:{tree(rest)})?" if rest else ""
        heads: dict[str, list[str]] = {}
        for w in words:
            heads.setdefault(w[0], []).append(w[1:])
        ends = sorted(h for h, tails in heads.items() if tails == [""])
        parts = [ends[0] if len(ends) == 1 else f"[{''.join(ends)}]"] if ends else []
        parts += [h + tree(tails) for h, tails in sorted(heads.items()) if tails != [""]]
        return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"
    return tree(sorted({column_letter(c) for c in columns})).encode()


def _stripper(outputs: Iterable[int]) -> re.Pattern[bytes]:
    """What is taken out of both sides before comparing: the row tags (Potentiel writes
    a row's tag without ``spans``) and the cells of the columns ``outputs``."""
    outputs = list(outputs)
    if not outputs:
        return re.compile(_ROW_TAG)
    # a run of them as one match (Potentiel's cells stand side by side: one substitution
    # per row, not one per cell), after one common "<" tried once per tag
    cell = b'c r="' + column_pattern(outputs) + _OUTPUT_CELL
    return re.compile(rb"<(?:row\b[^>]*+>|/row>|" + cell + b"(?:<" + cell + b")*+)")


def _chunks(fh, depth: int = 3) -> Iterator[bytes]:
    """The part's bytes, inflated by a second thread (zlib does not hold Python's lock,
    so the next chunk is inflated while this one is compared)."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def inflate() -> None:
        try:
            while not stop.is_set() and (chunk := fh.read(CHUNK)):
                ahead.put(chunk)
            ahead.put(None)
        except BaseException as exc:  # noqa: BLE001 (raised again below)
            ahead.put(exc)

    reader = threading.Thread(target=inflate, name="potentiel-check-reader", daemon=True)
    reader.start()
    try:
        while (chunk := ahead.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
    finally:  # stopped early (a difference found): let the reader end before fh closes
        stop.set()
        while reader.is_alive():
            try:
                ahead.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()


def _cells(chunks: Iterator[bytes], strip: re.Pattern[bytes], check_r: bool = False
           ) -> Iterator[bytes]:
    """The content of ``<sheetData>`` less what ``strip`` takes out, in pieces cut at row
    ends (no cell is ever cut in two). ``check_r``: every cell left must name its place
    (``<c r="…``): a cell without ``r`` is placed after the one before it, so taking a
    cell out before it would move it while its bytes stay the same. Raises `_NoProof`
    when the data is not found as ``<sheetData>`` … ``</sheetData>`` (or ``<sheetData/>``)."""
    buf = b""
    inside = False
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        if not inside:
            at = buf.find(b"<sheetData")
            if at < 0:
                buf = buf[-len(_SHEET_DATA):]  # a tag cut between two chunks
                continue
            if len(buf) < at + len(_SHEET_DATA) + 1:
                continue
            if buf.startswith(b"<sheetData/>", at):
                return  # no rows at all
            if not buf.startswith(_SHEET_DATA, at):
                raise _NoProof  # attributes or spaces in the tag: not a form known here
            inside, buf = True, buf[at + len(_SHEET_DATA):]
        end = buf.find(_SHEET_DATA_END)
        cut = end if end >= 0 else buf.rfind(_ROW_END) + len(_ROW_END)
        if end >= 0 or cut >= len(_ROW_END):
            piece = strip.sub(b"", memoryview(buf)[:cut])
            if check_r and _PLACELESS.search(piece):
                raise _NoProof
            yield piece
            buf = buf[cut:]
        if end >= 0:
            return
    raise _NoProof  # the part ends before its sheet data does


def _same(a: Iterator[bytes], b: Iterator[bytes]) -> bool:
    """Whether two streams of pieces (bytes) make the same bytes, however they are cut.
    Compared by `bytes.startswith` at an offset (one memcmp, no copy; comparing two
    memoryviews goes a byte at a time)."""
    xb = yb = b""
    xi = yj = 0
    while True:
        while xi >= len(xb):
            nx = next(a, None)
            if nx is None:
                break
            xb, xi = nx, 0
        while yj >= len(yb):
            ny = next(b, None)
            if ny is None:
                break
            yb, yj = ny, 0
        x_left, y_left = len(xb) - xi, len(yb) - yj
        if not x_left or not y_left:
            return not x_left and not y_left
        n = min(x_left, y_left)
        if not xb.startswith(memoryview(yb)[yj:yj + n], xi):
            return False
        xi += n
        yj += n


def _same_context(before: Package, after: zipfile.ZipFile, part: str, name: str) -> bool:
    """The sheet ``name`` is the part ``part`` in both, and the parts that give the
    cells' bytes their values mean the same: the shared strings (same bytes), the number
    format of every cell style of ``before`` (same style elements, same format codes),
    the date system of the workbook. ``before``'s parts as its file holds them (the
    package has Potentiel's changes to some of them)."""
    def original(name: str) -> etree._Element:
        return parse_xml(before.original(name), name)

    book = before.workbook_part
    new = parse_xml(after.read(book), book)
    if counts_from_1904(original(book)) != counts_from_1904(new):
        return False
    if _sheet_part(before, after, new, name) != part:
        return False
    for strings in before.related(book, "sharedStrings"):
        if strings not in before.infos or after.read(strings) != before.original(strings):
            return False
    for styles in before.related(book, "styles"):
        if styles not in before.infos or not _same_formats(
                original(styles), parse_xml(after.read(styles), styles)):
            return False
    return True


def _sheet_part(before: Package, after: zipfile.ZipFile, root: etree._Element,
                name: str) -> str | None:
    """The part the written workbook gives for the sheet ``name`` (None when not one)."""
    found = [s for s in root.iterfind("m:sheets/m:sheet", NS)
             if (s.get("name") or "").casefold() == name.casefold()]
    if len(found) != 1:
        return None
    rels_name = before.rels_name(before.workbook_part)
    rels = parse_xml(after.read(rels_name), rels_name)
    rid = found[0].get(f"{{{REL}}}id")
    targets = [r.get("Target") for r in rels.iterfind("pr:Relationship", NS) if r.get("Id") == rid]
    if len(targets) != 1 or not targets[0]:
        return None
    return before.target(before.workbook_part, targets[0])


def _same_formats(old: etree._Element, new: etree._Element) -> bool:
    """Every cell style (``cellXfs``) of ``old`` is in ``new`` at its index, the same
    element, and every number format it may name has the same code."""
    def xfs(root):
        return [etree.tostring(x) for x in root.iterfind("m:cellXfs/m:xf", NS)]

    def codes(root):
        return {f.get("numFmtId"): f.get("formatCode")
                for f in root.iterfind("m:numFmts/m:numFmt", NS)}
    was, now = xfs(old), xfs(new)
    if now[:len(was)] != was:
        return False
    now_codes = codes(new)
    return all(now_codes.get(k) == v for k, v in codes(old).items())
