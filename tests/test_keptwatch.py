"""The check after writing run beside the writer (`potentiel.keptwatch`) answers what
`potentiel.keptcells.kept` answers on the same file, checks that the file's entry is the
bytes it followed, and leaves the check to this process whenever it cannot answer."""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from potentiel import headless, keptcells, keptwatch
from potentiel.xlsxpackage import Package

from helpers import score_headless
from test_keptcells import _edited, _one_more_cell, _outputs, _part, _restyled
from test_keptcells import scored  # noqa: F401 (the fixture: the sample and its scored copy)

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT.parent / "shared" / "cases"


def _start(path: Path, part: str) -> int:
    with zipfile.ZipFile(path) as z:
        return keptwatch._data_start(path, z.getinfo(part))


def _both(src: Path, out: Path, outputs: set[int], start: int | None = None):
    """(the watcher's answer, keptcells.kept's) on the finished file ``out``."""
    pkg = Package(src)
    try:
        ref = next(s for s in pkg.sheets if s.name == "Accounts")
        watch = keptwatch.Watch(src, pkg.infos[ref.part].filename, outputs, idle=5)
        watch.writing(out, _start(out, ref.part) if start is None else start)
        return (keptwatch.kept(watch, pkg, out, ref.part, ref.name, timeout=60),
                keptcells.kept(pkg, out, ref.part, ref.name, outputs))
    finally:
        pkg.close()


EDITS = [
    ("nothing", None, None),
    ("a value", None, lambda x: re.sub(rb'(<c r="C2"[^>]*><v>)', rb"\g<1>1", x, count=1)),
    ("a style", None, _restyled),
    ("a cell without its place", None, lambda x: re.sub(rb'<c r="B2"', b"<c", x, count=1)),
    ("a cell added", None, _one_more_cell),
    ("a cell dropped", None,
     lambda x: re.sub(rb'<c r="B2".*?</c>', b"", x, count=1, flags=re.S)),
    ("the shared strings", "xl/sharedStrings.xml", lambda x: x.replace(b"<t>", b"<t>x", 1)),
    ("a number format", "xl/styles.xml",
     lambda x: re.sub(rb'(<cellXfs[^>]*>\s*<xf[^>]*?numFmtId=")\d+', rb"\g<1>14", x, count=1)),
    ("the sheet's name", "xl/workbook.xml",
     lambda x: x.replace(b'name="Accounts"', b'name="Other"', 1)),
]


@pytest.mark.parametrize("what, part, edit", EDITS, ids=[e[0] for e in EDITS])
def test_the_watcher_answers_what_keptcells_answers(scored, tmp_path, what, part, edit):
    src, out = scored
    outputs = _outputs(src, out)
    target = out if edit is None else _edited(out, part or _part(src), edit, tmp_path)
    watched, here = _both(src, target, outputs)
    assert watched == here == (edit is None), what


def test_bytes_not_where_the_file_says_are_no_proof(scored):
    src, out = scored
    outputs = _outputs(src, out)
    start = _start(out, _part(src))
    # told to read one byte later: another stream (or none), never the entry's bytes
    assert _both(src, out, outputs, start + 1)[0] is not True
    # the entry's own bytes: proven
    assert _both(src, out, outputs, start)[0] is True


def test_a_watcher_that_cannot_start_leaves_the_check_here(scored, monkeypatch):
    src, out = scored
    monkeypatch.setattr(sys, "executable", str(ROOT / "no-such-python"))
    assert _both(src, out, _outputs(src, out)) == (None, True)


def test_a_file_that_stops_growing_is_given_up(scored, tmp_path):
    src, out = scored
    cut = tmp_path / "cut.xlsx"
    start = _start(out, _part(src))
    cut.write_bytes(out.read_bytes()[:start + 200])  # the stream never ends
    pkg = Package(src)
    try:
        ref = next(s for s in pkg.sheets if s.name == "Accounts")
        watch = keptwatch.Watch(src, pkg.infos[ref.part].filename, _outputs(src, out), idle=0.3)
        watch.writing(cut, start)
        assert watch.answer(timeout=30) == {"error": "OSError: the file stopped growing"}
    finally:
        pkg.close()


@pytest.fixture
def watched_runs(monkeypatch):
    """Every run of the test watched (any size of sheet); the verdicts the watcher gave,
    each checked against keptcells.kept on the same file."""
    monkeypatch.setattr(keptwatch, "ABOVE", 0)
    verdicts = []
    real = keptwatch.kept

    def spy(watch, before, written, part, name, **kw):
        got = real(watch, before, written, part, name, **kw)
        outputs = keptwatch_outputs[-1]
        verdicts.append((got, keptcells.kept(before, written, part, name, outputs)))
        return got
    keptwatch_outputs: list = []
    real_start = headless._watch

    def start(wb, area, outputs=None, started=None):
        if outputs is not None:
            keptwatch_outputs.append(outputs)
        return real_start(wb, area, outputs, started)
    monkeypatch.setattr(keptwatch, "kept", spy)
    monkeypatch.setattr(headless, "_watch", start)
    return verdicts


