"""The plan's arithmetic (issue 14): visit frequency, capacity, workload, objectives, territory.

Every figure asserted here is computed by hand in the comments: the plans are small on
purpose, so that a sales manager could check them with a pencil.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from potentiel.config import Config, apply_overrides, read_settings
from potentiel.manager import load_plugins
from potentiel.plan.objectives import apportion, gaps, objectives
from potentiel.plan.territory import find_rep, territory
from potentiel.plan.visits import (CLIENTS, PROSPECTS, PlanSettings, capacity, frequencies,
                                   read_roster, settings_key)
from potentiel.plan.workload import workload
from potentiel.problems import UserError
from potentiel.validate import RawTable

LETTERS = ["A", "B", "C", "D"]


def plan_settings(rows):
    """PlanSettings from Settings rows (label, value), as a workbook gives them."""
    ov, warnings = read_settings([(k, v, f"Settings!B{i}") for i, (k, v) in
                                  enumerate(rows, start=2)])
    assert warnings == []
    return apply_overrides(Config(), ov).plan


# --- 1. visit frequency ----------------------------------------------------------------

@pytest.mark.parametrize("label, key", [
    ("Visits a year A", ("visits", CLIENTS, "A")),
    ("visits a year clients b", ("visits", CLIENTS, "B")),
    ("Visites par an prospects C", ("visits", PROSPECTS, "C")),
    ("Visites par an prospect A+", ("visits", PROSPECTS, "A+")),
    ("Visits a year Key-Accounts A", ("visits", "key-accounts", "A")),
    ("Visit length A", ("lengths", CLIENTS, "A")),
    ("Durée de visite prospects B (min)", ("lengths", PROSPECTS, "B")),
    ("Visit length (min)", None),   # the standard length: a setting of its own
    ("Visits a day", None),
    ("Weight: revenue", None)])
def test_settings_rows_of_the_visit_tables(label, key):
    assert settings_key(label) == key


def test_default_frequencies_clients_and_prospects_and_lengths():
    acc = pd.DataFrame({"status": ["client", None, "client", "client", "prospect", "suspect",
                                   "former", "prospect", "client"]})
    cat = pd.Series(["A", "B", "C", "D", "A", "B", "C", "D", None], dtype=object)
    f = frequencies(acc, cat, PlanSettings())
    # clients A 12, B 6 (a blank status is a client), C 4, D 1; prospects A 4, B 2, C 1,
    # D 0 (suspects and former clients are prospected); no category: 0
    assert f.visits.tolist() == [12, 6, 4, 1, 4, 2, 1, 0, 0]
    assert f.length.tolist() == [60.0] * 9
    assert f.table.tolist() == [CLIENTS] * 4 + [PROSPECTS] * 4 + [CLIENTS]
    assert f.problems == []


def test_settings_override_per_category_and_per_table():
    s = plan_settings([("Visits a year A", 10), ("Visites par an prospects B", 3),
                       ("Visit length A", 90), ("Durée de visite (min)", 45)])
    acc = pd.DataFrame({"status": ["client", "client", "prospect", "prospect"]})
    f = frequencies(acc, pd.Series(["A", "B", "A", "B"], dtype=object), s)
    assert f.visits.tolist() == [10, 6, 4, 3]
    # the A client's own length; everyone else the standard visit, set to 45 minutes
    assert f.length.tolist() == [90, 45, 45, 45]


def test_a_profile_of_its_own_takes_its_table_else_its_status_group():
    s = PlanSettings(visits={("key accounts", "A"): 24})
    acc = pd.DataFrame({"status": ["client", "client", "client"]})
    cat = pd.Series(["A", "B", "A"], dtype=object)
    profile = pd.Series(["Key accounts", "Key accounts", "client"], dtype=object)
    f = frequencies(acc, cat, s, profile)
    # A of the profile: 24; its B is not in its table: the clients' 6; a client A: 12
    assert f.visits.tolist() == [24, 6, 12]


def test_a_category_without_a_frequency_counts_zero_and_is_said():
    acc = pd.DataFrame({"status": ["client", "client"]})
    f = frequencies(acc, pd.Series(["A+", "A+"], dtype=object), PlanSettings())
    assert f.visits.tolist() == [0, 0]
    assert len(f.problems) == 1 and "A+" in f.problems[0].message and "2" in \
        f.problems[0].message and "Visits a year A+" in f.problems[0].message


def test_bad_settings_name_their_cell():
    for label, value in (("Visits a day", 0), ("Field days a year", 400),
                         ("Visits a year B", -1), ("Visit length A", 0)):
        with pytest.raises(UserError) as err:
            read_settings([(label, value, "Settings!B7")])
        assert err.value.problems[0].where == "Settings!B7", label


RULE_FILE = """\
extends: default
plan:
  visits_a_day: 4
  field_days: 180
  visit_length: 50
  visits:
    clients: {A: 10, B: 5}
    prospect: {A: 3}
  lengths:
    clients: {A: 75}
  target: 2000000
  revenue_weight: 25%
  reach_km: 150
