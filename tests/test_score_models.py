"""Score models (potentiel.scoremodels): points from 0 on a declared scale, an imported
score, sub-scores with their bands and the cross of two, through the headless front end
and xlwings' remote engine; both rules engines give the same totals."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import textwrap
from pathlib import Path

import pytest
import xlwings as xw
from python_calamine import CalamineWorkbook

from helpers import write_workbook
from potentiel.excel import Options, recompute
from potentiel.headless import remote_payload, score_file
from potentiel.manager import load_plugins
from potentiel.pipeline import score_records
from potentiel.problems import UserError
from potentiel.rules import check_ruleset, load_ruleset
from vba_client import apply_actions

PLUGINS = load_plugins(entry_points=False)


def rules_file(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(path: Path):
    return load_ruleset(path, PLUGINS.catalogue(), PLUGINS.criteria, PLUGINS.rule_actions)


def score(path: Path, records, engine: str = "durable"):
    from dataclasses import replace

    from potentiel.config import SettingsOverrides
    from potentiel.pipeline import _config_from
    ruleset = load(path)
    config = replace(_config_from(ruleset, SettingsOverrides()), engine=engine)
    return score_records(records, plugins=PLUGINS, ruleset=ruleset, config=config)


POINTS_1000 = """
    score: {model: points, scale: 0 to 1000}
    fields: {visits: integer}
    tables:
      size:
        field: headcount
        bands:
          - {from: 1,   points: 100}
          - {from: 50,  points: 400}
          - {from: 500, points: 700}
        missing: 50
      sector_fit:
        field: sector
        gives: points
        lookup: {Banque: 250, otherwise: -100}
    categories:
      A: {min: 800, label: Top}
      B: {min: 400, label: Good}
      C: {min: 0,   label: Rest}
    rules:
      - id: busy
        when: visits >= 10
        then: {points: 150}
        why: Ten visits or more (+150).
      - id: quiet
        when: visits == 0
        then: {points: -600}
        why: Never came (-600).
