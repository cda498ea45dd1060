"""ISA-L's deflate (`potentiel.deflate`, when python-isal is installed) writes streams zlib
inflates byte for byte, reads zlib's, and replaces zipfile's own only in an entry no byte
went through yet; without python-isal, zlib is used."""

import io
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from potentiel import deflate

data_st = st.one_of(st.binary(max_size=5000),
                    st.lists(st.sampled_from([b'<c r="A1"><v>1</v></c>', b"<row>", b"\xc3\xa9",
                                              b"x" * 300]), max_size=400).map(b"".join))


def test_isal_is_there_where_setup_cfg_asks_for_it():
    import platform
    if platform.machine() in ("x86_64", "AMD64", "aarch64", "arm64"):
        assert deflate._isal is not None


@settings(max_examples=100, deadline=None)
@given(data_st, st.integers(0, 3))
def test_its_streams_are_zlibs(data, level):
    c = deflate.compressor(min(level, 3))
    packed = c.compress(data) + c.flush()
    assert zlib.decompressobj(deflate.WBITS).decompress(packed) == data
    z = zlib.compressobj(1, zlib.DEFLATED, deflate.WBITS)
    theirs = z.compress(data) + z.flush()
    d = deflate.decompressor()
    assert d.decompress(theirs) == data and d.eof


def _zip(parts: dict, faster: bool) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED  # (a ZipInfo's own is "stored")
            with z.open(info, "w") as fh:
                if faster:
                    assert deflate.faster_writing(fh) == (deflate._isal is not None)
                for k in range(0, len(data), 7000):
                    fh.write(data[k:k + 7000])
    return buf.getvalue()


@settings(max_examples=40, deadline=None)
@given(data_st, data_st)
def test_a_zip_written_faster_reads_back_with_zipfile_alone(a, b):
    parts = {"xl/a.xml": a * 20, "xl/b.xml": b}
    packed = _zip(parts, faster=True)
    with zipfile.ZipFile(io.BytesIO(packed)) as z:
        assert z.testzip() is None  # every CRC checked, inflated by zlib
        assert {n: z.read(n) for n in parts} == parts
        for name, data in parts.items():
            with z.open(name) as fh:
                assert deflate.faster_reading(fh) == (deflate._isal is not None and
                                                     z.getinfo(name).compress_type == 8)
                assert fh.read() == data


def test_an_entry_already_read_from_keeps_zlib():
    packed = _zip({"a.xml": b"<x/>" * 10_000}, faster=False)
    with zipfile.ZipFile(io.BytesIO(packed)) as z, z.open("a.xml") as fh:
        fh.read(10)
        assert not deflate.faster_reading(fh)
        assert fh.read() == (b"<x/>" * 10_000)[10:]


def test_without_isal_zlib_does_it_all(monkeypatch):
    monkeypatch.setattr(deflate, "_isal", None)
    parts = {"a.xml": b"<row/>" * 5000}
    packed = _zip(parts, faster=True)
    with zipfile.ZipFile(io.BytesIO(packed)) as z, z.open("a.xml") as fh:
        assert not deflate.faster_reading(fh)
        assert fh.read() == parts["a.xml"]
    assert isinstance(deflate.compressor(), type(zlib.compressobj()))


def test_a_workbook_written_with_isal_is_read_by_openpyxl_and_calamine(tmp_path):
    import shutil
    from pathlib import Path

    import openpyxl
    from python_calamine import CalamineWorkbook

    from helpers import score_headless
    src = tmp_path / "in.xlsx"
    shutil.copy(Path(__file__).resolve().parents[1] / "workbooks" / "portfolio.xlsx", src)
    out = tmp_path / "out.xlsx"
    score_headless(src, out)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Accounts").to_python()
    sheet = openpyxl.load_workbook(out, read_only=True)["Accounts"]
    assert [list(r) for r in sheet.iter_rows(max_row=3, values_only=True)][0][:3] == rows[0][:3]
    assert len(rows) > 100


@pytest.mark.parametrize("damage", [b"garbage" * 20, b"\xff" * 64])
def test_a_damaged_stream_raises_zlibs_error_whichever_inflates_it(damage, monkeypatch):
    with pytest.raises(zlib.error):
        deflate.decompressor().decompress(damage)
    monkeypatch.setattr(deflate, "_isal", None)
    with pytest.raises(zlib.error):
        deflate.decompressor().decompress(damage)


def test_a_damaged_part_read_faster_raises_zlibs_error():
    packed = bytearray(_zip({"a.xml": bytes(range(256)) * 400}, faster=False))
    with zipfile.ZipFile(io.BytesIO(bytes(packed))) as z:
        start = z.getinfo("a.xml").header_offset + 30 + len("a.xml")
    packed[start + 10:start + 60] = b"\xff" * 50  # the deflate stream broken
    with zipfile.ZipFile(io.BytesIO(bytes(packed))) as z, z.open("a.xml") as fh:
        deflate.faster_reading(fh)
        with pytest.raises((zlib.error, zipfile.BadZipFile)):
            fh.read()
