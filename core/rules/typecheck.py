"""Type checking a parsed condition or ``derive`` expression against a `Scope`.

Catches, at load time and with the position in the text: unknown names (with "did you
mean"), a number compared with text (``distance_km >= "far"``), text compared with ``<``,
arithmetic on text, a value outside a field's fixed list (``status == "prospects"``), a
bare field used as a condition. It also fixes the meaning of written percentages: ``20%``
is 20 next to a field in percent points or a score, 0.2 next to a share or a computed
expression. The checked tree has no percent literal left.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from ..exact import share
from ..i18n import _
from .dates import to_date
from .names import (DATE, FLAG_PREFIX, FRACTION, NO_PERCENT, NUMBER, POINTS, SWITCH, TEXT, NameInfo,
                    Scope, or_list)
from .syntax import (And, Arith, Bool, Cmp, Func, In, Missing, Name, Neg, Node, Not, Num, Or,
                     Str, TextTest, unparse)

# How a written percentage reads next to a function's result
_FUNCTION_SCALE = {"percentile": POINTS, "quintile": NO_PERCENT, "cumulative_share": FRACTION,
                   "days_since": NO_PERCENT, "months_since": NO_PERCENT}

COND = "condition"


class TypeProblem(ValueError):
    """A condition that reads but makes no sense; ``pos`` is the offset in the text."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Hint:
    """Something legal but probably not meant (reported as a warning)."""

    message: str
    pos: int


@dataclass(frozen=True)
class _Typed:
    node: Node
    kind: str          # NUMBER, TEXT, COND, "bool" (a true/false literal)
    scale: str = NO_PERCENT
    info: NameInfo | None = None


