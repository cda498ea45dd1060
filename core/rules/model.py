"""The loaded form of a rule file: `RuleSet`, `Rule` and `RuleTest`.

A `RuleSet` is what `load_ruleset` returns once a file and everything it extends have
been read, merged, type-checked and compiled: the pipeline reads its weights, categories,
params and derivations, and `apply_rules` runs its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..categories import CategorySpec

FINAL = "final"  # the stage of rules that read score, category, profile, top80 and flags
from ..criterion import Derivation
from ..problems import Problem
from .logic import Hidden
from .syntax import Node


@dataclass(frozen=True)
class Rule:
    """One rule: when ``condition`` is TRUE for an account, ``actions`` apply to it."""

    id: str
    when: str                      # the condition as written
    condition: Node                # type-checked tree (``20%`` resolved)
    normal: Node                   # normal form, what the engines run (see logic.py)
    actions: tuple[tuple[str, Any], ...]  # (action name, checked value), as written
    why: str
    priority: int = 0
    enabled: bool = True
    source: str = ""               # the file it comes from, as shown in messages
    line: int = 0
    stage: str = "first"           # "final": runs after the categories (see FINAL)
    why_in: dict[str, str] = field(default_factory=dict)  # why: {fr: …, en: …}

    def why_for(self, lang: str) -> str:
        """The why in ``lang`` when the file gives it, else the one text it has."""
        return self.why_in.get(lang) or self.why

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    def action(self, name: str, default: Any = None) -> Any:
        for n, v in self.actions:
            if n == name:
                return v
        return default


@dataclass(frozen=True)
class RuleTest:
    """A test case of the rule file: one account and what the rules should make of it."""

    name: str
    account: Mapping[str, Any]
    expect: Mapping[str, Any]
    source: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass
class RuleSet:
    """A loaded, checked rule file (with everything it extends merged in).

    ``fields_read``: account and portfolio fields the rules and derivations read (not the
    scores); ``criteria_read``: criteria whose score a rule reads (``score.<name>``);
    ``kinds``: number or text for every name a rule condition reads; ``hidden``: columns
    computed before the engines run; ``warnings``: things legal but probably not meant
    (level "warning") or said so nothing changes silently (level "notice");
    ``outputs``: field → header of the output column showing each field a ``set`` action
    writes (the value used after the rules), in the order they are written; ``tables``:
    the criteria the file defines under ``tables:`` (name → `TableCriterion`), scored and
    weighted like the plugins' criteria.
    """

    path: Path
    name: str
    description: str
    content_hash: str
    weights: dict[str, float]
    categories: CategorySpec | None
    params: dict[str, dict]
    derivations: list[Derivation]
    rules: list[Rule]
    tests: list[RuleTest]
    fields_read: set[str]
    extra_fields: dict[str, str]
    criteria_read: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)
    hidden: list[Hidden] = field(default_factory=list)
    actions: Mapping[str, Any] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # field → header it is read from
    files: tuple[Path, ...] = ()
    source: str = ""
    tables: dict[str, Any] = field(default_factory=dict)  # name → TableCriterion (tables:)
    # The score model (potentiel.scoremodels): ``score:``, the points tables (gives:
    # points, not criteria), ``subscores:`` and ``cross:``.
    score_model: Any = None
    point_tables: dict[str, Any] = field(default_factory=dict)
    subscores: dict[str, Any] = field(default_factory=dict)
    cross: Any = None
    # profiles: (`potentiel.profiles.ProfileSet`), None when the file has none
    profiles: Any = None
    # the second stage: what its conditions read (names → kind) and its hidden columns
    final_kinds: dict[str, str] = field(default_factory=dict)
    final_hidden: list[Hidden] = field(default_factory=list)
    # plan: visits a year, visit length, capacity, objectives (potentiel.plan.visits)
    plan: Any = None

    @property
    def active_rules(self) -> list[Rule]:
        """Enabled first-stage rules, in id order (the order never changes an outcome)."""
        return sorted((r for r in self.rules if r.enabled and r.stage != FINAL),
                      key=lambda r: r.id)

    @property
    def final_rules(self) -> list[Rule]:
        """Enabled ``stage: final`` rules, in id order."""
        return sorted((r for r in self.rules if r.enabled and r.stage == FINAL),
                      key=lambda r: r.id)

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None
