"""No sheet, however its XML is written, makes python-calamine allocate more cells than
Potentiel proved before it reads (`potentiel.headless.MAX_CELLS`): python-calamine is more
lenient than an XML parser (an element's name after any prefix, an element of any
namespace, the last of two ``r``, a row number with leading zeros, a column past XFD),
and it allocates every cell from A1 to its farthest value, so that one value placed far
away ends the process. Each sheet below was found by review to do so once; each is read
here in a process whose memory is bounded (3 GB), so that a fault fails its own case,
not the whole run: it is read, or refused with one clear message."""

import re
import subprocess
import sys

import pytest
from helpers import read_parts, write_parts

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
A1 = '<row r="1"><c r="A1"><v>1</v></c>'
FAR = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def _empty(first: int, last: int) -> str:
    return "".join(f'<row r="{r}"/>' for r in range(first, last))


# name → (the rows, or a function of the whole sheet part; what must happen: "read", or a
# phrase of the refusal)
SHEETS = {
    "leading-zero": (A1 + '<c r="XFD01048576"><v>1</v></c></row>', "XFD1048576"),
    "namespace-cell": (A1 + f'<x:c xmlns:x="{MAIN}" r="XFD1048576"><v>1</v></x:c></row>',
                       "XFD1048576"),
    "four-letters": (A1 + "</row>" + _empty(2, 1000) +
                     '<row r="1000"><c r="ZZZZ1000"><v>1</v></c></row>', "ZZZZ1000"),
    "zzz-past-xfd": (A1 + "</row>" + _empty(2, 3000) +
                     '<row r="3000"><c r="ZZZ3000"><v>1</v></c></row>', "ZZZ3000"),
    "r-twice": (A1 + '<c r="B1" r="XFD1048576"><v>1</v></c></row>', "damaged"),
    "r-twice-after-gt": (A1 + '<c r="B1" n="a>b" r="XFD1048576"><v>1</v></c></row>',
                         "damaged"),
    "r-twice-no-space": (A1 + '<c r="B1" s="0"r="XFD1048576"><v>1</v></c></row>', "damaged"),
    "r-twice-no-space-2": (A1 + '<c r="B1"r="XFD1048576"><v>1</v></c></row>', "damaged"),
    "r-in-a-value": (A1 + '<c foo=" r=" s="1"r="XFD1048576"><v>1</v></c></row>', "damaged"),
    "odd-prefix-bang": (A1 + '<x!:c r="XFD1048576"><v>1</v></x!:c></row>', "damaged"),
    "odd-prefix-empty": (A1 + '<:c r="XFD1048576"><v>1</v></:c></row>', "damaged"),
    "odd-prefix-slash": (A1 + '<x/:c r="XFD1048576"><v>1</v></x/:c></row>', "damaged"),
    "prefixed-value-far": (A1 + "</row>" + _empty(2, 20000) +
                           '<row r="20000"><c r="XFD20000"><x!:v>1</x!:v></c></row>', "damaged"),
    "no-r-after-xfd": (A1 + "</row>" + _empty(2, 10000) +
                       '<row r="10000"><c r="XFD10000" s="0"/><c t="n" foo=" r=1"><v>1</v></c>'
                       "</row>", "read"),
    "no-r-in-the-middle": (A1 + '</row><row r="10000"><c r="A10000"><v>1</v></c>'
                           '<c r="XFD10000" s="0"/><c><v>1</v></c><c r="B10000"><v>1</v></c>'
                           "</row>", "read"),
    "cell-out-of-its-row": (A1 + '<c r="ZZ99999"><v>1</v></c><c r="B1"><v>1</v></c></row>',
                            "ZZ99999"),
    "foreign-row": (A1 + '</row><foo:row xmlns:foo="urn:x" r="10000"><c r="XFD10000"/>'
                    "<c><v>1</v></c></foo:row>", "read"),
    "foreign-rows-counted": (A1 + "</row>" + '<f:row xmlns:f="urn:y"/>' * 20000 +
                             '<row><c r="XFD1"/><c><v>1</v></c></row>', "read"),
    "foreign-value": (A1 + f'<c r="XFD1048576"><x:v xmlns:x="urn:y" a="1">1</x:v ></c>'
                      '<c r="B1"><v>1</v></c></row>', "read"),
    # a cell in the first rows, which the compacted copy keeps as they are, naming a row
    # far below them (found through the layout, and before it looked)
    "far-rows-kept-first": ('<row r="1"><c r="XFD1"><v>1</v></c><c r="A1048576"><v>1</v></c>'
                            '<c r="A1"><v>1</v></c></row><row r="1048576"><c r="B1048576">'
                            "<v>1</v></c></row>", "read"),
    "far-rows-kept-first-all-held": (
        '<row r="1"><c r="A1048576"><v>1</v></c><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="CV2"><v>1</v></c></row>' +
        "".join(f'<row r="{i}"><c r="B{i}"><v>1</v></c></row>' for i in range(3, 3100)) +
        '<row r="1048576"><c r="A1048576"><v>1</v></c></row>', "read"),
    # an attribute's value holding what ends a tag or a cell, before a far value
    "attribute-holding-a-tag-end": ('<row r="1"><c r="XFD1" a="/>"><v>1</v></c><c r="A1">'
                                    "<v>1</v></c></row>" + _empty(2, 100000) +
                                    '<row r="100000"><c r="A100000"><v>1</v></c></row>', "read"),
    "attribute-holding-a-cell-end": ('<row r="1"><c r="XFD1"><f a="&lt;/c>"/><v>1</v></c>'
                                     '<c r="A1"><v>1</v></c></row>' + _empty(2, 100000) +
                                     '<row r="100000"><c r="A100000"><v>1</v></c></row>',
                                     "read"),
    "second-sheetdata-named-alike": (lambda part: part.replace(
        b"<sheetData>", b"<sheetData-x/><sheetData>").replace(
        b"</sheetData>", b"</row>" + FAR.encode() + b"</sheetData>"), "read"),
    "two-sheetdata": (lambda part: part.replace(
        b"</sheetData>", b"</row></sheetData><sheetData>" + FAR.encode() + b"</sheetData>"),
        "read"),
    "sheetdata-in-an-instruction": (lambda part: part.replace(
        b"<sheetData>", b"<?foo <sheetData/> ?><sheetData>").replace(
        b"</sheetData>", b"</row>" + FAR.encode() + b"</sheetData>"), "read"),
}


