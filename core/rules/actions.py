"""Rule actions: what a rule's ``then:`` may do, built-in ones and the contract for plugins.

An action is a `RuleAction`: ``check(value)`` validates what the rule file says (raising
``ValueError`` with a plain message) and returns the value to use; ``apply(result, mask,
value, rule_id)`` records the effect on every account where the rule fired (``mask``, a
bool Series), on the whole table at once. When several rules touch the same thing, the
outcome must not depend on their order: rules are applied in id order, and an action
whose outcome needs to see every rule first (``set``, ``score``, ``force``) collects
requests in ``result.pending`` and decides in ``finish(result)``.

Built-in outcomes: flags accumulate; ``points`` add up; the strictest ``cap`` (worst
letter) and the highest ``floor`` win; ``force`` beats both, and two different forces on
one account cancel each other (reported); ``set`` and ``score`` go to the highest
``priority``, and two different values at the same priority cancel each other (reported);
``exclude`` takes the account out of ranking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..i18n import _, ngettext
from ..objects import identities
from ..problems import Problem
from .names import CATEGORY_NAME
from .result import RulesResult

MAX_POINTS = 1_000_000.0  # a weighted score takes at most 100 (checked by the file's model)
MAX_EXAMPLES = 5  # account ids quoted in one conflict message


@dataclass(frozen=True)
class RuleAction:
    """One thing a rule can do. ``name`` is the key in ``then:``."""

    name: str
    check: Callable[[Any], Any]
    apply: Callable[[RulesResult, pd.Series, Any, str], None]
    description: str = ""
    finish: Callable[[RulesResult], None] | None = None


# ----------------------------------------------------------------------------- checks

_FLAG = re.compile(r"^[\w][\w .:/+-]*$")


def _check_flag(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(_("a flag is a short text, e.g. flag: inaccessible (or a list of "
                               "them)"))
        item = item.strip()
        if len(item) > 60 or not _FLAG.match(item):
            raise ValueError(_('"{flag}" is not a usable flag: use letters, digits, "-" or '
                               '"_" (at most 60 characters)').format(flag=item))
        out.append(item)
    if not out:
        raise ValueError(_("give at least one flag"))
    return tuple(sorted(set(out)))


def _check_letter(value: Any) -> str:
    if not isinstance(value, str) or not CATEGORY_NAME.match(value.strip().upper()):
        raise ValueError(_("{value!r} is not a category letter (such as A, B, C, D, or a name "
                           "such as A+, A- or A1)").format(value=value))
    return value.strip().upper()


def _one_points(value: Any, what: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(_("{what}{value!r} is not a number of points: write e.g. points: 5 "
                           "or points: -10, or points: {{fit: 10}} for a sub-score").format(
                             what=what, value=value))
    if abs(value) > MAX_POINTS:
        raise ValueError(_("{what}{value:g} points is too many: at most {most:g} either "
                           "way").format(what=what, value=value, most=MAX_POINTS))
    return float(value)


def _check_points(value: Any) -> float | dict:
    """A number (the score's points) or {sub-score: number, …}; ``score`` in the mapping
    names the score itself. The file's score model bounds it further (see scoremodel.py)."""
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(_("give at least one sub-score, e.g. points: {fit: 10}"))
        return {str(k): _one_points(v, f"{k}: ") for k, v in value.items()}
    return _one_points(value)


def _check_exclude(value: Any) -> bool:
    if value is not True:
        raise ValueError(_("write exclude: true (or remove it)"))
    return True


def _check_mapping(value: Any, expected: str) -> dict:
    """``expected``: the whole message (translated) for a value that is not key: value pairs."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError(expected)
    out = {}
    for k, v in value.items():
        if not isinstance(k, str):
            raise ValueError(expected)
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ValueError(_("{key}: {value!r} is not a number or a text").format(
                key=k, value=v))
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(_("{key}: {value!r} is not a usable number").format(key=k, value=v))
        out[k] = v
    return out


def _check_set(value: Any) -> dict:
    return _check_mapping(value, _("expected field: value pairs, e.g. set: {salesperson: Key "
                                   "accounts}"))


def _check_score(value: Any) -> dict:
    out = _check_mapping(value, _("expected criterion: score pairs, e.g. score: "
                                  "{accessibility: 0}"))
    for k, v in out.items():
        if isinstance(v, str) or not 0 <= v <= 100:
            raise ValueError(_("{key}: a score is a number from 0 to 100, not {value!r}").format(
                key=k, value=v))
        out[k] = float(v)
    return out


# ----------------------------------------------------------------------------- effects

def _bool(mask: pd.Series) -> np.ndarray:
    return np.asarray(mask, dtype=bool)


def _apply_flag(result: RulesResult, mask: pd.Series, value: tuple, rule_id: str) -> None:
    flags = result.pending.setdefault("flag", {})
    m = _bool(mask)
    for flag in value:
        flags[flag] = flags[flag] | m if flag in flags else m.copy()


def row_tuples(matrix: np.ndarray, names: list[str], index: pd.Index) -> pd.Series:
    """Per row, the tuple of ``names`` whose column is True (built once per distinct row)."""
    n, k = matrix.shape
    if k == 0 or n == 0:
        return pd.Series([()] * n, index=index, dtype=object)
    arr = np.array(names, dtype=object)
    if k <= 62:
        # one integer per row (bit j = column j), then one tuple per distinct integer
        code = np.zeros(n, dtype=np.int64)
        for j in range(k):
            code |= matrix[:, j].astype(np.int64) << j
        inverse, distinct = pd.factorize(code)  # hashed, not sorted
        rows = ((distinct[:, None] >> np.arange(k)) & 1).astype(bool)
    else:
        packed = np.packbits(matrix, axis=1)
        distinct, inverse = np.unique(packed, axis=0, return_inverse=True)
        rows = np.unpackbits(distinct, axis=1, count=k).astype(bool)
    tuples = np.empty(len(rows), dtype=object)
    tuples[:] = [tuple(arr[row]) for row in rows]
    return pd.Series(tuples[inverse.reshape(-1)], index=index, dtype=object)


def _finish_flag(result: RulesResult) -> None:
    flags: dict = result.pending.pop("flag", {})
    names = sorted(flags)
    if names:
        matrix = np.column_stack([flags[n] for n in names])
        ours = row_tuples(matrix, names, result.flags.index)
        # Flags a plugin action set directly on result.flags are kept, merged in.
        before = result.flags
        # the empty tuple is one object: only the other cells are measured
        extra = identities(before.to_numpy(dtype=object)) != id(())
        at = np.flatnonzero(extra)
        extra[at] = [len(v) > 0 for v in before.to_numpy(dtype=object)[at].tolist()]
        if extra.any():
            merged = [tuple(sorted({*a, *b})) for a, b in zip(before[extra], ours[extra])]
            ours = ours.copy()
            ours[extra] = pd.Series(merged, index=ours.index[extra], dtype=object)
        result.flags = ours


def _apply_points(result: RulesResult, mask: pd.Series, value: float | dict,
                  rule_id: str) -> None:
    m = _bool(mask)
    if not isinstance(value, dict):
        value = {"score": value}
    for name, n in value.items():
        if name == "score":
            result.points = result.points + np.where(m, n, 0.0)
        else:
            before = result.subpoints.get(name)
            before = before if before is not None else pd.Series(0.0, index=result.flags.index)
            result.subpoints[name] = before + np.where(m, n, 0.0)


def _apply_exclude(result: RulesResult, mask: pd.Series, value: bool, rule_id: str) -> None:
    result.exclude = result.exclude | _bool(mask)


def _ranks(result: RulesResult, key: str, start: int) -> np.ndarray:
    """Category ranks being collected for ``key`` (0 = best letter; ``start`` = none)."""
    if key not in result.pending:
        result.pending[key] = np.full(len(result.flags), start, dtype=int)
    return result.pending[key]


def _apply_cap(result: RulesResult, mask: pd.Series, value: str, rule_id: str) -> None:
    # The strictest cap is the worst letter: the largest rank.
    ranks = _ranks(result, "cap", -1)
    np.maximum(ranks, np.where(_bool(mask), result.letters.index(value), -1), out=ranks)


def _apply_floor(result: RulesResult, mask: pd.Series, value: str, rule_id: str) -> None:
    # The highest floor is the best letter: the smallest rank.
    ranks = _ranks(result, "floor", len(result.letters))
    np.minimum(ranks, np.where(_bool(mask), result.letters.index(value), len(result.letters)),
               out=ranks)


def _letters(result: RulesResult, ranks: np.ndarray) -> pd.Series:
    letters = np.array([*result.letters, None], dtype=object)
    valid = (ranks >= 0) & (ranks < len(result.letters))
    return pd.Series(letters[np.where(valid, ranks, len(result.letters))],
                     index=result.flags.index, dtype=object)


def _finish_cap(result: RulesResult) -> None:
    if "cap" in result.pending:
        result.cap = _letters(result, result.pending.pop("cap"))


def _finish_floor(result: RulesResult) -> None:
    if "floor" in result.pending:
        result.floor = _letters(result, result.pending.pop("floor"))


def _request(result: RulesResult, key: str, mask: pd.Series, value: Any, rule_id: str) -> None:
    result.pending.setdefault(key, []).append(
        (rule_id, result.priority.get(rule_id, 0), _bool(mask), value))


def _resolve(result: RulesResult, requests: list, what: str,
             fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Highest priority wins; two different values at the top priority cancel out.

    Returns (values, decided): values per account (object), and where one was decided.
    """
    n = len(result.flags)
    best = np.full(n, -math.inf)
    values = np.full(n, None, dtype=object)
    owner = np.full(n, None, dtype=object)
    clash = np.zeros(n, dtype=bool)
    clashes: dict[tuple, list[int]] = {}
    for rule_id, priority, mask, value in sorted(requests, key=lambda r: (-r[1], r[0])):
        new = mask & (best < priority)
        values[new], owner[new], best[new] = value, rule_id, priority
        same_level = mask & ~new & (best == priority)
        for i in np.flatnonzero(same_level):
            if not _same(values[i], value):
                clash[i] = True
                key = (owner[i], rule_id, values[i], value)
                clashes.setdefault(key, []).append(i)
    for (first, second, v1, v2), rows in sorted(clashes.items(), key=lambda kv: kv[1][0]):
        ids = [str(v) for v in result.ids.iloc[rows].astype(str)] if result.ids is not None \
            else [str(i) for i in rows]
        shown = ", ".join(ids[:MAX_EXAMPLES]) + (
            _(" and {n} more").format(n=len(ids) - MAX_EXAMPLES) if len(ids) > MAX_EXAMPLES
            else "")
        result.problems.append(Problem(
            ngettext('rules "{first}" and "{second}" {what} ({one} and {other}) on account '
                     "{accounts}: neither applies there; {fix}",
                     'rules "{first}" and "{second}" {what} ({one} and {other}) on accounts '
                     "{accounts}: neither applies there; {fix}", len(ids)).format(
                first=first, second=second, what=what, one=_show(v1), other=_show(v2),
                accounts=shown, fix=fix),
            "", "warning"))
    values[clash] = None
    decided = np.array([o is not None for o in owner], dtype=bool) & ~clash
    return values, decided


def _show(v: Any) -> str:
    return _('"{text}"').format(text=v) if isinstance(v, str) else f"{v:g}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return float(a) == float(b)


def _series(values: np.ndarray, decided: np.ndarray, index: pd.Index) -> pd.Series:
    chosen = [v for v, d in zip(values, decided) if d]
    if chosen and all(not isinstance(v, str) for v in chosen):
        out = np.full(len(values), np.nan)
        out[decided] = [float(v) for v in chosen]
        return pd.Series(out, index=index)
    obj = np.full(len(values), None, dtype=object)
    obj[decided] = chosen
    return pd.Series(obj, index=index, dtype=object)


def _apply_set(result: RulesResult, mask: pd.Series, value: dict, rule_id: str) -> None:
    for field, v in value.items():
        _request(result, f"set:{field}", mask, v, rule_id)


def _apply_score(result: RulesResult, mask: pd.Series, value: dict, rule_id: str) -> None:
    for criterion, v in value.items():
        _request(result, f"score:{criterion}", mask, v, rule_id)


def _finish_keyed(result: RulesResult, prefix: str, what: str, target: dict) -> None:
    """Decide the ``prefix`` requests; ``what``: the conflict's verb, with ``{name}`` for the
    field or criterion (translated)."""
    for key in sorted(k for k in result.pending if k.startswith(prefix)):
        requests = result.pending.pop(key)
        values, decided = _resolve(result, requests, what.format(name=key[len(prefix):]),
                                   _("give one of them a higher priority"))
        name = key[len(prefix):]
        series = _series(values, decided, result.flags.index)
        if prefix == "score:":
            series = series.astype(float)
        target[name] = series


def _finish_set(result: RulesResult) -> None:
    # what the two rules do, as the verb of 'rules "a" and "b" …'
    _finish_keyed(result, "set:", _("set different values for {name}"), result.set)


def _finish_score(result: RulesResult) -> None:
    _finish_keyed(result, "score:", _("give different scores for {name}"), result.score)


def _apply_force(result: RulesResult, mask: pd.Series, value: str, rule_id: str) -> None:
    # Every force has the same standing: priority does not order forces.
    result.pending.setdefault("force", []).append((rule_id, 0, _bool(mask), value))


def _finish_force(result: RulesResult) -> None:
    requests = result.pending.pop("force", [])
    if not requests:
        return
    values, decided = _resolve(result, requests, _("force different categories"),
                               _("make their conditions exclusive"))
    out = np.where(decided, values, None)
    result.force = pd.Series(out, index=result.flags.index, dtype=object)


BUILTIN_ACTIONS: dict[str, RuleAction] = {a.name: a for a in (
    RuleAction("flag", _check_flag, _apply_flag,
               "add one flag (or a list of flags) to the account", _finish_flag),
    RuleAction("set", _check_set, _apply_set,
               "set account fields in the output ({field: value}); highest priority wins",
               _finish_set),
    RuleAction("score", _check_score, _apply_score,
               "override criterion scores ({criterion: 0–100}); highest priority wins",
               _finish_score),
    RuleAction("points", _check_points, _apply_points,
               "add (or, if negative, remove) points to the weighted score"),
    RuleAction("cap", _check_letter, _apply_cap,
               "the category can be no better than this letter; the strictest cap wins",
               _finish_cap),
    RuleAction("floor", _check_letter, _apply_floor,
               "the category can be no worse than this letter; the highest floor wins",
               _finish_floor),
    RuleAction("force", _check_letter, _apply_force,
               "the category is this letter, whatever the score, caps and floors",
               _finish_force),
    RuleAction("exclude", _check_exclude, _apply_exclude,
               "take the account out of ranking (quotas, top 80 %)"),
)}

LETTER_ACTIONS = ("cap", "floor", "force")
