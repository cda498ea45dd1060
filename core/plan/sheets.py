"""The plan of a scored portfolio, as sheets for every front end (issue 14, point 7).

`build` turns a run's `potentiel.pipeline.Result` into the plan: one row per account
with its visits (`plan_frame`), the workload against each rep's capacity
(`potentiel.plan.workload`), the objectives and action list
(`potentiel.plan.objectives`) and, for one rep, the territory
(`potentiel.plan.territory`); and into the sheets Potentiel writes for it: ``Plan``,
``Objectives`` and, with a rep, ``Territory`` (French ``Plan``, ``Objectifs``,
``Territoire``), each an `OutputSheet` the front ends write like the other output sheets
(`potentiel.report.Block`s; a sheet they create gets its `SheetLook`), plus the cells
whose colour follows the values at every run (`OutputSheet.restyle`: the Plan's load).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..i18n import _
from ..problems import Problem
from ..report import Block
from ..sheet_styles import HEAD, INTEGER, MONEY, Look, SheetLook
from . import objectives as objectives_module
from . import territory as territory_module
from . import workload as workload_module
from .visits import (CLIENTS, PROSPECTS, PlanSettings, capacity, frequencies, group_key,
                     read_roster, rep_key, status_groups)

from ..sheetnames import OBJECTIVES_SHEET, PLAN_SHEET, TERRITORY_SHEET  # noqa: E402


@dataclass
class OutputSheet:
    """One sheet to write: ``name`` (its English name, the key of its marker), its
    ``blocks``, the ``look`` of a sheet created for it, and ``restyle``: (row, column) →
    `Look` of cells whose colour follows the values, set at every run."""

    name: str
    blocks: list[Block]
    look: SheetLook
    restyle: dict[tuple[int, int], Look] = field(default_factory=dict)


@dataclass
class Plan:
    """A portfolio's plan: ``frame`` (one row per account, see `plan_frame`),
    ``workload``, ``objectives``, ``territory`` (None without a rep), the ``sheets`` to
    write, the ``problems`` met (choices said, as warnings and notices), the
    ``settings`` used and each rep's ``capacity`` (`potentiel.plan.visits.capacity`)."""

    frame: pd.DataFrame
    workload: workload_module.Workload
    objectives: objectives_module.Objectives
    territory: territory_module.Territory | None
    sheets: list[OutputSheet]
    problems: list[Problem]
    settings: PlanSettings
    capacity: pd.DataFrame | None = None

    def text(self) -> str:
        """What the terminal prints: the plan per rep, the objectives, the territory."""
        parts = [workload_module.plan_text(self.workload),
                 objectives_module.objectives_text(self.objectives)]
        if self.territory is not None:
            parts.append(territory_module.territory_text(self.territory))
        return "\n".join(parts)


def letters_of(result: Any) -> list[str]:
    """The categories in order: the rule file's, then any other the run gave."""
    letters = list(result.config.categories.letters)
    extra = [k for k in pd.unique(result.category.dropna()) if k not in letters]
    return letters + sorted(extra)


