"""Potential: how much the account could buy from us, on current and future products.

Reads the ``potential`` field: the explicit potential a person typed or, where that is
blank, the one the core derived before the criteria run. This module registers that
derivation: headcount × spend per employee (the office-supplies method: staff × average
spend per employee); a rule file's ``derive: potential: …`` replaces it.

Scored like revenue, on a logarithmic scale: by default 0 at the portfolio's 10th
percentile of positive potentials and 100 at its 95th, straight line on the log between;
zero or negative potential scores 0. ``low`` and ``high`` (€) fix the scale instead.
Prospects are targeted on potential × accessibility, so this criterion weighs heavily.

Reason: ``"potential 180 k€, top 10 %"``.
"""

from __future__ import annotations

from potentiel import Criterion, Derivation, Input, Param, Scored, hookimpl
from potentiel.plugins._scales import amount_scores, number_param, numbers


class Potential(Criterion):
    name = "potential"
    label = "Potential"
    description = "Revenue the account could bring, on a log scale across the portfolio"
    inputs = (Input("potential", "money", unit="€", label="Potential"),)
    params = {
        "low": Param(None, "potential (€) scoring 0; blank = the portfolio's 10th percentile"),
        "high": Param(None, "potential (€) scoring 100; "
                            "blank = the portfolio's 95th percentile"),
    }
    default_weight = 25

    def score(self, accounts, params):
        p = self.resolve_params(params)
        low = number_param(p, "low", self.name, allow_none=True)
        high = number_param(p, "high", self.name, positive=True, allow_none=True)
        if low is not None and high is not None and low > high:
            raise ValueError(f"potential: low ({low:g}) must be below high ({high:g})")
        score, reason = amount_scores(numbers(accounts, "potential"), low, high, "potential",
                                      accounts.index)
        return Scored(score, reason)


def _headcount_times_spend(accounts, context):
    # The core keeps a typed potential and uses this only where potential is blank.
    return accounts["headcount"] * accounts["spend_per_employee"]


@hookimpl
def register_criteria(register):
    register(Potential())


@hookimpl
def register_derivations(register):
    register(Derivation(field="potential", inputs=("headcount", "spend_per_employee"),
                        compute=_headcount_times_spend,
                        label="headcount × spend per employee"))
