"""Prescription: the account's influence beyond its own purchases.

A 0–5 rating typed by the rep: does the account prescribe us to others, may it buy more,
what is its standing in its market. Score = rating × 20 (0 → 0, 5 → 100), clipped to
0–100 in case a value out of range gets through. Blank when not rated.

Reason: ``"prescription 4/5"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Scored, hookimpl
from potentiel.plugins._scales import Part, number, numbers, render, shown


class Prescription(Criterion):
    name = "prescription"
    label = "Prescription"
    description = "Influence, prescription and market reputation, rated 0–5"
    inputs = (Input("prescription", "rating", unit="0-5", label="Prescription"),)
    params = {}
    default_weight = 10

    def score(self, accounts, params):
        rating = numbers(accounts, "prescription")
        score = np.clip(rating, 0.0, 5.0) * 20.0  # clip first: no overflow on absurd input
        reason = render([Part([shown(rating, 1)], _text)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _text(rating):
    return "prescription not rated" if rating is None else f"prescription {number(rating)}/5"


@hookimpl
def register_criteria(register):
    register(Prescription())
