"""The values rules see: one column per name read, blanks made explicit, hidden columns.

Both engines read the same `Frame`, built here once per run, so they agree on what a
value is: a number is a finite float (blank: NaN; text that is not a number, or an
infinite value, is blank); a text is compared without surrounding spaces and ignoring
case (``" Prospect "`` equals ``"prospect"``; blank: None). Hidden columns (arithmetic,
comparisons between two fields) are computed here too, vectorised: an arithmetic step on
a blank, a division by zero or an overflow gives a blank.

Arithmetic gives what decimal arithmetic on the typed values gives (`logic.decimal_value`):
numpy computes in floats with an error bound (`potentiel.exact`), and the few accounts
whose float is too close to a short decimal (where a threshold can sit) or to the other
side of a comparison are computed again in decimal. Both engines read these columns, so
they agree by construction, and with the reference interpreter.

Also computed here, once per run, as columns both engines read (durable_rules has no
equivalent): dates as day numbers and ``today``; the column functions (portfolio
statistics ``percentile``, ``quintile``, ``cumulative_share`` over every account of the
table with a known value; ``days_since``, ``months_since``; ``if``); text tests
(``contains``, ``starts with``, ``ends with``, case and accents ignored).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from .. import exact
from ..objects import factorize
from . import dates
from .logic import (Hidden, column_functions, column_name, decimal_value, is_column_function,
                    plain_key, text_key, text_test)
from .names import DATE, SCORE_PREFIX, TEXT, TODAY
from .syntax import Arith, Func, Name, Neg, Node, Not, Num

Frame = dict  # name → numpy array (float64 with NaN, or object array of str / None)


def number_value(value: object) -> float | None:
    """A scalar as rules read it: a finite float, or None for a blank."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def text_value(value: object) -> str | None:
    """A scalar as text rules read it: trimmed and case-folded, or None for a blank."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        if float(value).is_integer():
            value = int(value)  # an id typed as 123 reads "123", not "123.0"
    key = text_key(value)
    return key or None


def _column(table: pd.DataFrame | None, column: str, n: int, kind: str) -> np.ndarray:
    if kind == DATE and column == TODAY and (table is None or column not in table.columns):
        return np.full(n, float(dates.today().toordinal()))
    if table is None or column not in table.columns:
        return np.full(n, np.nan) if kind != TEXT else np.full(n, None, dtype=object)
    series = table[column]
    if kind == DATE:
        codes, uniques = factorize(series.to_numpy(dtype=object))
        days = np.array([dates.day_number(v) for v in uniques] + [np.nan], dtype=float)
        return days[np.where(codes < 0, len(uniques), codes)]
    if kind == TEXT:
        # Few distinct texts in a column (statuses, reps, tiers): normalise each once.
        codes, uniques = factorize(series.to_numpy(dtype=object))
        keys = np.array([text_value(None if _blank(v) else v) for v in uniques] + [None],
                        dtype=object)
        return keys[np.where(codes < 0, len(uniques), codes)]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan).copy()
    else:
        values = np.array([number_value(None if _blank(v) else v) for v in series.tolist()],
                          dtype=float)  # None → NaN
    values[~np.isfinite(values)] = np.nan
    return values


def _blank(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def build_frame(accounts: pd.DataFrame, scores: pd.DataFrame | None,
                kinds: Mapping[str, str], hidden: list[Hidden] = ()) -> Frame:
    """One column per name in ``kinds`` (absent columns read as all blank), then hidden ones.

    ``score.<criterion>`` reads the ``<criterion>`` column of ``scores``.
    """
    n = len(accounts)
    frame: Frame = {}
    for name, kind in kinds.items():
        if name.startswith(SCORE_PREFIX):
            frame[name] = _column(scores, name[len(SCORE_PREFIX):], n, kind)
        else:
            frame[name] = _column(accounts, name, n, kind)
    for h in hidden:
        frame[h.name] = hidden_column(h, frame, n)
    return frame


def _approximate(node: Node, frame: Frame, n: int) -> exact.Approx:
    """Floats for a number expression, with a bound on their distance to the decimal."""
    if isinstance(node, Num):
        return exact.leaf(np.full(n, float(node.value)))
    if isinstance(node, Name):
        return exact.leaf(frame[node.name])
    if isinstance(node, Func):
        if is_column_function(node):
            return exact.leaf(_function_column(node, frame, n))
        args = [_approximate(a, frame, n) for a in node.args]
        with np.errstate(invalid="ignore"):
            if node.name in ("min", "max"):
                pick = np.minimum if node.name == "min" else np.maximum
                value, err = args[0].value, args[0].err
                for a in args[1:]:
                    value, err = pick(value, a.value), np.maximum(err, a.err)
                return exact.Approx(value, err)
            x, e = args[0].value, args[0].err
            if node.name == "abs":
                return exact.Approx(np.abs(x), e)
            # sqrt: blank below 0; a float just below 0 whose decimal may be 0 or more
            # reads 0 with a bound wide enough to be computed again in decimal
            r = np.where(x + e >= 0, np.sqrt(np.maximum(x, 0.0)), np.nan)
            err = np.sqrt(np.maximum(x + e, 0.0)) - np.sqrt(np.maximum(x - e, 0.0))
            err = err + exact.U * np.abs(r) + exact.TINY
            err[~np.isfinite(err)] = np.inf
            return exact.Approx(r, err)
    if isinstance(node, Neg):
        inner = _approximate(node.operand, frame, n)
        return exact.Approx(-inner.value, inner.err)
    if isinstance(node, Arith):
        return exact.combine(node.op, _approximate(node.left, frame, n),
                             _approximate(node.right, frame, n))
    raise TypeError(f"not a number expression: {node!r}")


def _value_at(node: Node, frame: Frame, i: int) -> float:
    """One account's value of an expression, in decimal (NaN for blank)."""
    if isinstance(node, Name):
        return float(frame[node.name][i])
    return exact.to_float(decimal_value(node, lambda name: frame[name][i]))


