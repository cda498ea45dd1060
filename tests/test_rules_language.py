"""The rule language of issue 12: tables, portfolio statistics, functions, text, dates,
category names, and plain messages for the mistakes people really make.

Each construct is checked on both engines (durable and compiled) with hand-computed
values; the differential tests (test_rules_engines.py, test_properties.py) generate them.
"""

import datetime as dt
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from potentiel.manager import load_plugins
from potentiel.pipeline import score_records
from potentiel.problems import UserError
from potentiel.rules import apply_rules, check_ruleset, load_ruleset
from potentiel.rules.syntax import SyntaxProblem, parse

ENGINES = ("durable", "compiled")


@pytest.fixture(scope="module")
def plugins():
    return load_plugins(entry_points=False)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setenv("POTENTIEL_TODAY", "2025-06-30")


def write(tmp_path, text, name="client.yaml"):
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(plugins, path):
    return load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def problems(plugins, path):
    return check_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def error_of(plugins, tmp_path, when, fields=""):
    path = write(tmp_path, f"""
        {fields}
        rules:
          - id: r
            when: {when}
            then: {{flag: x}}
            why: Because.
        """)
    with pytest.raises(UserError) as exc:
        load(plugins, path)
    return exc.value.problems[0]


def flags_on(ruleset, accounts, engine):
    return [set(f) for f in apply_rules(ruleset, accounts, None, engine=engine).flags]


# ----------------------------------------------------------------------------- tables

TABLES = """
    extends: default
    fields: {country: text}
    tables:
      size:
        label: Company size
        field: headcount
        bands:
          - {from: 1, score: 20}
          - {from: 11, score: 40}
          - {from: 51, below: 200, score: 70}
          - {from: 201, score: 100}
        otherwise: 0
        missing: 10
      land:
        field: country
        lookup:
          France: 100
          Belgique: 60
          otherwise: 25
    weights: {size: 20, land: 10}
    rules:
      - id: big
        when: score.size >= 100
        then: {flag: big}
        why: Big company.
    """


@pytest.mark.parametrize("engine", ENGINES)
def test_a_table_is_a_weighted_criterion_with_scores_reasons_and_a_column(plugins, tmp_path,
                                                                          engine):
    rs = load(plugins, write(tmp_path, TABLES))
    from potentiel.config import Config
    from dataclasses import replace
    from potentiel.pipeline import _config_from
    from potentiel.config import SettingsOverrides
    config = replace(_config_from(rs, SettingsOverrides()), engine=engine)
    result = score_records([
        {"id": "a", "headcount": 500, "country": "france"},     # band 201+, listed (case)
        {"id": "b", "headcount": 11, "country": " Espagne "},   # edge 11 is in; not listed
        {"id": "c", "headcount": 200, "country": "Bélgique"},   # gap 200–201; accents
        {"id": "d", "headcount": 0.5},                          # below the first band
        {"id": "e"},                                            # blank: missing
    ], plugins=plugins, ruleset=rs, config=config)
    out = result.outputs
    assert list(out["Score: size"]) == [100, 40, 0, 0, 10]
    assert list(out["Score: land"].fillna(-1)) == [100, 25, 60, -1, -1]
    assert "big" in result.rules.fired.iloc[0] and "big" not in result.rules.fired.iloc[1]
    reasons = result.scores.reasons
    assert reasons["size"].iloc[1] == "headcount 11: from 11 to 51 → 40"
    assert reasons["size"].iloc[2] == "headcount 200: in no band → 0"
    assert reasons["land"].iloc[1] == 'country "Espagne": not listed → 25'
    assert result.config.weights["size"] == 20


def test_rules_check_reports_gaps_and_overlaps_with_their_lines(plugins, tmp_path):
    found = problems(plugins, write(tmp_path, TABLES))
    gap = [p for p in found if "gap" in p.message]
    assert len(gap) == 1 and gap[0].level == "warning"
    assert gap[0].where.endswith(":11") and "lines 11 and 12" in gap[0].message
    assert "values from 200 up to 201" in gap[0].message
    overlap = write(tmp_path, """
        tables:
          size:
            field: headcount
            bands:
              - {from: 0, below: 60, score: 10}
              - {from: 50, score: 90}
              - {from: 50, score: 95}
            otherwise: 0
        weights: {size: 10}
        """, "overlap.yaml")
    errors = [p for p in problems(plugins, overlap) if p.level == "error"]
    assert any("overlaps the band from 50 (line 7)" in p.message and p.where.endswith(":6")
               for p in errors), errors
    assert any("two bands start at 50 (lines 7 and 8)" in p.message for p in errors), errors


