"""Prescription: the account's influence beyond its own purchases.

A 0–5 rating typed by the rep: does the account prescribe us to others, may it buy more,
what is its standing in its market. Score = rating × 20 (0 → 0, 5 → 100), clipped to
0–100 in case a value out of range gets through. Blank when not rated.

Reason: ``"prescription 4/5"``.
"""

from __future__ import annotations

from potentiel import Input, hookimpl
from potentiel.plugins._scales import RatingCriterion


class Prescription(RatingCriterion):
    name = "prescription"
    label = "Prescription"
    description = "Influence, prescription and market reputation, rated 0–5"
    inputs = (Input("prescription", "rating", unit="0-5", label="Prescription"),)
    lowest = 0.0
    default_weight = 10


@hookimpl
def register_criteria(register):
    register(Prescription())
