"""Objectives per rep and the fragility action list (issue 14, point 5).

The method sets each rep's objective "by the potential of their portfolio": the company's
revenue target (Settings ``Revenue target`` / ``Objectif de CA``) is split among the reps
in proportion to the potential they hold, their **fair share**. Optionally part of it
(``Objectives by last year's revenue`` / ``Objectifs selon le CA N``, a share w) follows
last year's revenue instead::

    target(rep) = T × ((1 − w) × potential(rep) ÷ potential(all) + w × revenue(rep) ÷ revenue(all))

and the same within a rep for each category (the rep's A accounts' potential and revenue,
and so on), so a rep's targets per category add up to the rep's target. Amounts are
split to the cent by largest remainders: the reps' targets add up to T exactly, a rep's
targets per category to the rep's. Accounts nobody holds get their share on a row of
their own (someone must win it). **Growth asked** = target − revenue N (and as a share of
revenue N).

The **action list**: per rep, the accounts of the fragility zone (high potential, weak
penetration; the portfolio matrix) with the revenue that would bring them to strong
penetration: **gap to strong** = strong penetration (Settings ``Penetration strong from``,
50 %) × potential − revenue N; largest gap first. The method: move them up the matrix.

Amounts are summed exactly (each as the decimal typed, `visits.exact_value`) and rounded
to the cent only when written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..problems import Problem
from ..report import Block
from ..sheet_styles import HEAD, MONEY, PERCENT, SUBTITLE, TITLE, Cells, Look
from .visits import NO_REP, PlanSettings, exact_value, rep_key


@dataclass
class Objectives:
    """``reps``: one row per rep (as the Plan's, then a row for accounts nobody holds):
    ``rep``, ``accounts``, ``revenue``, ``potential`` (fractions, €), ``penetration``,
    ``share`` (the rep's weight in the split, fraction), ``target`` (cents, int; None
    without a target), ``target:<letter>`` and ``target:`` (no category, cents),
    ``gap`` (the fragility zone's gap to strong, fraction €).
    ``actions``: one row per fragility-zone account: ``rep``, ``id``, ``name``,
    ``category``, ``revenue``, ``potential``, ``penetration``, ``strong`` (revenue at
    strong penetration) and ``gap`` (fractions, €), ordered by rep then gap (largest
    first). ``target``/``weight``: T and w as used; ``problems``: why targets are blank."""

    reps: pd.DataFrame
    actions: pd.DataFrame
    target: float | None
    weight: float
    strong: float
    letters: list[str]
    problems: list[Problem]


def gaps(frame: pd.DataFrame, strong: float) -> pd.Series:
    """Gap to strong of every account: strong × potential − revenue N (€, a fraction),
    0 when already there; None where the potential is unknown or not above 0.
    ``frame`` needs ``potential`` and ``revenue`` (blank revenue counts 0)."""
    s = exact_value(strong)
    out = []
    for p, r in zip(frame["potential"].to_numpy(dtype=float), frame["revenue"].to_numpy(dtype=float)):
        if not (p > 0):
            out.append(None)
            continue
        rev = exact_value(r) if r > 0 else Fraction(0)
        out.append(max(s * exact_value(p) - rev, Fraction(0)))
    return pd.Series(out, index=frame.index, dtype=object)


def apportion(total: int, weights: list[Fraction]) -> list[int] | None:
    """``total`` (cents) split in proportion to ``weights`` by largest remainders: whole
    cents that add up to ``total`` exactly (ties to the first); None when the weights
    add up to 0."""
    whole = sum(weights, Fraction(0))
    if whole <= 0:
        return None
    quotas = [total * w / whole for w in weights]
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def objectives(frame: pd.DataFrame, rep_names: list[str], settings: PlanSettings,
               strong: float, letters: list[str]) -> Objectives:
    """The objectives and the action list (see the module docstring).

    ``frame``: one row per account with ``rep`` (None: nobody holds it), ``id``, ``name``,
    ``category``, ``revenue``, ``potential``, ``penetration`` and ``fragile`` (True in the
    fragility zone); ``rep_names``: the reps in the order the sheets list them (the
    Plan's); ``strong``: the strong-penetration share (0.5)."""
    keys = frame["rep"].map(lambda r: rep_key(r) if isinstance(r, str) and r.strip() else None)
    revenue = [exact_value(v) if v > 0 else Fraction(0)
               for v in frame["revenue"].to_numpy(dtype=float)]
    potential = [exact_value(v) if v > 0 else Fraction(0)
                 for v in frame["potential"].to_numpy(dtype=float)]
    gap = gaps(frame, strong)
    groups = [(n, (keys == rep_key(n)).to_numpy()) for n in rep_names]
    nobody = keys.isna().to_numpy()
    if nobody.any():
        groups.append((None, nobody))
    cats = frame["category"].to_numpy(dtype=object)
    all_rev = sum(revenue, Fraction(0))
    all_pot = sum(potential, Fraction(0))
    w = exact_value(settings.weight)
    problems: list[Problem] = []
    target = settings.target
    if target is not None and w < 1 and all_pot == 0:
        problems.append(Problem(_("no account has a potential, so the target cannot be split "
                                  "by potential; fill Potentiel, or set Objectives by last "
                                  "year's revenue to 100 %"), settings.where.get("target", ""),
                                kind="no-potential"))
        target = None
    if target is not None and w > 0 and all_rev == 0:
        problems.append(Problem(_("no account has revenue, so no part of the target can follow "
                                  "last year's revenue; set Objectives by last year's revenue "
                                  "to 0 %"), settings.where.get("revenue_weight", ""),
                                kind="no-revenue"))
        target = None

    def weight(mask: np.ndarray) -> Fraction:
        p = sum((potential[i] for i in np.flatnonzero(mask)), Fraction(0))
        r = sum((revenue[i] for i in np.flatnonzero(mask)), Fraction(0))
        out = Fraction(0)
        if w < 1:
            out += (1 - w) * p / all_pot
        if w > 0:
            out += w * r / all_rev
        return out

    rows = []
    for name, mask in groups:
        idx = np.flatnonzero(mask)
        rev = sum((revenue[i] for i in idx), Fraction(0))
        pot = sum((potential[i] for i in idx), Fraction(0))
        fragile = mask & frame["fragile"].to_numpy(dtype=bool) & gap.notna().to_numpy()
        rows.append({"rep": name if name is not None else _(NO_REP), "held": name is not None,
                     "accounts": int(mask.sum()), "revenue": rev, "potential": pot,
                     "penetration": rev / pot if pot > 0 else None,
                     "share": weight(mask) if target is not None else None,
                     "gap": sum((gap.iat[i] for i in np.flatnonzero(fragile)), Fraction(0)),
                     "mask": mask})
    if target is not None:
        cents = round(exact_value(target) * 100)
        split = apportion(cents, [r["share"] for r in rows]) or [0] * len(rows)
        for row, c in zip(rows, split):
            row["target"] = c
            mask = row["mask"]
            parts = [weight(mask & (cats == k)) for k in letters] + \
                [weight(mask & pd.isna(cats))]
            per = apportion(c, parts) or [0] * len(parts)
            for k, v in zip([*letters, ""], per):
                row[f"target:{k}"] = v
    for row in rows:
        row.pop("mask")
    reps = pd.DataFrame(rows)
    actions = _actions(frame, keys, gap, rep_names, strong)
    return Objectives(reps, actions, None if target is None else float(target),
                      float(settings.weight), strong, list(letters), problems)


def _actions(frame: pd.DataFrame, keys: pd.Series, gap: pd.Series, rep_names: list[str],
             strong: float) -> pd.DataFrame:
    fragile = frame["fragile"].to_numpy(dtype=bool) & gap.notna().to_numpy()
    order = {rep_key(n): i for i, n in enumerate(rep_names)}
    sub = frame[fragile]
    rank = keys[fragile].map(lambda k: order.get(k, len(order)) if k else len(order))
    s = exact_value(strong)
    table = pd.DataFrame({
        "rep": sub["rep"].where(sub["rep"].notna(), _(NO_REP)), "id": sub["id"],
        "name": sub["name"], "category": sub["category"],
        "revenue": [exact_value(v) if v > 0 else Fraction(0)
                    for v in sub["revenue"].to_numpy(dtype=float)],
        "potential": [exact_value(v) for v in sub["potential"].to_numpy(dtype=float)],
        "penetration": sub["penetration"], "gap": gap[fragile]}, index=sub.index)
    table["strong"] = [s * p for p in table["potential"]]
    table["_rank"] = rank
    table["_gap"] = [-float(g) for g in table["gap"]]
    table["_pos"] = np.arange(len(table))
    return table.sort_values(["_rank", "_gap", "_pos"]).drop(columns=["_rank", "_gap", "_pos"])


# --- the Objectives sheet ------------------------------------------------------------------

TABLE_ROW = 4
REP_HEADER = (N_("Salesperson"), N_("Accounts"), N_("Revenue N"), N_("Potential"),
              N_("Penetration"), N_("Share of the target"), N_("Target"), N_("Growth asked"),
              N_("Growth asked %"), N_("Gap to strong (fragility zone)"))
ACTION_HEADER = (N_("Account id"), N_("Salesperson"), N_("Revenue N"), N_("Potential"),
                 N_("Penetration"), N_("Category"), N_("Revenue at strong penetration"),
                 N_("Gap to strong"), N_("Name"))
# One number format per column for both tables (the action list's columns are laid out so
# that each column's format fits both): from the first data row down.
COLUMN_FORMATS = {2: "#,##0", 3: MONEY, 4: MONEY, 5: PERCENT, 6: PERCENT, 7: MONEY, 8: MONEY,
                  9: PERCENT, 10: MONEY}
PER_CATEGORY_FROM = len(REP_HEADER) + 1   # the targets per category, money too


def _money(x: Fraction | None) -> float | None:
    return None if x is None else float(round(x, 2))


def _cents(c: int | None) -> float | None:
    return None if c is None else float(Fraction(c, 100))


def _share(x: Fraction | None) -> float | None:
    return None if x is None else round(float(x), 4)


def objectives_blocks(obj: Objectives, previous_rows: int = 0) -> list[Block]:
    """The Objectives sheet: the per-rep table (with a total row) and, below, the action
    list. Rows below, up to ``previous_rows``, are blanked."""
    letters = obj.letters
    if obj.problems:  # a target that cannot be split: why
        note = str(obj.problems[0].message)
    elif obj.target is None:
        note = _("No Revenue target in Settings: fill Revenue target (Objectif de CA) to split "
                 "it among the reps by the potential of their portfolios.")
    elif obj.weight:
        note = _("Target {target} split {pot} by each rep's share of the potential, {rev} by "
                 "their share of last year's revenue.").format(
            target=f"{obj.target:,.0f}", pot=f"{1 - obj.weight:.0%}", rev=f"{obj.weight:.0%}")
    else:
        note = _("Target {target} split by each rep's share of the potential (fair share).").format(
            target=f"{obj.target:,.0f}")
    blocks = [Block(1, 1, [[_("Objectives per rep, by the potential of their portfolio")], [note]],
                    formats=[Cells(0, 0, TITLE, fit=False), Cells(1, 0, SUBTITLE, fit=False)])]
    head = [*(_(h) for h in REP_HEADER),
            *(_("Target {letter}").format(letter=k) for k in letters), _("Target, no category")]
    grid: list[list[Any]] = [head]
    for _i, r in obj.reps.iterrows():
        target = r.get("target") if obj.target is not None else None
        grid.append([r["rep"], r["accounts"], _money(r["revenue"]), _money(r["potential"]),
                     _share(r["penetration"]), _share(r["share"]), _cents(target),
                     None if target is None else _money(Fraction(target, 100) - r["revenue"]),
                     None if target is None or r["revenue"] == 0 else
                     _share(Fraction(target, 100) / r["revenue"] - 1), _money(r["gap"]),
                     *((_cents(r.get(f"target:{k}")) if obj.target is not None else None)
                       for k in [*letters, ""])])
    reps = obj.reps
    rev = sum(reps["revenue"], Fraction(0))
    pot = sum(reps["potential"], Fraction(0))
    total_target = int(sum(reps["target"])) if obj.target is not None else None
    grid.append([_("Total"), int(reps["accounts"].sum()), _money(rev), _money(pot),
                 _share(rev / pot) if pot > 0 else None,
                 1.0 if obj.target is not None else None, _cents(total_target),
                 None if total_target is None else _money(Fraction(total_target, 100) - rev),
                 None if total_target is None or rev == 0 else
                 _share(Fraction(total_target, 100) / rev - 1),
                 _money(sum(reps["gap"], Fraction(0))),
                 *((_cents(int(sum(reps[f"target:{k}"]))) if obj.target is not None else None)
                   for k in [*letters, ""])])
    width = len(head)
    total = [Cells(len(grid) - 1, c - 1, Look(COLUMN_FORMATS.get(c, MONEY if c >= PER_CATEGORY_FROM
                                                           else None), bold=True))
             for c in range(1, width + 1)]
    blocks.append(Block(TABLE_ROW, 1, grid, formats=[Cells(0, 0, HEAD, cols=width), *total]))
    row = TABLE_ROW + len(grid) + 1
    lines: list[list[Any]] = [
        [_("Action list: the fragility zone (high potential, weak penetration), the revenue "
           "that would bring each account to strong penetration ({strong:.0%} of its "
           "potential), largest gap first").format(strong=obj.strong)],
        [_(h) for h in ACTION_HEADER]]
    for _i, a in obj.actions.iterrows():
        pen = a["penetration"]
        lines.append([a["id"], a["rep"], _money(a["revenue"]), _money(a["potential"]),
                      round(float(pen), 4) if pen == pen and pen is not None else None,
                      a["category"], _money(a["strong"]), _money(a["gap"]), a["name"]])
    if len(lines) == 2:
        lines.append([_("(no account in the fragility zone)")])
    end = max(row + len(lines), previous_rows)
    blocks.append(Block(row, 1, lines, formats=[Cells(0, 0, Look(bold=True, size=12), fit=False),
                                 Cells(1, 0, HEAD, cols=len(ACTION_HEADER))]))
    # the rows the per-rep table had last time and no longer has are cleared with it
    blocks.insert(1, Block(TABLE_ROW, 1, [[None] * width], clear_to_row=end,
                           clear_cols=max(width, 9) + 2))
    return blocks


def objectives_text(obj: Objectives) -> str:
    """The objectives as the terminal shows them: target and growth asked per rep."""
    if obj.problems:
        return _("Objectives: {why}").format(why=obj.problems[0].message)
    if obj.target is None:
        return _("Objectives: no Revenue target in Settings (Objectif de CA); the action list "
                 "has {n} account(s)").format(n=len(obj.actions))
    lines = [_("Objectives: target {target} split by potential{blend}").format(
        target=f"{obj.target:,.0f}",
        blend=_(" ({share:.0%} by last year's revenue)").format(share=obj.weight)
        if obj.weight else "")]
    for _i, r in obj.reps.iterrows():
        target = Fraction(int(r["target"]), 100)
        lines.append(f"  {str(r['rep'])[:28]:<28} {float(target):>14,.2f}  "
                     + _("growth asked {growth}").format(
                         growth=f"{float(target - r['revenue']):+,.2f}"))
    return "\n".join(lines)
