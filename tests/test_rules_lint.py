"""Lint warnings: rules that never fire, identical conditions, overlapping disagreements."""

import textwrap

import pytest

from potentiel.criterion import Criterion
from potentiel.fields import Catalogue
from potentiel.rules import check_ruleset

CRITERIA = {n: type(n, (Criterion,), {"name": n})() for n in (
    "revenue", "trend", "potential", "penetration", "solvency", "growth", "prescription",
    "relationship", "accessibility")}
CATALOGUE = Catalogue.build()


def check(tmp_path, *rules):
    lines = ["rules:"]
    for rid, when, then in rules:
        lines += [f"  - id: {rid}", "    when: >-", f"      {when}", f"    then: {then}",
                  "    why: because"]
    path = tmp_path / "rules" / "acme.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Notices (e.g. the column a set field shows in) are not lint warnings.
    problems = [p for p in check_ruleset(path, CATALOGUE, CRITERIA) if p.level != "notice"]
    assert all(p.level == "warning" for p in problems), problems
    return problems


@pytest.mark.parametrize("when", [
    "distance_km >= 600 and distance_km < 100",
    "distance_km > 5 and distance_km <= 5",
    "distance_km == 5 and distance_km != 5",
    'status == "client" and status == "prospect"',
    'status in ["client"] and status not in ["client", "prospect"]',
    "distance_km is missing and distance_km > 3",
    "(headcount > 10 or headcount < 2) and headcount == 5",
    "score.revenue > 100",
    "false",
    "not (headcount is missing or headcount is not missing)",
])
def test_rules_that_can_never_fire(tmp_path, when):
    problems = check(tmp_path, ("dead", when, "{flag: x}"))
    assert len(problems) == 1
    assert 'rule "dead" can never fire' in problems[0].message
    assert problems[0].where.endswith("acme.yaml:2")


@pytest.mark.parametrize("when", [
    "distance_km >= 600 and distance_km < 601",
    "distance_km >= 5 and distance_km <= 5",
    "(headcount > 10 or headcount < 2) and headcount == 1",
    "distance_km is missing or distance_km > 3",
    'status != "client" and status != "prospect"',
    "revenue > potential and potential > revenue",  # not judged: two different fields
])
def test_rules_that_can_fire_are_not_reported(tmp_path, when):
    assert check(tmp_path, ("alive", when, "{flag: x}")) == []


def test_identical_conditions_are_reported_with_both_rules_and_lines(tmp_path):
    problems = check(tmp_path,
                     ("a", "distance_km >= 600 and status == 'client'", "{flag: x}"),
                     ("b", "headcount > 3", "{flag: y}"),
                     ("c", "not (distance_km < 600) and status == 'CLIENT'", "{flag: z}"))
    assert len(problems) == 1
    msg = problems[0].message
    assert '"c" (' in msg and "acme.yaml:12)" in msg
    assert '"a" (' in msg and "acme.yaml:2)" in msg
    assert "same condition" in msg


@pytest.mark.parametrize("then_a, then_b, words", [
    ("{force: A}", "{force: B}", "force A and B"),
    ("{force: A}", "{cap: C}", 'force A overrides the cap C of "b"'),
    ("{floor: A}", "{cap: C}", "floor A and cap C (the cap wins)"),
    ("{set: {sector: x}}", "{set: {sector: y}}", "set sector to 'x' and 'y'"),
    ("{score: {trend: 1}}", "{score: {trend: 2}}", "score trend to 1.0 and 2.0"),
])
def test_overlapping_rules_whose_actions_disagree(tmp_path, then_a, then_b, words):
    problems = check(tmp_path, ("a", "distance_km >= 600", then_a),
                     ("b", "headcount > 100", then_b))
    assert len(problems) == 1
    assert words in problems[0].message
    assert '"a" (' in problems[0].message and '"b" (' in problems[0].message


@pytest.mark.parametrize("then_a, then_b", [
    ("{cap: C}", "{cap: D}"),        # the strictest cap wins: intended
    ("{floor: B}", "{floor: A}"),    # the highest floor wins: intended
    ("{floor: C}", "{cap: B}"),      # compatible
    ("{force: A}", "{force: A}"),    # the same
    ("{set: {sector: x}}", "{set: {sector: x}}"),
])
def test_agreeing_actions_are_not_reported(tmp_path, then_a, then_b):
    assert check(tmp_path, ("a", "distance_km >= 600", then_a),
                 ("b", "headcount > 100", then_b)) == []


def test_disagreeing_rules_that_cannot_overlap_are_not_reported(tmp_path):
    assert check(tmp_path, ("a", "distance_km >= 600", "{force: A}"),
                 ("b", "distance_km < 600", "{force: B}"),
                 ("c", 'status == "client"', "{set: {sector: x}}"),
                 ("d", 'status == "prospect"', "{set: {sector: y}}")) == []


def test_priority_settles_set_conflicts(tmp_path):
    path = tmp_path / "rules" / "p.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent("""\
        rules:
          - id: a
            when: headcount > 1
            then: {set: {sector: x}}
            why: a
            priority: 1
          - id: b
            when: headcount > 2
            then: {set: {sector: y}}
            why: b
        """), encoding="utf-8")
    assert [p for p in check_ruleset(path, CATALOGUE, CRITERIA) if p.level != "notice"] == []


def test_type_check_hints_are_warnings(tmp_path):
    problems = check(tmp_path, ("a", "penetration < 25", "{flag: x}"))
    assert len(problems) == 1 and "did you mean 25%?" in problems[0].message