def _function_column(node: Func, frame: Frame, n: int) -> np.ndarray:
    """A column function's values, computed once per frame (kept under `column_name`)."""
    key = column_name(node)
    if key not in frame:
        for inner in column_functions(node)[:-1]:  # innermost first
            _function_column(inner, frame, n)
        frame[key] = _compute_function(node, frame, n)
    return frame[key]


def _compute_function(node: Func, frame: Frame, n: int) -> np.ndarray:
    name = node.name
    if name in ("days_since", "months_since"):
        now = float(dates.today().toordinal()) if TODAY not in frame or n == 0 \
            else float(frame[TODAY][0])
        days = frame[node.args[0].name]
        return dates.days_since(days, now) if name == "days_since" else \
            dates.months_since(days, now)
    if name == "if":
        return _if_column(node, frame, n)
    values = evaluate_number(node.args[0], frame, n)
    if name == "percentile":
        return portfolio_percentile(values)
    if name == "quintile":
        return portfolio_quintile(values)
    return portfolio_cumulative_share(values)


def _if_column(node: Func, frame: Frame, n: int) -> np.ndarray:
    """``if(cond, a, b)``: a where cond is TRUE, b where FALSE, blank where unknown."""
    from .compiled import true_mask
    from .logic import hidden_columns, normal_form

    cond, a, b = node.args
    text_names = {k for k, v in frame.items() if isinstance(v, np.ndarray) and v.dtype == object}
    masks = []
    for c in (cond, Not(cond)):
        normal = normal_form(c, text_names)
        for h in hidden_columns(normal):
            if h.name not in frame:
                frame[h.name] = hidden_column(h, frame, n)
        masks.append(true_mask(normal, frame, n))
    yes, no = masks
    out = np.full(n, np.nan)
    out[yes] = evaluate_number(a, frame, n)[yes]
    out[no] = evaluate_number(b, frame, n)[no]
    return out