def _workbook(path, rows) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    book.active.title = "Accounts"
    book.active["A1"] = 1
    book.save(path)
    parts = read_parts(path)
    name = "xl/worksheets/sheet1.xml"
    if callable(rows):
        parts[name] = rows(parts[name].replace(b'<row r="1"><c r="A1" t="n"><v>1</v></c></row>',
                                               A1.encode()))
    else:
        parts[name] = re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>",
                             lambda m: b"<sheetData>" + rows.encode() + b"</sheetData>",
                             parts[name], flags=re.S)
    write_parts(path, parts)


_READ = ("import resource, sys\n"
         "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
         "from pathlib import Path\n"
         "from potentiel.headless import Workbook\n"
         "from potentiel.problems import UserError\n"
         "wb = Workbook(Path(sys.argv[1]))\n"
         "try:\n"
         "    rows = wb.values(wb.package.sheets[0])\n"
         "    print('read', len(rows), max(map(len, rows), default=0))\n"
         "except UserError as exc:\n"
         "    print('refused', exc)\n")


@pytest.mark.parametrize("name", list(SHEETS))
def test_a_sheet_is_read_or_refused_never_allocated_past_the_proof(name, tmp_path):
    rows, outcome = SHEETS[name]
    path = tmp_path / "book.xlsx"
    _workbook(path, rows)
    done = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-600:]
    said = done.stdout.strip()
    if outcome == "read":
        assert said.startswith("read"), said
    else:
        assert said.startswith("refused") and outcome in said, said
        assert "cannot be read (" not in said, said


# ------------------------------------------------- the parts python-calamine would find

_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_GOOD = (f'<worksheet xmlns="{MAIN}"><sheetData>{A1}</row></sheetData></worksheet>').encode()
_FAR = (f'<worksheet xmlns="{MAIN}"><sheetData>{A1}</row>{FAR}</sheetData></worksheet>'
        ).encode()


def _book(sheets: str, ns: str = f'xmlns="{MAIN}" xmlns:r="{_RT[:-1]}"') -> bytes:
    return f"<workbook {ns}><sheets>{sheets}</sheets></workbook>".encode()


def _rels(*links: tuple[str, str, str]) -> bytes:
    return (f'<Relationships xmlns="{_PKG}">' + "".join(
        f'<Relationship Id="{i}" Type="{_RT}{t}" Target="{target}"/>' for i, t, target in links)
        + f'<Relationship Id="rS" Type="{_RT}styles" Target="styles.xml"/></Relationships>'
        ).encode()