def test_runs_are_checked_beside_the_writing_first_and_second_run(watched_runs, tmp_path,
                                                                   monkeypatch):
    path = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", path)

    def long_way(*a, **kw):
        raise AssertionError("the values were compared the long way")
    monkeypatch.setattr(headless, "_read_back", long_way)
    score_headless(path)
    score_headless(path)  # its own columns in the file read
    assert watched_runs == [(True, True), (True, True)]


def test_a_cell_changed_by_a_fault_is_seen_by_the_watcher(watched_runs, monkeypatch,
                                                           tmp_path):
    path = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", path)
    from potentiel import xlsxsheet
    real = xlsxsheet.Sheet.write_columns

    def write_columns(self, rows, columns, *a, **kw):
        real(self, rows, columns, *a, **kw)
        if self.part.endswith("sheet1.xml"):
            real(self, [3], [(2, ["changed"])])
    monkeypatch.setattr(xlsxsheet.Sheet, "write_columns", write_columns)
    before = path.read_bytes()
    with pytest.raises(headless.UserError) as err:
        score_headless(path)
    assert watched_runs == [(False, False)]
    assert err.value.problems[0].where == "Accounts!B3"
    assert path.read_bytes() == before


def _case_books() -> list[Path]:
    books = sorted(p for p in (CASES / "writing").iterdir() if p.suffix in (".xlsx", ".xlsm"))
    assert books, f"no shared writing case under {CASES}"
    return books


@pytest.mark.parametrize("book", _case_books(), ids=lambda p: p.name)
def test_the_writing_cases_get_the_same_verdict_beside_the_writing(watched_runs, book,
                                                                    tmp_path):
    work = tmp_path / book.name
    shutil.copy(book, work)
    try:
        headless.score_file(work, tmp_path / ("out" + book.suffix))
    except headless.UserError:
        assert not watched_runs  # refused before writing: nothing to check
        return
    # the watcher answered, as keptcells does (False: a sheet its bytes cannot prove,
    # whose values were then compared the long way)
    assert len(watched_runs) == 1
    watched, here = watched_runs[0]
    assert watched is not None and watched == here


def test_a_potentiel_folder_where_the_run_is_made_is_not_what_the_watcher_runs(
        scored, tmp_path, monkeypatch):
    src, out = scored
    fake = tmp_path / "potentiel"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise SystemExit('the wrong potentiel')\n")
    (fake / "keptwatch.py").write_text("raise SystemExit('the wrong potentiel')\n")
    monkeypatch.chdir(tmp_path)
    assert _both(src, out, _outputs(src, out)) == (True, True)


def test_a_write_that_fails_half_way_leaves_no_watcher_and_the_original(watched_runs,
                                                                        monkeypatch, tmp_path):
    """The sheet's stream breaks after its first chunk: the error reaches the caller, the
    watcher (following a file that stops growing) is ended, the original is unchanged."""
    import subprocess

    from potentiel import xlsxpackage
    path = tmp_path / "book.xlsx"
    shutil.copy(ROOT / "workbooks" / "portfolio.xlsx", path)
    before = path.read_bytes()
    started = []
    real_popen = subprocess.Popen

    def popen(*a, **kw):
        started.append(real_popen(*a, **kw))
        return started[-1]
    monkeypatch.setattr(subprocess, "Popen", popen)
    real_behind = xlsxpackage._write_behind

    def breaking(fh, chunks, depth=4):
        def some():
            for k, chunk in enumerate(chunks):
                if k == 1:
                    raise OSError(28, "No space left on device")
                yield chunk
        real_behind(fh, some(), depth)
    monkeypatch.setattr(xlsxpackage, "_write_behind", breaking)
    with pytest.raises(OSError):
        score_headless(path)
    assert path.read_bytes() == before
    assert started and all(p.poll() is not None for p in started)  # ended, waited for
    assert not [p for p in tmp_path.iterdir() if p.name not in ("book.xlsx",)]


def test_the_watcher_started_before_the_scoring_is_the_one_that_watches(monkeypatch):
    """The watcher's process is started once the accounts are read (its start beside the
    scoring), then told what to watch: the same process; a sheet too small for one starts
    none, and one started for a sheet no longer written as a stream is ended."""
    import contextlib
    monkeypatch.setattr(keptwatch, "ABOVE", 0)
    wb = headless.Workbook(ROOT / "workbooks" / "portfolio.xlsx")
    try:
        with contextlib.ExitStack() as language:
            area = headless.read_in_language(wb, wb.path, None, language)[2]
        started = headless._watch(wb, area)
        assert started is not None and started._proc.poll() is None  # running, waiting
        assert headless._watch(wb, area, {30, 31}, started) is started
        started.close()
        monkeypatch.setattr(keptwatch, "ABOVE", 1 << 40)
        assert headless._watch(wb, area) is None
        monkeypatch.setattr(keptwatch, "ABOVE", 0)
        spare = headless._watch(wb, area)
        proc = spare._proc
        monkeypatch.setattr(keptwatch, "ABOVE", 1 << 40)
        assert headless._watch(wb, area, {30, 31}, spare) is None
        assert proc.poll() is not None  # ended, not left waiting
    finally:
        wb.package.close()
