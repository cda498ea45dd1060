"""The check after writing (`potentiel.keptcells`), run beside the writer in a second
process: it reads the accounts sheet back from the file while the file is being written.

`keptcells.kept` reads the written sheet back once the file is complete: inflating and
taking out Potentiel's cells cost about as much as writing it (1.3 s for 100,000
accounts), on one core, after the write. Here a second Python process (`Watch`) does the
same work on the other core, as the bytes reach the file: it takes the original sheet's
cells first (the columns are sent to it as soon as they are known), then follows the
written sheet's compressed bytes from where its entry starts (the writer says where, see
`potentiel.xlsxpackage.Package.write`) to the end of their deflate stream. It answers with
a BLAKE2b digest of each side's cells (the same pieces `keptcells._same` compares), and
the CRC-32, sizes and start of the bytes it read.

The writer's process then trusts nothing it did not check: the entry the finished file
names for the sheet starts where the watcher started, holds as many compressed bytes as it
read, and its CRC-32 and size are those of what it inflated; the shared strings, styles and
workbook parts are compared as `keptcells.kept` does. Then equal digests prove, as equal
bytes do, that the user's cells were kept. Any other outcome (the watcher could not start,
gave no answer in time, or answered differently) sends the check back to `keptcells.kept`
itself, in this process, which is what happens on small sheets anyway: starting a process
costs about 0.1 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator

from . import deflate
from .keptcells import CHUNK, _cells, _NoProof, _same_context, _stripper
from .xlsxpackage import Package

ABOVE = 4 * 1024 ** 2  # bytes of sheet XML from which a watcher pays (measured: 5 MB, 10,000
# accounts: 0.73 s against 0.84; 1 MB: 0.32 against 0.27, the process start costs more)
# The watcher's command: this module's `main`, imported with the current folder taken off
# Python's path first (``-m`` would look there first: a ``potentiel`` folder of the user's
# would be run instead); the paths it is given are absolute.
_CHILD = ("import sys\nif sys.path[:1] == ['']: del sys.path[0]\n"
          "from potentiel.keptwatch import main\nsys.exit(main())")
_WAIT = 0.002           # seconds between two looks at a file that has not grown
_IDLE = 120.0           # seconds without a new byte after which a watcher gives up


class Watch:
    """The parent's side: a watcher process for the sheet part ``part`` of the workbook
    file ``original`` (its zip entry named ``entry``). Every method is safe to call after
    a failure; a watcher that failed answers None.

    Without ``original``, the process is only started: it waits for `follow`. Starting
    it before the outputs are known (while the accounts are scored, when the other core
    has nothing to do) takes its start, a Python process and its imports, out of the
    writing's way."""

    def __init__(self, original: str | Path | None = None, entry: str | None = None,
                 outputs: Iterable[int] = (), idle: float = _IDLE):
        self.start: int | None = None
        self._idle = idle
        self._proc: subprocess.Popen | None = None
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except (OSError, ValueError):
            self.close()
        if original is not None and entry is not None:
            self.follow(original, entry, outputs)

    def follow(self, original: str | Path, entry: str, outputs: Iterable[int]) -> None:
        """What to watch: the entry ``entry`` of ``original``, Potentiel's columns
        ``outputs`` (1-based) left out on both sides."""
        self._send({"original": str(Path(original).resolve()), "entry": entry,
                    "outputs": sorted(int(c) for c in outputs), "idle": self._idle})

    def _send(self, message: dict) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.write(json.dumps(message).encode() + b"\n")
            self._proc.stdin.flush()
        except (OSError, ValueError):
            self.close()

    def writing(self, path: str | Path, start: int) -> None:
        """The written sheet's compressed bytes start at offset ``start`` of ``path``."""
        self.start = start
        self._send({"written": str(Path(path).resolve()), "start": start})

    def answer(self, timeout: float) -> dict | None:
        """The watcher's answer (a dict), or None when it has none within ``timeout``
        seconds of the file being finished, failed, or was never told where to read."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        try:
            if self.start is None:
                return None
            out, _err = proc.communicate(timeout=timeout)  # (its end of the input closed)
            answer = json.loads(out.decode().strip().splitlines()[-1])
            return answer if isinstance(answer, dict) else None
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            return None
        finally:
            _end(proc)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)


def _end(proc: subprocess.Popen) -> None:
    """The process ended (killed if still running) and waited for."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None and not pipe.closed:
            pipe.close()


