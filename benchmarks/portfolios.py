"""Synthetic portfolios for the benchmarks, generated column by column from a seed.

Every input field is filled with a realistic distribution: heavy-tailed revenue
(log-normal), revenue history around a trend, potential above revenue, ratings and
incidents, coordinates around French cities, about 5 % of accounts 600 km or more from the
nearest rep, and a few percent of blanks in every column, as in real files.
"""

from __future__ import annotations

import numpy as np

from potentiel.sample import CITIES, FAR, RATINGS, REPS, SECTORS

HEADERS = ("id", "name", "status", "salesperson", "sector", "revenue", "revenue_n1",
           "revenue_n2", "potential", "headcount", "spend_per_employee", "payment_incidents",
           "dso_days", "credit_rating", "growth_pct", "prescription", "relationship",
           "distance_km", "latitude", "longitude", "competitors")


def columns(n: int, seed: int = 2026) -> dict[str, np.ndarray]:
    """``n`` accounts as columns (object arrays with None for blanks)."""
    rng = np.random.default_rng(seed)

    def blanks(values: np.ndarray, share: float) -> np.ndarray:
        out = values.astype(object)
        out[rng.random(n) < share] = None
        return out

    status = rng.choice(np.array(["client", "prospect", "suspect"], dtype=object), n,
                        p=[0.75, 0.2, 0.05])
    revenue = np.round(rng.lognormal(10.3, 1.4, n), -1)
    revenue[status != "client"] = 0.0
    g1, g2 = rng.normal(0.03, 0.18, n), rng.normal(0.02, 0.15, n)
    rev1 = np.round(revenue / (1 + g1), -1)
    rev2 = np.round(rev1 / (1 + g2), -1)
    headcount = np.round(rng.lognormal(3.6, 1.2, n)) + 1
    spend = np.round(rng.uniform(120, 900, n))
    potential = np.round(np.maximum(revenue * rng.uniform(1.1, 6.0, n), headcount * spend), -2)
    far = rng.random(n) < 0.05
    cities = np.array([c[1:] for c in CITIES])
    far_places = np.array([c[1:] for c in FAR])
    base = np.where(far[:, None], far_places[rng.integers(len(FAR), size=n)],
                    cities[rng.integers(len(CITIES), size=n)])
    lat = np.round(base[:, 0] + rng.normal(0, 0.15, n), 4)
    lon = np.round(base[:, 1] + rng.normal(0, 0.15, n), 4)
    distance = np.where(far, np.round(rng.uniform(620, 950, n)), np.round(rng.gamma(2.0, 60, n)))
    has_distance = rng.random(n) < 0.3  # the rest is computed from coordinates
    ids = np.char.add("A", np.char.zfill(np.arange(1, n + 1).astype(str), 6)).astype(object)
    names = np.char.add("Account ", np.arange(1, n + 1).astype(str)).astype(object)
    reps = np.array([r[0] for r in REPS], dtype=object)
    return {
        "id": ids,
        "name": names,
        "status": status,
        "salesperson": reps[rng.integers(len(reps), size=n)],
        "sector": np.array(SECTORS, dtype=object)[rng.integers(len(SECTORS), size=n)],
        "revenue": blanks(revenue, 0.02),
        "revenue_n1": blanks(rev1, 0.08),
        "revenue_n2": blanks(rev2, 0.15),
        "potential": blanks(potential, 0.4),
        "headcount": blanks(headcount, 0.1),
        "spend_per_employee": blanks(spend, 0.2),
        "payment_incidents": blanks(rng.poisson(0.8, n).astype(float), 0.1),
        "dso_days": blanks(np.round(rng.gamma(3.0, 15, n)), 0.1),
        "credit_rating": blanks(np.array(RATINGS, dtype=object)[rng.integers(len(RATINGS), size=n)], 0.25),
        "growth_pct": blanks(np.round(rng.normal(4, 9, n), 1), 0.2),
        "prescription": blanks(rng.integers(0, 6, n).astype(float), 0.1),
        "relationship": blanks(rng.integers(1, 6, n).astype(float), 0.1),
        "distance_km": np.where(has_distance, distance, None).astype(object),
        "latitude": np.where(has_distance, None, lat).astype(object),
        "longitude": np.where(has_distance, None, lon).astype(object),
        "competitors": blanks(rng.poisson(1.2, n).astype(float), 0.15),
    }


def rows(n: int, seed: int = 2026) -> list[list[object]]:
    """The same portfolio as rows in `HEADERS` order (plain Python values)."""
    cols = columns(n, seed)
    lists = [[None if v is None else (float(v) if isinstance(v, np.floating) else v)
              for v in cols[h].tolist()] for h in HEADERS]
    return [list(r) for r in zip(*lists)]


def reps() -> list[list[object]]:
    return [[name, lat, lon] for name, lat, lon in REPS]
