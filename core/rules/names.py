"""What a name in a rule means: the fields and scores a rule may read, with their types.

A rule reads account fields (the catalogue), fields the rule file declares (``fields:``)
or derives (``derive:``), the portfolio fields the pipeline computes before the rules
(penetration, tiers, nearest rep) and criterion scores (``score.<criterion>``, 0–100).
Each name has a kind (number or text), the scale a written percentage takes next to it,
and, for text with a fixed list of values, that list (so a typo in a value is caught).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..fields import NUMERIC_TYPES, PERCENT, RATING, STATUS, STATUSES, Catalogue
from ..i18n import _

NUMBER, TEXT, DATE = "number", "text", "date"
TODAY = "today"  # the date of the run (see `dates.today`), readable as a date
# How "20%" reads next to a number: 20 for a field in percent points or a 0–100 score,
# 0.2 for a share (penetration) or a computed expression, and refused elsewhere.
POINTS, FRACTION, NO_PERCENT = "points", "fraction", ""

SCORE_PREFIX = "score."

# A category name: a capital letter, then up to two capitals or digits, then an optional
# + or - (A, B, A+, A-, A1, AX, B2+). Case is ignored where a rule or test names one.
CATEGORY_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,2}[+-]?$")

# Declared with ``fields:`` in a rule file: the type names a consultant may write.
DECLARABLE_TYPES = {"text": TEXT, "number": NUMBER, "money": NUMBER, "integer": NUMBER,
                    "percent": NUMBER, "date": DATE}


@dataclass(frozen=True)
class NameInfo:
    name: str
    kind: str                      # NUMBER, TEXT or DATE
    scale: str = NO_PERCENT        # how a written percentage reads next to it
    choices: tuple[str, ...] = ()  # allowed text values, lower case (empty: any)
    source: str = "account"        # account, declared, derived, portfolio, score,
    #                                profile, outcome (final stage), switch (true/false)


PORTFOLIO_FIELDS: tuple[NameInfo, ...] = (
    NameInfo("penetration", NUMBER, FRACTION, source="portfolio"),
    NameInfo("potential_tier", TEXT, choices=("high", "medium", "low"), source="portfolio"),
    NameInfo("penetration_tier", TEXT, choices=("strong", "medium", "weak"), source="portfolio"),
    NameInfo("nearest_rep", TEXT, source="portfolio"),
    NameInfo("nearest_rep_km", NUMBER, source="portfolio"),
    NameInfo("confidence", NUMBER, FRACTION, source="portfolio"),
)


class Scope:
    """Every name a rule file may read, built once per rule file."""

    def __init__(self, catalogue: Catalogue, criteria: Iterable[str],
                 declared: Mapping[str, str] = (), derived: Iterable[str] = ()):
        self.catalogue = catalogue
        self.names: dict[str, NameInfo] = {}
        for f in catalogue.fields.values():
            if f.numeric:
                scale = POINTS if f.type == PERCENT else NO_PERCENT
                self.names[f.name] = NameInfo(f.name, NUMBER, scale)
            else:
                choices = STATUSES if f.type == STATUS else ()
                self.names[f.name] = NameInfo(f.name, TEXT, choices=choices)
        for info in PORTFOLIO_FIELDS:
            self.names[info.name] = info
        self.names.setdefault(TODAY, NameInfo(TODAY, DATE, source="today"))
        for name, type_name in dict(declared).items():
            kind = DECLARABLE_TYPES.get(type_name, NUMBER)
            scale = POINTS if type_name == PERCENT else NO_PERCENT
            self.names.setdefault(name, NameInfo(name, kind, scale, source="declared"))
        for name in derived:
            self.names.setdefault(name, NameInfo(name, NUMBER, source="derived"))
        self.criteria = tuple(criteria)
        # names the second stage reads (sub-scores, their bands, the cross), so that a
        # first-stage rule reading one is told to use stage: final
        self.after_rules: frozenset[str] = frozenset()
        for c in self.criteria:
            self.names[SCORE_PREFIX + c] = NameInfo(SCORE_PREFIX + c, NUMBER, POINTS,
                                                    source="score")

    def get(self, name: str) -> NameInfo | None:
        return self.names.get(name)

    def suggest(self, name: str) -> str | None:
        """The known name closest to a misspelt one (aliases count: "effectif" → headcount)."""
        if name.lower() in ("score", "category", "categorie", "catégorie"):
            return None  # computed after the rules: no field "looks like" them (not sector)
        if name.lower().startswith(SCORE_PREFIX):
            crit = name[len(SCORE_PREFIX):]
            hit = difflib.get_close_matches(crit.lower(), self.criteria, n=1, cutoff=0.6)
            return SCORE_PREFIX + hit[0] if hit else None
        if name.lower() in self.names:
            return name.lower()
        if name in self.criteria or name.lower() in self.criteria:
            # A bare criterion name: the rule probably means its score.
            return SCORE_PREFIX + name.lower()
        matched = self.catalogue.match(name)
        if matched:
            return matched
        plain = [n for n in self.names if not n.startswith(SCORE_PREFIX)]
        hit = difflib.get_close_matches(name.lower(), plain, n=1, cutoff=0.7)
        if hit:
            return hit[0]
        return self.catalogue.suggest(name)

    def describe(self, info: NameInfo) -> str:
        name = info.name
        if info.source == SWITCH:
            return _("{name} is true or false (write it alone: when: {name})").format(name=name)
        if info.source == "score":
            return _("{name} is a score (0–100)").format(name=name)
        if info.kind == DATE:
            return _("{name} is a date").format(name=name)
        if info.kind == TEXT:
            if info.choices:
                return _("{name} is text ({values})").format(name=name,
                                                            values=_or_list(info.choices))
            return _("{name} is text").format(name=name)
        if info.scale == FRACTION:
            return _("{name} is a share (0.25 = 25 %)").format(name=name)
        if info.scale == POINTS:
            return _("{name} is in percent points (12 = 12 %)").format(name=name)
        f = self.catalogue.fields.get(name)
        if f is not None and f.type in NUMERIC_TYPES and f.unit and f.type != RATING:
            return _("{name} is a number ({unit})").format(name=name, unit=f.unit)
        return _("{name} is a number").format(name=name)


def _or_list(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else _("{items} or {last}").format(
        items=", ".join(items[:-1]), last=items[-1])


def or_list(items: Iterable[str]) -> str:
    """``a, b or c`` for messages."""
    return _or_list(items)


# --- profiles and the second stage (``stage: final``) -------------------------------------

FLAG_PREFIX = "flag."
SWITCH = "switch"  # a true/false name (top80, flag.<name>): a condition on its own, 1 or 0


def flag_name(flag: str) -> str:
    """The name a final-stage rule reads a flag by: ``thin-data`` → ``flag.thin_data``."""
    return FLAG_PREFIX + flag.replace("-", "_").lower()


def add_profile(scope: Scope, names: Iterable[str]) -> None:
    """``profile``: the account's profile, readable by rules of both stages."""
    scope.names["profile"] = NameInfo("profile", TEXT, choices=tuple(n.lower() for n in names),
                                      source="profile")


