"""The nine built-in criteria: hand-computed scores, reasons, blanks, edge cases, contract."""

from __future__ import annotations

import ast
import importlib
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel import Criterion, Derivation, Scored
from potentiel.fields import BUILTIN_FIELDS
from potentiel.plugins import _scales

PLUGINS_DIR = Path(__file__).resolve().parent.parent / "plugins"
MODULES = ("revenue", "trend", "potential", "penetration", "solvency", "growth",
           "prescription", "relationship", "accessibility")
DEFAULT_WEIGHTS = {"revenue": 25, "trend": 10, "potential": 25, "penetration": 0,
                   "solvency": 10, "growth": 10, "prescription": 10, "relationship": 5,
                   "accessibility": 5}


def criterion(name: str) -> Criterion:
    got: list = []
    importlib.import_module(f"potentiel.plugins.{name}").register_criteria(register=got.append)
    return got[0]


def table(**columns) -> pd.DataFrame:
    """A small accounts table; numbers become float64 like the core hands them over."""
    frame = pd.DataFrame(columns)
    for col in frame:
        if frame[col].dtype.kind in "iub":
            frame[col] = frame[col].astype("float64")
    return frame


def run(name: str, accounts: pd.DataFrame, **params) -> Scored:
    crit = criterion(name)
    for inp in crit.inputs:  # the core passes every declared input, blank if absent
        if inp.name not in accounts:
            accounts[inp.name] = np.nan if inp.numeric else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = crit.score(accounts, crit.resolve_params(params))
    assert isinstance(out, Scored)
    assert out.score.index.equals(accounts.index)
    assert out.reason.index.equals(accounts.index)
    assert out.score.dtype == "float64"
    return out


def scores(out: Scored) -> list:
    return [None if math.isnan(v) else round(v, 2) for v in out.score]


# --- revenue and potential -----------------------------------------------------------

def test_revenue_log_scale_between_fixed_bounds():
    out = run("revenue", table(revenue=[1_000, 10_000, 100_000, 0, -5, np.nan, 1e7]),
              low=1_000, high=100_000)
    assert scores(out) == [0, 50, 100, 0, 0, None, 100]
    assert list(out.reason) == [
        "revenue 1 k€, bottom 50 %", "revenue 10 k€, top 50 %", "revenue 100 k€, top 34 %",
        "no revenue", "negative revenue (-5 €)", "revenue unknown", "revenue 10 M€, top 17 %"]


def test_revenue_scale_defaults_to_portfolio_percentiles():
    revenue = np.arange(1, 101) * 1_000.0
    out = run("revenue", table(revenue=np.append(revenue, [0.0, np.nan])))
    low, high = np.quantile(revenue, [0.10, 0.95])
    expected = np.clip(100 * (np.log(revenue) - np.log(low)) / (np.log(high) - np.log(low)), 0, 100)
    assert np.allclose(out.score.iloc[:100], expected)
    assert out.score.iloc[100] == 0 and math.isnan(out.score.iloc[101])
    assert out.reason.iloc[99] == "revenue 100 k€, top 1 %"


def test_revenue_falls_back_to_linear_when_percentiles_coincide():
    revenue = np.array([2_500.0, 0.0, 5_000.0] + [5_000.0] * 30)
    # The 10th and 95th percentiles of positive revenues are both 5,000: no span for a log
    # scale, so it is linear from 0 to 5,000.
    assert _scales.portfolio_bounds(revenue, None, None) == (5_000, 5_000)
    out = run("revenue", table(revenue=revenue))
    assert scores(out)[:3] == [50, 0, 100]


def test_revenue_rejects_low_above_high():
    with pytest.raises(ValueError, match="low .* must be below high"):
        run("revenue", table(revenue=[1.0]), low=10, high=5)


def test_potential_scored_like_revenue():
    out = run("potential", table(potential=[2_000, 20_000, 200_000, np.nan, 0]),
              low=2_000, high=200_000)
    assert scores(out) == [0, 50, 100, None, 0]
    assert out.reason.iloc[2] == "potential 200 k€, top 25 %"
    assert out.reason.iloc[3] == "potential unknown"
    assert out.reason.iloc[4] == "no potential"


