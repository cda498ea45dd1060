"""The check after writing proves the user's cells kept from the file's bytes
(`potentiel.keptcells`), and falls back on comparing values whenever it cannot."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from potentiel import headless, keptcells
from potentiel.problems import column_letter
from potentiel.xlsxpackage import Package

from helpers import score_headless

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The sample portfolio (shared strings, number formats) and its scored copy."""
    folder = tmp_path_factory.mktemp("kept")
    src = folder / "in.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", src)
    out = folder / "out.xlsx"
    score_headless(src, out)
    return src, out


def _accounts(pkg: Package):
    return next(s for s in pkg.sheets if s.name == "Accounts")


def _outputs(src: Path, out: Path) -> set[int]:
    """Potentiel's columns: the headers of the written sheet that the input lacks."""
    with zipfile.ZipFile(src) as a:
        width = len(_row(a.read(_part(src)), 1))
    return set(range(width + 1, len(_row(zipfile.ZipFile(out).read(_part(src)), 1)) + 1))


def _part(path: Path) -> str:
    pkg = Package(path)
    try:
        return _accounts(pkg).part
    finally:
        pkg.close()


def _row(xml: bytes, r: int) -> list[bytes]:
    body = re.search(rb'<row r="%d"[^>]*>(.*?)</row>' % r, xml, re.S).group(1)
    return re.findall(rb"<c .*?(?:/>|</c>)", body, re.S)


def _kept(src: Path, out: Path, outputs=None) -> bool:
    pkg = Package(src)
    try:
        ref = _accounts(pkg)
        return keptcells.kept(pkg, out, ref.part, ref.name,
                              _outputs(src, out) if outputs is None else outputs)
    finally:
        pkg.close()


def _edited(out: Path, part: str, edit, tmp: Path) -> Path:
    """A copy of ``out`` whose part ``part`` is ``edit(bytes)``."""
    copy = tmp / f"edited-{len(list(tmp.iterdir()))}.xlsx"
    with zipfile.ZipFile(out) as a, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as b:
        for info in a.infolist():
            data = a.read(info)
            if info.filename == part:
                new = edit(data)
                assert new != data, "the edit must change the part"
                data = new
            b.writestr(info, data)
    return copy


def test_a_scored_workbook_is_proven_kept_from_its_bytes(scored):
    src, out = scored
    assert _kept(src, out)


def test_a_run_does_not_read_the_sheet_back_when_the_bytes_prove_it(monkeypatch, tmp_path):
    path = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", path)

    def long_way(*a, **kw):
        raise AssertionError("the values were compared the long way")
    monkeypatch.setattr(headless, "_read_back", long_way)
    score_headless(path)  # first run: Potentiel's columns added
    score_headless(path)  # second run: its columns in the file read are left out too


def test_a_cell_changed_by_a_fault_is_found_the_long_way(monkeypatch, tmp_path):
    path = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", path)
    from potentiel import xlsxsheet
    real = xlsxsheet.Sheet.write_columns
    proofs = []
    real_kept = keptcells.kept

    def write_columns(self, rows, columns, *a, **kw):
        real(self, rows, columns, *a, **kw)
        if self.part.endswith("sheet1.xml"):
            real(self, [3], [(2, ["changed"])])

    def spy(*a, **kw):
        proofs.append(real_kept(*a, **kw))
        return proofs[-1]
    monkeypatch.setattr(xlsxsheet.Sheet, "write_columns", write_columns)
    monkeypatch.setattr(keptcells, "kept", spy)
    with pytest.raises(headless.UserError) as err:
        score_headless(path)
    assert proofs == [False]
    assert err.value.problems[0].where == "Accounts!B3"


def _restyled(xml: bytes) -> bytes:
    """Cell A2 with another style (its value the same: a comparison of values misses it)."""
    cell = re.search(rb'<c r="A2"( s="(\d+)")?', xml)
    other = b"1" if cell.group(2) in (None, b"0") else b"0"
    return xml[:cell.start()] + b'<c r="A2" s="' + other + b'"' + xml[cell.end():]


