"""A workbook file as a package of parts: read them, change a few, write all back.

An .xlsx/.xlsm is a zip of XML parts (sheets, tables, styles, charts, macros, …). The
headless front end changes only the parts Potentiel owns (its output cells, its output
sheets, the Accounts table's size) and copies every other part unchanged, so charts,
pictures, pivot tables, conditional formats, form controls and macros survive exactly as
they were. This module owns the package: parts, relationships, content types and the
workbook's list of sheets.
"""

from __future__ import annotations

import io
import posixpath
import queue
import re
import struct
import sys
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lxml import etree

from . import deflate, progress
from .i18n import _
from .problems import UserError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_TYPE = REL + "/worksheet"
TABLE_TYPE = REL + "/table"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"
CONTENT_TYPES = "[Content_Types].xml"
NS = {"m": MAIN, "r": REL, "pr": PKG_REL, "ct": CT}
# Limits against zip bombs: what a real workbook never reaches. The bound that holds is the
# unpacked size the zip directory declares (every part, and the whole): both zip readers
# stop inflating a part at its declared size, so a bomb costs at most what a real workbook
# of MAX_TOTAL costs. The ratio alone cannot tell a bomb from a real sheet (measured with
# zlib: a run of zeros packs 229 times at level 1 and 1029 times at level 6; a real sheet
# of the same styled row again and again packs 200 to 700 times at level 6), so it is
# judged by kind of part: see `Package._check_sizes`.
MAX_PARTS = 10_000
MAX_TOTAL = 2 * 1024 ** 3      # bytes, uncompressed
MAX_RATIO = 100                # uncompressed / compressed, for a part that is not XML
XML_RATIO = 200                # above this, an XML part must begin as XML
BOMB_BYTES = 50 * 1024 ** 2    # parts packed like that, unpacked, above which it is a bomb
_XML_EXTENSIONS = (".xml", ".rels", ".vml")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                          remove_blank_text=False)
_FIRST_ELEMENT = re.compile(rb"<[^?!]")
READ_CHUNK = 1 << 22
_SWITCH = 0.0005  # s: how often Python hands its lock over while a part is streamed
# A part written as a stream is marked ZIP64 (sizes over 2 GB) when the part it replaces
# is already past this size: it may grow past 2 GB with the outputs.
_ZIP64_ABOVE = 1 << 29  # bytes inflated at a time when reading a part
HEAD_BYTES = 1 << 20  # what is read of a part to look for a DTD before another reader reads it


def _refused(name: str) -> UserError:
    return UserError(_("{name}: the workbook contains a DTD or entities, which Excel never "
                       "writes; it is refused as unsafe").format(name=name))