def test_potential_derivation_is_headcount_times_spend():
    module = importlib.import_module("potentiel.plugins.potential")
    got: list = []
    module.register_derivations(register=got.append)
    assert len(got) == 1
    der = got[0]
    assert isinstance(der, Derivation)
    assert der.field == "potential"
    assert tuple(der.inputs) == ("headcount", "spend_per_employee")
    accounts = table(headcount=[200, np.nan, 10], spend_per_employee=[300, 50, np.nan],
                     potential=[1.0, 2.0, 3.0])
    values = der.compute(accounts, None)
    # It computes for every account; keeping a typed potential is the core's job.
    assert values.iloc[0] == 60_000 and values.isna().tolist() == [False, True, True]


@pytest.mark.parametrize("value, text", [
    (850, "850 €"), (999.6, "1 k€"), (1_234, "1.2 k€"), (9_999, "10 k€"), (180_400, "180 k€"),
    (1_234_567, "1.2 M€"), (45_600_000, "46 M€"), (2.5e9, "2.5 bn€"), (-2_000, "-2 k€"),
    (0, "0 €")])
def test_money_is_rounded_and_short(value, text):
    assert _scales.money(float(_scales.round_money(np.array([float(value)]))[0])) == text


def test_reason_numbers_round_half_away_from_zero():
    assert list(_scales.shown(np.array([32.5, -2.5, 0.25, np.nan]), 0)[:2]) == [33, -3]
    assert _scales.shown(np.array([0.25]), 1)[0] == 0.3
    assert _scales.shown(np.array([325.0]), -1)[0] == 330
    assert np.isnan(_scales.shown(np.array([np.nan]))[0])


# --- trend ---------------------------------------------------------------------------

def test_trend_weights_last_year_most():
    out = run("trend", table(revenue=[112, 90, 300, 50, 0, 100, np.nan, 100, 80],
                             revenue_n1=[100, 100, 100, 0, 0, np.nan, 100, 100, 100],
                             revenue_n2=[100 / 1.05, np.nan, 100, 10, 0, 100, 100, 0, 100]))
    # 0.6 × 12 % + 0.4 × 5 % = 9.2 %, over full_at 20 %: 50 + 50 × 0.46 = 73.
    # -10 % alone: 25. +200 %: capped at 100. New revenue: 100. Nothing both years: 50.
    # N-2 of 0 cannot give a growth: last year alone (flat → 50).
    # 0.6 × -20 % + 0.4 × 0 % = -12 %: 50 - 30 = 20.
    assert scores(out) == [73, 25, 100, 100, 50, None, None, 50, 20]
    assert list(out.reason) == [
        "+12 % vs N-1, +5 % the year before", "-10 % vs N-1", "+200 % vs N-1, 0 % the year before",
        "new revenue (none in N-1)", "no revenue in N or N-1", "no trend: revenue N-1 unknown",
        "no trend: revenue N unknown", "0 % vs N-1", "-20 % vs N-1, 0 % the year before"]


def test_trend_params():
    out = run("trend", table(revenue=[110], revenue_n1=[100], revenue_n2=[np.nan]),
              full_at=0.10)
    assert scores(out) == [100]
    with pytest.raises(ValueError, match="full_at"):
        run("trend", table(revenue=[1.0], revenue_n1=[1.0]), full_at=0)


# --- penetration ---------------------------------------------------------------------

def test_penetration_share_of_wallet():
    out = run("penetration", table(revenue=[500, 3_000, -100, np.nan, 500, 500, 500, 5],
                                   potential=[2_000, 2_000, 2_000, 2_000, 0, -10, np.nan, 2_000]))
    assert scores(out) == [41.67, 100, 0, None, None, None, None, 0.42]
    assert list(out.reason) == [
        "share of wallet 25 %", "revenue above potential (150 %): check the potential",
        "share of wallet 0 % (negative revenue)", "no revenue figure: penetration unknown",
        "no potential: penetration unknown", "no potential: penetration unknown",
        "no potential: penetration unknown", "share of wallet 0.3 %"]


def test_penetration_full_at_param():
    out = run("penetration", table(revenue=[500], potential=[2_000]), full_at=0.5)
    assert scores(out) == [50]


# --- solvency ------------------------------------------------------------------------

def test_solvency_combines_three_components():
    out = run("solvency", table(payment_incidents=[2], dso_days=[75], credit_rating=["BBB"]))
    # incidents 100 - 2 × 25 = 50; DSO (120 - 75) / 90 = 50; BBB is 9th of 22 grades: 61.9.
    assert scores(out) == [round(0.4 * 50 + 0.3 * 50 + 0.3 * 100 * (1 - 8 / 21), 2)]
    assert out.reason.iloc[0] == "2 payment incidents, DSO 75 days, rating BBB"


