"""Accessibility: can a rep reach the account, and win it, profitably?

Two components, each 0–100, averaged with ``weights`` (distance 0.7, competitors 0.3 by
default) over the ones known for the account; blank when neither is.

- Distance to the nearest rep: ``near_km`` (50) or less → 100, ``far_km`` (600) or more →
  0, straight line between. When the account's ``distance_km`` was blank, the core has
  already filled it from coordinates (account and reps' bases).
- Entrenched competitors: 100 − ``per_competitor`` (25) per competitor, floor 0.

Reason: ``"420 km from Paul Martin, 2 entrenched competitors"``. The rep is named when the
core found the nearest one (column ``nearest_rep``) and the distance scored is that rep's;
otherwise the reason says "from the nearest rep".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Param, Scored, _, hookimpl, ngettext
from potentiel.plugins._scales import (Coded, Part, clean_text, linear, number, number_param,
                                       numbers, render, shown, texts, weighted_mean,
                                       weights_param)


class Accessibility(Criterion):
    name = "accessibility"
    label = "Accessibility"
    description = "Distance to the nearest rep and entrenched competitors"
    inputs = (
        Input("distance_km", "number", unit="km", label="Distance (km)"),
        Input("competitors", "integer", label="Competitors"),
    )
    params = {
        "near_km": Param(50, "distance (km) at or below which the distance component scores 100"),
        "far_km": Param(600, "distance (km) at or above which the distance component scores 0"),
        "per_competitor": Param(25, "points lost per entrenched competitor (from 100, floor 0)"),
        "weights": Param({"distance": 0.7, "competitors": 0.3},
                         "weight of each component; renormalised over the known ones"),
    }
    default_weight = 5

    def score(self, accounts, params):
        p = self.resolve_params(params)
        near = number_param(p, "near_km", self.name)
        far = number_param(p, "far_km", self.name)
        if far <= near:
            raise ValueError(_("accessibility: far_km ({far:g}) must be above near_km "
                               "({near:g})").format(far=far, near=near))
        per_competitor = number_param(p, "per_competitor", self.name)
        weights = weights_param(p, self.params["weights"].default, self.name)

        distance = numbers(accounts, "distance_km")
        competitors = numbers(accounts, "competitors")
        by_distance = linear(distance, far, near)
        with np.errstate(over="ignore", invalid="ignore"):
            by_competitors = np.clip(100.0 - per_competitor * competitors, 0.0, 100.0)
        score = weighted_mean([by_distance, by_competitors],
                              [weights["distance"], weights["competitors"]])

        # Kilometres to the unit: a reason saying "760 km" for 755 would mislead next to a
        # 600 km rule.
        shown_km = shown(distance, cap=1e7)
        shown_competitors = shown(np.maximum(competitors, 0.0))  # NaN stays NaN
        # Competitors as -(n + 1) where the distance is unknown, so the reason can say so.
        competitors_key = np.where(np.isnan(distance), -shown_competitors - 1, shown_competitors)
        words = (_("{km} km from the nearest rep"), _("{km} km from {rep}"))  # once a run
        reason = render([Part([shown_km, _rep_names(accounts, distance)],
                              lambda km, rep: _distance(km, rep, words)),
                         Part([competitors_key], _competitors)], accounts.index,
                        empty=_("distance and competitors unknown"))
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _rep_names(accounts: pd.DataFrame, distance: np.ndarray) -> Coded:
    """The nearest rep's name where the distance scored is the distance to that rep."""
    codes, distinct = pd.factorize(texts(accounts, "nearest_rep"), use_na_sentinel=True)
    names = np.empty(len(distinct), dtype=object)
    names[:] = [clean_text(s, limit=40) for s in distinct]
    if "nearest_rep_km" in accounts:
        # A distance typed by a person wins over the computed one; then the rep found from
        # coordinates is not the one that distance is to, and naming them would mislead.
        rep_km = numbers(accounts, "nearest_rep_km")
        same = np.abs(distance - rep_km) <= 0.5
        if "nearest_rep_road_km" in accounts:  # with a detour factor: that km by road
            same |= np.abs(distance - numbers(accounts, "nearest_rep_road_km")) <= 0.5
        codes = np.where(same, codes, -1)
    return Coded(codes, names)


def _distance(km, rep, words=None):
    if km is None:
        return None
    nearest, named = words or (_("{km} km from the nearest rep"), _("{km} km from {rep}"))
    if not rep:
        return nearest.format(km=number(km, 0))
    return named.format(km=number(km, 0), rep=rep)


def _competitors(key):
    if key is None:
        return None
    if key < 0:
        return _("distance unknown, {competitors}").format(competitors=_competitors(-key - 1))
    if key == 0:
        return _("no entrenched competitor")
    return ngettext("{n} entrenched competitor", "{n} entrenched competitors",
                    int(key)).format(n=number(key))


@hookimpl
def register_criteria(register):
    register(Accessibility())
