"""The column-at-a-time paths of the pipeline give what the cell-by-cell ones give.

Validation reads whole columns at once (rows to a grid in pandas' C loop, number columns
converted in one step before error cells are looked for, text cleaned per distinct value,
the total-row pass skipped when no cell can read as a total, blank cells counted in one
step), and penetration divides whole amounts in floats. Each test here draws cells a
person may type or paste (French number text, "12 %", "N/A", dates, booleans, Excel error
cells, formulas without a value, huge integers, NaN and infinities, ragged rows) and
asserts that the fast path equals the cell-by-cell reference kept here: the same values,
the same warnings on the same cells, in the same order.
"""

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel import exact
from potentiel import validate as v
from potentiel.fields import BUILTIN_FIELDS, Catalogue, Field
from potentiel.portfolio import penetration
from potentiel.sources.totals import total_rows
from potentiel.validate import CELL_ERRORS, ErrorCell, FormulaCell, RawTable

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.none(), st.just(""), st.just("   "), st.text(max_size=8),
    st.integers(min_value=-10 ** 20, max_value=10 ** 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(sorted(CELL_ERRORS)),
    st.sampled_from(sorted(CELL_ERRORS)).map(ErrorCell),
    st.just(FormulaCell("=A1+1")),
    st.sampled_from(["1 234,5", "12 %", "N/A", "NC", "n.c.", "-", " 12 ", "1_000", "1e5",
                     "nan", "inf", "-0", "€ 3,5", "10-20", "> 50", "1 000 TTC", "Total",
                     "Sous-total", "TOTAL GÉNÉRAL", "somme", "ſum", "client", "Ancien client",
                     "prospect perdu", "Client actif", "??", "Δ"]),
)
number_cells = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                         st.integers(min_value=-10 ** 6, max_value=10 ** 6), cells)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def _problems(ws):
    return [(p.message, p.where, p.kind, p.column) for p in ws]


# --- references: the cell-by-cell paths the columnar ones replace -----------------------

def _grid_reference(headers, rows) -> np.ndarray:
    m = len(headers)
    if any(len(r) != m for r in rows):
        rows = [list(r[:m]) + [None] * (m - len(r)) for r in rows]
    grid = np.empty((len(rows), m), dtype=object)
    if rows and m:
        grid[:] = rows
    return grid


