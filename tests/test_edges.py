"""Exact at the edges: shares, tiers and rule arithmetic give what decimal arithmetic on the
typed values gives (issue 9, point 10), and confidence counts absent columns (point 8)."""

import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potentiel.fields import FRENCH_TITLES
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import SHARED_CASES, fr
from potentiel import exact, portfolio
from potentiel.headless import score_file
from potentiel.manager import load_plugins
from potentiel.pipeline import score_records
from potentiel.rules import load_ruleset

CASES = SHARED_CASES / "reading"


def case(name: str) -> Path:
    path = CASES / name
    assert path.is_file(), f"missing case file {path}"
    return path


@pytest.fixture(scope="module")
def plugins():
    return load_plugins(entry_points=False)


# ----------------------------------------------------------------------------- the cases

def test_three_accounts_making_exactly_80_percent_with_cents_are_the_top_80(tmp_path):
    result, _ = score_file(case("pareto-cents-exact-80.xlsx"), tmp_path / "out.xlsx")
    top = dict(zip(result.accounts["id"], result.outputs["Top 80%"]))
    # 8,017.98 + 4,601.58 + 2,334.60 = 14,954.16 = 80.00 % of 18,692.70: K04 has 80 % above it
    assert top == {"K01": True, "K02": True, "K03": True, "K04": False, "K05": False}


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_a_tenth_and_a_fifth_with_cents_on_both_engines(tmp_path, engine):
    work = tmp_path / "float-int-thresholds.xlsx"
    shutil.copy(case("float-int-thresholds.xlsx"), work)
    result, _ = score_file(work, tmp_path / "out.xlsx", engine=engine,
                           rules=str(case("float-int-thresholds.yaml")))
    ids = list(result.accounts["id"])
    fired = dict(zip(ids, result.rules.fired))
    tiers = dict(zip(ids, result.accounts["penetration_tier"]))
    assert "ratio-low" not in fired["F03"]           # 1,000.01 / 10,000.10 is 10 %, not less
    assert "ratio-low" in fired["F02"]               # 999.99 / 10,000.01 is less
    assert "ratio-low" not in fired["F01"]           # 1,000 / 10,000
    assert tiers["F06"] == "medium"                  # 4,000.04 / 20,000.20 is exactly 20 %
    assert result.outputs.loc[ids.index("F06"), "Penetration"] == 0.2
    # the file's other thresholds, written as whole numbers, against decimal values
    assert "over-1000" in fired["F03"] and "over-1000" not in fired["F02"]
    assert "growth-above-1" in fired["F02"] and "growth-above-1" not in fired["F01"]
    assert "slow-payer" in fired["F02"] and "slow-payer" not in fired["F01"]


# ----------------------------------------------------------------------------- the kind

def test_penetration_of_exactly_a_fifth_is_medium_and_of_a_half_strong():
    rev = pd.Series([2000.02, 5000.05, 0.3, 1000.01])
    pot = pd.Series([10000.1, 10000.1, 1.5, 10000.1])
    pen = portfolio.penetration(rev, pot)
    assert list(pen) == [0.2, 0.5, 0.2, 0.1]
    assert list(portfolio.tier(pen, 0.5, 0.2, portfolio.PENETRATION_TIERS)) == [
        "medium", "strong", "medium", "weak"]


def test_a_share_typed_in_settings_is_scaled_in_decimal():
    from potentiel.config import _share
    assert _share("12.3", "Settings!B4", "weak penetration") == 0.123   # 12.3 / 100 is not
    assert _share("0.7 %", "Settings!B4", "weak penetration") == 0.007


@pytest.mark.parametrize("share, amounts, expected", [
    (0.8, [0.1, 0.2, 0.7], [False, True, True]),            # 0.2 + 0.7 is 90 %: 0.1 is out
    (0.7, [0.1, 0.2, 0.7], [False, False, True]),           # 0.7 above 0.2: exactly 70 %, out
    (0.9, [0.1, 0.2, 0.7], [False, True, True]),            # 0.9 above 0.1: exactly 90 %
    (0.85, [1e15, 1.5, 2.25], [True, False, False]),        # beyond int64 cents
    (0.8, [1e-300, 4e-300, 1e300], [False, False, True]),   # no common scale: Python ints
    (0.123456789, [9e12, 1e12, 5e12], [True, False, False]),  # total × 10**9 beyond int64
    (0.6, [9e12, 1e12, 5e12], [True, False, False]),         # 9 of 15 is exactly 60 %: out
])
def test_top_share_sums_are_exact(share, amounts, expected):
    assert list(portfolio.top_share(pd.Series(amounts), share)) == expected


