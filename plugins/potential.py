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

from potentiel import Derivation, Input, hookimpl
from potentiel.plugins._scales import AmountCriterion


class Potential(AmountCriterion):
    name = "potential"
    label = "Potential"
    description = "Revenue the account could bring, on a log scale across the portfolio"
    inputs = (Input("potential", "money", unit="€", label="Potential"),)
    default_weight = 25


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
