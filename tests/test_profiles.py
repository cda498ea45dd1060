"""Profiles (each account ranked in the profile a condition chooses) and the second stage of
rules (``stage: final``), on both engines and both front ends."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import textwrap

import openpyxl
import pandas as pd
import pytest

from potentiel.pipeline import score_records
from potentiel.problems import UserError
from potentiel.rules import check_ruleset, load_ruleset

from helpers import write_workbook

# Two hand-computable criteria (tables on declared fields); the built-in criteria have no
# input in these accounts, so they score NaN and weigh nothing.
RULES = """
fields: {grade: text, reach: text}
tables:
  g:
    field: grade
    lookup: {high: 90, mid: 60, low: 20, otherwise: 0}
  r:
    field: reach
    lookup: {near: 100, far: 0, otherwise: 50}
weights: {g: 100, r: 0, revenue: 0}
categories:
  A: {min: 75, label: Strategic}
  B: {min: 50, label: Important}
  C: {min: 25, label: Medium}
  D: {min: 0, label: Small}
profiles:
  big:
    when: status == "client"
  small:
    when: otherwise
    weights: {g: 50, r: 50}
    categories:
      A: {share: 50%, label: Go}
      B: {share: 25%, label: Maybe}
      C: {share: 25%, label: Later}
      D: {label: Never}
    quotas_by: salesperson
rules:
  - id: low-grade
    when: grade == "low"
    then: {flag: weak-grade}
    why: A low grade.
  - id: star
    stage: final
    when: category == "A" and profile == "big" and score >= 85
    then: {flag: star}
    why: An A client scoring 85 or more.
  - id: weak-cap
    stage: final
    when: flag.weak_grade and category == "A"
    then: {cap: B}
    why: A low grade is never A.
  - id: key
    stage: final
    when: top80 and not flag.weak_grade
    then: {flag: key-account}
    why: In the accounts that make 80 % of revenue.
"""

ACCOUNTS = [
    # client profile "big": g alone, bands 75/50/25/0
    {"id": "c1", "status": "client", "grade": "high", "revenue": 100000, "salesperson": "X"},
    {"id": "c2", "status": "client", "grade": "mid", "revenue": 10, "salesperson": "X"},
    {"id": "c3", "status": "client", "grade": "low", "revenue": 10, "salesperson": "Y"},
    # profile "small": (g + r) / 2, quotas per salesperson
    {"id": "p1", "status": "prospect", "grade": "high", "reach": "near", "salesperson": "X"},
    {"id": "p2", "status": "prospect", "grade": "mid", "reach": "far", "salesperson": "X"},
    {"id": "p3", "status": "suspect", "grade": "low", "reach": "near", "salesperson": "Y"},
    {"id": "p4", "status": "prospect", "grade": "low", "reach": "far", "salesperson": "Y"},
]


@pytest.fixture
def ruleset(tmp_path, plugins):
    path = tmp_path / "prof.yaml"
    path.write_text(RULES, encoding="utf-8")
    return load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def _run(ruleset, plugins, engine, accounts=ACCOUNTS):
    from dataclasses import replace

    from potentiel.config import Config
    config = Config(weights=dict(ruleset.weights), params=dict(ruleset.params),
                    categories=ruleset.categories, engine=engine)
    result = score_records(accounts, plugins=plugins, ruleset=ruleset, config=replace(config))
    out = result.outputs.copy()
    out.index = result.accounts["id"]
    return result, out


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_each_profile_has_its_weights_categories_quotas_per_rep_and_labels(ruleset, plugins,
                                                                           engine):
    _, out = _run(ruleset, plugins, engine)
    assert out["Profile"].to_dict() == {"c1": "big", "c2": "big", "c3": "big", "p1": "small",
                                        "p2": "small", "p3": "small", "p4": "small"}
    # big: the score is g; small: (g + r) / 2
    assert out["Score"].to_dict() == {"c1": 90, "c2": 60, "c3": 20, "p1": 95, "p2": 30,
                                      "p3": 60, "p4": 10}
    # big by bands; small by quotas within each rep: X has p1 (95) and p2 (30), Y has p3 (60)
    # and p4 (10): the first of each is A (50 %), the second C (75 % of 2 = 1.5 < 2 ≤ 100 %).
    # One quota over the four would make p2 B.
    # p3 is A by its quota, then capped at B by the final-stage rule weak-cap.
    assert out["Category"].to_dict() == {"c1": "A", "c2": "B", "c3": "D", "p1": "A",
                                         "p2": "C", "p3": "B", "p4": "C"}
    assert out["Category label"].to_dict() == {"c1": "Strategic", "c2": "Important",
                                               "c3": "Small", "p1": "Go", "p2": "Later",
                                               "p3": "Maybe", "p4": "Later"}
    flags = out["Flags"].fillna("").to_dict()
    assert "star" in flags["c1"] and "key-account" in flags["c1"]   # A, 90, top 80 %
    assert "star" not in flags["c2"] and "key-account" not in flags["c2"]
    assert "weak-grade" in flags["p3"] and "star" not in flags["p1"]  # p1 is not "big"
    assert "weak-cap" in out.loc["p3", "Why"] or "never A" in out.loc["p3", "Why"]


BANDS_ABOVE_ZERO = RULES.replace("""    categories:
      A: {share: 50%, label: Go}
      B: {share: 25%, label: Maybe}
      C: {share: 25%, label: Later}
      D: {label: Never}
    quotas_by: salesperson
