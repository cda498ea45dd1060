"""How Potentiel's output sheets look when Potentiel creates them: the layout of formats.

The template workbook (``workbooks/build_template.py``) styles its Matrix, Summary, Log and
Reading sheets itself; a user's own workbook gets the same look from here, written by
both front ends when they create one of those sheets (a sheet that already exists keeps
its formats: the template's, or the ones written when Potentiel created it).

What this module gives, as plain data:

- `finished(kind, blocks)`: the `potentiel.report.Block`s of an output sheet with their
  ``formats`` filled: a list of `Cells`, each a rectangle relative to the block's top-left
  cell (0-based offsets) and the `Look` its cells take (number format, fill, font).
  ``kind`` is one of ``"matrix"``, ``"summary"``, ``"log"``, ``"reading"``.
- `SHEETS[kind]`: a `SheetLook`: column widths (characters), column-wide looks (the Log's
  time column, so every later row is a date too) and whether the sheet gets the Summary
  chart (`CHART`: revenue share by category, read from the category rows); ``"tours"``
  is the Tours sheet's (its blocks carry their own formats, as the Plan's do).

Colours are ``#RRGGBB``; number formats are Excel format codes. The palette is the
template's (a test keeps them equal).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .report import (LOG_HEADERS, MATRIX_GRIDS, PEN_ORDER, POT_ORDER, SUMMARY_CATEGORY_ROW,
                     SUMMARY_MAX_CATEGORIES, SUMMARY_REP_ROW, Block)

# The template's palette (workbooks/build_template.py): category fill and font colours.
CATEGORY_COLOURS = (("#1B5E20", "#FFFFFF"), ("#66BB6A", "#0B2E13"), ("#FFD54F", "#3E2C00"),
                    ("#CFD8DC", "#263238"))
# Without a font colour (xlwings' VBA client sets fills only), light fills keep text readable.
CATEGORY_PLAIN_FILLS = ("#A5D6A7", "#66BB6A", "#FFD54F", "#CFD8DC")
NO_CATEGORY = "#90A4AE"
FRAGILE = "#C62828"
FRAGILE_PLAIN = "#EF9A9A"
HEADER = "#1F3864"
HEADER_PLAIN = "#D9E1F2"
GRID_HEAD = "#D9E1F2"
MONEY = '#,##0 "€"'
INTEGER = "#,##0"
KM = "#,##0.0"  # distances: km to 0.1 (the Tours sheet)
PERCENT = "0.0%"
DATETIME = "yyyy-mm-dd hh:mm"
REP_STYLED_ROWS = 60   # rows of the per-rep table styled at creation (later reps keep them)
LAST_ROW = 1_048_576


@dataclass(frozen=True)
class Look:
    """What a cell looks like. ``plain_fill``: the fill to use where the font colour cannot
    be set (xlwings' VBA client), so white-on-dark text does not become black-on-dark."""

    number_format: str | None = None
    fill: str | None = None
    font_colour: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None
    plain_fill: str | None = None

    def without_font(self) -> "Look":
        """The look where only fills and number formats can be set."""
        return dataclasses.replace(self, fill=self.plain_fill or self.fill, font_colour=None,
                                   bold=False, italic=False, size=None, plain_fill=None)


@dataclass(frozen=True)
class Cells:
    """A rectangle of a block (0-based offsets from its top-left cell) and its look.
    ``fit``: the columns may be autofitted to these cells (not for titles and long text)."""

    row: int
    col: int
    look: Look
    rows: int = 1
    cols: int = 1
    fit: bool = True


@dataclass(frozen=True)
class SheetLook:
    """Column widths (1-based column → characters), column-wide looks (from row
    ``column_looks_from`` down) and whether the sheet holds the Summary chart."""

    widths: dict[int, float] = field(default_factory=dict)
    column_looks: dict[int, Look] = field(default_factory=dict)
    column_looks_from: int = 2
    chart: bool = False


@dataclass(frozen=True)
class Chart:
    """The Summary chart: a column chart of the share of revenue (column ``values_col``)
    per category label (column ``labels_col``), over rows ``first_row``–``last_row``, bars
    in the category colours, placed from column ``anchor_col`` (0-based) over ``cols`` ×
    ``rows`` cells."""

    first_row: int = SUMMARY_CATEGORY_ROW + 1
    last_row: int = SUMMARY_CATEGORY_ROW + SUMMARY_MAX_CATEGORIES
    labels_col: int = 2
    values_col: int = 6
    number_format: str = "0%"
    anchor_col: int = 9
    anchor_row: int = 0
    cols: int = 7
    rows: int = 16
    colours: tuple[str, ...] = tuple(
        [f for f, _ in CATEGORY_COLOURS] +
        [NO_CATEGORY] * (SUMMARY_MAX_CATEGORIES - len(CATEGORY_COLOURS)))


CHART = Chart()

TITLE = Look(bold=True, size=14, font_colour=HEADER)
SUBTITLE = Look(italic=True, font_colour="#595959")
HEAD = Look(bold=True, fill=HEADER, font_colour="#FFFFFF", plain_fill=HEADER_PLAIN)
GRID_HEADER = Look(bold=True, fill=GRID_HEAD)
FRAGILE_INT = Look(INTEGER, fill=FRAGILE, font_colour="#FFFFFF", bold=True,
                   plain_fill=FRAGILE_PLAIN)
FRAGILE_MONEY = dataclasses.replace(FRAGILE_INT, number_format=MONEY)


def _category(k: int) -> Look:
    fill, font = CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)]
    return Look(fill=fill, font_colour=font, bold=True,
                plain_fill=CATEGORY_PLAIN_FILLS[k % len(CATEGORY_PLAIN_FILLS)])


