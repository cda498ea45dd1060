"""python-calamine reads the accounts sheet in a second thread while Potentiel looks
through the sheet's bytes (`Workbook._read_early`): only when two quick searches prove
what it allocates, and with the same values as the read that waits for the look."""

import functools
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from potentiel import headless, xlsxstream
from potentiel.headless import MAX_CELLS, Workbook
from potentiel.problems import UserError
from potentiel.xlsxsheet import Sheet

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"
BOOKS = sorted(p for p in CASES.rglob("*.xls[xm]"))
READ_EARLY = Workbook._read_early


def _values(path: Path, early: bool, monkeypatch) -> tuple[list, bool]:
    started = []

    def spy(self, ref):
        if not early:
            return None
        future = READ_EARLY(self, ref)
        started.append(future is not None)
        return future
    monkeypatch.setattr(Workbook, "_read_early", spy)
    wb = Workbook(path)
    try:
        ref = wb.ref(headless.ACCOUNTS_NAMES) or wb.package.sheets[0]
        try:
            return wb.values(ref), any(started)
        except UserError as exc:
            return [str(exc)], any(started)
    finally:
        wb.package.close()


def test_the_cases_are_there():
    assert len(BOOKS) > 30


@pytest.mark.parametrize("path", BOOKS, ids=lambda p: p.name)
def test_read_early_gives_the_values_of_the_read_that_waits(path, monkeypatch):
    waited, _ = _values(path, False, monkeypatch)
    early, started = _values(path, True, monkeypatch)
    assert early == waited
    assert not [t for t in threading.enumerate() if t.name == "potentiel-read"]
    if path.name.startswith(("stray-value-AW1000000", "formatted-rows-to-1048576",
                             "stray-value-A100000", "rows-and-cells-without-r",
                             "rows-without-r")):
        assert not started  # far apart, too many cells, or rows not plain: it waits
    elif path.parent.name == "reading":
        assert started  # the usual workbook: read while looked through


def _sheet_xml(rows: str) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
            b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + rows.encode() + b"</sheetData></worksheet>")


def _sheet(rows: str) -> Sheet:
    sheet = Sheet.__new__(Sheet)  # only its rows as split are looked at
    sheet._split = xlsxstream.split(_sheet_xml(rows))
    return sheet


def _rows(n: int, last: str = "C") -> str:
    return "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="{last}{r}"><v>1</v></c></row>'
                   for r in range(1, n + 1))


def test_read_at_once_when_the_cells_are_proved_few():
    assert _sheet(_rows(50)).read_at_once(MAX_CELLS)
    assert _sheet(_rows(50)).read_at_once(50 * 3)


def test_not_at_once_when_a_cell_could_make_too_many():
    assert not _sheet(_rows(50)).read_at_once(50 * 3 - 1)  # C × 50 rows > the limit
    assert not _sheet(_rows(50, "d")).read_at_once(50 * 3)  # letters in either case
    far = _rows(10) + '<row r="11"><c r="XFD11" s="1"/></row>'  # even a blank counts
    assert not _sheet(far).read_at_once(11 * 100)
    # ZZZ: past XFD, where Excel stops, but python-calamine still places a value there
    zzz = _rows(19) + '<row r="20"><c r="ZZZ20"><v>1</v></c></row>'
    assert _allocated(_sheet_xml(zzz)) == 20 * 18278
    assert not _sheet(zzz).read_at_once(20 * 17000) and not _look(zzz, 20 * 17000)
    assert _sheet(zzz).read_at_once(20 * 18278) and _look(zzz, 20 * 18278)


def test_not_at_once_when_rows_are_far_apart_or_not_plain():
    assert not _sheet(_rows(10) + '<row r="5000"><c r="A5000"><v>1</v></c></row>'
                      ).read_at_once(MAX_CELLS)
    assert not _sheet('<row r="1"><c r=\'A1\'><v>1</v></c></row>').read_at_once(MAX_CELLS)
    assert not _sheet("").read_at_once(MAX_CELLS)


def test_an_error_value_calamine_refuses_is_read_again_the_long_way(tmp_path, monkeypatch):
    import openpyxl
    path = tmp_path / "spill.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["id", "revenue"])
    ws.append(["A1", "#SPILL!"])
    ws["B2"].data_type = "e"  # an error value python-calamine does not know
    wb.save(path)
    early, started = _values(path, True, monkeypatch)
    assert started
    assert early == _values(path, False, monkeypatch)[0]
    assert early[1][1] == headless.ErrorCell("#SPILL!")
    assert not [t for t in threading.enumerate() if t.name == "potentiel-read"]


