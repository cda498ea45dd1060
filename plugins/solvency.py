"""Solvency: the account's financial strength and how well it pays.

Three components, each 0–100, averaged with ``weights`` (incidents 0.4, DSO 0.3, rating
0.3 by default) over the ones that are known for the account; blank when none is.

- Payment incidents (last 12 months): 0 → 100, minus ``per_incident`` (25) each, floor 0.
- DSO (days sales outstanding): ``dso_good`` (30) days or less → 100, ``dso_bad`` (120) or
  more → 0, straight line between.
- Credit rating, read case-insensitively:
  - agency grades AAA, AA+, AA, AA-, A+, A, A-, BBB+ … BB … B … CCC+, CCC, CCC-, CC, C, D
    (S&P / Fitch style, evenly spaced from AAA = 100 to D = 0; SD and RD are D) and
    Moody's equivalents (Aaa, Aa1 … Baa3 … Caa3, Ca, C);
  - a simple A / B / C / D scale (A = 100, B = 67, C = 33, D = 0). A single letter is read
    on this scale unless the portfolio also holds agency grades (AA, BBB+…), in which case
    "A" means the agency's A;
  - risk words: "faible" / "low" (risk) → 100, "moyen" / "medium" → 50, "élevé" / "high"
    → 0 ("risque faible", "low risk", "very high" and the like work too);
  - numbers: "14/20" or "3/5" against their own denominator, "70 %" out of 100, a bare
    "14" or "7.5" out of ``rating_scale_max`` (20).
  Any other text leaves the rating component blank and the reason says so.

Reason: ``"2 payment incidents, DSO 75 days, rating BBB"``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from potentiel import Criterion, Input, Param, Scored, _, hookimpl, ngettext
from potentiel.plugins._scales import (NAN, Coded, Part, as_is, clean_text, fold, linear, number,
                                       number_param, numbers, render, shown, texts,
                                       weighted_mean, weights_param)

_AGENCY = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB",
           "BB-", "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C", "D")
_AGENCY_SCORE = {g: 100.0 * (1 - i / (len(_AGENCY) - 1)) for i, g in enumerate(_AGENCY)}
_AGENCY_SCORE.update({"SD": 0.0, "RD": 0.0})
_MOODYS = ("aaa", "aa1", "aa2", "aa3", "a1", "a2", "a3", "baa1", "baa2", "baa3", "ba1", "ba2",
           "ba3", "b1", "b2", "b3", "caa1", "caa2", "caa3", "ca", "c")
# Moody's grades line up one to one with the agency grades above (Ca = CC, C = C).
_MOODYS_SCORE = {m: _AGENCY_SCORE[g] for m, g in zip(_MOODYS, _AGENCY)}
_SIMPLE = {"A": 100.0, "B": 200 / 3, "C": 100 / 3, "D": 0.0}

_RISK_WORDS = {
    "faible": 100.0, "low": 100.0, "bas": 100.0, "tres faible": 100.0, "very low": 100.0,
    "moyen": 50.0, "moyenne": 50.0, "medium": 50.0, "moderate": 50.0, "modere": 50.0,
    "moderee": 50.0, "average": 50.0,
    "eleve": 0.0, "elevee": 0.0, "high": 0.0, "fort": 0.0, "forte": 0.0,
    "tres eleve": 0.0, "tres elevee": 0.0, "very high": 0.0,
}
_NOISE = re.compile(r"\b(risque|risk|de|du)\b")
_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:(/)\s*(\d+(?:[.,]\d+)?)|(%))?$")


def _rating(text: str, scale_max: float, agency_letters: bool) -> float:
    """One rating text → 0–100, or NaN if not understood."""
    upper = text.replace(" ", "").upper()
    if upper in _SIMPLE and not agency_letters:
        return _SIMPLE[upper]
    if upper in _AGENCY_SCORE:
        return _AGENCY_SCORE[upper]
    if upper.lower() in _MOODYS_SCORE:
        return _MOODYS_SCORE[upper.lower()]
    m = _NUMBER.match(text)
    if m:
        value = float(m.group(1).replace(",", "."))
        if m.group(4):  # "70 %"
            top = 100.0
        elif m.group(2):  # "14/20", "3/5": out of their own denominator
            top = float(m.group(3).replace(",", "."))
        else:
            top = scale_max
        return value / top * 100.0 if 0 < top and value <= top else NAN
    words = _NOISE.sub(" ", fold(text).replace("-", " "))
    return _RISK_WORDS.get(" ".join(words.split()), NAN)


def _is_agency_grade(text: str) -> bool:
    upper = text.replace(" ", "").upper()
    return upper not in _SIMPLE and (upper in _AGENCY_SCORE or upper.lower() in _MOODYS_SCORE)


class Solvency(Criterion):
    name = "solvency"
    label = "Solvency"
    description = "Financial strength and payment quality: incidents, DSO, credit rating"
    inputs = (
        Input("payment_incidents", "integer", label="Payment incidents"),
        Input("dso_days", "number", unit="days", label="DSO (days)"),
        Input("credit_rating", "text", label="Credit rating"),
    )
    params = {
        "per_incident": Param(25, "points lost per payment incident (from 100, floor 0)"),
        "dso_good": Param(30, "DSO (days) at or below which the DSO component scores 100"),
        "dso_bad": Param(120, "DSO (days) at or above which the DSO component scores 0"),
        "rating_scale_max": Param(20, "what a bare numeric rating is out of (14 → 14/20)"),
        "weights": Param({"incidents": 0.4, "dso": 0.3, "rating": 0.3},
                         "weight of each component; renormalised over the known ones"),
    }
    default_weight = 10

    def score(self, accounts, params):
        p = self.resolve_params(params)
        per_incident = number_param(p, "per_incident", self.name)
        good = number_param(p, "dso_good", self.name)
        bad = number_param(p, "dso_bad", self.name)
        if bad <= good:
            raise ValueError(_("solvency: dso_bad ({bad:g}) must be above dso_good "
                               "({good:g})").format(bad=bad, good=good))
        scale_max = number_param(p, "rating_scale_max", self.name, positive=True)
        weights = weights_param(p, self.params["weights"].default, self.name)

        incidents = numbers(accounts, "payment_incidents")
        dso = numbers(accounts, "dso_days")
        with np.errstate(over="ignore", invalid="ignore"):
            by_incidents = np.clip(100.0 - per_incident * incidents, 0.0, 100.0)
        by_dso = linear(dso, bad, good)

        # Ratings are read once per distinct text, then spread back with one lookup.
        raw = texts(accounts, "credit_rating")
        codes, distinct = pd.factorize(raw, use_na_sentinel=True)
        typed = [clean_text(t) for t in distinct]
        agency = any(s is not None and _is_agency_grade(s) for s in typed)
        values = np.array([NAN if s is None else _rating(s, scale_max, agency) for s in typed]
                          + [NAN])
        by_rating = values[codes]  # code -1 (blank) picks the trailing NaN
        # The rating's part of the reason, written once per distinct text.
        said = np.empty(len(typed), dtype=object)
        said[:] = [None if s is None else _("rating {rating}").format(rating=s)
                   if not np.isnan(v) else _('rating "{rating}" not understood').format(rating=s)
                   for s, v in zip(typed, values)]

        score = weighted_mean([by_incidents, by_dso, by_rating],
                              [weights["incidents"], weights["dso"], weights["rating"]])
        reason = render([Part([shown(np.maximum(incidents, 0.0))], _incidents),
                         Part([shown(dso)], _dso),
                         Part([Coded(codes, said)], as_is)], accounts.index,
                        empty=_("no solvency data"))
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)


def _incidents(count):
    if count is None:
        return None
    if count == 0:
        return _("no payment incident")
    return ngettext("{n} payment incident", "{n} payment incidents",
                    int(count)).format(n=number(count))


def _dso(days):
    return None if days is None else _("DSO {days} days").format(days=number(days, 0))


@hookimpl
def register_criteria(register):
    register(Solvency())
