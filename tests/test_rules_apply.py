"""Applying rules: every action, every conflict policy, Kleene logic, order independence."""

import random
import textwrap

import numpy as np
import pandas as pd
import pytest

from potentiel.criterion import Criterion, Param
from potentiel.fields import Catalogue
from potentiel.problems import UserError
from potentiel.rules import apply_rules, load_ruleset
from potentiel.rules.actions import RuleAction
from potentiel.rules.engines import _durable_module


def _criterion(name, **params):
    cls = type(name.title(), (Criterion,), {
        "name": name, "params": {k: Param(v) for k, v in params.items()}})
    return cls()


CRITERIA = {c.name: c for c in (
    _criterion("revenue"), _criterion("trend"), _criterion("potential"),
    _criterion("penetration"), _criterion("solvency"), _criterion("growth"),
    _criterion("prescription"), _criterion("relationship"),
    _criterion("accessibility", far_km=600))}
CATALOGUE = Catalogue.build()
ENGINES = ["compiled", "durable"]


def ruleset(tmp_path, text, actions=None, name="acme.yaml"):
    path = tmp_path / "rules" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_ruleset(path, CATALOGUE, CRITERIA, actions)


def rules(*items):
    """A rules: section from (id, when, then, extra) tuples."""
    out = ["rules:"]
    for item in items:
        rid, when, then = item[:3]
        out += [f"  - id: {rid}", "    when: >-", f"      {when}", f"    then: {then}",
                f"    why: {rid} why"]
        if len(item) > 3:
            out.append(f"    priority: {item[3]}")
    return "\n".join(out) + "\n"


ACCOUNTS = pd.DataFrame({
    "id": ["C1", "C2", "C3", "C4"],
    "status": ["prospect", "client", "Client ", None],
    "distance_km": [650.0, 100.0, np.nan, 900.0],
    "headcount": [10.0, 500.0, 50.0, np.nan],
    "payment_incidents": [0.0, 5.0, np.nan, 4.0],
    "salesperson": ["Bob", "al", None, "Zoe"],
    "nearest_rep": ["bob", "Zed", "al", None],
}, index=[10, 11, 12, 13])
SCORES = pd.DataFrame({"revenue": [90.0, 40.0, np.nan, 60.0]}, index=ACCOUNTS.index)


def run(rs, engine="compiled", accounts=ACCOUNTS, scores=SCORES):
    result = apply_rules(rs, accounts, scores, engine=engine)
    if engine == "durable" and _durable_module() is None:
        assert "compiled engine" in result.problems[0].message
        result.problems.pop(0)
    return result


# ----------------------------------------------------------------------------- actions

@pytest.mark.parametrize("engine", ENGINES)
def test_flags_accumulate_sorted_and_fired_rules_are_recorded_with_why(tmp_path, engine):
    rs = ruleset(tmp_path, rules(
        ("far", "distance_km >= 600", "{flag: inaccessible}"),
        ("credit", "payment_incidents > 3", "{flag: [credit-watch, audit]}"),
        ("also-far", "distance_km > 800", "{flag: inaccessible}")))
    r = run(rs, engine)
    assert r.flags.tolist() == [("inaccessible",), ("audit", "credit-watch"), (),
                                ("audit", "credit-watch", "inaccessible")]
    assert r.fired.tolist() == [("far",), ("credit",), (), ("also-far", "credit", "far")]
    assert r.why == {"far": "far why", "credit": "credit why", "also-far": "also-far why"}
    assert list(r.flags.index) == [10, 11, 12, 13]
    assert r.problems == []


def test_points_add_up(tmp_path):
    rs = ruleset(tmp_path, rules(("a", "headcount >= 10", "{points: 5}"),
                                 ("b", "headcount >= 50", "{points: -12.5}")))
    assert run(rs).points.tolist() == [5.0, -7.5, -7.5, 0.0]


def test_the_strictest_cap_and_the_highest_floor_win(tmp_path):
    rs = ruleset(tmp_path, rules(
        ("cap-b", "headcount >= 10", "{cap: B}"), ("cap-d", "headcount >= 500", "{cap: D}"),
        ("cap-c", "headcount >= 50", "{cap: C}"),
        ("floor-c", "distance_km >= 100", "{floor: C}"),
        ("floor-a", "distance_km >= 900", "{floor: A}")))
    r = run(rs)
    assert r.cap.tolist() == ["B", "D", "C", None]
    assert r.floor.tolist() == ["C", "C", None, "A"]