# a workbook whose parts python-calamine, by rules of its own, would find elsewhere than
# the packaging standard says (and than Potentiel checked): the sheet it would read
# holds a value at XFD1048576
PACKAGES = {
    "another-workbook-part": {
        "_rels/.rels": (f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="'
                        f'{_RT}officeDocument" Target="xl/main.xml"/></Relationships>').encode(),
        "xl/main.xml": _book('<sheet name="Accounts" sheetId="1" r:id="rId1"/>'),
        "xl/_rels/main.xml.rels": _rels(("rId1", "worksheet", "worksheets/sheet1.xml")),
        "xl/workbook.xml": _book('<sheet name="Accounts" sheetId="1" r:id="rId1"/>'),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", "worksheet", "worksheets/sheet2.xml")),
        "xl/worksheets/sheet1.xml": _GOOD, "xl/worksheets/sheet2.xml": _FAR},
    "a-chart-sheet-of-the-same-name-first": {
        "xl/workbook.xml": _book('<sheet name="Accounts" sheetId="2" r:id="rId9"/>'
                                 '<sheet name="Accounts" sheetId="1" r:id="rId1"/>'),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                                            ("rId9", "chartsheet", "worksheets/sheet2.xml")),
        "xl/worksheets/sheet1.xml": _GOOD, "xl/worksheets/sheet2.xml": _FAR},
    "the-relationship-id-under-another-prefix": {
        "xl/workbook.xml": _book('<sheet name="Accounts" sheetId="1" q:id="rId1" r:id="rId2"/>',
                                 f'xmlns="{MAIN}" xmlns:q="{_RT[:-1]}" xmlns:r="urn:other"'),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                                            ("rId2", "worksheet", "worksheets/sheet2.xml")),
        "xl/worksheets/sheet1.xml": _GOOD, "xl/worksheets/sheet2.xml": _FAR},
    "a-target-through-dot-dot": {
        "xl/workbook.xml": _book('<sheet name="Accounts" sheetId="1" r:id="rId1"/>'),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", "worksheet",
                                             "../xl/worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": _GOOD, "xl/../xl/worksheets/sheet1.xml": _FAR},
}


@pytest.mark.parametrize("name", list(PACKAGES))
def test_python_calamine_reads_the_part_checked_whatever_the_package(name, tmp_path):
    import openpyxl
    path = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(path)
    parts = read_parts(path)
    parts.update(PACKAGES[name])
    write_parts(path, parts)
    done = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.strip() == "read 1 1", done.stdout


def test_the_part_copied_compressed_reads_as_its_bytes():
    """The package python-calamine reads holds the checked part's entry copied as the
    file stores it (compressed, never inflated twice): the same values as the part's
    bytes stored, on every shared case."""
    from pathlib import Path

    from potentiel.headless import Workbook, _calamine_sheet
    cases = sorted((Path(__file__).resolve().parents[2] / "shared" / "cases")
                   .rglob("*.xls[xm]"))
    assert len(cases) > 30
    compared = 0
    for path in cases:
        wb = Workbook(path)
        try:
            for ref in wb.package.sheets[:2]:
                try:
                    data = wb.package.read(ref.part)
                    if not wb.sheet(ref).read_at_once(50_000_000):
                        continue
                    stored = _calamine_sheet(wb.package, data).to_python()
                except Exception:  # noqa: BLE001 (a sheet python-calamine refuses)
                    continue
                assert wb.package._compressed(ref.part) is not None, path.name
                assert _calamine_sheet(wb.package, ref.part).to_python() == stored, path.name
                compared += 1
        finally:
            wb.package.close()
    assert compared > 30


@pytest.mark.parametrize("count", ["4294967295", "100000000"])
def test_shared_strings_saying_billions_are_read_as_they_are(count, tmp_path):
    """python-calamine reserves room for the ``uniqueCount`` its shared strings say
    before it reads one: a file saying billions ended the process. It reads them as they
    are, counted as read."""
    import openpyxl
    path = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(path)
    parts = read_parts(path)
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb"<sheetData>.*</sheetData>|<sheetData/>", lambda m: b'<sheetData><row r="1">'
        b'<c r="A1" t="s"><v>0</v></c><c r="B1"><v>1</v></c></row></sheetData>',
        parts["xl/worksheets/sheet1.xml"], flags=re.S)
    parts["xl/sharedStrings.xml"] = (b'<sst xmlns="%s" count="%s" uniqueCount="%s"><si><t>x'
                                     b"</t></si></sst>" % (MAIN.encode(), count.encode(),
                                                           count.encode()))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="%ssharedStrings" '
        b'Target="sharedStrings.xml"/></Relationships>' % _RT.encode())
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    write_parts(path, parts)
    done = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.strip() == "read 1 2", done.stdout
