"""Normal form of a checked condition: `not` pushed down to the comparisons, constants folded.

Three-valued (Kleene) logic: a comparison on a blank field is unknown, and a rule fires
only where its condition is TRUE. Pushing `not` down is exact in Kleene logic (De Morgan
holds, ``not (x < 5)`` is ``x >= 5``, and both are unknown on a blank), and once no `not`
is left above a comparison, "the condition is TRUE" depends only on where each comparison
is TRUE. So both engines only ever need, per comparison, the accounts where it holds —
durable_rules has no ``$not`` and needs exactly that.

Every comparison in the normal form reads one column against constants. Arithmetic, and
comparisons between two fields, become a `Hidden` column computed once (vectorised, see
`values.py`) and shared by both engines, so they cannot disagree on arithmetic.

Arithmetic is decimal arithmetic on the values as typed (`decimal_value`, see
`potentiel.exact`): ``1000.01 / 10000.1`` is exactly 0.1, so ``revenue / potential < 10%``
does not fire there. An expression's result is the float nearest to its decimal value;
a sub-expression of constants only (``1 / 3``) is a constant, rounded like a typed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import unicodedata

from ..exact import _FLOAT_MAX, CONTEXT, step, to_float, typed
from .syntax import (And, Arith, Bool, Cmp, Func, In, Missing, Name, Neg, Node, Not, Num, Or,
                     Str, TextTest, unparse)

# Functions whose value needs more than the account's own fields (the whole portfolio,
# today's date, a condition): computed as a column before anything else (`values.py`).
COLUMN_FUNCTIONS = ("if", "percentile", "quintile", "cumulative_share", "days_since",
                    "months_since")

MAX_LIST = 16         # longer "in" lists become a hidden column (see _member)
MAX_ALTERNATIVES = 256  # what durable_rules accepts in one rule (see alternatives)
INVERT = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
TRUE, FALSE = Bool(True), Bool(False)


@dataclass(frozen=True)
class Hidden:
    """A column computed before the engines run.

    kind ``value``: the number ``left`` evaluates to; ``sign``: -1, 0 or 1 as ``left`` is
    below, equal to or above ``right``; ``same``: 1 if the texts ``left`` and ``right`` are
    equal, else 0; ``member``: 1 if the field of the `In` ``left`` is one of its values,
    else 0; ``text``: 1 if the `TextTest` ``left`` holds (case and accents ignored), else
    0. Blank wherever an input is blank.
    """

    kind: str
    left: Node
    right: Node | None = None

    @property
    def name(self) -> str:
        if self.kind in ("value", "member", "text"):
            return f"({unparse(self.left)})"
        op = "<=>" if self.kind == "sign" else "same-as"
        return f"({unparse(self.left)} {op} {unparse(self.right)})"


def text_key(value: object) -> str:
    """How text compares: surrounding spaces ignored, case ignored (casefold)."""
    return str(value).strip().casefold()


def plain_key(value: object) -> str:
    """How text tests (contains, starts with, ends with) compare: as `text_key`, and
    accents ignored too ("Société" contains "societe")."""
    decomposed = unicodedata.normalize("NFKD", text_key(value))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def text_test(op: str, value: str, wanted: str) -> bool:
    """``value contains / starts with / ends with wanted``, on `plain_key` texts."""
    if op == "contains":
        return wanted in value
    if op == "starts":
        return value.startswith(wanted)
    return value.endswith(wanted)


def column_name(node: Func) -> str:
    """The frame key of a column function's values (`COLUMN_FUNCTIONS`)."""
    return f"[{unparse(node)}]"


def is_column_function(node: Node) -> bool:
    return isinstance(node, Func) and node.name in COLUMN_FUNCTIONS


def column_functions(node: Node) -> list[Func]:
    """The column functions an expression reads, innermost first (each once)."""
    found: dict[str, Func] = {}

    def visit(n: Node) -> None:
        children = ()
        if isinstance(n, Func):
            children = n.args
        elif isinstance(n, (Arith, Cmp)):
            children = (n.left, n.right)
        elif isinstance(n, (Neg,)):
            children = (n.operand,)
        elif isinstance(n, (In, Missing, TextTest)):
            children = (n.operand,)
        elif isinstance(n, (And, Or)):
            children = n.items
        elif isinstance(n, Not):
            children = (n.item,)
        for c in children:
            visit(c)
        if is_column_function(n):
            found.setdefault(column_name(n), n)

    visit(node)
    return list(found.values())