def test_a_failed_early_read_is_said_and_leaves_no_thread(tmp_path, monkeypatch):
    path = BOOKS[0]
    release = threading.Event()

    def fails(path):
        release.wait(5)  # still reading while the look through the bytes ends
        raise RuntimeError("broken zip entry")
    monkeypatch.setattr(headless, "_open_book", fails)
    wb = Workbook(path)
    ref = wb.ref(headless.ACCOUNTS_NAMES)
    threading.Timer(0.2, release.set).start()
    with pytest.raises(UserError, match="broken zip entry"):
        wb.values(ref)
    assert not [t for t in threading.enumerate() if t.name == "potentiel-read"]
    wb.package.close()


@pytest.mark.parametrize("limit", [0, 1, 25, 26, 27, 52, 500, 701, 702, 703, 16383, 16384])
def test_a_cell_beyond_a_column_is_found_in_either_case(limit):
    from potentiel.problems import column_letter
    for col in [1, 2, 26, 27, 52, 53, 500, 501, 702, 703, 704, 1000, 16384]:
        letters = column_letter(col)
        for spelt in (letters, letters.lower(), letters[0].lower() + letters[1:]):
            split = xlsxstream.split(_sheet_xml(f'<row r="1"><c r="{spelt}1"><v>1</v></c></row>'))
            assert (xlsxstream.cell_beyond(split, limit) is not None) == (col > limit), spelt


# ------------------------------------------------------------------ the quick look

def _look(rows: str, limit: int) -> bool:
    seen = xlsxstream.look(_sheet_xml(rows), limit)
    return seen is not None and seen.read_at_once


def test_the_quick_look_says_what_the_split_rows_say():
    """`xlsxstream.look` (made before the rows are split, so that the reading starts
    sooner) starts the reading where the split rows would have, and not where they would
    not: the same sheets as above."""
    for rows, limit in [(_rows(50), MAX_CELLS), (_rows(50), 150), (_rows(50), 149),
                        (_rows(50, "d"), 150),
                        (_rows(10) + '<row r="11"><c r="XFD11" s="1"/></row>', 1100),
                        (_rows(10) + '<row r="5000"><c r="A5000"><v>1</v></c></row>', MAX_CELLS),
                        ('<row r="1"><c r=\'A1\'><v>1</v></c></row>', MAX_CELLS),
                        ("", MAX_CELLS), (_rows(1), 3), (_rows(1), 2),
                        # a row not plain among plain ones: no place, one after another
                        # attribute, not a number
                        (_rows(2) + '<row><c r="A3"><v>1</v></c></row>' + _rows(4)[-46:],
                         MAX_CELLS),
                        (_rows(2) + '<row spans="1:3" r="3"><c r="A3"/></row>', MAX_CELLS),
                        (_rows(2) + '<row r="3x"><c r="A3"/></row>' + _rows(4)[-46:], MAX_CELLS),
                        # a cell naming a row below the last one
                        (_rows(2) + '<row r="3"><c r="A9"><v>1</v></c></row>', MAX_CELLS),
                        (_rows(3) + "<row", MAX_CELLS)]:  # a row tag cut short at the end
        assert _look(rows, limit) == _sheet(rows).read_at_once(limit), (rows[-80:], limit)
    assert _look(_rows(3), MAX_CELLS) and not _look(_rows(3) + "<row", MAX_CELLS)


_ROW_FORMS = [' r="{r}"', ' r="{r}" spans="1:3"', ' spans="1:3" r="{r}"', "", ' r=\'{r}\'',
              ' r="{r}x"', ' r=""', ' R="{r}"']
_CELL_FORMS = ['<c r="{col}{r}"><v>1</v></c>', '<c r="{col}{r}" s="1"/>', "<c><v>1</v></c>",
               '<c s="1" r="{col}{r}"/>', '<c r="{col}{far}"><v>1</v></c>']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, len(_ROW_FORMS) - 1),
                          st.lists(st.tuples(st.sampled_from(["A", "c", "Z", "AB", "xfd"]),
                                             st.integers(0, len(_CELL_FORMS) - 1)),
                                   max_size=3)),
                min_size=1, max_size=12),
       st.integers(1, 3000))
