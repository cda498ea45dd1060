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

from .i18n import N_, _
from .objects import factorize


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

    def shown_label(self, letter: str) -> str:
        """The label as shown in the run's language: a default label (Strategic …) is
        translated (Stratégique …); a label of the rule file or Settings is as typed."""
        label = self.label(letter)
        return _(label) if label in ENGLISH_DEFAULT_LABELS else label

    def rank(self, letter: str) -> int:
        """0 for the best category, larger is worse."""
        return self.letters.index(letter)


DEFAULT_CATEGORIES = CategorySpec(
    "bands",
    bands=(Band("A", 75, N_("Strategic")), Band("B", 50, N_("Important")),
           Band("C", 25, N_("Medium")), Band("D", 0, N_("Small"))),
)
# The labels of the shipped default rules (bands, and the prospect profile's quotas):
# shown in the run's language; a label a consultant or Settings wrote is shown as typed.
PROSPECT_LABELS = (N_("Priority target"), N_("Target"), N_("Watch"), N_("Later"))
ENGLISH_DEFAULT_LABELS = frozenset((*(b.label for b in DEFAULT_CATEGORIES.bands),
                                    *PROSPECT_LABELS))


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
    out = np.full(len(values), None, dtype=object)
    n = int(take.sum())
    if n == 0:
        return pd.Series(out, index=values.index, dtype=object)
    # rank 1 = best; ties get the best (min) rank so equal scores share a letter
    rank = values[take].rank(method="min", ascending=False)
    at = np.flatnonzero(take.to_numpy(dtype=bool))  # positions of the ranked accounts
    rank = rank.to_numpy()
    bound = 0.0
    remaining = np.ones(len(rank), dtype=bool)
    for quota in spec.quotas:
        if quota.share is None:
            out[at[remaining]] = quota.letter
            remaining[:] = False
            break
        bound += quota.share * n
        hit = remaining & (rank <= bound + 1e-9)
        out[at[hit]] = quota.letter
        remaining &= ~hit
    if remaining.any():
        out[at[remaining]] = spec.quotas[-1].letter
    return pd.Series(out, index=values.index, dtype=object)


def adjust(letters: pd.Series, spec: CategorySpec, cap: pd.Series | None = None,
           floor: pd.Series | None = None, force: pd.Series | None = None) -> pd.Series:
    """Apply rule outcomes: floor raises, cap lowers (a cap beats a floor), force wins."""
    order = {letter: float(i) for i, letter in enumerate(spec.letters)}

    def ranks(s: pd.Series | None) -> np.ndarray | None:
        if s is None:
            return None
        # a letter's rank, NaN for anything else; looked up once per distinct value
        codes, distinct = factorize(s.to_numpy(dtype=object))
        table = np.array([*(order.get(v, np.nan) if isinstance(v, str) else np.nan
                            for v in distinct), np.nan], dtype=float)
        return table[codes]

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


# ------------------------------------------------------------ letters read from a cell

# The default labels in both languages, so that a label typed in a Category override, or
# read back from Potentiel's own Category label column, names its letter whatever the
# workbook's language (French labels in masculine and feminine forms: "client stratégique",
# "catégorie stratégique").
DEFAULT_LABELS: dict[str, tuple[str, ...]] = {
    "A": ("Strategic", "Stratégique"),
    "B": ("Important", "Importante"),
    "C": ("Medium", "Moyen", "Moyenne"),
    "D": ("Small", "Petit", "Petite"),
}

# What Potentiel writes in Category label when it writes no letter in Category.
BELOW_LOWEST_BAND = N_("Below the lowest band")
NOT_ENOUGH_DATA = N_("Not enough data")
EXCLUDED_FROM_RANKING = N_("Excluded from ranking")
NO_CATEGORY_LABELS = (BELOW_LOWEST_BAND, NOT_ENOUGH_DATA, EXCLUDED_FROM_RANKING)