"""


def _load(path):
    from potentiel.rules import load_ruleset
    plugins = load_plugins(entry_points=False)
    return load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def test_the_rule_files_plan_section(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(RULE_FILE)
    plan = _load(path).plan
    assert (plan.visits_a_day, plan.field_days, plan.visit_length) == (4, 180, 50)
    assert plan.visits == {(CLIENTS, "A"): 10, (CLIENTS, "B"): 5, (PROSPECTS, "A"): 3}
    assert plan.lengths == {(CLIENTS, "A"): 75}
    assert (plan.target, plan.revenue_weight, plan.reach_km) == (2000000, 0.25, 150)
    # a child's category replaces its parent's, the others are inherited; Settings win
    child = tmp_path / "child.yaml"
    child.write_text("extends: acme\nplan:\n  visits:\n    clients: {A: 8}\n")
    plan = _load(child).plan
    assert plan.visits == {(CLIENTS, "A"): 8, (CLIENTS, "B"): 5, (PROSPECTS, "A"): 3}
    assert plan.visits_a_day == 4
    from potentiel.pipeline import _config_from
    from potentiel.config import read_settings as rs
    ov, _w = rs([("Visits a year A", 11, "Settings!B2"), ("Visites par jour", 6, "Settings!B3")])
    config = _config_from(_load(child), ov)
    assert config.plan.visits[(CLIENTS, "A")] == 11 and config.plan.visits_a_day == 6


def test_the_plan_section_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        extends: default
        plan:
          visits_a_dya: 4
          visits:
            clients: {A: 10, Z: 3}
            key-accounts: {A: 20}
          field_days: 400
        """))
    with pytest.raises(UserError) as err:
        _load(path)
    found = {(p.where.rsplit(":", 1)[-1], p.message.split(";")[0][:40]) for p in err.value.problems}
    lines = sorted(int(line) for line, _m in found)
    assert lines == [3, 5, 6, 7], found
    text = " | ".join(str(p) for p in err.value.problems)
    assert "did you mean visits_a_day" in text and "no category Z" in text
    assert '"key-accounts" is neither clients, prospects nor a profile' in text


# --- 2. rep capacity ------------------------------------------------------------------------

def test_capacity_from_settings_and_each_reps_row():
    raw = RawTable(["Nom", "Visites par jour", "Jours terrain"],
                   [["Anne", 4, None], ["Bruno", None, 150], ["Chloé", "x", 100]],
                   sheet="Commerciaux")
    roster = read_roster(raw)
    assert roster["where"].tolist() == ["Commerciaux!A2", "Commerciaux!A3", "Commerciaux!A4"]
    s = PlanSettings(visits_a_day=5, field_days=200)
    cap = capacity(["anne", "Bruno", "Denis"], roster, s, "Commerciaux").table
    # Anne 4 × 200; Bruno 5 × 150; Denis (no row) 5 × 200; Chloé (no account) 5 × 100
    assert cap["rep"].tolist() == ["anne", "Bruno", "Denis", "Chloé"]
    assert cap["visits"].tolist() == [800, 750, 1000, 500]
    assert cap["minutes"].tolist() == [48000, 45000, 60000, 30000]
    problems = capacity(["Denis"], roster, s, "Commerciaux").problems
    assert len(problems) == 1 and "Denis" in problems[0].message and \
        problems[0].where == "Commerciaux"


def test_a_rep_given_twice_in_salespeople_is_said():
    raw = RawTable(["Name", "Visits a day"], [["Anne", 4], ["anne ", 2]], sheet="Salespeople")
    cap = capacity(["Anne"], read_roster(raw), PlanSettings(), "Salespeople")
    assert cap.table["visits_a_day"].tolist() == [4]
    assert [(p.where, p.kind) for p in cap.problems] == [("Salespeople!A3", "rep-twice")]
    assert "Salespeople!A2" in cap.problems[0].message


def test_capacity_defaults_are_5_visits_a_day_and_200_field_days():
    cap = capacity(["Anne"], read_roster(None), PlanSettings()).table
    assert (cap.at[0, "visits_a_day"], cap.at[0, "field_days"], cap.at[0, "visits"]) == \
        (5.0, 200.0, 1000)


