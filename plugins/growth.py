"""Growth: the account's own development (its growth, not our revenue with it).

Reads ``growth_pct`` in percent points (12 means +12 %). Straight line from ``low`` (−10 %
and below → 0) to ``high`` (+20 % and above → 100). The rule file may add points by
sector through ``sector_outlook`` (e.g. ``{Construction: -10, Healthcare: 10}``; the
sector is matched ignoring case and accents); the result is clipped to 0–100. Blank when
growth is unknown: the sector alone does not say how the account is doing.

Reason: ``"+12 % growth"``, or ``"+12 % growth, Healthcare outlook +10"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Param, Scored, _, hookimpl
from potentiel.plugins._scales import (Coded, Part, as_is, clean_text, fold, linear, number,
                                       number_param, numbers, render, shown, signed_percent,
                                       texts)


class Growth(Criterion):
    name = "growth"
    label = "Growth"
    description = "The account's own growth, optionally adjusted by sector outlook"
    inputs = (
        Input("growth_pct", "percent", unit="%", label="Growth %"),
        Input("sector", "text", label="Sector"),
    )
    params = {
        "low": Param(-10, "growth (%) at or below which the score is 0"),
        "high": Param(20, "growth (%) at or above which the score is 100"),
        "sector_outlook": Param({}, "points added per sector, e.g. {Construction: -10}"),
    }
    default_weight = 10

    def score(self, accounts, params):
        p = self.resolve_params(params)
        low = number_param(p, "low", self.name)
        high = number_param(p, "high", self.name)
        if high <= low:
            raise ValueError(_("growth: high ({high:g}) must be above low ({low:g})").format(
                high=high, low=low))
        outlook = _outlook(p.get("sector_outlook"))

        growth = numbers(accounts, "growth_pct")
        base = linear(growth, low, high)

        # Sector points: looked up once per distinct sector text.
        codes, distinct = pd.factorize(texts(accounts, "sector"), use_na_sentinel=True)
        names = [clean_text(s, limit=30) for s in distinct]
        points = np.array([outlook.get(fold(s), 0.0) if s else 0.0 for s in names] + [0.0])
        bonus = points[codes]
        score = np.where(np.isnan(base), np.nan, np.clip(base + bonus, 0.0, 100.0))

        # The sector's part of the reason, written once per distinct sector, and only said
        # where it changed a score.
        said = np.empty(len(names), dtype=object)
        said[:] = [_("{sector} outlook {points}").format(
                       sector=s, points=("+" if pts > 0 else "") + number(pts)) if pts else None
                   for s, pts in zip(names, points[:-1])]
        sector_codes = np.where(np.isnan(growth), -1, codes)
        reason = render([Part([shown(growth, 1)], _growth),
                         Part([Coded(sector_codes, said)], as_is)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _outlook(value) -> dict[str, float]:
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(_("growth: sector_outlook must map sectors to points, "
                           "e.g. {example}").format(example="{Construction: -10, Healthcare: 10}"))
    out = {}
    for sector, pts in value.items():
        try:
            out[fold(str(sector))] = float(pts)
        except (TypeError, ValueError):
            raise ValueError(_("growth: sector_outlook for {sector!r} must be a number of "
                               "points, got {points!r}").format(sector=sector,
                                                               points=pts)) from None
        if not np.isfinite(out[fold(str(sector))]):
            raise ValueError(_("growth: sector_outlook for {sector!r} must be finite").format(
                sector=sector))
    return out


def _growth(growth):
    if growth is None:
        return _("growth unknown")
    return _("{growth} growth").format(growth=signed_percent(growth))


@hookimpl
def register_criteria(register):
    register(Growth())
