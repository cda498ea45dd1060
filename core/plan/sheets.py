"""The plan of a scored portfolio, as sheets for every front end (issue 14, point 7).

`build` turns a run's `potentiel.pipeline.Result` into the plan: one row per account
with its visits (`plan_frame`), the workload against each rep's capacity
(`potentiel.plan.workload`), the objectives and action list
(`potentiel.plan.objectives`), each rep's day tours (`potentiel.plan.tours`, made from
the plan by `make_tours`) and, for one rep, the territory (`potentiel.plan.territory`);
and into the sheets Potentiel writes for it: ``Plan``, ``Objectives``, ``Tours`` and,
with a rep, ``Territory`` (French ``Plan``, ``Objectifs``, ``Tournées``, ``Territoire``),
each an `OutputSheet` the front ends write like the other output sheets
(`potentiel.report.Block`s; a sheet they create gets its `SheetLook`), plus the cells
whose colour follows the values at every run (`OutputSheet.restyle`: the Plan's load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..i18n import _, use_language
from ..problems import Problem
from ..report import Block, plain
from ..sheet_styles import HEAD, INTEGER, MONEY, SHEETS, Look, SheetLook
from . import objectives as objectives_module
from . import territory as territory_module
from . import tours as tours_module
from . import workload as workload_module
from .visits import (CLIENTS, PROSPECTS, PlanSettings, capacity, frequencies, group_key,
                     group_title, read_roster, rep_key, status_groups)

from ..sheetnames import (OBJECTIVES_SHEET, PLAN_SHEET, TERRITORY_SHEET,  # noqa: E402
                          TOURS_SHEET)


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
    ``settings`` used, each rep's ``capacity`` (`potentiel.plan.visits.capacity`) and
    the day ``tours`` (`potentiel.plan.tours.Tours`, with a ``cell`` per account not
    placed; None when not asked for)."""

    frame: pd.DataFrame
    workload: workload_module.Workload
    objectives: objectives_module.Objectives
    territory: territory_module.Territory | None
    sheets: list[OutputSheet]
    problems: list[Problem]
    settings: PlanSettings
    capacity: pd.DataFrame | None = None
    tours: tours_module.Tours | None = None

    def text(self) -> str:
        """What the terminal prints: the plan per rep, the objectives, the day tours, the
        territory."""
        parts = [workload_module.plan_text(self.workload),
                 objectives_module.objectives_text(self.objectives)]
        if self.tours is not None:
            parts.append(tours_text(self.tours))
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
          previous: Callable[[str], int] = lambda name: 0, tours: bool = True) -> Plan:
    """The plan of ``result`` (a scored run), in the run's language (call it inside
    ``use_language(result.language)``). ``rep``: a rep's name for the Territory sheet
    (`UserError` when no rep is so named); ``previous``: the rows each sheet (by English
    name) used at the last run, blanked below the new content; ``tours``: make the day
    tours and the Tours sheet (the Territory action alone does not)."""
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
    made = None
    if tours:
        made, said = make_tours(result, frame, cap.table, roster, settings)
        problems += said
        sheets.append(OutputSheet(TOURS_SHEET, tours_module.tours_blocks(
            made, previous(TOURS_SHEET)), SHEETS["tours"]))
    sheets = [_looked(s, {TERRITORY_SHEET: 30, TOURS_SHEET: 22}.get(s.name, 32))
              for s in sheets]
    return Plan(frame, work, obj, terr, sheets, problems, settings, cap.table, made)


def make_tours(result: Any, frame: pd.DataFrame, capacity_table: pd.DataFrame,
               roster: pd.DataFrame, settings: PlanSettings
               ) -> tuple[tours_module.Tours, list[Problem]]:
    """Each rep's day tours (`potentiel.plan.tours.day_tours`) from the plan, and what was
    decided on the way, as `Problem`s.

    Per account (``frame``, `plan_frame`): its id (its cell when the id is blank), name,
    salesperson (matched to the reps of ``capacity_table`` as the Plan matches them),
    place (the latitude and longitude typed or located from postal code and town) and
    visits a year, a whole number: a frequency such as 1.5 is rounded (halves up) and
    said where it was set. Per rep (``capacity_table``, `potentiel.plan.visits.capacity`):
    the base located from Salespeople (``result.reps``), visits a day and field days,
    whole and at most the calendar's working days (said where set: the rep's row of
    Salespeople, ``roster``, or Settings). The tours' texts are in the run's language
    (``result.language``). Each account not placed is a warning at its cell
    (``Accounts!A12``, kind ``tour-<reason>``, grouped per rep where the reason names
    the rep) and gets a ``cell`` column in ``Tours.unplaced``."""
    with use_language(getattr(result, "language", None)):
        return _make_tours(result, frame, capacity_table, roster, settings)