# --- 3. the Plan's arithmetic ---------------------------------------------------------------

def _frame(rows):
    return pd.DataFrame(rows, columns=["rep", "category", "score", "visits", "length"])


def test_workload_by_hand():
    # Settings: 4 visits a day, 5 field days: 20 visits, 20 h a rep; an A client's visit
    # lasts 90 min (Visit length A), every other 60.
    s = plan_settings([("Visits a day", 4), ("Field days a year", 5), ("Visit length A", 90)])
    acc = pd.DataFrame({"status": ["client", "client", "client", "client", "client",
                                   "prospect", "prospect"]})
    cat = pd.Series(["A", "A", "B", "D", "C", "B", "A"], dtype=object)
    f = frequencies(acc, cat, s)
    frame = pd.DataFrame({"rep": ["Anne", "Anne", "Anne", "Anne", "Bruno", "Bruno", None],
                          "category": cat, "score": [80, 90, 70, 10, 40, 60, 95],
                          "visits": f.visits, "length": f.length})
    roster = pd.DataFrame({"name": ["Bruno"], "visits_a_day": [2.0], "field_days": [10.0],
                           "where": ["Salespeople!A2"]})
    cap = capacity(["Anne", "Bruno"], roster, s).table
    w = workload(frame, cap, LETTERS, s)
    anne, bruno, nobody = (w.reps.iloc[i] for i in range(3))
    # Anne: A 12 × 90 + A 12 × 90 + B 6 × 60 + D 1 × 60 = 2,580 min = 43 h, 31 visits;
    # she has 4 × 5 = 20 visits, 1,200 min: load 2,580 / 1,200 = 2.15
    assert (anne["visits_required"], anne["minutes_required"]) == (31, 2580)
    assert (anne["visits_available"], anne["minutes_available"]) == (20, 1200)
    assert anne["load"] == Fraction(43, 20)
    # best first: the A of score 90 (1,080 min) fits; the A of score 80 brings 2,160 >
    # 1,200: out of reach, and the B and the D after it: 3 accounts, 12 + 6 + 1 visits
    assert (anne["out_of_reach"], anne["visits_out"]) == (3, 19)
    assert w.out_of_reach.tolist() == [True, False, True, True, False, False, True]
    assert (anne["count:A"], anne["count:B"], anne["count:C"], anne["count:D"]) == (2, 1, 0, 1)
    # Bruno (his own 2 visits a day, 10 days: 20 visits, 1,200 min): C client 4 × 60 and
    # B prospect 2 × 60 = 360 min: load 0.3
    assert (bruno["visits_required"], bruno["minutes_required"], bruno["load"]) == \
        (6, 360, Fraction(3, 10))
    assert bruno["out_of_reach"] == 0
    # nobody holds the A prospect (4 × 60 min): out of reach, no capacity, no load
    assert (nobody["held"], nobody["out_of_reach"], nobody["load"]) == (False, 1, None)
    p = w.portfolio
    # workload method: (2,580 + 360 + 240) min = 3,180 ÷ one rep's 1,200 = 2.65 reps → 3;
    # today 2 reps, 2,400 min: load 1.325
    assert p["minutes_required"] == 3180 and p["rep_minutes"] == 1200
    assert p["reps_needed"] == Fraction(53, 20) and p["reps_needed_up"] == 3
    assert (p["reps_today"], p["load_today"], p["out_of_reach"]) == (2, Fraction(53, 40), 4)


def test_workload_is_exact_at_full_capacity():
    # Visits a year A 0.1 and B 0.2 (a visit every 10 and every 5 years), a rep with 0.3
    # visits a day and 1 field day: 0.1 + 0.2 = 0.3 exactly, load 100 %, nothing out of
    # reach (in floats 0.1 + 0.2 > 0.3, and 0.1 × 60 min = 6.000000000000001).
    s = plan_settings([("Visits a year A", 0.1), ("Visits a year B", 0.2),
                       ("Visits a day", 0.3), ("Field days a year", 1)])
    acc = pd.DataFrame({"status": ["client", "client"]})
    cat = pd.Series(["A", "B"], dtype=object)
    f = frequencies(acc, cat, s)
    frame = pd.DataFrame({"rep": ["Anne", "Anne"], "category": cat, "score": [90, 50],
                          "visits": f.visits, "length": f.length})
    w = workload(frame, capacity(["Anne"], read_roster(None), s).table, LETTERS, s)
    assert w.reps.at[0, "load"] == 1 and w.reps.at[0, "out_of_reach"] == 0
    assert w.portfolio["reps_needed"] == 1 and w.portfolio["reps_needed_up"] == 1


