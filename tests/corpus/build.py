"""Build the corpus of hostile and broken inputs, each with the message it must get.

    python tests/corpus/build.py [FOLDER]     # default: tests/corpus/out (git-ignored)

Nothing here is a committed binary: every file is made by code from a small valid
workbook (openpyxl) or from scratch (a zip, an OLE2 compound file, text), so what each
file is and why it is hostile can be read below. `CASES` lists them; each `Case` says the
file to make, how, and a phrase the one-line error of ``potentiel score`` must contain.
tests/test_hostile_files.py builds each case in a temporary folder and checks that
``potentiel score`` exits 1 with that one line, no traceback, and the file untouched.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Path], None]
    message: str          # a phrase the error line must contain
    what: str             # what the file is, for people reading the corpus


# --------------------------------------------------------------------------- helpers


def valid_workbook(path: Path, rows: int = 3) -> Path:
    """A small real workbook: an Accounts table with a few accounts."""
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["id", "name", "revenue", "potential"])
    for i in range(rows):
        ws.append([f"C{i + 1}", f"Account {i + 1}", 1000 * (i + 1), 5000 * (i + 1)])
    ws.add_table(Table(displayName="Accounts", ref=f"A1:D{rows + 1}"))
    wb.save(path)
    return path


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path: Path, parts: dict[str, bytes], level: int = 6) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def patched(path: Path, changes: dict[str, bytes | None]) -> None:
    """A valid workbook with some parts replaced (or removed, for None)."""
    parts = parts_of(valid_workbook(path))
    for name, data in changes.items():
        if data is None:
            parts.pop(name, None)
        else:
            parts[name] = data
    write_zip(path, parts)


def set_declared_size(path: Path, name: str, size: int) -> None:
    """Make the zip directory lie about the unpacked size of ``name`` (both headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(name)
    assert data[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, info.header_offset + 22, size)
    i = 0
    while True:
        i = data.index(b"PK\x01\x02", i)
        n, = struct.unpack_from("<H", data, i + 28)
        if data[i + 46:i + 46 + n].decode() == name:
            struct.pack_into("<I", data, i + 24, size)
            break
        i += 4
    path.write_bytes(bytes(data))


def ole2(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (what .xls and encrypted .xlsx files are): 512-byte
    sectors, one FAT sector, one directory sector, streams of at least 4096 bytes each
    (so no mini stream is needed). Enough for any reader to list its streams."""
    sector = 512
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    bodies, fat, start = [], [fatsect, end], 2
    entries = []
    for name, data in streams.items():
        data = data.ljust(max(4096, len(data)), b"\0")
        data = data.ljust(-(-len(data) // sector) * sector, b"\0")
        n = len(data) // sector
        fat += [start + k + 1 for k in range(n - 1)] + [end]
        entries.append((name, 2, start, len(data)))
        bodies.append(data)
        start += n
    assert len(fat) <= sector // 4 and len(entries) <= 3

    def entry(name: str, kind: int, first: int, size: int, child: int = free,
              right: int = free) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, right, child) + b"\0" * 16 + b"\0" * 4
                + b"\0" * 16 + struct.pack("<IQ", first, size))

    directory = entry("Root Entry", 5, end, 0, child=1)
    for k, (name, kind, first, size) in enumerate(entries):
        right = k + 2 if k + 1 < len(entries) else free
        directory += entry(name, kind, first, size, right=right)
    directory = directory.ljust(sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0))
    difat = [0] + [free] * 108
    header += struct.pack("<109I", *difat)
    assert len(header) == 512
    fat_sector = struct.pack(f"<{sector // 4}I", *(fat + [free] * (sector // 4 - len(fat))))
    return header + fat_sector + directory + b"".join(bodies)


def biff8_workbook_stream() -> bytes:
    """The start of an .xls Workbook stream: a BIFF8 BOF record (workbook globals), EOF."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06)
    return bof + struct.pack("<HH", 0x000A, 0)


def billion_laughs(root: str) -> bytes:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [{ents}]>'
            f'<{root} xmlns="{MAIN}">&lol9;</{root}>').encode()


# --------------------------------------------------------------------------- builders


def csv_file(path: Path) -> None:
    path.write_text("id;name;revenue\nC1;Acme;1200\nC2;Bobo;300\n", encoding="utf-8")


def html_page(path: Path) -> None:
    path.write_text("<!DOCTYPE html>\n<html><head><title>Export</title></head><body><table>"
                    "<tr><td>id</td><td>revenue</td></tr><tr><td>C1</td><td>1200</td></tr>"
                    "</table></body></html>\n", encoding="utf-8")


def xml_spreadsheet_2003(path: Path) -> None:
    path.write_text('<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:'
                    'spreadsheet"><Worksheet ss:Name="Accounts"/></Workbook>\n', encoding="utf-8")


def old_xls(path: Path) -> None:
    path.write_bytes(ole2({"Workbook": biff8_workbook_stream()}))


def encrypted(path: Path) -> None:
    """A real password-protected workbook (ECMA-376 agile encryption, as Excel writes)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = path.with_name(path.stem + ".plain.xlsx")
    valid_workbook(plain)
    with open(plain, "rb") as src, open(path, "wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    plain.unlink()


def empty(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    valid_workbook(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_part(path: Path) -> None:
    """The zip is whole but the compressed bytes of the sheet are damaged (bad checksum)."""
    valid_workbook(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(SHEET)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 20, start + min(info.compress_size - 4, 120)):
        data[k] ^= 0x55
    path.write_bytes(bytes(data))


def plain_zip(path: Path) -> None:
    write_zip(path, {"readme.txt": b"not a workbook"})


def word_document(path: Path) -> None:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    write_zip(path, {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
                               b'openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
                       b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
                       b'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                       b'officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body/>'
                             f'</w:document>'.encode(),
    })


def opendocument(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", b'<?xml version="1.0"?><office:document-content xmlns:office='
                                  b'"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')


def binary_workbook(path: Path) -> None:
    parts = parts_of(valid_workbook(path))
    rels = parts["_rels/.rels"].replace(b"xl/workbook.xml", b"xl/workbook.bin")
    parts["_rels/.rels"] = rels
    parts["xl/workbook.bin"] = b"\x83\x01\x00"
    del parts["xl/workbook.xml"]
    write_zip(path, parts)


def damaged_xml(path: Path) -> None:
    parts = parts_of(valid_workbook(path))
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"][:-40]
    write_zip(path, parts)


def missing_part(path: Path) -> None:
    """The workbook points its sheet to a part the zip does not hold."""
    parts = parts_of(valid_workbook(path))
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"worksheets/sheet1.xml", b"worksheets/gone.xml")
    write_zip(path, parts)


def outside_target(path: Path) -> None:
    """A relationship pointing out of the package (never read from disk)."""
    parts = parts_of(valid_workbook(path))
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels] = parts[rels].replace(b'Target="/xl/tables/table1.xml"',
                                      b'Target="/../../etc/passwd"')
    write_zip(path, parts)


def table_without_columns(path: Path) -> None:
    import re
    parts = parts_of(valid_workbook(path))
    table = "xl/tables/table1.xml"
    parts[table] = re.sub(rb"<tableColumns.*</tableColumns>", b"", parts[table])
    write_zip(path, parts)


def bad_table_range(path: Path) -> None:
    parts = parts_of(valid_workbook(path))
    table = "xl/tables/table1.xml"
    parts[table] = parts[table].replace(b'ref="A1:D4"', b'ref="ZZ"')
    write_zip(path, parts)


def bad_row_number(path: Path) -> None:
    parts = parts_of(valid_workbook(path))
    parts[SHEET] = parts[SHEET].replace(b'<row r="2"', b'<row r="x2"')
    write_zip(path, parts)


def hidden_header_row(path: Path) -> None:
    """An Excel table with its header row turned off: its first account is not a header."""
    parts = parts_of(valid_workbook(path))
    table = "xl/tables/table1.xml"
    parts[table] = parts[table].replace(b'ref="A1:D4"', b'ref="A2:D4"').replace(
        b'headerRowCount="1"', b'headerRowCount="0"')
    write_zip(path, parts)


def garbage_sheet(path: Path) -> None:
    patched(path, {SHEET: b"this is not XML at all \x00\x01\x02"})


def entity_bomb_sheet(path: Path) -> None:
    patched(path, {SHEET: billion_laughs("worksheet")})


def entity_bomb_shared_strings(path: Path) -> None:
    """Billion laughs in the shared strings, which only python-calamine would read."""
    parts = parts_of(valid_workbook(path))
    parts["xl/sharedStrings.xml"] = billion_laughs("sst")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>")
    write_zip(path, parts)


def external_entity(path: Path) -> None:
    """XXE: an entity pointing at a local file, in the workbook part itself."""
    parts = parts_of(valid_workbook(path))
    wb = parts["xl/workbook.xml"].decode()
    first = wb.index("<workbook")
    wb = (wb[:first] + '<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
          + wb[first:]).replace("</workbook>", "<definedNames><definedName name=\"x\">&x;"
                                               "</definedName></definedNames></workbook>")
    parts["xl/workbook.xml"] = wb.encode()
    write_zip(path, parts)


def utf16_dtd(path: Path) -> None:
    """A DTD hidden from a byte search: the sheet part in UTF-16, after a long prolog."""
    parts = parts_of(valid_workbook(path))
    sheet = parts[SHEET].decode()
    first = sheet.index("<worksheet")
    sheet = ('<?xml version="1.0" encoding="UTF-16"?>' + " " * 8000
             + '<!DOCTYPE worksheet [<!ENTITY y "text">]>' + sheet[first:])
    parts[SHEET] = sheet.encode("utf-16")
    write_zip(path, parts)


def zip_bomb(path: Path) -> None:
    """A 60 MB part of zeros that packs into about 60 kB: compressed 1000 times."""
    parts = parts_of(valid_workbook(path))
    parts["xl/media/image1.png"] = bytes(60 * 1024 ** 2)
    write_zip(path, parts, level=9)


def declared_huge(path: Path) -> None:
    """The zip directory says a part unpacks to 3 GB (over the total limit)."""
    valid_workbook(path)
    set_declared_size(path, "docProps/app.xml", 3 * 1024 ** 3)


def lying_directory(path: Path) -> None:
    """The directory says the sheet unpacks to 2 kB; it really inflates to 64 MB."""
    parts = parts_of(valid_workbook(path))
    parts[SHEET] = parts[SHEET].replace(b"</worksheet>", b" " * (64 * 1024 ** 2) + b"</worksheet>")
    write_zip(path, parts, level=9)
    set_declared_size(path, SHEET, 2048)


def too_many_parts(path: Path) -> None:
    parts = parts_of(valid_workbook(path))
    for k in range(10_001):
        parts[f"customXml/item{k}.xml"] = b""
    write_zip(path, parts, level=1)


# A sheet read without its empty rows (a few values far below the rest are read as such,
# see potentiel.xlsxstream.compacted) is refused only when its rows with a value, times
# its columns up to the last value, are too many cells: 3,100 rows × 16,384 columns.
FAR_ROWS = 3_100


def far_cell(path: Path) -> None:
    """One stray value in column XFD under 3,100 accounts: a reader of whole sheets would
    need 51 million cells."""
    parts = parts_of(valid_workbook(path, rows=FAR_ROWS))
    parts[SHEET] = parts[SHEET].replace(
        b"</sheetData>", b'<row r="%d"><c r="XFD%d"><v>1</v></c></row></sheetData>'
        % (FAR_ROWS + 2, FAR_ROWS + 2))
    write_zip(path, parts)


def far_cell_reversed(path: Path) -> None:
    """The same, with the far cell hidden first in a row of ordinary cells, and a value in
    the sheet's last row."""
    parts = parts_of(valid_workbook(path, rows=FAR_ROWS))
    parts[SHEET] = parts[SHEET].replace(
        b'<c r="A2"', b'<c r="XFD2"><v>1</v></c><c r="A2"', 1).replace(
        b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>')
    write_zip(path, parts)


def far_cell_middle(path: Path) -> None:
    """The far value hidden in the middle of an ordinary row (cells out of column order),
    where neither the first nor the last cell of any row shows it."""
    parts = parts_of(valid_workbook(path))
    row = parts[SHEET].index(b'<c r="B2"')
    parts[SHEET] = (parts[SHEET][:row] + b'<c r="XFD1048576"><v>1</v></c>'
                    + parts[SHEET][row:])
    write_zip(path, parts)


def _cell_before_b2(path: Path, cell: bytes, rows: int = 3, below: bytes = b"") -> None:
    """A valid workbook with ``cell`` put before B2 (and ``below``: rows after the last)."""
    parts = parts_of(valid_workbook(path, rows))
    sheet = parts[SHEET]
    at = sheet.index(b'<c r="B2"')
    parts[SHEET] = (sheet[:at] + cell + sheet[at:]).replace(b"</sheetData>",
                                                             below + b"</sheetData>")
    write_zip(path, parts)


# Cells a reader of values places where Excel would not let them stand, each found by
# review to slip past the quick look that lets the reading start at once (python-calamine
# then allocates them all and the process ends): each must be refused or said damaged.
def far_cell_leading_zero(path: Path) -> None:
    """The far value's row number written with a leading zero (XFD01048576)."""
    _cell_before_b2(path, b'<c r="XFD01048576"><v>1</v></c>')


def far_cell_namespace(path: Path) -> None:
    """The far value in a cell of a namespace prefix among plain cells."""
    _cell_before_b2(path, b'<x:c xmlns:x="%s" r="XFD1048576"><x:v>1</x:v></x:c>'
                    % MAIN.encode())


def far_cell_four_letters(path: Path) -> None:
    """A value in a column of five letters (past ZZZ; Excel stops at XFD) on 1,000 rows."""
    _cell_before_b2(path, b"", below=b"".join(b'<row r="%d"/>' % r for r in range(5, 1000))
                    + b'<row r="1000"><c r="ZZZZZ1000"><v>1</v></c></row>')


def far_cell_reference_twice(path: Path) -> None:
    """A cell with two references, the second far away, after a value holding ">"."""
    _cell_before_b2(path, b'<c r="A2" s="0" n="a>b" r="XFD1048576"><v>1</v></c>')


def far_cell_out_of_its_row(path: Path) -> None:
    """A value in row 2 whose reference names row 5,000 of column ZZZ, the rows below
    empty but formatted: the row it stands in is not where it is read."""
    _cell_before_b2(path, b'<c r="ZZZ5000"><v>1</v></c>', below=b"".join(
        b'<row r="%d" s="1" customFormat="1"/>' % r for r in range(5, 5001)))


def no_accounts_sheet(path: Path) -> None:
    """Two sheets, neither named Accounts nor holding account headers on its own."""
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.active.append(["id", "revenue"])
    wb.create_sheet("Feuil2").append(["id", "revenue"])
    wb.save(path)


def empty_accounts_sheet(path: Path) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Accounts"
    wb.save(path)


def folder(path: Path) -> None:
    path.mkdir()


CASES: list[Case] = [
    Case("csv", "accounts.xlsx", csv_file, "if it is a CSV", "a CSV export renamed .xlsx"),
    Case("html", "export.xlsx", html_page, "a web page (HTML)",
         "an HTML page, as web applications export 'Excel' files"),
    Case("xml-2003", "export.xlsx", xml_spreadsheet_2003, "XML Spreadsheet 2003",
         "Excel 2003's XML format with a .xlsx name"),
    Case("xls", "old.xlsx", old_xls, "an old .xls workbook (Excel 97-2003)",
         "an OLE2 file with a BIFF8 Workbook stream, named .xlsx"),
    Case("encrypted", "secret.xlsx", encrypted, "protected by a password",
         "a workbook encrypted with a password by Excel's method"),
    Case("empty", "empty.xlsx", empty, "the file is empty", "zero bytes"),
    Case("truncated", "cut.xlsx", truncated, "cut short or damaged",
         "the first half of a workbook (an interrupted copy or download)"),
    Case("corrupt-part", "corrupt.xlsx", corrupt_part, "damaged",
         "a whole zip whose sheet data is damaged (checksum error)"),
    Case("plain-zip", "archive.xlsx", plain_zip, "no workbook part inside", "any zip file"),
    Case("word", "letter.xlsx", word_document, "a Word or PowerPoint file",
         "a Word document renamed .xlsx"),
    Case("ods", "calc.xlsx", opendocument, "an OpenDocument file", "a LibreOffice spreadsheet"),
    Case("xlsb", "binary.xlsx", binary_workbook, "binary workbook (.xlsb)",
         "a binary workbook renamed .xlsx"),
    Case("damaged-xml", "broken.xlsx", damaged_xml, "is damaged", "a workbook part cut short"),
    Case("garbage-sheet", "garbage.xlsx", garbage_sheet, "damaged", "a sheet part that is not XML"),
    Case("missing-part", "gone.xlsx", missing_part, "is missing",
         "a relationship to a part the zip does not hold"),
    Case("outside-target", "outside.xlsx", outside_target, "../../etc/passwd is missing",
         "a relationship pointing out of the package"),
    Case("table-without-columns", "nocols.xlsx", table_without_columns,
         "not as Excel writes it", "an Excel table without its column list"),
    Case("bad-table-range", "badref.xlsx", bad_table_range, "not as Excel writes it",
         "an Excel table whose range is not a range"),
    Case("bad-row-number", "badrow.xlsx", bad_row_number, "not as Excel writes it",
         'a row numbered "x2"'),
    Case("hidden-header-row", "noheader.xlsx", hidden_header_row, "hides its header row",
         "an Excel table whose header row is turned off"),
    Case("entity-bomb", "laughs.xlsx", entity_bomb_sheet, "DTD or entities",
         "billion laughs: nested entities in the sheet expand to gigabytes"),
    Case("entity-bomb-strings", "laughs2.xlsx", entity_bomb_shared_strings, "DTD or entities",
         "billion laughs in the shared strings, read by python-calamine, not by Potentiel"),
    Case("xxe", "xxe.xlsx", external_entity, "DTD or entities",
         "an external entity that would read /etc/passwd into the workbook"),
    Case("utf16-dtd", "utf16.xlsx", utf16_dtd, "DTD or entities",
         "a DTD in a UTF-16 part after 8,000 blanks"),
    Case("zip-bomb", "bomb.xlsx", zip_bomb, "like a zip bomb",
         "a 60 MB part packed 1000 times smaller"),
    Case("declared-huge", "huge.xlsx", declared_huge, "would unpack to",
         "a zip directory declaring 3 GB"),
    Case("lying-directory", "lying.xlsx", lying_directory, "damaged or truncated",
         "a zip directory declaring 2 kB for a part that inflates to 64 MB"),
    Case("too-many-parts", "parts.xlsx", too_many_parts, "parts inside",
         "10,000 parts in one workbook"),
    Case("far-cell", "far.xlsx", far_cell, "XFD3102", "one value in column XFD under 3,100 rows"),
    Case("far-cell-reversed", "far2.xlsx", far_cell_reversed, "XFD1048576",
         "a far column hidden first in a row, and a far row"),
    Case("far-cell-middle", "far3.xlsx", far_cell_middle, "XFD1048576",
         "a far cell hidden in the middle of an ordinary row"),
    Case("far-cell-leading-zero", "far4.xlsx", far_cell_leading_zero, "XFD1048576",
         "a far row written with a leading zero"),
    Case("far-cell-namespace", "far5.xlsx", far_cell_namespace, "XFD1048576",
         "a far cell of a namespace prefix among plain cells"),
    Case("far-cell-four-letters", "far6.xlsx", far_cell_four_letters, "ZZZZZ1000",
         "a column of five letters on 1,000 rows"),
    Case("far-cell-reference-twice", "far7.xlsx", far_cell_reference_twice, "damaged",
         "a cell with two references, the second far away"),
    Case("far-cell-out-of-its-row", "far8.xlsx", far_cell_out_of_its_row, "ZZZ5000",
         "a value whose reference names a row below its own"),
    Case("no-accounts", "nosheet.xlsx", no_accounts_sheet, "no Accounts sheet",
         "a workbook without an Accounts sheet"),
    Case("empty-accounts", "blank.xlsx", empty_accounts_sheet, "is empty",
         "an Accounts sheet with nothing in it"),
    Case("folder", "folder.xlsx", folder, "is a folder", "a folder named like a workbook"),
]


def build(case: Case, folder: Path) -> Path:
    """Make one case's file in ``folder`` (its own subfolder, so names never clash)."""
    where = folder / case.name
    where.mkdir(parents=True, exist_ok=True)
    path = where / case.filename
    case.build(path)
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "out"
    for case in CASES:
        path = build(case, out)
        print(f"{case.name:<20} {path}  ({case.what}) -> \"{case.message}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
