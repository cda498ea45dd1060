"""The words a rep reads: the Flags, Why and To collect columns.

Built column by column (never account by account): each piece is a Series of text or
None, and pieces are joined with separators where present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .pipeline import Result


def _clean(piece) -> np.ndarray:
    """Object array with None for blank pieces (NaN and "" included)."""
    p = piece.to_numpy(dtype=object) if isinstance(piece, pd.Series) else np.asarray(piece, dtype=object)
    p = p.copy()
    p[pd.isna(p) | (p == "")] = None
    return p


def join(pieces: list[pd.Series], sep: str, index: pd.Index) -> pd.Series:
    """Join text pieces per account, skipping blanks; '' where every piece is blank."""
    if not pieces:
        return pd.Series([""] * len(index), index=index, dtype=object)
    cols = [_clean(p) for p in pieces]
    out = [sep.join([v for v in vals if v is not None]) for vals in zip(*cols)]
    return pd.Series(out, index=index, dtype=object)


def _map_tuples(col: pd.Series, fmt) -> pd.Series:
    """Apply ``fmt`` once per distinct tuple (there are few), not once per account."""
    distinct = {}
    values = col.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        key = tuple(v) if v is not None else ()
        if key not in distinct:
            distinct[key] = fmt(key)
        out[i] = distinct[key]
    return pd.Series(out, index=col.index, dtype=object)


def flags_column(flags: pd.Series, confidence: pd.Series, min_confidence: float,
                 excluded: pd.Series, score: pd.Series) -> pd.Series:
    rule_flags = _map_tuples(flags, lambda t: ", ".join(t) if t else None)
    thin = pd.Series(np.where(confidence.to_numpy() < min_confidence, "thin-data", None),
                     index=flags.index, dtype=object)
    excl = pd.Series(np.where(excluded.to_numpy(dtype=bool), "excluded", None), index=flags.index,
                     dtype=object)
    return join([rule_flags, thin, excl], ", ", flags.index)


def why_column(result: "Result") -> pd.Series:
    """Rules fired (with their why), what could not be scored, strongest and weakest points."""
    index = result.accounts.index
    why = result.rules.why
    fired = _map_tuples(result.rules.fired,
                        lambda t: "; ".join(f"{rid}: {why.get(rid, '')}".rstrip(": ") for rid in t)
                        if t else None)
    scores = result.scores.scores
    weights = result.weighted.weights
    missing_pieces = []
    for name in result.criteria:
        if weights.get(name, 0) <= 0:
            continue
        nan = scores[name].isna().to_numpy()
        failed = result.scores.failed.get(name)
        word = f"{name} (plugin error)" if failed and failed != "no account could be scored" else name
        missing_pieces.append(pd.Series(np.where(nan, word, None), index=index, dtype=object))
    missing = join(missing_pieces, ", ", index)
    missing = missing.where(missing == "", "not scored: " + missing)
    strong, weak = _extremes(result)
    return join([fired, strong, weak, missing], ". ", index)


def _extremes(result: "Result") -> tuple[pd.Series, pd.Series]:
    """The reason of the criterion bringing the most points, and of the weakest one."""
    index = result.accounts.index
    contrib = result.weighted.contributions
    none = pd.Series([None] * len(index), index=index, dtype=object)
    if contrib.shape[1] == 0 or len(index) == 0:
        return none, none.copy()
    names = list(contrib.columns)
    c = contrib.to_numpy(dtype=float)
    s = result.scores.scores[names].to_numpy(dtype=float)
    reasons = result.scores.reasons[names].to_numpy(dtype=object)
    rows = np.arange(len(index))
    known = ~np.isnan(c)
    any_known = known.any(axis=1)
    best = np.argmax(np.where(known, c, -np.inf), axis=1)
    worst = np.argmin(np.where(known, s, np.inf), axis=1)
    best_r = reasons[rows, best]
    worst_r = reasons[rows, worst]
    label = np.array(names, dtype=object)
    best_s = np.round(s[rows, best])
    worst_s = np.round(s[rows, worst])

    def piece(prefix: str, r: np.ndarray, idx: np.ndarray, sc: np.ndarray, keep: np.ndarray) -> pd.Series:
        # "strongest: revenue 99 k€, top 14 % (79/100)"; the criterion name when no reason
        names = label[idx]
        text = [None if not k else
                f"{prefix}{t if isinstance(t, str) and t else n} ({v:.0f}/100)"
                for k, t, n, v in zip(keep, r, names, sc)]
        return pd.Series(text, index=index, dtype=object)

    strong = piece("strongest: ", best_r, best, best_s, any_known)
    weak = piece("weakest: ", worst_r, worst, worst_s, any_known & (known.sum(axis=1) > 1)
                 & (worst != best))
    return strong, weak


def to_collect_column(result: "Result") -> pd.Series:
    """Blank inputs of the criteria that could not be scored, heaviest weight first."""
    index = result.accounts.index
    acc = result.accounts
    scores = result.scores.scores
    weights = result.weighted.weights
    derivable = _derivation_hints(result)
    pieces = []
    order = sorted((n for n in result.criteria if weights.get(n, 0) > 0), key=lambda n: -weights[n])
    seen: set[str] = set()
    for name in order:
        nan = scores[name].isna().to_numpy()
        if not nan.any():
            continue
        for inp in result.criteria[name].inputs:
            if inp.name in seen:
                continue
            seen.add(inp.name)
            blank = acc[inp.name].isna().to_numpy() if inp.name in acc else np.ones(len(index), bool)
            word = inp.title + derivable.get(inp.name, "")
            pieces.append(pd.Series(np.where(nan & blank, word, None), index=index, dtype=object))
    return join(pieces, ", ", index)


def _derivation_hints(result: "Result") -> dict[str, str]:
    from .fields import BUILTIN_FIELDS
    titles = {f.name: f.title for f in BUILTIN_FIELDS}
    hints = {}
    if "headcount" in titles:
        hints["potential"] = f" (or {titles['headcount']} and {titles['spend_per_employee']})"
    hints["distance_km"] = " (or Latitude and Longitude)"
    return hints
