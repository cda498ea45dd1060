"""Categories A/B/C/D: by score bands or by quotas, then rule caps, floors and forces.

Bands (the default) give a category from the score alone: A ≥ 75 Strategic, B ≥ 50
Important, C ≥ 25 Medium, D ≥ 0 Small. A score below the last band's min (``D: {min:
10}``) gets no category: the bands say where each starts, and the output says why. Quotas rank the accounts by score and give the top
share A, the next share B, and so on (e.g. top 10 % A): useful when a portfolio must be
split evenly whatever its level. Letters are ordered best first; "strictest cap" means the
worst letter among the caps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Band:
    letter: str
    min: float
    label: str = ""


@dataclass(frozen=True)
class Quota:
    letter: str
    share: float | None  # share of ranked accounts (0–1); None for "the rest"
    label: str = ""


@dataclass(frozen=True)
class CategorySpec:
    """Bands (``mode="bands"``) or quotas (``mode="quotas"``), best category first."""

    mode: str = "bands"
    bands: tuple[Band, ...] = ()
    quotas: tuple[Quota, ...] = ()

    @property
    def letters(self) -> tuple[str, ...]:
        items = self.bands if self.mode == "bands" else self.quotas
        return tuple(i.letter for i in items)

    def label(self, letter: str) -> str:
        for item in (*self.bands, *self.quotas):
            if item.letter == letter:
                return item.label
        return ""

    def rank(self, letter: str) -> int:
        """0 for the best category, larger is worse."""
        return self.letters.index(letter)


DEFAULT_CATEGORIES = CategorySpec(
    "bands",
    bands=(Band("A", 75, "Strategic"), Band("B", 50, "Important"),
           Band("C", 25, "Medium"), Band("D", 0, "Small")),
)


def by_bands(score: pd.Series, spec: CategorySpec) -> pd.Series:
    """Letter per account from the score bands; None where the score is NaN or below the
    lowest band's min (see `below_bands`)."""
    bands = sorted(spec.bands, key=lambda b: b.min, reverse=True)
    values = score.to_numpy(dtype=float)
    out = np.full(len(values), None, dtype=object)
    known = ~np.isnan(values)
    assigned = np.zeros(len(values), dtype=bool)
    for band in bands:
        hit = known & ~assigned & (values >= band.min)
        out[hit] = band.letter
        assigned |= hit
    return pd.Series(out, index=score.index, dtype=object)


def below_bands(score: pd.Series, spec: CategorySpec) -> pd.Series:
    """True where a known score is below every band (bands mode only), else False."""
    if spec.mode != "bands" or not spec.bands:
        return pd.Series(False, index=score.index)
    lowest = min(b.min for b in spec.bands)
    values = score.to_numpy(dtype=float)
    return pd.Series(~np.isnan(values) & (values < lowest), index=score.index)


def lowest_band(spec: CategorySpec) -> Band | None:
    """The band with the lowest min, in bands mode."""
    return min(spec.bands, key=lambda b: b.min) if spec.mode == "bands" and spec.bands else None


def by_quotas(score: pd.Series, spec: CategorySpec, ranked: pd.Series | None = None) -> pd.Series:
    """Letter per account by rank: the first share of ranked accounts gets the first letter.

    ``ranked`` (bool) says which accounts take part (excluded accounts do not); ties share
    the better letter, so equal scores always get the same category.
    """
    values = score.astype(float)
    take = values.notna() if ranked is None else (values.notna() & ranked.astype(bool))
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    n = int(take.sum())
    if n == 0:
        return out
    # rank 1 = best; ties get the best (min) rank so equal scores share a letter
    rank = values[take].rank(method="min", ascending=False)
    bound = 0.0
    remaining = rank.index
    for quota in spec.quotas:
        if quota.share is None:
            out[remaining] = quota.letter
            remaining = remaining[:0]
            break
        bound += quota.share * n
        hit = rank[remaining] <= bound + 1e-9
        out[hit[hit].index] = quota.letter
        remaining = hit[~hit].index
    if len(remaining):
        out[remaining] = spec.quotas[-1].letter
    return out


def adjust(letters: pd.Series, spec: CategorySpec, cap: pd.Series | None = None,
           floor: pd.Series | None = None, force: pd.Series | None = None) -> pd.Series:
    """Apply rule outcomes: floor raises, cap lowers (a cap beats a floor), force wins."""
    order = {letter: float(i) for i, letter in enumerate(spec.letters)}

    def ranks(s: pd.Series | None) -> np.ndarray | None:
        if s is None:
            return None
        return pd.to_numeric(s.map(order), errors="coerce").to_numpy(dtype=float)

    r = ranks(letters)
    f, c, fo = ranks(floor), ranks(cap), ranks(force)
    if f is not None:
        r = np.where(~np.isnan(f) & (np.isnan(r) | (r > f)), f, r)
    if c is not None:
        r = np.where(~np.isnan(c) & ~np.isnan(r) & (r < c), c, r)
    if fo is not None:
        r = np.where(~np.isnan(fo), fo, r)
    table = np.array([*spec.letters, None], dtype=object)
    idx = np.where(np.isnan(r), len(spec.letters), np.nan_to_num(r)).astype(int)
    return pd.Series(table[idx], index=letters.index, dtype=object)