def _one_more_cell(xml: bytes) -> bytes:
    end = xml.index(b"</row>", xml.index(b'<row r="2"'))
    return xml[:end] + b'<c r="ZZ2"><v>1</v></c>' + xml[end:]


@pytest.mark.parametrize("what, edit", [
    ("a value", lambda x: re.sub(rb'(<c r="C2"[^>]*><v>)', rb"\g<1>1", x, count=1)),
    ("a style", _restyled),
    ("a cell without its place", lambda x: re.sub(rb'<c r="B2"', b"<c", x, count=1)),
    ("a cell added", _one_more_cell),
    ("a cell dropped", lambda x: re.sub(rb'<c r="B2".*?</c>', b"", x, count=1, flags=re.S)),
])
def test_any_difference_in_the_users_cells_is_no_proof(scored, tmp_path, what, edit):
    src, out = scored
    bad = _edited(out, _part(src), edit, tmp_path)
    assert not _kept(src, bad, _outputs(src, out)), what


def test_what_gives_the_bytes_their_values_must_be_the_same(scored, tmp_path):
    src, out = scored
    outputs = _outputs(src, out)
    # the shared strings
    bad = _edited(out, "xl/sharedStrings.xml", lambda x: x.replace(b"<t>", b"<t>x", 1), tmp_path)
    assert not _kept(src, bad, outputs)
    # the number format of a cell style the user's cells may have
    bad = _edited(out, "xl/styles.xml",
                  lambda x: re.sub(rb'(<cellXfs[^>]*>\s*<xf[^>]*?numFmtId=")\d+', rb"\g<1>14", x,
                                   count=1), tmp_path)
    assert not _kept(src, bad, outputs)
    # the date system
    bad = _edited(out, "xl/workbook.xml",
                  lambda x: re.sub(rb"<workbookPr\b", b'<workbookPr date1904="1"', x, count=1)
                  if b"<workbookPr" in x else x.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>'),
                  tmp_path)
    assert not _kept(src, bad, outputs)
    # the sheet's name pointing to another part
    bad = _edited(out, "xl/workbook.xml",
                  lambda x: x.replace(b'name="Accounts"', b'name="Other"', 1), tmp_path)
    assert not _kept(src, bad, outputs)


def test_an_output_cell_in_a_form_not_known_is_no_proof(scored, tmp_path):
    src, out = scored
    outputs = _outputs(src, out)
    first = column_letter(min(outputs)).encode()
    bad = _edited(out, _part(src), lambda x: re.sub(
        rb'<c r="' + first + rb'2"[^>]*>.*?</c>', b'<c r="' + first + b'2"><f>1+1</f><v>2</v></c>',
        x, count=1, flags=re.S), tmp_path)
    assert not _kept(src, bad, outputs)


def test_pieces_cut_anywhere_compare_the_same(scored, tmp_path, monkeypatch):
    src, out = scored
    monkeypatch.setattr(keptcells, "CHUNK", 97)  # rows, tags and cells cut between chunks
    assert _kept(src, out)
    bad = _edited(out, _part(src), lambda x: re.sub(rb'(<c r="C2"[^>]*><v>)', rb"\g<1>1", x,
                                                     count=1), tmp_path)
    assert not _kept(src, bad, _outputs(src, out))


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(1, 16384), min_size=1, max_size=40),
       st.lists(st.integers(1, 16384), min_size=1, max_size=200))
def test_the_column_pattern_matches_exactly_its_columns(columns, probes):
    pattern = re.compile(keptcells.column_pattern(columns) + rb"\d")
    for c in [*probes, *columns]:
        assert bool(pattern.fullmatch(column_letter(c).encode() + b"1")) == (c in columns)


def test_potentiels_own_cells_and_the_row_tags_are_left_out(scored, tmp_path):
    """The control of the tests above: a copy made the same way, changed only in
    Potentiel's columns and in a row's tag, is still proven kept."""
    src, out = scored
    outputs = _outputs(src, out)
    first = column_letter(min(outputs)).encode()

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb'(<c r="' + first + rb'2"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>12345</v>", xml,
                     count=1)
        return xml.replace(b'<row r="3">', b'<row r="3" ht="30" customHeight="1">', 1)
    assert _kept(src, _edited(out, _part(src), edit, tmp_path), outputs)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60), st.binary(max_size=60), st.booleans(),
       st.lists(st.integers(0, 60), max_size=8), st.lists(st.integers(0, 60), max_size=8))
