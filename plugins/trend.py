"""Trend: is our revenue with the account rising or falling over the last two years?

Growth last year g1 = (N − N-1) / N-1 and the year before g2 = (N-1 − N-2) / N-2. The
trend is ``weight_n1`` · g1 + (1 − ``weight_n1``) · g2 (0.6 / 0.4 by default: the latest
year counts most), or g1 alone when N-2 is unknown or zero. Score = 50 + 50 ·
clip(trend / ``full_at``, −1, 1): flat revenue scores 50, +20 % a year (default
``full_at``) or more scores 100, −20 % or worse scores 0.

Needs N and N-1 (blank otherwise). Revenue appearing this year (N-1 zero or negative,
N positive) scores 100, "new revenue"; no revenue in either year scores 50.

Reason: ``"+12 % vs N-1, +5 % the year before"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from potentiel import N_, Criterion, Input, Param, Scored, _, hookimpl
from potentiel.plugins._scales import (NAN, Part, number_param, numbers, render, shown,
                                       signed_percent)

# Growth shown in reasons is capped here: past ±10,000 % the exact figure says nothing more.
_SHOWN_CAP = 9999.0


class Trend(Criterion):
    name = "trend"
    label = "Revenue trend"
    description = "Revenue growth over the last two years (N vs N-1, N-1 vs N-2)"
    inputs = (
        Input("revenue", "money", unit="€", label="Revenue N"),
        Input("revenue_n1", "money", unit="€", label="Revenue N-1"),
        Input("revenue_n2", "money", unit="€", label="Revenue N-2"),
    )
    params = {
        "full_at": Param(0.20, "yearly growth scoring 100 (0.20 = +20 %); "
                               "the same decline scores 0"),
        "weight_n1": Param(0.6, "share of last year's growth in the trend; "
                                "the year before gets the rest"),
    }
    default_weight = 10

    def score(self, accounts, params):
        p = self.resolve_params(params)
        full_at = number_param(p, "full_at", self.name, positive=True)
        w1 = number_param(p, "weight_n1", self.name)
        if not 0 <= w1 <= 1:
            raise ValueError(_("trend: weight_n1 must be between 0 and 1, got {w1:g}").format(
                w1=w1))
        n0 = numbers(accounts, "revenue")
        n1 = numbers(accounts, "revenue_n1")
        n2 = numbers(accounts, "revenue_n2")
        n = len(n0)

        # Growth is only a ratio over a positive base; other cases are handled apart.
        # Absurd figures (1e300 over 1e-300) overflow; capping growth at ±1e12 keeps
        # them finite, so the weighted trend can never become inf − inf.
        with np.errstate(over="ignore", invalid="ignore"):
            g1 = np.divide(n0 - n1, n1, out=np.full(n, NAN), where=n1 > 0)
            g2 = np.divide(n1 - n2, n2, out=np.full(n, NAN), where=n2 > 0)
        g1 = np.clip(g1, -1e12, 1e12)
        g2 = np.clip(g2, -1e12, 1e12)
        g2 = np.where(np.isnan(g1), NAN, g2)
        trend = np.where(np.isnan(g2), g1, w1 * g1 + (1 - w1) * g2)
        with np.errstate(over="ignore"):  # a tiny full_at: any growth is full marks
            score = 50.0 + 50.0 * np.clip(trend / full_at, -1.0, 1.0)

        known = ~np.isnan(n0) & ~np.isnan(n1)
        new = known & (n1 <= 0) & (n0 > 0)
        none = known & (n1 <= 0) & (n0 <= 0)
        score = np.where(new, 100.0, np.where(none, 50.0, score))

        # Reason keys: growth in whole percents (capped), plus what kind of case it is.
        case = np.select([~np.isnan(n0) & np.isnan(n1), np.isnan(n0), new, none],
                         [1.0, 2.0, 3.0, 4.0], 0.0)
        shown1 = shown(g1 * 100, cap=_SHOWN_CAP)
        shown2 = shown(g2 * 100, cap=_SHOWN_CAP)
        reason = render([Part([case], _case), Part([shown1], _vs_n1),
                         Part([shown2], _year_before)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _percent(value: float) -> str:
    text = signed_percent(value)
    return _("over {percent}").format(percent=text) if value >= _SHOWN_CAP else text


_CASES = {1.0: N_("no trend: revenue N-1 unknown"), 2.0: N_("no trend: revenue N unknown"),
          3.0: N_("new revenue (none in N-1)"), 4.0: N_("no revenue in N or N-1")}


def _case(case):
    text = _CASES.get(case)
    return None if text is None else _(text)


def _vs_n1(growth):
    return None if growth is None else _("{growth} vs N-1").format(growth=_percent(growth))


def _year_before(growth):
    if growth is None:
        return None
    return _("{growth} the year before").format(growth=_percent(growth))


@hookimpl
def register_criteria(register):
    register(Trend())