def test_priority_is_category_then_score_then_row():
    s = PlanSettings(visits_a_day=1, field_days=12)  # 12 visits a year
    frame = _frame([("Anne", "B", 99, 6, 60), ("Anne", "A", 50, 6, 60), ("Anne", "A", 50, 6, 60),
                    ("Anne", None, None, 0, 60)])
    w = workload(frame, capacity(["Anne"], read_roster(None), s).table, LETTERS, s)
    # the two A (same score: row order) fill the 12 visits; the B, score 99, is out; the
    # account without a category has no visit and is never out of reach
    assert w.out_of_reach.tolist() == [True, False, False, False]
    assert w.reps.at[0, "count:"] == 1


# --- 5. objectives ----------------------------------------------------------------------

def _portfolio():
    # Anne: A potential 400,000 revenue 80,000 (fragility zone), B 200,000 / 20,000;
    # Bruno: C 300,000 / 50,000; nobody: D 100,000 / 0. Totals: potential 1,000,000,
    # revenue 150,000.
    return pd.DataFrame({
        "rep": ["Anne", "Anne", "Bruno", None], "id": ["C1", "C2", "C3", "P1"],
        "name": ["Alpha", "Beta", "Gamma", "Delta"], "category": ["A", "B", "C", "D"],
        "revenue": [80000, 20000, 50000, np.nan], "potential": [400000, 200000, 300000, 100000],
        "penetration": [0.2, 0.1, 50000 / 300000, 0.0], "fragile": [True, False, False, False]})


def test_targets_by_fair_share_of_potential():
    obj = objectives(_portfolio(), ["Anne", "Bruno"], PlanSettings(target=1_000_000), 0.5,
                     LETTERS)
    anne, bruno, nobody = (obj.reps.iloc[i] for i in range(3))
    # 1,000,000 × 600/1,000 = 600,000; × 300/1,000; × 100/1,000 (in cents)
    assert (anne["target"], bruno["target"], nobody["target"]) == (60_000_000, 30_000_000,
                                                                     10_000_000)
    # Anne's per category: A 400/1,000, B 200/1,000 of the target
    assert (anne["target:A"], anne["target:B"], anne["target:C"]) == (40_000_000, 20_000_000, 0)
    assert anne["penetration"] == Fraction(1, 6)
    # gap to strong: 50 % × 400,000 − 80,000 = 120,000 (only the fragility zone counts)
    assert anne["gap"] == 120000 and bruno["gap"] == 0


def test_targets_blended_with_last_years_revenue():
    s = PlanSettings(target=1_000_000, revenue_weight=0.3)
    obj = objectives(_portfolio(), ["Anne", "Bruno"], s, 0.5, LETTERS)
    anne, bruno, nobody = (obj.reps.iloc[i] for i in range(3))
    # Anne 1e6 × (0.7 × 0.6 + 0.3 × 100/150) = 620,000; Bruno 1e6 × (0.7 × 0.3 + 0.3 ×
    # 50/150) = 310,000; nobody 1e6 × 0.7 × 0.1 = 70,000: 1,000,000 in all
    assert [anne["target"], bruno["target"], nobody["target"]] == [62_000_000, 31_000_000,
                                                                    7_000_000]
    # Anne A: 1e6 × (0.7 × 0.4 + 0.3 × 80/150) = 440,000; B: 1e6 × (0.14 + 0.04) = 180,000
    assert (anne["target:A"], anne["target:B"]) == (44_000_000, 18_000_000)


def test_targets_add_up_to_the_cent():
    # 100.00 in three equal shares: 33.34 + 33.33 + 33.33 (the first remainder wins the tie)
    assert apportion(10000, [Fraction(1)] * 3) == [3334, 3333, 3333]
    # 1,000.00 by 1/7, 2/7, 4/7: 142.857 14…, 285.714 28…, 571.428 57… (cents: the floors
    # 14,285 + 28,571 + 57,142 = 99,998) → the 2 cents left go to the largest remainders,
    # .857 (the third) and .714 (the first)
    assert apportion(100000, [Fraction(1), Fraction(2), Fraction(4)]) == [14286, 28571, 57143]
    assert apportion(100, [Fraction(0), Fraction(0)]) is None


def test_no_target_means_no_targets_but_the_action_list_is_there():
    obj = objectives(_portfolio(), ["Anne", "Bruno"], PlanSettings(), 0.5, LETTERS)
    assert obj.target is None and "target" not in obj.reps
    assert obj.actions["id"].tolist() == ["C1"]
    assert obj.actions["gap"].tolist() == [120000] and obj.actions["strong"].tolist() == [200000]