def test_the_quick_look_starts_the_reading_only_when_the_cells_are_proved_few(rows, limit):
    """Whatever the rows' forms (attributes in any order, rows or cells without their
    place, rows out of order, a cell naming a row far below, columns in either case):
    when the look says the reading may start at once, every row and cell says where it is,
    and the rectangle up to the farthest cell holds at most ``limit`` cells, rows not far
    apart."""
    from potentiel.xlsxstream import col_number
    xml, places, tags = [], [], []
    for r, form, cells in rows:
        tag = _ROW_FORMS[form].format(r=r)
        tags.append(tag)
        body = "".join(_CELL_FORMS[k].format(col=col, r=r, far=r + 1000) for col, k in cells)
        xml.append(f"<row{tag}>{body}</row>")
        places += [(r + 1000 if k == 4 else r, col_number(col)) for col, k in cells
                   if k != 2]
        if any(k == 2 for _col, k in cells):
            places.append(None)  # a cell that does not say where it is
    raw = _sheet_xml("".join(xml))
    # the split that takes the look's search is the split that makes its own
    assert xlsxstream.split(raw, limit, xlsxstream.look(raw, limit)) == \
        xlsxstream.split(raw, limit)
    if not _look("".join(xml), limit):
        return
    assert None not in places and all(t.startswith(' r="') and t[4:].split('"')[0].isdigit()
                                      for t in tags)
    if places:
        assert max(r for r, _c in places) * max(c for _r, c in places) <= limit
    last = int(tags[-1][4:].split('"')[0])
    assert last <= 2 * len(rows) + 1000
    assert max(r for r, _c in places) <= last if places else True


# ------------------------------------------------------------------ a sparse sheet

SPARSE = [p for p in BOOKS if p.name.startswith(("stray-value-A100000",
                                                 "formatted-rows-to-1048576"))]


def test_there_are_sparse_cases():
    assert SPARSE


@pytest.mark.parametrize("path", SPARSE, ids=lambda p: p.name)
def test_a_sparse_sheet_read_beside_the_look_gives_the_values_read_after_it(path,
                                                                             monkeypatch):
    """A sheet whose values stand far apart is read from its compacted copy in a second
    thread while its error and formula cells are found (`Workbook._read_compacted`): the
    same values as the copy read after them, no thread and no copy left."""
    import tempfile
    before = set(Path(tempfile.gettempdir()).glob("potentiel-*"))
    started = []
    real = Workbook._read_compacted

    def spy(self, ref, rows=None):
        started.append(ref.name)
        return real(self, ref, rows)
    monkeypatch.setattr(Workbook, "_read_compacted", spy)
    beside, _ = _values(path, True, monkeypatch)
    assert started

    def after(self, ref, rows=None):  # the copy read after the look, as before
        from concurrent.futures import Future
        folder, done = Path(tempfile.mkdtemp(prefix="potentiel-")), Future()
        done.set_result(self._compact_copy(ref, folder))
        return done, folder
    monkeypatch.setattr(Workbook, "_read_compacted", after)
    assert _values(path, True, monkeypatch)[0] == beside
    assert not [t for t in threading.enumerate() if t.name == "potentiel-read"]
    assert set(Path(tempfile.gettempdir()).glob("potentiel-*")) == before


def test_a_failed_read_of_the_compacted_copy_is_said_and_leaves_nothing(monkeypatch, tmp_path):
    import tempfile
    before = set(Path(tempfile.gettempdir()).glob("potentiel-*"))

    def broken(self, ref, folder, rows=None):
        copy = folder / "values.xlsx"
        copy.write_bytes(b"not a workbook")
        return copy
    monkeypatch.setattr(Workbook, "_compact_file", broken)
    wb = Workbook(SPARSE[0])
    try:
        with pytest.raises(UserError, match="cannot be read"):
            wb.values(wb.ref(headless.ACCOUNTS_NAMES) or wb.package.sheets[0])
    finally:
        wb.package.close()
    assert not [t for t in threading.enumerate() if t.name == "potentiel-read"]
    assert set(Path(tempfile.gettempdir()).glob("potentiel-*")) == before