def refuse_dtd(data: bytes, name: str) -> None:
    """Refuse a DTD before the root element (where entities are declared), in UTF-8 or -16."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\0" in data[:4]:
        data = data[:HEAD_BYTES].decode("utf-16", errors="ignore").encode("utf-8")
    first = _FIRST_ELEMENT.search(data)
    prolog = data[:first.start()] if first else data
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise _refused(name)


def parse_xml(data: bytes, name: str) -> etree._Element:
    """Parse one part; DTDs and entities are refused (no entity expansion attacks)."""
    refuse_dtd(data, name)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        if "entit" in str(exc).lower():
            raise _refused(name) from None
        raise UserError(_("the workbook part {name} is damaged ({error}); open the file in "
                          "Excel and save it again").format(name=name, error=exc)) from None
    if root.getroottree().docinfo.internalDTD is not None:  # e.g. after a long prolog
        raise _refused(name)
    return root


@dataclass
class SheetRef:
    name: str
    part: str        # e.g. xl/worksheets/sheet1.xml
    rid: str


@dataclass
class UnreadSheet:
    """A sheet of the workbook's list that Potentiel leaves as it is and does not read:
    ``why`` is "macro" (an Excel 4 macro sheet, or another kind no reader of values
    knows) or "no-part" (its ``r:id`` names no relationship: there is no part to read)."""
    name: str
    rid: str
    why: str


# Kinds of sheet (relationship types) a reader of values opens, or knows to pass over.
_READ_SHEET_TYPES = ("/worksheet",)
_KNOWN_SHEET_TYPES = ("/worksheet", "/chartsheet", "/dialogsheet")


class Package:
    """The parts of one workbook file, with the few that were changed."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._check_entries()
        self._zip = zipfile.ZipFile(self.path)
        self._for_calamine: dict[str, bytes] | None = None  # see `reader_package`
        self.changed: dict[str, bytes] = {}
        self.producers: dict[str, object] = {}  # part → chunks(): a part written as a stream
        # parts that a stream may still change while it is written (the styles: a cell
        # kept with its own format may need a variant of it): written after the others
        self.written_last: set[str] = set()
        self.removed: set[str] = set()
        self._trees: dict[str, etree._Element] = {}
        self._checked: set[str] = set()
        # part name as read → as written in the zip, for the names that were not written
        # as OPC says (``xl\workbook.xml``, ``/xl/workbook.xml``)
        self.renamed: dict[str, str] = {}
        self.unread: list[UnreadSheet] = []  # sheets left as they are, not read
        try:
            self.infos = self._part_infos()
            self._check_sizes()
            self._check_kind()
            self.workbook_part = self._main_part()
            self._check_main_part()
            self.sheets = self._read_sheets()
            self._complete_content_types()
        except BaseException:
            self._zip.close()
            raise

    def close(self) -> None:
        self._zip.close()

    # ---------------------------------------------------------------- reading
    def _part_infos(self) -> dict[str, zipfile.ZipInfo]:
        """The zip's entries by part name, normalised: ``\\`` written for ``/`` (some old
        writers do) and a leading ``/`` are read as OPC says, and ``[Content_Types].xml``
        in any case is that part. The entry keeps its name in the zip (the local header
        is checked against it); the package is written back with the normalised names.
        Two entries that are one part name (ignoring case, as OPC compares them) are
        refused: which one a reader would take is a guess."""
        infos: dict[str, zipfile.ZipInfo] = {}
        folded: dict[str, str] = {}
        for info in self._zip.infolist():
            written = info.filename
            name = written.replace("\\", "/").lstrip("/")
            if name.casefold() == CONTENT_TYPES.casefold():
                name = CONTENT_TYPES
            other = folded.get(name.casefold())
            if other is not None and other != written:
                raise UserError(_("{path}: the parts {one} and {other} have one name (part "
                                  "names are compared ignoring case, and \\ is read as /); "
                                  "the file is damaged: open it in Excel and save it "
                                  "again").format(path=self.path, one=written, other=other))
            folded[name.casefold()] = written
            if name != written:
                info.filename = name
                self.renamed[name] = written
            infos[name] = info
        self._folded = {n.casefold(): n for n in infos}
        return infos

    def _part_name(self, name: str) -> str:
        """``name`` as the package has it: part names are compared ignoring case (OPC),
        so a relationship to ``worksheets/sheet1.xml`` finds ``worksheets/Sheet1.xml``."""
        if name in self.infos or name in self.changed:
            return name
        return self._folded.get(name.casefold(), name)

    def _check_entries(self) -> None:
        """The part count from the zip's end record, before the directory is read into
        memory (a directory of millions of entries is itself a bomb)."""
        try:
            with open(self.path, "rb") as fh:
                end = zipfile._EndRecData(fh)  # noqa: SLF001 - stable since Python 2
        except (OSError, ValueError, struct.error):
            return  # zipfile.ZipFile reports the damage
        if end and end[zipfile._ECD_ENTRIES_TOTAL] > MAX_PARTS:  # noqa: SLF001
            raise UserError(_("{path}: {n} parts inside; a workbook has far fewer (limit "
                              "{limit}); refused").format(
                                path=self.path, n=end[zipfile._ECD_ENTRIES_TOTAL], limit=MAX_PARTS))

    def _check_sizes(self) -> None:
        if len(self.infos) > MAX_PARTS:
            raise UserError(_("{path}: {n} parts inside; a workbook has far fewer (limit "
                              "{limit}); refused").format(
                                path=self.path, n=len(self.infos), limit=MAX_PARTS))
        total = sum(i.file_size for i in self.infos.values())
        if total > MAX_TOTAL:
            raise UserError(_("{path}: would unpack to {size:.1f} GB (limit {limit:.0f} GB); "
                              "refused").format(
                                path=self.path, size=total / 1024 ** 3, limit=MAX_TOTAL / 1024 ** 3))
        packed = [(name, i) for name, i in self.infos.items() if self._packed_like_a_bomb(name, i)]
        if sum(i.file_size for _name, i in packed) > BOMB_BYTES:
            name, i = max(packed, key=lambda p: p[1].file_size)
            raise UserError(_("{path}: part {name} is compressed {ratio} times, like a zip "
                              "bomb; refused").format(
                                path=self.path, name=name, ratio=i.file_size // max(1, i.compress_size)))

    def _packed_like_a_bomb(self, name: str, info: zipfile.ZipInfo) -> bool:
        """A part packed tighter than its kind of content ever is. Pictures, macro
        projects and embedded files are binary or already compressed: over `MAX_RATIO`
        is a bomb. XML may really be that repetitive (the same styled row a million
        times), so an XML part over `XML_RATIO` is a bomb only when it does not begin as
        XML (zeros, one byte repeated): its first bytes are inflated to see."""
        if info.file_size < 1024 ** 2 or not info.compress_size:
            return False
        ratio = info.file_size / info.compress_size
        if not name.lower().endswith(_XML_EXTENSIONS):
            return ratio > MAX_RATIO
        if ratio <= XML_RATIO:
            return False
        try:
            with self._zip.open(info) as fh:
                head = fh.read(4096)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
            return False  # said when the part is read
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            head = head[2:].decode("utf-16", errors="ignore").encode("utf-8")
        return not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")

    def _check_kind(self) -> None:
        """A zip that is another kind of document gets a message saying which."""
        if "xl/workbook.xml" in self._folded or CONTENT_TYPES in self.infos:
            return
        if "mimetype" in self.infos and self.read("mimetype")[:64].startswith(
                b"application/vnd.oasis.opendocument"):
            raise UserError(_("{path}: an OpenDocument file (.ods, LibreOffice), not an Excel "
                              "workbook; open it and save it as .xlsx (Excel 2007-365)").format(
                                path=self.path))
        raise UserError(_("{path}: a zip file, but not an Excel workbook (no workbook part "
                          "inside)").format(path=self.path))

    def _check_main_part(self) -> None:
        main = self.workbook_part
        if main.endswith(".bin"):
            raise UserError(_("{path}: a binary workbook (.xlsb), which Potentiel does not "
                              "read; open it in Excel and save it as .xlsx or .xlsm").format(
                                path=self.path))
        if main not in self.infos:
            raise UserError(_("{path}: a zip file, but not an Excel workbook (no workbook part "
                              "inside)").format(path=self.path))
        tag = self.xml(main).tag
        if tag != f"{{{MAIN}}}workbook" and tag.endswith("}workbook"):
            raise UserError(_("{path}: a Strict Open XML workbook, which Potentiel does not "
                              "read; in Excel, save it as Excel Workbook (.xlsx)").format(
                                path=self.path))
        if tag != f"{{{MAIN}}}workbook":
            raise UserError(_("{path}: a zip file, but not an Excel workbook (its main part is "
                              "{main}: a Word or PowerPoint file?); open the workbook itself").format(
                                path=self.path, main=main))

    def has(self, name: str) -> bool:
        name = self._part_name(name)
        return (name in self.infos or name in self.changed) and name not in self.removed

    def read(self, name: str) -> bytes:
        name = self._part_name(name)
        if name in self.producers:
            return b"".join(self.producers[name]())
        if name in self.changed:
            return self.changed[name]
        return self._inflate(name)

    def _inflate(self, name: str) -> bytes:
        """The bytes of part ``name`` as the file holds them."""
        try:
            # Not ZipFile.read(): it inflates all the compressed bytes at once and only
            # then cuts them to the declared size, so a zip directory that lies (2 kB
            # declared, gigabytes inflated) would fill memory. A read of the declared size
            # stops there (its checksum then fails), in one inflating call (no chunks
            # joined); what a reader would still give after it is read too.
            info = self.infos.get(name)
            chunks = []
            with self._zip.open(info if info is not None else name) as fh:
                deflate.faster_reading(fh)
                first = fh.read(info.file_size if info is not None else READ_CHUNK)
                while chunk := fh.read(READ_CHUNK):
                    chunks.append(chunk)
            return first if not chunks else b"".join([first, *chunks])
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise UserError(_("{path}: the part {name} cannot be read ({error}); the file is "
                              "damaged or truncated").format(path=self.path, name=name, error=exc)) from None
        except KeyError:
            raise UserError(_("{path}: the part {name} is missing, though the workbook points "
                              "to it; the file is damaged: open it in Excel and save it again").format(
                                path=self.path, name=name)) from None

    def original(self, name: str) -> bytes:
        """The bytes of part ``name`` as the file holds them, whatever Potentiel changed."""
        return self._inflate(self._part_name(name))

    def open_original(self, name: str):
        """Part ``name`` as the file holds it, to read in chunks: a binary file object
        (a context manager). Raises KeyError for a part the file does not have."""
        return self._zip.open(self.infos[self._part_name(name)])

    def check_parts(self, names: Iterable[str]) -> None:
        """Refuse a DTD in parts another reader (python-calamine) is about to read.

        Only the head of each part is unpacked: a DTD stands before the first element.
        The unpacked size of every part was checked from the zip directory when the
        package was opened, and both zip readers stop at that declared size."""
        for name in map(self._part_name, names):
            if name in self._checked or name in self.changed or name not in self.infos:
                continue
            try:
                with self._zip.open(self.infos[name]) as fh:
                    head = fh.read(HEAD_BYTES)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise UserError(_("{path}: the part {name} cannot be read ({error}); the file "
                                  "is damaged or truncated").format(
                                    path=self.path, name=name, error=exc)) from None
            refuse_dtd(head, name)
            self._checked.add(name)

    def reader_parts(self) -> list[str]:
        """The parts a reader of cell values opens first: the workbook, its relationships
        and what they point to (shared strings, styles, …), worksheets excepted."""
        names = [CONTENT_TYPES, "_rels/.rels", self.workbook_part,
                 self.rels_name(self.workbook_part)]
        rels = self.xml(self.rels_name(self.workbook_part)) if self.has(
            self.rels_name(self.workbook_part)) else None
        for r in (rels.iterfind("pr:Relationship", NS) if rels is not None else ()):
            if r.get("TargetMode") == "External" or r.get("Type", "").endswith("sheet"):
                continue
            names.append(self.target(self.workbook_part, r.get("Target", "")))
        return names

    def xml(self, name: str) -> etree._Element:
        """The parsed part (parsed once; edits to it are saved by `touch`)."""
        return self.xml_with_source(name)[0]

    def xml_with_source(self, name: str) -> tuple[etree._Element, bytes | None]:
        """The parsed part and, when this call parsed it, the bytes it was parsed from
        (so a caller that also scans the raw XML does not unpack the part again)."""
        name = self._part_name(name)
        if name in self._trees:
            return self._trees[name], None
        data = self.read(name)
        self._trees[name] = parse_xml(data, name)
        return self._trees[name], data

    def touch(self, name: str) -> None:
        """Mark a parsed part as changed: it is serialised when the package is written."""
        if name not in self.producers:
            self.changed[name] = b""  # placeholder; serialised in write()

    def produce(self, name: str, chunks) -> None:
        """Mark a part as changed, its bytes given in chunks by ``chunks()`` when the
        package is written (a sheet's rows written as a stream, never whole in memory)."""
        self._trees.pop(name, None)
        self.producers[name] = chunks
        self.changed[name] = b""

    def put(self, name: str, data: bytes) -> None:
        self.producers.pop(name, None)
        self._trees.pop(name, None)
        self.changed[name] = data
        self.removed.discard(name)

    def _main_part(self) -> str:
        rels = self.xml("_rels/.rels")
        for r in rels.iterfind("pr:Relationship", NS):
            if r.get("Type", "").endswith("/officeDocument"):
                return self._part_name(r.get("Target").replace("\\", "/").lstrip("/"))
        return self._part_name("xl/workbook.xml")

    def rels_name(self, part: str) -> str:
        """The relationships part of ``part`` (``xl/_rels/workbook.xml.rels``), as the
        package spells it when it has one."""
        folder, base = posixpath.split(part)
        return self._part_name(posixpath.join(folder, "_rels", base + ".rels"))

    def rels(self, part: str) -> etree._Element:
        name = self.rels_name(part)
        if not self.has(name):
            root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
            self._trees[name] = root
            self.touch(name)
        return self.xml(name)

    def target(self, part: str, target: str) -> str:
        """A relationship's target as a part name (as the package spells it: ignoring
        case, ``\\`` read as ``/``)."""
        target = target.replace("\\", "/")
        if target.startswith("/"):
            return self._part_name(target.lstrip("/"))
        return self._part_name(posixpath.normpath(posixpath.join(posixpath.dirname(part), target)))

    def _read_sheets(self) -> list[SheetRef]:
        """The worksheets, in the workbook's order. Chart and dialog sheets are passed
        over; a sheet of another kind (an Excel 4 macro sheet) or one whose ``r:id`` names
        no relationship is listed in `unread`: left as it is, the others read."""
        wb = self.xml(self.workbook_part)
        listed = list(wb.iterfind("m:sheets/m:sheet", NS))
        if listed and not self.has(self.rels_name(self.workbook_part)):
            names = ", ".join(s.get("name") or "?" for s in listed[:10])
            raise UserError(_("{path}: the part {part}, which says where each sheet is, is "
                              "missing, so no sheet ({names}) can be found; the file is "
                              "damaged: open it in Excel and save it again").format(
                                path=self.path, part=self.rels_name(self.workbook_part),
                                names=names))
        rels = {r.get("Id"): r for r in self.rels(self.workbook_part).iterfind("pr:Relationship", NS)}
        out = []
        for s in listed:
            rid = s.get(f"{{{REL}}}id") or ""
            rel = rels.get(rid)
            kind = "" if rel is None else rel.get("Type", "")
            if rel is None:
                self.unread.append(UnreadSheet(s.get("name") or "", rid, "no-part"))
            elif kind.endswith(_READ_SHEET_TYPES):
                out.append(SheetRef(s.get("name"), self.target(self.workbook_part,
                                                               rel.get("Target")), rid))
            elif not kind.endswith(_KNOWN_SHEET_TYPES):
                self.unread.append(UnreadSheet(s.get("name") or "", rid, "macro"))
        return out

    def _complete_content_types(self) -> None:
        """Content types the package lacks and its own parts need: a Default for
        ``.rels`` (the relationship parts Potentiel adds have no Override), and an
        Override for a worksheet that has none (Excel refuses a sheet without its type).
        What the file already says is never changed."""
        if not self.has(CONTENT_TYPES):
            return
        types = self.xml(CONTENT_TYPES)
        defaults = {(d.get("Extension") or "").casefold() for d in types.iterfind("ct:Default", NS)}
        overrides = {(o.get("PartName") or "").lstrip("/").casefold()
                     for o in types.iterfind("ct:Override", NS)}
        added = False
        if "rels" not in defaults:
            d = etree.Element(f"{{{CT}}}Default", Extension="rels", ContentType=RELS_CT)
            types.insert(0, d)
            added = True
        for sheet in self.sheets:
            ext = sheet.part.rpartition(".")[2].casefold()
            if sheet.part.casefold() not in overrides and ext not in defaults and \
                    self.has(sheet.part):
                etree.SubElement(types, f"{{{CT}}}Override", PartName="/" + sheet.part,
                                 ContentType=SHEET_CT)
                added = True
        if added:
            self.touch(CONTENT_TYPES)

    def reader_copy(self, fix: dict[str, object] | None = None, only: str | None = None,
                    target: Path | None = None) -> io.BytesIO | Path:
        """The package in memory as a reader of values (python-calamine) can open it:
        part names normalised, and the workbook's list of sheets without the `unread`
        ones (python-calamine refuses the whole file for one Excel 4 macro sheet, or for
        one ``r:id`` that names nothing). ``fix``: part name → a function of its bytes
        (the error values of a sheet), or its new bytes. ``only``: the one worksheet part
        to be read (the other sheets are left out, and nothing is compressed: a copy made
        to read one large sheet once). ``target``: a file to write the copy to (returned),
        else it is made in memory. Only made when needed: the file is read in place
        otherwise."""
        fix = dict(fix or {})
        if self.unread:
            drop = {u.rid for u in self.unread}

            def listed(data: bytes) -> bytes:
                root = parse_xml(data, self.workbook_part)
                for s in list(root.iterfind("m:sheets/m:sheet", NS)):
                    if (s.get(f"{{{REL}}}id") or "") in drop:
                        s.getparent().remove(s)
                return etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
            fix[self.workbook_part] = listed
        skip = {s.part for s in self.sheets if s.part != only} if only else set()
        buf = io.BytesIO() if target is None else target
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if only else zipfile.ZIP_DEFLATED,
                             compresslevel=None if only else 1) as out:
            for name in self.infos:
                if name in skip:
                    continue
                change = fix.get(name)
                if isinstance(change, bytes):
                    data = change
                else:
                    data = self._inflate(name)
                    if change is not None:
                        data = change(data)
                out.writestr(name, data)
        if target is not None:
            return target
        buf.seek(0)
        return buf

    def _compressed(self, name: str) -> tuple[zipfile.ZipInfo, bytes] | None:
        """The zip entry of part ``name`` and its bytes as stored in the file (compressed,
        not inflated), read from a handle of its own (a reading thread may use this
        while another part is inflated); None when they cannot be taken so (another
        compression, too large for a plain zip entry)."""
        name = self._part_name(name)
        info = self.infos.get(name)
        if info is None or info.compress_type not in (
                zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1 or \
                max(info.file_size, info.compress_size, info.header_offset) >= 0xFFFFFFFF:
            return None
        with open(self.path, "rb") as fh:
            fh.seek(info.header_offset)
            head = fh.read(30)
            if len(head) < 30 or head[:4] != b"PK\x03\x04":
                return None
            n, m = struct.unpack("<HH", head[26:30])
            if fh.read(n) != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800
                                                       else "cp437"):
                return None  # (the local header names another part: as zipfile refuses it)
            fh.seek(info.header_offset + 30 + n + m)
            data = fh.read(info.compress_size)
        return (info, data) if len(data) == info.compress_size else None

    def reader_book(self, target: Path) -> dict[str, int]:
        """`reader_package` of every worksheet the workbook lists, each copied compressed
        as the file holds it, written to ``target``: one package python-calamine opens
        once (its shared strings read once) and reads a sheet of only once it is checked.
        The index of each part's sheet in it."""
        parts = [s.part for s in self.sheets if self._part_name(s.part) in self.infos]
        self.reader_package(parts, target)
        return {part: k for k, part in enumerate(parts)}

    def reader_package(self, sheet: bytes | str | list[str], target: Path) -> Path:
        """A package for python-calamine to read instead of the file: one worksheet whose
        part holds ``sheet`` (the bytes Potentiel checked; a part's name: its bytes as
        the file holds them, copied compressed, inflated and checked by both readers
        against the same CRC-32, never inflated here again), with the workbook's shared
        strings and styles (as the file holds them) and its date system, every part at
        the path python-calamine looks at, written to ``target`` (stored, not compressed; returned). Its first and only
        sheet is that one. python-calamine finds a workbook's parts by rules of its own,
        not the packaging standard's (``xl/workbook.xml`` whatever ``_rels/.rels`` says,
        the first sheet of a name whatever its kind, an ``r:id`` by its prefix, a target
        with ``..`` as written, the zip directory its own way): given the file itself, it
        could read another part than the one checked."""
        rels = {"styles": "styles.xml", "sharedStrings": "sharedStrings.xml"}
        if self._for_calamine is None:  # (the same for every sheet read)
            found = {kind: self.related(self.workbook_part, kind) for kind in rels}
            self.check_parts([names[0] for names in found.values() if names])
            self._for_calamine = {kind: self._inflate(self._part_name(names[0]))
                                  for kind, names in found.items()
                                  if names and self._part_name(names[0]) in self.infos}
            if "sharedStrings" in self._for_calamine:
                self._for_calamine["sharedStrings"] = _uncounted(
                    self._for_calamine["sharedStrings"])
        parts = self._for_calamine
        office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
        ml = "application/vnd.openxmlformats-officedocument.spreadsheetml."
        content = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<Types xmlns="{CT}"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                   'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                   f'ContentType="{ml}sheet.main+xml"/><Override PartName="/xl/worksheets/'
                   f'sheet1.xml" ContentType="{ml}worksheet+xml"/>']
        names = sheet if isinstance(sheet, list) else [sheet]
        links = [f'<Relationship Id="rId{k}" Type="{office}worksheet" '
                 f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, len(names) + 1)]
        content += [f'<Override PartName="/xl/worksheets/sheet{k}.xml" '
                    f'ContentType="{ml}worksheet+xml"/>' for k in range(2, len(names) + 1)]
        for k, kind in enumerate(parts, len(names) + 1):
            content.append(f'<Override PartName="/xl/{rels[kind]}" '
                           f'ContentType="{ml}{kind}+xml"/>')
            links.append(f'<Relationship Id="rId{k}" Type="{office}{kind}" '
                         f'Target="{rels[kind]}"/>')
        content.append("</Types>")
        files = {
            "[Content_Types].xml": "".join(content).encode(),
            "_rels/.rels": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                            f'Type="{office}officeDocument" Target="xl/workbook.xml"/>'
                            "</Relationships>").encode(),
            "xl/workbook.xml": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                                + ('<workbookPr date1904="1"/>' if self.date1904 else "")
                                + "<sheets>" + "".join(
                                    f'<sheet name="Values {k}" sheetId="{k}" r:id="rId{k}"/>'
                                    for k in range(1, len(names) + 1))
                                + "</sheets></workbook>").encode(),
            "xl/_rels/workbook.xml.rels": ('<?xml version="1.0" encoding="UTF-8" '
                                           f'standalone="yes"?>\n<Relationships xmlns="'
                                           f'{PKG_REL}">' + "".join(links) +
                                           "</Relationships>").encode(),
        }
        files.update({f"xl/{rels[kind]}": data for kind, data in parts.items()})
        entries = [(name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), data)
                   for name, data in files.items()]
        for k, one in enumerate(names, 1):
            name = f"xl/worksheets/sheet{k}.xml"
            found = self._compressed(one) if isinstance(one, str) else None
            if found is not None:
                info, data = found
                entries.append((name, info.compress_type, info.CRC, info.file_size, data))
                continue
            if isinstance(one, str):  # (the part as the file holds it)
                one = self._inflate(self._part_name(one))
            entries.append((name, zipfile.ZIP_STORED, zlib.crc32(one), len(one), one))
        _write_zip(target, entries)
        return target

    @property
    def date1904(self) -> bool:
        """True when the workbook counts dates from 1904-01-01 (``workbookPr date1904``,
        the old Excel for Mac default), not from 1899-12-30."""
        return counts_from_1904(self.xml(self.workbook_part))

    def sheet_index(self, rid: str) -> int | None:
        """Position of a sheet (by relationship id) among all the workbook's sheets, chart
        sheets included: what a defined name's ``localSheetId`` counts."""
        sheets = self.xml(self.workbook_part).iterfind("m:sheets/m:sheet", NS)
        for k, s in enumerate(sheets):
            if s.get(f"{{{REL}}}id") == rid:
                return k
        return None

    def related(self, part: str, kind: str) -> list[str]:
        """Parts a part points to with a relationship of type ``…/kind``."""
        name = self.rels_name(part)
        if not self.has(name):
            return []
        return [self.target(part, r.get("Target")) for r in self.xml(name).iterfind("pr:Relationship", NS)
                if r.get("Type", "").endswith("/" + kind) and r.get("TargetMode") != "External"]

    # ---------------------------------------------------------------- changing
    def free_part(self, pattern: str) -> str:
        """The first part name ``pattern.format(n)`` (n = 1, 2, …) that no part of the
        package has, ignoring case (as Excel compares part names)."""
        taken = {n.casefold() for n in (*self.infos, *self.changed) if n not in self.removed}
        n = 1
        while pattern.format(n).casefold() in taken:
            n += 1
        return pattern.format(n)

    def add_part(self, part: str, data: bytes, content_type: str) -> None:
        """A new part with its content type (one Override per part name)."""
        self.put(part, data)
        types = self.xml("[Content_Types].xml")
        for o in list(types.iterfind("ct:Override", NS)):
            if o.get("PartName", "").lstrip("/").casefold() == part.casefold():
                types.remove(o)
        override = etree.SubElement(types, f"{{{CT}}}Override")
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)
        self.touch("[Content_Types].xml")

    def relate(self, source: str, target: str, kind: str) -> str:
        """A relationship from part ``source`` to part ``target`` (type ``…/kind``, target
        written relative to the source's folder); returns its id."""
        rels = self.rels(source)
        ids = {r.get("Id") for r in rels.iterfind("pr:Relationship", NS)}
        k = len(ids) + 1
        while f"rId{k}" in ids:
            k += 1
        rid = f"rId{k}"
        rel = etree.SubElement(rels, f"{{{PKG_REL}}}Relationship")
        rel.set("Id", rid)
        rel.set("Type", f"{REL}/{kind}")
        rel.set("Target", posixpath.relpath(target, posixpath.dirname(source)))
        self.touch(self.rels_name(source))
        return rid

    def add_chart(self, sheet_part: str, chart_xml: bytes, drawing_xml: bytes) -> str:
        """A chart on a worksheet: ``xl/charts/chartN.xml``, the drawing that anchors it
        (``xl/drawings/drawingN.xml``, whose graphic frame points at relationship
        ``rId1``), both relationships and content types. Returns the id of the sheet's
        relationship to the drawing, for the sheet's ``<drawing r:id>``."""
        chart = self.free_part("xl/charts/chart{}.xml")
        drawing = self.free_part("xl/drawings/drawing{}.xml")
        self.add_part(chart, chart_xml, CHART_CT)
        self.add_part(drawing, drawing_xml, DRAWING_CT)
        self.relate(drawing, chart, "chart")
        return self.relate(sheet_part, drawing, "drawing")

    def add_sheet(self, name: str, xml: bytes) -> SheetRef:
        """A new worksheet at the end of the workbook."""
        part = self.free_part("xl/worksheets/sheet{}.xml")
        self.put(part, xml)
        rid = self.relate(self.workbook_part, part, "worksheet")
        wb = self.xml(self.workbook_part)
        sheets = wb.find("m:sheets", NS)
        ids = [int(s.get("sheetId")) for s in sheets.iterfind("m:sheet", NS)]
        sheet = etree.SubElement(sheets, f"{{{MAIN}}}sheet")
        sheet.set("name", name)
        sheet.set("sheetId", str(max(ids, default=0) + 1))
        sheet.set(f"{{{REL}}}id", rid)
        self.touch(self.workbook_part)
        self.add_part(part, xml, SHEET_CT)
        ref = SheetRef(name, part, rid)
        self.sheets.append(ref)
        return ref

    def all_sheet_names(self) -> list[str]:
        """Every sheet's name, worksheets, chart sheets and macro sheets alike."""
        wb = self.xml(self.workbook_part)
        return [s.get("name") or "" for s in wb.iterfind("m:sheets/m:sheet", NS)]

    def defined_names(self) -> list[tuple[str, str, str | None]]:
        """``(name, refers-to text, localSheetId)`` of every defined name."""
        wb = self.xml(self.workbook_part)
        return [(d.get("name") or "", d.text or "", d.get("localSheetId"))
                for d in wb.iterfind("m:definedNames/m:definedName", NS)]

    def define_name(self, name: str, text: str, hidden: bool = True) -> None:
        """Set a workbook-level defined name (created in schema order if missing)."""
        wb = self.xml(self.workbook_part)
        names = wb.find("m:definedNames", NS)
        if names is None:
            names = etree.Element(f"{{{MAIN}}}definedNames")
            anchor = None
            for tag in ("sheets", "functionGroups", "externalReferences"):
                el = wb.find(f"m:{tag}", NS)
                if el is not None:
                    anchor = el
            anchor.addnext(names)
        for d in names.iterfind("m:definedName", NS):
            if (d.get("name") or "").casefold() == name.casefold() and d.get("localSheetId") is None:
                if d.text != text:
                    d.text = text
                    self.touch(self.workbook_part)
                return
        d = etree.SubElement(names, f"{{{MAIN}}}definedName")
        d.set("name", name)
        if hidden:
            d.set("hidden", "1")
        d.text = text
        self.touch(self.workbook_part)

    def recalc_on_open(self) -> None:
        """Ask Excel to recompute formulas on open: some may read the cells we wrote."""
        wb = self.xml(self.workbook_part)
        calc = wb.find("m:calcPr", NS)
        if calc is None:
            calc = etree.SubElement(wb, f"{{{MAIN}}}calcPr")
            # calcPr sits before a few optional elements; move it right after definedNames/sheets
            anchor = wb.find("m:definedNames", NS)
            anchor = anchor if anchor is not None else wb.find("m:sheets", NS)
            anchor.addnext(calc)
        calc.set("fullCalcOnLoad", "1")
        self.touch(self.workbook_part)

    def drop_calc_chain(self) -> None:
        chain = [p for p in self.related(self.workbook_part, "calcChain")]
        if not chain:
            return
        rels = self.rels(self.workbook_part)
        for r in list(rels.iterfind("pr:Relationship", NS)):
            if r.get("Type", "").endswith("/calcChain"):
                rels.remove(r)
        self.touch(self.rels_name(self.workbook_part))
        types = self.xml("[Content_Types].xml")
        for o in list(types.iterfind("ct:Override", NS)):
            if o.get("PartName", "").lstrip("/") in chain:
                types.remove(o)
        self.touch("[Content_Types].xml")
        self.removed.update(chain)

    def calc_chain_parts(self) -> list[str]:
        return self.related(self.workbook_part, "calcChain")

    def lost_parts(self, written: str | Path, owned: set[str],
                   removable: set[str] = frozenset()) -> list[str]:
        """What the file ``written`` lost of this package: parts it lacks (but those in
        ``removable``) and parts Potentiel does not own whose bytes changed (same size and
        CRC-32, the zip's own checksum, else changed)."""
        with zipfile.ZipFile(written) as new:
            now = {i.filename: i for i in new.infolist()}
        lost = []
        for name, before in self.infos.items():
            after = now.get(name)
            if after is None:
                if name not in removable:
                    lost.append(f"{name} (dropped)")
            elif name not in owned and (after.CRC, after.file_size) != (before.CRC,
                                                                        before.file_size):
                lost.append(f"{name} (changed)")
        return lost

    # ---------------------------------------------------------------- writing
    def write(self, target: str, on_stream=None) -> None:
        """Every part, in the original order: changed ones re-serialised, others copied.
        ``on_stream(part, offset)``, when given, is called as a part made as a stream
        starts: its compressed bytes start at ``offset`` of ``target``."""
        # level 1: a little larger than Excel's files, several times faster to write
        out = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        with out:
            names = [n for n in self.infos if n not in self.removed]
            names += [n for n in self.changed if n not in self.infos and n not in self.removed]
            names.sort(key=lambda n: n in self.written_last)  # stable: the order kept otherwise
            for name in names:
                info = _fresh_info(self.infos.get(name) or
                                   zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)))
                if name in self.producers:
                    big = name in self.infos and self.infos[name].file_size > _ZIP64_ABOVE
                    progress.writing(next((s.name for s in self.sheets if s.part == name), name))
                    with out.open(info, "w", force_zip64=big) as fh:
                        deflate.faster_writing(fh)
                        if on_stream is not None:
                            on_stream(name, out.fp.tell())
                        _write_behind(fh, self.producers[name]())
                elif name in self.changed:
                    data = self.changed[name]
                    if name in self._trees:
                        data = etree.tostring(self._trees[name], xml_declaration=True,
                                              encoding="UTF-8", standalone=True)
                    out.writestr(info, data)
                else:
                    self._copy(name, out, info)

    def _copy(self, name: str, out: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """A part not changed, copied in chunks (a large part never whole in memory)."""
        if info.is_dir() or self.infos[name].file_size < READ_CHUNK:
            out.writestr(info, self.read(name))
            return
        big = self.infos[name].file_size > _ZIP64_ABOVE
        try:
            with self._zip.open(self.infos[name]) as src, \
                    out.open(info, "w", force_zip64=big) as dst:
                deflate.faster_reading(src)
                deflate.faster_writing(dst)
                while chunk := src.read(READ_CHUNK):
                    dst.write(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise UserError(_("{path}: the part {name} cannot be read ({error}); the file is "
                              "damaged or truncated").format(path=self.path, name=name, error=exc)) from None


def _uncounted(strings: bytes) -> bytes:
    """The shared strings part without its ``<sst>`` tag's ``count`` and ``uniqueCount``:
    python-calamine reserves room for ``uniqueCount`` strings before it reads one (a file
    saying four billion ended the process); without them it counts as it reads."""
    found = re.search(rb"<(?:[\w.-]+:)?sst\b[^>]*>", strings[:8192])
    if found is None:
        return strings
    tag = re.sub(rb"""\s(?:count|uniqueCount)\s*=\s*(?:"[^"]*"|'[^']*')""", b"",
                 found.group(0))
    return strings[:found.start()] + tag + strings[found.end():]


def _write_zip(target: Path, entries: list[tuple[str, int, int, int, bytes]]) -> None:
    """A zip file of ``entries``: (name, method, CRC-32, size, the bytes as stored: a
    deflated entry's compressed as they are), each at most 4 GB (no ZIP64)."""
    with open(target, "wb") as out:
        central, at = [], 0
        for name, method, crc, size, data in entries:
            raw = name.encode()
            if max(size, len(data), at) >= 0xFFFFFFFF:
                raise ValueError("too large for a plain zip entry")
            out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21,
                                  crc, len(data), size, len(raw), 0) + raw)
            out.write(data)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0,
                                       method, 0, 0x21, crc, len(data), size, len(raw), 0, 0,
                                       0, 0, 0, at) + raw)
            at += 30 + len(raw) + len(data)
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central),
                              len(directory), at, 0))


