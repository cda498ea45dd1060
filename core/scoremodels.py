"""Score models: how an account's score is built, its sub-scores and their cross.

Three models, chosen by a rule file's ``score:`` (see docs/rules.md, "Score models"):

- ``weighted`` (the default): the weighted mean of the criteria, 0 to 100, plus rule
  points, kept within 0 to 100;
- ``points``: the sum from 0 of the points tables (``gives: points``), the criteria of
  ``groups:`` (each worth a share of its group's points, times its 0–100 score) and the
  rules' ``points:``, on a declared scale such as 0 to 1000: never cut at the top (the
  raw total is shown), never below the scale's bottom (a points score starts there);
- ``imported``: a score read from a column (a CRM's own), plus rule points, on its scale.

Sub-scores (``subscores:``) are further named totals per account (``fit``,
``engagement``), each a points sum or an imported column, each with its own bands; the
cross of two (``cross: [fit, engagement]``) is the cell of their matrix, the two band
names side by side (``A1`` … ``C3``). All of it is computed here, after the rules, from
the rules' outcome (the same `RulesResult` for both engines): durable_rules only decides
which rule fires.

The pipeline calls `model_weights` (which criteria a model weights), `compute` (the
totals, after the rules) and `output_columns` (the columns to write).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .fields import SCORE_PREFIX
from .i18n import _
from .problems import Problem

WEIGHTED, POINTS, IMPORTED = "weighted", "points", "imported"
MODELS = (WEIGHTED, POINTS, IMPORTED)
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Group:
    """Criteria worth ``points`` together, each its share (relative weights) of them."""

    name: str
    points: float
    shares: dict[str, float]   # criterion → share of the group's points (sums to 1)


@dataclass(frozen=True)
class ScoreModel:
    """``kind``: weighted, points or imported; ``low``/``high``: the scale (``high`` None:
    no top); ``field``: the imported column; ``groups``: weighted groups of a points model."""

    kind: str = WEIGHTED
    low: float = 0.0
    high: float | None = 100.0
    field: str = ""
    groups: tuple[Group, ...] = ()
    where: str = ""

    @property
    def scale(self) -> str:
        return f"{self.low:g} to {self.high:g}" if self.high is not None else f"from {self.low:g}"


@dataclass(frozen=True)
class SubScore:
    """A named sub-score: the points of ``tables`` (and rules' ``points: {name: n}``), or
    the imported column ``field``; ``bands``: (band name, min), best first."""

    name: str
    label: str
    tables: tuple[str, ...] = ()
    field: str = ""
    bands: tuple[tuple[str, float], ...] = ()
    where: str = ""

    def band(self, values: pd.Series) -> pd.Series:
        out = np.full(len(values), None, dtype=object)
        v = values.to_numpy(dtype=float)
        done = np.isnan(v)
        for name, low in self.bands:
            hit = ~done & (v >= low)
            out[hit] = name
            done |= hit
        return pd.Series(out, index=values.index, dtype=object)


@dataclass(frozen=True)
class Cross:
    """The cell of two sub-scores' matrix: the row's band name then the column's."""

    rows: str
    columns: str


@dataclass
class ModelScores:
    """What `compute` gives: ``total`` per account (the Score column), the points each
    points table gave, each sub-score with its band, and the cross cell."""

    total: pd.Series
    table_points: dict[str, pd.Series] = field(default_factory=dict)
    subscores: dict[str, pd.Series] = field(default_factory=dict)
    bands: dict[str, pd.Series] = field(default_factory=dict)
    cell: pd.Series | None = None
    cross: Cross | None = None
    kind: str = WEIGHTED


def model_criteria(ruleset: Any, criteria: Mapping[str, Any]) -> dict[str, Any]:
    """The criteria a run scores: all of them for a weighted model; for a points or an
    imported one, those its groups count and those a rule reads (``score.<name>``), so
    that criteria out of the model neither show nor warn about their missing columns."""
    model = model_of(ruleset)
    if model.kind == WEIGHTED:
        return dict(criteria)
    wanted = {c for g in model.groups for c in g.shares} | \
        set(getattr(ruleset, "criteria_read", ()) or ())
    return {name: c for name, c in criteria.items() if name in wanted}


def confidence(ruleset: Any, accounts: pd.DataFrame, scores: pd.DataFrame,
               weighted: pd.Series) -> pd.Series:
    """Confidence, 0–1 per account. Weighted model: ``weighted`` (the share of the weight
    on known criteria). Points model: the share of its parts (each points table, each
    criterion of a group) that could score the account (a table's ``missing:`` counts as
    scored). Imported: 1 where the column is filled, else 0."""
    model = model_of(ruleset)
    if model.kind == WEIGHTED:
        return weighted
    index = accounts.index
    if model.kind == IMPORTED:
        return _imported(accounts, model.field).notna().astype(float)
    parts = [_table_points(t, accounts).notna()
             for t in (getattr(ruleset, "point_tables", None) or {}).values()]
    parts += [scores[c].notna() for g in model.groups for c in g.shares if c in scores]
    if not parts:
        return pd.Series(1.0, index=index)
    return (sum(p.astype(float) for p in parts) / len(parts)).round(9)


def model_of(ruleset: Any) -> ScoreModel:
    return getattr(ruleset, "score_model", None) or ScoreModel()


def model_weights(ruleset: Any, criteria: Mapping[str, Any],
                  weights: Mapping[str, float]) -> dict[str, float]:
    """The weight of each criterion in the model: ``weights`` for a weighted model; for a
    points model, the points its groups give it (a criterion in no group is out of the
    model, weight 0); for an imported one, none."""
    model = model_of(ruleset)
    if model.kind == WEIGHTED:
        return {name: float(weights.get(name, getattr(c, "default_weight", 0)))
                for name, c in criteria.items()}
    out = {name: 0.0 for name in criteria}
    for group in model.groups:
        for name, share in group.shares.items():
            out[name] = out.get(name, 0.0) + group.points * share
    return out


def compute(ruleset: Any, accounts: pd.DataFrame, scores: pd.DataFrame, weighted: pd.Series,
            rules: Any, warnings: list[Problem],
            cell: Callable[[Any, str], str] | None = None) -> ModelScores:
    """The totals after the rules. ``scores``: criterion → 0–100 (after rule overrides);
    ``weighted``: the weighted mean (0–100, NaN if nothing is known); ``rules``: the
    `RulesResult` (``points`` and ``subpoints``); ``cell(pos, field)``: where an account's
    cell is, for messages. Totals outside their scale are said, one warning per column."""
    model = model_of(ruleset)
    index = accounts.index
    points = rules.points.fillna(0.0) if rules.points is not None else \
        pd.Series(0.0, index=index)
    tables = getattr(ruleset, "point_tables", None) or {}
    table_points = {name: _table_points(t, accounts) for name, t in tables.items()}
    if model.kind == WEIGHTED:
        total = (weighted + points).clip(0, 100)
    elif model.kind == POINTS:
        total = points.copy()
        for values in table_points.values():
            total = total + values.fillna(0.0)
        for group in model.groups:
            for name, share in group.shares.items():
                if name in scores:
                    total = total + scores[name].fillna(0.0) / 100 * share * group.points
        total = total.clip(lower=model.low)
    else:
        total = _imported(accounts, model.field) + points
    _outside(total, model.low, model.high, "Score", accounts, warnings, cell, model.field)
    out = ModelScores(total=total.astype(float).round(9), table_points=table_points,
                      kind=model.kind)  # 9 places: 0.3 × 600 is 180, not 179.99999999999997
    subpoints = getattr(rules, "subpoints", None) or {}
    for name, sub in (getattr(ruleset, "subscores", None) or {}).items():
        extra = subpoints.get(name)
        extra = extra.fillna(0.0) if extra is not None else pd.Series(0.0, index=index)
        if sub.field:
            value = _imported(accounts, sub.field) + extra
        else:
            value = extra.copy()
            for t in sub.tables:
                value = value + table_points[t].fillna(0.0)
        out.subscores[name] = value.astype(float)
        out.bands[name] = sub.band(value)
    cross = getattr(ruleset, "cross", None)
    if cross is not None:
        a, b = out.bands[cross.rows], out.bands[cross.columns]
        both = a.notna() & b.notna()
        out.cell = (a.astype(str) + b.astype(str)).where(both, None).astype(object)
        out.cross = cross
    return out


def _imported(accounts: pd.DataFrame, name: str) -> pd.Series:
    if name not in accounts:
        return pd.Series(np.nan, index=accounts.index)
    return pd.to_numeric(accounts[name], errors="coerce").astype(float)


def _table_points(table: Any, accounts: pd.DataFrame) -> pd.Series:
    scored = table.score(accounts, {})
    return scored[0].astype(float)


def _outside(total: pd.Series, low: float, high: float | None, column: str,
             accounts: pd.DataFrame, warnings: list[Problem], cell, fld: str) -> None:
    """One warning naming the accounts whose total is off the scale (kept as it is)."""
    v = total.to_numpy(dtype=float)
    off = ~np.isnan(v) & ((v < low) | ((v > high) if high is not None else False))
    if not off.any():
        return
    ids = accounts["id"] if "id" in accounts else pd.Series(index=accounts.index, dtype=object)
    rows = list(total.index[off])
    shown = ", ".join(f"{ids[p]} ({total[p]:g})" for p in rows[:MAX_EXAMPLES])
    more = _(" and {n} more").format(n=len(rows) - MAX_EXAMPLES) \
        if len(rows) > MAX_EXAMPLES else ""
    scale = f"{low:g}–{high:g}" if high is not None else f"≥ {low:g}"
    where = cell(rows[0], fld) if cell is not None and fld else ""
    warnings.append(Problem(
        _("{count} account(s) score outside the scale {scale} of the rule file: {shown}{more}; "
          "the score is shown as computed: widen the scale under score:, or check the "
          "points").format(count=len(rows), scale=scale, shown=shown, more=more),
        where, kind="outside-scale", column=column))


def output_columns(model: ModelScores) -> dict[str, pd.Series]:
    """The columns a score model adds, header → values: ``Score: <table>`` (the points of
    each points table), ``Score: <sub-score>`` and ``Score: <sub-score> band`` for each
    sub-score, ``Score: <a> × <b>`` for the cross."""
    out: dict[str, pd.Series] = {}
    for name, values in model.table_points.items():
        out[SCORE_PREFIX + name] = values.round(2)
    for name, values in model.subscores.items():
        out[SCORE_PREFIX + name] = values.round(2)
        out[SCORE_PREFIX + _("{name} band").format(name=name)] = model.bands[name]
    if model.cross is not None and model.cell is not None:
        out[cross_header(model.cross)] = model.cell
    return out


def cross_header(cross: Cross) -> str:
    return f"{SCORE_PREFIX}{cross.rows} × {cross.columns}"


def parse_scale(value: Any) -> tuple[float, float | None] | None:
    """``1000`` → (0, 1000); ``"0 to 1000"``, ``"0-1000"``, ``"0–1000"`` → (0, 1000);
    ``"from 0"`` → (0, None). None if it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return (0.0, float(value)) if math.isfinite(value) and value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip().casefold().replace("–", " to ").replace("—", " to ").replace("_", "")
    if text.startswith("from "):
        try:
            return float(text[5:].strip()), None
        except ValueError:
            return None
    for sep in (" to ", " à ", "-"):
        head, found, tail = text[1:].partition(sep) if sep == "-" else text.partition(sep)
        if found:
            head = text[0] + head if sep == "-" else head
            try:
                low, high = float(head.strip()), float(tail.strip())
            except ValueError:
                return None
            return (low, high) if high > low else None
    return None
