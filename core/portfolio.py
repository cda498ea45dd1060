"""Portfolio views: nearest rep, penetration, the potential × penetration matrix, Top 80 %.

All computed on whole columns. Definitions (tested on hand-computed cases):

- penetration = revenue ÷ potential (potential 2,000 and revenue 500 give 25 %); blank when
  the potential is missing, zero or negative (never a division error);
- the potential tier is high / medium / low against two amounts (by default the portfolio's
  own thirds), the penetration tier strong / medium / weak against two shares (50 % and
  20 % by default); high potential with weak penetration is the *fragility zone*;
- an account is in the Top 80 % when the accounts with strictly more revenue make less than
  80 % of the total revenue, so the account that crosses 80 % is in, and equal revenues are
  treated alike;
- the nearest rep is the salesperson whose base is closest by great-circle (haversine)
  distance, on a sphere of radius 6,371 km; with a detour factor (Settings), the distance
  rules and criteria see is that km × the factor, an estimate of the road distance.

Exact at the edges: penetration is the decimal quotient of the typed amounts (see
`exact`), so 2,000.02 of 10,000.10 is exactly 20 %, "medium" and not "weak"; the Top 80 %
sums are exact sums of the typed amounts, so three accounts making exactly 80.00 % of the
revenue (with cents) leave the fourth out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import exact

EARTH_RADIUS_KM = 6371.0
POTENTIAL_TIERS = ("high", "medium", "low")
PENETRATION_TIERS = ("strong", "medium", "weak")
FRAGILITY = ("high", "weak")


@dataclass
class MatrixTiers:
    """Tier bounds. Potential bounds are amounts (None: the portfolio's thirds); penetration
    bounds are shares (0.5 = 50 %)."""

    potential_high: float | None = None
    potential_low: float | None = None
    penetration_strong: float = 0.5
    penetration_weak: float = 0.2


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km; arrays broadcast (degrees in, km out)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _haversine_from(la: np.ndarray, lo: np.ndarray, cos_la: np.ndarray, lat2: float,
                    lon2: float) -> np.ndarray:
    """`haversine_km` from accounts already in radians (``cos_la``: cos of ``la``) to one
    point in degrees."""
    return _km_of(_haversine_a(la, lo, cos_la, lat2, lon2))


def _haversine_a(la: np.ndarray, lo: np.ndarray, cos_la: np.ndarray, lat2: float,
                 lon2: float) -> np.ndarray:
    """The haversine of `_haversine_from` before its arc: the km grow with it."""
    lat2 = np.radians(np.asarray(lat2, dtype=float))
    lon2 = np.radians(np.asarray(lon2, dtype=float))
    return (np.sin((lat2 - la) / 2) ** 2
            + cos_la * np.cos(lat2) * np.sin((lon2 - lo) / 2) ** 2)


def _km_of(a: np.ndarray) -> np.ndarray:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def nearest_rep(accounts: pd.DataFrame, reps: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Name and distance (km) of the closest rep for each account with coordinates."""
    index = accounts.index
    names = pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object)
    km = pd.Series(np.nan, index=index)
    if reps is None or len(reps) == 0 or "latitude" not in accounts or "longitude" not in accounts:
        return names, km
    # the reps with both coordinates (what dropna on them keeps), in numpy
    rlat, rlon = reps["latitude"].to_numpy(), reps["longitude"].to_numpy()
    placed = ~(np.asarray(pd.isna(rlat), dtype=bool) | np.asarray(pd.isna(rlon), dtype=bool))
    if not placed.any():
        return names, km
    lat = accounts["latitude"].to_numpy(dtype=float)
    lon = accounts["longitude"].to_numpy(dtype=float)
    ok = ~(np.isnan(lat) | np.isnan(lon))
    if not ok.any():
        return names, km
    rlat = rlat[placed].astype(float)
    rlon = rlon[placed].astype(float)
    rnames = reps["name"].to_numpy(dtype=object)[placed]
    best = np.full(int(ok.sum()), np.inf)
    best_a = np.full(len(best), np.inf)  # the haversine of the best so far
    who = np.zeros(int(ok.sum()), dtype=int)
    # the accounts' side of the formula once, for every rep (the same operations, so the
    # same distances to the last bit as `haversine_km`)
    la, lo = np.radians(lat[ok]), np.radians(lon[ok])
    cos_la = np.cos(la)
    # One rep at a time keeps memory at O(accounts) whatever the number of reps. The km
    # grow with the haversine: a rep is computed to the km only where its haversine is
    # not clearly above the best one's (a margin far above arcsin's few ulps of error),
    # and taken, as before, where its km are strictly fewer.
    for j in range(len(rlat)):
        a = _haversine_a(la, lo, cos_la, rlat[j], rlon[j])
        maybe = np.flatnonzero(a < best_a * (1 + 1e-9))
        d = _km_of(a[maybe])
        fewer = d < best[maybe]
        closer = maybe[fewer]
        best[closer] = d[fewer]
        best_a[closer] = a[closer]
        who[closer] = j
    at = np.full(len(index), np.nan)
    at[ok] = best
    who_name = np.full(len(index), None, dtype=object)
    who_name[ok] = rnames[who]
    return pd.Series(who_name, index=index, dtype=object), pd.Series(at, index=index)


def by_road(km: pd.Series, factor: float = 1.0) -> pd.Series:
    """Road km as estimated from great-circle km: ``km × factor`` (the Settings ``Detour
    factor``, 1 by default, about 1.25 for roads in France). NaN stays NaN."""
    if factor == 1:
        return km.copy()
    return km * float(factor)


