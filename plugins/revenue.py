"""Revenue: how much the account buys from us today.

Measures the revenue of the last full year (N) on a logarithmic scale, because account
sizes spread over several orders of magnitude: by default 0 at the portfolio's 10th
percentile of positive revenues and 100 at its 95th percentile (a few giants must not
flatten everybody else), straight line on the log of revenue between the two. Revenue of
zero or less scores 0. Set ``low`` and ``high`` (in €) in the rule file to fix the scale
instead, e.g. to compare runs over time. When the portfolio gives no usable span (all
positive revenues equal), the scale is linear from 0 to ``high``.

Reason: ``"revenue 180 k€, top 8 %"`` (where the account stands in the portfolio).
"""

from __future__ import annotations

from potentiel import Input, hookimpl
from potentiel.plugins._scales import AmountCriterion


class Revenue(AmountCriterion):
    name = "revenue"
    label = "Revenue"
    description = "Revenue of the last full year, on a log scale across the portfolio"
    inputs = (Input("revenue", "money", unit="€", label="Revenue N"),)
    default_weight = 25


@hookimpl
def register_criteria(register):
    register(Revenue())
