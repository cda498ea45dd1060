"""The tests: section of rule files: running them through an injected scorer, reporting."""

import textwrap
from types import SimpleNamespace

import pandas as pd
import pytest

from potentiel.categories import DEFAULT_CATEGORIES, adjust, by_bands, by_quotas
from potentiel.criterion import Criterion, Param
from potentiel.fields import Catalogue
from potentiel.rules import (apply_rules, format_test_report, load_ruleset, rules_dir,
                             run_rule_tests)

CRITERIA = {n: type(n, (Criterion,), {"name": n, "params": {
    "far_km": Param(600), "per_incident": Param(25)}})() for n in (
    "revenue", "trend", "potential", "penetration", "solvency", "growth", "prescription",
    "relationship", "accessibility")}
CATALOGUE = Catalogue.build()


def fake_scorer(base=80.0, shape="frame"):
    """What the pipeline does, in miniature: a flat score, the rules, then categories."""
    calls = []

    def score_accounts(records, ruleset):
        calls.append(records)
        accounts = pd.DataFrame(records)
        result = apply_rules(ruleset, accounts, pd.DataFrame(index=accounts.index),
                             engine="compiled")
        score = pd.Series(base, index=accounts.index) + result.points
        spec = ruleset.categories or DEFAULT_CATEGORIES
        letters = by_bands(score, spec) if spec.mode == "bands" else by_quotas(
            score, spec, ~result.exclude)
        category = adjust(letters, spec, result.cap, result.floor, result.force)
        rows = [{"flags": f, "category": c, "score": s, "fired": fi}
                for f, c, s, fi in zip(result.flags, category, score, result.fired)]
        if shape == "frame":
            return pd.DataFrame(rows)
        if shape == "objects":
            return [SimpleNamespace(**r) for r in rows]
        return rows

    score_accounts.calls = calls
    return score_accounts


def ruleset(tmp_path, text):
    path = tmp_path / "rules" / "acme.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_ruleset(path, CATALOGUE, CRITERIA)


RULES = """\
rules:
  - id: too-far
    when: distance_km >= 600
    then: {flag: inaccessible, cap: C, points: -5}
    why: Too far.
tests:
  - name: far is capped
    account: {distance_km: 650}
    expect: {flags: [inaccessible], category_at_most: C, fired: [too-far], score_max: 76}
  - name: near is not
    account: {distance_km: "12"}
    expect: {not_flags: [inaccessible], category: A, not_fired: [too-far], score_min: 80}
  - name: a wrong expectation
    account: {distance_km: 700}
    expect: {category: A, flags: [vip], score_min: 90}
"""


@pytest.mark.parametrize("shape", ["frame", "objects", "dicts"])
def test_outcomes_and_report(tmp_path, shape):
    rs = ruleset(tmp_path, RULES)
    scorer = fake_scorer(shape=shape)
    outcomes = run_rule_tests(rs, scorer)
    assert [(o.name, o.passed) for o in outcomes] == [
        ("far is capped", True), ("near is not", True), ("a wrong expectation", False)]
    assert len(scorer.calls) == 1  # every test account scored in one go
    assert scorer.calls[0][1] == {"id": "test-2", "distance_km": 12.0}
    failed = outcomes[2]
    assert failed.failures == ("category A, got C", "flags ['vip'], got ['inaccessible']",
                               "score at least 90, got 75")
    report = format_test_report(outcomes)
    assert report.splitlines() == [
        "PASS far is capped",
        "PASS near is not",
        "FAIL a wrong expectation: expected category A, got C; expected flags ['vip'], got "
        f"['inaccessible']; expected score at least 90, got 75 ({failed.where})",
        "2 passed, 1 failed",
    ]
    assert failed.where.endswith("acme.yaml:13")


def test_report_without_tests():
    assert format_test_report([]) == "no tests"


def test_a_scorer_returning_the_wrong_number_of_rows_is_an_error(tmp_path):
    rs = ruleset(tmp_path, RULES)
    with pytest.raises(ValueError, match="3 accounts"):
        run_rule_tests(rs, lambda records, ruleset: [])


@pytest.mark.parametrize("name", [None, "clients/office-supplies-co.yaml",
                                  "clients/industrial-supplier.yaml"])
def test_shipped_rule_files_pass_their_own_tests(name, plugins):
    # the real pipeline and criteria, as `potentiel rules test` runs them
    from potentiel.pipeline import rule_test_scorer
    rs = load_ruleset(None if name is None else rules_dir() / name, plugins.catalogue(),
                      plugins.criteria, plugins.rule_actions)
    outcomes = run_rule_tests(rs, rule_test_scorer(plugins))
    assert outcomes and all(o.passed for o in outcomes), format_test_report(outcomes)
