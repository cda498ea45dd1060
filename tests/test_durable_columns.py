"""The messages the rules stage sends to durable_rules, built a column at a time
(`durable_engine._column_messages`), are byte for byte those `durable_engine._message`
writes for one record at a time; and the fired matrix is what `evaluate` gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel.rules import durable_engine as de

# Floats Python writes in an exponent form (with and without a dot), the smallest
# subnormal, a negative zero, integers as floats, huge and tiny values.
SPECIAL = [1e-05, 1e+16, 1e16 + 2, 9999999999999998.0, -0.0, 0.0, 5e-324, -5e-324, 1e-4,
           0.0001 * (1 - 2 ** -52), 1.5e300, -1.7976931348623157e308, 2.0 ** 53, 3.0, -7.0,
           0.1 + 0.2, 1 / 3, 123456789.123]

floats = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-2 ** 60, 2 ** 60).map(float))
float_cells = st.one_of(st.none(), floats)
texts = st.one_of(st.sampled_from(["client", "prospect", "é x", "", " a ", 'q"uote', "\\",
                                   "\u2028", "\x00", "日本"]), st.text(max_size=6))
text_cells = st.one_of(st.none(), texts)
# what an object column may hold: texts, numbers of every type, true/false
mixed_cells = st.one_of(st.none(), texts, floats, st.booleans(),
                        st.integers(-2 ** 63, 2 ** 63 - 1), st.sampled_from([1, 1.0, True, 0,
                                                                               -0.0, 0.0, False]))

# a=number (compared), b=text (compared), c/d: presence only (any kind)
CONDITIONS = {"r1": {"$gte": {"a": 0.5}}, "r2": {"b": "client"},
              "r3": {"$and": [{"$ex": {"c": 1}}, {"$lt": {"a": 1e300}}]},
              "r4": {"$or": [{"$ex": {"d": 1}}, {"b": "é x"}]}}


def _records(columns: dict, n: int) -> list[dict]:
    """One record per row, each value as `_message` is given it: a float column's values
    as Python floats (NaN for blank), an object column's as they are."""
    out = [{} for _ in range(n)]
    for name, column in columns.items():
        values = column.tolist() if column.dtype == object else \
            [float(v) for v in column.astype(float).tolist()]
        for record, value in zip(out, values):
            record[name] = value
    return out


def _per_record(columns: dict, n: int) -> list[str]:
    fields, _chunks = de._compile(CONDITIONS)
    return [de._message(i, r, fields) for i, r in enumerate(_records(columns, n))]


def _by_columns(columns: dict, n: int) -> list[str]:
    fields, _chunks = de._compile(CONDITIONS)
    return de._column_messages(fields, columns, n)


def _outcome(fn, *args):
    try:
        return fn(*args)
    except ValueError as exc:
        return ("ValueError", str(exc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_column_messages_are_the_record_messages(data):
    n = data.draw(st.integers(0, 30))
    cells = st.lists
    a = data.draw(cells(float_cells, min_size=n, max_size=n))
    # a lone surrogate (UTF-8 cannot hold it: the messages are then joined one by one)
    b = data.draw(cells(st.one_of(text_cells, st.just("\ud800x")), min_size=n, max_size=n))
    c = data.draw(cells(float_cells, min_size=n, max_size=n))
    d = data.draw(cells(mixed_cells, min_size=n, max_size=n))
    columns = {"a": np.array([np.nan if v is None else v for v in a], dtype=float),
               "b": np.array(b + [None], dtype=object)[:n],
               "c": np.array([np.nan if v is None else v for v in c], dtype=float),
               "d": np.array(d + [None], dtype=object)[:n]}
    if data.draw(st.booleans()):  # a float column read as a strided view, as frames hand it
        columns["a"] = np.repeat(columns["a"], 2)[::2]
    assert _outcome(_by_columns, columns, n) == _outcome(_per_record, columns, n)


@pytest.mark.parametrize("value", SPECIAL + [-1e-05, 1e22, 2.5e-310])
def test_each_special_float_is_written_as_one_record_writes_it(value):
    columns = {"a": np.array([value, np.nan, value, -value]), "c": np.array([value] * 4)}
    got = _by_columns(columns, 4)
    assert got == _per_record(columns, 4)
    written = got[0].split('"f0":')[1].split(",")[0].rstrip("}")
    assert float(written) == value and ("e" not in written or "." in written)


def test_integer_columns_are_written_as_floats_and_object_ints_as_ints():
    ints = {"a": np.array([3, -4, 2 ** 53], dtype=np.int64)}
    assert _by_columns(ints, 3) == _per_record(ints, 3)
    assert _by_columns(ints, 3)[0] == '{"id":0,"row":0,"f0":3.0}'
    objects = {"d": np.array([3, 3.0, True, 1, -0.0, 0.0, None], dtype=object)}
    got = _by_columns(objects, 7)
    assert got == _per_record(objects, 7)
    assert [m.rpartition(":")[2] for m in got] == ["3}", "3.0}", "true}", "1}", "-0.0}",
                                                   "0.0}", '6}']


def test_huge_ints_infinities_and_wrong_kinds_raise_as_records_do():
    for columns, match in (({"d": np.array([1, 2 ** 64], dtype=object)}, "64 bits"),
                           ({"a": np.array([1.0, np.inf])}, "infinite"),
                           ({"a": np.array(["x"], dtype=object)}, "compares it with"),
                           ({"b": np.array([2.0])}, "compares it with")):
        n = len(next(iter(columns.values())))
        with pytest.raises(ValueError, match=match):
            _by_columns(columns, n)
        with pytest.raises(ValueError, match=match):
            _per_record(columns, n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(float_cells, text_cells, st.one_of(st.none(), st.just(1.0))),
                min_size=1, max_size=30))
def test_the_fired_matrix_is_what_records_fire(rows):
    n = len(rows)
    columns = {"a": np.array([np.nan if a is None else a for a, _b, _c in rows]),
               "b": np.array([b for _a, b, _c in rows] + [None], dtype=object)[:n],
               "c": np.array([np.nan if c is None else c for _a, _b, c in rows])}
    records = [{k: v for k, v in r.items() if not (isinstance(v, float) and v != v)}
               for r in _records(columns, n)]
    by_record = de.evaluate(CONDITIONS, records)
    assert de.evaluate_columns(CONDITIONS, columns, n) == by_record
    matrix = de.evaluate_matrix(CONDITIONS, columns, n)
    assert matrix.shape == (n, len(CONDITIONS))
    assert [[rid for j, rid in enumerate(CONDITIONS) if matrix[i, j]] for i in range(n)] \
        == by_record


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(floats, st.floats(), st.floats(1e-4, 1e11), st.floats(-1e11, -1e-4),
                          st.sampled_from([1e10, 1e10 + 0.5, 9999999999.5, 0.001, 0.00099999,
                                           123456789012.5, 1e15 - 0.5, 999999999999999.0,
                                           -0.0, 0.0, -1e10])), max_size=60))
def test_float_texts_are_what_python_writes(values):
    """Arrow's casts write a record's floats only where they write what Python does."""
    got = de._float_texts(np.array(values, dtype=float)).to_pylist()
    assert got == [de._float_text(v) for v in values]