def test_force_and_conflicting_forces(tmp_path):
    rs = ruleset(tmp_path, rules(
        ("force-a", "headcount >= 500 or distance_km >= 900", "{force: A}"),
        ("force-b", "headcount >= 500", "{force: B}"),
        ("force-a-too", "distance_km >= 900", "{force: A}"),
        ("force-d", "headcount == 10", "{force: D}")))
    r = run(rs)
    assert r.force.tolist() == ["D", None, None, "A"]
    assert len(r.problems) == 1
    p = r.problems[0]
    assert '"force-a" and "force-b"' in p.message and "account C2" in p.message
    assert "neither applies" in p.message and p.where.endswith("acme.yaml")


def test_set_by_priority_and_conflicts_at_equal_priority(tmp_path):
    rs = ruleset(tmp_path, rules(
        ("low", "headcount >= 10", "{set: {salesperson: Team}}", 0),
        ("high", "headcount >= 500", "{set: {salesperson: Key accounts}}", 5),
        ("high-too", "payment_incidents > 3", "{set: {salesperson: Recovery}}", 5),
        ("dist", "headcount >= 10", "{set: {distance_km: 1}}"),
        ("dist-same", "headcount >= 500", "{set: {distance_km: 1.0}}")))
    r = run(rs)
    assert r.set["salesperson"].tolist() == ["Team", None, "Team", "Recovery"]
    assert r.set["distance_km"].tolist()[:3] == [1.0, 1.0, 1.0]
    assert np.isnan(r.set["distance_km"].iloc[3])
    assert [('"high" and "high-too"' in p.message, "C2" in p.message) for p in r.problems] == [
        (True, True)]


def test_score_overrides(tmp_path):
    rs = ruleset(tmp_path, rules(
        ("zero", "distance_km >= 600", "{score: {accessibility: 0}}"),
        ("full", "distance_km < 600", "{score: {accessibility: 100, relationship: 50}}")))
    r = run(rs)
    assert r.score["accessibility"].tolist()[:2] == [0.0, 100.0]
    assert np.isnan(r.score["accessibility"].iloc[2])
    assert r.score["accessibility"].dtype == float
    assert r.score["relationship"].tolist()[1] == 50.0


def test_exclude(tmp_path):
    rs = ruleset(tmp_path, rules(("dormant", "status == 'client'", "{exclude: true}")))
    assert run(rs).exclude.tolist() == [False, True, True, False]


def test_a_rule_with_no_actions_still_records_that_it_fired(tmp_path):
    rs = ruleset(tmp_path, "rules:\n  - id: note\n    when: headcount > 100\n    why: big\n")
    r = run(rs)
    assert r.fired.tolist() == [(), ("note",), (), ()]
    assert r.why == {"note": "big"}


def test_disabled_rules_never_fire(tmp_path):
    rs = ruleset(tmp_path, "rules:\n  - id: off\n    when: true\n    why: x\n    enabled: false\n")
    assert run(rs).fired.tolist() == [()] * 4


def test_plugin_action(tmp_path):
    seen = []

    def apply(result, mask, value, rule_id):
        seen.append((rule_id, value, mask.tolist()))
        result.points = result.points + mask.astype(float) * value

    double = RuleAction("bonus", lambda v: int(v), apply, "bonus points")
    rs = ruleset(tmp_path, rules(("b", "headcount >= 50", "{bonus: 3}")),
                 actions={"bonus": double})
    r = run(rs)
    assert seen == [("b", 3, [False, True, True, False])]
    assert r.points.tolist() == [0.0, 3.0, 3.0, 0.0]


# ----------------------------------------------------------------------------- semantics

@pytest.mark.parametrize("engine", ENGINES)
def test_a_blank_field_never_makes_a_comparison_true(tmp_path, engine):
    rs = ruleset(tmp_path, rules(
        ("far", "distance_km >= 600", "{flag: x}"),
        ("near", "distance_km < 600", "{flag: x}"),
        ("not-near", "not (distance_km < 600)", "{flag: x}"),
        ("neq", "distance_km != 100", "{flag: x}"),
        ("not-in", "distance_km not in [100, 650]", "{flag: x}"),
        ("missing", "distance_km is missing", "{flag: x}"),
        ("known", "distance_km is not missing", "{flag: x}")))
    fired = run(rs, engine).fired.tolist()
    # C3 has no distance: only "is missing" fires there.
    assert fired[2] == ("missing",)
    assert fired[0] == ("far", "known", "neq", "not-near")
    assert fired[1] == ("known", "near")
    assert fired[3] == ("far", "known", "neq", "not-in", "not-near")