def penetration(revenue: pd.Series, potential: pd.Series) -> pd.Series:
    """revenue ÷ potential (a share, 0.25 = 25 %) as decimal arithmetic on the typed
    amounts gives it; NaN where potential is missing or ≤ 0 or revenue is missing."""
    pot = potential.to_numpy(dtype=float)
    rev = np.clip(revenue.to_numpy(dtype=float), 0, None)
    valid = pot > 0
    out = np.full(len(pot), np.nan)
    # Whole amounts below 2**53 are exact floats, and IEEE division rounds their quotient
    # correctly; that quotient is never within 10**-30 (relative) of a midpoint between
    # two floats, so the 60-digit decimal quotient rounds to the same float: no `decimal`
    # step is needed for them (most amounts are whole euros).
    with np.errstate(invalid="ignore"):
        whole = valid & (rev == np.round(rev)) & (pot == np.round(pot)) & \
            (rev < 2.0 ** 53) & (pot < 2.0 ** 53)
    out[whole] = rev[whole] / pot[whole]
    rest = valid & ~whole
    out[rest] = exact.divide(rev[rest], pot[rest])
    return pd.Series(out, index=revenue.index)


def potential_bounds(potential: pd.Series, tiers: MatrixTiers) -> tuple[float, float]:
    """(high, low) amounts: the configured ones, else the portfolio's thirds."""
    known = potential[potential > 0].astype(float)
    high, low = tiers.potential_high, tiers.potential_low
    if high is None and low is None and len(known):  # both thirds in one pass
        low, high = (float(x) for x in known.quantile([1 / 3, 2 / 3]).tolist())
    if high is None:
        high = float(known.quantile(2 / 3)) if len(known) else np.inf
    if low is None:
        low = float(known.quantile(1 / 3)) if len(known) else 0.0
    return high, min(low, high)


def tier(values: pd.Series, high: float, low: float, names: tuple[str, str, str]) -> pd.Series:
    """names[0] where value ≥ high, names[2] where value < low, names[1] between; None if NaN.

    Plain float comparisons are exact here: the values are typed amounts or exact
    quotients (`penetration`), and the bounds typed shares or amounts."""
    v = values.to_numpy(dtype=float)
    out = np.full(len(v), None, dtype=object)
    out[v >= high] = names[0]
    out[(v < low)] = names[2]
    mid = (v < high) & (v >= low)
    out[mid] = names[1]
    return pd.Series(out, index=values.index, dtype=object)


def matrix_label(pot_tier: pd.Series, pen_tier: pd.Series) -> pd.Series:
    """``High potential, weak penetration: fragility zone`` style cell text."""
    def label(pot: object, pen: object) -> str:
        if not isinstance(pot, str):
            return ""
        if not isinstance(pen, str):
            return f"{pot.capitalize()} potential, penetration unknown"
        text = f"{pot.capitalize()} potential, {pen} penetration"
        return text + ": fragility zone" if (pot, pen) == FRAGILITY else text

    # few distinct (potential, penetration) pairs: each label is built once
    pot_codes, pots = pd.factorize(pot_tier.astype(object), use_na_sentinel=True)
    pen_codes, pens = pd.factorize(pen_tier.astype(object), use_na_sentinel=True)
    width = len(pens) + 1
    key = (pot_codes + 1) * width + (pen_codes + 1)
    uniques, inverse = np.unique(key, return_inverse=True)
    texts = np.empty(len(uniques), dtype=object)
    texts[:] = [label(pots[k // width - 1] if k // width else None,
                      pens[k % width - 1] if k % width else None) for k in uniques]
    return pd.Series(texts[inverse.reshape(-1)], index=pot_tier.index, dtype=object)


def top_share(revenue: pd.Series, share: float = 0.8, eligible: pd.Series | None = None) -> pd.Series:
    """True for the accounts that make ``share`` of revenue (see the module docstring).

    Sums and the comparison with ``share`` are exact on the typed amounts: they are
    turned into integers on one decimal scale (cents, usually) and ``share`` into a
    fraction p / q, so "above < share × total" is ``above × q < p × total`` in integers."""
    rev = revenue.astype(float).fillna(0.0).clip(lower=0.0)
    if eligible is not None:
        rev = rev.where(eligible.astype(bool), 0.0)
    v = rev.to_numpy()
    v = np.where(np.isfinite(v), v, 0.0)
    if not (v > 0).any():
        return pd.Series(False, index=revenue.index)
    p, q = exact.ratio_parts(share)
    # per distinct amount (amounts repeat): its accounts' exact sum, in ascending order
    codes, distinct = pd.factorize(v)
    ints = exact.integers(distinct)
    counts = np.bincount(codes, minlength=len(distinct))
    if ints.dtype != object and \
            float((counts * ints.astype(float)).sum()) * max(abs(p), q, 1) >= 2.0 ** 62:
        ints = ints.astype(object)  # int64 would overflow: Python integers
    order = np.argsort(distinct)  # distinct values: no ties
    sums = counts[order].astype(ints.dtype) * ints[order]
    # suffix[i] = the sum of the i-th smallest amount and above; total = suffix[0]
    suffix = np.concatenate([np.cumsum(sums[::-1])[::-1], np.array([0], dtype=sums.dtype)])
    total = suffix[0]
    # in: the accounts with strictly more revenue make less than ``share`` of the total
    inside_sorted = np.asarray(suffix[1:] * q < p * total, dtype=bool)
    rank = np.empty(len(distinct), dtype=np.intp)
    rank[order] = np.arange(len(distinct))
    inside = inside_sorted[rank][codes]
    return pd.Series(inside & (v > 0), index=revenue.index)
