"""Real packages written loosely are read (../shared/cases/writing/ and workbooks edited here
as the corpus met them): part names with backslashes or in another case, an Excel 4 macro
sheet, a sheet entry without its relationship, a missing relationships part, a header row
under 44 blank rows, a real sheet packed more than 200 times. What cannot be read gets one
line saying what is wrong; the rest is read and written back as Excel requires.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pytest

from helpers import RUN_TIME, SHARED_CASES, write_workbook
from potentiel import xlsxpackage
from potentiel.headless import Workbook, inspect_file, score_file
from potentiel.problems import UserError
from potentiel.xlsxcheck import problems

WRITING = SHARED_CASES / "writing"
ROWS = [["C1", "Acme", 120000, 400000], ["C2", "Bobo", 30000, 50000],
        ["C3", "Cyan", 8000, 90000]]


def _case(name: str) -> Path:
    path = WRITING / name
    assert path.is_file(), f"missing shared case {path}"
    return path


def _score(path: Path, out: Path):
    result, _ = score_file(path, out, when=RUN_TIME)
    return result


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _rezip(path: Path, parts: dict[str, bytes], level: int = 6) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return path


def _two_sheets(path: Path) -> Path:
    """A real workbook (openpyxl): Accounts with three accounts, and a Notes sheet."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["id", "name", "revenue", "potential"])
    for r in ROWS:
        ws.append(r)
    wb.create_sheet("Notes").append(["A note of the user's"])
    wb.save(path)
    return path


def _unchanged(before: dict[str, bytes], out: Path, names: list[str]) -> None:
    after = _parts(out)
    for name in names:
        assert after[name] == before[name], f"{name} changed"


# ---------------------------------------------------------------- part names


def test_backslash_part_names_are_read(tmp_path):
    """The shared case: every part name written with backslashes and [content_types].xml
    in lower case. It is read (its two sheets, FAM and VIC, and their values); it holds
    no accounts, which is then what is said."""
    path = _case("backslash-part-names-called-not-a-workbook.xlsx")
    wb = Workbook(path)
    try:
        assert [s.name for s in wb.package.sheets] == ["FAM", "VIC"]
        assert wb.values(wb.package.sheets[0])[0][:3] == [None, "Cycle", "A1"]  # A1 is blank
    finally:
        wb.package.close()
    with pytest.raises(UserError, match=r"no Accounts sheet \(sheets here: FAM, VIC\)"):
        _score(path, tmp_path / "out.xlsx")


@pytest.mark.parametrize("style", ["backslash", "leading-slash"])
def test_a_workbook_with_loose_part_names_scores_and_is_written_as_opc_says(tmp_path, style):
    """The same real workbook with its part names written with backslashes (and the
    content types in lower case), or with a leading / (which python-calamine cannot
    open: it is handed a normalised copy): scored, written with names as OPC says, every
    part Potentiel does not own kept byte for byte."""
    src = _two_sheets(tmp_path / "src.xlsx")
    parts = _parts(src)
    if style == "backslash":
        loose = {("[content_types].xml" if n == "[Content_Types].xml" else n.replace("/", "\\")): d
                 for n, d in parts.items()}
    else:
        loose = {"/" + n: d for n, d in parts.items()}
    path = _rezip(tmp_path / "loose.xlsx", loose)
    out = tmp_path / "out.xlsx"
    result = _score(path, out)
    assert sorted(result.accounts["id"]) == ["C1", "C2", "C3"]
    assert problems(out) == []
    written = _parts(out)
    assert set(parts) <= set(written)
    _unchanged(parts, out, ["docProps/app.xml", "docProps/core.xml", "xl/theme/theme1.xml",
                            "xl/worksheets/sheet2.xml"])


def test_part_names_are_compared_ignoring_case_when_read(tmp_path):
    """A relationship to worksheets/sheet1.xml finds the part xl/worksheets/SHEET1.XML,
    and its own relationships part under any case."""
    src = _two_sheets(tmp_path / "src.xlsx")
    parts = {n.replace("worksheets/sheet1.xml", "worksheets/SHEET1.XML"): d
             for n, d in _parts(src).items()}
    path = _rezip(tmp_path / "upper.xlsx", parts)
    out = tmp_path / "out.xlsx"
    assert len(_score(path, out).accounts) == 3
    assert problems(out) == []
    assert "xl/worksheets/SHEET1.XML" in _parts(out)


def test_two_parts_of_one_name_ignoring_case_are_refused_in_one_line(tmp_path):
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts["xl/worksheets/Sheet1.xml"] = parts["xl/worksheets/sheet1.xml"]
    path = _rezip(tmp_path / "twice.xlsx", parts)
    with pytest.raises(UserError, match="have one name") as caught:
        _score(path, tmp_path / "out.xlsx")
    assert "Sheet1.xml" in str(caught.value) and "\n" not in str(caught.value)