def kept(watch: Watch, before: Package, written: str | Path, part: str, name: str,
         timeout: float = 60.0) -> bool | None:
    """`keptcells.kept`'s answer from the watcher: True or False as it would say, None
    when the watcher cannot tell (the caller then asks `keptcells.kept`)."""
    answer = watch.answer(timeout)
    if answer is None or "error" in answer:
        return None
    if not answer.get("proof"):
        return False
    try:
        with zipfile.ZipFile(written) as after:
            infos = [i for i in after.infolist() if i.filename == part]
            if len(infos) != 1:
                return False
            info = infos[0]
            if (_data_start(written, info) != answer["start"] or
                    info.compress_type != zipfile.ZIP_DEFLATED or
                    info.compress_size != answer["compressed"] or
                    info.file_size != answer["size"] or info.CRC != answer["crc"]):
                return False
            if not _same_context(before, after, part, name):
                return False
    except Exception:  # noqa: BLE001 (an unreadable file: the long way says what)
        return False
    return answer["original"] == answer["written"]


def _data_start(path: str | Path, info: zipfile.ZipInfo) -> int:
    """Where the entry ``info``'s compressed bytes start, from its local header."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        return -1
    names, extra = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
    return info.header_offset + 30 + names + extra


# ------------------------------------------------------------------ the watcher itself

def _digest(pieces: Iterator[bytes]) -> str:
    h = hashlib.blake2b(digest_size=32)
    for piece in pieces:
        h.update(piece)
    return h.hexdigest()


def _followed(path: str, start: int, parent: int, tally: dict, idle: float = _IDLE
              ) -> Iterator[bytes]:
    """The inflated bytes of the deflate stream starting at ``start`` of the file ``path``
    while another process writes it: read as the file grows, to the stream's end. Stops
    (OSError) when nothing new comes for ``idle`` seconds or the parent process is gone.
    ``tally`` receives the CRC-32, the bytes inflated and the compressed bytes read."""
    inflate = deflate.decompressor()
    crc = size = 0
    at = start
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        quiet = time.monotonic()
        while not inflate.eof:
            data = os.pread(fd, CHUNK, at) if hasattr(os, "pread") else _pread(fd, at)
            if not data:
                if time.monotonic() - quiet > idle or os.getppid() != parent:
                    raise OSError("the file stopped growing")
                time.sleep(_WAIT)
                continue
            quiet = time.monotonic()
            at += len(data)
            out = inflate.decompress(data)
            crc = zlib.crc32(out, crc)
            size += len(out)
            if out:
                yield out
        tally.update(crc=crc, size=size, compressed=at - start - len(inflate.unused_data))
    finally:
        os.close(fd)


def _pread(fd: int, at: int) -> bytes:
    os.lseek(fd, at, os.SEEK_SET)
    return os.read(fd, CHUNK)


def _original(path: str, entry: str) -> Iterator[bytes]:
    with zipfile.ZipFile(path) as z, z.open(entry) as fh:
        deflate.faster_reading(fh)
        while chunk := fh.read(CHUNK):
            yield chunk


def _peak_mb() -> float | None:
    """This process's peak resident memory (MB) where the system says it (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None


def main() -> int:
    """The watcher: told on stdin (one JSON object a line) the original file, its sheet
    entry and Potentiel's columns, then where the written sheet starts; answers on stdout
    with one JSON object (``proof``: False when the bytes cannot show it, as
    `keptcells.kept` answers False; ``error``: it failed)."""
    parent = os.getppid()
    lines = iter(sys.stdin.buffer.readline, b"")
    try:
        first = json.loads(next(lines))
        strip = _stripper(first["outputs"])
        answer: dict = {"proof": True}
        try:
            answer["original"] = _digest(_cells(_original(first["original"], first["entry"]),
                                                 strip))
        except _NoProof:  # the bytes cannot show it: no need to follow the writing
            answer["proof"] = False
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
            return 0
        where = json.loads(next(lines))
        tally: dict = {}
        written = _followed(where["written"], int(where["start"]), parent, tally,
                            float(first.get("idle", _IDLE)))
        try:
            answer["written"] = _digest(_cells(written, strip, check_r=True))
        except _NoProof:
            answer["proof"] = False
        for _rest in written:  # to the stream's end: its CRC and sizes are checked
            pass
        answer.update(tally, start=int(where["start"]), peak_mb=_peak_mb())
    except Exception as exc:  # noqa: BLE001 (said to the parent, which checks itself)
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
