"""The output texts built a column at a time give what building each account's text gives.

Each test draws accounts (blank and known points and scores, reasons shared between
accounts or not, blank reasons) and asserts that the fast path equals a reference kept
here that looks at one account at a time.
"""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel import text

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
STRONG = "strongest: {reason} ({points}/100)"
WEAK = "weakest: {reason} ({points}/100)"


def _extremes_reference(points, scores, reasons, names):
    """Per account: (strongest text, weakest text), None where none is said."""
    n = len(points[0]) if points else 0
    out = []
    for i in range(n):
        known = [k for k in range(len(points)) if not math.isnan(points[k][i])]
        if not known:
            out.append((None, None))
            continue
        best = known[0]
        for k in known:
            if points[k][i] > points[best][i]:
                best = k
        # np.argmin: the first NaN score if any, else the first lowest
        nan = [k for k in known if math.isnan(scores[k][i])]
        worst = nan[0] if nan else known[0]
        for k in known:
            if not nan and scores[k][i] < scores[worst][i]:
                worst = k

        def said(words, k):
            r = reasons[k][i]
            s = scores[k][i]
            return words.format(reason=r if isinstance(r, str) and r else names[k],
                                points=-1 if math.isnan(s) else int(round(s)))

        strong = said(STRONG, best) if scores[best][i] >= 50 else None
        weak = said(WEAK, worst) if len(known) > 1 and worst != best and \
            scores[worst][i] < 50 else None
        out.append((strong, weak))
    return out


@settings(max_examples=300, **COMMON)
@given(data=st.data(), n=st.integers(1, 30), k=st.integers(1, 5))
def test_strongest_and_weakest_are_each_accounts(data, n, k):
    pool = ["revenue 99 k€, top 14 %", "", "relationship 2/5", "no revenue", None]
    pool = [s if s is None else "".join(s) for s in pool]  # objects of their own
    # scores as criteria give them: 0–100 or blank
    number = st.one_of(st.just(float("nan")), st.floats(0, 100, allow_nan=False),
                       st.sampled_from([0.0, 49.5, 50.0, 50.5, 100.0]))
    names = [f"c{j}" for j in range(k)]
    contrib, scores, reasons = {}, {}, {}
    odd = data.draw(st.booleans())  # a NaN score where the points are known
    for name in names:
        s = np.array(data.draw(st.lists(number, min_size=n, max_size=n)))
        w = data.draw(st.sampled_from([0.5, 1.0, 2.0]))
        c = s * w
        if odd:
            c = np.where(np.isnan(c), data.draw(st.floats(0, 10)), c)
        contrib[name], scores[name] = c, s
        picks = data.draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))
        objects = np.empty(n, dtype=object)
        objects[:] = [pool[p] if data.draw(st.booleans()) or pool[p] is None
                      else "".join(list(pool[p])) for p in picks]  # equal, not the same
        reasons[name] = objects
    index = pd.RangeIndex(n)
    result = SimpleNamespace(
        accounts=pd.DataFrame(index=index),
        weighted=SimpleNamespace(contributions=pd.DataFrame(contrib, index=index)),
        scores=SimpleNamespace(scores=pd.DataFrame(scores, index=index),
                               reasons=pd.DataFrame(reasons, index=index, dtype=object)))
    (sc, st_), (wc, wt) = text._extremes(result)
    got = list(zip(st_[sc].tolist(), wt[wc].tolist()))
    from potentiel.config import criterion_word
    want = _extremes_reference([contrib[m] for m in names], [scores[m] for m in names],
                               [reasons[m] for m in names], [criterion_word(m) for m in names])
    assert got == want


@settings(max_examples=200, **COMMON)
@given(cells=st.lists(st.one_of(
    st.none(), st.text(max_size=3), st.just(""), st.just(float("nan")), st.just(pd.NA),
    st.just(pd.NaT), st.just(np.nan), st.floats(), st.integers(), st.booleans(),
    st.sampled_from([__import__("decimal").Decimal("NaN"), np.float64("nan"), np.str_("x"),
                     np.datetime64("NaT")])), max_size=20),
       texts=st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=65, max_size=200),
       mixed=st.booleans())
def test_blanks_from_pointers_are_isna(cells, texts, mixed):
    """`objects.isna` (a text column's None read from its pointers) is `pd.isna`."""
    from potentiel.objects import isna
    values = np.empty(len(texts) + (len(cells) if mixed else 0), dtype=object)
    values[:] = texts + (cells if mixed else [])
    assert isna(values).tolist() == pd.isna(values).tolist()
    short = np.empty(len(cells), dtype=object)
    short[:] = cells
    assert isna(short).tolist() == pd.isna(short).tolist()
    floats = np.array([c if isinstance(c, float) else 1.0 for c in cells], dtype=float)
    assert isna(floats).tolist() == pd.isna(floats).tolist()


@given(head=st.text(max_size=4).filter(lambda t: "{" not in t and "}" not in t),
       middle=st.text(max_size=4).filter(lambda t: "{" not in t and "}" not in t),
       tail=st.text(max_size=4).filter(lambda t: "{" not in t and "}" not in t),
       spec=st.sampled_from(["", ":d", ":03d", "!s", ":>4", "!r"]),
       reason=st.text(max_size=6), points=st.integers(-1, 100))
def test_reason_and_points_joined_as_the_template_formats_them(head, middle, tail, spec,
                                                               reason, points):
    template = head + "{reason}" + middle + "{points" + spec + "}" + tail
    parts = text._reason_then_points(template)
    assert parts is not None
    assert parts[0] + reason + parts[1][points + 1] == template.format(reason=reason,
                                                                       points=points)
    assert text._reason_then_points(head + "{points}" + middle + "{reason}") is None
