"""Running the criteria safely, and the weighted score with its confidence.

Each criterion scores the whole table inside the core's error handling: a criterion that
raises, returns the wrong length, values outside 0–100 or nothing usable is named in the
warnings and its column is blank (or clipped), and the run goes on. The weighted score
leaves out, account by account, the criteria that could not be scored; ``Confidence`` is
the share of the model's weight that rests on known values. A criterion whose input
columns are all absent from the workbook is unknown for every account: it lowers
everyone's confidence (one run-level warning names the columns, `absent_columns_warning`).
Only a weight of 0, set by the company in the rule file or in Settings, leaves a
criterion out of the model.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .criterion import Criterion, Scored
from .i18n import _
from .problems import Problem

DEFAULT_TIME_LIMIT_S = 30.0
TIME_LIMIT_ENV = "POTENTIEL_CRITERION_TIME_LIMIT"  # seconds per criterion; 0 for none


def time_limit_from_env(default: float = DEFAULT_TIME_LIMIT_S) -> float:
    """The per-criterion time limit: ``$POTENTIEL_CRITERION_TIME_LIMIT`` or the default."""
    import os
    text = os.environ.get(TIME_LIMIT_ENV, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 and value == value else default


@dataclass
class CriteriaScores:
    scores: pd.DataFrame                       # criterion → 0–100 / NaN
    reasons: pd.DataFrame                      # criterion → short text / None
    failed: dict[str, str] = field(default_factory=dict)   # criterion → what went wrong
    absent: dict[str, list[str]] = field(default_factory=dict)  # criterion → absent inputs


class _Worker:
    """One thread that runs the criteria one after the other, each within its time limit.

    Starting a thread per criterion costs a thread start and a hand-over each; one worker
    serves them all. A criterion past its limit is given up: its thread is left to finish
    (a daemon, as before) and the next criterion gets a new worker.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def call(self, crit: Criterion, view: pd.DataFrame, params: Mapping[str, Any],
             limit: float) -> Any:
        """``crit.score(view, params)`` in the worker, in the caller's context (its
        language, for the reasons' words); TimeoutError after ``limit`` seconds."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, args=(self._jobs, self._done),
                                            name="criteria", daemon=True)
            self._thread.start()
        self._jobs.put((contextvars.copy_context(), crit, view, params))
        try:
            ok, value = self._done.get(timeout=limit)
        except queue.Empty:
            # left running; the next criterion gets new queues and a new thread
            self._jobs.put(None)
            self.__init__()
            raise TimeoutError(f"took longer than {limit:g} s") from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    @staticmethod
    def _serve(jobs: queue.SimpleQueue, done: queue.SimpleQueue) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            context, crit, view, params = job
            try:
                done.put((True, context.run(crit.score, view, params)))
            except BaseException as exc:  # reported by the caller, named by criterion
                done.put((False, exc))
            del job, context, crit, view, params


def _call_with_limit(crit: Criterion, view: pd.DataFrame, params: Mapping[str, Any],
                     limit: float | None, worker: _Worker) -> Any:
    """Run ``crit.score``; give up after ``limit`` seconds (the thread is left to finish)."""
    if not limit:
        return crit.score(view, params)
    return worker.call(crit, view, params, limit)


def run_criteria(accounts: pd.DataFrame, criteria: Mapping[str, Criterion],
                 params: Mapping[str, Mapping[str, Any]], present: set[str],
                 warnings: list[Problem], time_limit: float | None = -1.0
                 ) -> CriteriaScores:
    """Score every account on every criterion; failures become warnings, not crashes.

    ``time_limit`` is in seconds per criterion (0 or None: none); left out, it is
    ``$POTENTIEL_CRITERION_TIME_LIMIT`` or 30 s."""
    if time_limit is not None and time_limit < 0:
        time_limit = time_limit_from_env()
    index = accounts.index
    scores: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    result = CriteriaScores(pd.DataFrame(index=index), pd.DataFrame(index=index))
    worker = _Worker()
    try:
        for name, crit in criteria.items():
            scores[name] = reasons[name] = None  # blank, unless it scores
            absent = [i.name for i in crit.inputs if i.name not in present]
            result.absent[name] = absent
            if crit.inputs and len(absent) == len(crit.inputs):
                continue  # unknown for every account: one run-level warning
                #             (absent_columns_warning)
            said = None
            if absent:
                said = len(warnings)
                warnings.append(Problem(
                    _("criterion {name}: column {list} is not in the Accounts table; it scores "
                      "on the other inputs").format(name=name, list=_titles(crit, absent)),
                    kind="absent-input"))
            view = accounts.copy(deep=False)
            for missing in absent:
                view[missing] = np.nan if crit_input_numeric(crit, missing) else None
            try:
                out = _call_with_limit(crit, view, crit.resolve_params(params.get(name)),
                                       time_limit, worker)
                score, reason = _check_output(name, out, index, warnings)
            except Exception as exc:
                msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                result.failed[name] = msg
                warnings.append(Problem(_("criterion {name} failed ({error}); its scores are left "
                                          "blank and the weights rest on the others").format(
                                            name=name, error=msg)))
                continue
            if score.isna().all() and len(index):
                result.failed[name] = "no account could be scored"
                inputs = [i.name for i in crit.inputs if i.name in present and i.name in accounts]
                filled = int(accounts[inputs].notna().all(axis=1).sum()) if inputs else 0
                if absent and said is not None:  # one true line, not "missing" then "filled"
                    warnings[said] = Problem(
                        _("criterion {name} scored no account: it needs {list}, which is not in "
                          "the Accounts table, and cannot score on the other inputs alone; add the "
                          "column (or set its weight to 0)").format(
                              name=name, list=_titles(crit, absent)), kind="absent-input")
                elif filled:  # NaN is for missing inputs: blank with every input filled is a fault
                    warnings.append(Problem(_("criterion {name} scored no account, though {filled} "
                                              "account(s) have all its inputs; its scores are "
                                              "blank and the weights rest on the others").format(
                                                name=name, filled=filled)))
            scores[name], reasons[name] = score, reason
    finally:
        worker.close()
    for name in scores:
        if scores[name] is None:
            scores[name] = pd.Series(np.nan, index=index)
        if reasons[name] is None:
            reasons[name] = pd.Series(np.full(len(index), None, dtype=object), index=index,
                                      dtype=object)
    result.scores = pd.DataFrame(scores, index=index)
    # the reason columns side by side, not copied into one block of objects
    result.reasons = pd.concat(reasons, axis=1) if reasons else pd.DataFrame(index=index)
    return result


def without_columns(criteria: Mapping[str, Criterion], absent: Mapping[str, list[str]],
                    weights: Mapping[str, float]) -> list[str]:
    """The criteria in the model (weight > 0) none of whose input columns is in the table."""
    return [name for name, crit in criteria.items()
            if weights.get(name, 0) > 0 and crit.inputs
            and len(absent.get(name, ())) == len(crit.inputs)]


def absent_columns_warning(criteria: Mapping[str, Criterion], absent: Mapping[str, list[str]],
                           weights: Mapping[str, float],
                           confidence: pd.Series | None = None) -> Problem | None:
    """One run-level warning naming the criteria of the model that have no column in the
    Accounts table, and what that does to confidence; None if there is none.

    ``absent``: criterion → input fields not in the table (`CriteriaScores.absent`);
    ``weights``: criterion → weight as the company set it (any scale); ``confidence``:
    per account, 0–1 (`Weighted.confidence`), to say how many accounts are thin."""
    names = without_columns(criteria, absent, weights)
    if not names:
        return None
    sep = _(" or ")
    listed = "; ".join(f"{n} ({sep.join(i.title for i in criteria[n].inputs)})" for n in names)
    which = _("1 criterion") if len(names) == 1 else _("{n} criteria").format(n=len(names))
    if confidence is not None and len(confidence):
        conf = confidence.fillna(0.0).to_numpy(dtype=float)
        thin = int((conf <= 0.5).sum())
        effect = _("the best-known account rests on {share:.0f} % of the weight "
                   "(Confidence)").format(share=conf.max() * 100)
        if thin:
            effect += _(", and {n} of {total} rest on half of it or less, which the default "
                        "rules (thin-data) keep out of A").format(n=thin, total=len(conf))
    else:
        total = sum(w for w in weights.values() if w > 0)
        reach = (total - sum(weights[n] for n in names)) / total if total > 0 else 0.0
        effect = _("no account rests on more than {share:.0f} % of the weight "
                   "(Confidence)").format(share=reach * 100)
    return Problem(
        _("no column in the Accounts table for {which} of the model: {listed}. Unknown for "
          "every account: {effect}. Add the columns, or set the weight to 0 in Settings or the "
          "rule file to leave a criterion out of the model.").format(
            which=which, listed=listed, effect=effect),
        kind="criteria-without-columns")


def crit_input_numeric(crit: Criterion, name: str) -> bool:
    return next((i.numeric for i in crit.inputs if i.name == name), True)


def _check_output(name: str, out: Any, index: pd.Index, warnings: list[Problem]) -> tuple[
        pd.Series, pd.Series]:
    reason = None
    if isinstance(out, Scored) or (isinstance(out, tuple) and len(out) == 2):
        out, reason = out
    if not isinstance(out, (pd.Series, np.ndarray, list)):
        raise TypeError(f"score() returned {type(out).__name__}, not a Series")
    values = out.to_numpy() if isinstance(out, pd.Series) else np.asarray(out)
    if len(values) != len(index):
        raise ValueError(f"score() returned {len(values)} values for {len(index)} accounts")
    if isinstance(out, pd.Series) and not out.index.equals(index):
        if set(out.index) == set(index):
            values = out.reindex(index).to_numpy()
    try:
        values = values.astype(float)
    except (TypeError, ValueError):
        raise TypeError("score() returned values that are not numbers") from None
    values = np.where(np.isfinite(values), values, np.nan)
    outside = (values < 0) | (values > 100)
    if outside.any():
        warnings.append(Problem(_("criterion {name} returned {n} score(s) outside 0–100; "
                                  "they were clipped").format(name=name, n=int(outside.sum()))))
        values = np.clip(values, 0, 100)
    score = pd.Series(values, index=index, dtype=float)
    if reason is None:
        reason_s = pd.Series(np.full(len(index), None, dtype=object), index=index,
                             dtype=object)
    else:
        r = reason.to_numpy() if isinstance(reason, pd.Series) else np.asarray(reason, dtype=object)
        if len(r) != len(index):
            r = np.full(len(index), None, dtype=object)
        reason_s = pd.Series(r, index=index, dtype=object)
    return score, reason_s


@dataclass
class Weighted:
    score: pd.Series          # 0–100, NaN when no criterion is known
    confidence: pd.Series     # share of the model's weight on known criteria (0–1)
    contributions: pd.DataFrame  # points each criterion brings to the score
    weights: dict[str, float]    # normalised (sum 1 over weight > 0)


def weighted_score(scores: pd.DataFrame, weights: Mapping[str, float],
                   rows: np.ndarray | None = None) -> Weighted:
    """Weights are normalised; an unknown criterion is left out of that account's weighting
    and lowers its confidence. Every criterion with a weight > 0 is in the model, known or
    not (a criterion without any column is all NaN in ``scores``). ``rows`` (a boolean
    mask): those accounts only, as ``weighted_score(scores[rows], weights)`` gives them."""
    names = [c for c in scores.columns if weights.get(c, 0) > 0]
    total = sum(weights[c] for c in names)
    index = scores.index if rows is None else scores.index[rows]
    if not names or total <= 0:
        nan = pd.Series(np.nan, index=index)
        return Weighted(nan, pd.Series(0.0, index=index), pd.DataFrame(index=index), {})
    w = [weights[c] / total for c in names]
    if len(index) < 2:  # one row is contiguous both ways: numpy sums it pairwise
        return _weighted_rows(scores[names] if rows is None else scores[rows][names], w)
    # column by column (no frame copy): each sum accumulates the columns in order, as
    # numpy sums the rows of the column-major array a frame gives
    columns = [scores[c].to_numpy(dtype=float) for c in names]
    if rows is not None:
        columns = [c[rows] for c in columns]
    known = [~np.isnan(c) for c in columns]
    points = [(np.where(k, c, 0.0) if not np.isinf(c).any() else np.nan_to_num(c)) * wc
              for c, k, wc in zip(columns, known, w)]  # np.nan_to_num, without its passes
    den = known[0] * w[0]
    num = points[0].copy()
    for k, p, wc in zip(known[1:], points[1:], w[1:]):
        den += k * wc
        num += p
    # rounded: 0.25 + 0.1 + 0.1 + 0.05 must be 0.5, not 0.49999999999999994 (a threshold
    # such as "confidence <= 50%" reads it)
    den = np.round(den, 9)
    contrib = np.empty((len(den), len(names)), order="F")  # a frame's own layout
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
        for j, (k, p) in enumerate(zip(known, points)):
            contrib[:, j] = np.where(k, p / den, np.nan)
    return Weighted(pd.Series(score, index=index), pd.Series(den, index=index),
                    pd.DataFrame(contrib, index=index, columns=names),
                    dict(zip(names, w)))


def _weighted_rows(scores: pd.DataFrame, w: list[float]) -> Weighted:
    """`weighted_score` of ``scores`` (the criteria weighted, weights ``w`` normalised) as
    one frame-wide computation."""
    index, names = scores.index, list(scores.columns)
    s = scores.to_numpy(dtype=float)
    known = ~np.isnan(s)
    den = np.round((known * w).sum(axis=1), 9)
    num = (np.nan_to_num(s) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
        contrib = np.where(known, np.nan_to_num(s) * w / den[:, None], np.nan)
    return Weighted(pd.Series(score, index=index), pd.Series(den, index=index),
                    pd.DataFrame(contrib, index=index, columns=names), dict(zip(names, w)))


def _titles(crit: Criterion, names: list[str]) -> str:
    """The inputs as a person reads their headers (``DSO (days), Credit rating``), not as
    field names (``dso_days``), in the run's language."""
    from .fields import BUILTIN_FIELDS
    known = {f.name: f for f in BUILTIN_FIELDS}
    known.update({i.name: i for i in crit.inputs if i.label})
    return ", ".join(_(known[n].title) if n in known else n for n in names)