def test_solvency_dso_interpolates_between_good_and_bad():
    out = run("solvency", table(dso_days=[0, 30, 60, 75, 120, 200, np.nan]))
    assert scores(out) == [100, 100, 66.67, 50, 0, 0, None]
    assert out.reason.iloc[2] == "DSO 60 days"
    assert out.reason.iloc[6] == "no solvency data"
    out = run("solvency", table(dso_days=[45]), dso_good=45, dso_bad=90)
    assert scores(out) == [100]


def test_solvency_incidents_floor_at_zero():
    out = run("solvency", table(payment_incidents=[0, 1, 3, 4, 9]))
    assert scores(out) == [100, 75, 25, 0, 0]
    assert list(out.reason[:2]) == ["no payment incident", "1 payment incident"]


@pytest.mark.parametrize("rating, expected", [
    ("AAA", 100), ("aa+", 95.24), ("BBB", 61.9), ("BBB-", 57.14), ("D", 0), ("CCC", 19.05),
    ("Baa2", 61.9), ("14/20", 70), ("3/5", 60), ("14", 70), ("7.5", 37.5), ("7,5", 37.5),
    ("70 %", 70), ("faible", 100), ("Risque élevé", 0), ("moyen", 50), ("low risk", 100),
    ("HIGH", 0), ("Medium", 50), ("XYZ", None), ("25/20", None), ("25", None)])
def test_solvency_rating_mapping(rating, expected):
    # BBB in the portfolio means single letters are agency grades ("D" is default).
    out = run("solvency", table(credit_rating=[rating, "BBB"]))
    assert scores(out)[0] == expected


def test_solvency_simple_letter_scale():
    out = run("solvency", table(credit_rating=["A", "b", "C", "D", None]))
    assert scores(out) == [100, 66.67, 33.33, 0, None]
    # With agency grades around, "A" is the agency's A (6th of 22 grades).
    out = run("solvency", table(credit_rating=["A", "AA"]))
    assert scores(out) == [76.19, 90.48]


def test_solvency_unknown_rating_is_blank_and_said():
    out = run("solvency", table(payment_incidents=[np.nan, 0], dso_days=[np.nan, np.nan],
                                credit_rating=["XYZ", "XYZ"]))
    assert scores(out) == [None, 100]  # weights renormalised over what is known
    assert out.reason.iloc[0] == 'rating "XYZ" not understood'
    assert out.reason.iloc[1] == 'no payment incident, rating "XYZ" not understood'


def test_solvency_weights_can_be_overridden_one_at_a_time():
    accounts = table(payment_incidents=[0], dso_days=[120], credit_rating=["D"])
    assert scores(run("solvency", accounts.copy())) == [40]
    assert scores(run("solvency", accounts.copy(), weights={"dso": 0})) == [round(40 / 0.7, 2)]
    with pytest.raises(ValueError, match="unknown weight"):
        run("solvency", accounts.copy(), weights={"incidnets": 1})


def test_solvency_reads_pandas_string_columns():
    ratings = pd.Series(["BBB", None, "14/20"], dtype="str")
    out = run("solvency", pd.DataFrame({"credit_rating": ratings}))
    assert scores(out) == [61.9, None, 70]


# --- growth --------------------------------------------------------------------------

def test_growth_linear_between_low_and_high():
    out = run("growth", table(growth_pct=[-20, -10, 5, 12, 20, 50, np.nan, 2.5]))
    assert scores(out) == [0, 0, 50, 73.33, 100, 100, None, 41.67]
    assert list(out.reason[[3, 6, 7]]) == ["+12 % growth", "growth unknown", "+2.5 % growth"]


def test_growth_sector_outlook_adds_points():
    out = run("growth", table(growth_pct=[5, 5, 20, np.nan, 5],
                              sector=["Retail", "  SANTÉ ", "retail", "Retail", None]),
              sector_outlook={"RETAIL": 10, "Santé": -5})
    assert scores(out) == [60, 45, 100, None, 50]
    assert list(out.reason) == ["+5 % growth, Retail outlook +10", "+5 % growth, SANTÉ outlook -5",
                                "+20 % growth, retail outlook +10", "growth unknown",
                                "+5 % growth"]


# --- prescription and relationship ---------------------------------------------------