def _texts_reference(values: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    cleaned = np.empty(len(uniques) + 1, dtype=object)
    for k, u in enumerate(uniques):
        cleaned[k] = (u.strip() or None) if type(u) is str else v.cell_text(u)
    cleaned[-1] = None
    return cleaned[codes]


def _coerce_reference(values, index, f, raw, j, warnings):
    """Errors first, then the column: what `_coerce` did before its fast paths."""
    col = v._Column(raw, j, f, warnings)
    values = v._drop_errors(values, index, col)
    if f.type in v.NUMERIC_TYPES:
        return v._coerce_number(values, index, f, col)
    series = pd.Series(_texts_reference(values), index=index, dtype=object)
    if f.type == v.STATUS:
        series = v._coerce_status(series, col)
    return series


def _blank_reference(cells_: np.ndarray) -> np.ndarray:
    return np.array([v._blank(c) or (isinstance(c, str) and len(c) < 20 and
                                     v.marker_key(c) in v.NOT_AVAILABLE) for c in cells_],
                    dtype=bool)


# --- the tests -------------------------------------------------------------------------

@settings(max_examples=150, **COMMON)
@given(width=st.integers(0, 5), data=st.data(),
       tuples=st.booleans())
def test_the_grid_is_the_rows_padded_or_cut(width, data, tuples):
    rows = data.draw(st.lists(st.lists(cells, max_size=width + 2), max_size=8))
    if tuples:
        rows = [tuple(r) for r in rows]
    raw = RawTable([f"h{i}" for i in range(width)], rows)
    fast, ref = v._grid(raw), _grid_reference(raw.headers, rows)
    assert fast.shape == ref.shape
    assert all(_same(a, b) or a is b for a, b in zip(fast.ravel(), ref.ravel()))


@settings(max_examples=200, **COMMON)
@given(values=st.lists(cells, max_size=30))
def test_texts_per_distinct_value_are_the_cells_texts(values):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    assert list(v._texts(arr)) == list(_texts_reference(arr))


FIELDS = {f.name: f for f in BUILTIN_FIELDS}


@settings(max_examples=300, **COMMON)
@given(name=st.sampled_from(["revenue", "headcount", "growth_pct", "credit_rating",
                             "relationship", "dso_days", "id", "name", "status", "sector"]),
       values=st.lists(number_cells, max_size=25))
def test_a_column_reads_as_cell_by_cell(name, values):
    f = FIELDS[name]
    raw = RawTable([f.label or name], [[x] for x in values])
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    index = pd.RangeIndex(len(arr), name="row")
    fast_w, ref_w = [], []
    fast = v._coerce(arr.copy(), index, f, raw, 0, fast_w)
    ref = _coerce_reference(arr.copy(), index, f, raw, 0, ref_w)
    assert fast.dtype == ref.dtype
    assert all(_same(a, b) for a, b in zip(fast.tolist(), ref.tolist()))
    assert _problems(fast_w) == _problems(ref_w)


@settings(max_examples=200, **COMMON)
@given(values=st.lists(cells, max_size=25))
def test_unknown_columns_read_as_cell_by_cell(values):
    raw = RawTable(["notes"], [[x] for x in values])
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    index = pd.RangeIndex(len(arr), name="row")
    fast_w, ref_w = [], []
    fast = v._coerce_extra(arr.copy(), index, v._Column(raw, 0, None, fast_w))
    col = v._Column(raw, 0, None, ref_w)
    dropped = v._drop_errors(arr.copy(), index, col)
    typed = pd.Series(dropped, dtype=object).map(type)
    ref = None
    if not typed.isin((str, FormulaCell)).any():
        out = v._as_floats(dropped)
        if out is not None:
            ref = pd.Series(out, index=index, dtype=float)
    if ref is None:
        ref = pd.Series(_texts_reference(dropped), index=index, dtype=object)
    assert fast.dtype == ref.dtype
    assert all(_same(a, b) for a, b in zip(fast.tolist(), ref.tolist()))
    assert _problems(fast_w) == _problems(ref_w)


@settings(max_examples=200, **COMMON)
@given(values=st.lists(cells, max_size=30))
def test_blank_cells_counted_in_one_step(values):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    empty = np.asarray(np.equal(arr, None), dtype=bool)
    rest = np.flatnonzero(~empty)
    empty[rest] = _blank_reference(arr[rest])
    assert list(empty) == list(_blank_reference(arr))


ids = st.one_of(st.none(), st.just(""), st.just(" "), st.sampled_from(
    ["A1", "B2", "Total", "TOTAL", "Sous-total Nantes", "Total général", "ſum", "Somme",
     "Total Energies", "ensemble", "Cumul", "T.O.T", "tOt", "Grand total", "x"]),
    st.text(max_size=6))


@settings(max_examples=300, **COMMON)
@given(rows=st.lists(st.tuples(ids, ids, ids, st.one_of(st.none(), st.floats(0, 1e6))),
                     min_size=1, max_size=12))
def test_the_total_row_pre_check_misses_no_total(rows):
    catalogue = Catalogue.build()
    raw = RawTable(["Code client", "Raison sociale", "Other", "CA"],
                   [list(r) for r in rows])
    columns = {"id": 0, "name": 1, "revenue": 3}
    grid = v._grid(raw)
    index = pd.RangeIndex(len(grid), name="row")
    accounts = pd.DataFrame({n: v._coerce(grid[:, j], index, catalogue[n], raw, j, [])
                             for n, j in columns.items()}, index=index)
    keep = v._kept(accounts)
    first, ids_first = v._first_texts(grid, keep, accounts, columns, catalogue)
    reference = pd.Series(_texts_reference(grid[keep, 0]), index=np.flatnonzero(keep))
    def texts(series):  # blank: None or NaN (`total_rows` reads both as no text)
        return [None if not isinstance(x, str) else x for x in series.to_numpy(dtype=object)]
    assert texts(first) == texts(reference)
    found = total_rows(accounts[keep], reference, ["revenue"])
    if not v._may_hold_totals(accounts[keep], None if ids_first else first):
        assert found == {}


@settings(max_examples=300, **COMMON)
@given(pairs=st.lists(st.tuples(
    st.one_of(st.integers(-10 ** 6, 10 ** 16), st.floats(-1e6, 1e17), st.none(),
              st.sampled_from([1000.01, 2000.02, 10000.1, 8017.98, 2.0 ** 53, 2.0 ** 53 + 2])),
    st.one_of(st.integers(-10, 10 ** 16), st.floats(-1e3, 1e17), st.none(),
              st.sampled_from([10000.1, 3.0, 7.0, 2.0 ** 53, 9007199254740993.0]))),
    max_size=20))
def test_whole_amounts_divide_as_decimals(pairs):
    rev = pd.Series([np.nan if a is None else float(a) for a, _ in pairs], dtype=float)
    pot = pd.Series([np.nan if b is None else float(b) for _, b in pairs], dtype=float)
    fast = penetration(rev, pot).to_numpy()
    r = np.clip(rev.to_numpy(), 0, None)
    p = pot.to_numpy()
    valid = p > 0
    before = np.full(len(p), np.nan)  # what penetration gave before its float path
    before[valid] = exact.divide(r[valid], p[valid])
    for k in range(len(pairs)):
        assert _same(float(fast[k]), float(before[k])), (r[k], p[k])
        whole = valid[k] and r[k] == r[k] and r[k] == round(r[k]) and p[k] == round(p[k])
        if whole and r[k] < 2 ** 53 and p[k] < 2 ** 53:
            # whole amounts: exactly the decimal quotient, not only on the same side of
            # every threshold
            want = exact.to_float(exact.step("/", exact.typed(r[k]), exact.typed(p[k])))
            assert _same(float(fast[k]), want), (r[k], p[k])


@settings(max_examples=60, **COMMON)
@given(extra=st.lists(st.tuples(st.integers(0, 4999), cells), max_size=12),
       spaced=st.booleans(), name=st.sampled_from(["id", "name", "status", "revenue"]))
def test_long_columns_of_distinct_texts_read_as_cell_by_cell(extra, spaced, name):
    """Ids and names (nearly every cell different) are cleaned cell by cell, not per
    distinct value: the same texts, blanks and warnings."""
    values = [f" A{i:05d} " if spaced else f"A{i:05d}" for i in range(5000)]
    for at, cell in extra:
        values[at] = cell
    f = FIELDS[name]
    raw = RawTable([f.label or name], [[x] for x in values])
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    assert list(v._texts(arr.copy())) == list(_texts_reference(arr.copy()))
    index = pd.RangeIndex(len(arr), name="row")
    fast_w, ref_w = [], []
    fast = v._coerce(arr.copy(), index, f, raw, 0, fast_w)
    ref = _coerce_reference(arr.copy(), index, f, raw, 0, ref_w)
    assert all(_same(a, b) for a, b in zip(fast.tolist(), ref.tolist()))
    assert _problems(fast_w) == _problems(ref_w)


@settings(max_examples=100, **COMMON)
@given(picks=st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=40),
       many=st.booleans())
