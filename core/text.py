"""The words a rep reads: the Flags, Why and To collect columns.

Why opens with a category set by hand (a Category override), then the rules that fired,
the strongest and weakest criteria and what was not scored.

Every word is in the run's language (`potentiel.i18n`); values are passed apart from the
words. Built without a Python step per account: every piece of text depends on a few things per
account (which rules fired, which criteria are blank, which reason is the strongest), so
each piece is coded per account (`Coded`: a code per account, a text per code), and the
pieces are joined once per distinct combination of their codes (`join_coded`), then
spread back to the accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import pandas as pd

from .i18n import N_, _
from .objects import factorize, identities, isna

if TYPE_CHECKING:
    from .pipeline import Result


def distinct(values: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(code per value, one value per code) for ``make`` functions of the value alone.

    Values spread from a few distinct ones (rule tuples, reasons) are mostly the same
    objects: they are told apart by identity, one integer each, which is much cheaper
    than hashing them (equal values that are different objects get codes of their own,
    with equal texts). Mostly different objects are hashed by value."""
    if isinstance(values, (np.ndarray, pd.Series)) and np.asarray(values).dtype == object:
        array = np.asarray(values)
        objects = None
        ident = identities(array)
    else:
        objects = values.tolist() if isinstance(values, (np.ndarray, pd.Series)) else list(values)
        ident = np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    n = len(ident)
    codes, ids = pd.factorize(ident)
    if objects is None and len(ids) > max(1000, n // 4):
        objects = array.tolist()
    if len(ids) > max(1000, n // 4):
        codes, uniques = pd.factorize(pd.Series(objects, dtype=object), use_na_sentinel=False)
        return codes, np.asarray(uniques, dtype=object)
    first = np.empty(len(ids), dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)  # the first value of each code
    if objects is None:
        return codes, array[first]
    out = np.empty(len(ids), dtype=object)
    out[:] = [objects[i] for i in first.tolist()]
    return codes, out


def coded(values: Sequence, make: Callable[[object], str | None]) -> Coded:
    """``make(value)`` per account, computed once per distinct (hashable) value: (code per
    account, text per code)."""
    codes, uniques = distinct(values)
    texts = np.empty(len(uniques), dtype=object)
    texts[:] = [make(u) for u in uniques]
    return codes, texts


def coded_by(codes: np.ndarray, make: Callable[[int], str | None]) -> Coded:
    """`by_code` before spreading: (code per account, ``make(code)`` per distinct code)."""
    # hashed, not sorted: the order the texts are built in does not matter
    inverse, uniques = pd.factorize(np.asarray(codes, dtype=np.int64))
    texts = np.empty(len(uniques), dtype=object)
    texts[:] = [make(u) for u in uniques.tolist()]
    return inverse, texts


def by_code(codes: np.ndarray, make: Callable[[int], str | None]) -> np.ndarray:
    """``make(code)`` per account for integer codes, built once per distinct code."""
    inverse, texts = coded_by(codes, make)
    return texts[inverse]


def bit_codes(masks: Sequence[np.ndarray]) -> np.ndarray:
    """One integer per account whose bit i says whether masks[i] is True there."""
    n = len(masks[0])
    if len(masks) <= 62:
        code = np.zeros(n, dtype=np.int64)
        for i, m in enumerate(masks):
            code |= np.asarray(m, dtype=np.int64) << i
        return code
    packed = np.packbits(np.column_stack(masks).astype(bool), axis=1)
    return np.unique(packed, axis=0, return_inverse=True)[1].reshape(-1)


def listing_coded(masks: Sequence[np.ndarray], words: Sequence[str], sep: str = ", ") -> Coded:
    """Per account, the ``words`` whose mask is True, joined; blank where none is (`Coded`)."""
    n = len(masks[0]) if len(masks) else 0
    if not len(masks) or n == 0:
        return np.zeros(n, dtype=np.intp), np.array([None], dtype=object)
    if len(masks) > 62:
        matrix = np.column_stack(masks).astype(bool)
        codes = bit_codes(masks)
        first = {}
        for i, c in enumerate(codes):
            first.setdefault(int(c), i)
        return coded_by(codes, lambda c: sep.join(w for w, on in zip(words, matrix[first[c]])
                                                  if on) or None)
    return coded_by(bit_codes(masks),
                    lambda c: sep.join(w for i, w in enumerate(words) if c >> i & 1) or None)


def _blank_texts(texts: np.ndarray) -> np.ndarray:
    """True where a text is blank (None or NaN)."""
    return np.fromiter((t is None or t != t for t in texts.tolist()), dtype=bool,
                       count=len(texts))


def join_coded(pieces: Sequence[Coded], sep: str, n: int) -> np.ndarray:
    """Per account, its pieces' texts joined with ``sep``, skipping blanks (None, NaN);
    '' where all are blank. ``pieces``: `Coded`. Each text is built once per distinct
    combination of the pieces' codes, then spread to the accounts."""
    kept = []
    for codes, texts in pieces:
        codes = np.asarray(codes, dtype=np.intp)
        texts = np.asarray(texts, dtype=object)
        if not len(texts):
            continue
        blank = _blank_texts(texts)
        if blank.all() or blank[codes].all():
            continue  # blank for every account
        kept.append((codes, texts, blank))
    if not kept:
        return np.full(n, "", dtype=object)
    if len(kept) == 1:
        codes, texts, blank = kept[0]
        return np.where(blank, "", texts)[codes]
    # one integer per account for its combination of codes (compacted before it could
    # overflow), then one text per distinct combination
    key = kept[0][0].astype(np.int64)
    span = len(kept[0][1])
    for codes, texts, _blank in kept[1:]:
        if span * len(texts) >= 2 ** 62:
            key, uniques = pd.factorize(key)
            span = len(uniques)
        key = key * len(texts) + codes
        span *= len(texts)
    inverse, combos = pd.factorize(key)
    m = len(combos)
    first = np.empty(m, dtype=np.intp)  # an account of each combination
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    later = np.zeros(m, dtype=np.intp)  # 1 where a later piece is present
    columns = []
    for codes, texts, blank in reversed(kept):
        c = codes[first]
        # each text twice: as it is, and followed by the separator (a later piece is there)
        shown = np.where(blank, "", texts)
        table = np.empty(2 * len(texts), dtype=object)
        table[0::2] = shown
        table[1::2] = [t if b else t + sep for t, b in zip(shown.tolist(), blank.tolist())]
        columns.append(table[2 * c + later].tolist())
        later |= ~blank[c]
    out = np.empty(m, dtype=object)
    out[:] = list(map("".join, zip(*reversed(columns))))
    return out[inverse]


def flags_column(flags: pd.Series, excluded: pd.Series,
                 override: pd.Series | None = None) -> pd.Series:
    """The rules' flags, then ``excluded``, then ``override`` where a Category override
    set the category (``override``: the letter applied per account, None elsewhere)."""
    pieces = [coded(flags, lambda t: ", ".join(t) if t else None),
              _word(excluded.to_numpy(dtype=bool), _("excluded"))]
    if override is not None:
        pieces.append(_word(override.notna().to_numpy(), _("override")))
    return pd.Series(join_coded(pieces, ", ", len(flags)), index=flags.index, dtype=object)


def _word(mask: np.ndarray, word: str) -> Coded:
    """``word`` where ``mask`` is True, blank elsewhere (`Coded`)."""
    return np.asarray(mask, dtype=np.intp), np.array([None, word], dtype=object)


def override_piece(result: "Result") -> Coded:
    """``category set by hand in Category override: A (the model says C)`` where a
    Category override set the category, blank elsewhere (`Coded`)."""
    n = len(result.accounts.index)
    if result.override is None:
        return np.zeros(n, dtype=np.intp), np.array([None], dtype=object)
    header = result.override_header or _("Category override")
    model = result.model_category if result.model_category is not None else result.category
    pairs = list(zip(result.override.to_numpy(dtype=object), model.to_numpy(dtype=object)))

    def make(pair: object) -> str | None:
        letter, computed = pair
        if letter is None:
            return None
        says = (_("the model gives none") if computed is None else
                _("the model says {letter} too").format(letter=computed) if computed == letter
                else _("the model says {letter}").format(letter=computed))
        return _("category set by hand in {column}: {letter} ({model})").format(
            column=header, letter=letter, model=says)

    return coded(pairs, make)


def why_column(result: "Result") -> pd.Series:
    """Rules fired (with their why), strongest and weakest points, what was not scored."""
    index = result.accounts.index
    why = result.rules.why
    fired = coded(result.rules.fired,
                  lambda t: "; ".join(f"{rid}: {why.get(rid, '').rstrip('.')}".rstrip(": ")
                                      for rid in t) if t else None)
    scores = result.scores.scores
    weights = result.weighted.weights
    names = [n for n in result.criteria if weights.get(n, 0) > 0]
    failed = result.scores.failed
    from .config import criterion_word
    words = [_("{criterion} (plugin error)").format(criterion=criterion_word(n))
             if failed.get(n) and failed[n] != "no account could be scored"
             else criterion_word(n) for n in names]
    codes, listed = listing_coded([scores[n].isna().to_numpy() for n in names], words)
    said = np.empty(len(listed), dtype=object)
    said[:] = [None if m is None or m != m else _("not scored: {criteria}").format(criteria=m)
               for m in listed.tolist()]
    missing = (codes, said)
    strong, weak = _extremes(result)
    acc = result.accounts
    no_pen = acc["penetration"].isna().to_numpy() & acc["revenue"].notna().to_numpy()
    pot = acc["potential"].to_numpy(dtype=float)
    pen = (no_pen.astype(np.intp) + (no_pen & (pot <= 0)),
           np.array([None, _("penetration unknown: no potential"),
                     _("penetration unknown: the potential is zero")], dtype=object))
    return pd.Series(join_coded([override_piece(result), fired, strong, weak, missing, pen],
                                ". ", len(index)), index=index, dtype=object)


def _extremes(result: "Result") -> tuple[Coded, Coded]:
    """The reason of the criterion bringing the most points, and of the weakest one:
    ``strongest: revenue 99 k€, top 14 % (79/100)`` (the criterion's name if no reason)."""
    from .config import criterion_word
    n = len(result.accounts.index)
    contrib = result.weighted.contributions
    if contrib.shape[1] == 0 or n == 0:
        none = (np.zeros(n, dtype=np.intp), np.array([None], dtype=object))
        return none, none
    names = list(contrib.columns)
    points = [contrib[name].to_numpy(dtype=float) for name in names]
    scores = [result.scores.scores[name].to_numpy(dtype=float) for name in names]
    objects = [result.scores.reasons[name].to_numpy(dtype=object) for name in names]
    best, best_s, worst, worst_s, count = _best_and_worst(points, scores)
    any_known = count > 0
    keep_best = any_known & (best_s >= 50)
    keep_worst = any_known & (count > 1) & (worst != best) & (worst_s < 50)
    named = [criterion_word(name) for name in names]
    return (_extreme_piece(_("strongest: {reason} ({points}/100)"), best, keep_best, best_s,
                           objects, named),
            _extreme_piece(_("weakest: {reason} ({points}/100)"), worst, keep_worst, worst_s,
                           objects, named))


def _best_and_worst(points: list[np.ndarray], scores: list[np.ndarray]
                    ) -> tuple[np.ndarray, ...]:
    """Per account, among the criteria whose points are known: the first bringing the most
    points and the first with the lowest score (``np.argmax`` / ``np.argmin`` over the
    criteria, unknown ones at -inf / +inf), each with its score, and how many are known.

    Criterion by criterion over whole columns, not a row-wise search over a copy of the
    frames in rows; a score that is NaN where its points are known (argmin would pick it)
    falls back to that search."""
    n = len(points[0])
    known = ~np.isnan(points[0])
    count = known.astype(np.intp)
    most = np.where(known, points[0], -np.inf)
    least = np.where(known, scores[0], np.inf)
    best_s, worst_s = scores[0].copy(), scores[0].copy()
    best, worst = np.zeros(n, dtype=np.intp), np.zeros(n, dtype=np.intp)
    odd = bool(np.isnan(least).any())
    for k in range(1, len(points)):
        if odd:
            break
        known = ~np.isnan(points[k])
        count += known
        p = np.where(known, points[k], -np.inf)
        up = p > most
        np.copyto(most, p, where=up)
        np.copyto(best_s, scores[k], where=up)
        best[up] = k
        s = np.where(known, scores[k], np.inf)
        if np.isnan(s).any():
            odd = True
            break
        down = s < least
        np.copyto(least, s, where=down)
        np.copyto(worst_s, scores[k], where=down)
        worst[down] = k
    if odd:
        c, s = np.column_stack(points), np.column_stack(scores)
        known = ~np.isnan(c)
        rows = np.arange(n)
        best = np.argmax(np.where(known, c, -np.inf), axis=1)
        worst = np.argmin(np.where(known, s, np.inf), axis=1)
        return best, s[rows, best], worst, s[rows, worst], known.sum(axis=1)
    return best, best_s, worst, worst_s, count


def _extreme_piece(words: str, which: np.ndarray, keep: np.ndarray, score: np.ndarray,
                   objects: list[np.ndarray], named: list[str]) -> Coded:
    """``words`` with the reason (or the criterion's name) and the points of criterion
    ``which`` per account, where ``keep``; blank elsewhere (`Coded`). ``score``: the score
    of that criterion per account; ``objects``: each criterion's reasons."""
    at = np.flatnonzero(keep)
    which = which[at]
    # the reasons told apart by identity (`distinct`), gathered as integers
    ident = np.empty(len(at), dtype=np.int64)
    for k, r in enumerate(objects):
        on = np.flatnonzero(which == k)
        if len(on):
            ident[on] = identities(r, at[on])
    rcodes, firsts = pd.factorize(ident)
    first = np.empty(len(firsts), dtype=np.intp)
    first[rcodes[::-1]] = np.arange(len(at) - 1, -1, -1)
    rtexts = np.empty(len(first), dtype=object)
    for k, r in enumerate(objects):
        on = which[first] == k
        rtexts[on] = r[at[first[on]]]
    points = np.nan_to_num(np.round(score[at]), nan=-1).astype(np.int64)
    width = len(rtexts) + 1
    key = (which.astype(np.int64) * 102 + points + 1) * width + (rcodes + 1)
    inverse, combos = pd.factorize(key)
    k, rest = np.divmod(combos, 102 * width)
    pts, r = np.divmod(rest, width)
    # the label of reason code r: its text, or the criterion's name (r = 0: none)
    texts = [None] + [t if isinstance(t, str) and t else None for t in rtexts.tolist()]
    out = np.empty(len(combos) + 1, dtype=object)  # the last: blank, where not kept
    fill = _positional(words, ("reason", "points"))
    split = _reason_then_points(words)
    if split is not None and all(type(t) is str for t in texts[1:] if t is not None) and \
            all(type(t) is str for t in named):
        # "{reason}" is the text itself and the points take 102 values: the template's
        # words before, between and after, joined (what its format gives, without it)
        head, tails = split
        out[:-1] = [head + (texts[rr] or named[kk]) + tails[pp]
                    for kk, pp, rr in zip(k.tolist(), pts.tolist(), r.tolist())]
    elif fill is None:
        out[:-1] = [words.format(reason=texts[rr] or named[kk], points=pp - 1)
                    for kk, pp, rr in zip(k.tolist(), pts.tolist(), r.tolist())]
    else:
        out[:-1] = [fill(texts[rr] or named[kk], pp - 1)
                    for kk, pp, rr in zip(k.tolist(), pts.tolist(), r.tolist())]
    codes = np.full(len(keep), len(combos), dtype=np.intp)
    codes[at] = inverse
    return codes, out


def _reason_then_points(template: str) -> tuple[str, list[str]] | None:
    """For a template ``<head>{reason}<middle>{points}<tail>`` (each field once, the reason
    without a format spec or conversion): ``head`` and, for points -1 to 100 at index
    points + 1, ``<middle><points formatted><tail>``; None for any other template."""
    import string
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    fields = [(f, spec, conv) for _lit, f, spec, conv in parsed if f is not None]
    if [f for f, _s, _c in fields] != ["reason", "points"] or fields[0][1] or fields[0][2]:
        return None
    literals = [lit for lit, _f, _s, _c in parsed]
    if len(parsed) == 2:
        literals.append("")
    elif len(parsed) != 3 or parsed[2][1] is not None:
        return None
    head, middle, tail = literals
    points = "{0%s%s}" % ("!" + fields[1][2] if fields[1][2] else "",
                          ":" + fields[1][1] if fields[1][1] else "")
    try:
        tails = [middle + points.format(p) + tail for p in range(-1, 101)]
    except (ValueError, TypeError):
        return None
    return head, tails


def _positional(template: str, names: Sequence[str]) -> Callable[..., str] | None:
    """``template.format`` taking ``names`` by position (``"a {x} b".format(x=1)`` as
    ``"a {0} b".format(1)``, which is faster), or None if it names another field."""
    import string
    out = []
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            out.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            if field not in names:
                return None
            out.append("{%d%s%s}" % (names.index(field), "!" + conversion if conversion else "",
                                     ":" + spec if spec else ""))
    except ValueError:  # a template str.format would refuse: said as it is
        return None
    return "".join(out).format


def to_collect_column(result: "Result") -> pd.Series:
    """What would raise the account's confidence, heaviest weight first: the blank inputs
    of the criteria it could not be scored on, then the columns the workbook lacks
    (``Relationship; add a Potential column (or Headcount and Spend per employee)``)."""
    index = result.accounts.index
    acc = result.accounts
    scores = result.scores.scores
    weights = result.weighted.weights
    absent = result.scores.absent
    hints = derivation_hints(result)
    blank_masks, blank_words, col_masks, col_words = [], [], [], []
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
            if inp.name in absent.get(name, ()):
                col_masks.append(nan)
                col_words.append((inp.title, hints.get(inp.name, "")))
                continue
            blank = isna(acc[inp.name].to_numpy()) if inp.name in acc else np.ones(len(index), bool)
            blank_masks.append(nan & blank)
            blank_words.append(inp.title + hints.get(inp.name, ""))
    n = len(index)
    none = (np.zeros(n, dtype=np.intp), np.array([None], dtype=object))
    blanks = listing_coded(blank_masks, blank_words) if blank_masks else none
    columns = none
    if col_masks:
        def add(code: int) -> str | None:
            words = [w for i, w in enumerate(col_words) if code >> i & 1]
            if not words:
                return None
            if len(words) == 1:
                return _("add a {column} column{hint}").format(column=words[0][0],
                                                              hint=words[0][1])
            return _("add columns {columns}").format(
                columns=", ".join(title + hint for title, hint in words))
        if len(col_masks) <= 62:
            columns = coded_by(bit_codes(col_masks), add)
        else:  # more columns than bits: name them all where any is missing
            anywhere = np.logical_or.reduce(col_masks)
            columns = _word(anywhere, _("add columns {columns}").format(
                columns=", ".join(t + h for t, h in col_words)))
    text = join_coded([blanks, columns], "; ", n)
    return pd.Series(text, index=index, dtype=object)


def derivation_hints(result: "Result") -> dict[str, str]:
    """``potential`` → `` (or Headcount and Spend per employee)``: how else to fill it."""
    catalogue = {f.name: f for c in result.criteria.values() for f in c.inputs}
    from .fields import BUILTIN_FIELDS
    catalogue.update({f.name: f for f in BUILTIN_FIELDS})

    def title(name: str) -> str:
        f = catalogue.get(name)
        return f.title if f is not None else name.replace("_", " ").capitalize()

    def hint(titles: list[str]) -> str:
        if len(titles) == 1:
            return _(" (or {column})").format(column=titles[0])
        return _(" (or {columns} and {last})").format(columns=", ".join(titles[:-1]),
                                                      last=titles[-1])

    hints = {d.field: hint([title(i) for i in d.inputs])
             for d in result.derivations.values() if d.inputs}
    if result.has_reps:
        hints["distance_km"] = hint(["Latitude", "Longitude"])
    return hints


# The Matrix column: the account's place in the portfolio matrix.
_POTENTIAL_WORDS = {"high": N_("High potential"), "medium": N_("Medium potential"),
                    "low": N_("Low potential")}
_PENETRATION_WORDS = {"strong": N_("strong penetration"), "medium": N_("medium penetration"),
                      "weak": N_("weak penetration")}


def matrix_column(pot_tier: pd.Series, pen_tier: pd.Series) -> pd.Series:
    """``High potential, weak penetration: fragility zone`` per account, in the run's
    language (blank where the potential is unknown)."""
    from .portfolio import FRAGILITY

    def make(pair: object) -> str:
        pot, pen = pair
        if not isinstance(pot, str):
            return ""
        if not isinstance(pen, str):
            return _("{potential}, penetration unknown").format(potential=_(_POTENTIAL_WORDS[pot]))
        text = _("{potential}, {penetration}").format(potential=_(_POTENTIAL_WORDS[pot]),
                                                      penetration=_(_PENETRATION_WORDS[pen]))
        return _("{matrix}: fragility zone").format(matrix=text) if (pot, pen) == FRAGILITY \
            else text

    # the few distinct (potential, penetration) pairs, found from codes, not tuples
    pot_codes, pots = factorize(pot_tier.to_numpy(dtype=object))
    pen_codes, pens = factorize(pen_tier.to_numpy(dtype=object))
    pots, pens = [*pots.tolist(), None], [*pens.tolist(), None]  # code -1: blank
    width = len(pens)
    key = np.where(pot_codes < 0, len(pots) - 1, pot_codes) * width + \
        np.where(pen_codes < 0, width - 1, pen_codes)
    return pd.Series(by_code(key, lambda k: make((pots[k // width], pens[k % width]))),
                     index=pot_tier.index, dtype=object)