def test_the_action_list_is_by_rep_then_largest_gap():
    frame = pd.DataFrame({
        "rep": ["Bruno", "Anne", "Anne", "Anne"], "id": ["B1", "A1", "A2", "A3"],
        "name": list("wxyz"), "category": ["A", "B", "A", "C"],
        "revenue": [0, 10, 30, 0], "potential": [100, 100, 200, 50],
        "penetration": [0, 0.1, 0.15, 0], "fragile": [True, True, True, False]})
    obj = objectives(frame, ["Anne", "Bruno"], PlanSettings(), 0.5, LETTERS)
    # Anne's gaps: A1 50 − 10 = 40, A2 100 − 30 = 70 (A3 not fragile); Bruno's B1 50
    assert obj.actions["id"].tolist() == ["A2", "A1", "B1"]
    assert obj.actions["gap"].tolist() == [70, 40, 50]


def test_gap_to_strong_is_exact():
    frame = pd.DataFrame({"potential": [10000.1, 0, np.nan, 100], "revenue": [0.01, 5, 5, 90]})
    # 50 % of 10,000.10 − 0.01 = 5,000.04 exactly; no potential: none; already strong: 0
    assert gaps(frame, 0.5).tolist() == [Fraction("5000.04"), None, None, 0]


def test_a_target_without_any_potential_is_said():
    frame = _portfolio().assign(potential=0.0, penetration=np.nan)
    obj = objectives(frame, ["Anne", "Bruno"], PlanSettings(target=100), 0.5, LETTERS)
    assert obj.target is None and "no account has a potential" in obj.problems[0].message
    from potentiel.plan.objectives import objectives_blocks, objectives_text
    assert "no account has a potential" in objectives_text(obj)
    assert "no account has a potential" in objectives_blocks(obj)[0].values[1][0]


# --- 6. territory -----------------------------------------------------------------------

def test_territory_lists_by_hand():
    base = (48.0, 2.0)
    # one degree of latitude is 6,371 × π / 180 = 111.19 km on Potentiel's sphere
    frame = pd.DataFrame({
        "id": ["A1", "A2", "F1", "P1", "P2", "P3", "P4", "P5", "B1"],
        "name": list("abcdefghi"),
        "rep": ["Anne", "Anne", "Anne", "Anne", "Anne", "Anne", None, None, "Bruno"],
        "group": ["clients", "clients", "clients", "prospects", "prospects", "prospects",
                  "prospects", "prospects", "clients"],
        "category": ["A", "A", "B", "B", "A", "C", "A", "B", "A"],
        "score": [80, 90, 60, 50, 70, 40, 99, 99, 95],
        "fragile": [False, True, True, False, False, False, False, False, True],
        "gap": [Fraction(0), Fraction(10), Fraction(30), None, None, None, None, None,
                Fraction(5)],
        "latitude": [48.0, 48.1, 48.2, 49.0, 50.0, np.nan, 49.5, 48.5, 48.0],
        "longitude": [2.0] * 9, "distance_km": [np.nan] * 9,
        "nearest_rep": ["Anne", "Anne", "Anne", "Anne", "Anne", None, "Anne", "Bruno", "Bruno"]})
    t = territory(frame, "Anne", LETTERS, 200, base)
    assert t.first["id"].tolist() == ["A2", "A1"]        # A accounts, best score first
    assert t.fragile["id"].tolist() == ["F1", "A2"]      # gap 30 before gap 10
    # prospects: P4 (nobody's, nearest Anne, 1.5° = 166.8 km) A first; then P1 (hers,
    # 111.2 km) B; P3 (hers, not located) listed without a distance; P2 (hers, 222.4 km)
    # beyond reach; P5 nobody's but nearer Bruno: not hers
    assert t.prospects["id"].tolist() == ["P4", "P1", "P3"]
    assert t.prospects["distance"].round(1).tolist()[:2] == [166.8, 111.2]
    assert (t.beyond, t.unlocated, t.accounts) == (1, 1, 6)
    # with a detour factor of 1.25, P4 is 208.5 km by road: beyond 200 km
    t = territory(frame, "Anne", LETTERS, 200, base, detour=1.25)
    assert "P4" not in t.prospects["id"].tolist()


def test_an_unknown_rep_is_named_with_the_closest():
    assert find_rep("  claire   MARTIN ", ["Claire Martin", "Karim Haddad"]) == "Claire Martin"
    with pytest.raises(UserError) as err:
        find_rep("Clare Martin", ["Claire Martin", "Karim Haddad"])
    assert "did you mean Claire Martin" in str(err.value)
