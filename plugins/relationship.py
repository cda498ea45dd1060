"""Relationship: the quality and history of our relationship with the account.

A 1–5 rating given by the rep (subjective on purpose: it captures what figures miss).
Score = (rating − 1) / 4 × 100, so 1 → 0, 3 → 50, 5 → 100, clipped to 0–100 in case a
value out of range gets through. Blank when not rated.

Reason: ``"relationship 3/5"``.
"""

from __future__ import annotations

from potentiel import Input, hookimpl
from potentiel.plugins._scales import RatingCriterion


class Relationship(RatingCriterion):
    name = "relationship"
    label = "Relationship"
    description = "Quality and history of the relationship, rated 1–5 by the rep"
    inputs = (Input("relationship", "rating", unit="1-5", label="Relationship"),)
    lowest = 1.0
    default_weight = 5


@hookimpl
def register_criteria(register):
    register(Relationship())