SHEETS: dict[str, SheetLook] = {
    "matrix": SheetLook(widths={1: 24, 2: 20, 3: 20, 4: 20, 5: 28}),
    "summary": SheetLook(widths={1: 22, 2: 16, **{c: 17 for c in range(3, 10)}}, chart=True),
    # by position, not by header text (the headers are translated): Time, Rules file,
    # Engine, Accounts, Counts, …, Messages last
    "log": SheetLook(widths={**{j: 11 for j in range(1, len(LOG_HEADERS) + 1)},
                             1: 19, 2: 24, 3: 10, 5: 30, len(LOG_HEADERS): 120},
                     column_looks={1: Look(DATETIME)}),
    "reading": SheetLook(widths={1: 22, 2: 60, 3: 14, 4: 14, 5: 14, 6: 14}),
    # The Tours sheet (potentiel.plan.tours.tours_blocks), by position like the Plan's:
    # the days table from column A (Salesperson, Week, Day, Tour, Accounts, Visits, km:
    # one number format each from row 5), the per-salesperson and not-placed lists from
    # column I (their rows mix, so their formats are the blocks' own).
    "tours": SheetLook(widths={1: 22, 2: 8, 3: 6, 4: 7, 5: 70, 6: 8, 7: 10, 8: 3, 9: 22,
                               10: 24, 11: 18, 12: 12, 13: 60, 14: 16},
                       column_looks={2: Look("General"), 3: Look("General"),
                                     4: Look("General"), 6: Look(INTEGER), 7: Look(KM)},
                       column_looks_from=5),
}


def finished(kind: str, blocks: list[Block]) -> list[Block]:
    """``blocks`` with their ``formats`` filled for output sheet ``kind`` (new Block
    objects; the values are the same). An unknown kind gets no formats."""
    how = {"matrix": _matrix, "summary": _summary, "log": _log, "reading": _reading}.get(kind)
    if how is None:
        return blocks
    return [dataclasses.replace(b, formats=how(b)) for b in blocks]


def _width(b: Block) -> int:
    return max((len(r) for r in b.values), default=0)


def _matrix(b: Block) -> list[Cells]:
    if b.row == 1:
        return [Cells(0, 0, TITLE, fit=False), Cells(1, 0, SUBTITLE, fit=False)]
    grids = [row for _, row in MATRIX_GRIDS]
    if b.row in grids:
        money = grids.index(b.row) > 0
        n = len(b.values) - 1
        out = [Cells(0, 0, GRID_HEADER, cols=_width(b)), Cells(1, 0, GRID_HEADER, rows=n),
               Cells(1, 1, Look(MONEY if money else INTEGER), rows=n, cols=_width(b) - 1)]
        fragile = (1 + POT_ORDER.index("high"), 1 + PEN_ORDER.index("weak"))
        out.append(Cells(*fragile, FRAGILE_MONEY if money else FRAGILE_INT))
        return out
    return [Cells(0, 0, SUBTITLE, fit=False), Cells(0, _width(b) - 1, Look(INTEGER))]


def _summary(b: Block) -> list[Cells]:
    if b.row == 1:
        return [Cells(0, 0, TITLE, fit=False)]
    width = _width(b)
    out = [Cells(0, 0, HEAD, cols=width)]
    if b.row == SUMMARY_CATEGORY_ROW:
        n = len(b.values) - 1
        out += [Cells(1, 2, Look(INTEGER), rows=n), Cells(1, 3, Look(MONEY), rows=n, cols=2),
                Cells(1, 5, Look(PERCENT), rows=n), Cells(1, 6, Look(INTEGER), rows=n)]
        k = 0
        for i, line in enumerate(b.values[1:], start=1):
            letter = line[0] if line else None
            if letter in (None, "", "—"):
                continue
            out.append(Cells(i, 0, _category(k), cols=2))
            k += 1
        return out
    if b.row == SUMMARY_REP_ROW:
        n = max(len(b.values) - 1, REP_STYLED_ROWS)
        return out + [Cells(1, 1, Look(INTEGER), rows=n, cols=width - 4),
                      Cells(1, width - 3, Look(MONEY), rows=n, cols=2),
                      Cells(1, width - 1, Look(PERCENT), rows=n)]
    return []


def _log(b: Block) -> list[Cells]:
    if b.row != 1:
        return []
    out = [Cells(0, 0, HEAD, cols=len(LOG_HEADERS) - 1),
           Cells(0, len(LOG_HEADERS) - 1, HEAD, fit=False)]
    if len(b.values) > 1:  # the first run's row, written with the header (xlwings)
        out += [Cells(1, 0, Look(DATETIME), rows=len(b.values) - 1),
                Cells(1, 1, Look(), rows=len(b.values) - 1, cols=len(LOG_HEADERS) - 2)]
    return out


def _reading(b: Block) -> list[Cells]:
    return [Cells(0, 0, Look(bold=True, size=12, font_colour=HEADER), fit=False)]


def log_blocks(rows: list[list[Any]]) -> list[Block]:
    """The Log's header row as a block with its formats (the rows below are plain)."""
    return finished("log", [Block(1, 1, rows)])