def test_prescription_times_twenty():
    out = run("prescription", table(prescription=[0, 2.5, 4, 5, 7, -1, np.nan]))
    assert scores(out) == [0, 50, 80, 100, 100, 0, None]
    assert list(out.reason[[1, 2, 6]]) == ["prescription 2.5/5", "prescription 4/5",
                                           "prescription not rated"]


def test_relationship_one_to_five():
    out = run("relationship", table(relationship=[1, 2, 3, 5, 7, 0, np.nan]))
    assert scores(out) == [0, 25, 50, 100, 100, 0, None]
    assert list(out.reason[[2, 6]]) == ["relationship 3/5", "relationship not rated"]


# --- accessibility -------------------------------------------------------------------

def test_accessibility_combines_distance_and_competitors():
    out = run("accessibility", table(distance_km=[420, 30, 700, np.nan, np.nan, 325],
                                     competitors=[2, 0, np.nan, 1, np.nan, 5],
                                     nearest_rep=["Paul Martin", None, "Anne Roy", "Anne Roy",
                                                  None, " "]))
    distance = (600 - 420) / 550 * 100  # 32.7
    assert scores(out) == [round(0.7 * distance + 0.3 * 50, 2), 100, 0, 75, None, 35]
    assert list(out.reason) == [
        "420 km from Paul Martin, 2 entrenched competitors",
        "30 km from the nearest rep, no entrenched competitor",
        "700 km from Anne Roy", "distance unknown, 1 entrenched competitor",
        "distance and competitors unknown", "325 km from the nearest rep, 5 entrenched competitors"]


def test_accessibility_names_the_rep_only_for_the_rep_distance():
    # A typed distance wins over the computed one; the computed nearest rep is then not
    # the one that distance is to.
    out = run("accessibility", table(distance_km=[420, 80], competitors=[np.nan, np.nan],
                                     nearest_rep=["Paul Martin", "Paul Martin"],
                                     nearest_rep_km=[420.2, 35.0]))
    assert list(out.reason) == ["420 km from Paul Martin", "80 km from the nearest rep"]


def test_accessibility_negative_competitors_count_as_none():
    out = run("accessibility", table(distance_km=[20.0], competitors=[-3.0]))
    assert scores(out) == [100]
    assert out.reason.iloc[0] == "20 km from the nearest rep, no entrenched competitor"


def test_accessibility_without_rep_column_and_params():
    out = run("accessibility", table(distance_km=[100.0], competitors=[1.0]),
              near_km=100, per_competitor=50, weights={"distance": 1, "competitors": 1})
    assert scores(out) == [75]
    assert out.reason.iloc[0] == "100 km from the nearest rep, 1 entrenched competitor"
    with pytest.raises(ValueError, match="far_km"):
        run("accessibility", table(distance_km=[1.0]), near_km=700)


# --- every criterion -----------------------------------------------------------------

NEEDED = {  # where the score must be NaN: the inputs it needs are missing
    "revenue": lambda a: a.revenue.isna(),
    "trend": lambda a: a.revenue.isna() | a.revenue_n1.isna(),
    "potential": lambda a: a.potential.isna(),
    "penetration": lambda a: a.revenue.isna() | ~(a.potential > 0),
    "solvency": lambda a: a.payment_incidents.isna() & a.dso_days.isna() & (
        a.credit_rating.isna() | a.credit_rating.isin(UNREADABLE_RATINGS)),
    "growth": lambda a: a.growth_pct.isna(),
    "prescription": lambda a: a.prescription.isna(),
    "relationship": lambda a: a.relationship.isna(),
    "accessibility": lambda a: a.distance_km.isna() & a.competitors.isna(),
}
UNREADABLE_RATINGS = ["XYZ", "", "  ", "0/0", "99", "-3"]
NUMERIC = ("revenue", "revenue_n1", "revenue_n2", "potential", "payment_incidents", "dso_days",
           "growth_pct", "prescription", "relationship", "distance_km", "competitors")