"""


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_points_add_up_from_zero_on_a_1000_scale_never_cut_at_100(tmp_path, engine):
    path = rules_file(tmp_path, POINTS_1000)
    result = score(path, [
        {"id": "a", "headcount": 800, "sector": "Banque", "visits": 12},   # 700 + 250 + 150
        {"id": "b", "headcount": 60, "sector": "Commerce", "visits": 3},   # 400 - 100
        {"id": "c", "sector": "banque", "visits": 10},                     # 50 + 250 + 150
        {"id": "d", "headcount": 5, "sector": "Commerce", "visits": 0},    # 100 - 100 - 600
    ], engine)
    out = result.outputs
    assert out["Score"].tolist() == [1100, 300, 450, 0]   # d: -600 is kept at the bottom, 0
    assert out["Category"].tolist() == ["A", "C", "B", "C"]
    assert out["Score: size"].tolist() == [700, 400, 50, 100]
    assert out["Score: sector_fit"].tolist() == [250, -100, 250, -100]
    assert out["Confidence"].tolist() == [1, 1, 1, 1]  # size missing: scored by missing:
    # 1100 is off the 0–1000 scale: shown as it is, and said, one warning
    off = [p for p in result.warnings if p.kind == "outside-scale"]
    assert len(off) == 1 and "a (1100)" in off[0].message and off[0].column == "Score"
    # no default criterion shows or warns in a points model
    assert not any(c.startswith("Score: revenue") for c in out.columns)
    assert not any(p.kind in ("absent-input", "criteria-without-columns")
                   for p in result.warnings)


def test_groups_give_shares_of_their_points(tmp_path):
    path = rules_file(tmp_path, """
        score:
          model: points
          scale: 1000
          groups:
            profile: {points: 400, weights: {age: 1, form: 1}}
            payment: {points: 600, weights: {solvency: 100}}
        fields: {age_years: number, form: text}
        tables:
          age:
            field: age_years
            bands: [{from: 0, score: 20}, {from: 10, score: 100}]
          form:
            field: form
            lookup: {SA: 100, otherwise: 30}
        categories: {A: {min: 700}, B: {min: 0}}
    """)
    result = score(path, [{"id": "x", "age_years": 12, "form": "SARL", "payment_incidents": 0},
                          {"id": "y", "age_years": 3, "form": "SA"}])
    solvency = result.scores.scores["solvency"].tolist()
    assert solvency[0] == 100 and solvency[1] != solvency[1]  # unknown: no points
    # x: 200 × 100 % + 200 × 30 % + 600 × 100 %; y: 200 × 20 % + 200 × 100 %
    assert result.outputs["Score"].tolist() == [860, 240]
    assert result.outputs["Confidence"].tolist() == [1, pytest.approx(2 / 3, abs=1e-3)]


def test_an_imported_score_with_its_scale_and_bands(tmp_path):
    path = rules_file(tmp_path, """
        score: {model: imported, field: crm_score, scale: 0 to 100}
        categories:
          A: {min: 70, label: Hot}
          B: {min: 40, label: Warm}
          C: {min: 0,  label: Cold}
        rules:
          - id: partner
            when: source == "partner"
            then: {points: 10}
            why: Referred by a partner (+10).
        fields: {crm_score: number, source: text}
    """)
    result = score(path, [{"id": "a", "crm_score": 65, "source": "partner"},
                          {"id": "b", "crm_score": 39.5},
                          {"id": "c"},
                          {"id": "d", "crm_score": 130}])
    out = result.outputs
    assert out["Score"].tolist()[:2] == [75, 39.5] and out["Score"].isna().tolist()[2]
    assert out["Category"].tolist() == ["A", "C", None, "A"]
    assert out["Category label"].tolist()[2] == "Not enough data"
    assert out["Confidence"].tolist() == [1, 1, 0, 1]
    off = [p for p in result.warnings if p.kind == "outside-scale"]
    assert len(off) == 1 and "d (130)" in off[0].message


SUBSCORES = """
    score: points
    fields: {seniority: text, visits: integer, email_opened: integer}
    tables:
      size:
        field: headcount
        bands: [{from: 1, points: 10}, {from: 200, points: 40}]
      title:
        field: seniority
        gives: points
        lookup: {vp: 30, manager: 15, otherwise: 0}
      visits_pts:
        field: visits
        bands: [{from: 0, points: 0}, {from: 3, points: 20}, {from: 10, points: 50}]
    subscores:
      fit: {label: Fit, tables: [size, title], bands: {A: 60, B: 30, C: 0}}
      engagement: {tables: [visits_pts], bands: {"1": 50, "2": 20, "3": 0}}
    cross: [fit, engagement]
    categories: {A: {min: 100}, B: {min: 50}, C: {min: 0}}
    rules:
      - id: opened
        when: email_opened >= 3
        then: {points: {engagement: 10}}
        why: Opened three e-mails (+10 engagement).
