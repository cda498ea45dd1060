"""Shared helpers for the built-in criteria: scales, weighted means and reason text.

Everything here works on whole columns (numpy arrays), never one account at a time.
Reasons are built per *distinct* combination of what they display (a rounded amount, a
percentage, a rating text…): a portfolio of 100,000 accounts has only a few thousand of
those, so formatting them in Python and spreading them back with one array lookup is
much faster than concatenating 100,000 strings.

This module is private to the built-in plugins (its name starts with ``_``, so the plugin
loader never treats it as a plugin); third-party plugins should not rely on it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from potentiel import N_, Criterion, Param, Scored, _

NAN = float("nan")


# --- reading columns -----------------------------------------------------------------

def numbers(accounts: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as float64, NaN for blanks (all NaN if the column is absent)."""
    if column not in accounts:
        return np.full(len(accounts), NAN)
    series = accounts[column]
    values = series.to_numpy() if series.dtype == np.float64 else \
        series.to_numpy(dtype="float64", na_value=NAN)  # a float column: no copy to fill
    # An infinite amount is a data error, not a huge account: treat it as blank, so that
    # "NaN exactly where the input is missing" stays true for what the core hands over.
    return np.where(np.isfinite(values), values, NAN)


def texts(accounts: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as an object array (None/NaN for blanks, or all None if absent)."""
    if column not in accounts:
        return np.full(len(accounts), None, dtype=object)
    return accounts[column].to_numpy(dtype=object)


def number_param(params: Mapping[str, Any], name: str, criterion: str, *,
                 positive: bool = False, allow_none: bool = False) -> float | None:
    """A numeric parameter, with a plain message naming it when the rule file got it wrong."""
    value = params.get(name)
    if value is None and allow_none:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(_("{criterion}: parameter {name} must be a number, got "
                           "{value!r}").format(criterion=criterion, name=name,
                                               value=value)) from None
    if not math.isfinite(number) or (positive and number <= 0):
        message = _("{criterion}: parameter {name} must be a positive number, got {value!r}") \
            if positive else _("{criterion}: parameter {name} must be a finite number, got "
                               "{value!r}")
        raise ValueError(message.format(criterion=criterion, name=name, value=value))
    return number


def weights_param(params: Mapping[str, Any], defaults: Mapping[str, float],
                  criterion: str) -> dict[str, float]:
    """The ``weights`` parameter merged over its defaults, so a rule file may give only one."""
    given = params.get("weights") or {}
    if not isinstance(given, Mapping):
        raise ValueError(_("{criterion}: parameter weights must be a mapping such as "
                           "{example}").format(criterion=criterion, example=dict(defaults)))
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(_("{criterion}: unknown weight {name!r} (known: {known})").format(
            criterion=criterion, name=sorted(unknown)[0], known=", ".join(defaults)))
    merged = {**defaults, **given}
    out = {}
    for key, value in merged.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise ValueError(_("{criterion}: weight {key} must be a number, got "
                               "{value!r}").format(criterion=criterion, key=key,
                                                   value=value)) from None
        if not math.isfinite(out[key]) or out[key] < 0:
            raise ValueError(_("{criterion}: weight {key} must be zero or more, got "
                               "{value!r}").format(criterion=criterion, key=key, value=value))
    if not any(out.values()):
        raise ValueError(_("{criterion}: the weights cannot all be zero").format(
            criterion=criterion))
    return out


# --- scales ----------------------------------------------------------------------------

def linear(x: np.ndarray, at_zero: float, at_hundred: float) -> np.ndarray:
    """0 at ``at_zero``, 100 at ``at_hundred``, straight line between, clipped; NaN stays NaN.

    ``at_hundred`` may be below ``at_zero`` for "less is better" scales (DSO, distance).
    """
    if at_hundred == at_zero:  # callers refuse this; a step keeps it defined anyway
        return np.where(np.isnan(x), NAN, np.where(x >= at_hundred, 100.0, 0.0))
    with np.errstate(over="ignore", invalid="ignore"):  # huge inputs just clip to 0 or 100
        return np.clip((x - at_zero) * (100.0 / (at_hundred - at_zero)), 0.0, 100.0)


def portfolio_bounds(x: np.ndarray, low: float | None, high: float | None,
                     quantiles: tuple[float, float] = (0.10, 0.95)) -> tuple[float, float]:
    """``low``/``high`` as given, or else the portfolio's quantiles of positive amounts.

    The 95th percentile rather than the maximum, so that one giant account does not crush
    everybody else's score. NaN when the portfolio has no positive amount at all.
    """
    if low is None or high is None:
        positive = x[x > 0]  # NaN > 0 is False: blanks drop out
        if len(positive):
            q_low, q_high = np.quantile(positive, quantiles)
        else:
            q_low = q_high = NAN
        low = q_low if low is None else low
        high = q_high if high is None else high
    return float(low), float(high)


def log_scale(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Logarithmic 0–100 between ``low`` and ``high``; amounts ≤ 0 score 0; NaN stays NaN.

    Amounts spread over several orders of magnitude, so a log scale tells a 20 k€ account
    from a 200 k€ one as clearly as a 200 k€ from a 2 M€ one. When there is no usable
    span (``low`` ≤ 0, or ``low`` ≥ ``high``, e.g. every account has the same amount), the
    scale falls back to linear from 0 to ``high``.
    """
    safe = np.where(x > 0, x, 1.0)  # keeps log() away from 0, negatives and NaN
    if low > 0 and high > low:
        lo = math.log(low)
        score = np.clip((np.log(safe) - lo) * (100.0 / (math.log(high) - lo)), 0.0, 100.0)
    elif high > 0:
        with np.errstate(over="ignore"):
            score = np.clip(safe * (100.0 / high), 0.0, 100.0)
    else:  # no positive amount in the portfolio: any positive one is the best there is
        score = np.full(len(x), 100.0)
    score = np.where(x > 0, score, 0.0)
    return np.where(np.isnan(x), NAN, score)


def weighted_mean(components: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Mean of the available components, weights renormalised over them; NaN if none."""
    n = len(components[0]) if components else 0
    total = np.zeros(n)
    weight = np.zeros(n)
    for values, w in zip(components, weights):
        if w <= 0:
            continue
        known = ~np.isnan(values)
        total += np.where(known, values, 0.0) * w
        weight += known * w
    return np.divide(total, weight, out=np.full(n, NAN), where=weight > 0)


# --- reasons ---------------------------------------------------------------------------

class Coded(NamedTuple):
    """A key already factorised: ``codes`` (-1 for blank) into ``uniques``."""

    codes: np.ndarray
    uniques: np.ndarray


class Part(NamedTuple):
    """One fragment of a reason: ``text(*values)`` for each distinct combination of ``keys``.

    A key is an array (numbers or texts; NaN/None arrive in ``text`` as None) or a `Coded`.
    ``text`` returns the fragment, or "" / None to leave it out.
    """

    keys: Sequence[Any]
    text: Callable[..., str | None]


def as_is(value: Any) -> Any:
    """The text of a `Part` whose key values are already the fragments."""
    return value


def coded(values: np.ndarray) -> Coded:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return Coded(codes, np.asarray(uniques, dtype=object))


def _with_blank(uniques: np.ndarray) -> np.ndarray:
    """The distinct values plus a trailing None, so that code -1 (blank) reads as None."""
    out = np.empty(len(uniques) + 1, dtype=object)
    out[:-1] = uniques
    out[-1] = None
    return out


def _combine(keys: Sequence[Coded]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Codes of the distinct combinations of keys, and each key's code in each combination.

    Returned key codes are -1 for blank, like `pd.factorize`.
    """
    n = len(keys[0].codes)
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    for key in keys:
        size = len(key.uniques) + 1
        if radix * size >= 2 ** 62:  # keep the mixed-radix code inside int64
            combined, first = pd.factorize(combined)
            radix = len(first)
        combined = combined * size + (key.codes + 1)
        radix *= size
    if radix <= max(4 * n, 1 << 16):
        # Few possible combinations: find those present by counting, which is cheaper
        # than hashing every account's code.
        distinct = np.flatnonzero(np.bincount(combined, minlength=radix))
        lookup = np.empty(radix, dtype=np.int64)
        lookup[distinct] = np.arange(len(distinct))
        codes = lookup[combined]
    else:
        codes, distinct = pd.factorize(combined)
    rest = np.asarray(distinct, dtype=np.int64)
    per_key = []
    for key in reversed(keys):
        size = len(key.uniques) + 1
        per_key.append(rest % size - 1)
        rest = rest // size
    per_key.reverse()
    return codes, per_key


def _fragments(part: Part) -> tuple[np.ndarray, np.ndarray]:
    """Per account, a code into the returned array of this part's fragment texts."""
    keys = [k if isinstance(k, Coded) else coded(k) for k in part.keys]
    if len(keys) == 1:
        values = _with_blank(keys[0].uniques)
        texts_ = [part.text(v) or "" for v in values]
        codes = np.where(keys[0].codes < 0, len(values) - 1, keys[0].codes)
    else:
        codes, per_key = _combine(keys)
        columns = [_with_blank(k.uniques)[c] for k, c in zip(keys, per_key)]
        texts_ = [part.text(*row) or "" for row in zip(*columns)]
    out = np.empty(len(texts_), dtype=object)
    out[:] = texts_
    return codes, out


def render(parts: Sequence[Part], index: pd.Index, empty: str | None = None) -> pd.Series:
    """One reason per account: the parts' fragments joined with ", " (``empty`` if none).

    Each fragment is formatted once per distinct value of its keys, and the reasons once
    per distinct combination of fragments; round numbers before passing them, so that
    those stay few.
    """
    n = len(index)
    if n == 0:
        return pd.Series([], index=index, dtype=object)
    pieces = [_fragments(part) for part in parts]
    if len(pieces) == 1:
        codes, frags = pieces[0]
        texts_ = frags
    else:
        keys = [Coded(c, f) for c, f in pieces]
        codes, per_key = _combine(keys)
        joined = pieces[0][1][per_key[0]]
        for (_codes, frags), c in zip(pieces[1:], per_key[1:]):
            # Pairwise, so each step is one cheap expression per distinct combination.
            joined = [a + ", " + b if a and b else a or b for a, b in zip(joined, frags[c])]
        texts_ = np.empty(len(joined), dtype=object)
        texts_[:] = joined
    texts_ = np.where(texts_ == "", empty, texts_)  # empty may be None: nothing to say
    return pd.Series(texts_[codes], index=index, dtype=object)


def shown(x: np.ndarray, decimals: int = 0, cap: float = 1e6) -> np.ndarray:
    """Numbers as a reason shows them: capped at ±``cap``, rounded half away from zero.

    (numpy rounds halves to even, so 32.5 would show as 32 and 2.25 % as 2.2 %; people
    expect 33 and 2.3 %.) NaN stays NaN.
    """
    a = np.minimum(np.abs(x), cap)
    if decimals >= 0:
        f = 10.0 ** decimals
        r = np.floor(a * f + 0.5) / f
    else:
        f = 10.0 ** -decimals
        r = np.floor(a / f + 0.5) * f
    return np.copysign(r, x)


def round_money(x: np.ndarray) -> np.ndarray:
    """Round amounts to what `money` shows (2–3 significant figures), NaN kept."""
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = np.floor(np.log10(np.where(a >= 1, a, 1.0)))
    digits = np.nan_to_num(digits)
    # 0–999 € to the euro, then 1.2 k€, 12 k€, 120 k€, 1.2 M€, 12 M€, 120 M€, 1.2 bn€,
    # and two significant figures beyond (absurd amounts stay few distinct reasons).
    steps = np.array([1, 1, 1, 1e2, 1e3, 1e3, 1e5, 1e6, 1e6, 1e8])
    step = np.where(digits >= 10, 10.0 ** (digits - 1),
                    steps[np.clip(digits, 0, 9).astype(np.int64)])
    return np.copysign(np.floor(a / step + 0.5) * step, x)


def money(value: float) -> str:
    """``180000.0`` → ``"180 k€"``, ``1234567`` → ``"1.2 M€"``, ``850`` → ``"850 €"``."""
    sign = "-" if value < 0 else ""
    a = abs(value)
    for limit, divisor, unit in ((1e3, 1.0, "€"), (1e6, 1e3, "k€"), (1e9, 1e6, "M€")):
        if a < limit:
            break
    else:
        divisor, unit = 1e9, "bn€"
    m = a / divisor
    if m >= 1e6:
        figure = f"{m:.3g}"
    elif m < 10 and divisor > 1:
        figure = f"{m:.1f}".removesuffix(".0")
    else:
        figure = f"{m:.0f}"
    return f"{sign}{figure} {unit}"


def number(value: float, decimals: int = 1) -> str:
    """``4.0`` → ``"4"``, ``3.5`` → ``"3.5"``: no trailing ``.0``."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed_percent(value: float) -> str:
    """``12`` → ``"+12 %"``, ``-3.5`` → ``"-3.5 %"``, ``0`` → ``"0 %"`` (value in points)."""
    text = number(value)
    return f"{'+' if value > 0 and text != '0' else ''}{text} %"


def rank_share(amounts: Coded) -> np.ndarray:
    """Where each distinct amount stands: +8 for "top 8 %", -30 for "bottom 30 %".

    Works on the rounded amounts the reason shows, so that two accounts showing the same
    amount show the same rank; ties count in the account's favour. One value per
    ``amounts.uniques``.
    """
    codes, uniques = amounts
    known = codes >= 0
    total = int(known.sum())
    if total == 0:
        return np.full(len(uniques), NAN)
    values = uniques.astype(float)
    counts = np.bincount(codes[known], minlength=len(uniques))
    order = np.argsort(-values, kind="stable")
    at_least = np.empty(len(uniques))
    at_least[order] = np.cumsum(counts[order])  # accounts with this amount or more
    at_most = total - at_least + counts          # accounts with this amount or less
    top = np.ceil(at_least * 100.0 / total)
    bottom = np.ceil(at_most * 100.0 / total)
    return np.where(top <= 50, top, -bottom)


def rank_text(share: float | None) -> str:
    if share is None:
        return ""
    if share > 0:
        return _("top {share} %").format(share=f"{share:.0f}")
    return _("bottom {share} %").format(share=f"{-share:.0f}")


_SPACES = re.compile(r"\s+")


def clean_text(value: Any, limit: int = 24) -> str | None:
    """A typed text as shown in a reason: trimmed, one line, cut if long; None if blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = _SPACES.sub(" ", str(value)).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: ``" Élevé "`` → ``"eleve"``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", text).strip().lower()


def plural(count: float, word: str, zero: str | None = None) -> str:
    """``plural(2, "payment incident")`` → ``"2 payment incidents"``."""
    if count == 0 and zero is not None:
        return zero
    shown = number(count)
    return f"{shown} {word}" + ("" if shown == "1" else "s")


# The built-in criteria's names as reasons say them ("revenue 180 k€", "relationship 3/5").
_WORDS = (N_("revenue"), N_("potential"), N_("relationship"), N_("prescription"))


def amount_scores(x: np.ndarray, low: float | None, high: float | None, word: str,
                  index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Score and reason for an amount on a log scale (revenue, potential).

    ``low``/``high`` None → the portfolio's 10th and 95th percentiles of positive amounts.
    Reasons: ``"revenue 180 k€, top 8 %"``, ``"no revenue"``, ``"revenue unknown"``.
    """
    lo, hi = portfolio_bounds(x, low, high)
    score = pd.Series(log_scale(x, lo, hi), index=index, dtype="float64")
    rounded = coded(round_money(x))
    said = np.empty(len(rounded.uniques), dtype=object)
    words = _AmountWords.of(word)  # translated once, not once per distinct amount
    said[:] = [_amount_text(words, v, r) for v, r in zip(rounded.uniques.tolist(),
                                                         rank_share(rounded).tolist())]
    return score, render([Part([Coded(rounded.codes, said)], as_is)], index,
                         empty=_("{word} unknown").format(word=_(word)))


class _AmountWords(NamedTuple):
    """The words of an amount's reason, in the run's language."""

    none: str
    negative: str
    amount: str
    word: str
    top: str
    bottom: str

    @classmethod
    def of(cls, word: str) -> "_AmountWords":
        w = _(word)
        return cls(_("no {word}").format(word=w), _("negative {word} ({amount})"),
                   _("{word} {amount}, {rank}"), w, _("top {share} %"), _("bottom {share} %"))


def _amount_text(words: _AmountWords, value: float, rank: float) -> str:
    if value == 0:
        return words.none
    if value < 0:
        return words.negative.format(word=words.word, amount=money(value))
    if rank is None:
        said = ""  # as rank_text says it
    elif rank > 0:
        said = words.top.format(share=f"{rank:.0f}")
    else:
        said = words.bottom.format(share=f"{-rank:.0f}")
    return words.amount.format(word=words.word, amount=money(value), rank=said)


class AmountCriterion(Criterion):
    """An amount in € scored on a log scale across the portfolio (revenue, potential).

    Subclasses set ``name``, ``label``, ``description``, ``inputs`` (one money input, named
    like the criterion) and ``default_weight``; ``low``/``high`` params fix the scale.
    """

    params = {
        "low": Param(None, "amount (€) scoring 0; blank = the portfolio's 10th percentile"),
        "high": Param(None, "amount (€) scoring 100; blank = the portfolio's 95th percentile"),
    }

    def score(self, accounts, params):
        p = self.resolve_params(params)
        low = number_param(p, "low", self.name, allow_none=True)
        high = number_param(p, "high", self.name, positive=True, allow_none=True)
        if low is not None and high is not None and low > high:
            raise ValueError(_("{criterion}: low ({low:g}) must be below high ({high:g})").format(
                criterion=self.name, low=low, high=high))
        field = self.inputs[0].name
        score, reason = amount_scores(numbers(accounts, field), low, high, self.name,
                                      accounts.index)
        return Scored(score, reason)


class RatingCriterion(Criterion):
    """A rating typed by the rep, from ``lowest`` to 5, scored linearly 0–100."""

    lowest = 0.0

    def score(self, accounts, params):
        rating = numbers(accounts, self.inputs[0].name)
        # clip first: no overflow on absurd input
        score = (np.clip(rating, self.lowest, 5.0) - self.lowest) * (100.0 / (5.0 - self.lowest))
        reason = render([Part([shown(rating, 1)], self._text)], accounts.index)
        return Scored(pd.Series(score, index=accounts.index, dtype="float64"), reason)

    def _text(self, rating):
        if rating is None:
            return _("{name} not rated").format(name=_(self.name))
        return _("{name} {rating}/5").format(name=_(self.name), rating=number(rating))