def test_integers_are_the_typed_amounts_on_one_scale():
    assert list(exact.integers(np.array([8017.98, 1.5, 0.0]))) == [801798, 150, 0]
    big = exact.integers(np.array([1e-7, 3e300]))
    assert big.dtype == object and big[1] == 3 * 10 ** 307 and big[0] == 1


@pytest.mark.parametrize("condition, account, fires", [
    ("revenue / potential < 10%", {"revenue": 1000.01, "potential": 10000.1}, False),
    ("revenue / potential >= 10%", {"revenue": 1000.01, "potential": 10000.1}, True),
    ("revenue / potential == 0.1", {"revenue": 1000.01, "potential": 10000.1}, True),
    ("revenue * 0.1 == 100.001", {"revenue": 1000.01}, True),
    ("revenue + potential == 0.3", {"revenue": 0.1, "potential": 0.2}, True),
    ("revenue - potential == 0.01", {"revenue": 1000.01, "potential": 1000}, True),
    ("revenue / potential > 0.7%", {"revenue": 7, "potential": 1000}, False),
    ("revenue / potential >= 0.7%", {"revenue": 7, "potential": 1000}, True),
    ("revenue > potential * 0.1", {"revenue": 1000.01, "potential": 10000.1}, False),
    ("revenue >= potential * 0.1", {"revenue": 1000.01, "potential": 10000.1}, True),
    ("revenue * 3 > potential", {"revenue": 0.1, "potential": 0.3}, False),
    ("(revenue + potential) / 2 in [0.15, 1]", {"revenue": 0.1, "potential": 0.2}, True),
    ("revenue - 0.1 - 0.2 == 0", {"revenue": 0.3}, True),
    ("revenue / (0.1 + 0.2 - 0.3) > 0", {"revenue": 1}, False),   # a division by zero
])
@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_rule_arithmetic_is_decimal_on_both_engines(tmp_path, plugins, engine, condition,
                                                    account, fires):
    path = tmp_path / "r.yaml"
    path.write_text(f"rules:\n  - id: r\n    when: '{condition}'\n    then: {{flag: hit}}\n"
                    "    why: Test.\n", encoding="utf-8")
    rs = load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    from dataclasses import replace

    from potentiel.config import Config
    config = replace(Config(), engine=engine)
    result = score_records([{"id": "X", "status": "client", **account}], plugins, rs, config)
    assert ("r" in result.rules.fired[0]) is fires


# ----------------------------------------------------------------------------- the bounds

amounts = st.integers(0, 10 ** 12).map(lambda c: c / 100)   # typed amounts with cents
shares = st.integers(0, 10 ** 4).map(lambda c: c / 10 ** 4)


@settings(max_examples=300, deadline=None)
@given(a=amounts, b=amounts.filter(lambda x: x > 0))
def test_a_quotient_is_the_float_nearest_to_the_decimal_one(a, b):
    got = exact.divide(np.array([a]), np.array([b]))[0]
    want = Decimal(repr(a)) / Decimal(repr(b))
    # the float may be off only where no threshold of 12 digits can tell (see exact.py)
    assert got == float(want) or not exact.near_decimal(exact.combine(
        "/", exact.leaf(np.array([a])), exact.leaf(np.array([b]))))[0]
    for t in (0.1, 0.2, 0.5, 0.25, 0.8, 1.0):
        assert (got < t) == (want < Decimal(repr(t)))
        assert (got == t) == (want == Decimal(repr(t)))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(amounts, min_size=1, max_size=8), share=shares)
def test_top_share_is_the_decimal_definition(values, share):
    got = list(portfolio.top_share(pd.Series(values), share))
    typed = [Decimal(repr(v)) for v in values]
    total = sum(typed)
    s = Decimal(repr(share))
    want = [v > 0 and sum(w for w in typed if w > v) < s * total for v in typed]
    assert got == want


# ----------------------------------------------------------------------------- confidence

# the message key of the thin-data count in the criteria-without-columns warning
THIN = (", and {n} of {total} rest on half of it or less, which the default "
        "rules (thin-data) keep out of A")


def revenue_and_trend_only(tmp_path, n=60):
    from helpers import write_workbook
    from potentiel import sample
    rows = [r for r in sample.make_accounts(400) if r[2] == "Client" and r[5] and r[6] and r[7]][:n]
    headers = ("Code client", "Raison sociale", "Statut", "CA N", "CA N-1", "CA N-2")
    return write_workbook(tmp_path / "few.xlsx", headers,
                          [[r[0], r[1], r[2], r[5], r[6], r[7]] for r in rows])