def _far_rows(n: int, far_cell: str) -> str:
    """n rows holding a value, then one far below holding ``far_cell`` after its A cell."""
    return _rows(n, "B") + (f'<row r="1000000"><c r="A1000000"><v>1</v></c>{far_cell}'
                            "</row>")


def test_rows_known_before_the_layout_only_when_no_cell_could_make_too_many():
    """The compacted copy read before the layout looked (`rows_if_all_held`) is never
    started for a cell that could make it hold more than the limit: a column past the
    last Excel has (ZZZ, four letters or more) on a few rows, four letters on many, a cell
    of a namespace far right; the rows as Excel writes them are."""
    held = lambda rows: xlsxstream.rows_if_all_held(xlsxstream.split(_sheet_xml(rows)),  # noqa
                                                    MAX_CELLS)
    assert held(_far_rows(3100, '<c r="B1000000"><v>2</v></c>')) is not None
    assert held(_far_rows(2999, '<c r="ZZZ1000000"><v>2</v></c>')) is None  # few rows
    assert held(_far_rows(3100, '<c r="ZZZZ1000000"><v>2</v></c>')) is None
    assert held(_far_rows(3100, '<c r="zzzz1000000"><v>2</v></c>')) is None
    assert held(_far_rows(3100, '<c r="XFD1000000"><v>2</v></c>')) is None
    assert held(_far_rows(3100, '<x:c xmlns:x="http://schemas.openxmlformats.org/'
                                'spreadsheetml/2006/main" r="XFD1000000"><x:v>2</x:v></x:c>')) is None


def test_a_cell_four_letters_far_right_on_few_rows_is_refused_not_read(tmp_path):
    """A sheet of 2,999 rows and one far below holding a cell at ZZZZ (54 million cells):
    refused, with what to delete, never read; in a process whose memory is bounded, so
    that a read of it fails this test instead of the whole run."""
    import subprocess
    import sys
    import zipfile
    import openpyxl
    path = tmp_path / "far.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Accounts"
    book.active["A1"] = 1
    book.save(path)
    rows = _far_rows(2999, '<c r="ZZZZ1000000"><v>2</v></c>').encode()
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    import re
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb"<sheetData>.*</sheetData>|<sheetData/>", lambda m: b"<sheetData>" + rows +
        b"</sheetData>", parts["xl/worksheets/sheet1.xml"], flags=re.S)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
            "from potentiel.headless import Workbook\n"
            "from potentiel.problems import UserError\n"
            "wb = Workbook(__import__('pathlib').Path(sys.argv[1]))\n"
            "try:\n"
            "    wb.values(wb.package.sheets[0])\n"
            "    print('read')\n"
            "except UserError as exc:\n"
            "    print('refused', exc)\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith("refused") and "Ctrl+End" in done.stdout


# ------------------------------------------------- what python-calamine itself allocates

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# cell forms, plain and not: a reference with a leading zero, a cell or a value of a
# namespace prefix, a reference twice (the second after a value holding ">"), a cell
# naming a row below its own, a formatted blank
_ODD_FORMS = ['<c r="{col}{r}"><v>1</v></c>', '<c r="{col}0{r}"><v>1</v></c>',
              f'<x:c xmlns:x="{_MAIN}" r="{{col}}{{r}}"><x:v>1</x:v></x:c>',
              '<c r="A{r}" r="{col}{far}"><v>1</v></c>',
              '<c r="A{r}" s="0" n="a>b" r="{col}{far}"><v>1</v></c>',
              '<c r="{col}{far}"><v>1</v></c>',
              f'<c r="{{col}}{{r}}"><x:v xmlns:x="{_MAIN}">1</x:v></c>',
              '<c r="{col}{r}" s="1"/>', '<c r="A{r}" s="0"r="{col}{far}"><v>1</v></c>',
              '<c><v>1</v></c>', '<x!:c r="{col}{far}"><v>1</v></x!:c>',
              '<c r="{col}{r}"><x:v xmlns:x="urn:y">1</x:v ></c>']


@functools.lru_cache(maxsize=1)
def _package_parts() -> dict[str, bytes]:
    import io
    import zipfile
    import openpyxl
    book, out = openpyxl.Workbook(), io.BytesIO()
    book.active["A1"] = 1
    book.save(out)
    with zipfile.ZipFile(out) as z:
        return {n: z.read(n) for n in z.namelist()}


