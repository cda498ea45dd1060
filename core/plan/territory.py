"""A rep's territory: what a new rep does first (issue 14, point 6).

The method's use of the categories when a rep takes over a territory, in three lists:

1. **the A accounts** the rep holds (the best category; clients, prospects are the third
   list), highest score first: visit them first;
2. **the fragility zone** of the rep's portfolio (high potential, weak penetration),
   largest gap to strong first (`potentiel.plan.objectives.gaps`): move them up the
   matrix;
3. **the prospects within reach**: prospects the rep holds, and prospects nobody holds
   whose nearest rep is this one, no farther than the reach (Settings ``Reach (km)`` /
   ``Rayon d'action (km)``, 200 km) from the rep's base; best category, then score,
   first. A prospect the rep holds with no distance (not located) is listed too, without
   one; the rep's prospects beyond reach are counted, not listed.

The distance to the rep: great-circle km from the rep's base (Salespeople) to the
account's place, × the detour factor (Settings), when both are located; else, for an
account whose nearest rep is this one or that the rep holds, the account's distance
(typed, or to its nearest rep).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..portfolio import haversine_km
from ..problems import UserError
from ..report import Block
from ..sheet_styles import HEAD, INTEGER, MONEY, PERCENT, SUBTITLE, TITLE, Cells, Look
from .visits import PROSPECTS, rep_key


def find_rep(name: str, reps: list[str]) -> str:
    """The rep ``name`` means among ``reps`` (spaces and case ignored); `UserError` naming
    the closest ones when none."""
    by_key = {rep_key(r): r for r in reps}
    hit = by_key.get(rep_key(name))
    if hit is not None:
        return hit
    close = difflib.get_close_matches(rep_key(name), list(by_key), n=3, cutoff=0.6)
    hint = _(" (did you mean {names}?)").format(names=", ".join(by_key[c] for c in close)) \
        if close else ""
    shown = ", ".join(reps[:12]) + (_(" and {n} more").format(n=len(reps) - 12)
                                    if len(reps) > 12 else "")
    raise UserError(_('no rep named "{name}"{hint}; the reps are {reps} (Salesperson column '
                      "of Accounts, Salespeople sheet)").format(name=name, hint=hint,
                                                               reps=shown or _("none")))


def distances(frame: pd.DataFrame, rep: str, base: tuple[float, float] | None,
              detour: float = 1.0) -> pd.Series:
    """Km from ``rep``'s base to every account (see the module docstring); NaN where
    unknown. ``frame`` needs ``latitude``, ``longitude``, ``distance_km``, ``nearest_rep``
    and ``rep`` (columns may be absent: then unknown)."""
    n = len(frame)
    out = np.full(n, np.nan)
    lat = frame["latitude"].to_numpy(dtype=float) if "latitude" in frame else np.full(n, np.nan)
    lon = frame["longitude"].to_numpy(dtype=float) if "longitude" in frame else np.full(n, np.nan)
    if base is not None and all(v == v for v in base):
        ok = ~(np.isnan(lat) | np.isnan(lon))
        out[ok] = haversine_km(lat[ok], lon[ok], base[0], base[1]) * float(detour)
    key = rep_key(rep)
    theirs = np.zeros(n, dtype=bool)
    for col in ("nearest_rep", "rep"):
        if col in frame:
            theirs |= frame[col].map(lambda v: isinstance(v, str) and rep_key(v) == key).to_numpy()
    typed = frame["distance_km"].to_numpy(dtype=float) if "distance_km" in frame \
        else np.full(n, np.nan)
    fill = np.isnan(out) & theirs
    out[fill] = typed[fill]
    return pd.Series(out, index=frame.index)


@dataclass
class Territory:
    """One rep's three lists (frames with the plan frame's columns plus ``distance`` in km,
    ``gap`` to strong, ``visits`` a year), in the order to work them; ``beyond``: the
    rep's prospects farther than the reach; ``unlocated``: the rep's prospects listed
    without a distance; ``reach``: km; ``load``: the rep's load (Plan), a fraction or
    None; ``base``: (latitude, longitude) or None; ``first_letter``: the best category."""

    rep: str
    first: pd.DataFrame
    fragile: pd.DataFrame
    prospects: pd.DataFrame
    beyond: int
    unlocated: int
    reach: float
    load: Fraction | None
    base: tuple[float, float] | None
    first_letter: str
    accounts: int


def territory(frame: pd.DataFrame, rep: str, letters: list[str], reach: float,
              base: tuple[float, float] | None = None, detour: float = 1.0,
              load: Fraction | None = None) -> Territory:
    """``rep``'s territory (see the module docstring). ``frame``: the plan frame (one row
    per account: ``rep``, ``table`` group, ``status`` group in ``group``, ``category``,
    ``score``, ``fragile``, ``gap``, ``visits``, places); ``letters``: the categories,
    best first; ``reach``: km."""
    key = rep_key(rep)
    work = frame.copy()
    work["distance"] = distances(frame, rep, base, detour)
    mine = work["rep"].map(lambda v: isinstance(v, str) and rep_key(v) == key)
    nobody = work["rep"].map(lambda v: not (isinstance(v, str) and v.strip()))
    nearest = work["nearest_rep"].map(lambda v: isinstance(v, str) and rep_key(v) == key) \
        if "nearest_rep" in work else pd.Series(False, index=work.index)
    rank = work["category"].map({k: i for i, k in enumerate(letters)}).fillna(len(letters))
    work["_rank"] = rank
    work["_score"] = -pd.to_numeric(work["score"], errors="coerce").fillna(-np.inf)
    work["_pos"] = np.arange(len(work))
    first_letter = letters[0] if letters else ""
    prospect = work["group"] == PROSPECTS
    first = work[mine & ~prospect & (work["category"] == first_letter)].sort_values(
        ["_score", "_pos"])
    fragile = work[mine & work["fragile"].astype(bool) & work["gap"].notna()].copy()
    fragile["_gap"] = [-float(g) for g in fragile["gap"]]
    fragile = fragile.sort_values(["_gap", "_pos"]).drop(columns="_gap")
    near = work["distance"] <= reach
    unknown = work["distance"].isna()
    listed = prospect & ((mine & (near | unknown)) | (nobody & nearest & near))
    prospects = work[listed].sort_values(["_rank", "_score", "_pos"])
    drop = ["_rank", "_score", "_pos"]
    return Territory(rep=rep, first=first.drop(columns=drop), fragile=fragile.drop(columns=drop),
                     prospects=prospects.drop(columns=drop),
                     beyond=int((prospect & mine & ~near & ~unknown).sum()),
                     unlocated=int((prospect & mine & unknown).sum()), reach=reach, load=load,
                     base=base, first_letter=first_letter, accounts=int(mine.sum()))


# --- the Territory sheet -------------------------------------------------------------------

FACTS_ROW = 4
LISTS_ROW = 14
HEADER = (N_("Account id"), N_("Name"), N_("Status"), N_("Category"), N_("Score"),
          N_("Revenue N"), N_("Potential"), N_("Penetration"), N_("Gap to strong"),
          N_("Visits a year"), N_("Distance (km)"), N_("Salesperson"))
# the three lists share these columns: one number format per column, from LISTS_ROW down
COLUMN_FORMATS = {5: "0.0", 6: MONEY, 7: MONEY, 8: PERCENT, 9: MONEY, 10: "General", 11: "0"}


def _plain(v: Any) -> Any:
    if isinstance(v, Fraction):
        return float(round(v, 2))
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v


def _rows(table: pd.DataFrame) -> list[list[Any]]:
    out = []
    for _i, a in table.iterrows():
        pen = a.get("penetration")
        out.append([_plain(a.get("id")), _plain(a.get("name")), _plain(a.get("status")),
                    _plain(a.get("category")),
                    None if a.get("score") != a.get("score") else round(float(a["score"]), 1),
                    _plain(a.get("revenue")), _plain(a.get("potential")),
                    None if pen is None or pen != pen else round(float(pen), 4),
                    _plain(a.get("gap")), _plain(a.get("visits")),
                    None if a["distance"] != a["distance"] else round(float(a["distance"]), 1),
                    _plain(a.get("rep"))])
    return out


def territory_blocks(t: Territory, previous_rows: int = 0) -> list[Block]:
    """The Territory sheet: the rep's facts, then the three lists one under the other
    (rows below, up to ``previous_rows``, blanked)."""
    gap = sum((g for g in t.fragile["gap"]), Fraction(0))
    base = _("not located") if t.base is None or not all(v == v for v in t.base) else \
        f"{t.base[0]:.4f}, {t.base[1]:.4f}"
    facts = [[_("Salesperson"), t.rep], [_("Base"), base], [_("Accounts"), t.accounts],
             [_("{letter} accounts").format(letter=t.first_letter), len(t.first)],
             [_("Fragility zone: accounts"), len(t.fragile)],
             [_("Fragility zone: gap to strong"), float(round(gap, 2))],
             [_("Prospects within reach"), len(t.prospects)], [_("Reach (km)"), t.reach],
             [_("Load (Plan)"), None if t.load is None else round(float(t.load), 4)]]
    blocks = [Block(1, 1, [[_("Territory of {rep}: what to do first").format(rep=t.rep)],
                           [_("{letter} accounts first, then the fragility zone (move them up "
                              "the matrix), then the prospects within {reach:g} km.").format(
                               letter=t.first_letter, reach=t.reach)]],
                    formats=[Cells(0, 0, TITLE, fit=False), Cells(1, 0, SUBTITLE, fit=False)]),
              Block(FACTS_ROW, 1, facts, formats=[
                  Cells(0, 0, Look(bold=True), rows=len(facts)),
                  Cells(2, 1, Look(INTEGER), rows=5), Cells(5, 1, Look(MONEY)),
                  Cells(6, 1, Look(INTEGER)), Cells(8, 1, Look(PERCENT))])]
    head = [_(h) for h in HEADER]
    row = LISTS_ROW
    lists = [
        (_("1. {letter} accounts: visit them first (highest score first)").format(
            letter=t.first_letter), t.first, ""),
        (_("2. Fragility zone: move them up the matrix (largest gap to strong first)"),
         t.fragile, ""),
        (_("3. Prospects within {reach:g} km (best category first)").format(reach=t.reach),
         t.prospects, _notes(t))]
    body: list[Block] = []
    for title, table, note in lists:
        lines = [[title], head, *_rows(table)]
        if len(lines) == 2:
            lines.append([_("(none)")])
        if note:
            lines.append([note])
        body.append(Block(row, 1, lines, formats=[Cells(0, 0, Look(bold=True, size=12), fit=False),
                                                   Cells(1, 0, HEAD, cols=len(head))]))
        row += len(lines) + 1
    end = max(row, previous_rows)
    blocks.append(Block(LISTS_ROW, 1, [[None] * len(head)], clear_to_row=end,
                        clear_cols=len(head) + 2))
    return blocks + body


def _notes(t: Territory) -> str:
    parts = []
    if t.beyond:
        parts.append(_("{n} more of the rep's prospects are beyond {reach:g} km").format(
            n=t.beyond, reach=t.reach))
    if t.unlocated:
        parts.append(_("{n} listed without a distance (not located: give a postal code and "
                       "town, or coordinates)").format(n=t.unlocated))
    return "; ".join(parts)


def territory_text(t: Territory, most: int = 5) -> str:
    """The territory as the terminal shows it: the first accounts of each list."""
    lines = [_("Territory of {rep}: {a} {letter} account(s), {f} in the fragility zone, {p} "
               "prospect(s) within {reach:g} km").format(
        rep=t.rep, a=len(t.first), letter=t.first_letter, f=len(t.fragile),
        p=len(t.prospects), reach=t.reach)]
    for title, table in ((_("{letter} accounts").format(letter=t.first_letter), t.first),
                         (_("Fragility zone"), t.fragile),
                         (_("Prospects within reach"), t.prospects)):
        if not len(table):
            continue
        lines.append(f"  {title}:")
        for _i, a in table.head(most).iterrows():
            lines.append(f"    {str(a.get('id') or '?'):<10} {str(a.get('name') or '')[:32]:<32} "
                         f"{a.get('category') or '-':<3}")
    return "\n".join(lines)