def plan_frame(result: Any, settings: PlanSettings) -> tuple[pd.DataFrame, list[Problem]]:
    """One row per account (the accounts' index): ``id``, ``name``, ``status``, ``rep``
    (the salesperson, None when blank), ``group`` (clients / prospects), ``table`` (the
    visits' table), ``category``, ``score``, ``revenue``, ``potential`` (€),
    ``penetration``, ``fragile`` (high potential, weak penetration), ``gap`` (to strong,
    €, a fraction), ``visits`` (a year), ``length`` (minutes), and where known
    ``latitude``, ``longitude``, ``distance_km``, ``nearest_rep``. With the problems met
    (categories without a visit frequency)."""
    acc = result.accounts
    index = acc.index

    def col(name: str, default: Any = None) -> pd.Series:
        return acc[name] if name in acc else pd.Series(default, index=index, dtype=object)

    reps = col("salesperson").map(lambda v: " ".join(str(v).split())
                                  if v is not None and v == v and str(v).strip() else None)
    status = col("status")
    freq = frequencies(acc, result.category, settings, getattr(result, "profile", None))
    frame = pd.DataFrame({
        "id": col("id"), "name": col("name"), "status": status, "rep": reps,
        "group": status_groups(status), "table": freq.table,
        "category": result.category.astype(object).where(result.category.notna(), None),
        "score": result.weighted.score, "revenue": pd.to_numeric(col("revenue", np.nan)),
        "potential": pd.to_numeric(col("potential", np.nan)),
        "penetration": pd.to_numeric(col("penetration", np.nan)),
        "fragile": ((col("potential_tier") == "high") & (col("penetration_tier") == "weak")),
        "visits": freq.visits, "length": freq.length}, index=index)
    for name in ("latitude", "longitude", "distance_km", "nearest_rep"):
        if name in acc:
            frame[name] = acc[name]
    frame["gap"] = objectives_module.gaps(frame, result.config.matrix.penetration_strong)
    return frame, freq.problems


def _table_problems(settings: PlanSettings, result: Any, letters: list[str]) -> list[Problem]:
    """Settings rows naming a table that is neither clients, prospects nor a profile, or a
    category the run does not have: said, and not used."""
    profiles = getattr(result, "profiles", None)
    known = {CLIENTS, PROSPECTS, *(group_key(p) for p in (profiles.names if profiles else ()))}
    out = []
    for what in ("visits", "lengths"):
        for (table, letter) in getattr(settings, what):
            where = settings.where.get(f"{what}:{table}:{letter}", "")
            if table not in known:
                out.append(Problem(_('"{table}" is neither clients, prospects nor a profile of the '
                                     "rule file ({known}): this row is not used").format(
                    table=table, known=", ".join(sorted(known))), where, kind="plan-table"))
            elif letter not in letters:
                out.append(Problem(_("no category {letter} (categories: {letters}): this row is "
                                     "not used").format(letter=letter, letters=", ".join(letters)),
                                   where, kind="plan-category"))
    return out


def rep_names(frame: pd.DataFrame) -> list[str]:
    """The accounts' reps, each once (spaces and case ignored: the first spelling met), in
    alphabetical order."""
    first: dict[str, str] = {}
    for r in frame["rep"]:
        if isinstance(r, str):
            first.setdefault(rep_key(r), r)
    return sorted(first.values(), key=lambda r: (rep_key(r), r))


def _base(result: Any, rep: str) -> tuple[float, float] | None:
    reps = getattr(result, "reps", None)
    if reps is None or not len(reps):
        return None
    for name, lat, lon in zip(reps["name"], reps["latitude"], reps["longitude"]):
        if isinstance(name, str) and rep_key(name) == rep_key(rep):
            return (float(lat), float(lon)) if lat == lat and lon == lon else None
    return None