def _per_value(values: pd.Series, make) -> pd.Series:
    """``make(value)`` per cell, computed once per distinct value (a column of 100,000
    accounts holds a handful of letters and labels)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    out = np.empty(len(uniques), dtype=object)
    out[:] = [make(None if u is None or (isinstance(u, float) and u != u) else u)
              for u in uniques]
    return pd.Series(out[codes], index=values.index, dtype=object)


def _key(text: object) -> str:
    from .fields import normalise
    return normalise(text)


def label_letters(spec: CategorySpec) -> dict[str, str]:
    """Normalised label → letter: the config's own labels first, then the English and
    French default labels of the config's letters where they name no other letter."""
    out: dict[str, str] = {}
    for letter in spec.letters:
        label = spec.label(letter)
        if label and _key(label):
            out.setdefault(_key(label), letter)
    for letter in spec.letters:
        for label in DEFAULT_LABELS.get(letter, ()):
            out.setdefault(_key(label), letter)
    return out


def letter_of(value: object, spec: CategorySpec, labels: dict[str, str] | None = None) -> str | None:
    """The config's letter a typed value names: the letter itself (``"a"``, ``" A "``) or a
    label (``"Stratégique"``, ``"STRATEGIC"``: case, accents and spaces ignored); None if
    it names none (blank included)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text:
        return None
    for letter in spec.letters:
        if text.casefold() == letter.casefold():
            return letter
    key = _key(text)
    if not key:
        return None
    return (labels if labels is not None else label_letters(spec)).get(key)


def read_overrides(values: pd.Series, spec: CategorySpec) -> tuple[pd.Series, pd.Series]:
    """A Category override column read as letters: (letter per account or None, True where
    a cell holds something that names no category of the config). Once per distinct value."""
    labels = label_letters(spec)
    letters = _per_value(values, lambda v: letter_of(v, spec, labels))
    blank = _per_value(values, lambda v: v is None or (isinstance(v, str) and not v.strip()))
    blank = blank.astype(bool)
    invalid = letters.isna() & ~blank
    return letters.where(letters.notna(), None), invalid


@dataclass(frozen=True)
class HandEdits:
    """Category cells changed by hand since the last run, found against Category label.

    ``model``: the category the last run gave (the label's letter where a cell was edited,
    else the Category cell as read); ``edited``: True where the Category cell disagrees with
    its label; ``typed``: the Category cell's text where edited.
    """

    model: pd.Series
    edited: pd.Series
    typed: pd.Series


def hand_edits(previous: pd.Series, label: pd.Series | None, spec: CategorySpec) -> HandEdits:
    """Potentiel always writes a letter with its label (or no letter with a "no category"
    label), so a Category cell that disagrees with its Category label was changed by hand:
    the label, which names the letter Potentiel wrote, gives the model's previous category.
    A label that names no category of the config (custom labels since changed, a label
    edited too) proves nothing, and the Category cell is taken as it is."""
    index = previous.index
    if label is None:
        label = pd.Series(None, index=index, dtype=object)
    labels = label_letters(spec)
    from .i18n import both
    none_keys = {_key(t) for label in NO_CATEGORY_LABELS for t in both(label)}

    def said(v: object) -> object:
        # the letter the label names; "" for a no-category label; None when it proves nothing
        if v is None or (isinstance(v, float) and v != v):
            return None
        k = _key(v)
        if k in none_keys:
            return ""
        return labels.get(k)

    said_by_label = _per_value(label, said)
    cell = _per_value(previous, lambda v: letter_of(v, spec, {}))
    text = _per_value(previous, lambda v: None if v is None or not str(v).strip()
                      else str(v).strip())
    says = said_by_label.fillna("").to_numpy(dtype=object)
    known = said_by_label.notna().to_numpy()
    no_letter = known & (says == "")
    has_text = text.notna().to_numpy()
    differs = cell.fillna("").to_numpy(dtype=object) != says
    # edited: the label names a letter and the cell holds another (or nothing), or the
    # label says no letter was written and the cell holds something
    edited = pd.Series((known & ~no_letter & differs) | (no_letter & has_text), index=index)
    label_letter = said_by_label.where(said_by_label != "", None)
    model = cell.where(cell.notna(), previous.astype(object)).where(~edited, label_letter)
    on = edited.to_numpy()
    return HandEdits(_objects(model, index), edited,
                     _objects(pd.Series(np.where(on, text.to_numpy(dtype=object), None),
                                        index=index), index))


def _objects(values: pd.Series, index: pd.Index) -> pd.Series:
    """An object Series with None (never NaN) for the blanks."""
    arr = values.to_numpy(dtype=object).copy()
    arr[pd.isna(arr)] = None
    return pd.Series(arr, index=index, dtype=object)
