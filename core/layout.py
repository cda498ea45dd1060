"""Where outputs go in a sheet, decided the same way by every front end.

Pure functions on headers and grids of values: the headless writer (openpyxl) and the
xlwings writer both ask here which column each output takes and how to read Settings,
so a workbook recomputed in Excel and on the command line has the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .fields import SCORE_PREFIX, normalise
from .i18n import N_, _
from .problems import cell_ref

SETTING_HEADERS = ("setting", "parametre", "reglage")

# Every output column's header, by its English name (the key the outputs table and the
# ownership markers use); written in the run's language.
OUTPUT_HEADERS = {n: n for n in (
    N_("Score"), N_("Category"), N_("Category label"), N_("Potential"), N_("Penetration"),
    N_("Matrix"), N_("Top 80%"), N_("Flags"), N_("Why"), N_("Confidence"), N_("To collect"),
    N_("Nearest rep"), N_("Nearest rep km"), N_("Nearest rep road km"), N_("Located by"),
    N_("Profile"), N_("Revenue N (from invoices)"), N_("Revenue N-1 (from invoices)"),
    N_("Revenue N-2 (from invoices)"), N_("Last order (from invoices)"),
    N_("Orders N (from invoices)"))}
SET_BY_RULES = " (set by rules)"  # the default header of a field a rule sets


def output_header(name: str) -> str:
    """The header of output ``name`` in the run's language: ``Category label`` →
    ``Libellé catégorie``, ``Score: revenue`` → ``Score : CA``; a header a rule file
    names is kept as written."""
    if name.startswith(SCORE_PREFIX):
        from .config import criterion_word
        return _("Score: {criterion}").format(criterion=criterion_word(name[len(SCORE_PREFIX):]))
    if name in OUTPUT_HEADERS:
        return _(name)
    if name.endswith(SET_BY_RULES):
        return _("{field} (set by rules)").format(field=name[:-len(SET_BY_RULES)])
    return name


@dataclass
class Placement:
    """Column (1-based, in the sheet) of each output; ``new`` ones extend the table.

    ``headers`` is the text written in each output's header cell: its name, or its name
    with " (Potentiel)" when a user column in the table already has that header.
    """

    columns: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # our columns from an earlier run, unused now
    clashes: dict[str, str] = field(default_factory=dict)  # output → the user's header it meets
    clash_cols: dict[str, int] = field(default_factory=dict)  # output → that user column

    @property
    def last_col(self) -> int:
        return max(self.columns.values(), default=0)


def place_outputs(headers: Sequence[Any], first_col: int, last_col: int,
                  names: Sequence[str], owned: dict[int, str] | None = None) -> Placement:
    """Potentiel's own columns (``owned``: sheet column → output key, from the markers) are
    reused; missing ones go right after the last column. A user column is never taken,
    whatever its header says. Headers are in the run's language (`output_header`)."""
    from .sources.ownership import MARK_SUFFIX, key_of
    owned = owned or {}
    by_key = {k: c for c, k in owned.items()}
    user: dict[str, int] = {}
    for j, h in enumerate(headers):
        if h is not None and first_col + j not in owned and str(h).strip():
            user.setdefault(normalise(h), first_col + j)
    plan = Placement()
    nxt = max(last_col, max(owned, default=0)) + 1
    for name in names:
        key = key_of(name)
        if key in by_key:
            plan.columns[name] = by_key[key]
        else:
            plan.columns[name] = nxt
            plan.new.append(name)
            nxt += 1
        header = output_header(name)
        plan.headers[name] = header
        if normalise(header) in user:
            plan.headers[name] = header + MARK_SUFFIX
            plan.clashes[name] = header
            plan.clash_cols[name] = user[normalise(header)]
    used = set(plan.columns.values())
    plan.stale = sorted(c for c in owned if c not in used)
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


def own_column_notices(plan: Placement, sheet: str, header_row: int) -> list:
    """One notice per output whose header a user column already has: the user's column is
    named, and the header Potentiel's own column gets instead."""
    from .problems import Problem, cell_ref
    return [Problem(_('a column of yours is headed "{theirs}"; it is yours and is never '
                      'written: Potentiel\'s own column is "{ours}"').format(
                          theirs=theirs, ours=plan.headers[name]),
                    cell_ref(sheet, header_row, plan.clash_cols[name]), kind="own-column")
            for name, theirs in plan.clashes.items()]
