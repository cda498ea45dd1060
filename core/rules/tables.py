"""Tables: criteria written in the rule file, from bands of a number or a lookup of values.

```yaml
tables:
  size:                        # the criterion: weights: {size: 20}, score.size, "Score: size"
    label: Company size
    field: headcount
    bands:                     # lowest first; a band runs from its "from" up to the next one
      - {from: 1,    score: 20}
      - {from: 11,   score: 40}
      - {from: 1001, score: 100}
    otherwise: 0               # below the first band, or in a gap (see "below")
    missing: 0                 # a blank field (left out: unknown, the weights rest on others)
  industry:
    field: sector
    lookup:
      Banque: 100
      Assurance: 100
      Industrie: 50
      otherwise: 10            # a value not listed: required for a lookup
```

A band may end before the next one starts with ``below:`` (``{from: 1, below: 10, score:
5}``): values from 10 up to the next ``from`` are then a *gap* (they get ``otherwise``,
and ``rules check`` warns, naming both lines); a ``below`` past the next ``from``, or two
bands with the same ``from``, is an *overlap*: an error naming both lines. Lookup values
match as text comparisons do, ignoring case, accents and surrounding spaces (or as
numbers, for a number field); two values that match the same text are an error. Every
score is 0 to 100. A `TableCriterion` is a `Criterion` like a plugin's: weighted, shown as
``Score: <name>`` with a reason per account, readable by rules as ``score.<name>``.

A *points table* (``gives: points``, or bands written ``{from: 1, points: 5}``) gives
points instead: any number, negative too, never clipped, added as they are to a points
score or a sub-score (`potentiel.scoremodels`); it is not a criterion (no weight, not
``score.<name>``) and shows as ``Score: <name>``, the points it gave.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..criterion import Criterion, Input, Scored
from ..i18n import _
from .logic import plain_key
from .names import NUMBER, TEXT, Scope
from .sections import did_you_mean, plain_number
from .source import LineDict, LineList

TABLE_KEYS = ("label", "description", "field", "gives", "bands", "lookup", "otherwise",
              "missing")
BAND_KEYS = ("from", "below", "score", "points")
GIVES = ("score", "points")  # a 0–100 criterion score, or points added as they are
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Band:
    start: float
    below: float | None   # None: up to the next band's start (or no end for the last)
    score: float
    line: int


class TableCriterion(Criterion):
    """A criterion defined by a table of the rule file (see the module docstring)."""

    def __init__(self, name: str, label: str, description: str, field: str, kind: str,
                 field_type: str, bands: tuple[Band, ...] = (),
                 lookup: Mapping[Any, tuple[str, float]] | None = None,
                 otherwise: float | None = None, missing: float | None = None,
                 where: str = "", gives: str = "score"):
        self.name = name
        self.label = label or name.replace("_", " ").capitalize()
        self.description = description or _("table of the rule file ({where})").format(
            where=where)
        self.field = field
        self.kind = kind
        self.inputs = (Input(field, field_type),)
        self.params = {}
        self.default_weight = 0.0
        self.bands = bands
        self.lookup = dict(lookup or {})
        self.otherwise = otherwise
        self.missing = missing
        self.where = where
        self.gives = gives  # "score" (0–100, a criterion) or "points" (added as they are)

    def __repr__(self) -> str:
        return f"<Table {self.name} ({self.where})>"

    def score(self, accounts: pd.DataFrame, params: Mapping[str, Any]) -> Scored:
        column = accounts[self.field] if self.field in accounts else \
            pd.Series([None] * len(accounts), index=accounts.index, dtype=object)
        words = _words()  # once a call: the reasons are worded per account
        if self.bands:
            scores, reasons = self._bands(column, words)
        else:
            scores, reasons = self._lookup(column, words)
        return Scored(pd.Series(scores, index=accounts.index, dtype=float),
                      pd.Series(reasons, index=accounts.index, dtype=object))

    def _blank(self, reasons: list, scores: np.ndarray, i: int, words: dict) -> None:
        if self.missing is not None:
            scores[i] = self.missing
            reasons[i] = words["blank to"].format(field=self.field, score=self.missing)
        else:
            reasons[i] = words["blank"].format(field=self.field)

    def _bands(self, column: pd.Series, words: dict) -> tuple[np.ndarray, list]:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        scores = np.full(len(values), np.nan)
        reasons: list = [None] * len(values)
        ends = [b.below if b.below is not None else
                (self.bands[k + 1].start if k + 1 < len(self.bands) else math.inf)
                for k, b in enumerate(self.bands)]
        for i, v in enumerate(values):
            if not math.isfinite(v):
                self._blank(reasons, scores, i, words)
                continue
            for band, end in zip(self.bands, ends):
                if band.start <= v < end:
                    scores[i] = band.score
                    said = words["band"] if math.isfinite(end) else words["last band"]
                    reasons[i] = said.format(field=self.field, value=v, start=band.start,
                                             end=end, score=band.score)
                    break
            else:
                if self.otherwise is not None:
                    scores[i] = self.otherwise
                    reasons[i] = words["no band to"].format(field=self.field, value=v,
                                                            score=self.otherwise)
                else:
                    reasons[i] = words["no band"].format(field=self.field, value=v)
        return scores, reasons

    def _lookup(self, column: pd.Series, words: dict) -> tuple[np.ndarray, list]:
        scores = np.full(len(column), np.nan)
        reasons: list = [None] * len(column)
        for i, raw in enumerate(column.tolist()):
            key = _key(raw, self.kind)
            if key is None:
                self._blank(reasons, scores, i, words)
                continue
            shown = f"{raw:g}" if isinstance(raw, float) else f'"{str(raw).strip()}"'
            if key in self.lookup:
                written, score = self.lookup[key]
                scores[i] = score
                reasons[i] = f"{self.field} {shown} → {score:g}"
            elif self.otherwise is not None:
                scores[i] = self.otherwise
                reasons[i] = words["not listed"].format(field=self.field, value=shown,
                                                        score=self.otherwise)
        return scores, reasons


def _words() -> dict[str, str]:
    """The reasons a table gives, in the run's language (``.format`` fields: field, value,
    start, end, score)."""
    return {"blank": _("{field} blank"), "blank to": _("{field} blank → {score:g}"),
            "band": _("{field} {value:g}: from {start:g} to {end:g} → {score:g}"),
            "last band": _("{field} {value:g}: from {start:g} up → {score:g}"),
            "no band": _("{field} {value:g}: in no band"),
            "no band to": _("{field} {value:g}: in no band → {score:g}"),
            "not listed": _("{field} {value}: not listed → {score:g}")}


MAX_TABLE_POINTS = 1_000_000


def _gives(raw: LineDict) -> str | None:
    """What a table gives: ``gives:`` as written, else points when a band says ``points:``."""
    if "gives" in raw:
        value = raw["gives"]
        value = value.strip().casefold() if isinstance(value, str) else value
        return value if value in GIVES else None
    bands = raw.get("bands")
    if isinstance(bands, LineList) and any(isinstance(b, LineDict) and "points" in b
                                           for b in bands):
        return "points"
    return "score"


def _fits(value: float | None, gives: str) -> bool:
    if value is None:
        return False
    if gives == "points":
        return abs(value) <= MAX_TABLE_POINTS
    return 0 <= value <= 100


def _what(gives: str) -> str:
    return _("a number of points (negative for fewer)") if gives == "points" else \
        _("a score from 0 to 100")


def _is_otherwise(value: Any) -> bool:
    return isinstance(value, str) and value.strip().casefold() in ("otherwise", "sinon")


def _key(value: Any, kind: str):
    """How a lookup value matches: text as `plain_key`, numbers as floats; None if blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == NUMBER:
        f = plain_number(value)
        if f is None and isinstance(value, str):
            try:
                f = float(value.strip())
            except ValueError:
                return None
        return f
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = plain_key(value)
    return key or None


