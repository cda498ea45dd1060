"""Where the shipped files live: the rules folder and the workbook template.

In a source checkout (and an editable install) they sit next to ``core/``; in a wheel they
are installed as package data under ``potentiel/_shipped``. This module is the one place
that knows.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _first(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def rules_dir() -> Path:
    """The folder holding default.yaml and clients/."""
    return _first(_HERE.parent / "rules", _HERE / "_shipped" / "rules")


def workbooks_dir() -> Path:
    """The folder holding the template workbook(s)."""
    return _first(_HERE.parent / "workbooks", _HERE / "_shipped" / "workbooks")


def docs_dir() -> Path:
    """The folder holding the guides (excel.md, rules.md, plugins.md; fr/ in French)."""
    return _first(_HERE.parent / "docs", _HERE / "_shipped" / "docs")
