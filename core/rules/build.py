"""Turning a merged rule file into a checked `RuleSet`, collecting every problem found.

Each section is checked against what the run knows: weights and params against the
criteria, conditions and ``derive`` against the field catalogue (see `typecheck.py`),
``then:`` against the registered actions, category letters against the categories, test
cases against the fields and rule ids. Every problem names ``file:line`` and says what
would fix it; the load fails only after all of them have been collected.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from typing import Any, Mapping

from ..categories import DEFAULT_CATEGORIES, Band, CategorySpec, Quota
from ..criterion import Criterion, Derivation
from ..fields import STATUS, STATUSES, Catalogue
from ..numbers import parse_number
from ..problems import Problem
from .actions import LETTER_ACTIONS, RuleAction
from .files import Item, Merged
from .logic import Hidden, hidden_columns, normal_form
from .model import Rule, RuleSet, RuleTest
from .names import DECLARABLE_TYPES, NUMBER, SCORE_PREFIX, TEXT, Scope
from .source import LineDict
from .syntax import SyntaxProblem, names_in, parse, unparse
from .typecheck import TypeProblem, check_condition, check_expression
from .values import build_frame, evaluate_number

MAX_RULES = 10_000
MAX_TESTS = 2_000
RULE_KEYS = ("id", "when", "then", "why", "priority", "enabled")
TEST_KEYS = ("name", "account", "expect")
EXPECT_KEYS = ("flags", "not_flags", "category", "category_at_most", "category_at_least",
               "score_min", "score_max", "fired", "not_fired")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,59}$")


def _suggest(word: Any, options) -> str:
    hit = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {hit[0]}?)" if hit else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _share(value: Any) -> float | None:
    """A quota share: 10% (YAML text "10%") or 0.1."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return parse_number(value.strip()[:-1]) / 100
        except ValueError:
            return None
    return _number(value)


