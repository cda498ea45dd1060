"""Where outputs go in a sheet, decided the same way by every front end.

Pure functions on headers and grids of values: the headless writer (openpyxl) and the
xlwings writer both ask here which column each output takes and how to read Settings,
so a workbook recomputed in Excel and on the command line has the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .fields import is_output_header, normalise
from .problems import cell_ref

SETTING_HEADERS = ("setting", "parametre", "reglage")


@dataclass
class Placement:
    """Column (1-based, in the sheet) of each output; ``new`` ones extend the table."""

    columns: dict[str, int] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # our columns from an earlier run, unused now

    @property
    def last_col(self) -> int:
        return max(self.columns.values(), default=0)


def place_outputs(headers: Sequence[Any], first_col: int, last_col: int,
                  names: Sequence[str]) -> Placement:
    """Existing output columns are reused; missing ones go right after the last column.

    A column a rule file declares (``names`` beyond the built-in outputs) is reused by its
    exact header, which the rule check keeps apart from every field's headers."""
    wanted = {str(n).strip() for n in names}
    existing = {str(h).strip(): first_col + j for j, h in enumerate(headers)
                if h is not None and (is_output_header(h) or str(h).strip() in wanted)}
    plan = Placement()
    nxt = last_col + 1
    for name in names:
        if name in existing:
            plan.columns[name] = existing[name]
        else:
            plan.columns[name] = nxt
            plan.new.append(name)
            nxt += 1
    plan.stale = [c for h, c in existing.items() if h not in plan.columns]
    return plan


def settings_rows(grid: Sequence[Sequence[Any]], sheet: str, first_row: int = 1,
                  first_col: int = 1) -> list[tuple[Any, Any, str]]:
    """``(label, value, cell)`` from a Settings grid: labels beside a "Setting" header
    (column A when there is none), values in the next column. Rows above that header are
    not settings (a title, or the template's Recompute button and status cell)."""
    label_col, header_row = 0, -1
    for i, row in enumerate(grid[:10]):
        j = next((j for j, v in enumerate(row)
                  if isinstance(v, str) and normalise(v) in SETTING_HEADERS), None)
        if j is not None:
            label_col, header_row = j, i
            break
    rows = []
    for i, row in enumerate(grid):
        if i <= header_row:
            continue
        if label_col >= len(row):
            continue
        label = row[label_col]
        if label in (None, "") or (isinstance(label, str) and normalise(label) in SETTING_HEADERS):
            continue
        value = row[label_col + 1] if label_col + 1 < len(row) else None
        rows.append((label, value, cell_ref(sheet, first_row + i, first_col + label_col + 1)))
    return rows
