"""Running the ``tests:`` of a rule file and reporting them like pytest.

The rules alone do not give a category: that needs the criteria, weights and categories.
So the caller (the pipeline) passes ``score_accounts(records, ruleset)``: it scores the
test accounts (a list of plain dicts, field → value, each with an ``id``) under the rule
set and returns, per account in the same order, ``flags`` (tuple), ``category`` (letter
or None), ``score`` (float), ``fired`` (tuple of rule ids), and optionally ``profile``,
``subscores`` (name → points), ``bands`` (name → band) and ``cross`` (the cell): either a
DataFrame with those columns, or a list of mappings or objects with those keys or attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pandas as pd

from ..categories import DEFAULT_CATEGORIES
from ..i18n import _
from .model import RuleSet, RuleTest


@dataclass(frozen=True)
class TestOutcome:
    """One test case: passed, and if not, what was expected and what came out."""

    __test__ = False  # not a pytest test class

    name: str
    passed: bool
    failures: tuple[str, ...] = ()
    where: str = ""


def _rows(result: Any, n: int) -> list[dict]:
    if isinstance(result, pd.DataFrame):
        rows = result.to_dict("records")
    else:
        rows = []
        for item in result:
            if isinstance(item, dict):
                rows.append(item)
            else:
                rows.append({k: getattr(item, k, None)
                             for k in ("flags", "category", "score", "fired", "profile",
                                       "subscores", "bands", "cross")})
    if len(rows) != n:
        raise ValueError(f"score_accounts returned {len(rows)} results for {n} accounts")
    return rows


def _tuple(value: Any) -> tuple:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


def _check(test: RuleTest, row: dict, letters: tuple[str, ...]) -> list[str]:
    failures = []
    flags, fired = set(_tuple(row.get("flags"))), set(_tuple(row.get("fired")))
    category = row.get("category")
    score = row.get("score")
    rank = {letter: i for i, letter in enumerate(letters)}
    for key, want in test.expect.items():
        if key == "flags" and not set(want) <= flags:
            failures.append(_("flags {want}, got {got}").format(want=sorted(want),
                                                                got=sorted(flags)))
        elif key == "not_flags" and set(want) & flags:
            failures.append(_("no flag {want}, got {got}").format(want=sorted(set(want) & flags),
                                                                  got=sorted(flags)))
        elif key == "fired" and not set(want) <= fired:
            failures.append(_("rules {want} to fire, fired {got}").format(want=sorted(want),
                                                                          got=sorted(fired)))
        elif key == "not_fired" and set(want) & fired:
            failures.append(_("rules {want} not to fire, fired {got}").format(
                want=sorted(set(want) & fired), got=sorted(fired)))
        elif key == "profile" and str(row.get("profile") or "").lower() != want:
            failures.append(_("profile {want}, got {got}").format(want=want,
                                                                  got=row.get("profile")))
        elif key == "subscores":
            got = row.get("subscores") or {}
            for sub, points in want.items():
                v = got.get(sub)
                if v is None or (isinstance(v, float) and math.isnan(v)) or \
                        abs(v - points) > 1e-6:
                    failures.append(_("{name} {want:g}, got {got}").format(
                        name=sub, want=points, got=_num(v)))
        elif key == "bands":
            got = row.get("bands") or {}
            for sub, band in want.items():
                if got.get(sub) != band:
                    failures.append(_("{name} band {want}, got {got}").format(
                        name=sub, want=band, got=got.get(sub) or _("none")))
        elif key == "cross" and row.get("cross") != want:
            failures.append(_("cross {want}, got {got}").format(
                want=want, got=row.get("cross") or _("none")))
        elif key == "category" and category != want:
            failures.append(_("category {want}, got {got}").format(want=want, got=category))
        elif key == "category_at_most" and (category not in rank or rank[category] < rank[want]):
            failures.append(_("category {want} or lower, got {got}").format(want=want,
                                                                            got=category))
        elif key == "category_at_least" and (category not in rank
                                             or rank[category] > rank[want]):
            failures.append(_("category {want} or better, got {got}").format(want=want,
                                                                             got=category))
        elif key in ("score_min", "score_max"):
            ok = score is not None and not (isinstance(score, float) and math.isnan(score))
            if ok:
                ok = score >= want if key == "score_min" else score <= want
            if not ok:
                said = _("score at least {want:g}, got {got}") if key == "score_min" else \
                    _("score at most {want:g}, got {got}")
                failures.append(said.format(want=want, got=_num(score)))
    return failures


def _num(v: Any) -> str:
    return _("none") if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}"


def run_rule_tests(ruleset: RuleSet,
                   score_accounts: Callable[[list[dict], RuleSet], Any]) -> list[TestOutcome]:
    """Score every test account at once and compare with its ``expect``."""
    tests: Sequence[RuleTest] = ruleset.tests
    if not tests:
        return []
    records = [{"id": f"test-{i + 1}", **dict(t.account)} for i, t in enumerate(tests)]
    rows = _rows(score_accounts(records, ruleset), len(records))
    letters = (ruleset.categories or DEFAULT_CATEGORIES).letters
    out = []
    for test, row in zip(tests, rows):
        failures = _check(test, row, letters)
        out.append(TestOutcome(test.name, not failures, tuple(failures), test.where))
    return out


def format_test_report(outcomes: Sequence[TestOutcome]) -> str:
    """``PASS name`` / ``FAIL name: expected … got …`` lines, then a count line."""
    lines = []
    for o in outcomes:
        if o.passed:
            lines.append(_("PASS {name}").format(name=o.name))
        else:
            lines.append(_("FAIL {name}: expected {failures}").format(
                name=o.name, failures=_("; expected ").join(o.failures))
                + (f" ({o.where})" if o.where else ""))
    failed = sum(not o.passed for o in outcomes)
    passed = len(outcomes) - failed
    if not outcomes:
        lines.append(_("no tests"))
    else:
        lines.append(_("{passed} passed, {failed} failed").format(passed=passed, failed=failed)
                     if failed else _("{passed} passed").format(passed=passed))
    return "\n".join(lines)
