"""Warnings about rules that are legal but probably wrong (``potentiel rules check``).

- a rule that can never fire (``distance_km >= 600 and distance_km < 100``);
- two rules with the same condition (compared in normal form, so ``not (x < 5)`` and
  ``x >= 5`` are the same);
- two rules that can fire on the same account while their actions disagree: two
  different forces, a force and a cap or floor (the force wins), a floor above a cap (the
  cap wins), different ``set`` or ``score`` values at the same priority. Several caps (or
  floors) are not reported: "the strictest cap wins" is the intended way to combine them.

The reasoning is per field over conjunctions: each condition is expanded into "or" of
"and"s, and an "and" is impossible when the values it allows for one field are empty
(an interval, a list of allowed values, values ruled out, blank or not). It is sound
(a rule said never to fire never fires) but not complete; conditions too large to expand
are not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

from ..categories import DEFAULT_CATEGORIES
from ..i18n import _
from ..problems import Problem
from .logic import Hidden
from .model import Rule, RuleSet
from .names import SCORE_PREFIX
from .syntax import And, Bool, Cmp, In, Missing, Name, Node, Or, Str, unparse

MAX_CLAUSES = 256
MAX_PAIR_RULES = 600  # beyond that many rules with category or set actions, skip pairs


def _key(node: Node) -> str:
    return node.name if isinstance(node, (Name, Hidden)) else unparse(node)


def dnf(node: Node) -> list[list[Node]] | None:
    """Or of And of atoms, or None when too large to expand."""
    if isinstance(node, Bool):
        return [[]] if node.value else []
    if isinstance(node, Or):
        out: list[list[Node]] = []
        for item in node.items:
            sub = dnf(item)
            if sub is None:
                return None
            out.extend(sub)
            if len(out) > MAX_CLAUSES:
                return None
        return out
    if isinstance(node, And):
        out = [[]]
        for item in node.items:
            sub = dnf(item)
            if sub is None:
                return None
            out = [a + b for a in out for b in sub]
            if len(out) > MAX_CLAUSES:
                return None
        return out
    return [[node]]


@dataclass
class _Field:
    lo: float = -math.inf
    lo_in: bool = True
    hi: float = math.inf
    hi_in: bool = True
    allowed: set | None = None      # values allowed (from == and in), None: any
    banned: set = field(default_factory=set)
    known: bool = False
    missing: bool = False

    def restrict(self, values: set) -> None:
        self.allowed = set(values) if self.allowed is None else self.allowed & values

    def satisfiable(self) -> bool:
        if self.missing:
            return not self.known
        if self.allowed is not None:
            return any(self.fits(v) for v in self.allowed)
        if self.lo > self.hi:
            return False
        if self.lo == self.hi:
            return self.lo_in and self.hi_in and self.lo not in self.banned
        return True

    def fits(self, v) -> bool:
        if v in self.banned:
            return False
        if isinstance(v, str):
            return True
        if v < self.lo or (v == self.lo and not self.lo_in):
            return False
        return not (v > self.hi or (v == self.hi and not self.hi_in))


def _domain(operand: Node) -> _Field:
    f = _Field()
    if isinstance(operand, Hidden) and operand.kind == "sign":
        f.allowed = {-1.0, 0.0, 1.0}
    elif isinstance(operand, Hidden) and operand.kind in ("same", "member", "text"):
        f.allowed = {0.0, 1.0}
    elif isinstance(operand, Name) and operand.name.startswith(SCORE_PREFIX):
        f.lo, f.hi = 0.0, 100.0
    return f


def satisfiable(clause: list[Node]) -> bool:
    fields: dict[str, _Field] = {}
    for atom in clause:
        operand = atom.left if isinstance(atom, Cmp) else atom.operand
        f = fields.setdefault(_key(operand), _domain(operand))
        if isinstance(atom, Missing):
            if atom.negated:
                f.known = True
            else:
                f.missing = True
            continue
        f.known = True
        if isinstance(atom, In):
            values = {v.value for v in atom.values}
            if atom.negated:
                f.banned |= values
            else:
                f.restrict(values)
            continue
        v = atom.right.value
        if atom.op == "==":
            f.restrict({v})
        elif atom.op == "!=":
            f.banned.add(v)
        elif isinstance(atom.right, Str):
            continue
        elif atom.op in (">", ">="):
            if v > f.lo or (v == f.lo and atom.op == ">"):
                f.lo, f.lo_in = v, atom.op == ">="
        elif v < f.hi or (v == f.hi and atom.op == "<"):
            f.hi, f.hi_in = v, atom.op == "<="
    return all(f.satisfiable() for f in fields.values())


def never_fires(rule: Rule) -> bool:
    clauses = dnf(rule.normal)
    return clauses is not None and not any(satisfiable(c) for c in clauses)


def can_overlap(a: Rule, b: Rule) -> bool:
    ca, cb = dnf(a.normal), dnf(b.normal)
    if ca is None or cb is None:
        return True
    if len(ca) * len(cb) > MAX_CLAUSES * 4:
        return True
    return any(satisfiable(x + y) for x in ca for y in cb)


def _disagreements(a: Rule, b: Rule, letters: tuple[str, ...]) -> list[str]:
    out = []
    fa, fb = a.action("force"), b.action("force")
    if fa and fb and fa != fb:
        out.append(_("force {letter} and {other} (neither will apply)").format(letter=fa,
                                                                               other=fb))
    for force, other in ((fa, b), (fb, a)):
        for kind in ("cap", "floor"):
            letter = other.action(kind)
            if force and letter and not other.action("force"):
                out.append(_('force {force} overrides the {kind} {letter} of "{rule}"').format(
                    force=force, kind=kind, letter=letter, rule=other.id))
    for cap_rule, floor_rule in ((a, b), (b, a)):
        cap, floor = cap_rule.action("cap"), floor_rule.action("floor")
        if cap and floor and letters.index(floor) < letters.index(cap):
            out.append(_("floor {floor} and cap {cap} (the cap wins)").format(floor=floor,
                                                                              cap=cap))
    if a.priority == b.priority:
        for kind in ("set", "score"):
            va, vb = a.action(kind) or {}, b.action(kind) or {}
            for k in sorted(set(va) & set(vb)):
                if va[k] != vb[k]:
                    out.append(_("{kind} {name} to {value!r} and {other!r} at the same "
                                 "priority (neither will apply)").format(
                                   kind=kind, name=k, value=va[k], other=vb[k]))
    return out


_PAIR_ACTIONS = ("force", "cap", "floor", "set", "score")


def lint(ruleset: RuleSet) -> list[Problem]:
    """Lint warnings, each naming the rules (and lines) involved."""
    out: list[Problem] = []
    rules = sorted((r for r in ruleset.rules if r.enabled), key=lambda r: (r.source, r.line))
    letters = (ruleset.categories or DEFAULT_CATEGORIES).letters

    def at(r: Rule) -> str:
        return _('"{text}"').format(text=r.id) + f" ({r.where})"

    for r in rules:
        if never_fires(r):
            out.append(Problem(_('rule "{id}" can never fire: its condition "{when}" cannot be '
                                 "true for any account").format(id=r.id, when=r.when), r.where, "warning"))
    by_condition: dict[Node, Rule] = {}
    for r in rules:
        # Normal forms compare (and hash) without positions: equal means same meaning.
        first = by_condition.setdefault(r.normal, r)
        if first is not r:
            out.append(Problem(_("rule {at} has the same condition as rule {at2}: merge them, "
                                 "or make the conditions differ").format(at=at(r), at2=at(first)), r.where, "warning"))
    candidates = [r for r in rules if any(r.action(k) for k in _PAIR_ACTIONS)]
    if len(candidates) > MAX_PAIR_RULES:
        out.append(Problem(_("{n:,} rules cap, floor, force, set or score: too many to check "
                             "which of them can clash").format(n=len(candidates)), ruleset.source, "warning"))
        return out
    for a, b in combinations(candidates, 2):
        issues = _disagreements(a, b, letters)
        if issues and can_overlap(a, b):
            out.append(Problem(_("rules {at} and {at2} can fire on the same account and "
                                 "disagree: {list}").format(
                                   at=at(a), at2=at(b), list='; '.join(issues)), a.where, "warning"))
    return out