class Builder:
    def __init__(self, merged: Merged, catalogue: Catalogue, criteria: Mapping[str, Criterion],
                 actions: Mapping[str, RuleAction]):
        self.m = merged
        self.catalogue = catalogue
        self.criteria = criteria
        self.actions = actions
        self.problems: list[Problem] = list(merged.problems)
        self.warnings: list[Problem] = []

    def error(self, message: str, where: str) -> None:
        self.problems.append(Problem(message, where, "error"))

    def warn(self, message: str, where: str) -> None:
        self.warnings.append(Problem(message, where, "warning"))

    # ------------------------------------------------------------------ sections
    def weights(self) -> dict[str, float]:
        out = {}
        for name, item in self.m.weights.items():
            if name not in self.criteria:
                self.error(f'weights: unknown criterion "{name}"{_suggest(name, self.criteria)};'
                           f" the criteria are {', '.join(sorted(self.criteria))}", item.where)
                continue
            value = _number(item.value)
            if value is None or value < 0:
                self.error(f"weights: {name} must be a number, 0 or more (not {item.value!r})",
                           item.where)
                continue
            out[name] = value
        return out

    def params(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for crit, values in self.m.params.items():
            criterion = self.criteria.get(crit)
            if criterion is None:
                first = next(iter(values.values()), None)
                self.error(f'params: unknown criterion "{crit}"{_suggest(crit, self.criteria)}',
                           first.where if first else self.m.source)
                continue
            declared = dict(getattr(criterion, "params", {}) or {})
            for name, item in values.items():
                if name not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    self.error(f'params: {crit} has no parameter "{name}"'
                               f"{_suggest(name, declared)} (its parameters: {known})",
                               item.where)
                    continue
                problem = _param_type(declared[name].default, item.value)
                if problem:
                    self.error(f"params: {crit}.{name} {problem}", item.where)
                    continue
                out.setdefault(crit, {})[name] = item.value
        return out

    def categories(self) -> CategorySpec | None:
        if not self.m.categories:
            return None
        where = self.m.categories_where
        entries = self.m.categories
        letters = [letter for letter, _ in entries]
        for letter, entry in entries:
            for key, item in entry.items():
                if key not in ("min", "share", "label"):
                    self.error(f'categories: {letter} has an unknown key "{key}"'
                               f"{_suggest(key, ('min', 'share', 'label'))}: use min (bands) "
                               "or share (quotas), and label", item.where)
            if not re.fullmatch(r"[A-Z]", letter):
                self.error(f'categories: "{letter}" must be one capital letter (A, B, C…)', where)
        if len(set(letters)) != len(letters) or len(letters) < 2:
            self.error("categories: give at least two different letters", where)
            return None
        uses_share = any("share" in e for _, e in entries)
        uses_min = any("min" in e for _, e in entries)
        if uses_share and uses_min:
            self.error("categories: use either min (score bands) or share (quotas), not both",
                       where)
            return None
        labels = {letter: str(e["label"].value) if "label" in e else "" for letter, e in entries}
        if uses_share:
            return self._quotas(entries, labels, where)
        return self._bands(entries, labels, where)

    def _bands(self, entries, labels, where) -> CategorySpec | None:
        bands, previous = [], math.inf
        for letter, entry in entries:
            item = entry.get("min")
            value = _number(item.value) if item else None
            if value is None:
                self.error(f"categories: {letter} needs min: a score from 0 to 100",
                           item.where if item else where)
                return None
            if value >= previous:
                self.error(f"categories: list the bands best first, each min lower than the "
                           f"one before ({letter} has min {value:g})", item.where)
                return None
            previous = value
            bands.append(Band(letter, value, labels[letter]))
        return CategorySpec("bands", bands=tuple(bands))

    def _quotas(self, entries, labels, where) -> CategorySpec | None:
        quotas, total = [], 0.0
        for i, (letter, entry) in enumerate(entries):
            item = entry.get("share")
            if item is None:
                if i != len(entries) - 1:
                    self.error(f"categories: {letter} needs share: (only the last category "
                               "takes the rest)", where)
                    return None
                quotas.append(Quota(letter, None, labels[letter]))
                continue
            share = _share(item.value)
            if share is None or not 0 < share <= 1:
                self.error(f"categories: {letter} share must be a percentage such as 10% "
                           f"(not {item.value!r})", item.where)
                return None
            total += share
            quotas.append(Quota(letter, share, labels[letter]))
        if total > 1 + 1e-9:
            self.error(f"categories: the shares add up to {total:.0%}, more than 100%", where)
            return None
        return CategorySpec("quotas", quotas=tuple(quotas))

    def extra_fields(self) -> dict[str, str]:
        out = {}
        for name, item in self.m.fields.items():
            if not _FIELD.match(name):
                self.error(f'fields: "{name}" is not a usable name: lower-case letters, digits '
                           "and _ only", item.where)
                continue
            if item.value not in DECLARABLE_TYPES:
                self.error(f"fields: {name} has type {item.value!r}; the types are "
                           f"{', '.join(DECLARABLE_TYPES)}", item.where)
                continue
            if name in self.catalogue:
                self.warn(f"fields: {name} is already a known field; this declaration is not "
                          "needed", item.where)
                continue
            out[name] = item.value
        return out

    # ------------------------------------------------------------------ derive
    def derivations(self, scope: Scope, base: Scope) -> tuple[list[Derivation], set[str]]:
        exprs: dict[str, Any] = {}
        reads: set[str] = set()
        for target, item in self.m.derive.items():
            info = scope.get(target)
            if info is not None and info.kind == TEXT:
                self.error(f"derive: {target} is text; derive computes numbers", item.where)
                continue
            if base.get(target) is None and not _FIELD.match(target):
                self.error(f'derive: "{target}" is not a usable name: lower-case letters, '
                           "digits and _ only", item.where)
                continue
            if base.get(target) is None and base.suggest(target):
                # A new derived field this close to a known one is most likely a typo.
                self.error(f'derive: unknown field "{target}" (did you mean '
                           f"{base.suggest(target)}?)", item.where)
                continue
            if info is not None and info.source in ("portfolio", "score"):
                self.error(f"derive: {target} is computed by Potentiel and cannot be derived",
                           item.where)
                continue
            if not isinstance(item.value, (str, int, float)) or isinstance(item.value, bool):
                self.error(f"derive: {target} must be an expression such as "
                           "headcount * spend_per_employee", item.where)
                continue
            text = str(item.value)
            try:
                tree = check_expression(parse(text, arithmetic_only=True), scope)
            except (SyntaxProblem, TypeProblem) as exc:
                self.error(f'derive: {target}: {exc.message} (at "{_excerpt(text, exc.pos)}")',
                           item.where)
                continue
            bad = [n for n in names_in(tree)
                   if scope.get(n).source in ("portfolio", "score")]
            if bad:
                self.error(f"derive: {target} reads {bad[0]}, which is computed after derive",
                           item.where)
                continue
            exprs[target] = (tree, item)
            reads |= names_in(tree)
        order = _topological(exprs, self)
        out = [Derivation(field=t, inputs=tuple(sorted(names_in(exprs[t][0]))),
                          compute=_derive_fn(exprs[t][0], scope),
                          label=f"{t} = {unparse(exprs[t][0])}") for t in order]
        return out, reads

    # ------------------------------------------------------------------ rules
    def rules(self, scope: Scope, letters: tuple[str, ...]) -> list[Rule]:
        if len(self.m.rules) > MAX_RULES:
            self.error(f"{len(self.m.rules):,} rules: a rule file may hold at most "
                       f"{MAX_RULES:,} (split it, or group accounts with fields and "
                       "\"in\" lists)", self.m.source)
            return []
        out = []
        for rule_id, item in self.m.rules.items():
            rule = self.rule(rule_id, item, scope, letters)
            if rule is not None:
                out.append(rule)
        return out

    def rule(self, rule_id: str, item: Item, scope: Scope, letters) -> Rule | None:
        raw: LineDict = item.value
        src = item.source
        at = lambda key: f"{src}:{raw.line_of(key)}"  # noqa: E731
        ok = True
        for key in raw:
            if key not in RULE_KEYS:
                self.error(f'rule "{rule_id}": unknown key "{key}"{_suggest(key, RULE_KEYS)}; '
                           f"a rule has {', '.join(RULE_KEYS)}", at(key))
                ok = False
        if not _ID.match(rule_id):
            self.error(f'rule id "{rule_id}": use letters, digits, "-", "_" or "." (at most '
                       "80 characters, no spaces)", at("id"))
            ok = False
        when = raw.get("when")
        if isinstance(when, bool):
            when = "true" if when else "false"
        if "when" not in raw or when is None:
            self.error(f'rule "{rule_id}": add "when:" with a condition, e.g. '
                       "when: distance_km >= 600", at("when") if "when" in raw else item.where)
            return None
        if not isinstance(when, (str, int, float)):
            self.error(f'rule "{rule_id}": when is one condition written as text, e.g. '
                       "when: distance_km >= 600 and status == \"prospect\"", at("when"))
            return None
        when = str(when)
        condition = normal = None
        try:
            tree = parse(when)
            condition, hints = check_condition(tree, scope)
            text_names = {n for n in names_in(condition) if scope.get(n).kind == TEXT}
            normal = normal_form(condition, text_names)
            for hint in hints:
                self.warn(f'rule "{rule_id}": {hint.message}', at("when"))
        except (SyntaxProblem, TypeProblem) as exc:
            self.error(f'rule "{rule_id}": {exc.message} (at "{_excerpt(when, exc.pos)}")',
                       _line_in(raw, "when", src, when, exc.pos))
            ok = False
        why = raw.get("why")
        if not isinstance(why, str) or not why.strip():
            self.error(f'rule "{rule_id}": add "why:" with one sentence a rep will read, e.g. '
                       "why: No salesperson within 600 km.", at("why") if "why" in raw
                       else item.where)
            ok = False
        priority = raw.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > 1000:
            self.error(f'rule "{rule_id}": priority must be a whole number from -1000 to 1000',
                       at("priority"))
            ok = False
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(f'rule "{rule_id}": enabled is true or false', at("enabled"))
            ok = False
        actions = self.then(rule_id, raw, src, scope, letters)
        if actions is None or not ok:
            return None
        return Rule(rule_id, when, condition, normal, actions, why.strip(), priority, enabled,
                    src, item.line)

    def then(self, rule_id, raw: LineDict, src, scope: Scope, letters):
        then = raw.get("then", LineDict())
        where = f"{src}:{raw.line_of('then')}"
        if then is None:
            then = LineDict()
        if not isinstance(then, LineDict):
            self.error(f'rule "{rule_id}": then must list actions, e.g. then: {{flag: '
                       "inaccessible, cap: C}", where)
            return None
        out, ok = [], True
        for name, value in then.items():
            at = f"{src}:{then.line_of(name)}" if then.lines else where
            action = self.actions.get(name)
            if action is None:
                self.error(f'rule "{rule_id}": unknown action "{name}"'
                           f"{_suggest(name, self.actions)}; the actions are "
                           f"{', '.join(sorted(self.actions))}", at)
                ok = False
                continue
            try:
                checked = action.check(value)
                self.context_check(name, checked, scope, letters)
            except ValueError as exc:
                self.error(f'rule "{rule_id}": {name}: {exc}', at)
                ok = False
                continue
            out.append((name, checked))
        return tuple(out) if ok else None

    def context_check(self, name: str, value: Any, scope: Scope, letters) -> None:
        """What a built-in action's value must match in this rule file."""
        if name in LETTER_ACTIONS and self.actions.get(name) is _builtin(name):
            if value not in letters:
                raise ValueError(f'"{value}" is not a category (the categories are '
                                 f"{', '.join(letters)})")
        elif name == "score" and self.actions.get(name) is _builtin(name):
            for crit in value:
                if crit not in self.criteria:
                    raise ValueError(f'unknown criterion "{crit}"{_suggest(crit, self.criteria)}')
        elif name == "set" and self.actions.get(name) is _builtin(name):
            for field_name, v in value.items():
                info = scope.get(field_name)
                if info is None or info.source in ("score", "portfolio") or field_name == "id":
                    hint = scope.suggest(field_name) if info is None else None
                    extra = f" (did you mean {hint}?)" if hint else ""
                    why = ("cannot be set by a rule" if info is not None or field_name == "id"
                           else "is not a known field")
                    raise ValueError(f'"{field_name}" {why}{extra}')
                if info.kind == NUMBER and (isinstance(v, str) or isinstance(v, bool)):
                    raise ValueError(f"{field_name} is a number, not {v!r}")
                if info.kind == TEXT and not isinstance(v, str):
                    raise ValueError(f'{field_name} is text: write it in quotes, e.g. "{v}"')
                if info.choices and str(v).strip().casefold() not in info.choices:
                    raise ValueError(f'"{v}" is not a value of {field_name} '
                                     f"({', '.join(info.choices)})")

    # ------------------------------------------------------------------ tests
    def tests(self, scope: Scope, letters, rule_ids: set[str]) -> list[RuleTest]:
        if len(self.m.tests) > MAX_TESTS:
            self.error(f"{len(self.m.tests):,} tests: at most {MAX_TESTS:,}", self.m.source)
            return []
        out = []
        for name, item in self.m.tests.items():
            test = self.test(name, item, scope, letters, rule_ids)
            if test is not None:
                out.append(test)
        return out

    def test(self, name, item: Item, scope: Scope, letters, rule_ids) -> RuleTest | None:
        raw: LineDict = item.value
        src = item.source
        at = lambda d, key: f"{src}:{d.line_of(key)}"  # noqa: E731
        ok = True
        for key in raw:
            if key not in TEST_KEYS:
                self.error(f'test "{name}": unknown key "{key}"{_suggest(key, TEST_KEYS)}; a '
                           "test has name, account and expect", at(raw, key))
                ok = False
        account = raw.get("account")
        if not isinstance(account, LineDict):
            self.error(f'test "{name}": add "account:" with the fields of a sample account',
                       item.where)
            return None
        values = {}
        for field_name, value in account.items():
            field_name = str(field_name)
            f = self.catalogue.fields.get(field_name)
            declared = self.m.fields.get(field_name)
            if f is None and declared is None:
                hint = scope.suggest(field_name)
                extra = f" (did you mean {hint}?)" if hint else ""
                self.error(f'test "{name}": unknown field "{field_name}"{extra}',
                           at(account, field_name))
                ok = False
                continue
            numeric = f.numeric if f is not None else declared.value != "text"
            if value is None:
                continue
            if numeric and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                try:
                    value = parse_number(str(value))
                except ValueError:
                    self.error(f'test "{name}": {field_name} is a number, not {value!r}',
                               at(account, field_name))
                    ok = False
                    continue
            if f is not None and f.type == STATUS and str(value).strip().casefold() not in STATUSES:
                self.error(f'test "{name}": status is {", ".join(STATUSES)}, not {value!r}',
                           at(account, field_name))
                ok = False
                continue
            values[field_name] = value if numeric else str(value)
        expect = raw.get("expect")
        if not isinstance(expect, LineDict) or not expect:
            self.error(f'test "{name}": add "expect:" (flags, category, category_at_most, '
                       "score_min, fired…)", item.where)
            return None
        checked = {}
        for key, value in expect.items():
            where = at(expect, key)
            if key not in EXPECT_KEYS:
                self.error(f'test "{name}": unknown expectation "{key}"'
                           f"{_suggest(key, EXPECT_KEYS)}; use {', '.join(EXPECT_KEYS)}", where)
                ok = False
                continue
            if key in ("flags", "not_flags", "fired", "not_fired"):
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) for v in items):
                    self.error(f'test "{name}": {key} is a list of names', where)
                    ok = False
                    continue
                if key in ("fired", "not_fired"):
                    for rid in items:
                        if rid not in rule_ids:
                            self.error(f'test "{name}": no rule "{rid}"'
                                       f"{_suggest(rid, rule_ids)}", where)
                            ok = False
                checked[key] = tuple(items)
            elif key.startswith("category"):
                if not isinstance(value, str) or value.strip().upper() not in letters:
                    self.error(f'test "{name}": {key} is a category letter '
                               f"({', '.join(letters)}), not {value!r}", where)
                    ok = False
                    continue
                checked[key] = value.strip().upper()
            else:
                number = _number(value)
                if number is None:
                    self.error(f'test "{name}": {key} is a number', where)
                    ok = False
                    continue
                checked[key] = number
        if not ok:
            return None
        return RuleTest(name, values, checked, src, item.line)

    # ------------------------------------------------------------------ all
    def build(self) -> RuleSet:
        extra = self.extra_fields()
        weights = self.weights()
        params = self.params()
        categories = self.categories()
        letters = (categories or DEFAULT_CATEGORIES).letters
        base = Scope(self.catalogue, self.criteria, extra)
        derived_targets = [t for t in self.m.derive if base.get(t) is None]
        scope = Scope(self.catalogue, self.criteria, extra, derived_targets)
        derivations, derive_reads = self.derivations(scope, base)
        rules = self.rules(scope, letters)
        tests = self.tests(scope, letters, {r.id for r in rules} | set(self.m.rules))
        kinds: dict[str, str] = {}
        hidden: dict[str, Hidden] = {}
        for rule in rules:
            for n in names_in(rule.condition):
                kinds[n] = scope.get(n).kind
            for h in hidden_columns(rule.normal):
                hidden.setdefault(h.name, h)
        fields_read = {n for n in kinds if not n.startswith(SCORE_PREFIX)} | derive_reads
        criteria_read = {n[len(SCORE_PREFIX):] for n in kinds if n.startswith(SCORE_PREFIX)}
        return RuleSet(
            path=self.m.path, name=self.m.path.stem, description=self.m.description,
            content_hash=content_hash(self.m), weights=weights, categories=categories,
            params=params, derivations=derivations, rules=rules, tests=tests,
            fields_read=fields_read, extra_fields=extra, criteria_read=criteria_read,
            kinds=kinds, hidden=[hidden[k] for k in sorted(hidden)], actions=self.actions,
            warnings=self.warnings, files=tuple(self.m.files), source=self.m.source)


