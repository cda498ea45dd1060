"""Exact arithmetic on typed values: what decimal arithmetic gives, fast where floats do.

A cell typed ``1000.01`` is stored as the binary float nearest to it, so float arithmetic
can land a unit in the last place off the decimal result: ``1000.01 / 10000.1`` gives
0.09999999999999999, not 0.1, and a threshold of 10 % then goes the wrong way exactly at
the threshold. Potentiel's definition, used wherever a computed value is compared or
tiered (penetration, the Top 80 % shares, arithmetic in rule conditions and ``derive``):

- each value is the decimal it was typed as: the shortest decimal that reads back as the
  same float (``repr``), so ``1000.01`` is exactly 1000.01;
- arithmetic on those decimals is `decimal` arithmetic with `PRECISION` significant
  digits (exact for sums and products of typed amounts); a step on a blank, a division by
  zero, or a result beyond the float range gives a blank;
- the result is the float nearest to that decimal, as a cell holding it would store it.

Doing every account in `decimal` costs about 6 µs a value, so numpy computes in floats
first, carrying a bound on how far each float can be from the decimal result
(`Approx`), and only the accounts whose float lies within that bound of a decimal of at
most `DIGITS` significant digits (where a threshold, a tier bound or another value can
sit) are computed again in `decimal`. Elsewhere the float is on the same side as the
decimal result of every such threshold, so comparisons come out the same.
"""

from __future__ import annotations

import math
import sys
from decimal import Context, Decimal
from typing import NamedTuple

import numpy as np

PRECISION = 60          # significant digits of the decimal arithmetic
DIGITS = 12             # thresholds with up to this many significant digits are exact
U = 2.0 ** -53          # unit roundoff of a float
TINY = 2.0 ** -1000     # absolute slack, for results near the bottom of the float range
CONTEXT = Context(prec=PRECISION)
_FLOAT_MAX = Decimal(sys.float_info.max)


def typed(x: float | None) -> Decimal | None:
    """The decimal a float was typed as (its shortest ``repr``); None for blank / NaN / inf."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return Decimal(repr(x))


def step(op: str, a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """One decimal step: blank in, blank out; x / 0 or a result beyond floats → blank."""
    if a is None or b is None:
        return None
    if op == "+":
        r = CONTEXT.add(a, b)
    elif op == "-":
        r = CONTEXT.subtract(a, b)
    elif op == "*":
        r = CONTEXT.multiply(a, b)
    else:
        if b == 0:
            return None
        r = CONTEXT.divide(a, b)
    return None if abs(r) > _FLOAT_MAX else r


def to_float(d: Decimal | None) -> float:
    """The float nearest to ``d`` (NaN for a blank)."""
    if d is None:
        return math.nan
    f = float(d)
    return f if math.isfinite(f) else math.nan


def share(x: float) -> float:
    """A typed percentage as a share: 12.3 → 0.123 exactly (``12.3 / 100`` is not)."""
    return to_float(CONTEXT.divide(typed(x), Decimal(100))) if typed(x) is not None else math.nan


def ratio_parts(x: float) -> tuple[int, int]:
    """The typed decimal of ``x`` as a fraction p / q of integers (0.8 → 4, 5)."""
    return typed(x).as_integer_ratio()


# ----------------------------------------------------------------------------- vectorised

class Approx(NamedTuple):
    """Floats with a bound on their distance to the decimal result (NaN: blank)."""

    value: np.ndarray
    err: np.ndarray


def leaf(values: np.ndarray) -> Approx:
    """Typed values: each float is within half a unit in the last place of its decimal."""
    v = np.asarray(values, dtype=float)
    return Approx(v, U * np.abs(v))


def combine(op: str, a: Approx, b: Approx) -> Approx:
    """One float step over whole columns, with the error bound carried along; a blank,
    x / 0 or an overflow gives NaN (as `step` gives a blank)."""
    x, y, ex, ey = a.value, b.value, a.err, b.err
    with np.errstate(all="ignore"):
        if op == "+":
            r = x + y
            e = ex + ey
        elif op == "-":
            r = x - y
            e = ex + ey
        elif op == "*":
            r = x * y
            e = np.abs(x) * ey + np.abs(y) * ex + ex * ey
        else:
            r = x / y
            r[y == 0] = np.nan
            ay = np.abs(y)
            e = np.where(ay > ey, (np.abs(x) * ey + ay * ex) / (ay * (ay - ey)), np.inf)
        e = e + U * np.abs(r) + TINY
    r[~np.isfinite(r)] = np.nan
    e[~np.isfinite(e)] = np.inf
    return Approx(r, e)


def near_decimal(a: Approx, digits: int = DIGITS) -> np.ndarray:
    """Where the decimal result might differ from the float on the side of some decimal
    of at most ``digits`` significant digits (0 included): those need `decimal`."""
    r = a.value
    with np.errstate(all="ignore"):
        mag = np.abs(r)
        tol = 2 * a.err + 8 * U * mag + TINY
        e = np.floor(np.log10(np.where(mag > 0, mag, 1.0)))
        grid = 10.0 ** (e - (digits - 1))
        s = np.round(r / grid) * grid
        near = (np.abs(r - s) <= tol) | (mag <= tol) | (tol >= grid / 4) | ~(grid > 0)
    return near & ~np.isnan(r)


def near_each_other(a: Approx, b: Approx) -> np.ndarray:
    """Where the order of the two decimal results cannot be told from the floats."""
    with np.errstate(all="ignore"):
        gap = np.abs(a.value - b.value)
        tol = 2 * (a.err + b.err) + 8 * U * np.maximum(np.abs(a.value), np.abs(b.value)) + TINY
        near = gap <= tol
    return near & ~np.isnan(a.value) & ~np.isnan(b.value)


def divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ÷ b over whole columns, as the decimal arithmetic gives it (NaN where b is 0)."""
    out = combine("/", leaf(a), leaf(b))
    value = out.value.copy()
    for i in np.flatnonzero(near_decimal(out)):
        value[i] = to_float(step("/", typed(a[i]), typed(b[i])))
    return value


def integers(values: np.ndarray) -> np.ndarray:
    """Typed amounts as exact integers on one common decimal scale (``[8017.98, 1.5]`` →
    ``[801798, 150]``): int64 when they fit, else Python ints (an object array). Sums and
    comparisons of the result are then exact. ``values`` must be finite."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return np.zeros(0, dtype=np.int64)
    for k in range(10):
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.round(v * 10.0 ** k)
        # below 10**15 an integer and its scale give back the float only if that is the
        # decimal it was typed as (15 digits tell floats apart)
        if np.abs(scaled).max() < 1e15 and np.array_equal(scaled / 10.0 ** k, v):
            if np.abs(scaled).max() * len(v) < 2.0 ** 62:  # sums fit in int64
                return scaled.astype(np.int64)
            return np.array([int(s) for s in scaled.tolist()], dtype=object)
    parts = [typed(x).as_tuple() for x in v.tolist()]
    low = min(p.exponent for p in parts)
    out = np.empty(len(parts), dtype=object)
    out[:] = [(-1 if p.sign else 1) * int("".join(map(str, p.digits)) or "0")
              * 10 ** (p.exponent - low) for p in parts]
    return out