""", """    categories:
      A: {min: 90, label: Go}
      B: {min: 60, label: Maybe}
      C: {min: 40, label: Later}
      D: {min: 20, label: Never}
""")


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_a_profile_whose_bands_start_above_zero_says_below_the_lowest_band(tmp_path, plugins,
                                                                         engine):
    # p4 scores 10 in "small", whose bands start at 20 (the top level's D starts at 0):
    # it is below its own lowest band, not short of data; c3 (20, "big") has its D.
    path = tmp_path / "above.yaml"
    path.write_text(BANDS_ABOVE_ZERO, encoding="utf-8")
    rs = load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    _, out = _run(rs, plugins, engine)
    assert out.loc["p4", "Category"] is None
    assert out.loc["p4", "Category label"] == "Below the lowest band"
    assert out.loc["p4", "Why"].startswith("below the lowest band, D from 20")
    assert out.loc["c3", "Category"] == "D"
    assert out.loc["p2", "Category"] == "D" and out.loc["p2", "Category label"] == "Never"


def test_quotas_without_groups_rank_the_profile_as_one(tmp_path, plugins):
    path = tmp_path / "one.yaml"
    path.write_text(RULES.replace("    quotas_by: salesperson\n", ""), encoding="utf-8")
    rs = load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    _, out = _run(rs, plugins, "compiled")
    # 4 ranked: A the first 2 (p1, p3 → capped B), B the 3rd (p2), C the 4th (p4)
    assert out.loc[["p1", "p2", "p3", "p4"], "Category"].tolist() == ["A", "B", "B", "C"]


def test_blank_quota_group_is_one_group_and_said(ruleset, plugins):
    accounts = [dict(a) for a in ACCOUNTS]
    for a in accounts:
        if a["id"] in ("p1", "p4"):
            a.pop("salesperson")
    result, out = _run(ruleset, plugins, "compiled", accounts)
    notes = [p.message for p in result.warnings if "quotas are shared" in p.message]
    assert notes and notes[0].startswith("2 accounts of the profile small have no salesperson")


def test_final_stage_engines_agree_on_a_portfolio(plugins):
    from potentiel import sample
    from potentiel.config import Config
    from potentiel.pipeline import run
    from potentiel.validate import RawTable
    raw = RawTable(list(sample.HEADERS), sample.make_accounts(400, seed=3))
    rs = load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    outs = {}
    for engine in ("durable", "compiled"):
        config = Config(weights=dict(rs.weights), params=dict(rs.params),
                        categories=rs.categories, engine=engine)
        outs[engine] = run(raw, plugins, config, rs).outputs
    pd.testing.assert_frame_equal(outs["durable"], outs["compiled"])
    assert set(outs["durable"]["Profile"]) == {"client", "prospect"}


def test_default_profiles_rank_prospects_apart(plugins):
    from potentiel import sample
    from potentiel.config import Config
    from potentiel.pipeline import run
    from potentiel.validate import RawTable
    raw = RawTable(list(sample.HEADERS), sample.make_accounts(2000, seed=7))
    rs = load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    config = Config(weights=dict(rs.weights), params=dict(rs.params), categories=rs.categories,
                    engine="compiled")
    result = run(raw, plugins, config, rs)
    status = result.accounts["status"].str.lower()
    profile = result.outputs["Profile"]
    assert (profile[status == "client"] == "client").all()
    assert (profile[status.isin(["prospect", "suspect"])] == "prospect").all()
    # prospects are ranked on potential and accessibility only, in their own A–D
    assert set(result.weighted.contributions.columns) >= {"potential", "accessibility"}
    pros = profile == "prospect"
    assert result.weighted.contributions.loc[pros].drop(
        columns=["potential", "accessibility"]).isna().all().all()
    a_share = (result.category[pros] == "A").sum() / pros.sum()
    assert 0 < a_share <= 0.10 + 1e-9
    # the clients' A is clients only
    assert (profile[result.category == "A"].value_counts().get("client", 0)
            == ((result.category == "A") & (profile == "client")).sum())


def _problems(tmp_path, plugins, text):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return [f"{p.where} {p.message}" for p in check_ruleset(path, plugins.catalogue(),
                                                              plugins.criteria,
                                                              plugins.rule_actions)
            if p.level == "error"]


def test_score_in_a_first_stage_rule_points_to_stage_final(tmp_path, plugins):
    msgs = _problems(tmp_path, plugins, """
        rules:
          - id: hi
            when: score >= 60
            then: {flag: hi}
            why: High.
        """)
    assert len(msgs) == 1 and "computed after the rules" in msgs[0]
    assert "stage: final" in msgs[0] and "sector" not in msgs[0]


def test_profile_and_stage_mistakes_are_explained(tmp_path, plugins):
    msgs = _problems(tmp_path, plugins, """
        profiles:
          all:
            weights: {potentail: 10}
          client:
            when: status == "client"
            quotas_by: salesperson
        rules:
          - id: x
            stage: last
            when: distance_km > 1
            then: {flag: x}
            why: X.
          - id: y
            stage: final
            when: flag.nothing
            then: {points: 5}
            why: Y.
        """)
    text = "\n".join(msgs)
    assert "bad.yaml:3 profiles: all has no condition" in text
    assert 'unknown criterion "potentail" (did you mean potential?)' in text
    assert "the last profile, client, has a condition" in text
    assert "quotas_by splits quotas per group, but its categories are bands" in text
    assert "stage is final" in text
    assert 'no first-stage rule sets the flag "nothing"' in text
    assert "a rule with stage: final may flag, cap, floor, force, set, not points" in text


def test_profiles_must_keep_the_category_names(tmp_path, plugins):
    msgs = _problems(tmp_path, plugins, """
        profiles:
          client:
            when: otherwise
            categories:
              A: {min: 50}
              B: {min: 0}
        """)
    assert any("every profile uses the file's categories, in the same order (A, B, C, D)" in m
               for m in msgs)


def test_rule_test_profile_expectation(tmp_path, plugins):
    from potentiel.pipeline import rule_test_scorer
    from potentiel.rules import run_rule_tests
    path = tmp_path / "t.yaml"
    path.write_text(RULES + textwrap.dedent("""
        tests:
          - name: a suspect is small
            account: {status: suspect, grade: high}
            expect: {profile: small}
          - name: wrong on purpose
            account: {status: client, grade: high}
            expect: {profile: small}
        """), encoding="utf-8")
    rs = load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    outcomes = run_rule_tests(rs, rule_test_scorer(plugins))
    assert [o.passed for o in outcomes] == [True, False]
    assert "profile small, got big" in outcomes[1].failures[0]


ROWS = [["C1", "Alpha", "Client", "Claire", 90000, 80000, 200000, 0, 4, 20],
        ["P1", "Beta", "Prospect", "Claire", None, None, 300000, None, None, 30]]
HEAD = ["id", "name", "status", "salesperson", "revenue", "revenue_n1", "potential",
        "payment_incidents", "relationship", "distance_km"]


def _column(path, header):
    ws = openpyxl.load_workbook(path)["Accounts"]
    heads = [c.value for c in ws[1]]
    j = heads.index(header)
    return [r[j].value for r in ws.iter_rows(min_row=2)]


def test_profile_column_written_headless(tmp_path):
    from potentiel.headless import score_file
    path = write_workbook(tmp_path / "a.xlsx", HEAD, ROWS)
    result, target = score_file(path, tmp_path / "out.xlsx")
    assert _column(target, "Profile") == ["client", "prospect"]
    assert _column(target, "Category label")[1] in ("Priority target", "Target", "Watch",
                                                    "Later")


def test_profile_column_written_through_xlwings_remote(tmp_path):
    import xlwings as xw

    from potentiel.excel import Options, recompute
    from potentiel.headless import remote_payload

    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set")
    path = write_workbook(tmp_path / "a.xlsx", HEAD, ROWS)
    book = xw.Book(json=copy.deepcopy(remote_payload(path)))
    try:
        outcome = recompute(book, Options(remote=True))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert outcome.ok, outcome.message
    # the writes Excel will make: the output block's header row, then its values
    written = [a["values"] for a in actions if a["func"] == "setValues" and a["values"]
               and a["values"][0] and "Profile" in a["values"][0]]
    assert written, "no Profile column written"
    j = written[0][0].index("Profile")
    assert [row[j] for row in written[0][1:3]] == ["client", "prospect"]
    assert outcome.result.outputs["Profile"].tolist() == ["client", "prospect"]


def test_bad_profiles_are_a_user_error(tmp_path, plugins):
    path = tmp_path / "bad.yaml"
    path.write_text("profiles:\n  a: {when: status == \"client\"}\n", encoding="utf-8")
    with pytest.raises(UserError):
        load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def test_summary_and_matrix_per_profile(ruleset, plugins):
    from potentiel.report import (MATRIX_PROFILE_ROW, SUMMARY_CATEGORY_ROW, matrix_blocks,
                                  summary_blocks)
    result, _ = _run(ruleset, plugins, "compiled")
    blocks = summary_blocks(result)
    assert blocks[1].row == SUMMARY_CATEGORY_ROW  # the template's chart cells are unchanged
    rows = blocks[-1].values
    # one row per profile under the reps, laid out like a rep's row (so its formats fit):
    # profile, accounts, accounts per category (each profile's own A–D), revenue, …
    head = next(i for i, r in enumerate(rows) if r and r[0] == "Profile")
    assert rows[head][:6] == ["Profile", "Accounts", "A", "B", "C", "D"]
    per = {r[0]: r[1:6] for r in rows[head + 1:head + 3]}
    assert per == {"big": [3, *per["big"][1:]], "small": [4, 1, 1, 2, 0]}
    assert sum(per["big"][1:]) <= 3
    grids = [b for b in matrix_blocks(result) if b.row >= MATRIX_PROFILE_ROW]
    assert [g.values[0][0] for g in grids] == ["Accounts, profile big", "Accounts, profile small"]
