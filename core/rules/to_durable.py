"""Normal-form conditions as durable_rules JSON, and the records they are matched against.

Pure dicts: nothing here imports durable_rules (``durable_engine.py`` owns it). Each rule
becomes one condition on one message; each account one message holding only the columns
the rules read. Traps of durable_rules 2.0.28 handled here, found by trying the engine:

- Keys: ``id`` and ``sid`` are durable's own and a dot means a nested property, so every
  column gets a plain key (``f_distance_km``, ``f_score__revenue``, ``h_0`` for hidden
  columns).
- Numbers: its JSON parser refuses a number written with an exponent but no dot
  (``1e+20``, ``5e-05``, which is how Python writes some floats), and it mangles integers
  beyond 64 bits. When a column holds such a value (or a condition compares it with one),
  that column's values and constants are replaced by their rank among that column's
  distinct values: comparisons with constants, the only thing durable does, give the
  same answers.
- Kleene logic: a comparison must be TRUE only where the field is present, so ``!=`` and
  ``not in`` carry an ``$ex`` guard. ``$nex`` alone (or inside a top-level ``$or``) never
  returns, so a condition that uses ``$nex`` is put under an ``$ex`` on ``k_all``, a key
  every record holds; ``true`` is ``{"k_all": 1}``. A rule whose condition is ``false``
  gets no condition at all.
- ``$or`` may fire once per matching branch; ``durable_engine.evaluate`` reports each
  rule once.
"""

from __future__ import annotations

import json
import re
from typing import Mapping

import numpy as np

from .logic import Hidden
from .syntax import And, Bool, Cmp, In, Missing, Node, Num, Or, Str

ALWAYS = "k_all"
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def column_key(name: str) -> str:
    """The message key for a name: plain characters only, never ``id``/``sid``."""
    return "f_" + re.sub(r"[^0-9A-Za-z_]", "_", name.replace(".", "__"))


def safe_number(value: float) -> bool:
    """True if durable's JSON parser reads ``value`` as Python writes it."""
    text = json.dumps(float(value))
    mantissa, e, _ = text.partition("e")
    return not e or "." in mantissa


def all_safe(values: np.ndarray) -> bool:
    """`safe_number` for every value; only values Python writes with an exponent (below
    1e-4 or from 1e16 on) are looked at one by one."""
    a = np.abs(values[np.isfinite(values)])
    exponent = (a >= 1e16) | ((a > 0) & (a < 1e-4))
    return all(safe_number(v) for v in a[exponent])


class DurableProgram:
    """The conditions (rule id → JSON) and records for one run, built together because a
    column with values durable cannot read is encoded by rank (see the module docstring)."""

    def __init__(self, conditions: Mapping[str, Node], hidden: list[Hidden],
                 frame: Mapping[str, np.ndarray], n: int):
        self.n = n
        self.keys: dict[str, str] = {}
        names = sorted({k for k in frame if k not in {h.name for h in hidden}})
        for name in names:
            self.keys[name] = column_key(name)
        for i, h in enumerate(sorted(hidden, key=lambda h: h.name)):
            self.keys[h.name] = f"h_{i}"
        constants = _constants(conditions.values())
        self.columns: dict[str, np.ndarray] = {}
        self.ranks: dict[str, np.ndarray] = {}
        for name, column in frame.items():
            if name not in self.keys:
                continue
            if column.dtype != object:
                known = column[~np.isnan(column)]
                extra = np.array(sorted(constants.get(name, ())), dtype=float)
                every = np.concatenate([known, extra])
                if not all_safe(np.unique(every)):
                    self.ranks[name] = np.unique(every)
                    ranked = np.searchsorted(self.ranks[name], column).astype(float)
                    column = np.where(np.isnan(column), np.nan, ranked)
            self.columns[name] = column
        self.conditions = {rid: self.condition(node) for rid, node in conditions.items()
                           if node != Bool(False)}

    # -- conditions
    def number(self, name: str, value: float) -> float:
        if name in self.ranks:
            return float(np.searchsorted(self.ranks[name], value))
        return float(value)

    def const(self, name: str, node: Node):
        return node.value if isinstance(node, Str) else self.number(name, node.value)

    def condition(self, node: Node) -> dict:
        cond = self.atom(node)
        if "$nex" in json.dumps(cond):
            cond = {"$and": [{"$ex": {ALWAYS: 1}}, cond]}
        return cond

    def atom(self, node: Node) -> dict:
        if isinstance(node, Bool):
            return {ALWAYS: 1} if node.value else {ALWAYS: 0}
        if isinstance(node, And):
            return {"$and": [self.atom(i) for i in node.items]}
        if isinstance(node, Or):
            return {"$or": [self.atom(i) for i in node.items]}
        if isinstance(node, Missing):
            name = node.operand.name
            return {"$ex" if node.negated else "$nex": {self.keys[name]: 1}}
        if isinstance(node, Cmp):
            name = node.left.name
            key, value = self.keys[name], self.const(name, node.right)
            if node.op == "==":
                return {key: value}
            if node.op == "!=":
                return {"$and": [{"$ex": {key: 1}}, {"$neq": {key: value}}]}
            return {_OPS[node.op]: {key: value}}
        if isinstance(node, In):
            name = node.operand.name
            key = self.keys[name]
            values = [self.const(name, v) for v in node.values]
            if node.negated:
                return {"$and": [{"$ex": {key: 1}}] + [{"$neq": {key: v}} for v in values]}
            return {"$or": [{key: v} for v in values]}
        raise TypeError(f"not a normal-form condition: {node!r}")

    # -- records
    def keyed_columns(self) -> dict[str, np.ndarray]:
        """The records as columns under their message keys (``k_all`` always 1)."""
        out = {self.keys[name]: column for name, column in self.columns.items()}
        out[ALWAYS] = np.ones(self.n)
        return out

    def records(self) -> list[dict]:
        """One dict per account: only known values, as float or str; ``k_all`` always 1."""
        out: list[dict] = [{ALWAYS: 1} for _ in range(self.n)]
        for name, column in self.columns.items():
            key = self.keys[name]
            if column.dtype == object:
                for i, v in enumerate(column):
                    if v is not None:
                        out[i][key] = str(v)
            else:
                for i in np.flatnonzero(~np.isnan(column)):
                    out[i][key] = float(column[i])
        return out


def _constants(conditions) -> dict[str, set[float]]:
    """Numeric constants each column is compared with."""
    found: dict[str, set[float]] = {}

    def visit(node: Node) -> None:
        if isinstance(node, (And, Or)):
            for i in node.items:
                visit(i)
        elif isinstance(node, Cmp) and isinstance(node.right, Num):
            found.setdefault(node.left.name, set()).add(float(node.right.value))
        elif isinstance(node, In):
            for v in node.values:
                if isinstance(v, Num):
                    found.setdefault(node.operand.name, set()).add(float(v.value))

    for c in conditions:
        visit(c)
    return found