def _allocated(sheet_xml: bytes) -> int | None:
    """The cells python-calamine allocates reading a sheet of these bytes (rows × columns
    from A1 up to its farthest value), None when it refuses the sheet."""
    import io
    import zipfile
    from python_calamine import CalamineWorkbook
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for name, part in _package_parts().items():
            z.writestr(name, sheet_xml if name == "xl/worksheets/sheet1.xml" else part)
    data.seek(0)
    try:
        found = CalamineWorkbook.from_filelike(data).get_sheet_by_index(0)
    except Exception:  # noqa: BLE001 (a reference it cannot read: it allocates nothing)
        return None
    if not found.height:
        return 0
    (r0, c0) = found.start
    return (r0 + found.height) * (c0 + found.width)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30),
                          st.lists(st.tuples(st.sampled_from(["A", "c", "AB", "xfd", "ZZZ",
                                                              "aaaa"]),
                                             st.integers(0, len(_ODD_FORMS) - 1)),
                                   max_size=3)),
                min_size=1, max_size=8),
       st.integers(0, 60), st.integers(1, 400_000))
def test_what_is_proved_holds_for_what_python_calamine_allocates(rows, empty_below, limit):
    """Against python-calamine itself, whatever the cells' forms (each one found by
    review to slip past the proof once): when the quick look or the split rows say the
    reading may start at once, it allocates at most ``limit`` cells; and the layout that
    `Workbook._before_reading` checks never says fewer cells than it allocates."""
    xml, r = [], 0
    for gap, cells in rows:
        r += gap
        xml.append(f'<row r="{r}">' + "".join(
            _ODD_FORMS[k].format(col=col, r=r, far=r + 10) for col, k in cells) + "</row>")
    xml += [f'<row r="{r + k}" s="1" customFormat="1"/>' for k in range(1, empty_below + 1)]
    raw = _sheet_xml("".join(xml))
    allocated = _allocated(raw)
    if allocated is None or allocated > 50_000_000:
        assert not xlsxstream.look(raw, limit) or not xlsxstream.look(raw, limit).read_at_once
        return
    seen = xlsxstream.look(raw, limit)
    if seen is not None and seen.read_at_once:
        assert allocated <= limit, "the look"
    split = xlsxstream.split(raw, limit)
    if split is None or not split.plain:  # python-calamine reads a plain copy of them
        from lxml import etree
        from potentiel.xlsxsheet import plain_copy
        try:
            copy = plain_copy(etree.fromstring(raw), "Accounts")
        except (etree.XMLSyntaxError, UserError):
            return  # (said damaged, or a reference that names no cell)
        again = xlsxstream.split(copy.xml, limit)
        assert again is not None and (again.plain or copy.last_col > 18278), "plain copy"
        read = _allocated(copy.xml)
        assert read is not None and read <= copy.cells, "the copy's cells"
        return
    sheet = Sheet.__new__(Sheet)
    sheet._split = split
    if sheet.read_at_once(limit):
        assert allocated <= limit, "the split rows"
    layout = xlsxstream.layout(split.body, split.prefix, split.plain)
    if layout.value_rows is None:
        assert layout.cells >= allocated, "the layout"


@pytest.mark.parametrize("count", [0, 1, 2, 3, 9, 10, 11, 100])
def test_the_quick_look_says_whether_a_cell_names_a_format_past_those_defined(count):
    """The quick look's one search also says whether a cell or row names a cell format
    at or past ``count`` (what `xlsxstream.style_named_at_least` finds), whatever else it
    finds: so that the sheet is not searched again for it when Potentiel adds formats."""
    for rows in [_rows(20), _rows(20).replace('<c r="A5"', '<c r="A5" s="10"'),
                 _rows(20).replace('<row r="7"', '<row r="7" s="2" customFormat="1"'),
                 _rows(20).replace('<c r="C9"', "<c r='C9' s='99'") + '<row r="9000"/>',
                 _rows(20).replace('<c r="A5"', '<c r="A5" s="10"') +
                 '<row r="21"><c r="XFD21"><v>1</v></c></row>']:
        raw = _sheet_xml(rows)
        seen = xlsxstream.look(raw, 50, count)
        f0, f1 = xlsxstream._rows_of(raw)[:2]
        assert seen.styles_past == (xlsxstream.style_named_at_least(raw[f0:f1], count) >= 0)