def test_table_mistakes_are_errors_at_their_line(plugins, tmp_path):
    path = write(tmp_path, """
        tables:
          sector_fit:
            field: sectr
            lookup: {Banque: 100}
          dup:
            field: sector
            lookup: {Santé: 100, sante: 50}
            otherwise: 0
          nodefault:
            field: sector
            lookup: {Banque: 100}
          revenue:
            field: revenue
            bands: [{from: 0, score: 150}]
        """)
    messages = {p.where.rsplit(":", 1)[1]: p.message for p in problems(plugins, path)
                if p.level == "error"}
    assert 'did you mean sector?' in messages["4"]
    assert '"sante" and "Santé" are the same value' in messages["8"]
    assert "add otherwise:" in messages["12"]
    assert "already a criterion" in messages["13"]


def test_a_table_without_weight_is_said(plugins, tmp_path):
    path = write(tmp_path, """
        tables:
          size: {field: headcount, bands: [{from: 0, score: 50}]}
        """)
    notes = [p for p in problems(plugins, path) if "has no weight" in p.message]
    assert notes and notes[0].level == "notice"


# ----------------------------------------------------------------------------- statistics

def test_portfolio_statistics_abc_and_quintiles_on_both_engines(plugins, tmp_path):
    rs = load(plugins, write(tmp_path, """
        rules:
          - id: a
            when: cumulative_share(revenue) < 80%
            then: {flag: A}
            why: 80 % of revenue.
          - id: b
            when: cumulative_share(revenue) >= 80% and cumulative_share(revenue) < 95%
            then: {flag: B}
            why: next 15 %.
          - id: q5
            when: quintile(revenue) == 5
            then: {flag: q5}
            why: top fifth.
          - id: p50
            when: percentile(revenue) >= 50
            then: {flag: p50}
            why: top half.
        """))
    # exact cents: 8000.01 + 1500 + 499.99 = 10000; the first makes exactly 80.0001 %
    revenue = [8000.01, 1500.0, 499.99, None, 0.0]
    accounts = pd.DataFrame({"id": list("abcde"), "revenue": revenue})
    for engine in ENGINES:
        flags = flags_on(rs, accounts, engine)
        assert flags == [{"A", "q5", "p50"}, {"B", "p50"}, {"p50"}, set(), set()], engine
    # values only (no rule): percentile 100·rank/count, quintile ceil(5·rank/count)
    from potentiel.rules.values import (portfolio_cumulative_share, portfolio_percentile,
                                        portfolio_quintile)
    v = np.array([10.0, 20.0, 20.0, np.nan, 40.0])
    assert list(np.nan_to_num(portfolio_percentile(v), nan=-1)) == [25, 75, 75, -1, 100]
    assert list(np.nan_to_num(portfolio_quintile(v), nan=-1)) == [2, 4, 4, -1, 5]
    assert list(np.nan_to_num(portfolio_cumulative_share(v), nan=-1)) == [80 / 90, 40 / 90,
                                                                          40 / 90, -1, 0]


def test_cumulative_share_is_exact_at_80_percent(plugins, tmp_path):
    rs = load(plugins, write(tmp_path, """
        rules:
          - id: a
            when: cumulative_share(revenue) < 80%
            then: {flag: A}
            why: 80 %.
        """))
    # 4000.04 + 4000.04 = 8000.08 of 10000.10: exactly 80 % before the third account
    accounts = pd.DataFrame({"id": list("abcd"), "revenue": [4000.05, 4000.03, 1000.01, 1000.01]})
    for engine in ENGINES:
        assert flags_on(rs, accounts, engine) == [{"A"}, {"A"}, set(), set()]


