"""Saving a workbook without ever leaving half of one: temporary file, then replace.

The new file is written next to the target (same folder, same disk), flushed to disk,
given the permissions the old file had (or the usual ones for a new file), and only then
moved over the target in one step. In place, the previous version is first kept as
``NAME.backup.xlsx``. A workbook open in Excel (its ``~$NAME`` lock file is there) is
never replaced.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable

from .i18n import _
from .problems import UserError


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.backup{path.suffix}")


def check_target(target: Path) -> None:
    """Refuse early, before any work: a missing folder, a workbook open in Excel, a
    read-only workbook (as Excel would)."""
    target = Path(os.path.realpath(target))
    if not target.parent.is_dir():
        raise UserError(_("{target}: the folder {parent} does not exist; create it or choose "
                          "another output path").format(target=target, parent=target.parent))
    lock = target.with_name("~$" + target.name)
    if lock.exists():
        raise UserError(_("{target}: the workbook is open in Excel (lock file {name}); close "
                          "it first, or write to another file with -o").format(
                            target=target, name=lock.name))
    if target.is_file() and not target.stat().st_mode & 0o222:
        raise UserError(_("{target}: the workbook is read-only; make it writable, or write to "
                          "another file with -o").format(target=target))


def _mode_for(target: Path) -> int:
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_atomic(write: Callable[[str], None], target: Path, backup: Path | None = None) -> None:
    """``write(tmp_path)`` then move it over ``target``; keep the old file as ``backup``.

    A symbolic link is followed: the file it points to is replaced, the link stays."""
    target = Path(os.path.realpath(target))
    check_target(target)
    fd, tmp = tempfile.mkstemp(prefix=".~potentiel-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _mode_for(target))  # mkstemp makes it private to its owner
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if backup is not None and target.exists():
            shutil.copy2(target, backup)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