def function_value(name: str, args: list[Decimal | None]) -> Decimal | None:
    """min, max, abs, sqrt in decimal: a blank argument gives a blank, sqrt of a negative
    number is blank."""
    if any(a is None for a in args):
        return None
    if name == "min":
        return min(args)
    if name == "max":
        return max(args)
    if name == "abs":
        return abs(args[0])
    if name == "sqrt":
        return None if args[0] < 0 else CONTEXT.sqrt(args[0])
    raise TypeError(f"not a per-account function: {name}")


def arith(op: str, a: float | None, b: float | None) -> float | None:
    """One arithmetic step on typed numbers, in decimal: blank in, blank out; x/0 or
    overflow → blank; the result is the float nearest to the decimal one."""
    r = step(op, typed(a), typed(b))
    return None if r is None else to_float(r)


def has_names(node: Node) -> bool:
    """True if the expression reads a field (False for constants such as ``1 / 3``)."""
    if isinstance(node, (Name, Func)):
        return True
    if isinstance(node, Neg):
        return has_names(node.operand)
    if isinstance(node, Arith):
        return has_names(node.left) or has_names(node.right)
    return False


def decimal_value(node: Node, leaf: Callable[[str], float | None],
                  column: Callable[[Func], float | None] | None = None) -> Decimal | None:
    """The decimal value of a number expression; ``leaf(name)`` gives a field's float
    (None or NaN: blank). Each value is the decimal it was typed as; a step on a blank, a
    division by zero or a result beyond floats is blank; a sub-expression of constants is
    rounded to a float like a typed constant (so folding it first changes nothing).

    ``min``, ``max``, ``abs``, ``sqrt`` are computed in decimal; a column function's value
    is ``column(node)`` (by default ``leaf`` of its `column_name`), taken as a typed value."""
    if isinstance(node, Num):
        return typed(node.value)
    if isinstance(node, Name):
        return typed(leaf(node.name))
    if isinstance(node, Func):
        if node.name in COLUMN_FUNCTIONS:
            return typed(column(node) if column is not None else leaf(column_name(node)))
        r = function_value(node.name, [decimal_value(a, leaf, column) for a in node.args])
        return None if r is None or abs(r) > _FLOAT_MAX else r
    if isinstance(node, Neg):
        v = decimal_value(node.operand, leaf, column)
        return None if v is None else -v
    if isinstance(node, Arith):
        r = step(node.op, decimal_value(node.left, leaf, column),
                 decimal_value(node.right, leaf, column))
        if r is not None and not has_names(node):
            return typed(to_float(r))
        return r
    raise TypeError(f"not a number expression: {node!r}")


def compare(op: str, a, b) -> bool:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def fold(node: Node) -> Node:
    """Fold arithmetic on constants (``300 * 2`` → 600; ``1 / 0`` → blank, kept as None)."""
    if isinstance(node, Neg):
        inner = fold(node.operand)
        if isinstance(inner, Num):
            return Num(-inner.value, False, node.pos)
        return Neg(inner, node.pos)
    if isinstance(node, Arith):
        left, right = fold(node.left), fold(node.right)
        if isinstance(left, Num) and isinstance(right, Num):
            value = decimal_value(Arith(node.op, left, right, node.pos), lambda name: None)
            return Num(to_float(value), False, node.pos) if value is not None else _BLANK
        if left is _BLANK or right is _BLANK:
            return _BLANK
        return Arith(node.op, left, right, node.pos)
    return node


_BLANK = Name("<blank>")  # a constant expression with no value (1 / 0)


def _const(node: Node) -> bool:
    return isinstance(node, (Num, Str))


def _key(node: Node) -> str:
    return unparse(node) if not isinstance(node, Hidden) else node.name