def test_texts_spread_by_identity_are_each_values_text(picks, many):
    """`text.coded` tells shared values apart by identity: the same text as building
    each account's own (fresh copies of equal values included)."""
    from potentiel.text import coded
    pool = [("a", "b"), ("b",), (), None, "x", float("nan")]
    values = [(tuple(list(pool[k])) if isinstance(pool[k], tuple) and fresh else pool[k])
              for k, fresh in picks]
    if many:  # mostly different objects: hashed by value
        values += [(f"r{i}",) for i in range(1200)]

    def make(v):  # a blank reads as None or NaN (hashed by value, pandas gives NaN)
        return None if v is None or v != v else f"<{v!r}>"
    codes, texts = coded(values, make)
    assert list(texts[codes]) == [make(v) for v in values]
    array = np.empty(len(values), dtype=object)  # an object array: ids read from its buffer
    array[:] = values
    codes, texts = coded(array[::-1][::-1], make)
    assert list(texts[codes]) == [make(v) for v in values]


def test_identities_are_the_objects_ids():
    from potentiel.objects import identities, is_none
    values = np.empty(7, dtype=object)
    values[:] = ["a", None, 1.5, ("x",), "a", float("nan"), object()]
    grid = np.empty((7, 3), dtype=object)
    grid[:, 1] = values
    for array in (values, values[::2], values[:0], values[::-1], grid[:, 1]):
        assert list(identities(array)) == [id(v) for v in array]
        assert list(is_none(array)) == [v is None for v in array]
        at = np.arange(len(array))[::-2]
        assert list(identities(array, at)) == [id(array[k]) for k in at]