odd_numbers = st.one_of(
    st.just(np.nan), st.just(0.0), st.just(-0.0), st.just(1e300), st.just(-1e300),
    st.just(1e-300), st.sampled_from([1.0, 2.0, 5.0, 30.0, 120.0, 600.0, -1.0, -50.0]),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
ratings = st.one_of(st.none(), st.sampled_from(
    ["AAA", "BBB-", "A", "D", "14/20", "3/5", "0/0", "faible", "élevé", "XYZ", "", "  ", "Baa1",
     "99", "-3"]))


@st.composite
def accounts_tables(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    data = {col: draw(st.lists(odd_numbers, min_size=n, max_size=n)) for col in NUMERIC}
    data["credit_rating"] = draw(st.lists(ratings, min_size=n, max_size=n))
    data["sector"] = draw(st.lists(st.sampled_from([None, "Retail", "retail ", "Other"]),
                                   min_size=n, max_size=n))
    data["nearest_rep"] = draw(st.lists(st.sampled_from([None, "Paul Martin", ""]),
                                        min_size=n, max_size=n))
    frame = pd.DataFrame(data, index=pd.Index([f"C{i}" for i in range(n)], dtype=object))
    for col in NUMERIC:
        frame[col] = frame[col].astype("float64")
    for col in ("credit_rating", "sector", "nearest_rep"):
        frame[col] = frame[col].astype(object)
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts=accounts_tables())
def test_scores_in_range_and_blank_exactly_where_inputs_are_missing(accounts):
    before = accounts.copy()
    for name in MODULES:
        params = {"sector_outlook": {"retail": 30}} if name == "growth" else {}
        out = run(name, accounts, **params)
        s = out.score.to_numpy()
        known = ~np.isnan(s)
        assert ((s[known] >= 0) & (s[known] <= 100)).all(), name
        blank = NEEDED[name](accounts).to_numpy(dtype=bool)
        assert (~known == blank).all(), (name, accounts[~known != blank])
        for text in out.reason:
            assert isinstance(text, str) and text.strip(), (name, text)
    pd.testing.assert_frame_equal(accounts, before)  # criteria never change the table


@pytest.mark.parametrize("name", MODULES)
def test_empty_table(name):
    out = run(name, pd.DataFrame({c: pd.Series([], dtype="float64") for c in NUMERIC}))
    assert len(out.score) == 0 and len(out.reason) == 0


@pytest.mark.parametrize("name", MODULES)
def test_all_blank_column_scores_nan_with_a_reason(name):
    accounts = pd.DataFrame(index=pd.RangeIndex(3))
    out = run(name, accounts)
    assert out.score.isna().all()
    assert all(isinstance(r, str) and r for r in out.reason)


@pytest.mark.parametrize("name", MODULES)
def test_module_registers_one_criterion_named_after_it(name):
    module = importlib.import_module(f"potentiel.plugins.{name}")
    got: list = []
    module.register_criteria(register=got.append)
    assert len(got) == 1
    crit = got[0]
    assert isinstance(crit, Criterion) and crit.name == name
    assert crit.default_weight == DEFAULT_WEIGHTS[name]
    assert crit.label and crit.description and "\n" not in crit.description
    known = {f.name: f.type for f in BUILTIN_FIELDS}
    for inp in crit.inputs:
        assert known[inp.name] == inp.type, (name, inp.name)
    for key, param in crit.params.items():
        assert param.description, (name, key)
    assert module.__doc__ and len(module.__doc__.strip().splitlines()) > 2
    assert hasattr(module, "register_derivations") == (name == "potential")


ALLOWED_IMPORTS = {"__future__", "collections", "collections.abc", "math", "re", "typing",
                   "unicodedata", "numpy", "pandas", "potentiel", "potentiel.plugins._scales"}


@pytest.mark.parametrize("path", sorted(PLUGINS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_plugins_import_only_the_public_api(path):
    if path.name == "__init__.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            names = [node.module]
        else:
            continue
        for name in names:
            assert name in ALLOWED_IMPORTS, f"{path.name} imports {name}"


def test_large_table_gives_few_distinct_reasons():
    # Not a timing test: 20,000 accounts go through every criterion, and the reasons stay
    # few because they are formatted per distinct rounded value.
    rng = np.random.default_rng(0)
    n = 20_000
    accounts = table(revenue=np.round(np.exp(rng.normal(11, 1.5, n))),
                     revenue_n1=np.round(np.exp(rng.normal(11, 1.5, n))),
                     potential=np.round(np.exp(rng.normal(12, 1.5, n))),
                     dso_days=np.round(rng.gamma(4, 15, n)), distance_km=rng.uniform(0, 900, n))
    for name in MODULES:
        out = run(name, accounts.copy())
        assert len(out.score) == n
        assert out.reason.nunique() < n / 2, name
