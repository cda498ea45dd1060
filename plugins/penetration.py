"""Penetration (share of wallet): how much of the account's potential we already win.

Share = revenue ÷ potential (potential 2,000, revenue 500 → 25 %). Score =
clip(share / ``full_at``, 0, 1) · 100: a 60 % share (default ``full_at``) or more scores
100, so 25 % scores 41.7. Negative revenue counts as a share of 0.

Blank where potential is missing, zero or negative (there is nothing to divide by) or
where revenue is missing. A share above 100 % scores 100 but the reason flags it: the
potential is probably underestimated.

Its default weight is 0: penetration mainly feeds the portfolio matrix (potential ×
penetration, and its fragility zone); give it a weight in the rule file to make a low
share count against, or for, an account.

Reason: ``"share of wallet 25 %"``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Param, Scored, _, hookimpl
from potentiel.plugins._scales import (NAN, Part, number, number_param, numbers, render,
                                       shown)


class Penetration(Criterion):
    name = "penetration"
    label = "Penetration"
    description = "Share of wallet: revenue as a share of the account's potential"
    inputs = (
        Input("revenue", "money", unit="€", label="Revenue N"),
        Input("potential", "money", unit="€", label="Potential"),
    )
    params = {
        "full_at": Param(0.60, "share of wallet scoring 100 (0.60 = 60 %)"),
    }
    default_weight = 0

    def score(self, accounts, params):
        p = self.resolve_params(params)
        full_at = number_param(p, "full_at", self.name, positive=True)
        revenue = numbers(accounts, "revenue")
        potential = numbers(accounts, "potential")
        n = len(revenue)
        usable = (potential > 0) & ~np.isnan(revenue)
        with np.errstate(over="ignore"):  # 1e300 / 1e-300: a share of inf, clipped below
            share = np.divide(np.maximum(revenue, 0.0), potential, out=np.full(n, NAN),
                              where=usable)
            score = np.clip(share / full_at, 0.0, 1.0) * 100.0

        # Reason keys: the share in percent (one decimal under 10 %), and the case.
        case = np.select([~(potential > 0), np.isnan(revenue), revenue < 0],
                         [1.0, 2.0, 3.0], 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            pct = share * 100.0
        pct = np.where(pct < 10, shown(pct, 1), shown(pct))
        reason = render([Part([case, pct], _Words.of().text)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


class _Words(NamedTuple):
    """The reason's words in the run's language, translated once per run (not once per
    distinct share)."""

    no_potential: str
    no_revenue: str
    negative: str
    above: str
    share: str

    @classmethod
    def of(cls) -> "_Words":
        return cls(_("no potential: penetration unknown"),
                   _("no revenue figure: penetration unknown"),
                   _("share of wallet 0 % (negative revenue)"),
                   _("revenue above potential ({share} %): check the potential"),
                   _("share of wallet {share} %"))

    def text(self, case, pct):
        if case == 1:
            return self.no_potential
        if case == 2:
            return self.no_revenue
        if case == 3:
            return self.negative
        if pct > 100:
            return self.above.format(share=number(pct))
        return self.share.format(share=number(pct))


@hookimpl
def register_criteria(register):
    register(Penetration())
