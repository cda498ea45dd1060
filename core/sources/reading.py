"""The reading report: how a file was read, the same for every front end.

One `ReadingReport` travels from the sources to every front end: the sheet and the header
row found, each column → field (or "not used" and why), the rows left out and why, per
field the counts read / blank / unreadable with the first cells, the first parsed rows, and
every notice with its cell. ``potentiel inspect`` prints it without scoring; a run prints
its grouped warnings and keeps the whole report in the workbook's Reading sheet.

Grouping (`group_problems`): per-cell warnings of one kind in one column become one line
with a count and the first cells; run-level warnings come first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..i18n import _
from ..problems import Problem

FIRST_CELLS = 5  # cells named in a grouped line


@dataclass
class ColumnUse:
    """One column of the accounts table: its header cell, header text and use."""

    cell: str
    header: str
    field: str | None   # the field it fills, None when not used
    note: str = ""      # why (not) used, how it was matched


@dataclass
class LeftOut:
    row: int
    cell: str
    why: str


@dataclass
class FieldCount:
    field: str
    column: str
    read: int = 0
    blank: int = 0
    unreadable: int = 0
    first_unreadable: list[str] = field(default_factory=list)


@dataclass
class ReadingReport:
    sheet: str = ""
    header_row: int = 0
    header_note: str = ""
    columns: list[ColumnUse] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    counts: list[FieldCount] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    # tables read with this one (title, report): the invoice lines of the accounts
    parts: list[tuple[str, "ReadingReport"]] = field(default_factory=list)

    @property
    def accounts_read(self) -> int:
        return max((c.read + c.blank + c.unreadable for c in self.counts), default=0)

    def lines(self, preview_rows: int = 5) -> list[str]:
        """The report as text lines, for ``potentiel inspect``, in the run's language."""
        note = self.header_note or _("headers on row {row}").format(row=self.header_row)
        out = [_("Sheet {sheet}: {note}").format(sheet=self.sheet, note=note)]
        out.append(_("Columns:"))
        for c in self.columns:
            use = f"→ {c.field}" if c.field else _("not used")
            note = f" ({c.note})" if c.note else ""
            out.append(f"  {c.cell:<12} {c.header[:40]!r:<44} {use}{note}")
        if self.left_out:
            out.append(_("Rows left out ({n}):").format(n=len(self.left_out)))
            for r in self.left_out:
                out.append("  " + _("row {row}: {why}").format(row=r.row, why=r.why))
        if self.counts:
            out.append(_("Per field (read / blank / unreadable):"))
            for c in self.counts:
                bad = "  " + _("first unreadable: {cells}").format(
                    cells=", ".join(c.first_unreadable)) if c.first_unreadable else ""
                out.append(f"  {c.field:<20} {c.read:>7} {c.blank:>7} {c.unreadable:>7}{bad}")
        if self.preview and preview_rows:
            out.append(_("First {n} accounts as read:").format(
                n=min(preview_rows, len(self.preview))))
            for row in self.preview[:preview_rows]:
                out.append("  " + ", ".join(f"{k}={_short(v)}" for k, v in row.items()
                                             if v is not None))
        notices = group_problems(self.notices)
        if notices:
            out.append(_("Notices ({n}, grouped):").format(n=len(self.notices)))
            out.extend(f"  {p}" for p in notices)
        for title, part in self.parts:
            out += ["", f"{title}:", *part.lines(preview_rows=0)]
        return out

    def rows(self, warnings: Iterable[Problem] | None = None) -> list[list[Any]]:
        """The report as a grid for the workbook's Reading sheet: ``warnings`` (the run's,
        default: the reading notices) grouped, run-level first, then every one with its
        cell, none dropped. In the run's language."""
        notices = list(self.notices if warnings is None else warnings)
        grid: list[list[Any]] = [[_("How the accounts were read")],
                                 [_("Sheet"), self.sheet, _("Header row"), self.header_row,
                                  self.header_note], [],
                                 [_("Column"), _("Header"), _("Field"), _("Note")]]
        for c in self.columns:
            grid.append([c.cell, c.header, c.field or _("not used"), c.note])
        grid.append([])
        grid.append([_("Rows left out"), len(self.left_out)])
        for r in self.left_out:
            grid.append([r.cell, r.why])
        grid.append([])
        grid.append([_("Field"), _("Read"), _("Blank"), _("Unreadable"),
                     _("First unreadable cells")])
        for c in self.counts:
            grid.append([c.field, c.read, c.blank, c.unreadable, ", ".join(c.first_unreadable)])
        grid.append([])
        grid.append([_("Warnings, grouped"), len(notices)])
        for p in group_problems(notices):
            grid.append([p.where, p.message])
        grid.append([])
        grid.append([_("Every warning"), len(notices)])
        for p in order_problems(notices):
            grid.append([p.where, p.message])
        return grid


def _short(v: Any) -> str:
    s = f"{v:.12g}" if isinstance(v, float) else str(v)  # cents shown as read
    return s if len(s) <= 30 else s[:29] + "…"


def order_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Run-level problems (no column) first, then per-cell ones, each in discovery order."""
    problems = list(problems)
    return [p for p in problems if not p.column] + [p for p in problems if p.column]


def group_problems(problems: Iterable[Problem], first: int = FIRST_CELLS) -> list[Problem]:
    """One line per kind and column: ``Accounts!F2, F5, F9 and 12 more: …``.

    Problems without a column (run-level) come first, as they are; per-cell problems of
    one kind in one column are merged into the first one's message with a count and the
    first cells.
    """
    problems = list(problems)
    run_level = [p for p in problems if not p.column]
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.column:
            sheet = p.where.rpartition("!")[0] if "!" in p.where else ""
            groups.setdefault((p.kind, p.column, sheet), []).append(p)
    out = list(run_level)
    for (kind, column, _sheet), ps in groups.items():
        if len(ps) == 1:
            out.append(ps[0])
            continue
        cells = [p.where for p in ps if p.where]
        shown = ", ".join(cells[:first])
        more = _(" and {n} more").format(n=len(cells) - first) if len(cells) > first else ""
        out.append(Problem(_("{n} cells in column {column}: {message} (and the same for the "
                             "others)").format(n=len(ps), column=column, message=ps[0].message),
                           f"{shown}{more}", ps[0].level, kind, column))
    return out