"""

SUB_ACCOUNTS = [
    {"id": "a", "headcount": 500, "seniority": "VP", "visits": 12, "email_opened": 0},
    {"id": "b", "headcount": 20, "seniority": "manager", "visits": 4, "email_opened": 5},
    {"id": "c", "headcount": 5, "visits": 1},
]


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_subscores_have_their_bands_and_the_cross_cell(tmp_path, engine):
    result = score(rules_file(tmp_path, SUBSCORES), SUB_ACCOUNTS, engine)
    out = result.outputs
    assert out["Score: fit"].tolist() == [70, 25, 10]          # 40 + 30, 10 + 15, 10
    assert out["Score: fit band"].tolist() == ["A", "C", "C"]
    assert out["Score: engagement"].tolist() == [50, 30, 0]    # 50, 20 + 10 (rule), 0
    assert out["Score: engagement band"].tolist() == ["1", "2", "3"]
    assert out["Score: fit × engagement"].tolist() == ["A1", "C2", "C3"]
    assert out["Score"].tolist() == [120, 45, 10]   # the total: every table, rule points apart


def _book(tmp_path: Path, rules: Path | str) -> Path:
    headers = ["id", "name", "headcount", "seniority", "visits", "email_opened"]
    rows = [[r["id"], r["id"].upper(), r.get("headcount"), r.get("seniority"), r.get("visits"),
             r.get("email_opened")] for r in SUB_ACCOUNTS]
    return write_workbook(tmp_path / "book.xlsx", headers, rows,
                          settings=[("Rules file", str(rules))])


def _column(path: Path, header: str) -> list:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Accounts").to_python()
    j = list(rows[0]).index(header)
    return [r[j] for r in rows[1:]]


WANTED = {"Score": [120, 45, 10], "Score: fit": [70, 25, 10],
          "Score: fit band": ["A", "C", "C"], "Score: fit × engagement": ["A1", "C2", "C3"]}


def test_model_columns_written_headless(tmp_path):
    book = _book(tmp_path, rules_file(tmp_path, SUBSCORES))
    _, target = score_file(book, tmp_path / "out.xlsx")
    for header, values in WANTED.items():
        assert _column(target, header) == values, header


def test_model_columns_written_through_xlwings_remote(tmp_path, monkeypatch):
    from potentiel.pipeline import RULES_PATH_ENV
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set")
    folder = tmp_path / "server-rules"
    folder.mkdir()
    rules_file(folder, SUBSCORES)
    monkeypatch.setenv(RULES_PATH_ENV, str(folder))  # a server names rule files of its folders
    book_path = _book(tmp_path, "model")
    book = xw.Book(json=copy.deepcopy(remote_payload(book_path)))
    try:
        outcome = recompute(book, Options(remote=True))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert outcome.ok, outcome.message
    target = tmp_path / "remote.xlsx"
    assert apply_actions(book_path, actions, target) == []
    for header, values in WANTED.items():
        assert _column(target, header) == values, header


@pytest.mark.parametrize("text,message", [
    ("score: point\n", "model is weighted, points, imported"),
    ("score: {model: weighted, scale: 1000}\n", "a weighted score is 0 to 100"),
    ("score: {model: points, scale: lots}\n", "scale is the range of the score"),
    ("score: {model: imported}\n", "field names the number column"),
    ("score: points\ncategories: {A: {min: 50}, B: {min: -10}}\n", "outside the score's scale"),
    ("score: points\nrules:\n  - {id: r, when: 'true', then: {points: {fit: 1}}, why: x.}\n",
     '"fit" is not a sub-score'),
    ("rules:\n  - {id: r, when: 'true', then: {points: 150}, why: x.}\n",
     "too many for a weighted score"),
    ("score: points\ntables:\n  t: {field: headcount, bands: [{from: 0, points: 1}, "
     "{from: 5, score: 2}]}\n", "a band of this table gives points"),
    ("score: points\nsubscores:\n  fit: {tables: [nope], bands: {A: 1, B: 0}}\n",
     '"nope" is not a points table'),
    ("score: points\ntables:\n  t: {field: headcount, bands: [{from: 0, points: 1}]}\n"
     "subscores:\n  fit: {tables: [t], bands: {A: 1, B: 0}}\ncross: [fit, fat]\n",
     '"fat" is not a sub-score'),
])
def test_mistakes_in_a_score_model_are_said_with_their_line(tmp_path, text, message):
    path = rules_file(tmp_path, text)
    problems = [p for p in check_ruleset(path, PLUGINS.catalogue(), PLUGINS.criteria)
                if p.level == "error"]
    assert any(message in p.message and p.where.startswith(str(path.name)) or
               message in p.message for p in problems), [p.message for p in problems]
    with pytest.raises(UserError):
        load(path)


# --- the second stage reads the sub-scores, their bands and the cross (issue 12, point 5) ---

FINAL_ON_SUBSCORES = SUBSCORES + """
      - id: hot
        stage: final
        when: fit.band == "A" and engagement >= 40 and cross in ["A1", "B1"]
        then: {flag: hot, force: A}
        why: Fit A and engaged.
      - id: cold
        stage: final
        when: cross == "C3" and fit < 20
        then: {flag: cold}
        why: Neither fit nor engaged.
