"""The values rules see: one column per name read, blanks made explicit, hidden columns.

Both engines read the same `Frame`, built here once per run, so they agree on what a
value is: a number is a finite float (blank: NaN; text that is not a number, or an
infinite value, is blank); a text is compared without surrounding spaces and ignoring
case (``" Prospect "`` equals ``"prospect"``; blank: None). Hidden columns (arithmetic,
comparisons between two fields) are computed here too, vectorised: an arithmetic step on
a blank, a division by zero or an overflow gives a blank.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from .logic import Hidden, text_key
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


def evaluate_number(node: Node, frame: Frame, n: int) -> np.ndarray:
    """A numeric expression over the whole table (float64, NaN for blank)."""
    if isinstance(node, Num):
        return np.full(n, float(node.value))
    if isinstance(node, Name):
        return frame[node.name]
    if isinstance(node, Neg):
        return -evaluate_number(node.operand, frame, n)
    if isinstance(node, Arith):
        a = evaluate_number(node.left, frame, n)
        b = evaluate_number(node.right, frame, n)
        with np.errstate(all="ignore"):
            if node.op == "+":
                r = a + b
            elif node.op == "-":
                r = a - b
            elif node.op == "*":
                r = a * b
            else:
                r = a / b
                r[b == 0] = np.nan
        r[~np.isfinite(r)] = np.nan  # overflow is a blank, at every step
        return r
    raise TypeError(f"not a number expression: {node!r}")


def hidden_column(h: Hidden, frame: Frame, n: int) -> np.ndarray:
    if h.kind == "value":
        return evaluate_number(h.left, frame, n)
    if h.kind == "sign":
        a = evaluate_number(h.left, frame, n)
        b = evaluate_number(h.right, frame, n)
        out = np.where(a > b, 1.0, np.where(a < b, -1.0, 0.0))
        out[np.isnan(a) | np.isnan(b)] = np.nan
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