class _Normaliser:
    def __init__(self, text_names: frozenset[str]):
        # Which names hold text: a comparison of two text fields becomes a "same" column.
        self.text_names = text_names

    def run(self, node: Node, negate: bool = False) -> Node:
        if isinstance(node, Bool):
            return Bool(node.value != negate)
        if isinstance(node, Not):
            return self.run(node.item, not negate)
        if isinstance(node, (And, Or)):
            is_and = isinstance(node, And) != negate
            return _junction(is_and, [self.run(i, negate) for i in node.items])
        if isinstance(node, Cmp):
            return self.compare(INVERT[node.op] if negate else node.op, fold(node.left),
                                fold(node.right))
        if isinstance(node, In):
            return _member(fold(node.operand), node.values, node.negated != negate)
        if isinstance(node, Missing):
            return Missing(node.operand, node.negated != negate)
        if isinstance(node, TextTest):
            wanted = Str(plain_key(node.value.value))
            if _const(node.operand):
                holds = text_test(node.op, plain_key(node.operand.value), wanted.value)
                return Bool(holds != negate)
            test = TextTest(node.op, node.operand, wanted)
            return Cmp("==", Hidden("text", test), Num(0.0 if negate else 1.0))
        raise TypeError(f"not a condition: {node!r}")

    def compare(self, op: str, left: Node, right: Node) -> Node:
        if left is _BLANK or right is _BLANK:
            return FALSE  # compared with a blank: unknown, never TRUE
        if _const(left) and _const(right):
            if isinstance(left, Str):
                return Bool(compare(op, text_key(left.value), text_key(right.value)))
            return Bool(compare(op, left.value, right.value))
        if _const(left):
            left, right, op = right, left, FLIP[op]
        if _const(right):
            if isinstance(right, Str):
                right = Str(text_key(right.value))
            if isinstance(left, Name):
                return Cmp(op, left, right)
            return Cmp(op, Hidden("value", left), right)
        if isinstance(left, Name) and isinstance(right, Name) and left.name == right.name:
            # x == x is TRUE wherever x is known; x < x never is.
            return Missing(left, True) if op in ("==", "<=", ">=") else FALSE
        if self.is_text(left) or self.is_text(right):
            hidden = Hidden("same", *sorted((left, right), key=_key))
            return Cmp("==", hidden, Num(1.0 if op == "==" else 0.0))
        return Cmp(op, Hidden("sign", left, right), Num(0.0))

    def is_text(self, node: Node) -> bool:
        return isinstance(node, Name) and node.name in self.text_names


def _junction(is_and: bool, items: list[Node]) -> Node:
    kind = And if is_and else Or
    absorbing, neutral = (FALSE, TRUE) if is_and else (TRUE, FALSE)
    flat: dict[str, Node] = {}
    for item in items:
        parts = item.items if isinstance(item, kind) else (item,)
        for part in parts:
            if part == absorbing:
                return absorbing
            if part != neutral:
                flat.setdefault(_key(part), part)
    if not flat:
        return neutral
    if len(flat) == 1:
        return next(iter(flat.values()))
    return kind(tuple(flat[k] for k in sorted(flat)))


def _member(operand: Node, values: tuple, negated: bool) -> Node:
    if operand is _BLANK:
        return FALSE
    keys = sorted({text_key(v.value) if isinstance(v, Str) else v.value for v in values},
                  key=lambda v: (isinstance(v, str), v))
    if _const(operand):
        v = text_key(operand.value) if isinstance(operand, Str) else operand.value
        return Bool((v in keys) != negated)
    if not isinstance(operand, Name):
        operand = Hidden("value", operand)
    consts = tuple(Str(k) if isinstance(k, str) else Num(k) for k in keys)
    if not consts:
        # "x in []" is never TRUE; "x not in []" is TRUE wherever x is known.
        return Missing(operand, True) if negated else FALSE
    if len(consts) == 1:
        return Cmp("!=" if negated else "==", operand, consts[0])
    if len(consts) > MAX_LIST and isinstance(operand, Name):
        # durable_rules tries each value of a list as one alternative, and refuses rules
        # of more than 256: a long list is checked once, as a hidden 1/0 column.
        return Cmp("==", Hidden("member", In(operand, consts)), Num(0.0 if negated else 1.0))
    return In(operand, consts, negated)


def normal_form(node: Node, text_names: frozenset[str] | set[str] = frozenset()) -> Node:
    """Normalise a checked condition; ``text_names`` says which names hold text."""
    return _Normaliser(frozenset(text_names)).run(node)


def hidden_columns(node: Node) -> list[Hidden]:
    """The hidden columns a normal-form condition reads (each once, in a stable order)."""
    found: dict[str, Hidden] = {}

    def visit(n: Node) -> None:
        if isinstance(n, (And, Or)):
            for i in n.items:
                visit(i)
        elif isinstance(n, (Cmp, In, Missing)):
            operand = n.left if isinstance(n, Cmp) else n.operand
            if isinstance(operand, Hidden):
                found.setdefault(operand.name, operand)

    visit(node)
    return [found[k] for k in sorted(found)]


def alternatives(node: Node) -> int:
    """How many alternatives durable_rules expands a normal-form condition into: an "or"
    adds up its branches, an "and" multiplies them, an "in" list counts its values."""
    if isinstance(node, Or):
        return sum(alternatives(i) for i in node.items)
    if isinstance(node, And):
        total = 1
        for i in node.items:
            total *= alternatives(i)
        return total
    if isinstance(node, In) and not node.negated:
        return len(node.values)
    return 1


def atoms(node: Node) -> list[Node]:
    """The comparisons of a normal-form condition."""
    if isinstance(node, (And, Or)):
        return [a for i in node.items for a in atoms(i)]
    return [node]
