"""The meaning of a condition, written as plainly as possible: one account at a time.

A tiny interpreter of the type-checked tree (before any normalisation) in pure Python,
with three-valued logic spelt out: True, False, or None for unknown. Arithmetic is
decimal arithmetic on the typed values, its result the float nearest to it
(`logic.decimal_value`), account by account. It is slow and never
used to score; it exists so the tests can check both engines, and the normal form they
share, against a definition a person can read in one sitting.
"""

from __future__ import annotations

from typing import Mapping

from ..exact import to_float
from .logic import compare, decimal_value
from .syntax import And, Arith, Bool, Cmp, In, Missing, Name, Neg, Node, Not, Num, Or, Str
from .values import number_value, text_value


def value_of(node: Node, record: Mapping, kinds: Mapping[str, str]):
    """A number (float), a text (trimmed, case-folded) or None for blank."""
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Str):
        return text_value(node.value)
    if isinstance(node, Name):
        raw = record.get(node.name)
        return text_value(raw) if kinds[node.name] == "text" else number_value(raw)
    if isinstance(node, Neg):
        v = value_of(node.operand, record, kinds)
        return None if v is None else -v
    if isinstance(node, Arith):
        value = to_float(decimal_value(node, lambda name: number_value(record.get(name))))
        return None if value != value else value
    raise TypeError(f"not a value: {node!r}")


def truth(node: Node, record: Mapping, kinds: Mapping[str, str]) -> bool | None:
    """True, False, or None (unknown) for one account, in Kleene's three-valued logic."""
    if isinstance(node, Bool):
        return node.value
    if isinstance(node, Not):
        t = truth(node.item, record, kinds)
        return None if t is None else not t
    if isinstance(node, And):
        values = [truth(i, record, kinds) for i in node.items]
        if False in values:
            return False
        return None if None in values else True
    if isinstance(node, Or):
        values = [truth(i, record, kinds) for i in node.items]
        if True in values:
            return True
        return None if None in values else False
    if isinstance(node, Missing):
        missing = value_of(node.operand, record, kinds) is None
        return not missing if node.negated else missing
    if isinstance(node, Cmp):
        a, b = value_of(node.left, record, kinds), value_of(node.right, record, kinds)
        if a is None or b is None:
            return None
        return compare(node.op, a, b)
    if isinstance(node, In):
        v = value_of(node.operand, record, kinds)
        if v is None:
            return None
        found = any(v == value_of(c, record, kinds) for c in node.values)
        return not found if node.negated else found
    raise TypeError(f"not a condition: {node!r}")


def fires(node: Node, record: Mapping, kinds: Mapping[str, str]) -> bool:
    """A rule fires only where its condition is TRUE (unknown does not fire)."""
    return truth(node, record, kinds) is True