class TableChecks:
    """Mixed into `Builder`: reads ``tables:`` into `TableCriterion` objects, reporting
    every mistake at its line; gaps are warnings, overlaps errors."""

    def tables(self, scope: Scope) -> dict[str, TableCriterion]:
        out: dict[str, TableCriterion] = {}
        for name, item in self.m.tables.items():
            table = self.table(str(name), item, scope)
            if table is not None:
                out[table.name] = table
        return out

    def table(self, name: str, item, scope: Scope) -> TableCriterion | None:
        src, raw = item.source, item.value
        where = item.where
        if not _NAME.match(name):
            self.error(_('tables: "{name}" is not a usable name: lower-case letters, digits '
                         "and _ (it becomes the criterion's name, as in weights: {{{lower}: "
                         "20}})").format(name=name, lower=name.lower()), where)
            return None
        if name in self.criteria:
            self.error(_('tables: "{name}" is already a criterion; give the table another '
                         "name").format(name=name), where)
            return None
        if not isinstance(raw, LineDict):
            self.error(_("tables: {name} must hold field: and bands: or lookup:, e.g. "
                         "{name}: {{field: headcount, bands: [{{from: 0, score: 10}}]}}").format(
                           name=name), where)
            return None
        at = lambda key: f"{src}:{raw.line_of(key)}"  # noqa: E731
        ok = True
        for key in raw:
            if key not in TABLE_KEYS:
                self.error(_('tables: {name} has an unknown key "{key}"{did_you_mean}; a '
                             "table has {keys}").format(
                               name=name, key=key, did_you_mean=did_you_mean(key, TABLE_KEYS),
                               keys=", ".join(TABLE_KEYS)), at(key))
                ok = False
        field_name = raw.get("field")
        info = scope.get(str(field_name)) if isinstance(field_name, str) else None
        if info is None or info.source in ("score", "today") or info.kind not in (NUMBER, TEXT):
            hint = scope.suggest(str(field_name)) if isinstance(field_name, str) else None
            extra = _(" (did you mean {name}?)").format(name=hint) if hint and info is None \
                else ""
            message = _('tables: {name} "{field}" is not a field it can read{did_you_mean}') \
                if field_name else _("tables: {name} needs field: the account field it scores, "
                                     "e.g. field: headcount")
            self.error(message.format(name=name, field=field_name, did_you_mean=extra),
                       at("field") if "field" in raw else where)
            return None
        has_bands, has_lookup = "bands" in raw, "lookup" in raw
        if has_bands == has_lookup:
            self.error(_("tables: {name} needs either bands: (ranges of a number) or lookup: "
                         "(a score per value), one of the two").format(name=name), where)
            return None
        gives = _gives(raw)
        if gives is None:
            self.error(_("tables: {name}: gives is score (0 to 100, a weighted criterion) or "
                         "points (added as they are), not {value!r}").format(
                           name=name, value=raw.get("gives")), at("gives"))
            return None
        self._gives = gives
        otherwise = self._table_score(name, raw, "otherwise")
        missing = self._table_score(name, raw, "missing")
        if otherwise is False or missing is False:
            ok = False
        otherwise = otherwise if otherwise is not False else None
        missing = missing if missing is not False else None
        field_type = self._field_type(info.name)
        common = dict(name=name, label=str(raw.get("label") or ""),
                      description=str(raw.get("description") or ""), field=info.name,
                      kind=info.kind, field_type=field_type, otherwise=otherwise,
                      missing=missing, where=where, gives=gives)
        if has_bands:
            if info.kind != NUMBER:
                self.error(_("tables: {name}: bands need a number field, but {field} is "
                             "text: use lookup: for text values").format(
                               name=name, field=info.name), at("field"))
                return None
            bands = self._table_bands(name, raw["bands"], src, at("bands"), otherwise)
            if bands is None or not ok:
                return None
            return TableCriterion(bands=bands, **common)
        row = next((k for k in raw["lookup"] if _is_otherwise(k)), None) \
            if isinstance(raw["lookup"], LineDict) else None
        if row is not None:
            if "otherwise" in raw:
                self.error(_("tables: {name}: otherwise is given twice (in the lookup and "
                             "beside it): keep one").format(name=name), at("otherwise"))
                return None
            lookup_raw = raw["lookup"]
            value = plain_number(lookup_raw[row])
            if not _fits(value, gives):
                self.error(_("tables: {name}: otherwise is {what}, not {value!r}").format(
                               name=name, what=_what(gives), value=lookup_raw[row]),
                           f"{src}:{lookup_raw.line_of(row)}")
                return None
            otherwise = common["otherwise"] = value
        if otherwise is None and row is None:
            self.error(_("tables: {name}: add otherwise: with the score of a value the lookup "
                         "does not list (e.g. otherwise: 0)").format(name=name), at("lookup"))
            ok = False
        lookup = self._table_lookup(name, raw["lookup"], src, at("lookup"), info.kind)
        if lookup is None or not ok:
            return None
        return TableCriterion(lookup=lookup, **common)

    def _field_type(self, field_name: str) -> str:
        f = self.catalogue.fields.get(field_name)
        if f is not None:
            return f.type
        declared = self.m.fields.get(field_name)
        if declared is not None and isinstance(declared.value, str):
            return declared.value
        return "number"

    def _table_score(self, name: str, raw: LineDict, key: str):
        """A 0–100 score under ``key`` (None when absent, False when wrong)."""
        if key not in raw:
            return None
        value = plain_number(raw[key])
        if not _fits(value, getattr(self, "_gives", "score")):
            self.error(_("tables: {name}: {key} is {what}, not {value!r}").format(
                           name=name, key=key, what=_what(self._gives), value=raw[key]),
                       f"{self.m.tables[name].source}:{raw.line_of(key)}")
            return False
        return value

    def _table_bands(self, name, items, src, where, otherwise) -> tuple[Band, ...] | None:
        if not isinstance(items, LineList) or not items:
            self.error(_("tables: {name}: bands is a list, one band a line, e.g. "
                         "- {{from: 0, score: 10}}").format(name=name), where)
            return None
        bands, ok = [], True
        for k, entry in enumerate(items):
            line = items.line_of(k)
            at = f"{src}:{line}"
            if not isinstance(entry, LineDict):
                self.error(_("tables: {name}: each band is {{from: …, score: …}}").format(
                               name=name), at)
                ok = False
                continue
            for key in entry:
                if key not in BAND_KEYS:
                    self.error(_('tables: {name}: a band has from, below and score, not '
                                 '"{key}"{did_you_mean}').format(
                                   name=name, key=key, did_you_mean=did_you_mean(key, BAND_KEYS)),
                               at)
                    ok = False
            start = plain_number(entry.get("from"))
            below = plain_number(entry.get("below")) if "below" in entry else None
            gives = getattr(self, "_gives", "score")
            key = "points" if gives == "points" else "score"
            if ("points" if key == "score" else "score") in entry:
                message = _("tables: {name}: a band of this table gives score: write {{from: "
                            "…, score: …}} (or gives: points on the table, for points)") \
                    if key == "score" else _("tables: {name}: a band of this table gives "
                                             "points: write {{from: …, points: …}}")
                self.error(message.format(name=name), at)
                ok = False
                continue
            score = plain_number(entry.get(key))
            if start is None:
                self.error(_("tables: {name}: this band needs from: a number (the band starts "
                             "there, included)").format(name=name), at)
                ok = False
                continue
            if "below" in entry and (below is None or below <= start):
                self.error(_("tables: {name}: below is a number above from ({start:g})").format(
                               name=name, start=start), at)
                ok = False
                continue
            if not _fits(score, gives):
                self.error(_("tables: {name}: {key} is {what}, not {value!r}").format(
                               name=name, key=key, what=_what(gives), value=entry.get(key)), at)
                ok = False
                continue
            bands.append(Band(start, below, score, line))
        if not ok:
            return None
        ordered = sorted(bands, key=lambda b: b.start)
        if ordered != bands:
            self.error(_("tables: {name}: list the bands from the lowest up (each from higher "
                         "than the one before)").format(name=name), where)
            return None
        for a, b in zip(bands, bands[1:]):
            if a.start == b.start:
                self.error(_("tables: {name}: two bands start at {start:g} (lines {line} and "
                             "{other}): they overlap; each edge is written once").format(
                               name=name, start=a.start, line=a.line, other=b.line),
                           f"{src}:{b.line}")
                ok = False
            elif a.below is not None and a.below > b.start:
                self.error(_("tables: {name}: the band from {start:g} below {below:g} (line "
                             "{line}) overlaps the band from {next:g} (line {other}); end it "
                             "below {next:g}, or leave below out").format(
                               name=name, start=a.start, below=a.below, line=a.line,
                               next=b.start, other=b.line), f"{src}:{a.line}")
                ok = False
            elif a.below is not None and a.below < b.start:
                fills = _("they score otherwise ({score:g})").format(score=otherwise) \
                    if otherwise is not None else \
                    _("they score blank (unknown); add otherwise: to give them a score")
                self.warn(_("tables: {name}: values from {below:g} up to {next:g} fall in no "
                            "band (a gap between lines {line} and {other}): {fills}").format(
                              name=name, below=a.below, next=b.start, line=a.line,
                              other=b.line, fills=fills), f"{src}:{a.line}")
        return tuple(bands) if ok else None

    def _table_lookup(self, name, mapping, src, where, kind) -> dict | None:
        if not isinstance(mapping, LineDict) or not mapping:
            self.error(_("tables: {name}: lookup lists value: score pairs, e.g. "
                         "lookup: {{Banque: 100, Industrie: 50}}").format(name=name), where)
            return None
        out: dict = {}
        lines: dict = {}
        ok = True
        for value, score_raw in mapping.items():
            at = f"{src}:{mapping.line_of(value)}"
            if _is_otherwise(value):
                continue  # the default row, read by `table`
            score = plain_number(score_raw)
            gives = getattr(self, "_gives", "score")
            if not _fits(score, gives):
                self.error(_("tables: {name}: {value}: {what}, not {score!r}").format(
                               name=name, value=value, what=_what(gives), score=score_raw), at)
                ok = False
                continue
            if kind == NUMBER and plain_number(value) is None:
                self.error(_("tables: {name}: the field is a number, so each value listed is a "
                             "number, not {value!r}").format(name=name, value=value), at)
                ok = False
                continue
            key = _key(value, kind)
            if key is None:
                self.error(_("tables: {name}: an empty value cannot be listed: use missing: for "
                             "a blank field").format(name=name), at)
                ok = False
                continue
            if key in out:
                self.error(_('tables: {name}: "{value}" and "{same}" are the same value (case '
                             "and accents are ignored), lines {line} and {other}: keep "
                             "one").format(name=name, value=value, same=out[key][0],
                                           line=lines[key], other=mapping.line_of(value)), at)
                ok = False
                continue
            out[key] = (str(value), score)
            lines[key] = mapping.line_of(value)
        return out if ok else None