@pytest.mark.parametrize("engine", ENGINES)
def test_derive_gains_min_max_sqrt_abs_and_if(plugins, tmp_path, engine):
    rs = load(plugins, write(tmp_path, """
        derive:
          potential: max(revenue * 2, min(headcount * 100, 90000))
          growth_pct: if(revenue_n1 is missing, 0, abs(revenue - revenue_n1) / revenue_n1 * 100)
          competitors: sqrt(headcount)
          gap: sqrt(revenue - revenue_n1)
        """))
    result = score_records([
        {"id": "a", "revenue": 1000, "revenue_n1": 800, "headcount": 16},
        {"id": "b", "revenue": 100000, "headcount": 2000},
        {"id": "c", "revenue": 0.1, "revenue_n1": 0.3, "headcount": 3},
    ], plugins=plugins, ruleset=rs)
    acc = result.accounts
    assert list(acc["potential"]) == [2000, 200000, 300]
    assert list(acc["growth_pct"]) == [25, 0, pytest.approx(200 / 3)]
    assert acc["competitors"].iloc[0] == 4
    assert acc["gap"].iloc[0] == pytest.approx(200 ** 0.5) and np.isnan(acc["gap"].iloc[2])


def test_functions_in_conditions_are_exact(plugins, tmp_path):
    rs = load(plugins, write(tmp_path, """
        rules:
          - id: m
            when: min(revenue, potential) + 0.2 == 0.3
            then: {flag: m}
            why: decimal.
          - id: i
            when: if(status == "client", revenue, potential) >= 1000.01
            then: {flag: i}
            why: branch.
        """))
    accounts = pd.DataFrame({"id": list("abc"), "revenue": [0.1, 1000.01, 5.0],
                             "potential": [0.5, 3.0, 2000.0],
                             "status": ["client", "client", None]})
    for engine in ENGINES:
        assert flags_on(rs, accounts, engine) == [{"m"}, {"i"}, set()]


# ----------------------------------------------------------------------------- text, dates

def test_text_tests_ignore_case_and_accents(plugins, tmp_path):
    rs = load(plugins, write(tmp_path, """
        rules:
          - id: c
            when: name contains "societe"
            then: {flag: c}
            why: c.
          - id: s
            when: sector starts with "BAN"
            then: {flag: s}
            why: s.
          - id: e
            when: not (name ends with "sa")
            then: {flag: e}
            why: e.
        """))
    accounts = pd.DataFrame({"id": list("abc"), "name": ["La Société Générale SA", "ACME", None],
                             "sector": ["Banque", "Ébénisterie", "banking"]})
    for engine in ENGINES:
        assert flags_on(rs, accounts, engine) == [{"c", "s"}, {"e"}, {"s"}]


def test_dates_today_days_and_months_since(plugins, tmp_path):
    rs = load(plugins, write(tmp_path, """
        fields: {last_order: date}
        rules:
          - id: d90
            when: days_since(last_order) > 90
            then: {flag: d90}
            why: d.
          - id: m12
            when: months_since(last_order) >= 12
            then: {flag: m12}
            why: m.
          - id: before
            when: last_order < "2025-01-01"
            then: {flag: before}
            why: b.
          - id: future
            when: last_order > today
            then: {flag: future}
            why: f.
        """))
    accounts = pd.DataFrame({"id": list("abcdef"), "last_order": [
        dt.date(2025, 4, 1),          # 90 days: not more than 90
        dt.datetime(2025, 3, 31, 9),  # calamine's datetime: 91 days
        "2024-06-30",                 # ISO text (xlwings remote): 12 months exactly
        "01/07/2024",                 # day-first text: 11 months
        "2026-01-01", "2025-02-30"]})  # future; not a date: blank
    for engine in ENGINES:
        assert flags_on(rs, accounts, engine) == [
            set(), {"d90"}, {"d90", "m12", "before"}, {"d90", "before"}, {"future"}, set()]


def test_today_comes_from_potentiel_today(monkeypatch):
    from potentiel.rules import dates
    monkeypatch.setenv("POTENTIEL_TODAY", "2024-02-29")
    assert dates.today() == dt.date(2024, 2, 29)
    assert dates.months_between(dt.date(2025, 1, 31), dt.date(2025, 2, 28)) == 1
    assert dates.months_between(dt.date(2025, 1, 31), dt.date(2025, 2, 27)) == 0
    monkeypatch.setenv("POTENTIEL_TODAY", "soon")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        dates.today()


def test_date_mistakes(plugins, tmp_path):
    fields = "fields: {last_order: date}"
    p = error_of(plugins, tmp_path, "last_order > 90", fields)
    assert "days_since(last_order) > 90" in p.message
    p = error_of(plugins, tmp_path, 'last_order > "31 June"', fields)
    assert '"2024-12-31"' in p.message
    p = error_of(plugins, tmp_path, "last_order + 3 > 5", fields)
    assert "days_since" in p.message