BAND_SUFFIX = ".band"  # a sub-score's band, read by a final-stage rule: fit.band
CROSS = "cross"        # the cross cell of two sub-scores (A1 … C3)


def subscore_names(subscores: Mapping[str, object] = (), cross: object = None) -> list[str]:
    """The names a final-stage rule reads for the sub-scores: ``fit`` (its points),
    ``fit.band`` (its band) per sub-score, and ``cross`` when the file has one."""
    out = []
    for name in dict(subscores):
        out += [name, name + BAND_SUFFIX]
    if cross is not None:
        out.append(CROSS)
    return out


def final_scope(scope: Scope, letters: Iterable[str], flags: Iterable[str],
                subscores: Mapping[str, object] = (), cross: object = None) -> Scope:
    """What a ``stage: final`` rule reads: everything a first-stage rule reads, plus the
    outcome of the first stage: ``score`` (on the model's scale), ``category`` (a letter,
    blank when the account has none), ``top80`` and one ``flag.<name>`` per flag the first
    stage sets (true/false, written alone as a condition: ``when: top80 and not
    flag.thin_data``); per sub-score (`potentiel.scoremodels.SubScore`) its points by its
    name (``fit``) and its band (``fit.band``, one of its band names); ``cross``, the cell
    of the file's cross (``A1`` … ``C3``)."""
    out = Scope.__new__(Scope)
    out.__dict__.update(scope.__dict__)
    out.names = dict(scope.names)
    out.names["score"] = NameInfo("score", NUMBER, POINTS, source="outcome")
    out.names["category"] = NameInfo("category", TEXT,
                                     choices=tuple(x.lower() for x in letters), source="outcome")
    out.names["top80"] = NameInfo("top80", NUMBER, source=SWITCH)
    for f in flags:
        out.names[flag_name(f)] = NameInfo(flag_name(f), NUMBER, source=SWITCH)
    subscores = dict(subscores)
    for name, sub in subscores.items():
        bands = tuple(str(b).lower() for b, _low in getattr(sub, "bands", ()))
        out.names[name] = NameInfo(name, NUMBER, source="outcome")
        out.names[name + BAND_SUFFIX] = NameInfo(name + BAND_SUFFIX, TEXT, choices=bands,
                                                 source="outcome")
    if cross is not None:
        rows = subscores.get(cross.rows)
        columns = subscores.get(cross.columns)
        cells = tuple(f"{a}{b}".lower() for a, _x in getattr(rows, "bands", ())
                      for b, _y in getattr(columns, "bands", ()))
        out.names[CROSS] = NameInfo(CROSS, TEXT, choices=cells, source="outcome")
    return out
