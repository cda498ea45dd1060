"""Turning a merged rule file into a checked `RuleSet`, collecting every problem found.

This module checks and compiles the rules (conditions against the field catalogue, see
`typecheck.py`; ``then:`` against the registered actions and this file's categories) and
the ``derive`` expressions; `sections.py` checks weights, params, categories and fields,
`testcases.py` the test cases. Every problem names ``file:line`` and says what would fix
it; the load fails only after all of them have been collected.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Mapping

from ..categories import DEFAULT_CATEGORIES
from ..criterion import Criterion, Derivation
from ..fields import Catalogue
from ..i18n import _
from ..problems import Problem
from .actions import LETTER_ACTIONS, RuleAction
from .files import Item, Merged
from .logic import MAX_ALTERNATIVES, Hidden, alternatives, hidden_columns, normal_form
from .model import FINAL, Rule, RuleSet
from .names import (NUMBER, SCORE_PREFIX, TEXT, Scope, add_profile, final_scope,
                    subscore_names)
from .profiles import ProfileChecks
from .sections import FIELD_NAME, SectionChecks, did_you_mean
from .source import LineDict
from .syntax import SyntaxProblem, names_in, parse, unparse
from .scoremodel import ScoreModelChecks
from .tables import TableChecks
from .testcases import TestCaseChecks
from .typecheck import TypeProblem, check_condition, check_expression
from .values import build_frame, evaluate_number

MAX_RULES = 10_000
RULE_KEYS = ("id", "when", "then", "why", "priority", "enabled", "stage")
STAGES = ("first", FINAL)
FINAL_ACTIONS = ("flag", "cap", "floor", "force", "set")  # what a final-stage rule may do
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class Builder(SectionChecks, TableChecks, ScoreModelChecks, TestCaseChecks, ProfileChecks):
    """Collects every problem of a merged rule file, then builds the `RuleSet`."""

    def __init__(self, merged: Merged, catalogue: Catalogue, criteria: Mapping[str, Criterion],
                 actions: Mapping[str, RuleAction]):
        self.m = merged
        self.catalogue = catalogue
        self.criteria = criteria
        self.actions = actions
        self.problems: list[Problem] = list(merged.problems)
        self.warnings: list[Problem] = list(merged.notices)

    def error(self, message: str, where: str) -> None:
        self.problems.append(Problem(message, where, "error"))

    def warn(self, message: str, where: str) -> None:
        self.warnings.append(Problem(message, where, "warning"))

    def notice(self, message: str, where: str) -> None:
        """Something legal and meant, said so the reader knows (level "notice")."""
        self.warnings.append(Problem(message, where, "notice"))

    # ------------------------------------------------------------------ derive
    def derivations(self, scope: Scope, base: Scope) -> tuple[list[Derivation], set[str]]:
        exprs: dict[str, Any] = {}
        reads: set[str] = set()
        for target, item in self.m.derive.items():
            info = scope.get(target)
            if info is not None and info.kind == TEXT:
                self.error(_("derive: {target} is text; derive computes numbers").format(
                               target=target), item.where)
                continue
            if base.get(target) is None and not FIELD_NAME.match(target):
                self.error(_('derive: "{target}" is not a usable name: lower-case letters, '
                             "digits and _ only").format(target=target), item.where)
                continue
            if base.get(target) is None and base.suggest(target):
                # A new derived field this close to a known one is most likely a typo.
                self.error(_('derive: unknown field "{target}" (did you mean {suggest}?)').format(
                               target=target, suggest=base.suggest(target)), item.where)
                continue
            if info is not None and info.source in ("portfolio", "score"):
                self.error(_("derive: {target} is computed by Potentiel and cannot be derived").format(
                               target=target),
                           item.where)
                continue
            if not isinstance(item.value, (str, int, float)) or isinstance(item.value, bool):
                self.error(_("derive: {target} must be an expression such as headcount * "
                             "spend_per_employee").format(target=target), item.where)
                continue
            text = str(item.value)
            try:
                tree = check_expression(parse(text, arithmetic_only=True), scope)
            except (SyntaxProblem, TypeProblem) as exc:
                self.error(_('derive: {target}: {message} (at "{excerpt}")').format(
                               target=target, message=exc.message, excerpt=_excerpt(text, exc.pos)),
                           item.where)
                continue
            bad = [n for n in names_in(tree)
                   if scope.get(n).source in ("portfolio", "score")]
            if bad:
                self.error(_("derive: {target} reads {bad}, which is computed after derive").format(
                               target=target, bad=bad[0]),
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
            self.error(_("{n:,} rules: a rule file may hold at most {max_rules:,} (split it, "
                         'or group accounts with fields and "in" lists)').format(
                           n=len(self.m.rules), max_rules=MAX_RULES), self.m.source)
            return []
        out = []
        final = []
        for rule_id, item in self.m.rules.items():
            if isinstance(item.value, LineDict) and item.value.get("stage") == FINAL:
                final.append((rule_id, item))
                continue
            rule = self.rule(rule_id, item, scope, letters)
            if rule is not None:
                out.append(rule)
        # The second stage reads the first stage's outcome: its flags among them.
        flags = sorted({f for r in out if r.enabled for f in (r.action("flag") or ())})
        self.final_scope = final_scope(scope, letters, flags, getattr(self, "_subscores", {}),
                                       getattr(self, "_cross", None))
        for rule_id, item in final:
            rule = self.rule(rule_id, item, self.final_scope, letters, FINAL)
            if rule is not None:
                out.append(rule)
        return out

    def rule(self, rule_id: str, item: Item, scope: Scope, letters,
             stage: str = "first") -> Rule | None:
        raw: LineDict = item.value
        src = item.source
        at = lambda key: f"{src}:{raw.line_of(key)}"  # noqa: E731
        ok = True
        if "stage" in raw and raw["stage"] not in STAGES:
            self.error(_('rule "{id}": stage is final (the rule runs after the categories and '
                         "reads score, category, profile, top80 and the flags) or first (the "
                         "default), not {value!r}").format(id=rule_id, value=raw["stage"]),
                       at("stage"))
            ok = False
        if stage == FINAL and isinstance(raw.get("then"), LineDict):
            for name in raw["then"]:
                if name not in FINAL_ACTIONS:
                    self.error(_('rule "{id}": a rule with stage: final may {actions}, not '
                                 "{name} (it runs once the score is made: give points or "
                                 "scores in a first-stage rule)").format(
                                     id=rule_id, actions=", ".join(FINAL_ACTIONS), name=name),
                               f"{src}:{raw['then'].line_of(name)}")
                    ok = False
        for key in raw:
            if key not in RULE_KEYS:
                self.error(_('rule "{rule_id}": unknown key "{key}"{did_you_mean}; a rule has '
                             "{list}").format(
                               rule_id=rule_id, key=key, did_you_mean=did_you_mean(key, RULE_KEYS), list=', '.join(RULE_KEYS)), at(key))
                ok = False
        if not _ID.match(rule_id):
            self.error(_('rule id "{rule_id}": use letters, digits, "-", "_" or "." (at most '
                         "80 characters, no spaces)").format(rule_id=rule_id), at("id"))
            ok = False
        when = raw.get("when")
        if isinstance(when, bool):
            when = "true" if when else "false"
        if "when" not in raw or when is None:
            self.error(_('rule "{rule_id}": add "when:" with a condition, e.g. when: '
                         "distance_km >= 600").format(rule_id=rule_id), at("when") if "when" in raw else item.where)
            return None
        if not isinstance(when, (str, int, float)):
            self.error(_('rule "{rule_id}": when is one condition written as text, e.g. when: '
                         'distance_km >= 600 and status == "prospect"').format(rule_id=rule_id), at("when"))
            return None
        when = str(when)
        condition = normal = None
        try:
            tree = parse(when)
            condition, hints = check_condition(tree, scope)
            text_names = {n for n in names_in(condition) if scope.get(n).kind == TEXT}
            normal = normal_form(condition, text_names)
            if alternatives(normal) > MAX_ALTERNATIVES:
                self.error(_('rule "{rule_id}": this condition has {alternatives:,} '
                             'alternatives ("or" and "in" choices multiplied through "and"); '
                             "the rules engine takes at most {max_alternatives}: split it into "
                             "several rules").format(
                               rule_id=rule_id, alternatives=alternatives(normal), max_alternatives=MAX_ALTERNATIVES), at("when"))
                ok = False
            for hint in hints:
                self.warn(_('rule "{rule_id}": {message}').format(
                              rule_id=rule_id, message=hint.message), at("when"))
        except (SyntaxProblem, TypeProblem) as exc:
            self.error(_('rule "{rule_id}": {message} (at "{excerpt}")').format(
                           rule_id=rule_id, message=exc.message, excerpt=_excerpt(when, exc.pos)),
                       _line_in(raw, "when", src, when, exc.pos))
            ok = False
        why = raw.get("why")
        translations: dict[str, str] = {}
        if isinstance(why, dict):  # why: {fr: …, en: …}, one text per language
            translations = {str(k).strip().lower(): v.strip() for k, v in why.items()
                            if isinstance(v, str) and v.strip()}
            unknown = sorted(set(translations) - {"fr", "en"})
            if unknown or not translations or len(translations) != len(why):
                self.error(_('rule "{rule_id}": why: in two languages is written '
                             "{{fr: Texte en français., en: English text.}}, each a sentence "
                             "in quotes if it holds a colon").format(rule_id=rule_id), at("why"))
                ok = False
            why = translations.get("en") or next(iter(translations.values()), "")
        if not isinstance(why, str) or not why.strip():
            self.error(_('rule "{rule_id}": add "why:" with one sentence a rep will read, e.g. '
                         "why: No salesperson within 600 km.").format(rule_id=rule_id),
                       at("why") if "why" in raw else item.where)
            ok = False
        priority = raw.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > 1000:
            self.error(_('rule "{rule_id}": priority must be a whole number from -1000 to 1000').format(
                           rule_id=rule_id),
                       at("priority"))
            ok = False
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(_('rule "{rule_id}": enabled is true or false').format(rule_id=rule_id), at("enabled"))
            ok = False
        actions = self.then(rule_id, raw, src, scope, letters)
        if actions is None or not ok:
            return None
        return Rule(rule_id, when, condition, normal, actions, why.strip(), priority, enabled,
                    src, item.line, stage, translations)

    def then(self, rule_id, raw: LineDict, src, scope: Scope, letters):
        then = raw.get("then", LineDict())
        where = f"{src}:{raw.line_of('then')}"
        if then is None:
            then = LineDict()
        if not isinstance(then, LineDict):
            self.error(_('rule "{rule_id}": then must list actions, e.g. then: {{flag: '
                         "inaccessible, cap: C}}").format(rule_id=rule_id), where)
            return None
        out, ok = [], True
        for name, value in then.items():
            at = f"{src}:{then.line_of(name)}" if then.lines else where
            action = self.actions.get(name)
            if action is None:
                self.error(_('rule "{rule_id}": unknown action "{name}"{did_you_mean}; the '
                             "actions are {list}").format(
                               rule_id=rule_id, name=name, did_you_mean=did_you_mean(name, self.actions), list=', '.join(sorted(self.actions))), at)
                ok = False
                continue
            try:
                checked = action.check(value)
                self.context_check(name, checked, scope, letters)
            except ValueError as exc:
                self.error(_('rule "{rule_id}": {name}: {error}').format(
                               rule_id=rule_id, name=name, error=exc), at)
                ok = False
                continue
            out.append((name, checked))
        return tuple(out) if ok else None

    def context_check(self, name: str, value: Any, scope: Scope, letters) -> None:
        """What a built-in action's value must match in this rule file."""
        if name in LETTER_ACTIONS and self.actions.get(name) is _builtin(name):
            if value not in letters:
                raise ValueError(_('"{value}" is not a category (the categories are '
                                   "{letters})").format(value=value, letters=", ".join(letters)))
        elif name == "score" and self.actions.get(name) is _builtin(name):
            for crit in value:
                if crit not in self.criteria:
                    raise ValueError(_('unknown criterion "{crit}"{did_you_mean}').format(
                        crit=crit, did_you_mean=did_you_mean(crit, self.criteria)))
        elif name == "set" and self.actions.get(name) is _builtin(name):
            for field_name, v in value.items():
                info = scope.get(field_name)
                if info is None or info.source in ("score", "portfolio") or field_name == "id":
                    hint = scope.suggest(field_name) if info is None else None
                    extra = _(" (did you mean {name}?)").format(name=hint) if hint else ""
                    why = _('"{field}" cannot be set by a rule{did_you_mean}') \
                        if info is not None or field_name == "id" else \
                        _('"{field}" is not a known field{did_you_mean}')
                    raise ValueError(why.format(field=field_name, did_you_mean=extra))
                if info.kind == NUMBER and (isinstance(v, str) or isinstance(v, bool)):
                    raise ValueError(_("{field} is a number, not {value!r}").format(
                        field=field_name, value=v))
                if info.kind == TEXT and not isinstance(v, str):
                    raise ValueError(_('{field} is text: write it in quotes, e.g. '
                                       '"{value}"').format(field=field_name, value=v))
                if info.choices and str(v).strip().casefold() not in info.choices:
                    raise ValueError(_('"{value}" is not a value of {field} ({values})').format(
                        value=v, field=field_name, values=", ".join(info.choices)))

    # ------------------------------------------------------------------ all
    def build(self) -> RuleSet:
        extra = self.extra_fields()
        derived_names = [t for t in self.m.derive
                         if Scope(self.catalogue, self.criteria, extra).get(t) is None]
        table_scope = Scope(self.catalogue, self.criteria, extra, derived_names)
        every_table = self.tables(table_scope)
        tables = {n: t for n, t in every_table.items() if t.gives != "points"}
        point_tables = {n: t for n, t in every_table.items() if t.gives == "points"}
        self.criteria = {**self.criteria, **tables}
        model = self.score_model(table_scope, point_tables)
        subscores = self.subscores(table_scope, point_tables)
        cross = self.cross(subscores)
        self._subscores, self._cross = subscores, cross  # read by final-stage rules
        weights = self.weights()
        grouped = {c for g in model.groups for c in g.shares}
        for name, table in tables.items():
            if model.kind == "points" and name not in grouped:
                self.notice(_("tables: {name} gives a 0–100 score but is in no group of "
                              "score: groups, so it counts for nothing in the points; add it "
                              "to a group, or write its bands with points:").format(name=name),
                            table.where)
            elif not weights.get(name) and model.kind == "weighted":
                self.notice(_('tables: {name} has no weight, so it shows in the column "Score: '
                              '{name}" but counts for nothing in the score; give it one under '
                              "weights: (e.g. weights: {{{name}: 20}})").format(name=name),
                            table.where)
        params = self.params()
        categories = self.categories()
        if model.kind != "weighted":
            self.check_scale(model, categories)
        letters = (categories or DEFAULT_CATEGORIES).letters
        base = Scope(self.catalogue, self.criteria, extra)
        derived_targets = [t for t in self.m.derive if base.get(t) is None]
        scope = Scope(self.catalogue, self.criteria, extra, derived_targets)
        derivations, derive_reads = self.derivations(scope, base)
        self.top_categories = categories or DEFAULT_CATEGORIES
        profiles = self.profiles(scope, letters)
        if profiles is not None:
            add_profile(scope, profiles.names)
        scope.after_rules = frozenset(subscore_names(subscores, cross))
        rules = self.rules(scope, letters)
        self.check_points(rules, model, subscores)
        outputs = self.outputs(self._set_fields(rules), extra)
        tests = self.tests(scope, letters, {r.id for r in rules} | set(self.m.rules))
        kinds: dict[str, str] = {}
        hidden: dict[str, Hidden] = {}
        final_kinds: dict[str, str] = {}
        final_hidden: dict[str, Hidden] = {}
        for rule in rules:
            final = rule.stage == FINAL
            for n in names_in(rule.condition):
                (final_kinds if final else kinds)[n] = \
                    (self.final_scope if final else scope).get(n).kind
            for h in hidden_columns(rule.normal):
                (final_hidden if final else hidden).setdefault(h.name, h)
        fields_read = {n for n in kinds if not n.startswith(SCORE_PREFIX)} | derive_reads
        if profiles is not None:
            fields_read |= {n for n in profiles.kinds if not n.startswith(SCORE_PREFIX)}
            fields_read.discard("profile")
        criteria_read = {n[len(SCORE_PREFIX):] for n in kinds if n.startswith(SCORE_PREFIX)}
        from ..plan.visits import read_rule_sections
        plan, plan_problems = read_rule_sections(self.m.plan, letters,
                                                 profiles.names if profiles is not None else ())
        self.problems += plan_problems
        return RuleSet(
            path=self.m.path, name=self.m.path.stem, description=self.m.description,
            content_hash=content_hash(self.m), weights=weights, categories=categories,
            params=params, derivations=derivations, rules=rules, tests=tests,
            fields_read=fields_read, extra_fields=extra, criteria_read=criteria_read,
            kinds=kinds, hidden=[hidden[k] for k in sorted(hidden)], actions=self.actions,
            warnings=self.warnings, outputs=outputs, columns=self.columns(extra),
            files=tuple(self.m.files), tables=tables, score_model=model,
            point_tables=point_tables, subscores=subscores, cross=cross,
            source=self.m.source, profiles=profiles, final_kinds=final_kinds,
            final_hidden=[final_hidden[k] for k in sorted(final_hidden)], plan=plan)

    def columns(self, extra: dict[str, str]) -> dict[str, str]:
        """The ``columns:`` section: field → the header of the column to read it from (the
        column map; a Settings ``Column: <field>`` row wins over it)."""
        out: dict[str, str] = {}
        for name, item in self.m.columns.items():
            field_name = self.catalogue.match(name) if name not in extra else name
            if field_name is None:
                hint = self.catalogue.suggest(name)
                more = _(" (did you mean {name}?)").format(name=hint) if hint else _(" (potentiel fields lists them)")
                self.error(_('columns: unknown field "{name}"{more}').format(name=name, more=more), item.where)
                continue
            if not isinstance(item.value, str) or not item.value.strip():
                self.error(_("columns: {name} needs the header of a column, as text (e.g. "
                             '{name}: "CA HT 2025")').format(name=name), item.where)
                continue
            out[field_name] = item.value.strip()
        return out

    def _set_fields(self, rules: list[Rule]) -> dict[str, str]:
        """Fields the built-in ``set`` action writes → the first rule writing each."""
        if self.actions.get("set") is not _builtin("set"):
            return {}
        out: dict[str, str] = {}
        for rule in rules:
            if not rule.enabled:
                continue
            for name in rule.action("set") or {}:
                out.setdefault(str(name), rule.where)
        return out


def _builtin(name: str):
    from .actions import BUILTIN_ACTIONS
    return BUILTIN_ACTIONS.get(name)


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
            builder.error(_("derive: {loop} is a loop").format(loop=loop), exprs[target][1].where)
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
    kinds = {n: scope.get(n).kind for n in names_in(tree)}

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
    if m.outputs:  # only when present, so the hash of every other file stays as it was
        content["outputs"] = {k: _plain(v.value) for k, v in sorted(m.outputs.items())}
    if m.tables:
        content["tables"] = {k: _plain(v.value) for k, v in sorted(m.tables.items())}
    for key in ("score", "cross"):
        if getattr(m, key) is not None:
            content[key] = _plain(getattr(m, key).value)
    if m.subscores:
        content["subscores"] = {k: _plain(v.value) for k, v in sorted(m.subscores.items())}
    if m.profiles:  # a list: their order decides
        content["profiles"] = [[k, _plain(v.value)] for k, v in m.profiles.items()]
    if m.columns:
        content["columns"] = {k: _plain(v.value) for k, v in sorted(m.columns.items())}
    if m.plan:
        content["plan"] = [[src, _plain(section)] for src, section, _line in m.plan]
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()