def test_uppercase_sheet1_reads_its_header_under_blank_rows_and_adds_parts_unique(tmp_path):
    """The shared case: the Accounts sheet's only row is row 45 (charts drawn over
    merged cells above it), beyond the first 30 rows once scanned. The header row is
    found there; its columns are read (no account row under it: 0 accounts, said);
    Potentiel's new parts have names no part has ignoring case (the package has
    xl/worksheets/Sheet1.xml)."""
    path = _case("uppercase-Sheet1-part-case-collision.xlsx")
    out = tmp_path / "out.xlsx"
    result = _score(path, out)
    assert result.reading.header_row == 45
    assert len(result.accounts) == 0
    assert problems(out) == []
    names = list(_parts(out))
    assert len({n.casefold() for n in names}) == len(names)
    assert "xl/worksheets/Sheet1.xml" in names and "xl/worksheets/sheet1.xml" not in names
    before = _parts(path)
    _unchanged(before, out, ["xl/worksheets/_rels/sheet1.xml.rels", "xl/drawings/drawing1.xml",
                             "xl/charts/chart1.xml", "xl/worksheets/Sheet2.xml"])


def test_a_header_row_under_many_blank_rows_is_found(tmp_path):
    import openpyxl
    path = tmp_path / "low.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws["A1"] = "Portfolio 2025"
    for r, row in enumerate([["id", "name", "revenue"], *[r[:3] for r in ROWS]], start=60):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    wb.save(path)
    result = _score(path, tmp_path / "out.xlsx")
    assert result.reading.header_row == 60 and len(result.accounts) == 3


# ---------------------------------------------------------------- sheets not read


def test_an_excel4_macro_sheet_is_left_alone_and_the_others_are_read(tmp_path):
    """The shared case: python-calamine refuses the whole file for one Excel 4 macro
    sheet. The accounts are read, the macro sheet is said (a notice) and copied byte for
    byte, and the workbook still lists it."""
    path = _case("macrosheet-refused-save-again-advice-useless.xlsm")
    out = tmp_path / "out.xlsm"
    result = _score(path, out)
    assert list(result.accounts["id"])[:2] == ["C001", "C002"]
    said = [p for p in result.warnings if p.kind == "sheet-not-read"]
    assert len(said) == 1 and said[0].where == "Macro1" and said[0].level == "notice"
    assert "Excel 4 macro sheet" in said[0].message
    before = _parts(path)
    _unchanged(before, out, ["xl/macrosheets/sheet1.xml", "xl/dialogsheets/sheet1.xml",
                             "xl/chartsheets/sheet1.xml", "xl/vbaProject.bin"])
    assert b'name="Macro1"' in _parts(out)["xl/workbook.xml"]
    assert problems(out) == []
    assert len(inspect_file(path).columns) >= 3  # inspect reads it too


def test_a_sheet_entry_without_relationship_is_said_and_the_others_are_read(tmp_path):
    """A sheet entry with r:id="" (met in a real corpus): python-calamine says
    "Relationship not found" for the whole workbook. The sheet is named in a warning,
    left as it is, and the accounts are read."""
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'r:id="rId2"', b'r:id=""')
    path = _rezip(tmp_path / "norid.xlsx", parts)
    out = tmp_path / "out.xlsx"
    result = _score(path, out)
    assert sorted(result.accounts["id"]) == ["C1", "C2", "C3"]
    said = [p for p in result.warnings if p.kind == "sheet-not-read"]
    assert len(said) == 1 and said[0].where == "Notes" and 'r:id ""' in said[0].message
    assert b'name="Notes"' in _parts(out)["xl/workbook.xml"]
    assert problems(out) == problems(path)  # nothing broken that was not broken before
    _unchanged(parts, out, ["xl/worksheets/sheet2.xml"])


def test_the_accounts_sheet_without_relationship_is_named(tmp_path):
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'r:id="rId1"', b'r:id=""')
    path = _rezip(tmp_path / "noacc.xlsx", parts)
    with pytest.raises(UserError, match='sheet Accounts points to no part of the file'):
        _score(path, tmp_path / "out.xlsx")


def test_a_missing_workbook_relationships_part_is_named(tmp_path):
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    del parts["xl/_rels/workbook.xml.rels"]
    path = _rezip(tmp_path / "norels.xlsx", parts)
    with pytest.raises(UserError) as caught:
        _score(path, tmp_path / "out.xlsx")
    message = str(caught.value)
    assert "xl/_rels/workbook.xml.rels" in message and "missing" in message
    assert "(Accounts, Notes)" in message and "\n" not in message