def _builtin(name: str):
    from .actions import BUILTIN_ACTIONS
    return BUILTIN_ACTIONS.get(name)


def _param_type(default: Any, value: Any) -> str:
    if default is None:
        return ""
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else "is true or false"
    if isinstance(default, (int, float)):
        return "" if _number(value) is not None else f"is a number, not {value!r}"
    if isinstance(default, str):
        return "" if isinstance(value, str) else f"is a text, not {value!r}"
    if isinstance(default, (list, tuple)):
        return "" if isinstance(value, list) else f"is a list, not {value!r}"
    if isinstance(default, dict):
        return "" if isinstance(value, dict) else f"is a set of name: value pairs, not {value!r}"
    return ""


def _excerpt(text: str, pos: int) -> str:
    """The condition around ``pos`` with a marker, for one-line messages."""
    pos = max(0, min(pos, len(text)))
    start = max(0, pos - 25)
    before = ("…" if start else "") + text[start:pos]
    after = text[pos:pos + 25] + ("…" if pos + 25 < len(text) else "")
    return (before + " ▸" + after).replace("\n", " ").strip()


def _line_in(raw: LineDict, key: str, src: str, text: str, pos: int) -> str:
    """The line of ``pos`` in a condition written over several lines (``when: |``)."""
    line = raw.line_of(key)
    extra = text.count("\n", 0, pos)
    if "\n" in text.rstrip("\n"):
        extra += 1  # a block scalar starts on the line after "when:"
    return f"{src}:{line + extra}"


