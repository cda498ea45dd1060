"""Rule files: loading, checking and applying the YAML rules of a client company.

The public API the pipeline and the command line use::

    load_ruleset(path, catalogue, criteria, actions=None) -> RuleSet
    check_ruleset(path, catalogue, criteria, actions=None) -> list[Problem]
    apply_rules(ruleset, accounts, scores, engine="durable") -> RulesResult
    run_rule_tests(ruleset, score_accounts) -> list[TestOutcome]
    format_test_report(outcomes) -> str
    rules_dir() -> Path

The language itself is described in ``docs/rules.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..criterion import Criterion
from ..fields import Catalogue
from ..i18n import _
from ..problems import Problem, UserError
from .actions import BUILTIN_ACTIONS, RuleAction
from .build import Builder
from .engines import apply_rules
from .files import display, merge_chain, read_chain, rules_dir
from .lint import lint
from .model import Rule, RuleSet, RuleTest
from .result import RulesResult
from .ruletests import TestOutcome, format_test_report, run_rule_tests


def _path(path: str | Path | None) -> Path:
    return rules_dir() / "default.yaml" if path is None else Path(path)


def load_ruleset(path: str | Path | None, catalogue: Catalogue,
                 criteria: Mapping[str, Criterion],
                 actions: Mapping[str, RuleAction] | None = None) -> RuleSet:
    """Read, merge (``extends``), check and compile a rule file.

    ``path`` None means the shipped ``rules/default.yaml``. ``actions`` are the rule
    actions plugins registered (name → `RuleAction`); the built-in ones are always there
    and a registered action of the same name replaces one. Raises `UserError` with every
    problem found, each as ``Problem(message, where="file:line")``.
    """
    registry = {**BUILTIN_ACTIONS, **(actions or {})}
    merged = merge_chain(read_chain(_path(path)))
    builder = Builder(merged, catalogue, criteria, registry)
    ruleset = builder.build()
    if builder.problems:
        raise UserError(builder.problems)
    return ruleset


def check_ruleset(path: str | Path | None, catalogue: Catalogue,
                  criteria: Mapping[str, Criterion],
                  actions: Mapping[str, RuleAction] | None = None) -> list[Problem]:
    """Every error (level "error") and lint warning of a rule file. Never raises for bad
    input: an unreadable file is one error."""
    try:
        ruleset = load_ruleset(path, catalogue, criteria, actions)
    except UserError as exc:
        return list(exc.problems)
    except (OSError, RecursionError, MemoryError) as exc:
        return [Problem(_("cannot check this file: {error}").format(error=exc),
                        display(_path(path)), "error")]
    return list(ruleset.warnings) + lint(ruleset)


__all__ = ["load_ruleset", "check_ruleset", "apply_rules", "run_rule_tests",
           "format_test_report", "rules_dir", "RuleSet", "Rule", "RuleTest", "RuleAction",
           "RulesResult", "TestOutcome", "BUILTIN_ACTIONS"]