"""


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_final_stage_rules_read_subscores_bands_and_the_cross(tmp_path, engine):
    result = score(rules_file(tmp_path, FINAL_ON_SUBSCORES), SUB_ACCOUNTS, engine)
    assert result.outputs["Flags"].tolist() == ["hot", "", "cold"]
    assert result.category.tolist() == ["A", "C", "C"]   # hot forces A on a (120 is A anyway)
    assert [list(f) for f in result.rules.fired] == [["hot"], ["opened"], ["cold"]]


def test_a_first_stage_rule_reading_a_subscore_is_sent_to_stage_final(tmp_path):
    text = SUBSCORES + """
      - id: early
        when: fit.band == "A"
        then: {flag: early}
        why: Too early.
    """
    problems = [p for p in check_ruleset(rules_file(tmp_path, text), PLUGINS.catalogue(),
                                         PLUGINS.criteria) if p.level == "error"]
    assert any('"fit.band" is computed after the rules' in p.message and "stage: final" in
               p.message for p in problems), [p.message for p in problems]


@pytest.mark.parametrize("when,message", [
    ('fit.band == "D"', '"D" is not a value of fit.band'),
    ('cross == "A4"', '"A4" is not a value of cross'),
])
def test_final_stage_band_and_cell_values_are_checked(tmp_path, when, message):
    text = SUBSCORES + f"""
      - id: late
        stage: final
        when: {when}
        then: {{flag: late}}
        why: Late.
    """
    problems = [p for p in check_ruleset(rules_file(tmp_path, text), PLUGINS.catalogue(),
                                         PLUGINS.criteria) if p.level == "error"]
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_a_subscore_named_as_a_field_is_refused(tmp_path):
    text = ("score: points\ntables:\n  t: {field: headcount, bands: [{from: 0, points: 1}]}\n"
            "subscores:\n  headcount: {tables: [t], bands: {A: 1, B: 0}}\n")
    problems = [p for p in check_ruleset(rules_file(tmp_path, text), PLUGINS.catalogue(),
                                         PLUGINS.criteria) if p.level == "error"]
    assert any('"headcount" is already a field' in p.message for p in problems)


SUB_TESTS = FINAL_ON_SUBSCORES + """
    tests:
      - name: a VP at a big firm, engaged
        account: {headcount: 500, seniority: VP, visits: 12, email_opened: 0}
        expect: {subscores: {fit: 70, engagement: 50}, bands: {fit: A, engagement: "1"},
                 cross: A1, flags: [hot]}
      - name: a manager who opens e-mails
        account: {headcount: 20, seniority: manager, visits: 4, email_opened: 5}
        expect: {subscores: {fit: 25, engagement: 30}, bands: {fit: C, engagement: "2"},
                 cross: c2}
      - name: wrong on purpose
        account: {headcount: 5, visits: 1}
        expect: {subscores: {fit: 11}, bands: {engagement: "1"}, cross: A1}
"""


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_rule_file_tests_check_subscores_bands_and_the_cross(tmp_path, engine):
    from potentiel.pipeline import rule_test_scorer
    from potentiel.rules import run_rule_tests
    outcomes = run_rule_tests(load(rules_file(tmp_path, SUB_TESTS)),
                              rule_test_scorer(PLUGINS, engine=engine))
    assert [o.passed for o in outcomes] == [True, True, False]
    assert outcomes[2].failures == ("fit 11, got 10", "engagement band 1, got 3",
                                    "cross A1, got C3")


@pytest.mark.parametrize("expect,message", [
    ("{subscores: {fat: 1}}", '"fat" is not a sub-score of this file'),
    ("{bands: {fit: D}}", "bands: fit is one of its bands (A, B, C)"),
    ("{cross: A4}", "cross is a cell of fit × engagement"),
    ("{subscores: {fit: lots}}", "subscores: fit is a number"),
])
def test_subscore_expectations_are_checked(tmp_path, expect, message):
    text = SUBSCORES + f"""
    tests:
      - name: t
        account: {{headcount: 5}}
        expect: {expect}
    """
    problems = [p for p in check_ruleset(rules_file(tmp_path, text), PLUGINS.catalogue(),
                                         PLUGINS.criteria) if p.level == "error"]
    assert any(message in p.message for p in problems), [p.message for p in problems]