coordinate = st.floats(-90, 90, allow_nan=False)


@settings(max_examples=100, **COMMON)
@given(points=st.lists(st.tuples(coordinate, st.floats(-180, 180)), min_size=1, max_size=20),
       rep=st.tuples(coordinate, st.floats(-180, 180)))
def test_distances_from_radians_are_haversine_to_the_bit(points, rep):
    from potentiel.portfolio import _haversine_from, haversine_km
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    la, lo = np.radians(lat), np.radians(lon)
    fast = _haversine_from(la, lo, np.cos(la), rep[0], rep[1])
    assert fast.tobytes() == haversine_km(lat, lon, rep[0], rep[1]).tobytes()


@settings(max_examples=150, **COMMON)
@given(revenue=st.lists(st.one_of(st.none(), st.sampled_from([0.0, 10.0, 10.0, 25.5, 100.0]),
                                  st.floats(-10, 1e7)), max_size=25))
def test_top_share_looks_up_in_sorted_order(revenue):
    """The accounts making 80 % of revenue: the same as one search per account."""
    from potentiel.portfolio import top_share
    rev = pd.Series([np.nan if r is None else r for r in revenue], dtype=float)
    got = top_share(rev).to_numpy()
    v = np.where(np.isfinite(rev.to_numpy()), rev.clip(lower=0).fillna(0).to_numpy(), 0.0)
    if not (v > 0).any():
        assert not got.any()
        return
    ints = exact.integers(v)
    p, q = exact.ratio_parts(0.8)
    order = np.argsort(v, kind="stable")
    asc, asc_ints = v[order], ints[order].astype(object)
    suffix = np.concatenate([np.cumsum(asc_ints[::-1])[::-1], np.array([0], dtype=object)])
    above = suffix[np.searchsorted(asc, v, side="right")]
    want = np.asarray(above * q < p * suffix[0], dtype=bool) & (v > 0)
    assert list(got) == list(want)


def _join_reference(pieces, sep, n):
    acc = np.full(n, "", dtype=object)
    filled = np.zeros(n, dtype=bool)
    for piece in pieces:
        p = np.asarray(piece, dtype=object)
        has = pd.notna(p)
        both, only = has & filled, has & ~filled
        acc[only] = p[only]
        if both.any():
            acc[both] = acc[both] + sep + p[both]
        filled |= has
    return acc