def test_french_runs_say_the_sheet_not_read_in_french(tmp_path):
    from potentiel.i18n import use_language
    src = write_workbook(tmp_path / "fr.xlsx", ("Code client", "Raison sociale", "CA N"),
                         [["C1", "Alpha", 10], ["C2", "Beta", 20]])
    import openpyxl
    wb = openpyxl.load_workbook(src)
    wb.create_sheet("Notes")
    wb.save(src)
    parts = _parts(src)
    rid = parts["xl/workbook.xml"].split(b'name="Notes"')[1].split(b'r:id="')[1].split(b'"')[0]
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'r:id="' + rid + b'"', b'r:id=""')
    path = _rezip(tmp_path / "fr2.xlsx", parts)
    result = _score(path, tmp_path / "out.xlsx")
    said = [p for p in result.warnings if p.kind == "sheet-not-read"]
    from potentiel.headless import _unread_notice
    from potentiel.xlsxpackage import UnreadSheet
    with use_language("fr"):
        expected = _unread_notice(UnreadSheet("Notes", "", "no-part")).message
    english = _unread_notice(UnreadSheet("Notes", "", "no-part")).message
    assert result.language == "fr" and [p.message for p in said] == [expected]
    assert expected != english


# ---------------------------------------------------------------- zip bombs


def _layout_sheet(rows: int) -> bytes:
    """A real sheet as some writers make it: the same styled empty row again and again
    (rows and cells without r), which deflate packs more than 200 times."""
    row = b"<row>" + b'<c s="0"/>' * 17 + b"</row>"
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData>" + row * rows + b"</sheetData></worksheet>")


def test_a_real_57_mb_sheet_packed_at_level_6_is_not_a_zip_bomb(tmp_path):
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts["xl/worksheets/sheet2.xml"] = _layout_sheet(316_000)
    path = _rezip(tmp_path / "big.xlsx", parts, level=6)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet2.xml")
    assert info.file_size > 57_000_000
    assert info.file_size / info.compress_size > 200  # refused as a bomb before
    out = tmp_path / "out.xlsx"
    assert len(_score(path, out).accounts) == 3
    _unchanged(parts, out, ["xl/worksheets/sheet2.xml"])


@pytest.mark.parametrize("name, level", [("xl/media/image1.png", 1),
                                         ("xl/media/image1.png", 6),
                                         ("xl/worksheets/sheet2.xml", 6),
                                         ("customXml/item1.xml", 1)])
def test_real_bombs_are_still_refused(tmp_path, name, level):
    """60 MB of zeros, packed at level 1 (229 times) or 6 (1029 times): in a picture,
    or as an XML part (which never begins with a zero byte)."""
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts[name] = bytes(60 * 1024 ** 2)
    path = _rezip(tmp_path / "bomb.xlsx", parts, level=level)
    with pytest.raises(UserError, match="like a zip bomb"):
        _score(path, tmp_path / "out.xlsx")


def test_many_parts_each_under_the_size_that_is_looked_at_add_up(tmp_path, monkeypatch):
    """Forty parts of 2 MB of zeros (80 MB): each small, together a bomb."""
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    for k in range(40):
        parts[f"xl/media/image{k}.png"] = bytes(2 * 1024 ** 2)
    path = _rezip(tmp_path / "bombs.xlsx", parts, level=6)
    with pytest.raises(UserError, match="like a zip bomb"):
        _score(path, tmp_path / "out.xlsx")
    assert xlsxpackage.BOMB_BYTES < 80 * 1024 ** 2


def test_zlib_measures_behind_the_limits():
    """What the limits rest on (see xlsxpackage): a run of zeros packs 229 times at
    level 1 and more than 1000 times at level 6; repeated sheet XML more than 200."""
    def ratio(data, level):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(data) / len(c.compress(data) + c.flush())
    zeros = bytes(8 * 1024 ** 2)
    assert ratio(zeros, 1) > xlsxpackage.MAX_RATIO
    assert ratio(zeros, 6) > 1000
    assert ratio(_layout_sheet(50_000), 6) > xlsxpackage.XML_RATIO


def _declared(path: Path, name: str, size: int) -> None:
    """The zip directory of ``path`` made to declare ``size`` bytes for part ``name`` (in
    its local header and its central directory entry), whatever it holds."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    fields = bytes(data[local + 4:local + 26])  # version needed … sizes, as the central
    entries = [k for k in range(len(data)) if data.startswith(b"PK\x01\x02", k)
               and data[k + 6:k + 28] == fields]  # directory's entry repeats them
    assert len(entries) == 1
    data[local + 22:local + 26] = size.to_bytes(4, "little")
    data[entries[0] + 24:entries[0] + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [10, 1 << 20])
def test_a_part_larger_than_its_declared_size_is_damaged_not_read_past(tmp_path, size):
    """A zip directory that lies about a part's size (10 bytes declared for 2 MB, or 1 MB):
    reading stops at the declared size, and the part is said damaged, with its name."""
    parts = _parts(_two_sheets(tmp_path / "src.xlsx"))
    parts["xl/worksheets/sheet2.xml"] = _layout_sheet(20_000)
    path = _rezip(tmp_path / "lies.xlsx", parts)
    _declared(path, "xl/worksheets/sheet2.xml", size)
    package = xlsxpackage.Package(path)
    try:
        with pytest.raises(UserError, match="sheet2.xml.*damaged"):
            package.read("xl/worksheets/sheet2.xml")
    finally:
        package.close()