@pytest.mark.parametrize("engine", ENGINES)
def test_kleene_and_or(tmp_path, engine):
    rs = ruleset(tmp_path, rules(
        # C3: distance unknown, headcount 50.
        ("false-and-unknown", "not (headcount > 100 and distance_km > 1)", "{flag: x}"),
        ("true-or-unknown", "headcount > 10 or distance_km > 1", "{flag: x}"),
        ("true-and-unknown", "headcount > 10 and distance_km > 1", "{flag: x}"),
        ("not-unknown", "not (distance_km > 1)", "{flag: x}")))
    assert run(rs, engine).fired.tolist()[2] == ("false-and-unknown", "true-or-unknown")


@pytest.mark.parametrize("engine", ENGINES)
def test_text_ignores_case_and_spaces(tmp_path, engine):
    rs = ruleset(tmp_path, rules(
        ("client", "status == 'CLIENT'", "{flag: x}"),
        ("own-rep", "salesperson == nearest_rep", "{flag: x}"),
        ("other-rep", "salesperson != nearest_rep", "{flag: x}")))
    assert run(rs, engine).fired.tolist() == [("own-rep",), ("client", "other-rep"),
                                              ("client",), ()]


@pytest.mark.parametrize("engine", ENGINES)
def test_scores_arithmetic_and_missing_columns(tmp_path, engine):
    rs = ruleset(tmp_path, rules(
        ("top", "score.revenue >= 60", "{flag: x}"),
        ("ratio", "payment_incidents / headcount > 1%", "{flag: x}"),
        ("absent", "competitors > 2 or competitors is missing", "{flag: x}"),
        ("tier", 'potential_tier == "high"', "{flag: x}")))
    fired = run(rs, engine).fired.tolist()
    assert fired == [("absent", "top"), ("absent",), ("absent",), ("absent", "top")]


def test_shuffling_rules_gives_the_same_result(tmp_path):
    items = [
        ("f1", "headcount >= 10", "{force: A, flag: a}"), ("f2", "headcount >= 50", "{force: B}"),
        ("c1", "distance_km > 600", "{cap: C, points: 0.1}"),
        ("c2", "distance_km > 100", "{cap: D, points: 0.2}"),
        ("p", "payment_incidents >= 0", "{points: 0.3, floor: B}"),
        ("s1", "headcount > 1", "{set: {sector: x}, score: {trend: 10}}"),
        ("s2", "headcount > 100", "{set: {sector: y}, score: {trend: 20}}"),
        ("s3", "distance_km > 1", "{set: {sector: z}, score: {trend: 30}}", 1),
        ("x", "status == 'client'", "{exclude: true, flag: [b, a]}"),
    ]
    base = run(ruleset(tmp_path, rules(*items), name="base.yaml"))
    rng = random.Random(7)
    for i in range(5):
        shuffled = items[:]
        rng.shuffle(shuffled)
        other = run(ruleset(tmp_path, rules(*shuffled), name=f"s{i}.yaml"))
        for attr in ("flags", "fired", "points", "cap", "floor", "force", "exclude"):
            pd.testing.assert_series_equal(getattr(base, attr), getattr(other, attr))
        assert base.why == other.why
        assert base.set.keys() == other.set.keys() and base.score.keys() == other.score.keys()
        for k in base.set:
            pd.testing.assert_series_equal(base.set[k], other.set[k])
        for k in base.score:
            pd.testing.assert_series_equal(base.score[k], other.score[k])
        assert [p.message for p in base.problems] == [p.message for p in other.problems]
    assert base.problems  # the force and set conflicts are there, and reported the same


def test_empty_table_and_no_rules(tmp_path):
    rs = ruleset(tmp_path, rules(("a", "headcount > 1", "{flag: x}")))
    r = run(rs, accounts=ACCOUNTS.iloc[:0], scores=SCORES.iloc[:0])
    assert len(r.flags) == 0
    r = run(ruleset(tmp_path, "description: nothing\n", name="empty.yaml"))
    assert r.fired.tolist() == [()] * 4 and r.points.tolist() == [0.0] * 4


def test_unknown_engine_is_a_user_error(tmp_path):
    rs = ruleset(tmp_path, rules(("a", "headcount > 1", "{flag: x}")))
    with pytest.raises(UserError, match="unknown rules engine"):
        apply_rules(rs, ACCOUNTS, SCORES, engine="fast")


def test_durable_falls_back_with_a_notice_when_unavailable(tmp_path, monkeypatch):
    import potentiel.rules.engines as engines
    monkeypatch.setattr(engines, "_durable_module", lambda: None)
    rs = ruleset(tmp_path, rules(("a", "headcount > 1", "{flag: x}")))
    r = apply_rules(rs, ACCOUNTS, SCORES)
    assert len(r.problems) == 1 and r.problems[0].level == "warning"
    assert "durable_rules is not available" in r.problems[0].message
    assert r.fired.tolist() == [("a",), ("a",), ("a",), ()]