@settings(max_examples=200, **COMMON)
@given(data=st.data(), n=st.integers(0, 12), k=st.integers(0, 5))
def test_coded_pieces_join_as_piece_by_piece(data, n, k):
    """`text.join_coded` (pieces as code per account and text per code, joined once per
    combination of codes) gives what joining each account's pieces gives."""
    from potentiel.text import join_coded
    piece = st.one_of(st.none(), st.just(float("nan")), st.just(""), st.text(max_size=5))
    coded, spread = [], []
    for _ in range(k):
        texts = np.empty(data.draw(st.integers(1, 4)), dtype=object)
        texts[:] = data.draw(st.lists(piece, min_size=len(texts), max_size=len(texts)))
        codes = np.array(data.draw(st.lists(st.integers(0, len(texts) - 1), min_size=n,
                                            max_size=n)), dtype=np.intp)
        coded.append((codes, texts))
        spread.append(texts[codes])
    assert list(join_coded(coded, ". ", n)) == list(_join_reference(spread, ". ", n))


@settings(max_examples=150, **COMMON)
@given(name=st.sampled_from(["id", "name", "status", "sector", "revenue", "last_order"]),
       values=st.lists(number_cells, max_size=25), long=st.booleans())
def test_blank_values_known_from_the_reading_are_isna(name, values, long):
    """The blanks `_coerce` hands over (and `_missing`) are `isna` of the column read;
    the error cells of a long column (found by a first look for "#") are `isin`'s."""
    f = FIELDS.get(name) or Field(name, "date")
    if long:  # long enough for the paths of long columns (distinct texts, "#" search)
        values = values + [f"A{i:05d}" for i in range(4100)]
    raw = RawTable([f.label or name], [[x] for x in values])
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    index = pd.RangeIndex(len(arr), name="row")
    known: list = []
    series = v._coerce(arr.copy(), index, f, raw, 0, [], known)
    want = series.isna().to_numpy()
    assert list(v._missing(series.to_numpy())) == list(want)
    assert list(v._missing(arr)) == list(pd.isna(arr))  # raw cells: NaN among texts too
    if known:
        assert list(known[0]) == list(want)
    errors = pd.Series(arr, dtype=object).isin(CELL_ERRORS).to_numpy()
    assert list(v._error_mask(arr)) == list(errors)


@settings(max_examples=100, **COMMON)
@given(picks=st.lists(st.one_of(st.none(), st.sampled_from(["A1", "A2", " A1", "a1", "1"]),
                                st.integers(0, 3), st.floats(0, 2)), max_size=15))
def test_duplicate_ids_said_as_pandas_finds_them(picks):
    """No duplicate is said when a set of the ids is as long as they are; else pandas'
    comparison says which: the same warnings as that comparison alone."""
    raw = RawTable(["Code client"], [[x] for x in picks])
    accounts = pd.DataFrame({"id": pd.Series(picks, dtype=object)})
    fast: list = []
    v._check_ids(accounts, raw, {"id": 0}, fast)
    ids = accounts["id"]
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    said = {str(value) for value, _g in dup.groupby(dup, sort=False)}
    got = {p.message.split('"')[1] for p in fast if p.kind == "duplicate-id"}
    assert got == said
    assert [p.where for p in fast if p.kind == "no-id"] == \
        [raw.cell(int(k), 0) for k in np.flatnonzero(ids.isna().to_numpy())]


@settings(max_examples=100, **COMMON)
@given(pool=st.lists(st.one_of(st.none(), st.just(float("nan")), st.text(max_size=3),
                               st.integers(-2, 2), st.sampled_from([1.0, 0.0, True, False])),
                     min_size=1, max_size=8),
       picks=st.lists(st.integers(0, 7), min_size=1, max_size=40), fresh=st.booleans())