def _make_tours(result: Any, frame: pd.DataFrame, capacity_table: pd.DataFrame,
                roster: pd.DataFrame, settings: PlanSettings
                ) -> tuple[tours_module.Tours, list[Problem]]:
    problems: list[Problem] = []
    canonical = {rep_key(r): r for r in capacity_table["rep"]}
    reps = frame["rep"].map(lambda r: canonical.get(rep_key(r), r) if isinstance(r, str)
                            else None)
    visits = pd.to_numeric(frame["visits"], errors="coerce").fillna(0.0)
    whole = np.floor(visits + 0.5)
    odd = frame.loc[(visits != whole).to_numpy(), ["table", "group", "category"]]
    for (table, group, letter), rows in odd.groupby(["table", "group", "category"], sort=True):
        value = float(visits[rows.index[0]])
        where = settings.where.get(f"visits:{table}:{letter}") or \
            settings.where.get(f"visits:{group}:{letter}", "")
        problems.append(Problem(
            _("{value:g} visits a year for category {letter} of {table}: the day tours make "
              "{whole:g} ({n} account(s)), a whole number of visits in the year").format(
                value=value, letter=letter, table=group_title(table),
                whole=float(np.floor(value + 0.5)), n=len(rows)),
            where, level="notice", kind="tour-whole-visits"))

    def located(name: str) -> pd.Series:
        return pd.to_numeric(frame[name], errors="coerce") if name in frame else \
            pd.Series(np.nan, index=frame.index)

    ids = [plain(i) for i in frame["id"]]
    accounts = pd.DataFrame({
        "account": [str(i) if i is not None else result.account_cell(pos)
                    for i, pos in zip(ids, frame.index)],
        "name": frame["name"], "rep": reps, "lat": located("latitude"),
        "lon": located("longitude"), "visits": whole.astype(np.int64)}, index=frame.index)
    calendar = tours_module.WEEKS * tours_module.DAYS_A_WEEK
    by_key: dict[str, Any] = {}
    for n, row in zip(roster["name"], roster.itertuples()):
        by_key.setdefault(rep_key(n), row)  # the first row of a rep given twice, as the Plan
    said: dict[tuple[str, str], Problem] = {}
    table = []
    for r in capacity_table.itertuples(index=False):
        row = by_key.get(rep_key(r.rep))
        base = _base(result, r.rep)
        day, days = float(r.visits_a_day), float(r.field_days)
        per_day, field_days = int(math.floor(day)), min(int(math.floor(days)), calendar)
        for value, used, what, message in (
                (day, per_day, "visits_a_day",
                 _("{value:g} visits a day: a day of the tours holds at most {used} visits "
                   "(whole visits)")),
                (days, int(math.floor(days)), "field_days",
                 _("{value:g} field days a year: the day tours use {used} days (whole "
                   "days)"))):
            if value != used:
                _say(said, message.format(value=value, used=used),
                     _where(row, what, settings), "tour-whole-capacity")
        if math.floor(days) > calendar:
            _say(said, _("{days} field days a year is more than the calendar's {calendar} "
                         "working days ({weeks} weeks of {per_week} days): the tours use "
                         "{calendar}").format(days=f"{math.floor(days):g}", calendar=calendar,
                                              weeks=tours_module.WEEKS,
                                              per_week=tours_module.DAYS_A_WEEK),
                 _where(row, "field_days", settings), "field-days")
        table.append({"rep": r.rep, "base_lat": base[0] if base else np.nan,
                      "base_lon": base[1] if base else np.nan, "visits_per_day": per_day,
                      "field_days": field_days})
    problems += said.values()
    reps_table = pd.DataFrame(table, columns=list(tours_module.REP_COLUMNS))
    made = tours_module.day_tours(accounts, reps_table)  # its `why`s in the run's language
    problems += made.notes
    header = result.column_header("id")
    cells = []
    for pos, r in zip(made.unplaced.index, made.unplaced.itertuples(index=False)):
        cell = result.account_cell(pos)
        cells.append(cell)
        named = "{rep}" in tours_module.REASONS[r.reason]
        problems.append(Problem(
            _("not in the day tours: {why}").format(why=r.why), cell,
            kind=f"tour-{r.reason}" + (f":{rep_key(r.rep)}" if named else ""),
            column=header))
    made.unplaced["cell"] = cells
    return made, problems


def _where(row: Any, what: str, settings: PlanSettings) -> str:
    """Where a rep's ``what`` (visits_a_day, field_days) was set: the rep's row of
    Salespeople when it gives one, else the Settings' cell (or the rule file's line)."""
    value = getattr(row, what, np.nan) if row is not None else np.nan
    if row is not None and value == value:
        return row.where
    return settings.where.get(what, "")


def _say(said: dict, message: str, where: str, kind: str) -> None:
    """One notice per message and place (a Settings value is said once, not per rep)."""
    said.setdefault((message, where), Problem(message, where, level="notice", kind=kind))


def tours_text(tours: tours_module.Tours) -> str:
    """The day tours for the terminal: days, visits and km per rep, the accounts not
    placed (their cells are in the warnings)."""
    days = tours.days
    lines = [_("Day tours: {days:,} day(s), {visits:,} visit(s), {km:,.0f} km; {lost:,} "
               "account(s) not placed").format(days=len(days), visits=int(days["visits"].sum()),
                                                km=float(days["km"].sum()),
                                                lost=len(tours.unplaced))]
    lost = tours.unplaced["rep"].value_counts()
    for rep in sorted(set(days["rep"]) | set(lost.index)):
        mine = days[days["rep"] == rep]
        n = int(lost.get(rep, 0))
        extra = "  " + _("{n} not placed").format(n=n) if n else ""
        lines.append(f"  {rep:<30} " + _("{days:>4} days {visits:>6} visits {km:>9,.0f} km")
                     .format(days=len(mine), visits=int(mine["visits"].sum()),
                             km=float(mine["km"].sum())) + extra)
    return "\n".join(lines)


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
