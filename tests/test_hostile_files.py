"""Hostile and broken files: one clear line, exit 1, and the file left exactly as it was.

The files come from tests/corpus/build.py (built here in tmp_path, never committed). Each
case runs ``potentiel score`` in place: the error is one line naming what is wrong and
what to do, without a traceback; the file is unchanged, and no backup or temporary file
is left next to it.
"""

import os
import shutil
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from potentiel import headless, xlsxpackage
from potentiel.cli import main
from potentiel.problems import UserError


def _load_corpus():
    """tests/corpus/build.py, imported under a name of its own."""
    import importlib.util
    path = Path(__file__).resolve().parent / "corpus" / "build.py"
    spec = importlib.util.spec_from_file_location("potentiel_test_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus()

CASES = {c.name: c for c in corpus.CASES}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole corpus, built once by the script's own entry point."""
    folder = tmp_path_factory.mktemp("corpus")
    assert corpus.main(["build.py", str(folder)]) == 0
    assert {p.name for p in folder.iterdir()} == set(CASES)
    return folder


@pytest.fixture
def hostile(built, tmp_path):
    """``hostile(name)``: a fresh copy of that case's file, alone in its own folder."""
    def copy(name: str) -> Path:
        case = CASES[name]
        src = built / name / case.filename
        dst = tmp_path / name / case.filename
        dst.parent.mkdir(parents=True)
        if src.is_dir():
            dst.mkdir()
        else:
            shutil.copyfile(src, dst)
        return dst
    return copy


def _snapshot(path: Path):
    if path.is_dir():
        return "folder"
    return path.read_bytes()


def _score_bounded(path: Path) -> tuple[int, str, str]:
    """``potentiel score path`` in a process whose memory is bounded (3 GB): a reader
    of values that allocated far too many cells fails this case, not the whole run."""
    import resource
    import subprocess

    def bound():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    done = subprocess.run([sys.executable, "-m", "potentiel", "score", str(path)],
                          capture_output=True, text=True, timeout=300, preexec_fn=bound)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_file_gets_one_clear_line(name, hostile, capsys):
    case = CASES[name]
    path = hostile(name)
    before = _snapshot(path)
    siblings = set(os.listdir(path.parent))
    if name.startswith("far-cell"):  # (cells far away: in a bounded process)
        code, out, err = _score_bounded(path)
        assert code == 1, err[-800:]
    else:
        assert main(["score", str(path)]) == 1
        out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err and out == ""
    assert case.message in lines[0], lines[0]
    if name.startswith("far-cell"):  # said as it is, not folded into "cannot be read (…)"
        assert "cannot be read" not in lines[0], lines[0]
    assert _snapshot(path) == before
    assert set(os.listdir(path.parent)) == siblings, "a backup or temporary file was left"


def test_size_checks_come_before_python_calamine_reads_anything(hostile, monkeypatch):
    """The package is opened and checked (sizes, part count, DTD, sheet extent) before
    python-calamine is asked for a single value."""
    import re

    import python_calamine

    calls = []

    def spy(*a, **k):
        calls.append(a)
        raise AssertionError("python-calamine was reached")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", spy)
    for name in ("zip-bomb", "declared-huge", "too-many-parts", "lying-directory",
                 "entity-bomb-strings", "far-cell", "far-cell-reversed", "utf16-dtd"):
        with pytest.raises(UserError, match=re.escape(CASES[name].message)):
            headless.score_file(hostile(name))
    assert calls == []


def test_total_size_and_part_limits_with_a_real_file(tmp_path, monkeypatch):
    """The limits hold on what the directory says, for any size: here lowered to 1 MB
    and 5 parts so that an ordinary 2 MB part trips them."""
    path = corpus.valid_workbook(tmp_path / "big.xlsx")
    parts = corpus.parts_of(path)
    parts["xl/media/image1.png"] = os.urandom(2 * 1024 ** 2)  # does not compress
    corpus.write_zip(path, parts)
    monkeypatch.setattr(xlsxpackage, "MAX_TOTAL", 1024 ** 2)
    with pytest.raises(UserError, match="would unpack to"):
        headless.score_file(path)
    monkeypatch.setattr(xlsxpackage, "MAX_TOTAL", 2 * 1024 ** 3)
    monkeypatch.setattr(xlsxpackage, "MAX_PARTS", 5)
    with pytest.raises(UserError, match="parts inside"):
        headless.score_file(path)


def test_a_lying_directory_is_bounded_while_unpacking(hostile):
    """The directory says 2 kB, the data inflates to 64 MB: reading stops at the declared
    size (Python's zipfile, then the checksum fails), so memory stays small."""
    path = hostile("lying-directory")
    pkg = xlsxpackage.Package(path)
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match="damaged or truncated"):
            pkg.read(corpus.SHEET)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pkg.close()
    assert peak < 16 * 1024 ** 2, peak  # inflated whole, it would be 64 MB
    # python-calamine's own zip reader bounds it too (it would be the second line of defence)
    from python_calamine import CalamineWorkbook
    with pytest.raises(Exception, match="declared"):
        CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Accounts").to_python()