def test_objects_factorised_by_identity_as_pandas_does(pool, picks, fresh):
    """`objects.factorize` (by identity first, on long columns of shared objects) gives
    pd.factorize's codes and distinct values; equal values as different objects too."""
    from potentiel.objects import factorize
    cells = [pool[k % len(pool)] for k in picks] * 120  # past the short-column path
    if fresh:  # equal texts as different objects
        cells = [("" + c + " ")[:-1] if isinstance(c, str) else c for c in cells]
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    codes, uniques = factorize(array)
    want_codes, want = pd.factorize(array, use_na_sentinel=True)
    assert list(codes) == list(want_codes)
    assert all(_same(a, b) for a, b in zip(uniques.tolist(), list(want)))


@settings(max_examples=150, **COMMON)
@given(amounts=st.lists(st.one_of(st.none(), st.floats(-10, 1e9)), max_size=30))
def test_potential_thirds_in_one_pass_are_each_quantile(amounts):
    """Both potential bounds from one quantile call are the two calls' values."""
    from potentiel.portfolio import MatrixTiers, potential_bounds
    pot = pd.Series([np.nan if a is None else a for a in amounts], dtype=float)
    known = pot[pot > 0]
    high = float(known.quantile(2 / 3)) if len(known) else np.inf
    low = float(known.quantile(1 / 3)) if len(known) else 0.0
    assert potential_bounds(pot, MatrixTiers()) == (high, min(low, high))


@settings(max_examples=100, **COMMON)
@given(points=st.lists(st.tuples(coordinate, st.floats(-180, 180)), min_size=1, max_size=15),
       reps=st.lists(st.tuples(st.sampled_from([45.0, 45.0000001, 48.85, -33.9, 0.0]),
                               st.sampled_from([4.8, 4.8000001, 2.35, 151.2, 0.0])),
                     min_size=1, max_size=6))
def test_nearest_rep_is_the_first_at_the_fewest_km(points, reps):
    """The nearest rep, its arc computed only where its haversine may win: the first rep
    at the fewest km, as measuring every rep gives (twin and near-twin bases included)."""
    from potentiel.portfolio import haversine_km, nearest_rep
    accounts = pd.DataFrame({"latitude": [p[0] for p in points],
                             "longitude": [p[1] for p in points]})
    table = pd.DataFrame({"name": [f"r{k}" for k in range(len(reps))],
                          "latitude": [r[0] for r in reps], "longitude": [r[1] for r in reps]})
    names, km = nearest_rep(accounts, table)
    lat, lon = accounts["latitude"].to_numpy(), accounts["longitude"].to_numpy()
    d = np.column_stack([haversine_km(lat, lon, r[0], r[1]) for r in reps])
    k = np.argmin(d, axis=1)  # the first of the fewest
    assert list(names) == [f"r{j}" for j in k]
    assert km.tolist() == d[np.arange(len(points)), k].tolist()


def test_templates_filled_by_position_as_by_name():
    from potentiel.text import _positional
    for template in ("strongest: {reason} ({points}/100)", "{points}/100 : {reason}",
                     "{{literal}} {reason!r:>12} {points:03d}", "no field", "{reason}{reason}"):
        fill = _positional(template, ("reason", "points"))
        assert fill("revenue 38 k€", 7) == template.format(reason="revenue 38 k€", points=7)
    assert _positional("{other} {reason}", ("reason", "points")) is None
    assert _positional("{reason", ("reason", "points")) is None