def _topological(exprs: dict, builder: Builder) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(target: str, path: list[str]) -> bool:
        if state.get(target) == 2:
            return True
        if state.get(target) == 1:
            loop = " → ".join([*path[path.index(target):], target])
            builder.error(f"derive: {loop} is a loop", exprs[target][1].where)
            return False
        state[target] = 1
        for dep in sorted(names_in(exprs[target][0])):
            if dep in exprs and dep != target and not visit(dep, [*path, target]):
                return False
        state[target] = 2
        order.append(target)
        return True

    for target in exprs:
        if not visit(target, []):
            return [t for t in order]
    return order


def _derive_fn(tree, scope: Scope):
    kinds = {n: NUMBER for n in names_in(tree)}

    def compute(accounts, context=None):
        import pandas as pd
        frame = build_frame(accounts, None, kinds)
        values = evaluate_number(tree, frame, len(accounts))
        return pd.Series(values, index=accounts.index, dtype=float)

    return compute


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def content_hash(m: Merged) -> str:
    """sha256 of the resolved content; the order of rules and tests does not count."""
    content = {
        "description": m.description,
        "weights": {k: _plain(v.value) for k, v in sorted(m.weights.items())},
        "fields": {k: _plain(v.value) for k, v in sorted(m.fields.items())},
        "derive": {k: _plain(v.value) for k, v in sorted(m.derive.items())},
        "params": {c: {k: _plain(v.value) for k, v in sorted(p.items())}
                   for c, p in sorted(m.params.items())},
        "categories": [[letter, {k: _plain(v.value) for k, v in sorted(e.items())}]
                       for letter, e in m.categories],
        "rules": {k: _plain(v.value) for k, v in sorted(m.rules.items())},
        "tests": {k: _plain(v.value) for k, v in sorted(m.tests.items())},
    }
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()