def _ranks(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Per account, how many known values are at most its own (0 where blank), and how
    many values are known."""
    known = values[~np.isnan(values)]
    ordered = np.sort(known)
    at_most = np.searchsorted(ordered, values, side="right")
    return np.where(np.isnan(values), 0, at_most), len(known)


def portfolio_percentile(values: np.ndarray) -> np.ndarray:
    """100 × (known values at most this one) ÷ (known values): the largest is 100, equal
    values get the same; blank stays blank. The float nearest to the exact quotient."""
    ranks, count = _ranks(values)
    out = np.full(len(values), np.nan)
    for i in np.flatnonzero(~np.isnan(values)):
        out[i] = 100 * int(ranks[i]) / count  # Python ints: correctly rounded
    return out


def portfolio_quintile(values: np.ndarray) -> np.ndarray:
    """1 to 5: the quintile (5 = the top fifth) = ceiling of 5 × rank ÷ count, in
    integers; equal values get the same; blank stays blank."""
    ranks, count = _ranks(values)
    out = np.full(len(values), np.nan)
    for i in np.flatnonzero(~np.isnan(values)):
        out[i] = float(-(-5 * int(ranks[i]) // count))
    return out


def portfolio_cumulative_share(values: np.ndarray) -> np.ndarray:
    """The share of the total (of known values, negatives counted as 0) made by the
    accounts with strictly more: 0 for the largest, as the Top 80 % reads it (an account
    is in the top 80 % exactly where this is below 80 %). Sums are exact on the typed
    amounts; blank where the value is blank or the total is 0."""
    out = np.full(len(values), np.nan)
    known = ~np.isnan(values)
    if not known.any():
        return out
    v = np.where(known, np.maximum(values, 0.0), 0.0)
    ints = [int(x) for x in exact.integers(v).tolist()]
    total = sum(ints)
    if total <= 0:
        return out
    order = np.argsort(-v, kind="stable")
    above, running, k = {}, 0, 0
    while k < len(order):
        j = k
        while j < len(order) and v[order[j]] == v[order[k]]:
            j += 1
        for t in range(k, j):
            above[int(order[t])] = running
        running += sum(ints[int(order[t])] for t in range(k, j))
        k = j
    for i in np.flatnonzero(known):
        out[i] = above[int(i)] / total  # Python ints: correctly rounded
    return out


def evaluate_number(node: Node, frame: Frame, n: int) -> np.ndarray:
    """A numeric expression over the whole table (float64, NaN for blank): the float
    nearest to its decimal value wherever a threshold of up to `exact.DIGITS` significant
    digits could tell the two apart."""
    if isinstance(node, Num):
        return np.full(n, float(node.value))
    if isinstance(node, Name):
        return frame[node.name]
    for inner in column_functions(node):
        _function_column(inner, frame, n)
    if is_column_function(node):
        return frame[column_name(node)]
    approx = _approximate(node, frame, n)
    out = approx.value.copy()
    for i in np.flatnonzero(exact.near_decimal(approx)):
        out[i] = _value_at(node, frame, i)
    return out


def hidden_column(h: Hidden, frame: Frame, n: int) -> np.ndarray:
    if h.kind == "value":
        return evaluate_number(h.left, frame, n)
    if h.kind == "text":
        test = h.left
        column = frame[test.operand.name]
        codes, uniques = pd.factorize(pd.Series(column, dtype=object), use_na_sentinel=True)
        found = np.array([float(text_test(test.op, plain_key(u), test.value.value))
                          for u in uniques] + [np.nan])
        return found[np.where(codes < 0, len(uniques), codes)]
    if h.kind == "sign":
        for side in (h.left, h.right):
            for inner in column_functions(side):
                _function_column(inner, frame, n)
        # the values compared are the floats nearest to each side's decimal value; where
        # the float columns are too close to tell, they are computed in decimal
        la, lb = _approximate(h.left, frame, n), _approximate(h.right, frame, n)
        a, b = la.value, lb.value
        out = np.where(a > b, 1.0, np.where(a < b, -1.0, 0.0))
        out[np.isnan(a) | np.isnan(b)] = np.nan
        for i in np.flatnonzero(exact.near_each_other(la, lb)):
            x, y = _value_at(h.left, frame, i), _value_at(h.right, frame, i)
            out[i] = np.nan if x != x or y != y else (x > y) - (x < y)
        return out
    if h.kind == "member":
        column = frame[h.left.operand.name]
        wanted = [v.value for v in h.left.values]
        if column.dtype == object:
            known = pd.notna(column)
            member = pd.Series(column, dtype=object).isin(wanted).to_numpy()
        else:
            known = ~np.isnan(column)
            member = np.isin(column, np.array(wanted, dtype=float))
        return np.where(known, member.astype(float), np.nan)
    a, b = frame[h.left.name], frame[h.right.name]
    known = np.array([x is not None and y is not None for x, y in zip(a, b)], dtype=bool)
    same = np.array([x == y for x, y in zip(a, b)], dtype=bool)
    return np.where(known, same.astype(float), np.nan)
