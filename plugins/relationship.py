"""Relationship: the quality and history of our relationship with the account.

A 1–5 rating given by the rep (subjective on purpose: it captures what figures miss).
Score = (rating − 1) / 4 × 100, so 1 → 0, 3 → 50, 5 → 100, clipped to 0–100 in case a
value out of range gets through. Blank when not rated.

Reason: ``"relationship 3/5"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Scored, hookimpl
from potentiel.plugins._scales import Part, number, numbers, render, shown


class Relationship(Criterion):
    name = "relationship"
    label = "Relationship"
    description = "Quality and history of the relationship, rated 1–5 by the rep"
    inputs = (Input("relationship", "rating", unit="1-5", label="Relationship"),)
    params = {}
    default_weight = 5

    def score(self, accounts, params):
        rating = numbers(accounts, "relationship")
        score = (np.clip(rating, 1.0, 5.0) - 1.0) * 25.0  # clip first: no overflow on absurd input
        reason = render([Part([shown(rating, 1)], _text)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _text(rating):
    return "relationship not rated" if rating is None else f"relationship {number(rating)}/5"


@hookimpl
def register_criteria(register):
    register(Relationship())