def test_two_streams_are_the_same_bytes_however_cut(x, y, equal, cuts_x, cuts_y):
    if equal:
        y = x

    def pieces(data, cuts):
        at = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
        return iter([data[a:b] for a, b in zip(at, at[1:])] + [b""])
    assert keptcells._same(pieces(x, cuts_x), pieces(y, cuts_y)) == (x == y)


# the patterns as first written, every repetition greedy: the reference for the possessive
# ones `keptcells._stripper` compiles
_GREEDY_CELL = (rb'[0-9]+"(?: [st]="[^"<>]*")*'
                rb'(?:/>|><v>[^<]*</v></c>|><is><t(?: xml:space="preserve")?>[^<]*</t></is></c>)')


def _greedy_stripper(outputs):
    if not outputs:
        return re.compile(rb"<row\b[^>]*>|</row>")
    cell = b'c r="' + keptcells.column_pattern(outputs) + _GREEDY_CELL
    return re.compile(rb"<(?:row\b[^>]*>|/row>|" + cell + b"(?:<" + cell + b")*)")


# pieces of a sheet's rows, whole and cut short, put together in any order: row tags,
# Potentiel's cells in each form, other cells, attributes, and stray characters
_PIECES = [b'<row r="7">', b'<row r="7" spans="1:30" x14ac:dyDescent="0.25">', b"</row>",
           b"<row", b"<rows>", b'<c r="V7"><v>1.5</v></c>', b'<c r="V7" s="3"><v>2</v></c>',
           b'<c r="W7" s="2" t="inlineStr"><is><t>C</t></is></c>', b'<c r="W7"/>',
           b'<c r="V7" t="s" s="1"><v>4</v></c>',
           b'<c r="W7" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>',
           b'<c r="A7"><v>3</v></c>', b'<c r="A7"><f>V7*2</f><v>6</v></c>', b'<c r="V7">',
           b'<c r="V', b'<c r="V7" s="3"', b"<v>", b"</v>", b"</c>", b"<is><t>", b"</t></is>",
           b'"', b">", b"<", b"/>", b" s=\"", b"7", b"V", b" ", b"x", b'<c r="V7" s="3"><v>1',
           b'<c r="V7" s=">"/>', b'<c r="v7"/>', b'<c r="AB7"><v>1</v></c>']


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.sets(st.integers(1, 30), max_size=4))
def test_the_possessive_patterns_take_out_what_the_greedy_ones_take_out(pieces, outputs):
    """Each repetition of the check's patterns made possessive (no going back) takes out
    exactly the bytes the greedy ones take out, whatever the bytes: whole cells and rows,
    cut short, in any order, Potentiel's columns or not."""
    data = b"".join(pieces)
    outputs = sorted(outputs | {22, 23})  # V and W among them
    assert keptcells._stripper(outputs).sub(b"", data) == \
        _greedy_stripper(outputs).sub(b"", data)
    assert keptcells._stripper([]).sub(b"", data) == _greedy_stripper([]).sub(b"", data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES + [b"</sheetData>", b"</sheet", b"Data>"]), max_size=30),
       st.lists(st.integers(0, 400), max_size=12), st.booleans())
def test_the_cells_are_the_same_however_the_bytes_come_cut(pieces, cuts, empty):
    """`keptcells._cells` gives the same bytes (or says no proof) whether the part comes
    whole or cut anywhere, the end of its rows ("</sheetData>", looked for only in the
    bytes not looked at yet) cut between two pieces too."""
    data = b"<worksheet><sheetData>" + b"".join(pieces) + b"</sheetData></worksheet>"
    if empty:
        data = b"<worksheet><sheetData/>" + b"".join(pieces)
    strip = keptcells._stripper([22, 23])

    def run(chunks):
        try:
            return b"".join(keptcells._cells(iter(chunks), strip, check_r=True))
        except keptcells._NoProof:
            return "no proof"
    marks = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)])]
    assert run(chunks) == run([data])
