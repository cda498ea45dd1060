"""Suggested weights: the criterion weights that would have ranked next year best.

A proposal, never applied: shown beside the current weights with what each would have
done on accounts the fit did not see (the holdout), so a sales manager decides.

**What is fitted.** Non-negative weights summing to 100 over the criterion scores an
account had when it was scored (its ``Score: <criterion>`` columns last year), so that
the weighted score follows, for clients, the *rank* of next year's revenue (the ranks'
normal scores, so that a few very large accounts do not decide alone) and, for a group of
prospects, *conversion* (revenue the next year above 0, as 1 / 0). For revenue, the fit
is a non-negative least squares on centred values (`scipy.optimize.nnls`): among
non-negative weightings, the one whose score correlates best with the ranks; for
conversion, a logistic regression whose weights are bounded below by 0
(`scipy.optimize.minimize`, L-BFGS-B). A criterion score
left blank is taken at the criterion's median for the fit; a criterion with no value, or
the same value everywhere, cannot be weighed and gets 0 (said).

**The holdout, in time when the data allow it.** With an older snapshot (a second
``--last``, or a snapshot file holding an earlier date about a year before the latest),
the weights are fitted on the older snapshot against revenue N-1 and judged on last
year's snapshot against revenue N: the question a sales manager asks ("would these
weights have done better *next* year?"). With one pair of years only, there is no later
year to judge on: the accounts are split by their id (one in three held out, always the
same ones) and the gain says how the weights do on accounts they were not fitted on,
not whether the relation holds next year; the sheet says so.

**Judged by** Spearman's ρ between the weighted score (computed as a run computes it:
blank criteria leave the account's weighting) and the target, on the held-out accounts,
with the current weights and with the suggested ones. When the fitted weights do not rank
the held-out accounts better than chance (one-sided p ≥ 0.05), or nothing can be fitted,
the criteria are reported as predicting nothing there, and no weights are suggested.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..i18n import _
from ..problems import Problem
from .backtest import (SIGNIFICANT, YEAR_GAP_DAYS, Backtest, Revenue, Snapshot, p_text,
                       spearman)

MIN_FIT = 30       # accounts to fit weights on
MIN_TEST = 15      # held-out accounts to judge them on
MIN_CLASS = 3      # converted and not converted, each, for a conversion target
HOLDOUT_ONE_IN = 3  # with one pair of years: one account in three is held out (by id)


@dataclass
class Proposal:
    """Suggested weights for one group (``group``: a profile's name, "" for all
    accounts). Weights are shares of 100 over ``criteria``; ``suggested`` None when none
    is proposed (``verdict`` says why). ρ are Spearman's on the held-out accounts."""

    group: str
    target: str                       # "revenue" or "conversion"
    criteria: list[str]
    current: dict[str, float]
    suggested: dict[str, int] | None
    holdout: str                      # "time", "accounts" or "" (no fit)
    note: str
    n_fit: int = 0
    n_test: int = 0
    rho_current: float | None = None
    p_current: float | None = None
    rho_suggested: float | None = None
    p_suggested: float | None = None
    predicts: bool = False
    verdict: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def gain(self) -> float | None:
        if self.suggested is None or self.rho_current is None or self.rho_suggested is None:
            return None
        return self.rho_suggested - self.rho_current


# ---------------------------------------------------------------------------- the fit

def normal_scores(values: np.ndarray) -> np.ndarray:
    """The normal scores of the ranks (ties share their average rank): Φ⁻¹((r − ½) / n)."""
    from scipy.stats import norm, rankdata
    values = np.asarray(values, dtype=float)
    return norm.ppf((rankdata(values) - 0.5) / len(values))


def fit_weights(scores: pd.DataFrame, target: np.ndarray, binary: bool = False
                ) -> dict[str, float]:
    """Non-negative weights summing to 100 (criterion → weight) whose weighted score best
    follows ``target``: a least squares on the normal scores of its ranks (``binary``
    False), or a logistic regression of the 0/1 values (``binary`` True: conversion), the
    weights bounded below by 0 and the intercept free. Blank scores are the column's
    median; a column with no value or a single value weighs 0. Returns {} when no
    weighting follows the target (every weight 0)."""
    usable = [c for c in scores.columns
              if scores[c].notna().any() and np.nanmax(scores[c]) > np.nanmin(scores[c])]
    if not usable or len(scores) < 2:
        return {}
    x = scores[usable].to_numpy(dtype=float)
    med = np.nanmedian(x, axis=0)
    x = np.where(np.isnan(x), med, x)
    x = (x - x.mean(axis=0)) / 100.0  # centred: the intercept stays free
    y = np.asarray(target, dtype=float)
    w = _logistic(x, y) if binary else _least_squares(x, normal_scores(y))
    total = float(w.sum())
    if not total > 1e-12:
        return {}
    return {c: 100.0 * float(v) / total for c, v in zip(usable, w)}


