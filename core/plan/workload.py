"""The Plan sheet's arithmetic: visits required against each rep's capacity (issue 14, point 3).

Per rep, with each account's visits a year and visit length (`potentiel.plan.visits`):

- **visits required** = Σ visits a year of the rep's accounts; **hours required** = Σ
  visits a year × visit length ÷ 60;
- **visits available** = visits a day × field days a year (standard visits); **hours
  available** = visits available × the standard visit length ÷ 60;
- **load** = hours required ÷ hours available (over 100 %: the rep cannot make every
  visit at its frequency). With every visit of the standard length, load = visits
  required ÷ visits available;
- **accounts out of reach**: the rep's accounts taken best first (category, then score,
  then their order in Accounts), those whose visits no longer fit in the hours available:
  the account that crosses the capacity is out of reach, and every one after it. An
  account nobody holds is out of reach (no one visits it). Sales tools hide this by
  stretching visit intervals; the Plan sheet shows it.

For the portfolio, the **workload method** (Talley, 1961): reps needed = Σ accounts ×
visits a year × visit length ÷ the hours a year of one rep at the Settings' capacity;
shown exact (two decimals) and rounded up, against the reps there are today.

Arithmetic is exact: every value is the decimal it was typed as (`visits.exact_value`) and
sums are fractions, so a plan computed by hand gives the same figures to the last digit;
only the cells written are rounded (2 decimals, load 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..report import Block
from ..sheet_styles import GRID_HEADER, HEAD, INTEGER, PERCENT, SUBTITLE, TITLE, Cells, Look
from .visits import NO_REP, PlanSettings, exact_value, frequency_rows, group_title, rep_key

SECTION = GRID_HEADER  # the title of a block of the Plan (not a column header)


@dataclass
class Workload:
    """What the Plan sheet shows.

    ``reps``: one row per rep (the accounts' reps by name, then the Salespeople's reps
    with no account, then a row for the accounts nobody holds when there are some):
    ``rep``, ``held`` (False for that last row), ``accounts``, ``count:<letter>`` per
    category and ``count:`` (no category), ``visits_a_day``, ``field_days``,
    ``visits_required``, ``visits_available``, ``minutes_required``,
    ``minutes_available``, ``load`` (fractions; load None without capacity),
    ``out_of_reach`` (accounts), ``visits_out`` (their visits a year).
    ``out_of_reach``: per account (the plan frame's index), True when out of reach.
    ``portfolio``: ``accounts``, ``visits_required``, ``minutes_required``,
    ``rep_minutes`` (one rep at the Settings' capacity), ``reps_needed`` (a fraction),
    ``reps_needed_up``, ``reps_today``, ``minutes_today``, ``load_today``,
    ``out_of_reach``."""

    reps: pd.DataFrame
    out_of_reach: pd.Series
    portfolio: dict[str, Any]
    letters: list[str]


def priority(frame: pd.DataFrame, letters: list[str]) -> np.ndarray:
    """Positions of ``frame``'s rows, best first: category (in ``letters``' order, no
    category last), then score (highest first, unscored last), then row order."""
    rank = frame["category"].map({k: i for i, k in enumerate(letters)}).fillna(len(letters))
    score = pd.to_numeric(frame["score"], errors="coerce").fillna(-np.inf)
    return np.lexsort((np.arange(len(frame)), -score.to_numpy(dtype=float),
                       rank.to_numpy(dtype=float)))


def workload(frame: pd.DataFrame, capacity: pd.DataFrame, letters: list[str],
             settings: PlanSettings) -> Workload:
    """The Plan's arithmetic (see the module docstring).

    ``frame``: one row per account with ``rep`` (the salesperson, None when nobody holds
    it), ``category`` (letter or None), ``score``, ``visits`` (a year) and ``length``
    (minutes); ``capacity``: `potentiel.plan.visits.capacity`'s table (``rep``,
    ``visits_a_day``, ``field_days``, ``visits``, ``minutes``, fractions); ``letters``:
    the categories in order."""
    minutes = _exact_minutes(frame)
    keys = frame["rep"].map(lambda r: rep_key(r) if isinstance(r, str) and r.strip() else None)
    order = priority(frame, letters)
    out = np.zeros(len(frame), dtype=bool)
    rows = []
    by_key = {rep_key(r): row for r, row in zip(capacity["rep"], capacity.itertuples())}
    held = [(r, by_key[rep_key(r)]) for r in capacity["rep"]]
    nobody = keys.isna().to_numpy()
    groups = [(name, cap, (keys == rep_key(name)).to_numpy()) for name, cap in held]
    if nobody.any():
        groups.append((None, None, nobody))
    for name, cap, mask in groups:
        mine = order[mask[order]]  # the rep's accounts, best first
        available = cap.minutes if cap is not None else Fraction(0)
        fits = _fits(minutes, mine, available)
        out[mine[~fits]] = True
        sub = frame.iloc[np.flatnonzero(mask)]
        required = sum((minutes[i] for i in np.flatnonzero(mask)), Fraction(0))
        visits = _exact_sum(sub["visits"])
        lost = np.zeros(len(frame), dtype=bool)
        lost[mine[~fits]] = True
        row = {"rep": name if name is not None else _(NO_REP), "held": name is not None,
               "accounts": int(mask.sum()),
               **{f"count:{k}": int((sub["category"] == k).sum()) for k in letters},
               "count:": int(sub["category"].isna().sum()),
               "visits_a_day": cap.visits_a_day if cap is not None else None,
               "field_days": cap.field_days if cap is not None else None,
               "visits_required": visits,
               "visits_available": cap.visits if cap is not None else Fraction(0),
               "minutes_required": required, "minutes_available": available,
               "load": required / available if available > 0 else None,
               "out_of_reach": int(lost.sum()),
               "visits_out": _exact_sum(frame["visits"][lost])}
        rows.append(row)
    reps = pd.DataFrame(rows)
    total = sum(minutes, Fraction(0))
    rep_minutes = exact_value(settings.day) * exact_value(settings.days) * \
        exact_value(settings.length)
    today = [r for r in rows if r["held"]]
    minutes_today = sum((r["minutes_available"] for r in today), Fraction(0))
    needed = total / rep_minutes if rep_minutes > 0 else None
    portfolio = {"accounts": len(frame), "visits_required": _exact_sum(frame["visits"]),
                 "minutes_required": total, "rep_minutes": rep_minutes, "reps_needed": needed,
                 "reps_needed_up": math.ceil(needed) if needed is not None else None,
                 "reps_today": len(today), "minutes_today": minutes_today,
                 "load_today": total / minutes_today if minutes_today > 0 else None,
                 "out_of_reach": int(out.sum())}
    return Workload(reps, pd.Series(out, index=frame.index), portfolio, list(letters))


def _exact_minutes(frame: pd.DataFrame) -> list[Fraction]:
    """Visits a year × visit length of every account, exact (few distinct pairs)."""
    pairs: dict[tuple[float, float], Fraction] = {}
    out = []
    for v, n in zip(frame["visits"].to_numpy(dtype=float), frame["length"].to_numpy(dtype=float)):
        key = (v, n)
        if key not in pairs:
            pairs[key] = exact_value(v) * exact_value(n) if v > 0 else Fraction(0)
        out.append(pairs[key])
    return out


def _exact_sum(values: pd.Series) -> Fraction:
    counts = values.value_counts()
    return sum((exact_value(v) * int(c) for v, c in counts.items() if v), Fraction(0))


def _fits(minutes: list[Fraction], mine: np.ndarray, available: Fraction) -> np.ndarray:
    """For the accounts ``mine`` (in order), True while the running sum of their minutes
    stays within ``available``; an account of 0 minutes always fits. Exact: minutes on
    one integer scale (their common denominator)."""
    if not len(mine):
        return np.zeros(0, dtype=bool)
    values = [minutes[i] for i in mine]
    scale = math.lcm(*{m.denominator for m in values}, available.denominator)
    ints = [int(m * scale) for m in values]
    running = np.cumsum(np.array(ints, dtype=object))
    limit = math.floor(available * scale)
    zero = np.array([m == 0 for m in values])
    return zero | np.array([c <= limit for c in running], dtype=bool)


# --- the Plan sheet ------------------------------------------------------------------------

# Layout: the portfolio (label, value) in A–B and a rep's capacity (label in D, value in
# F) from PORTFOLIO_ROW; the visits a year and lengths per category (one row per table
# and value, one column per category) from FREQUENCY_ROW; the per-rep table from REP_ROW,
# as long as there are reps (its columns have one number format each, from REP_ROW + 1).
PORTFOLIO_ROW = 4
CAPACITY_COL, CAPACITY_VALUE_COL = 4, 6
FREQUENCY_ROW = 15
MAX_TABLES = 4         # clients, prospects and two profiles of their own
MAX_LETTERS = 8
REP_ROW = FREQUENCY_ROW + 2 * MAX_TABLES + 2   # the per-rep table's header row (25)
REP_HEADER = (N_("Salesperson"), N_("Accounts"), N_("Visits a day"), N_("Field days"),
              N_("Visits required"), N_("Visits available"), N_("Hours required"),
              N_("Hours available"), N_("Load"), N_("Accounts out of reach"),
              N_("Visits out of reach"))
LOAD_COL = REP_HEADER.index("Load") + 1
OVERLOAD = Look(PERCENT, fill="#C62828", font_colour="#FFFFFF", bold=True,
                plain_fill="#EF9A9A")
WITHIN = Look(PERCENT, fill="#C8E6C9")
UNKNOWN_LOAD = Look(PERCENT)
# Number formats of the per-rep table's columns, from its first data row down (the
# category counts after them are whole numbers too).
REP_COLUMN_FORMATS = {2: INTEGER, 3: "General", 4: "General", 5: INTEGER, 6: INTEGER, 7: INTEGER,
                      8: INTEGER, 9: PERCENT, 10: INTEGER, 11: INTEGER}


def _n(x: Fraction | None, digits: int = 2) -> float | None:
    return None if x is None else round(float(x), digits)


def plan_blocks(work: Workload, settings: PlanSettings, previous_rows: int = 0) -> list[Block]:
    """The Plan sheet: title; the portfolio by the workload method and a rep's capacity
    (label, value); the visits a year and visit lengths per category; then one row per
    rep. Rows below the table, up to ``previous_rows`` (the last run's), are blanked."""
    p = work.portfolio
    blocks = [Block(1, 1, [[_("Plan: visits a year against each rep's capacity")],
                           [_("Load = hours of visits required ÷ hours a rep has; over 100 %, "
                              "the accounts that no longer fit, taken best category first, "
                              "are out of reach. Reps needed = Σ accounts × visits a year × "
                              "visit length ÷ one rep's hours a year (the workload method).")]],
                  formats=[Cells(0, 0, TITLE, fit=False), Cells(1, 0, SUBTITLE, fit=False)])]
    portfolio = [
        (_("Accounts"), p["accounts"], INTEGER), (_("Visits required"), _n(p["visits_required"]),
                                                  INTEGER),
        (_("Hours required"), _n(p["minutes_required"] / 60), INTEGER),
        (_("A rep's hours a year"), _n(p["rep_minutes"] / 60), INTEGER),
        (_("Reps needed"), _n(p["reps_needed"]), "0.00"),
        (_("Reps needed, rounded up"), p["reps_needed_up"], INTEGER),
        (_("Reps today"), p["reps_today"], INTEGER),
        (_("Load of today's team"), _n(p["load_today"], 4), PERCENT),
        (_("Accounts out of reach"), p["out_of_reach"], INTEGER)]
    blocks.append(_pairs(PORTFOLIO_ROW, 1, 2, _("Portfolio: the workload method"), portfolio))
    visits = exact_value(settings.day) * exact_value(settings.days)
    capacity = [(_("Visits a day"), settings.day, "General"),
                (_("Field days a year"), settings.days, "General"),
                (_("Visit length (min)"), settings.length, "General"),
                (_("Visits a year"), _n(visits), INTEGER),
                (_("Hours of visits a year"), _n(visits * exact_value(settings.length) / 60),
                 INTEGER)]
    blocks.append(_pairs(PORTFOLIO_ROW, CAPACITY_COL, CAPACITY_VALUE_COL - CAPACITY_COL + 1,
                         _("A rep's capacity (Settings)"), capacity))
    blocks.append(_frequency_block(settings, work.letters))
    blocks.append(_rep_block(work, previous_rows))
    return blocks


def _pairs(row: int, col: int, width: int, title: str, items: list[tuple[str, Any, str]]
           ) -> Block:
    """A titled list of (label, value, number format): labels in the first column, values in
    the last of ``width`` columns."""
    grid: list[list[Any]] = [[title] + [None] * (width - 1)]
    grid += [[label] + [None] * (width - 2) + [value] for label, value, _fmt in items]
    return Block(row, col, grid, formats=[
        Cells(0, 0, SECTION, cols=width, fit=False),
        *(Cells(i, width - 1, Look(fmt)) for i, (_l, _v, fmt) in enumerate(items, start=1))])


def _frequency_block(settings: PlanSettings, letters: list[str]) -> Block:
    """One row per table and value (visits a year, then visit length), one column per
    category; fixed height (`MAX_TABLES`), so the per-rep table stays where it is."""
    letters = letters[:MAX_LETTERS]
    grid: list[list[Any]] = [[_("Per category"), *letters]]
    for table, what, values in frequency_rows(settings, letters)[:2 * MAX_TABLES]:
        title = group_title(table)
        grid.append([_("{table}: visits a year").format(table=title) if what == "visits" else
                     _("{table}: visit length (min)").format(table=title), *values])
    grid += [[None] * (len(letters) + 1) for _i in range(2 * MAX_TABLES + 1 - len(grid))]
    return Block(FREQUENCY_ROW, 1, grid, formats=[
        Cells(0, 0, SECTION, cols=len(letters) + 1, fit=False),
        Cells(1, 1, Look("General"), rows=2 * MAX_TABLES, cols=len(letters))])


def rep_header(letters: list[str]) -> list[str]:
    """The per-rep table's headers in the run's language."""
    return [*(_(h) for h in REP_HEADER), *letters, _("No category")]


def _rep_block(work: Workload, previous_rows: int) -> Block:
    letters = work.letters
    grid: list[list[Any]] = [rep_header(letters)]
    for _i, r in work.reps.iterrows():
        grid.append([r["rep"], r["accounts"], r["visits_a_day"], r["field_days"],
                     _n(r["visits_required"]), _n(r["visits_available"]),
                     _n(r["minutes_required"] / 60), _n(r["minutes_available"] / 60),
                     _n(r["load"], 4), r["out_of_reach"], _n(r["visits_out"]),
                     *(r[f"count:{k}"] for k in letters), r["count:"]])
    end = REP_ROW + max(len(grid), previous_rows - REP_ROW + 1)
    return Block(REP_ROW, 1, grid, clear_to_row=end, clear_cols=len(grid[0]) + 2,
                 formats=[Cells(0, 0, HEAD, cols=len(grid[0]))])


def load_looks(work: Workload, previous_rows: int = 0) -> dict[tuple[int, int], Look]:
    """The load cells' colours, set at every run (the loads change): red over 100 %,
    green within, plain where there is no capacity; the cells below the table, up to
    ``previous_rows``, plain again."""
    looks = {}
    for i, load in enumerate(work.reps["load"], start=1):
        looks[(REP_ROW + i, LOAD_COL)] = UNKNOWN_LOAD if load is None else (
            OVERLOAD if load > 1 else WITHIN)
    for r in range(REP_ROW + len(work.reps) + 1, max(previous_rows, 0) + 1):
        looks[(r, LOAD_COL)] = UNKNOWN_LOAD
    return looks


def plan_text(work: Workload) -> str:
    """The plan as the terminal shows it: one line per rep, then the reps needed."""
    p = work.portfolio
    lines = [_("Plan (workload method): {visits} visits a year, {hours} hours; one rep has "
               "{rep} hours a year").format(visits=_fmt(p["visits_required"]),
                                              hours=_fmt(p["minutes_required"] / 60),
                                              rep=_fmt(p["rep_minutes"] / 60))]
    for r in work.reps.itertuples():
        load = "  -  " if r.load is None else f"{float(r.load):>5.0%}"
        flag = "  " + _("overloaded") if r.load is not None and r.load > 1 else ""
        out = ("  " + _("{n} account(s) out of reach").format(n=r.out_of_reach)
               if r.out_of_reach else "")
        lines.append(f"  {str(r.rep)[:28]:<28} {r.accounts:>6}  {load}{flag}{out}")
    needed = p["reps_needed"]
    lines.append("  " + _("Reps needed: {needed} (rounded up {up}); reps today: {today}").format(
        needed="-" if needed is None else f"{float(needed):.2f}",
        up="-" if p["reps_needed_up"] is None else p["reps_needed_up"], today=p["reps_today"]))
    return "\n".join(lines)


def _fmt(x: Fraction) -> str:
    v = float(x)
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.2f}"
