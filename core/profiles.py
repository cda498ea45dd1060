"""Profiles: each account is ranked within the profile a condition chooses for it.

A rule file's ``profiles:`` lists profiles in order; an account takes the first one whose
``when:`` holds, and a profile without ``when:`` (it must be the last) takes every account
left. Each profile has its own weights, category bands or quotas (with their labels) and
may split its quotas per group (``quotas_by: salesperson``: an ABC per rep). What a profile
does not say comes from the file's top level (weights, categories), so the Settings sheet's
weights and thresholds still tune the profiles that inherit them.

This module owns the method: choosing the profile (in the shared precompute stage, on the
same columns and normal-form conditions the rules read, with the vectorised evaluator; so
both rules engines see the same profile), the weighted score per profile and the
categories per profile. Reading the ``profiles:`` section is `potentiel.rules.profiles`.
Every profile uses the same category names in the same order (its own bands or quotas and
labels), so that caps, floors and forces mean the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .categories import Band, CategorySpec, below_bands, by_bands, by_quotas, lowest_band
from .i18n import _
from .objects import factorize
from .problems import Problem
from .scoring import Weighted, weighted_score

PROFILE_FIELD = "profile"       # what rules read, and the accounts column
NO_GROUP = "(none)"             # the quota group of an account whose group field is blank


@dataclass(frozen=True)
class Profile:
    """One profile. ``when``/``normal``: the condition as written and its normal form (None
    for the profile that takes every account left); ``weights``/``categories``: None to
    use the file's top level; ``quotas_by``: the field whose values split the quotas."""

    name: str
    when: str | None = None
    normal: Any = None
    weights: Mapping[str, float] | None = None
    categories: CategorySpec | None = None
    quotas_by: str | None = None
    where: str = ""


@dataclass(frozen=True)
class ProfileSet:
    """The profiles of a rule file, first match wins; ``kinds``/``hidden``: the columns
    their conditions read (as a rule's), for `potentiel.rules.values.build_frame`."""

    profiles: tuple[Profile, ...]
    kinds: Mapping[str, str] = field(default_factory=dict)
    hidden: tuple = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.profiles)

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)


def choose(profiles: ProfileSet, accounts: pd.DataFrame,
           scores: pd.DataFrame | None) -> pd.Series:
    """The profile name of every account (first ``when`` TRUE wins; a blank field makes a
    condition unknown, so that profile is not chosen). An account no profile takes gets
    None (impossible when the last profile has no ``when``, which the loader requires)."""
    from .rules.compiled import true_mask
    from .rules.values import build_frame
    n = len(accounts)
    frame = build_frame(accounts, scores, profiles.kinds, list(profiles.hidden))
    out = np.full(n, None, dtype=object)
    left = np.ones(n, dtype=bool)
    for p in profiles.profiles:
        hit = left.copy() if p.normal is None else left & true_mask(p.normal, frame, n)
        out[hit] = p.name
        left &= ~hit
    return pd.Series(out, index=accounts.index, dtype=object)


def weights_of(profile: Profile, weights: Mapping[str, float]) -> dict[str, float]:
    """The profile's weights, else the top-level ``weights`` (criteria not listed in a
    profile's own weights weigh 0 there)."""
    return dict(profile.weights) if profile.weights is not None else dict(weights)


def spec_of(profile: Profile | None, spec: CategorySpec) -> CategorySpec:
    return profile.categories if profile is not None and profile.categories else spec


def score_by_profile(scores: pd.DataFrame, chosen: pd.Series, profiles: ProfileSet,
                     weights: Mapping[str, float]) -> Weighted:
    """The weighted score of every account with its own profile's weights, as one
    `Weighted` (``contributions``: the union of the profiles' criteria, NaN where a
    criterion is not in the account's profile; ``weights``: the top level's)."""
    index = scores.index
    score = np.full(len(index), np.nan)
    confidence = np.zeros(len(index))
    members = _members(chosen)
    columns: dict[str, np.ndarray] = {}  # the profiles' criteria, in order of appearance
    for p in profiles.profiles:
        mask = members(p.name)
        if not mask.any():
            continue
        w = weighted_score(scores, weights_of(p, weights), rows=mask)
        score[mask] = w.score.to_numpy()
        confidence[mask] = w.confidence.to_numpy()
        for name in w.contributions.columns:
            if name not in columns:
                columns[name] = np.full(len(index), np.nan)  # not in this account's profile
            columns[name][mask] = w.contributions[name].to_numpy()
    top = weighted_score(scores.iloc[:0], weights)
    contributions = pd.DataFrame(columns, index=index) if columns else \
        pd.DataFrame(index=index)
    return Weighted(pd.Series(score, index=index), pd.Series(confidence, index=index),
                    contributions, top.weights)


def _members(chosen: pd.Series):
    """``members(name)``: True for the accounts of profile ``name`` (bool array); the
    names are hashed once, not compared account by account for every profile."""
    codes, names = factorize(chosen.to_numpy(dtype=object))
    at = {name: k for k, name in enumerate(names.tolist())}
    none = np.zeros(len(codes), dtype=bool)

    def members(name: str) -> np.ndarray:
        k = at.get(name)
        return none.copy() if k is None else codes == k

    return members


