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

from .logic import Hidden
from .syntax import And, Bool, Cmp, In, Missing, Node, Or, Str
from .values import Frame

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def _known(column: np.ndarray) -> np.ndarray:
    if column.dtype == object:
        return np.array([v is not None for v in column], dtype=bool)
    return ~np.isnan(column)


def _key(node: Node) -> str:
    return node.name


def true_mask(node: Node, frame: Frame, n: int) -> np.ndarray:
    """Where the normal-form condition is TRUE (a bool array of length n)."""
    if isinstance(node, Bool):
        return np.full(n, node.value, dtype=bool)
    if isinstance(node, And):
        out = np.ones(n, dtype=bool)
        for item in node.items:
            out &= true_mask(item, frame, n)
        return out
    if isinstance(node, Or):
        out = np.zeros(n, dtype=bool)
        for item in node.items:
            out |= true_mask(item, frame, n)
        return out
    if isinstance(node, Missing):
        known = _known(frame[_key(node.operand)])
        return known if node.negated else ~known
    if isinstance(node, Cmp):
        column = frame[_key(node.left)]
        known = _known(column)
        value = node.right.value
        if isinstance(node.right, Str):
            equal = np.array([v == value for v in column], dtype=bool)
            holds = equal if node.op == "==" else ~equal
        else:
            with np.errstate(invalid="ignore"):
                holds = _OPS[node.op](column, value)
        return known & holds
    if isinstance(node, In):
        column = frame[_key(node.operand)]
        known = _known(column)
        wanted = [v.value for v in node.values]
        if column.dtype == object:
            member = pd.Series(column, dtype=object).isin(wanted).to_numpy()
        else:
            member = np.isin(column, np.array(wanted, dtype=float))
        return known & (~member if node.negated else member)
    raise TypeError(f"not a normal-form condition: {node!r}")


def fired_matrix(conditions: list[Node], frame: Frame, n: int) -> np.ndarray:
    """accounts × rules: True where the rule's condition is TRUE."""
    out = np.zeros((n, len(conditions)), dtype=bool)
    for j, cond in enumerate(conditions):
        out[:, j] = true_mask(cond, frame, n)
    return out


__all__ = ["true_mask", "fired_matrix", "Hidden"]
