"""The meaning of a condition, written as plainly as possible: one account at a time.

A tiny interpreter of the type-checked tree (before any normalisation) in pure Python,
with three-valued logic spelt out: True, False, or None for unknown. Arithmetic is
decimal arithmetic on the typed values, its result the float nearest to it
(`logic.decimal_value`), account by account. It is slow and never
used to score; it exists so the tests can check both engines, and the normal form they
share, against a definition a person can read in one sitting.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Mapping, Sequence

from ..exact import to_float, typed
from . import dates
from .logic import COLUMN_FUNCTIONS, compare, decimal_value, plain_key, text_test
from .names import DATE, TODAY
from .syntax import (And, Arith, Bool, Cmp, Func, In, Missing, Name, Neg, Node, Not, Num, Or,
                     Str, TextTest)
from .values import number_value, text_value


class _Context:
    portfolio: Sequence[Mapping] = ()
    today: dt.date | None = None


def value_of(node: Node, record: Mapping, kinds: Mapping[str, str], ctx: _Context | None = None):
    """A number (float), a text (trimmed, case-folded) or None for blank. A date reads as
    its day number."""
    ctx = ctx or _Context()
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Str):
        return text_value(node.value)
    if isinstance(node, Name):
        if node.name == TODAY and kinds.get(TODAY) == DATE and TODAY not in record:
            return float((ctx.today or dates.today()).toordinal())
        raw = record.get(node.name)
        if kinds[node.name] == DATE:
            day = dates.to_date(raw)
            return None if day is None else float(day.toordinal())
        return text_value(raw) if kinds[node.name] == "text" else number_value(raw)
    if isinstance(node, Neg):
        v = value_of(node.operand, record, kinds, ctx)
        return None if v is None else -v
    if isinstance(node, (Arith, Func)):
        if isinstance(node, Func) and node.name in COLUMN_FUNCTIONS:
            return _column_function(node, record, kinds, ctx)
        value = to_float(decimal_value(
            node, lambda name: value_of(Name(name), record, kinds, ctx),
            lambda f: _column_function(f, record, kinds, ctx)))
        return None if value != value else value
    raise TypeError(f"not a value: {node!r}")


def _column_function(node: Func, record: Mapping, kinds, ctx: _Context):
    name, arg = node.name, node.args[0]
    if name == "if":
        t = truth(arg, record, kinds, ctx)
        return None if t is None else value_of(node.args[1 if t else 2], record, kinds, ctx)
    if name in ("days_since", "months_since"):
        v = value_of(arg, record, kinds, ctx)
        if v is None:
            return None
        day, now = dt.date.fromordinal(int(v)), ctx.today or dates.today()
        return float((now - day).days if name == "days_since"
                     else dates.months_between(day, now))
    v = value_of(arg, record, kinds, ctx)
    if v is None:
        return None
    others = [value_of(arg, r, kinds, ctx) for r in ctx.portfolio or [record]]
    known = [w for w in others if w is not None]
    if name in ("percentile", "quintile"):
        rank = sum(1 for w in known if w <= v)
        if name == "percentile":
            return float(Fraction(100 * rank, len(known)))
        return float(math.ceil(Fraction(5 * rank, len(known))))
    amounts = [Fraction(typed(max(w, 0.0))) for w in known]
    total = sum(amounts)
    if total == 0:
        return None
    return float(sum(a for a, w in zip(amounts, known) if w > v) / total)


def truth(node: Node, record: Mapping, kinds: Mapping[str, str],
          ctx: _Context | None = None) -> bool | None:
    """True, False, or None (unknown) for one account, in Kleene's three-valued logic."""
    if isinstance(node, Bool):
        return node.value
    if isinstance(node, Not):
        t = truth(node.item, record, kinds, ctx)
        return None if t is None else not t
    if isinstance(node, And):
        values = [truth(i, record, kinds, ctx) for i in node.items]
        if False in values:
            return False
        return None if None in values else True
    if isinstance(node, Or):
        values = [truth(i, record, kinds, ctx) for i in node.items]
        if True in values:
            return True
        return None if None in values else False
    if isinstance(node, Missing):
        missing = value_of(node.operand, record, kinds, ctx) is None
        return not missing if node.negated else missing
    if isinstance(node, Cmp):
        a, b = value_of(node.left, record, kinds, ctx), value_of(node.right, record, kinds, ctx)
        if a is None or b is None:
            return None
        return compare(node.op, a, b)
    if isinstance(node, In):
        v = value_of(node.operand, record, kinds, ctx)
        if v is None:
            return None
        found = any(v == value_of(c, record, kinds, ctx) for c in node.values)
        return not found if node.negated else found
    if isinstance(node, TextTest):
        raw = record.get(node.operand.name)
        v = text_value(raw)
        if v is None:
            return None
        return text_test(node.op, plain_key(v), plain_key(node.value.value))
    raise TypeError(f"not a condition: {node!r}")


def fires(node: Node, record: Mapping, kinds: Mapping[str, str],
          portfolio: Sequence[Mapping] = (), today: dt.date | None = None) -> bool:
    """A rule fires only where its condition is TRUE (unknown does not fire).
    ``portfolio``: every record of the table, for the portfolio statistics."""
    ctx = _Context()
    ctx.portfolio, ctx.today = portfolio, today
    return truth(node, record, kinds, ctx) is True