@settings(max_examples=150, **COMMON)
@given(data=st.data(), n=st.integers(0, 12), k=st.integers(1, 5))
def test_weighted_rows_are_the_rows_weighted_apart(data, n, k):
    """`weighted_score(scores, w, rows=mask)` is `weighted_score(scores[mask], w)` to the
    bit (the profiles' scores, computed without a frame per profile)."""
    from potentiel.scoring import weighted_score
    value = st.one_of(st.none(), st.floats(0, 100))
    scores = pd.DataFrame({f"c{j}": [np.nan if x is None else x for x in data.draw(
        st.lists(value, min_size=n, max_size=n))] for j in range(k)}, dtype=float)
    scores.index = pd.Index(np.arange(n) * 3, name="row")
    if data.draw(st.booleans()):  # a column set again (as a rule's score does): two blocks
        scores["c0"] = scores["c0"].where(scores["c0"] > 50, scores["c0"])
    weights = {f"c{j}": data.draw(st.sampled_from([0, 0.1, 1, 2.5, 7])) for j in range(k)}
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    fast, ref = weighted_score(scores, weights, rows=mask), weighted_score(scores[mask], weights)
    assert fast.score.index.equals(ref.score.index)
    assert fast.score.to_numpy().tobytes() == ref.score.to_numpy().tobytes()
    assert fast.confidence.to_numpy().tobytes() == ref.confidence.to_numpy().tobytes()
    assert fast.contributions.to_numpy().tobytes() == ref.contributions.to_numpy().tobytes()
    assert list(fast.contributions.columns) == list(ref.contributions.columns)
    assert fast.weights == ref.weights


def test_flags_set_directly_by_an_action_are_merged_with_the_rules_flags():
    """Cells of `RulesResult.flags` an action set itself (a tuple, a list, an empty list)
    are merged with the flags of `add_flags`; the empty tuple everywhere else is not
    measured, as `len` would say."""
    from potentiel.rules.actions import BUILTIN_ACTIONS
    from potentiel.rules.result import RulesResult
    index = pd.RangeIndex(5)
    result = RulesResult.empty(index)
    flags = result.flags.copy()
    flags[1], flags[2], flags[3] = ("vip",), [], ["key", "vip"]
    result.flags = flags
    result.add_flags(pd.Series([True, True, True, False, False], index=index), "far")
    BUILTIN_ACTIONS["flag"].finish(result)
    assert result.flags.tolist() == [("far",), ("far", "vip"), ("far",), ("key", "vip"), ()]


def _weighted_reference(scores, weights):
    """The weighted score as one frame-wide computation (before its column loop)."""
    names = [c for c in scores.columns if weights.get(c, 0) > 0]
    total = sum(weights[c] for c in names)
    w = np.array([weights[c] / total for c in names])
    s = scores[names].to_numpy(dtype=float)
    known = ~np.isnan(s)
    den = np.round((known * w).sum(axis=1), 9)
    num = (np.nan_to_num(s) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
        contrib = np.where(known, np.nan_to_num(s) * w / den[:, None], np.nan)
    return score, den, contrib


@settings(max_examples=300, **COMMON)
@given(data=st.data(), n=st.integers(0, 6), k=st.integers(1, 20))
def test_weighted_column_by_column_is_the_frame_wide_sum(data, n, k):
    """Summed column by column, the weighted score, confidence and contributions are the
    frame-wide computation's to the bit (numpy sums a column-major frame's rows in column
    order); infinite scores too."""
    from potentiel.scoring import weighted_score
    value = st.one_of(st.none(), st.floats(0, 100), st.sampled_from([0.1, 1 / 3, 99.99]),
                      st.sampled_from([np.inf, -np.inf]))
    scores = pd.DataFrame({f"c{j}": [np.nan if x is None else x for x in data.draw(
        st.lists(value, min_size=n, max_size=n))] for j in range(k)}, dtype=float)
    if data.draw(st.booleans()):  # a column set again (as a rule's score does): two blocks
        scores["c0"] = scores["c0"].where(scores["c0"] > 50, scores["c0"])
    weights = {f"c{j}": data.draw(st.sampled_from([0, 0.05, 0.1, 1, 2.5, 7, 1 / 3]))
               for j in range(k)}
    if not any(weights.values()):
        weights["c0"] = 1
    with np.errstate(over="ignore"):  # an infinite score over a tiny weight
        got = weighted_score(scores, weights)
        score, den, contrib = _weighted_reference(scores, weights)
    assert got.score.to_numpy().tobytes() == score.tobytes()
    assert got.confidence.to_numpy().tobytes() == den.tobytes()
    assert got.contributions.to_numpy().tobytes() == np.asarray(contrib, order="C").tobytes()
