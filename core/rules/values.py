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
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from .. import exact
from .logic import Hidden, decimal_value, text_key
from .names import SCORE_PREFIX, TEXT
from .syntax import Arith, Name, Neg, Node, Num

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
    if table is None or column not in table.columns:
        return np.full(n, np.nan) if kind != TEXT else np.full(n, None, dtype=object)
    series = table[column]
    if kind == TEXT:
        # Few distinct texts in a column (statuses, reps, tiers): normalise each once.
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
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


def evaluate_number(node: Node, frame: Frame, n: int) -> np.ndarray:
    """A numeric expression over the whole table (float64, NaN for blank): the float
    nearest to its decimal value wherever a threshold of up to `exact.DIGITS` significant
    digits could tell the two apart."""
    if isinstance(node, Num):
        return np.full(n, float(node.value))
    if isinstance(node, Name):
        return frame[node.name]
    approx = _approximate(node, frame, n)
    out = approx.value.copy()
    for i in np.flatnonzero(exact.near_decimal(approx)):
        out[i] = _value_at(node, frame, i)
    return out


def hidden_column(h: Hidden, frame: Frame, n: int) -> np.ndarray:
    if h.kind == "value":
        return evaluate_number(h.left, frame, n)
    if h.kind == "sign":
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
