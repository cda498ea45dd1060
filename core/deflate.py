"""Deflate for the workbook's parts: python-isal's (Intel's ISA-L) when it is installed,
else Python's zlib.

ISA-L writes and reads the same deflate streams as zlib (any reader of .xlsx files
inflates them, and zlib inflates them in the tests), several times faster at level 1 and
a little smaller. Measured on the 148 MB accounts sheet of 100,000 accounts: deflating
0.66 s with zlib, 0.20 s with ISA-L (29.0 and 27.3 MB); inflating 0.36 and 0.17 s. Like
zlib, it lets go of Python's lock while it works, so the writer's second thread
(`potentiel.xlsxpackage`) and the check's second process (`potentiel.keptwatch`) keep
both cores busy with it.

zipfile deflates and inflates with zlib: `faster_writing` and `faster_reading` give a zip
entry just opened ISA-L's compressor or decompressor instead, before any byte went
through it (zipfile's ``_compressor`` and ``_decompressor``, the same from Python 3.8 to
3.13). An entry without them, or already read from, keeps zlib's: the bytes are the same
deflate either way, only the time differs.
"""

from __future__ import annotations

import zlib

try:  # a wheel for Linux, macOS and Windows on x86-64 and ARM64 (see setup.cfg)
    from isal import isal_zlib as _isal
except ImportError:  # elsewhere: zlib, the same streams, slower
    _isal = None

WBITS = -zlib.MAX_WBITS  # raw deflate, as zip entries hold it


def compressor(level: int = 1):
    """A raw deflate compressor (``compress(bytes)``, ``flush()``) at ``level``."""
    if _isal is not None:
        return _isal.compressobj(level, _isal.DEFLATED, WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, WBITS)


def decompressor():
    """A raw deflate decompressor, with zlib's ``decompress``, ``flush``, ``eof``,
    ``unused_data`` and ``unconsumed_tail``; a damaged stream raises ``zlib.error``, as
    zlib's does (what every reader of parts catches), whichever inflates it."""
    if _isal is not None:
        return _Inflate(_isal.decompressobj(WBITS))
    return zlib.decompressobj(WBITS)


class _Inflate:
    """ISA-L's decompressor raising ``zlib.error`` where zlib's would (ISA-L's own error
    is not one)."""

    __slots__ = ("_d",)

    def __init__(self, d) -> None:
        self._d = d

    def decompress(self, data, max_length: int = 0) -> bytes:
        try:
            return self._d.decompress(data, max_length)
        except _isal.error as exc:
            raise zlib.error(str(exc)) from None  # its own words, as zlib's are quoted

    def flush(self, *length) -> bytes:
        try:
            return self._d.flush(*length)
        except _isal.error as exc:
            raise zlib.error(str(exc)) from None  # its own words, as zlib's are quoted

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    @property
    def unconsumed_tail(self) -> bytes:
        return self._d.unconsumed_tail


def faster_writing(entry, level: int = 1) -> bool:
    """Give a zip entry just opened for writing (``ZipFile.open(info, "w")``) the faster
    compressor, at ``level``; True when it was given."""
    if _isal is None or getattr(entry, "_compress_size", None) != 0 or \
            getattr(entry, "_file_size", None) != 0 or \
            type(getattr(entry, "_compressor", None)) is not type(zlib.compressobj()):
        return False
    entry._compressor = compressor(level)
    return True


def faster_reading(entry) -> bool:
    """Give a deflated zip entry just opened for reading (``ZipFile.open(info)``) the
    faster decompressor; True when it was given."""
    if _isal is None or getattr(entry, "_offset", None) != 0 or \
            getattr(entry, "_readbuffer", None) != b"" or \
            type(getattr(entry, "_decompressor", None)) is not type(zlib.decompressobj()):
        return False
    entry._decompressor = decompressor()
    return True