def counts_from_1904(workbook: etree._Element) -> bool:
    """Whether the parsed workbook part ``workbook`` counts dates from 1904-01-01."""
    pr = workbook.find("m:workbookPr", NS)
    return pr is not None and pr.get("date1904", "0").strip().lower() in ("1", "true")


def _write_behind(fh, chunks: Iterable[bytes], depth: int = 4) -> None:
    """Write ``chunks`` to the zip entry ``fh`` from a second thread: zlib compresses
    without holding Python's lock, so the next chunk is made while the last one is
    compressed (two cores: the sheet XML and its compression side by side). At most
    ``depth`` chunks wait; an error on either side stops both and is raised here.
    While it runs, Python hands its lock over every 0.5 ms rather than 5 ms
    (`sys.setswitchinterval`): the writer needs the lock back after each zlib, CRC and
    file call, and with the maker busy in Python it waited up to 5 ms each time, which
    left the compression behind (1.8 s instead of 1.1 s for 150 MB of sheet XML)."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def drain() -> None:
        while (chunk := waiting.get()) is not None:
            if failed:
                continue  # keep taking, so that the maker is never stuck on a full queue
            try:
                fh.write(chunk)
            except BaseException as exc:  # noqa: BLE001 (raised again in the caller)
                failed.append(exc)

    writer = threading.Thread(target=drain, name="potentiel-zip-writer", daemon=True)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, _SWITCH))
    writer.start()
    try:
        for chunk in chunks:
            if failed:
                break
            waiting.put(chunk)
            progress.advance(len(chunk))
    finally:
        waiting.put(None)
        writer.join()
        sys.setswitchinterval(switch)
    if failed:
        raise failed[0]


def _fresh_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    fresh = zipfile.ZipInfo(info.filename, info.date_time)
    fresh.compress_type = zipfile.ZIP_DEFLATED
    fresh._compresslevel = 1  # writestr(ZipInfo) ignores the archive's level otherwise
    fresh.external_attr = info.external_attr
    return fresh