def test_openpyxl_refuses_entity_bombs_through_defusedxml(hostile):
    """openpyxl (used to build xlwings payloads, and by the tests) reads worksheets with
    defusedxml's parser, and other parts with lxml without resolving entities."""
    import defusedxml
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
    path = hostile("entity-bomb")
    with pytest.raises((defusedxml.DefusedXmlException, ValueError)) as caught:
        openpyxl.load_workbook(path)
    exc = caught.value  # openpyxl wraps the worksheet's parse error in a ValueError
    assert isinstance(exc, defusedxml.DefusedXmlException) or \
        isinstance(exc.__cause__ or exc.__context__, defusedxml.DefusedXmlException)
    path = hostile("xxe")
    try:
        wb = openpyxl.load_workbook(path)
    except Exception:  # refused: fine too
        return
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    assert "root:" not in str(names), "an external entity was resolved"


def test_a_file_that_is_fine_still_scores(tmp_path):
    """The checks refuse nothing ordinary: the corpus's base workbook, with a value in the
    last row Excel has (A1048576), still scores."""
    path = corpus.valid_workbook(tmp_path / "ok.xlsx")
    result, _ = headless.score_file(path, tmp_path / "scored.xlsx")
    assert len(result.accounts) == 3
    parts = corpus.parts_of(path)
    parts[corpus.SHEET] = parts[corpus.SHEET].replace(
        b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>')
    corpus.write_zip(path, parts)
    wb = headless.Workbook(path)
    try:
        ref = headless.locate_accounts(wb).sheet
        rows, cols = wb.sheet(ref).extent()
        assert (rows, cols) == (1048576, 4) and rows * cols < headless.MAX_CELLS
    finally:
        wb.package.close()


def test_zip_with_path_traversal_names_is_never_extracted(tmp_path):
    """Part names such as ../../evil.sh are carried along inside the zip, never written
    to disk as files."""
    path = corpus.valid_workbook(tmp_path / "trav.xlsx")
    parts = corpus.parts_of(path)
    parts["../../evil.sh"] = b"#!/bin/sh\necho owned\n"
    corpus.write_zip(path, parts)
    headless.score_file(path, tmp_path / "out.xlsx")
    assert not (tmp_path.parent / "evil.sh").exists() and not (tmp_path / "evil.sh").exists()
    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        assert z.read("../../evil.sh").startswith(b"#!/bin/sh")


def test_text_from_the_workbook_cannot_drive_the_terminal(tmp_path, capsys):
    """XML allows C1 control characters (U+009B is a terminal's CSI) and line breaks in
    cell text: the command line prints them as "?" and keeps an error on one line."""
    from helpers import write_workbook

    rows = [["C1", "Evil\u009b31mRed\u009b0m", 1200, 5000], ["C2", "Fine", 300, 900]]
    path = write_workbook(tmp_path / "ctl.xlsx", ("id", "name", "revenue", "potential"), rows)
    assert main(["score", str(path), "-o", str(tmp_path / "out.xlsx"), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "Evil?31mRed?0m" in out and "\u009b" not in out
    path = write_workbook(tmp_path / "bad.xlsx", ("id", "revenue"), [["C1", 5]],
                          settings=[("Weight: revenue", "lots\nof\u009bweight")])
    assert main(["score", str(path)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "\u009b" not in err and "lots of?weight" in err