def categorize(score: pd.Series, chosen: pd.Series | None, profiles: ProfileSet | None,
               spec: CategorySpec, ranked: pd.Series, accounts: pd.DataFrame) -> pd.Series:
    """Category letter per account, each profile by its own bands or quotas (quotas split
    per value of ``quotas_by`` when a profile says so). ``ranked``: False for excluded
    accounts (they take no share of a quota)."""
    if profiles is None or chosen is None:
        return _letters(score, spec, ranked)
    out = np.full(len(score), None, dtype=object)
    members = _members(chosen)
    for p in profiles.profiles:
        at = members(p.name)
        if not at.any():
            continue
        own = spec_of(p, spec)
        if own.mode == "quotas" and p.quotas_by:
            mask = pd.Series(at, index=score.index)
            groups = _groups(accounts, p.quotas_by, mask)
            for g in pd.unique(groups):
                m = (mask & (groups == g)).to_numpy(dtype=bool)
                out[m] = _letters(score[m], own, ranked[m]).to_numpy(dtype=object)
        else:
            out[at] = _letters(score[at], own, ranked[at]).to_numpy(dtype=object)
    return pd.Series(out, index=score.index, dtype=object)


def below_lowest(score: pd.Series, chosen: pd.Series | None, profiles: ProfileSet | None,
                 spec: CategorySpec) -> tuple[pd.Series, pd.Series]:
    """Where a known score is below every band of the account's own categories (its
    profile's, else ``spec``), and that lowest `Band` per account (None elsewhere): a
    prospect profile whose bands start at 20 leaves a prospect at 10 below them even when
    the top level's D starts at 0."""
    index = score.index
    if profiles is None or chosen is None:
        below = below_bands(score, spec)
        band = lowest_band(spec)
        return below, pd.Series([band if b else None for b in below], index=index,
                                dtype=object)
    below = np.zeros(len(index), dtype=bool)
    bands = np.full(len(index), None, dtype=object)
    members = _members(chosen)
    for p in profiles.profiles:
        mask = members(p.name)
        if not mask.any():
            continue
        own = spec_of(p, spec)
        hit = below_bands(score[mask], own).to_numpy()
        low = np.empty(1, dtype=object)
        low[0] = lowest_band(own)  # one Band (or None), spread to the accounts below
        below[mask] = hit
        bands[np.flatnonzero(mask)[hit]] = low
    return pd.Series(below, index=index), pd.Series(bands, index=index, dtype=object)


def _letters(score: pd.Series, spec: CategorySpec, ranked: pd.Series) -> pd.Series:
    if spec.mode == "quotas":
        return by_quotas(score, spec, ranked=ranked)
    return by_bands(score, spec)


def _groups(accounts: pd.DataFrame, by: str, mask: pd.Series) -> pd.Series:
    from .rules.values import text_value
    values = accounts[by] if by in accounts else pd.Series(None, index=accounts.index)
    keys = [text_value(v) if not _blank(v) else None for v in values.tolist()]
    return pd.Series([k if k is not None else NO_GROUP for k in keys], index=accounts.index)


def _blank(v: object) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def labels(category: pd.Series, chosen: pd.Series | None, profiles: ProfileSet | None,
           spec: CategorySpec) -> pd.Series:
    """The Category label of each account: its profile's label for its letter."""
    if profiles is None or chosen is None:
        return category.map({k: spec.shown_label(k) for k in spec.letters}).astype(object)
    out = np.full(len(category), None, dtype=object)
    members = _members(chosen)
    codes, letters = factorize(category.to_numpy(dtype=object))
    for p in profiles.profiles:
        own = spec_of(p, spec)
        mask = members(p.name)
        if mask.any():
            table = {k: own.shown_label(k) for k in own.letters}
            # as Series.map(table) gives it: NaN for a letter it does not name, or none
            looked = np.empty(len(letters) + 1, dtype=object)
            looked[:] = [*(table.get(k, np.nan) for k in letters.tolist()), np.nan]
            out[mask] = looked[codes[mask]]
    return pd.Series(out, index=category.index, dtype=object)


def group_notes(profiles: ProfileSet | None, chosen: pd.Series | None,
                accounts: pd.DataFrame) -> list[Problem]:
    """Run-level notes: accounts whose quota group is blank are ranked together."""
    out: list[Problem] = []
    if profiles is None or chosen is None:
        return out
    for p in profiles.profiles:
        if not p.quotas_by:
            continue
        mask = chosen == p.name
        groups = _groups(accounts, p.quotas_by, mask)
        blank = int((mask & (groups == NO_GROUP)).sum())
        if blank:
            out.append(Problem(_(
                "{n} accounts of the profile {profile} have no {field}: their quotas are "
                "shared among them as one group; fill {field} to rank each in its own group"
            ).format(n=blank, profile=p.name, field=p.quotas_by), p.where, "warning"))
    return out
