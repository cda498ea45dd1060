"""The ``compiled`` engine: normal-form conditions as vectorised numpy masks.

Used where durable_rules cannot be imported, and as the cross-check of the durable
engine in the tests. A normal-form condition has no `not` above its comparisons, so the
accounts where it is TRUE follow from where each comparison is TRUE (see `logic.py`): a
comparison is TRUE only where its column is known and the comparison holds.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from ..objects import isna

from .syntax import And, Bool, Cmp, In, Missing, Node, Or, Str
from .values import Frame

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


class _Evaluator:
    """True masks over one frame, remembering each comparison (rules often share them)."""

    def __init__(self, frame: Frame, n: int):
        self.frame = frame
        self.n = n
        self.known_cache: dict[str, np.ndarray] = {}
        self.atom_cache: dict[Node, np.ndarray] = {}

    def known(self, name: str) -> np.ndarray:
        if name not in self.known_cache:
            column = self.frame[name]
            self.known_cache[name] = ~isna(column)  # texts and None: from the pointers
        return self.known_cache[name]

    def mask(self, node: Node) -> np.ndarray:
        if isinstance(node, Bool):
            return np.full(self.n, node.value, dtype=bool)
        if isinstance(node, And):
            out = np.ones(self.n, dtype=bool)
            for item in node.items:
                out &= self.mask(item)
            return out
        if isinstance(node, Or):
            out = np.zeros(self.n, dtype=bool)
            for item in node.items:
                out |= self.mask(item)
            return out
        if node not in self.atom_cache:
            self.atom_cache[node] = self.atom(node)
        return self.atom_cache[node]

    def atom(self, node: Node) -> np.ndarray:
        if isinstance(node, Missing):
            known = self.known(node.operand.name)
            return known.copy() if node.negated else ~known
        if isinstance(node, Cmp):
            column = self.frame[node.left.name]
            value = node.right.value
            if isinstance(node.right, Str):
                equal = np.asarray(column == value, dtype=bool)
                holds = equal if node.op == "==" else ~equal
            else:
                with np.errstate(invalid="ignore"):
                    holds = _OPS[node.op](column, value)
            return self.known(node.left.name) & holds
        if isinstance(node, In):
            column = self.frame[node.operand.name]
            wanted = [v.value for v in node.values]
            if column.dtype == object:
                member = pd.Series(column, dtype=object).isin(wanted).to_numpy()
            else:
                member = np.isin(column, np.array(wanted, dtype=float))
            return self.known(node.operand.name) & (~member if node.negated else member)
        raise TypeError(f"not a normal-form condition: {node!r}")


def true_mask(node: Node, frame: Frame, n: int) -> np.ndarray:
    """Where the normal-form condition is TRUE (a bool array of length n)."""
    return _Evaluator(frame, n).mask(node)


def fired_matrix(conditions: list[Node], frame: Frame, n: int) -> np.ndarray:
    """accounts × rules: True where the rule's condition is TRUE."""
    evaluator = _Evaluator(frame, n)
    out = np.zeros((n, len(conditions)), dtype=bool)
    for j, cond in enumerate(conditions):
        out[:, j] = evaluator.mask(cond)
    return out
