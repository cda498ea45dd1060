"""Which columns and sheets are Potentiel's: proven by defined names kept in the workbook.

A column or a sheet is Potentiel's only if Potentiel made it. Each one it makes gets a
workbook-level defined name pointing at it: ``_Potentiel.col.score`` → the header cell
of the Score column, ``_Potentiel.sheet.summary`` → A1 of the Summary sheet. Excel moves
a name with its cell when columns are inserted or sheets renamed, and turns it into
``#REF!`` when the column or sheet is deleted, so the marker follows what Potentiel made
and nothing else. A user column headed ``Potential`` or ``Category``, or a user sheet
named ``Summary``, has no marker: it stays the user's, and Potentiel's own column or sheet
gets a name no one can confuse with it (``Category (Potentiel)``, ``Summary (Potentiel)``).

Workbooks scored before markers existed (no ``_Potentiel.`` name at all) are adopted once,
and the adoption is reported: the contiguous block of columns headed exactly as
Potentiel's outputs (starting with Score, Category, Category label) when the workbook also
has Potentiel's Log sheet.

The names are plain defined names, so both front ends keep them: the headless writer in
``workbook.xml``, the xlwings front end with ``book.names.add`` (the ``namesAdd`` action
of xlwings' clients).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..i18n import _
from ..problems import Problem, cell_ref, column_letter

PREFIX = "_Potentiel."
COL, SHEET = "col", "sheet"
MARK_SUFFIX = " (Potentiel)"
_ADDRESS = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)")


def key_of(name: str) -> str:
    """A language-independent key for an output column or sheet name:
    ``"Score: revenue"`` → ``"score.revenue"``, ``"Top 80%"`` → ``"top_80"``."""
    s = str(name).strip().lower()
    if s.startswith("score:"):
        return "score." + _slug(s[6:])
    return _slug(s)


def _slug(s: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", s).strip("_")


def mark_name(kind: str, key: str) -> str:
    return f"{PREFIX}{kind}.{key}"


def refers_to(sheet: str, row: int, col: int) -> str:
    """``='Mes comptes'!$T$1`` for a name's RefersTo."""
    ref = cell_ref(sheet, row, col)
    sheet_part, _bang, addr = ref.rpartition("!")
    letters = column_letter(col)
    return f"={sheet_part}!${letters}${row}"


@dataclass
class Marks:
    """The markers found: output key → (sheet, column) and sheet key → sheet name."""

    columns: dict[str, tuple[str, int]] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    any: bool = False       # the workbook has at least one Potentiel marker
    adopted: list[str] = field(default_factory=list)   # what was adopted from an old run
    notices: list = field(default_factory=list)  # Problems: choices made about ownership

    def columns_on(self, sheet: str) -> dict[int, str]:
        """Sheet column → output key, for the columns marked on ``sheet``."""
        return {c: k for k, (s, c) in self.columns.items() if s.casefold() == sheet.casefold()}


def parse_marks(names: Iterable[tuple[str, str | None, str | None]]) -> Marks:
    """Markers from ``(name, sheet, address)`` triples (address like ``$T$1``; sheet and
    address None for a name that no longer points at a cell, e.g. ``#REF!``)."""
    marks = Marks()
    for name, sheet, address in names:
        if not name or not name.lower().startswith(PREFIX.lower()):
            continue
        marks.any = True
        rest = name[len(PREFIX):]
        kind, _dot, key = rest.partition(".")
        if not sheet or not address:
            continue
        m = _ADDRESS.match(address.split(":")[0])
        if m is None:
            continue
        if kind.lower() == COL:
            from ..xlsxsheet import col_number
            marks.columns[key.lower()] = (sheet, col_number(m.group(1).upper()))
        elif kind.lower() == SHEET:
            marks.sheets[key.lower()] = sheet
    return marks


def split_refers_to(text: str) -> tuple[str | None, str | None]:
    """``'My sheet'!$A$1`` → ``("My sheet", "$A$1")``; (None, None) for anything else."""
    text = (text or "").strip().lstrip("=")
    if "!" not in text or "," in text:
        return None, None
    sheet, _bang, addr = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    if "#REF" in sheet.upper() or "#REF" in addr.upper() or "[" in sheet:
        return None, None
    return sheet, addr


def adopt_legacy(headers: Sequence[Any], first_col: int, output_names: Sequence[str],
                 has_log: bool) -> dict[int, str]:
    """Sheet column → key for the output block of a workbook scored before markers: the
    contiguous run of headers that are exactly Potentiel's output names, starting with
    Score, Category, Category label; only when the workbook has Potentiel's Log sheet."""
    if not has_log:
        return {}
    names = set(output_names)
    texts = [h.strip() if isinstance(h, str) else None for h in headers]
    for j in range(len(texts) - 2):
        if texts[j:j + 3] == ["Score", "Category", "Category label"]:
            out = {}
            k = j
            while k < len(texts) and texts[k] is not None and \
                    (texts[k] in names or texts[k].startswith("Score: ")):
                out[first_col + k] = key_of(texts[k])
                k += 1
            return out
    return {}


def own_sheet_notice(wanted: str, given: str, taken: Iterable[str]) -> Problem:
    """The notice for an output sheet written under another name because the user has a
    sheet ``wanted`` (any case: the user's own spelling is named)."""
    theirs = next((t for t in taken if t.casefold() == wanted.casefold()), wanted)
    return Problem(_('the workbook has a sheet "{theirs}" of its own; Potentiel writes its '
                     '{wanted} sheet as "{given}" and never touches yours').format(
                         theirs=theirs, wanted=wanted, given=given), given,
                   kind="own-sheet")


def free_name(wanted: str, taken: Iterable[str], limit: int = 31) -> str:
    """``wanted``, or ``wanted (Potentiel)`` (then ``(Potentiel 2)`` …) when a name equal to
    it ignoring case is taken; at most ``limit`` characters (sheet names: 31)."""
    have = {t.casefold() for t in taken}
    if wanted.casefold() not in have:
        return wanted
    n = 1
    while True:
        suffix = MARK_SUFFIX if n == 1 else f" (Potentiel {n})"
        name = wanted[:limit - len(suffix)] + suffix
        if name.casefold() not in have:
            return name
        n += 1
