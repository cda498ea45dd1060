"""Checking a rule file's score model: ``score:``, ``subscores:`` and ``cross:``.

Reads them into `potentiel.scoremodels` objects, reporting every mistake at its line with
what to write instead. The shapes::

    score: points                      # or weighted (the default), or:
    score:
      model: points                    # weighted | points | imported
      scale: 0 to 1000                 # a number is the top (from 0)
      groups:                          # points only: criteria worth a share of points
        profile: {points: 400, weights: {age: 50, legal_form: 50}}
    score: {model: imported, field: crm_score, scale: 0 to 100}

    subscores:
      fit: {label: Fit, tables: [size, industry], bands: {A: 60, B: 30, C: 0}}
      engagement: {field: visits_score, bands: {"1": 50, "2": 20, "3": 0}}
    cross: [fit, engagement]           # the cell: A1 … C3
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..i18n import _
from ..scoremodels import (IMPORTED, MODELS, POINTS, WEIGHTED, Cross, Group, ScoreModel,
                           SubScore, parse_scale)
from .names import CROSS, NUMBER
from .sections import did_you_mean, plain_number
from .source import LineDict, LineList

SCORE_KEYS = ("model", "scale", "field", "groups")
GROUP_KEYS = ("points", "weights")
SUBSCORE_KEYS = ("label", "tables", "field", "bands")
_BAND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+-]{0,3}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ScoreModelChecks:
    """Mixed into `Builder`: needs ``self.m``, ``self.criteria``, ``self.error``,
    ``self.warn``."""

    def score_model(self, scope, point_tables: dict) -> ScoreModel:
        item = self.m.score
        if item is None:
            return ScoreModel()
        raw, where = item.value, item.where
        if isinstance(raw, str):
            raw = {"model": raw}
        if not isinstance(raw, dict):
            self.error(_("score: write score: points, score: weighted, or keys such as "
                         "{model: points, scale: 0 to 1000}"), where)
            return ScoreModel()
        at = lambda key: f"{item.source}:{raw.line_of(key)}" \
            if isinstance(raw, LineDict) else where  # noqa: E731
        for key in raw:
            if key not in SCORE_KEYS:
                self.error(_('score: unknown key "{key}"{did_you_mean}; score has '
                             "{keys}").format(key=key, did_you_mean=did_you_mean(key, SCORE_KEYS),
                                              keys=", ".join(SCORE_KEYS)), at(key))
        kind = raw.get("model", IMPORTED if "field" in raw else WEIGHTED)
        kind = kind.strip().casefold() if isinstance(kind, str) else kind
        if kind not in MODELS:
            self.error(_("score: model is {models}, not {value!r}{did_you_mean}").format(
                           models=", ".join(MODELS), value=raw.get("model"),
                           did_you_mean=did_you_mean(kind, MODELS)), at("model"))
            return ScoreModel()
        low, high = (0.0, 100.0) if kind == WEIGHTED else (0.0, None)
        if "scale" in raw:
            scale = parse_scale(raw["scale"])
            if kind == WEIGHTED:
                self.error(_("score: a weighted score is 0 to 100; a scale is for points or "
                             "imported scores (model: points)"), at("scale"))
            elif scale is None:
                self.error(_("score: scale is the range of the score, e.g. scale: 0 to 1000 "
                             "(or scale: 1000), not {value!r}").format(value=raw["scale"]),
                           at("scale"))
            else:
                low, high = scale
        fld = ""
        if kind == IMPORTED:
            fld = self._number_field(raw.get("field"), "score", at("field") if "field" in raw
                                     else where, scope)
        elif "field" in raw:
            self.error(_("score: field is for an imported score (model: imported)"),
                       at("field"))
        groups: tuple[Group, ...] = ()
        if "groups" in raw:
            if kind != POINTS:
                self.error(_("score: groups are for a points score (model: points)"),
                           at("groups"))
            else:
                groups = self._groups(raw["groups"], item.source, at("groups"))
        return ScoreModel(kind, low, high, fld, groups, where)

    def _number_field(self, name: Any, what: str, where: str, scope) -> str:
        info = scope.get(name) if isinstance(name, str) else None
        if info is None or info.kind != NUMBER or info.source in ("score", "portfolio"):
            hint = scope.suggest(name) if isinstance(name, str) and info is None else None
            extra = _(" (did you mean {name}?)").format(name=hint) if hint else ""
            self.error(_("{what}: field names the number column holding the score, e.g. "
                         "field: crm_score (declared under fields: as number); {name!r} is not "
                         "one{did_you_mean}").format(what=what, name=name, did_you_mean=extra),
                       where)
            return ""
        return info.name

    def _groups(self, raw: Any, src: str, where: str) -> tuple[Group, ...]:
        if not isinstance(raw, LineDict) or not raw:
            self.error(_("score: groups lists groups of criteria, e.g. groups: {profile: "
                         "{points: 400, weights: {age: 50, legal_form: 50}}}"), where)
            return ()
        out, seen = [], {}
        for name, entry in raw.items():
            at = f"{src}:{raw.line_of(name)}"
            if not isinstance(entry, LineDict):
                self.error(_("score: group {name} is {{points: …, weights: {{criterion: "
                             "weight, …}}}}").format(name=name), at)
                continue
            for key in entry:
                if key not in GROUP_KEYS:
                    self.error(_('score: group {name} has an unknown key "{key}"'
                                 "{did_you_mean}; a group has points and weights").format(
                                   name=name, key=key, did_you_mean=did_you_mean(key, GROUP_KEYS)),
                               at)
            points = plain_number(entry.get("points"))
            if points is None or points <= 0:
                self.error(_("score: group {name} needs points: the points it is worth when "
                             "every criterion scores 100 (e.g. points: 400)").format(name=name),
                           at)
                continue
            weights = entry.get("weights")
            if not isinstance(weights, LineDict) or not weights:
                self.error(_("score: group {name} needs weights: the criteria inside it, each "
                             "with its weight (relative, as under weights:)").format(name=name),
                           at)
                continue
            given, ok = {}, True
            for crit, w in weights.items():
                value = plain_number(w)
                if crit not in self.criteria:
                    self.error(_('score: group {name}: unknown criterion "{crit}"'
                                 "{did_you_mean}").format(
                                   name=name, crit=crit,
                                   did_you_mean=did_you_mean(crit, self.criteria)), at)
                    ok = False
                elif crit in seen:
                    self.error(_("score: {crit} is in two groups ({first} and {name}); a "
                                 "criterion counts once").format(
                                   crit=crit, first=seen[crit], name=name), at)
                    ok = False
                elif value is None or value < 0:
                    self.error(_("score: group {name}: the weight of {crit} is a number, 0 or "
                                 "more, not {value!r}").format(name=name, crit=crit, value=w), at)
                    ok = False
                else:
                    given[str(crit)] = value
                    seen[str(crit)] = str(name)
            total = sum(given.values())
            if not ok:
                continue
            if total <= 0:
                self.error(_("score: group {name}: every weight is 0").format(name=name), at)
                continue
            out.append(Group(str(name), points, {c: w / total for c, w in given.items()}))
        return tuple(out)

    def subscores(self, scope, point_tables: dict) -> dict[str, SubScore]:
        out: dict[str, SubScore] = {}
        used: dict[str, str] = {}
        for name, item in self.m.subscores.items():
            raw, at = item.value, item.where
            if not _NAME.match(name):
                self.error(_('subscores: "{name}" is not a usable name: lower-case letters, '
                             "digits and _").format(name=name), at)
                continue
            if name in self.criteria or name in point_tables:
                self.error(_('subscores: "{name}" is already a criterion or a table; give the '
                             "sub-score another name").format(name=name), at)
                continue
            if scope.get(name) is not None or name == CROSS:
                self.error(_('subscores: "{name}" is already a field (final-stage rules '
                             "read a sub-score by its name); give the sub-score another name, "
                             "e.g. {name}_score").format(name=name), at)
                continue
            if not isinstance(raw, LineDict):
                self.error(_("subscores: {name} is {{tables: [...], bands: {{A: 60, B: 30, "
                             "C: 0}}}} or {{field: …, bands: …}}").format(name=name), at)
                continue
            ok = True
            for key in raw:
                if key not in SUBSCORE_KEYS:
                    self.error(_('subscores: {name} has an unknown key "{key}"{did_you_mean}; '
                                 "a sub-score has {keys}").format(
                                   name=name, key=key,
                                   did_you_mean=did_you_mean(key, SUBSCORE_KEYS),
                                   keys=", ".join(SUBSCORE_KEYS)),
                               f"{item.source}:{raw.line_of(key)}")
                    ok = False
            tables: tuple[str, ...] = ()
            fld = ""
            if ("tables" in raw) == ("field" in raw):
                self.error(_("subscores: {name} needs either tables: (points tables it adds "
                             "up) or field: (a column holding the score), one of the "
                             "two").format(name=name), at)
                continue
            if "field" in raw:
                fld = self._number_field(raw["field"], _("subscores: {name}").format(name=name),
                                         at, scope)
                ok = ok and bool(fld)
            else:
                listed = raw["tables"] if isinstance(raw["tables"], list) else [raw["tables"]]
                for t in listed:
                    if t not in point_tables:
                        self.error(_('subscores: {name}: "{table}" is not a points table of '
                                     "this file{did_you_mean} (a table with gives: "
                                     "points)").format(
                                       name=name, table=t,
                                       did_you_mean=did_you_mean(t, point_tables)), at)
                        ok = False
                    elif t in used:
                        self.warn(_("subscores: the table {table} counts in {first} and "
                                    "{name}").format(table=t, first=used[t], name=name), at)
                    used.setdefault(str(t), name)
                tables = tuple(str(t) for t in listed)
            bands = self._sub_bands(name, raw.get("bands"), at)
            if bands is None or not ok:
                continue
            label = str(raw.get("label") or name)
            out[name] = SubScore(name, label, tables, fld, bands, at)
        return out

    def _sub_bands(self, name: str, raw: Any, where: str):
        if not isinstance(raw, LineDict) or len(raw) < 2:
            self.error(_("subscores: {name} needs bands: at least two, best first, each "
                         "name: lowest score, e.g. bands: {{A: 60, B: 30, C: 0}}").format(
                           name=name), where)
            return None
        out, previous = [], math.inf
        for band, low in raw.items():
            band = str(band).strip()
            value = plain_number(low)
            if not _BAND.match(band):
                self.error(_('subscores: {name}: "{band}" is not a band name: a letter or '
                             "digit, then up to three more (A, B, 1, 2, A+)").format(
                               name=name, band=band), where)
                return None
            if value is None:
                self.error(_("subscores: {name}: band {band} needs a number, its lowest "
                             "score").format(name=name, band=band), where)
                return None
            if value >= previous:
                self.error(_("subscores: {name}: list the bands best first, each lower than "
                             "the one before ({band}: {value:g})").format(
                               name=name, band=band, value=value), where)
                return None
            previous = value
            out.append((band, value))
        return tuple(out)

    def cross(self, subscores: dict[str, SubScore]) -> Cross | None:
        item = self.m.cross
        if item is None:
            return None
        raw = item.value
        if not isinstance(raw, list) or len(raw) != 2 or raw[0] == raw[1]:
            self.error(_("cross: name two sub-scores, rows then columns, e.g. "
                         "cross: [fit, engagement] (cells A1 … C3)"), item.where)
            return None
        for name in raw:
            if name not in subscores:
                self.error(_('cross: "{name}" is not a sub-score of this file'
                             "{did_you_mean}").format(
                               name=name, did_you_mean=did_you_mean(name, subscores)),
                           item.where)
                return None
        return Cross(str(raw[0]), str(raw[1]))

    def check_scale(self, model: ScoreModel, categories) -> None:
        """Category bands off the model's scale are errors; weighted points above 100 too."""
        if categories is None or categories.mode != "bands":
            return
        where = self.m.categories_where
        scale = _("{low:g} to {high:g}").format(low=model.low, high=model.high) \
            if model.high is not None else _("from {low:g}").format(low=model.low)
        for band in categories.bands:
            if band.min < model.low or (model.high is not None and band.min > model.high):
                self.error(_("categories: {letter} starts at {min:g}, outside the score's "
                             "scale ({scale}); move it, or change score: scale").format(
                               letter=band.letter, min=band.min, scale=scale), where)

    def check_points(self, rules, model: ScoreModel, subscores: dict[str, SubScore]) -> None:
        """``points:`` of each rule: a sub-score it names must exist (and be a points one);
        in a weighted model, at most 100 either way."""
        for rule in rules:
            value = rule.action("points")
            if value is None:
                continue
            if isinstance(value, dict):
                for name in value:
                    if name == "score":
                        continue
                    sub = subscores.get(name)
                    if sub is None:
                        self.error(_('rule "{rule_id}": points: "{name}" is not a sub-score '
                                     "of this file{did_you_mean}; write points: 10 for the "
                                     "score itself").format(
                                       rule_id=rule.id, name=name,
                                       did_you_mean=did_you_mean(name, subscores)), rule.where)
                continue
            if model.kind == WEIGHTED and abs(value) > 100:
                self.error(_('rule "{rule_id}": points: {value:g} is too many for a weighted '
                             "score (0 to 100): at most 100 either way, or use score: "
                             "points").format(rule_id=rule.id, value=value), rule.where)
