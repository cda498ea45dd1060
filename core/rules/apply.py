"""From "which rule fired on which account" to the `RulesResult` the pipeline reads.

Both engines only decide the fired matrix (accounts × rules); this one function turns it
into effects, the same way for both. Rules are applied in id order and never re-trigger
rules, and every action resolves conflicts by a fixed policy (see `actions.py`), so the
outcome does not depend on the order of rules in the file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..i18n import _, language
from ..problems import Problem
from .actions import BUILTIN_ACTIONS, RuleAction, row_tuples
from .model import Rule
from .result import RulesResult


def _guarded(result: RulesResult, action: str, rule_id: str | None, fn, *args) -> bool:
    """Run a (plugin) action; one that raises is reported by name (the action's, and the
    rule's, or None for its finish step) and the run goes on."""
    try:
        fn(*args)
        return True
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not stop the run
        msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        what = _("rule action {name} (finish)").format(name=action) if rule_id is None else \
            _('rule "{rule_id}": action {name}').format(rule_id=rule_id, name=action)
        result.problems.append(Problem(_("{what} failed ({error}); its effect is left "
                                         "out").format(what=what, error=msg), "", "warning"))
        return False


def build_result(rules: Sequence[Rule], fired: np.ndarray, index: pd.Index,
                 ids: pd.Series | None = None, letters: tuple[str, ...] = ("A", "B", "C", "D"),
                 actions: Mapping[str, RuleAction] | None = None,
                 where: str = "") -> RulesResult:
    """Effects of ``rules`` given ``fired`` (bool, len(index) × len(rules), same order)."""
    registry = {**BUILTIN_ACTIONS, **(actions or {})}
    result = RulesResult.empty(index)
    result.letters = tuple(letters)
    result.ids = ids if ids is not None else pd.Series(index.astype(str), index=index)
    result.priority = {r.id: r.priority for r in rules}
    order = sorted(range(len(rules)), key=lambda j: rules[j].id)
    ids_sorted = [rules[j].id for j in order]
    matrix = fired[:, order] if len(order) else np.zeros((len(index), 0), dtype=bool)
    result.fired = row_tuples(matrix, ids_sorted, index)
    finishers = []
    for k, j in enumerate(order):
        column = matrix[:, k]
        if not column.any():
            continue
        rule = rules[j]
        result.why[rule.id] = rule.why_for(language())
        mask = pd.Series(column, index=index)
        for name, value in rule.actions:
            action = registry[name]
            if not _guarded(result, name, rule.id, action.apply, result, mask, value, rule.id):
                continue
            if action.finish is not None and action not in finishers:
                finishers.append(action)
    flag = registry.get("flag", BUILTIN_ACTIONS["flag"])
    if "flag" in result.pending and flag not in finishers:
        finishers.append(flag)  # a plugin action used result.add_flags()
    for action in sorted(finishers, key=lambda a: a.name):
        _guarded(result, action.name, None, action.finish, result)
    result.pending.clear()
    result.problems = [p if p.where else replace(p, where=where) for p in result.problems]
    return result

