"""`objects.factorize_all` gives each cell the value pandas' factorize (blanks kept as a
value) gives it, by identity first or not hashed at all; the check sums of the Reading
sheet (`sources.fingerprint`) built on it are those of each value on its own."""

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from potentiel.objects import factorize_all
from potentiel.sources import fingerprint

cells_st = st.one_of(st.none(), st.just(float("nan")), st.just(pd.NA), st.text(max_size=4),
                     st.sampled_from(["A", "B", " x ", ""]), st.booleans(),
                     st.floats(-100, 100), st.integers(-5, 5))


def _same(a, b) -> bool:
    blank_a = a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a))
    blank_b = b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b))
    return (blank_a and blank_b) or (not blank_a and not blank_b and a == b
                                     and type(a) is type(b))


def _column(cells, repeat, spread):
    """The cells again and again (the same objects: the identity path from 4,096 cells),
    or new objects in nearly every cell (``spread``: the path that hashes nothing)."""
    if spread:
        return np.array([f"text {i}" for i in range(5000)] + list(cells), dtype=object)
    out = np.empty(len(cells) * repeat, dtype=object)
    out[:] = list(cells) * repeat
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(cells_st, max_size=40), st.sampled_from([1, 3, 200]), st.booleans(),
       st.booleans())
def test_each_cell_gets_exactly_its_own_value(cells, repeat, spread, shared_only):
    column = _column(cells, repeat, spread)
    codes, uniques = factorize_all(column, shared_only=shared_only)
    assert all(_same(x, y) for x, y in zip(uniques[codes].tolist(), column.tolist()))
    if not (shared_only and spread):  # each distinct (type, value) once, blanks as one
        keys = {("blank",) if _same(v, None) else (type(v), v) for v in column.tolist()}
        assert len(uniques) == len(keys)


def test_true_one_and_one_point_zero_stay_three_values():
    column = np.array([True, 1, 1.0, False, 0, 0.0, None, float("nan")] * 600, dtype=object)
    codes, uniques = factorize_all(column)
    assert [type(v) for v in uniques[codes][:8].tolist()] == \
        [bool, int, float, bool, int, float, type(None), type(None)]


@settings(max_examples=100, deadline=None)
@given(st.lists(cells_st.filter(lambda v: v is not pd.NA), max_size=40),
       st.sampled_from([1, 200]), st.booleans())
def test_check_sums_are_those_of_each_value_alone(cells, repeat, spread):
    column = _column(cells, repeat, spread)
    got = fingerprint.digests(column).tolist()
    alone = [fingerprint.digests(np.array([v], dtype=object)).tolist()[0]
             for v in column.tolist()]
    assert got == alone


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(float("nan")), st.sampled_from(["A", "B", "C"]),
                          st.integers(0, 2)), max_size=60),
       st.lists(st.one_of(st.sampled_from(["A", "B", "D"]), st.integers(0, 3)), max_size=4))
def test_equal_to_is_what_comparing_each_account_gives(cells, wanted):
    from potentiel.report import equal_to
    values = pd.Series(cells * 80, dtype=object)
    got = equal_to(values, wanted)
    for w in wanted:
        assert np.array_equal(got[w], (values == w).to_numpy(dtype=bool)), w