def _least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares on centred values: among the non-negative weightings,
    the one whose score correlates best with ``y``."""
    from scipy.optimize import nnls
    return nnls(x, y - y.mean())[0]


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative logistic regression (maximum likelihood, L-BFGS-B with the weights
    bounded below by 0, the intercept free)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        ll = y * log_expit(z) + (1 - y) * log_expit(-z)
        g = y - expit(z)
        return -float(ll.sum()), -np.concatenate([[g.sum()], x.T @ g])

    k = x.shape[1]
    res = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B",
                   bounds=[(None, None)] + [(0, None)] * k)
    return np.clip(res.x[1:], 0, None)


def whole_percent(weights: Mapping[str, float]) -> dict[str, int]:
    """Weights as whole numbers summing to 100 (largest remainders round up)."""
    total = sum(weights.values())
    if total <= 0:
        return {k: 0 for k in weights}
    exact = {k: 100.0 * v / total for k, v in weights.items()}
    out = {k: int(math.floor(v)) for k, v in exact.items()}
    left = 100 - sum(out.values())
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[:left]:
        out[k] += 1
    return out


def score_with(scores: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """The weighted score as a run computes it (`potentiel.scoring.weighted_score`)."""
    from ..scoring import weighted_score
    return weighted_score(scores, dict(weights)).score.to_numpy(dtype=float)


def suggest(fit_x: pd.DataFrame, fit_y: np.ndarray, test_x: pd.DataFrame,
            test_y: np.ndarray, current: Mapping[str, float], *, binary: bool = False,
            group: str = "", holdout: str = "accounts", note: str = "",
            label: Any = None) -> Proposal:
    """Fit on (``fit_x``, ``fit_y``), judge the current and the suggested weights on
    (``test_x``, ``test_y``). ``fit_x``/``test_x``: criterion scores (same columns);
    ``current``: the weights in use (any scale; criteria missing from the scores are
    left out, said by the caller)."""
    criteria = list(fit_x.columns)
    cur = {c: float(current.get(c, 0) or 0) for c in criteria}
    cur_total = sum(cur.values())
    shown = shares(current, criteria)
    p = Proposal(group, "conversion" if binary else "revenue", criteria, shown, None,
                 holdout, note, n_fit=len(fit_x), n_test=len(test_x))
    if cur_total > 0:
        p.rho_current, p.p_current, _n = spearman(score_with(test_x, cur), test_y)
    fitted = fit_weights(fit_x, fit_y, binary)
    constant = [c for c in criteria if not (fit_x[c].notna().any() and
                                            np.nanmax(fit_x[c]) > np.nanmin(fit_x[c]))]
    if constant:
        p.problems.append(Problem(_("{group}: criteria {names} have no value or the same "
                                    "value for every account fitted; they cannot be weighed "
                                    "and get 0").format(group=_group_name(group),
                                                        names=", ".join(map(label or str,
                                                                            constant))),
                                  level="notice", kind="unweighable"))
    if not fitted:
        p.verdict = _nothing(p)
        return p
    whole = whole_percent(fitted)
    p.rho_suggested, p.p_suggested, _n = spearman(score_with(test_x, whole), test_y)
    p.predicts = p.rho_suggested is not None and p.p_suggested is not None and \
        p.rho_suggested > 0 and p.p_suggested < SIGNIFICANT
    if not p.predicts:
        p.verdict = _nothing(p)
        return p
    p.suggested = {c: whole.get(c, 0) for c in criteria}
    if p.rho_current is None:
        p.verdict = _("the suggested weights rank the held-out accounts with ρ = {s:.2f}; the "
                      "current weights could not be judged").format(s=p.rho_suggested)
    elif p.rho_suggested > p.rho_current:
        p.verdict = _("the suggested weights rank the held-out accounts better: ρ {c:.2f} → "
                      "{s:.2f} (+{g:.2f}); copy them into Settings if you agree").format(
                          c=p.rho_current, s=p.rho_suggested, g=p.gain)
    else:
        p.verdict = _("the current weights do as well or better on the held-out accounts "
                      "(ρ {c:.2f} against {s:.2f}): keep them").format(
                          c=p.rho_current, s=p.rho_suggested)
    return p


def shares(weights: Mapping[str, float], criteria: Sequence[str]) -> dict[str, float]:
    """``weights`` over ``criteria`` as shares of 100 (all 0 when none weighs)."""
    cur = {c: float(weights.get(c, 0) or 0) for c in criteria}
    total = sum(cur.values())
    return {c: 100.0 * v / total for c, v in cur.items()} if total > 0 else cur


def _nothing(p: Proposal) -> str:
    what = _("next year's conversion") if p.target == "conversion" else \
        _("next year's revenue")
    rho = "" if p.rho_suggested is None else _(" (best weighting: ρ = {rho:.2f}, {p} on the "
                                               "held-out accounts)").format(
                                                   rho=p.rho_suggested, p=p_text(p.p_suggested))
    return _("the criteria predict nothing here: no weighting of them ranks {what} better "
             "than chance{rho}; no weights are suggested, keep the current ones").format(
                 what=what, rho=rho)


def _group_name(group: str) -> str:
    return _("profile {name}").format(name=group) if group else _("all accounts")


# ---------------------------------------------------------------------------- from a backtest

def _held_out(account: str) -> bool:
    """One account in `HOLDOUT_ONE_IN`, by its id: the same accounts whatever the order."""
    return zlib.crc32(str(account).encode("utf-8")) % HOLDOUT_ONE_IN == 0


def _criteria_of(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if str(c).startswith("criterion:")]
    out = frame[cols].astype(float)
    out.columns = [c[len("criterion:"):] for c in cols]
    return out


def _older_frame(older: Snapshot, latest: Backtest, revenue: Revenue
                 ) -> tuple[pd.DataFrame | None, str]:
    """The older snapshot's accounts with their target, revenue N-1: this year's N-1 (or
    the invoice lines'), else the revenue the latest snapshot holds (N as of then)."""
    f = older.frame.copy()
    f = f[f["account"].notna() & ~f["account"].duplicated()]
    crit = older.criteria.loc[f.index]
    if revenue.n1 is not None and revenue.n1.notna().any():
        target = revenue.n1.reindex(f["account"]).to_numpy(dtype=float)
        if revenue.complete:
            target = np.where(f["account"].isin(revenue.n1.index).to_numpy(), target, 0.0)
        how = _("revenue N-1 from {source}").format(source=revenue.source)
    else:
        last = latest.snapshot.frame.drop_duplicates("account").set_index("account")["revenue"]
        if not last.notna().any():
            return None, ""
        target = last.reindex(f["account"]).to_numpy(dtype=float)
        how = _("the revenue last year's snapshot holds")
    ok = ~np.isnan(target)
    out = f[ok].reset_index(drop=True)
    out["revenue_n"] = np.clip(target[ok], 0, None)
    from .backtest import NON_CLIENTS
    out["prospect"] = out["status"].isin(NON_CLIENTS).to_numpy() if out["status"].notna().any() \
        else out["profile"].map(lambda p: isinstance(p, str) and "prospect" in p.lower())
    crit = crit[ok].reset_index(drop=True)
    return pd.concat([out, crit.add_prefix("criterion:")], axis=1), how


def pick_older(snapshots: Sequence[Snapshot], latest: Snapshot) -> tuple[Snapshot | None, str]:
    """The snapshot to fit on for a time-based holdout: about a year before ``latest``
    (`YEAR_GAP_DAYS`), with criterion scores; undated ones count as a year apart in the
    order given. (None, why) when there is none."""
    earlier = [s for s in snapshots if s is not latest]
    if not earlier:
        return None, _("only one snapshot was given")
    with_scores = [s for s in earlier if len(s.criteria.columns)]
    if not with_scores:
        return None, _("the earlier snapshot has no criterion scores")
    if latest.when is None or any(s.when is None for s in with_scores):
        return with_scores[-1], _("undated snapshots taken a year apart, in the order given")
    gaps = [((latest.when - s.when).days, s) for s in with_scores]
    fit = [(abs(d - 365), s) for d, s in gaps if YEAR_GAP_DAYS[0] <= d <= YEAR_GAP_DAYS[1]]
    if not fit:
        return None, _("no earlier snapshot is about a year before the latest one")
    return min(fit, key=lambda t: t[0])[1], ""


def suggest_weights(bt: Backtest, current: Mapping[str, float],
                    profile_weights: Mapping[str, Mapping[str, float]] | None = None,
                    older: Snapshot | None = None, why_not_time: str = "",
                    label: Any = None) -> list[Proposal]:
    """Suggested weights per group of the backtest (each profile, else all accounts).

    ``current``: the run's weights; ``profile_weights``: each profile's own (profile →
    weights); ``older``: a snapshot about a year before the backtest's, for a time-based
    holdout (`pick_older`), else the accounts are split by id and ``why_not_time`` says
    why. ``label``: criterion name → the word shown (for the notes)."""
    test_all = bt.accounts
    criteria = _criteria_of(test_all) if test_all is not None else pd.DataFrame()
    if test_all is None or not len(criteria.columns):
        return [_empty(_("last year's snapshot has no criterion scores (the Score: "
                         "<criterion> columns of a scored workbook): weights cannot be "
                         "fitted; give the workbook scored last year"))]
    fit_all, how = (None, "")
    if older is not None:
        fit_all, how = _older_frame(older, bt, bt.revenue)
        if fit_all is None:
            why_not_time = _("revenue N-1 is not known (no N-1 column, and last year's "
                             "snapshot holds no revenue)")
    if fit_all is not None:
        holdout = "time"
        note = _("Holdout in time: fitted on {older} against {how}, judged on {latest} "
                 "against revenue N.").format(older=older.label, how=how,
                                             latest=bt.snapshot.label)
    else:
        holdout = "accounts"
        why = f" ({why_not_time})" if why_not_time else ""
        note = _("Holdout by account, not in time: one pair of years only{why}, so one "
                 "account in three (chosen by its id) is held out; the gain says how the "
                 "weights do on accounts they were not fitted on, not whether it holds next "
                 "year. Give an older scored workbook (a second --last) for a holdout in "
                 "time.").format(why=why)
    groups = [g.name for g in bt.groups]
    out = []
    for group in groups:
        test = test_all if not group else test_all[test_all["profile"] == group]
        if fit_all is not None:
            fit = fit_all if not group else fit_all[fit_all["profile"] == group]
        else:
            mask = test["account"].map(_held_out).to_numpy(dtype=bool)
            fit, test = test[~mask], test[mask]
        weights = dict((profile_weights or {}).get(group, current)) if group else dict(current)
        binary = bool(len(test)) and float(test["prospect"].mean()) >= 0.5
        names = [c for c in _criteria_of(test).columns if c in _criteria_of(fit).columns]
        fx, tx = _criteria_of(fit)[names], _criteria_of(test)[names]
        fy = (fit["revenue_n"] > 0).astype(float).to_numpy() if binary else \
            fit["revenue_n"].to_numpy(dtype=float)
        ty = (test["revenue_n"] > 0).astype(float).to_numpy() if binary else \
            test["revenue_n"].to_numpy(dtype=float)
        missing = [c for c, w in weights.items() if w and c not in names]
        short = _too_few(len(fit), len(test), fy if binary else None,
                         ty if binary else None)
        if short:
            p = Proposal(group, "conversion" if binary else "revenue", names,
                         shares(weights, names), None, holdout, note, len(fit), len(test),
                         verdict=short)
        else:
            p = suggest(fx, fy, tx, ty, weights, binary=binary, group=group,
                        holdout=holdout, note=note, label=label)
        if missing:
            shown = ", ".join(label(c) if label else c for c in missing)
            p.problems.append(Problem(_("{group}: {names} weigh in the current weights but "
                                        "have no score in last year's snapshot; left out of "
                                        "the comparison").format(group=_group_name(group),
                                                                 names=shown),
                                      level="notice", kind="weights-not-scored"))
        out.append(p)
    return out


def _too_few(n_fit: int, n_test: int, fy: np.ndarray | None, ty: np.ndarray | None) -> str:
    if n_fit < MIN_FIT or n_test < MIN_TEST:
        return _("too few accounts to fit weights: {fit} to fit on and {test} held out (at "
                 "least {min_fit} and {min_test} are needed)").format(
                     fit=n_fit, test=n_test, min_fit=MIN_FIT, min_test=MIN_TEST)
    if fy is not None:
        for y in (fy, ty):
            won, lost = int(y.sum()), int(len(y) - y.sum())
            if won < MIN_CLASS or lost < MIN_CLASS:
                return _("too few conversions to fit weights: {won} converted and {lost} "
                         "not, where {min} of each are needed to fit on and to judge").format(
                             won=won, lost=lost, min=MIN_CLASS)
    return ""


def _empty(why: str) -> Proposal:
    return Proposal("", "revenue", [], {}, None, "", why, verdict=why)


# ---------------------------------------------------------------------------- shown

def _title(p: Proposal) -> str:
    return _("Profile {name}").format(name=p.group) if p.group else _("All accounts")


def _target(p: Proposal) -> str:
    return _("conversion") if p.target == "conversion" else _("revenue N rank")


def _ordered(proposals: Sequence[Proposal]) -> list[str]:
    """The criteria of ``proposals``, heaviest first (current, then suggested weight)."""
    names = list(dict.fromkeys(c for p in proposals for c in p.criteria))

    def weight(c: str) -> tuple:
        cur = max((p.current.get(c, 0) for p in proposals), default=0)
        sug = max(((p.suggested or {}).get(c, 0) for p in proposals), default=0)
        return (-cur, -sug, c)
    return sorted(names, key=weight)


def proposal_rows(proposals: Sequence[Proposal], max_criteria: int, max_groups: int,
                  label: Any = None) -> list[list[Any]]:
    """The Suggested weights block: title, holdout note, header, one row per criterion
    (``max_criteria`` rows), ρ current / suggested / gain, one verdict per group
    (``max_groups`` rows); ``label``: criterion name → the word shown."""
    from ..config import criterion_word
    label = label or criterion_word
    shown = [p for p in proposals if p.criteria or p.verdict][:max_groups]
    rows: list[list[Any]] = [[_("Suggested weights: a proposal, nothing is applied "
                                "(current weights as shares of 100)")]]
    rows.append([shown[0].note if shown else _("no suggestion: no backtest data")])
    header: list[Any] = [_("Criterion")]
    for p in shown:
        header += [_("{group}: current").format(group=_title(p)),
                   _("{group}: suggested ({target})").format(group=_title(p), target=_target(p))]
    rows.append(header)
    names = _ordered(shown)[:max_criteria]
    for c in names:
        line: list[Any] = [label(c)]
        for p in shown:
            cur = p.current.get(c) if c in p.criteria else None
            sug = p.suggested.get(c) if p.suggested and c in p.criteria else None
            line += [None if cur is None else round(cur, 1), sug]
        rows.append(line)
    rows += [[None]] * (max_criteria - len(names))
    rho_rows = ([_("ρ on held-out accounts, current weights")],
                [_("ρ on held-out accounts, suggested weights")], [_("Gain")])
    for p in shown:
        rho_rows[0].extend([p.rho_current, None])
        rho_rows[1].extend([None, p.rho_suggested])
        rho_rows[2].extend([None, p.gain])
    rows += [[None if isinstance(v, float) and math.isnan(v) else
              (round(v, 3) if isinstance(v, float) else v) for v in r] for r in rho_rows]
    for p in shown:
        rows.append([_title(p), p.verdict])
    rows += [[None]] * (max_groups - len(shown))
    return rows


def proposal_lines(proposals: Sequence[Proposal], label: Any = None) -> list[str]:
    """The suggested weights for the terminal, in the run's language."""
    from ..config import criterion_word
    label = label or criterion_word
    out = [_("Suggested weights: a proposal, nothing is applied (current weights as shares "
             "of 100)")]
    if proposals and proposals[0].note:
        out.append("  " + proposals[0].note)
    for p in proposals:
        if not p.criteria and not p.group:
            continue
        out.append("  " + _("{group}, fitted to {target} ({fit} accounts fitted, {test} held "
                            "out):").format(group=_title(p), target=_target(p), fit=p.n_fit,
                                            test=p.n_test))
        for c in _ordered([p]):
            cur = p.current.get(c)
            sug = p.suggested.get(c) if p.suggested else None
            out.append("    {:<16} {:>7} → {:>5}".format(
                label(c)[:16], "-" if cur is None else f"{cur:.1f}",
                "-" if sug is None else str(sug)))
        out.append("    " + p.verdict)
    if proposals and not proposals[0].criteria and proposals[0].verdict and \
            not proposals[0].group and proposals[0].verdict != proposals[0].note:
        out.append("  " + proposals[0].verdict)  # (said once when it is the note too)
    return out