# ----------------------------------------------------------------------------- categories

@pytest.mark.parametrize("engine", ENGINES)
def test_category_names_beyond_one_letter(plugins, tmp_path, engine):
    path = write(tmp_path, """
        categories:
          A+: {min: 90, label: Top}
          A: {min: 70}
          A-: {min: 50}
          B1: {min: 25}
          BX: {min: 0}
        rules:
          - id: far
            when: distance_km >= 600
            then: {cap: A-, flag: far}
            why: Far.
          - id: key
            when: headcount >= 5000
            then: {force: A+}
            why: Key.
        tests:
          - name: capped
            account: {distance_km: 700, revenue: 900000, potential: 900000, status: client}
            expect: {category_at_most: A-, flags: [far]}
          - name: forced
            account: {headcount: 6000}
            expect: {category: A+}
        """)
    from potentiel.pipeline import rule_test_scorer
    from potentiel.rules import run_rule_tests
    rs = load(plugins, path)
    assert rs.categories.letters == ("A+", "A", "A-", "B1", "BX")
    outcomes = run_rule_tests(rs, rule_test_scorer(plugins, engine=engine))
    assert all(o.passed for o in outcomes), outcomes


def test_settings_rows_name_categories_beyond_one_letter():
    from potentiel.categories import Band, CategorySpec, Quota
    from potentiel.config import Config, apply_overrides, read_settings
    rows = [("Band A+", 92, "Settings!B2"), ("Seuil A1", 40, "Settings!B3"),
            ("Band A-", 55, "Settings!B4"), ("Band A min", 71, "Settings!B5"),
            ("Label A+", "Top", "Settings!B6"), ("Libellé A1", "Un", "Settings!B7"),
            ("Quota AX", "5%", "Settings!B8")]
    ov, warnings = read_settings(rows)
    assert warnings == []
    assert ov.bands == {"A+": 92, "A1": 40, "A-": 55, "A": 71}   # not all read as "A"
    assert ov.labels == {"A+": "Top", "A1": "Un"}
    assert ov.quotas == {"AX": 0.05}
    spec = CategorySpec("bands", bands=(Band("A+", 90), Band("A", 70), Band("A-", 50),
                                        Band("A1", 25), Band("B", 0)))
    cats = apply_overrides(Config(categories=spec), ov).categories
    assert [(b.letter, b.min) for b in cats.bands] == [
        ("A+", 92), ("A", 71), ("A-", 55), ("A1", 40), ("B", 0)]
    assert cats.label("A+") == "Top"
    # quotas keep the file's order (A+ before A before A-), not the alphabet's
    quotas = CategorySpec("quotas", quotas=(Quota("A+", 0.05), Quota("A", 0.1),
                                            Quota("A-", 0.2), Quota("B", None)))
    ov, _ = read_settings([("Quota A-", "25%", "Settings!B2")])
    got = apply_overrides(Config(categories=quotas), ov).categories
    assert [(q.letter, q.share) for q in got.quotas] == [
        ("A+", 0.05), ("A", 0.1), ("A-", 0.25), ("B", None)]


def test_a_bad_category_name_says_what_is_allowed(plugins, tmp_path):
    path = write(tmp_path, """
        categories:
          A++: {min: 50}
          b: {min: 0}
        """)
    errors = [p.message for p in problems(plugins, path) if p.level == "error"]
    assert any('"A++" is not a category name' in m and "A+, A-, A1, AX" in m for m in errors)


# ----------------------------------------------------------------------------- messages

@pytest.mark.parametrize("text, expected", [
    ("distance_km >= 600,5", "write 600.5 with a decimal point"),
    ("distance_km ≥ 600", 'write >= (greater than or equal)'),
    ("distance_km ≤ 600", "write <= (less than or equal)"),
    ("status <> 5", "write != (not equal)"),
    ("growth_pct > 50 %", 'write 50% with no space before "%"'),
    ("revenue > 1 000 000", "write 1000000 (or 1_000_000)"),
    ("status in [client, prospect]", 'text goes in quotes: write "client"'),
    ("name contains acme", 'text goes in quotes: write contains "acme"'),
])
def test_messages_for_real_mistakes_in_conditions(text, expected):
    with pytest.raises(SyntaxProblem) as exc:
        parse(text)
    assert expected in exc.value.message