def build(result: Any, rep: str | None = None,
          previous: Callable[[str], int] = lambda name: 0) -> Plan:
    """The plan of ``result`` (a scored run), in the run's language (call it inside
    ``use_language(result.language)``). ``rep``: a rep's name for the Territory sheet
    (`UserError` when no rep is so named); ``previous``: the rows each sheet (by English
    name) used at the last run, blanked below the new content."""
    settings: PlanSettings = result.config.plan
    letters = letters_of(result)
    frame, problems = plan_frame(result, settings)
    problems += _table_problems(settings, result, letters)
    names = rep_names(frame)
    roster = read_roster(getattr(result, "salespeople", None))
    sheet = getattr(getattr(result, "salespeople", None), "sheet", "") or ""
    cap = capacity(names, roster, settings, sheet)
    problems += cap.problems
    work = workload_module.workload(frame, cap.table, letters, settings)
    held = list(cap.table["rep"])
    obj = objectives_module.objectives(frame, held, settings,
                                       result.config.matrix.penetration_strong, letters)
    problems += obj.problems
    plan_rows = previous(PLAN_SHEET)
    sheets = [
        OutputSheet(PLAN_SHEET, workload_module.plan_blocks(work, settings, plan_rows),
                    _plan_look(letters), workload_module.load_looks(work, plan_rows)),
        OutputSheet(OBJECTIVES_SHEET, objectives_module.objectives_blocks(
            obj, previous(OBJECTIVES_SHEET)), _objectives_look(letters)),
    ]
    terr = None
    if rep is not None:
        name = territory_module.find_rep(rep, held)
        row = work.reps[work.reps["rep"] == name]
        load = row["load"].iloc[0] if len(row) else None
        terr = territory_module.territory(frame, name, letters, settings.reach,
                                          _base(result, name), result.config.detour_factor, load)
        sheets.append(OutputSheet(TERRITORY_SHEET, territory_module.territory_blocks(
            terr, previous(TERRITORY_SHEET)), TERRITORY_LOOK))
    sheets = [_looked(s, 30 if s.name == TERRITORY_SHEET else 32) for s in sheets]
    # --- Tours sheet (issue 14, point 4: potentiel.plan.tours) ------------------------------
    # The day tours are added here, as one more OutputSheet (e.g. TOURS_SHEET = N_("Tours")):
    # each front end writes every sheet of this list, so nothing else changes for it. The
    # tours read ``frame`` (visits a year per account, places) and ``cap.table`` (each
    # rep's visits a day and field days); a rep's base is `_base(result, rep)`.
    return Plan(frame, work, obj, terr, sheets, problems, settings, cap.table)


def header_widths(blocks: list[Block], first: float, least: float = 10,
                  most: float = 28) -> dict[int, float]:
    """Column widths (characters) that show every header cell of ``blocks`` (the cells
    with the `HEAD` look) in full, from ``least`` to ``most``; column 1 is ``first``."""
    widths: dict[int, float] = {}
    for b in blocks:
        for part in b.formats or ():
            if part.look != HEAD:
                continue
            line = b.values[part.row] if part.row < len(b.values) else []
            for j in range(part.col, part.col + part.cols):
                text = line[j] if j < len(line) else None
                if isinstance(text, str):
                    col = b.col + j
                    widths[col] = max(widths.get(col, least), min(len(text) * 1.1 + 2, most))
    widths[1] = first
    return widths


def _looked(sheet: OutputSheet, first: float) -> OutputSheet:
    """``sheet`` with its column widths fitted to its headers (in the run's language)."""
    from dataclasses import replace
    widths = header_widths(sheet.blocks, first)
    for col, width in sheet.look.widths.items():
        widths[col] = max(width, widths.get(col, 0))
    return replace(sheet, look=replace(sheet.look, widths=widths))


def _plan_look(letters: list[str]) -> SheetLook:
    counts = {c: Look(INTEGER) for c in range(len(workload_module.REP_HEADER) + 1,
                                              len(workload_module.REP_HEADER) + len(letters) + 2)}
    return SheetLook(widths={},
                     column_looks={**{c: Look(f) for c, f in
                                      workload_module.REP_COLUMN_FORMATS.items()}, **counts},
                     column_looks_from=workload_module.REP_ROW + 1)


def _objectives_look(letters: list[str]) -> SheetLook:
    first = objectives_module.PER_CATEGORY_FROM
    money = {c: Look(MONEY) for c in range(first, first + len(letters) + 1)}
    # money columns wide enough for a portfolio's total (29,230,400 €)
    wide = {c: 15 for c, f in [*objectives_module.COLUMN_FORMATS.items(),
                               *((c, MONEY) for c in money)] if f == MONEY}
    return SheetLook(widths=wide,
                     column_looks={**{c: Look(f) for c, f in
                                      objectives_module.COLUMN_FORMATS.items()}, **money},
                     column_looks_from=objectives_module.TABLE_ROW + 1)


TERRITORY_LOOK = SheetLook(widths={2: 30},
                           column_looks={c: Look(f) for c, f in
                                         territory_module.COLUMN_FORMATS.items()},
                           column_looks_from=territory_module.LISTS_ROW)