def test_absent_columns_count_as_unknown_so_a_file_with_revenue_and_trend_has_no_a(tmp_path):
    result, _ = score_file(revenue_and_trend_only(tmp_path), tmp_path / "out.xlsx")
    out = result.outputs
    # revenue 25 + trend 10 of the default 100: 35 % of the weight rests on known values
    assert set(out["Confidence"]) == {0.35}
    assert result.counts["A"] == 0 and (out["Flags"].str.contains("thin-data")).all()
    assert out["Score"].notna().all()              # the score still rests on what is known
    notes = [w for w in result.warnings if w.kind == "criteria-without-columns"]
    assert len(notes) == 1 and result.warnings[0] is notes[0]   # once, first
    assert result.language == "fr"  # French headers: the warning is the catalog's French
    # the input column a French user adds is "Potentiel" (the catalog's "Potential" is the
    # output header "Potentiel retenu", the potential Potentiel computed, not this input)
    for name in ("potential (Potentiel)", "solvency", "growth", "prescription",
                 "relationship", "accessibility"):
        assert name in notes[0].message
    assert fr(THIN, n=60, total=60) in notes[0].message
    assert "none of its inputs" not in " ".join(w.message for w in result.warnings)
    collect = out.loc[0, "To collect"]
    hint = fr(" (or {columns} and {last})", columns=FRENCH_TITLES["headcount"],
              last=FRENCH_TITLES["spend_per_employee"])
    assert collect.startswith(fr("add columns {columns}", columns="Potentiel" + hint + ", ")), \
        collect  # a French-headed file writes in French
    assert FRENCH_TITLES["relationship"] in collect


def test_a_weight_of_0_in_settings_leaves_absent_criteria_out_of_the_model(tmp_path):
    from helpers import write_workbook
    from potentiel import sample
    rows = [r for r in sample.make_accounts(400)
            if r[2] == "Client" and r[5] and r[6] and r[7]][:20]
    weights = [("Weight: potential", 0), ("Weight: solvency", 0), ("Weight: growth", 0),
               ("Weight: prescription", 0), ("Weight: relationship", 0),
               ("Weight: accessibility", 0)]
    path = write_workbook(tmp_path / "few.xlsx", ("id", "name", "status", "revenue", "revenue_n1",
                                                  "revenue_n2"),
                          [[r[0], r[1], r[2], r[5], r[6], r[7]] for r in rows], settings=weights)
    result, _ = score_file(path, tmp_path / "out.xlsx")
    assert set(result.outputs["Confidence"]) == {1.0}
    assert not any(w.kind == "criteria-without-columns" for w in result.warnings)
    assert (result.outputs["To collect"] == "").all()


def test_one_missing_column_is_named_in_to_collect(plugins):
    result = score_records([{"id": "X", "status": "client", "revenue": 9e5, "revenue_n1": 8e5,
                             "revenue_n2": 7e5, "payment_incidents": 0, "growth_pct": 5,
                             "prescription": 3, "relationship": 4, "distance_km": 10}],
                           plugins)
    out = result.outputs.loc[0]
    assert out["Confidence"] == 0.75
    assert out["To collect"] == ("add a Potential column (or Headcount and Spend per "
                                 "employee)")


def test_few_columns_case_says_once_why_no_account_is_a(tmp_path):
    work = tmp_path / "j.xlsx"
    shutil.copy(case("j_key_warning_hidden.xlsx"), work)
    result, _ = score_file(work, tmp_path / "out.xlsx")
    notes = [w for w in result.warnings if w.kind == "criteria-without-columns"]
    assert len(notes) == 1 and result.warnings[0] is notes[0]
    for name in ("solvency", "prescription", "relationship", "accessibility"):
        assert name in notes[0].message
    assert result.language == "fr"  # French headers: the warning is the catalog's French
    assert fr(THIN, n=len(result.category), total=len(result.category)) in notes[0].message
    assert result.counts["A"] == 0


@pytest.mark.parametrize("known, thin", [
    ({"revenue": 9e5, "potential": 1e6}, True),                           # exactly 50 %
    ({"revenue": 9e5, "potential": 1e6, "relationship": 5}, False),       # 55 %
])
def test_half_of_the_weight_or_less_is_at_most_b(plugins, known, thin):
    rs = load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    result = score_records([{"id": "X", "status": "client", **known}], plugins, rs)
    assert ("thin-data" in result.rules.fired[0]) is thin
    if thin:
        assert result.category[0] in ("B", "C", "D")