def test_unquoted_text_and_the_total_score(plugins, tmp_path):
    p = error_of(plugins, tmp_path, "status == prospect")
    assert 'text goes in quotes: write "prospect"' in p.message
    p = error_of(plugins, tmp_path, "sector == Retail")
    assert 'text goes in quotes: write "Retail"' in p.message
    p = error_of(plugins, tmp_path, "score >= 60")
    assert "sector" not in p.message and "score.revenue" in p.message


def test_yaml_mistakes_in_plain_words(plugins, tmp_path):
    colon = tmp_path / "colon.yaml"
    colon.write_text("rules:\n  - id: a\n    when: true\n    then: {flag: x}\n"
                     "    why: Note: too far\n", encoding="utf-8")
    (p,) = problems(plugins, colon)
    assert p.where.endswith(":5")
    assert 'put the whole text in quotes, why: "Note: too far"' in p.message
    tab = tmp_path / "tab.yaml"
    tab.write_text("rules:\n  - id: a\n\twhen: true\n", encoding="utf-8")
    (p,) = problems(plugins, tab)
    assert p.where.endswith(":3") and "indent with spaces" in p.message
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("description: ok\nrules:\n  - id: a\n    why: Très loin\n".encode("latin-1"))
    (p,) = problems(plugins, latin)
    assert p.where.endswith(":4") and "save the file as UTF-8" in p.message


# ----------------------------------------------------------------------------- the command

def test_rules_test_runs_on_the_compiled_engine(tmp_path):
    path = write(tmp_path, """
        extends: default
        fields: {last_order: date}
        rules:
          - id: sleeping
            when: months_since(last_order) >= 12 and name contains "sa"
            then: {flag: sleeping}
            why: No order for a year.
        tests:
          - name: a sleeping client
            account: {name: Dupont SA, last_order: "2024-01-15"}
            expect: {flags: [sleeping]}
        """)
    for engine in ENGINES:
        out = subprocess.run([sys.executable, "-m", "potentiel", "rules", "test", str(path),
                              "--engine", engine], capture_output=True, text=True,
                             env={**__import__("os").environ, "POTENTIEL_TODAY": "2025-06-30"})
        assert out.returncode == 0, out.stdout + out.stderr
        assert "PASS a sleeping client" in out.stdout


def test_a_blank_pandas_date_is_no_date():
    """pandas' NaT is a datetime subclass: it must read as blank, not crash (found by the
    differential property test)."""
    import pandas as pd
    from potentiel.rules.dates import day_number, to_date
    assert to_date(pd.NaT) is None
    assert day_number(pd.NaT) != day_number(pd.NaT)  # NaN


def test_a_date_field_reads_date_cells_and_names_the_others(tmp_path):
    from helpers import write_workbook
    from potentiel.headless import score_file
    import datetime as dt
    rules = tmp_path / "r.yaml"
    rules.write_text("extends: default\nfields: {last_visit: date}\nrules:\n"
                     "  - {id: stale, when: days_since(last_visit) > 365, then: {flag: stale},"
                     " why: Not visited for a year.}\n", encoding="utf-8")
    path = write_workbook(tmp_path / "d.xlsx", ("Code client", "CA N", "Last visit"),
                          [["C1", 100, dt.datetime(2020, 1, 1)], ["C2", 200, "31/03/2026"],
                           ["C3", 300, "bientôt"]])
    import os
    os.environ["POTENTIEL_TODAY"] = "2026-11-30"
    try:
        result, _ = score_file(path, tmp_path / "o.xlsx", rules=str(rules))
    finally:
        del os.environ["POTENTIEL_TODAY"]
    assert list(result.accounts["last_visit"]) == [dt.date(2020, 1, 1), dt.date(2026, 3, 31), None]
    bad = [p for p in result.warnings if p.kind == "not-a-date"]
    assert len(bad) == 1 and bad[0].where == "Accounts!C4"
    assert "stale" in result.outputs.at[0, "Flags"] and "stale" not in str(result.outputs.at[1, "Flags"])


def test_a_tab_before_a_key_is_explained_in_plain_words(plugins, tmp_path):
    path = tmp_path / "tab.yaml"
    path.write_text('rules:\n  - id: a\n    when: revenue > 5\n    then: {flag: x}\n'
                    '\twhy: Big.\n', encoding="utf-8")
    errors = [p for p in problems(plugins, path) if p.level == "error"]
    assert any("a tab character: indent with spaces only" in p.message
               and p.where.endswith(":5") for p in errors), [p.message for p in errors]
