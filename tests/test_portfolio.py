"""Portfolio definitions on hand-computed cases: penetration, Top 80 %, tiers, nearest rep."""

import math

import numpy as np
import pandas as pd
import pytest

from potentiel import portfolio
from potentiel.portfolio import MatrixTiers


def test_penetration_is_revenue_over_potential():
    pen = portfolio.penetration(pd.Series([500.0, 500, 500, np.nan, -50]),
                                pd.Series([2000.0, 0, np.nan, 1000, 1000]))
    assert pen[0] == 0.25                      # 500 / 2,000 = 25 %
    assert math.isnan(pen[1]) and math.isnan(pen[2])  # zero or missing potential: no division
    assert math.isnan(pen[3])                  # missing revenue
    assert pen[4] == 0.0                       # negative revenue counts as nothing won


@pytest.mark.parametrize("revenues, expected", [
    ([50, 30, 15, 5], [True, True, False, False]),        # 50+30 = 80 %: C has 80 % above it
    ([50, 25, 15, 10], [True, True, True, False]),        # C crosses 80 % (75 → 90): in
    ([10, 10, 10, 10, 10], [True] * 5),                    # equal revenues are treated alike
    ([100, 0, 0], [True, False, False]),
    ([0, 0], [False, False]),
])
def test_top_80_hand_computed(revenues, expected):
    assert list(portfolio.top_share(pd.Series(revenues, dtype=float))) == expected


def test_top_80_ignores_missing_and_negative_revenue_and_excluded_accounts():
    rev = pd.Series([np.nan, -10, 60, 40])
    assert list(portfolio.top_share(rev)) == [False, False, True, True]
    eligible = pd.Series([True, True, False, True])
    # without the excluded 60, 40 alone is the whole revenue
    assert list(portfolio.top_share(rev, eligible=eligible)) == [False, False, False, True]


def test_potential_tiers_use_configured_bounds():
    pot = pd.Series([100.0, 50, 10, np.nan])
    high, low = portfolio.potential_bounds(pot, MatrixTiers(potential_high=80, potential_low=20))
    assert (high, low) == (80, 20)
    assert list(portfolio.tier(pot, high, low, portfolio.POTENTIAL_TIERS)) == [
        "high", "medium", "low", None]


def test_potential_tiers_default_to_the_portfolios_thirds():
    pot = pd.Series([float(v) for v in range(1, 10)])
    high, low = portfolio.potential_bounds(pot, MatrixTiers())
    tiers = list(portfolio.tier(pot, high, low, portfolio.POTENTIAL_TIERS))
    assert tiers.count("high") == 3 and tiers.count("low") == 3


def test_penetration_tiers_and_fragility_zone():
    pen = pd.Series([0.1, 0.2, 0.49, 0.5, np.nan])
    t = portfolio.tier(pen, 0.5, 0.2, portfolio.PENETRATION_TIERS)
    assert list(t) == ["weak", "medium", "medium", "strong", None]
    labels = portfolio.matrix_label(pd.Series(["high", "high", "low", None, "high"]), t)
    assert labels[0] == "High potential, weak penetration: fragility zone"
    assert labels[1] == "High potential, medium penetration"
    assert labels[2] == "Low potential, medium penetration"
    assert labels[3] == ""
    assert labels[4] == "High potential, penetration unknown"


def _haversine_by_hand(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_nearest_rep_against_a_hand_computed_haversine():
    paris, lyon, marseille = (48.8566, 2.3522), (45.7640, 4.8357), (43.2965, 5.3698)
    reps = pd.DataFrame({"name": ["Paris rep", "Lyon rep"],
                         "latitude": [paris[0], lyon[0]], "longitude": [paris[1], lyon[1]]})
    acc = pd.DataFrame({"latitude": [marseille[0], 48.9, np.nan],
                        "longitude": [marseille[1], 2.4, 3.0]})
    names, km = portfolio.nearest_rep(acc, reps)
    assert names[0] == "Lyon rep"
    assert km[0] == pytest.approx(_haversine_by_hand(*marseille, *lyon), rel=1e-9)
    assert 270 < km[0] < 280  # Lyon–Marseille, as the crow flies
    assert names[1] == "Paris rep"
    assert names[2] is None and math.isnan(km[2])
    # and the well-known Paris–Lyon distance
    assert portfolio.haversine_km(*paris, *lyon) == pytest.approx(391.5, abs=1.0)
