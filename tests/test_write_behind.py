"""The zip writer's second thread (`xlsxpackage._write_behind`): every chunk reaches the
entry in order, and an error on either side is raised in the caller with nothing left
running."""

import io
import threading
import zipfile

import pytest

from potentiel.xlsxpackage import _write_behind


def _entry(chunks):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("part.xml", "w") as fh:
            _write_behind(fh, chunks, depth=2)
    with zipfile.ZipFile(buf) as z:
        return z.read("part.xml")


def test_every_chunk_is_written_in_order():
    chunks = [b"<row r=\"%d\"/>" % i * 500 for i in range(200)]
    assert _entry(iter(chunks)) == b"".join(chunks)


def test_an_error_of_the_maker_is_raised_and_the_writer_stops():
    def chunks():
        yield b"a" * 10_000
        raise RuntimeError("maker broke")
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="maker broke"):
        _entry(chunks())
    assert threading.active_count() == before


class _Broken:
    def __init__(self):
        self.writes = 0

    def write(self, data):
        self.writes += 1
        raise OSError("disk full")


def test_an_error_of_the_writer_is_raised_and_the_maker_stops():
    made = []

    def chunks():
        for i in range(1000):
            made.append(i)
            yield b"x" * 1000
    broken = _Broken()
    with pytest.raises(OSError, match="disk full"):
        _write_behind(broken, chunks(), depth=2)
    assert broken.writes == 1
    assert len(made) < 1000  # the maker was stopped, not run to the end


def test_the_lock_is_handed_over_often_while_streaming_and_as_before_after():
    import sys
    before = sys.getswitchinterval()
    seen = []

    def chunks():
        seen.append(sys.getswitchinterval())
        yield b"x" * 1000
        raise RuntimeError("the maker fails")
    with pytest.raises(RuntimeError):
        _entry(chunks())
    assert seen == [pytest.approx(min(before, 0.0005))] and seen[0] < 0.005
    assert sys.getswitchinterval() == before
    _entry(iter([b"y"]))
    assert sys.getswitchinterval() == before