class _Checker:
    def __init__(self, scope: Scope):
        self.scope = scope
        self.hints: list[Hint] = []

    # -- values
    def value(self, node: Node) -> _Typed:
        if isinstance(node, Num):
            return _Typed(node, NUMBER, "literal%" if node.percent else NO_PERCENT)
        if isinstance(node, Str):
            return _Typed(node, TEXT)
        if isinstance(node, Bool):
            return _Typed(node, "bool")
        if isinstance(node, Name):
            info = self.scope.get(node.name)
            if info is None:
                if node.name.lower() in ("score", "category", "categorie", "catégorie",
                                         "top80") or node.name.startswith(FLAG_PREFIX) \
                        or node.name in getattr(self.scope, "after_rules", ()):
                    if node.name.startswith(FLAG_PREFIX) and self.scope.get("top80"):
                        known = sorted(n for n in self.scope.names if n.startswith(FLAG_PREFIX))
                        raise TypeProblem(_(
                            'no first-stage rule sets the flag "{flag}" (flags read: {known}; '
                            'a flag written thin-data is read as flag.thin_data)').format(
                                flag=node.name[len(FLAG_PREFIX):],
                                known=", ".join(known) or _("none")), node.pos)
                    raise TypeProblem(_(
                        '"{name}" is computed after the rules, so a rule cannot read it; a rule '
                        "with stage: final runs after the categories and reads score, "
                        "category, profile, top80, the flags and the sub-scores; a rule reads "
                        "one criterion's "
                        "score as score.revenue, score.potential, …").format(name=node.name),
                        node.pos)
                hint = self.scope.suggest(node.name)
                extra = _(" (did you mean {name}?)").format(name=hint) if hint else ""
                raise TypeProblem(_('unknown field "{name}"{extra}').format(
                                      name=node.name, extra=extra), node.pos)
            return _Typed(node, info.kind, info.scale, info)
        if isinstance(node, Neg):
            inner = self.number(node.operand, "a minus sign")
            return _Typed(replace(node, operand=inner), NUMBER, FRACTION)
        if isinstance(node, Arith):
            left = self.number(node.left, f'"{node.op}"')
            right = self.number(node.right, f'"{node.op}"')
            return _Typed(replace(node, left=left, right=right), NUMBER, FRACTION)
        if isinstance(node, Func):
            return self.function(node)
        return self.condition_typed(node)

    def function(self, node: Func) -> _Typed:
        name = node.name
        if name in ("days_since", "months_since"):
            arg = node.args[0]
            typed = self.value(arg)
            if typed.kind != DATE or not isinstance(arg, Name):
                raise TypeProblem(_("{name} needs a date field, e.g. {name}(last_order), but "
                                    "{show}").format(name=name, show=self.show(typed)), arg.pos)
            return _Typed(node, NUMBER, NO_PERCENT)
        if name == "if":
            cond = self.condition(node.args[0])
            a = self.number(node.args[1], "if")
            b = self.number(node.args[2], "if")
            return _Typed(replace(node, args=(cond, a, b)), NUMBER, FRACTION)
        args = tuple(self.number(a, name) for a in node.args)
        return _Typed(replace(node, args=args), NUMBER, _FUNCTION_SCALE.get(name, FRACTION))

    def number(self, node: Node, what: str) -> Node:
        """An operand of arithmetic: must be a number; ``20%`` there means 0.2."""
        typed = self.value(node)
        if typed.kind == DATE:
            raise TypeProblem(_("{what} needs numbers, but {show}: count days or months with "
                                "days_since(…) or months_since(…)").format(
                                  what=what, show=self.show(typed)), node.pos)
        if typed.kind != NUMBER:
            raise TypeProblem(_("{what} needs numbers, but {show}").format(
                                  what=what, show=self.show(typed)), node.pos)
        if isinstance(typed.node, Num) and typed.node.percent:
            return Num(typed.node.value / 100, False, typed.node.pos)
        return typed.node

    def show(self, typed: _Typed) -> str:
        if typed.info is not None:
            return self.scope.describe(typed.info)
        said = {TEXT: _("{text} is text"), NUMBER: _("{text} is a number"),
                DATE: _("{text} is a date"), "bool": _("{text} is true/false"),
                COND: _("{text} is a condition")}[typed.kind]
        return said.format(text=unparse(typed.node))

    # -- conditions
    def condition(self, node: Node) -> Node:
        return self.condition_typed(node).node

    def condition_typed(self, node: Node) -> _Typed:
        if isinstance(node, Bool):
            return _Typed(node, COND)
        if isinstance(node, (And, Or)):
            return _Typed(replace(node, items=tuple(self.condition(i) for i in node.items)), COND)
        if isinstance(node, Not):
            return _Typed(replace(node, item=self.condition(node.item)), COND)
        if isinstance(node, Cmp):
            return _Typed(self.compare(node), COND)
        if isinstance(node, In):
            return _Typed(self.member(node), COND)
        if isinstance(node, TextTest):
            operand = self.value(node.operand)
            if operand.kind != TEXT:
                raise TypeProblem(_('{show}: "{split}" tests text').format(
                                      show=self.show(operand), split=unparse(node).split(" ")[1]), node.pos)
            if not node.value.value.strip():
                raise TypeProblem(_("an empty text always matches: write the text to look for"),
                                  node.value.pos)
            return _Typed(replace(node, operand=operand.node), COND)
        if isinstance(node, Missing):
            if not isinstance(node.operand, Name):
                raise TypeProblem(_('"is missing" applies to a field name, e.g. "distance_km '
                                    'is missing"'), node.pos)
            self.value(node.operand)
            return _Typed(node, COND)
        typed = self.value(node)
        if typed.info is not None and typed.info.source == SWITCH and isinstance(node, Name):
            return _Typed(Cmp("==", node, Num(1.0), node.pos), COND)  # true where it holds
        if typed.kind == TEXT:
            example = (f'{unparse(node)} == "{typed.info.choices[0]}"'
                       if typed.info and typed.info.choices else f'{unparse(node)} == "…"')
            raise TypeProblem(_("{show}, not a condition: compare it, e.g. {example}").format(
                                  show=self.show(typed), example=example), node.pos)
        raise TypeProblem(_("{show}, not a condition: compare it, e.g. {unparse} > 0").format(
                              show=self.show(typed), unparse=unparse(node)), node.pos)

    def compare(self, node: Cmp) -> Cmp:
        left, right = self.quoted(node.left, node.right), self.quoted(node.right, node.left)
        if DATE in (left.kind, right.kind):
            return self.compare_dates(node, left, right)
        for side in (left, right):
            if side.kind in (COND, "bool"):
                raise TypeProblem(_("{unparse} is a condition: it cannot be compared with ==, "
                                    "<, …; combine conditions with and/or/not").format(
                                      unparse=unparse(side.node)),
                                  side.node.pos)
        if left.kind != right.kind:
            num, txt = (left, right) if left.kind == NUMBER else (right, left)
            fix = (_("compare it with a number, e.g. {name} {op} 600").format(
                       name=unparse(num.node), op=node.op)
                   if num.info is not None else _("compare numbers with numbers"))
            raise TypeProblem(_("{show} but {show2}: {fix}").format(
                                  show=self.show(num), show2=self.show(txt), fix=fix), node.pos)
        if left.kind == TEXT:
            if node.op not in ("==", "!="):
                raise TypeProblem(_('text can only be compared with == or != (or "in"), not '
                                    '"{op}"').format(op=node.op), node.pos)
            self.text_value(left, right)
            self.text_value(right, left)
            return replace(node, left=left.node, right=right.node)
        lnode = self.percent(left, right)
        rnode = self.percent(right, left)
        self.range_hints(left, rnode)
        self.range_hints(right, lnode)
        return replace(node, left=lnode, right=rnode)

    def quoted(self, node: Node, other: Node) -> _Typed:
        """``value(node)``, saying "text goes in quotes" for an unknown word compared with
        a text field (``status == prospect``)."""
        try:
            return self.value(node)
        except TypeProblem:
            if isinstance(node, Name) and self.scope.get(node.name) is None and \
                    isinstance(other, Name) and self.scope.get(other.name) is not None:
                try:
                    kind = self.value(other).kind
                except TypeProblem:
                    kind = None
                if kind == TEXT:
                    raise TypeProblem(_('text goes in quotes: write "{name}" (there is no '
                                        "field called {name})").format(name=node.name), node.pos) from None
            raise

    def compare_dates(self, node: Cmp, left: _Typed, right: _Typed) -> Cmp:
        """A date compares with a date, ``today`` or a quoted date ("2024-12-31")."""
        sides = []
        for side, other in ((left, right), (right, left)):
            if side.kind == DATE:
                sides.append(side.node)
            elif isinstance(side.node, Str):
                day = to_date(side.node.value)
                if day is None:
                    raise TypeProblem(_('"{value}" is not a date: write it as "2024-12-31" '
                                        "(year-month-day)").format(value=side.node.value), side.node.pos)
                sides.append(Num(float(day.toordinal()), False, side.node.pos))
            else:
                raise TypeProblem(_("{show} but {show2}: compare it with a date in quotes "
                                    '("2024-12-31") or today, or count days with '
                                    "days_since({unparse}) > 90").format(
                                      show=self.show(other), show2=self.show(side), unparse=unparse(other.node)), node.pos)
        return replace(node, left=sides[0], right=sides[1])

    def member(self, node: In) -> In:
        operand = self.value(node.operand)
        if operand.kind == DATE:
            raise TypeProblem(_("{show}: compare it with <, >= … and a date in quotes "
                                '("2024-12-31") instead of "in"').format(show=self.show(operand)), node.pos)
        if operand.kind not in (NUMBER, TEXT):
            raise TypeProblem(_('{show}: "in" needs a field on its left').format(
                                  show=self.show(operand)),
                              node.pos)
        values = []
        for v in node.values:
            typed = self.value(v)
            if typed.kind != operand.kind:
                raise TypeProblem(_("{show} but {show2}: put only {value} in the list").format(
                                      show=self.show(operand), show2=self.show(typed), value='texts' if operand.kind == TEXT else 'numbers'), v.pos)
            if operand.kind == TEXT:
                self.text_value(typed, operand)
                values.append(typed.node)
            else:
                values.append(self.percent(typed, operand))
        return replace(node, operand=operand.node, values=tuple(values))

    def text_value(self, const: _Typed, other: _Typed) -> None:
        """A quoted value compared with a text field that has a fixed list of values."""
        if not isinstance(const.node, Str):
            return
        value = const.node.value.strip().casefold()
        if not value:
            raise TypeProblem(_('an empty text never matches: write "… is missing" to test a '
                                "blank field"), const.node.pos)
        if other.info is None or not other.info.choices or value in other.info.choices:
            return
        hit = difflib.get_close_matches(value, other.info.choices, n=1, cutoff=0.6)
        extra = _(' (did you mean "{value}"?)').format(value=hit[0]) if hit else ""
        raise TypeProblem(_('"{value}" is not a value of {name}{extra}: it is {or_list}').format(
                              value=const.node.value, name=other.info.name, extra=extra, or_list=or_list(other.info.choices)), const.node.pos)

    def percent(self, typed: _Typed, other: _Typed) -> Node:
        """Resolve ``20%`` from what it is compared with."""
        node = typed.node
        if not (isinstance(node, Num) and node.percent):
            return node
        if other.scale == POINTS:
            return Num(node.value, False, node.pos)
        if other.scale in (FRACTION, "literal%"):
            # in decimal: 0.7% is 0.007 exactly (0.7 / 100 in floats is not)
            return Num(share(node.value), False, node.pos)
        raise TypeProblem(_("{show}, not a percentage: remove the % (a percentage compares "
                            "with a share such as penetration, a field in percent or a score)").format(
                              show=self.show(other)), node.pos)

    def range_hints(self, field: _Typed, const: Node) -> None:
        if field.info is None or not isinstance(const, Num):
            return
        if field.scale == FRACTION and abs(const.value) > 1:
            pct = f"{const.value:g}%"
            self.hints.append(Hint(_("{field}: {value:g} is {percent:g} %; did you mean "
                                     "{pct}?").format(field=self.scope.describe(field.info),
                                                      value=const.value,
                                                      percent=const.value * 100, pct=pct),
                                   const.pos))
        elif field.info.source == "score" and not 0 <= const.value <= 100:
            self.hints.append(Hint(_("{name} is between 0 and 100, so comparing it with "
                                     "{value:g} is always the same").format(
                                       name=field.info.name, value=const.value), const.pos))


def check_condition(node: Node, scope: Scope) -> tuple[Node, list[Hint]]:
    """The checked condition and its hints; raises `TypeProblem` on the first error."""
    checker = _Checker(scope)
    return checker.condition(node), checker.hints


def check_expression(node: Node, scope: Scope) -> Node:
    """A ``derive`` expression: a number computed from numeric fields."""
    return _Checker(scope).number(node, "a derived field")

