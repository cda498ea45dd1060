"""The engines agree: compiled vs a reference interpreter vs durable_rules, on random input.

Random rule files (random conditions over numbers, text, blanks, percentages, arithmetic,
field-to-field comparisons, in-lists, "is missing", not/and/or) are applied to random
accounts with blanks. Three checks:

- the compiled engine fires exactly where the reference interpreter (`reference.py`, the
  three-valued meaning of the tree as written) says the condition is TRUE;
- the durable JSON (`to_durable.py`) means the same, read by a small pure-Python reader of
  durable's condition language (runs everywhere);
- durable_rules itself agrees, through ``potentiel.rules.durable_engine``.

Values and constants include decimal edges (0.1 + 0.2 == 0.3, 1,000.01 / 10,000.1 ==
0.1): the reference computes arithmetic in decimal on every account, the engines in
floats redone in decimal only near a short decimal, and they must agree.
"""

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from potentiel.criterion import Criterion
from potentiel.fields import Catalogue
from potentiel.rules import apply_rules, load_ruleset
from potentiel import scoremodels
from potentiel.rules import engines
from potentiel.rules.engines import outcome_columns
from potentiel.rules.reference import fires
from potentiel.rules.syntax import (And, Arith, Bool, Cmp, Func, In, Missing, Name, Not, Num, Or,
                                    Str, TextTest, unparse)
from potentiel.rules.to_durable import DurableProgram, safe_number
from potentiel.rules.values import build_frame

CRITERIA = {n: type(n, (Criterion,), {"name": n})() for n in (
    "revenue", "trend", "potential", "penetration", "solvency", "growth", "prescription",
    "relationship", "accessibility")}
CATALOGUE = Catalogue.build()

NUMBER_FIELDS = ["distance_km", "headcount", "revenue", "potential", "growth_pct",
                 "penetration", "score.revenue"]
TEXT_FIELDS = ["status", "salesperson", "nearest_rep", "potential_tier"]
CHOICES = {"status": ["client", "prospect", "suspect"], "potential_tier": ["high", "medium", "low"]}
CONSTANTS = [0.0, 1.0, 5.0, 600.0, -3.0, 0.25, 2.5, 100.0, 5e-05, 1e20,
             0.1, 0.2, 0.3, 100.001]  # decimal edges: 0.1 + 0.2, 1,000.01 × 0.1, …
# amounts with cents whose float arithmetic lands a unit off the decimal result
EDGES = [0.1, 0.2, 1000.01, 10000.1, 2000.02, 999.99, 1000.0, 0.3]
NUMBERS = CONSTANTS + EDGES + [None, None, -0.0, 599.9999, 1e-7, 3e300, 7.0, 17.0, 33.0]
TEXTS = [None, None, "client", "Prospect ", "suspect", "bob", "BOB", "  ", "high", "Low", "é",
         "É", "medium"]
OPS = ["<", "<=", ">", ">=", "==", "!="]
# the rule-language constructs of issue 12: functions, statistics, text tests and dates
TODAY = dt.date(2025, 6, 30)
DATES = [None, dt.date(2025, 6, 30), dt.date(2025, 3, 31), dt.datetime(2024, 6, 30, 12, 0),
         "2024-12-31", "31/01/2025", "2025-02-30", "soon", dt.date(2026, 1, 1)]
FUNCTION_VALUES = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 20.0, 50.0, 60.0, 80.0, 100.0, 0.5, 0.8, 0.3,
                   90.0, 12.0, 10.0]
TEXT_NEEDLES = ["o", "B", "é", "e", "cl", "ENT", "bob", "z"]


# ----------------------------------------------------------------------------- strategies

def _case(draw, word):
    return draw(st.sampled_from([word, word.upper(), word.capitalize(), f" {word} "]))


@st.composite
def text_constant(draw, field):
    if field in CHOICES:
        return Str(_case(draw, draw(st.sampled_from(CHOICES[field]))))
    return Str(_case(draw, draw(st.sampled_from(["bob", "al", "é", "client"]))))


@st.composite
def number_constant(draw, field):
    if field == "penetration" and draw(st.booleans()):
        return Num(draw(st.sampled_from([25.0, 10.0, 0.0])), percent=True)
    return Num(draw(st.sampled_from(CONSTANTS)))


@st.composite
def function_expr(draw, depth=0):
    """A number expression using the functions of the language."""
    kind = draw(st.sampled_from(["min", "max", "abs", "sqrt", "if", "percentile", "quintile",
                                 "cumulative_share", "days_since", "months_since", "field"]))
    field = Name(draw(st.sampled_from(NUMBER_FIELDS)))
    if kind == "field" or depth > 1:
        return field
    if kind in ("min", "max"):
        other = draw(function_expr(depth + 1)) if draw(st.booleans()) else \
            Num(draw(st.sampled_from(CONSTANTS)))
        return Func(kind, (field, other))
    if kind in ("abs", "sqrt"):
        inner = Arith("-", field, Num(draw(st.sampled_from(CONSTANTS))))
        return Func(kind, (draw(st.sampled_from([field, inner])),))
    if kind == "if":
        return Func("if", (draw(atom(simple=True)), field,
                           draw(function_expr(depth + 1))))
    if kind in ("days_since", "months_since"):
        return Func(kind, (Name("last_order"),))
    return Func(kind, (field,))


@st.composite
def atom(draw, simple=False):
    kinds = ["num", "num", "text", "in", "missing", "arith", "fields", "texts", "bool"]
    if not simple:
        kinds += ["func", "func", "textt", "date"]
    kind = draw(st.sampled_from(kinds))
    if kind == "func":
        expr = draw(function_expr())
        if draw(st.booleans()):
            expr = Arith(draw(st.sampled_from("+-*/")), expr, draw(function_expr()))
        return Cmp(draw(st.sampled_from(OPS)), expr, Num(draw(st.sampled_from(FUNCTION_VALUES))))
    if kind == "textt":
        field = draw(st.sampled_from(TEXT_FIELDS))
        return TextTest(draw(st.sampled_from(["contains", "starts", "ends"])), Name(field),
                        Str(draw(st.sampled_from(TEXT_NEEDLES))))
    if kind == "date":
        other = draw(st.sampled_from([Name("today"), Str("2025-01-01"), Str("2024-06-30"),
                                      Name("last_order")]))
        return Cmp(draw(st.sampled_from(OPS)), Name("last_order"), other)
    if kind == "num":
        field = draw(st.sampled_from(NUMBER_FIELDS))
        node = Cmp(draw(st.sampled_from(OPS)), Name(field), draw(number_constant(field)))
        if draw(st.booleans()):
            node = Cmp({"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(node.op, node.op),
                       node.right, node.left)
        return node
    if kind == "text":
        field = draw(st.sampled_from(TEXT_FIELDS))
        return Cmp(draw(st.sampled_from(["==", "!="])), Name(field), draw(text_constant(field)))
    if kind == "in":
        if draw(st.booleans()):
            field = draw(st.sampled_from(TEXT_FIELDS))
            values = draw(st.lists(text_constant(field), max_size=3))
        else:
            field = draw(st.sampled_from(NUMBER_FIELDS[:-1]))
            pool = st.sampled_from(CONSTANTS) | st.integers(0, 40).map(float)
            size = draw(st.sampled_from([3, 3, 25]))  # long lists become a hidden column
            values = [Num(v) for v in draw(st.lists(pool, max_size=size))]
        return In(Name(field), tuple(values), draw(st.booleans()))
    if kind == "missing":
        field = draw(st.sampled_from(NUMBER_FIELDS + TEXT_FIELDS))
        return Missing(Name(field), draw(st.booleans()))
    if kind == "arith":
        a, b = draw(st.sampled_from(NUMBER_FIELDS)), draw(st.sampled_from(NUMBER_FIELDS))
        right = Name(b) if draw(st.booleans()) else Num(draw(st.sampled_from(CONSTANTS)))
        expr = Arith(draw(st.sampled_from("+-*/")), Name(a), right)
        return Cmp(draw(st.sampled_from(OPS)), expr, Num(draw(st.sampled_from(CONSTANTS))))
    if kind == "fields":
        a, b = draw(st.sampled_from(NUMBER_FIELDS)), draw(st.sampled_from(NUMBER_FIELDS))
        return Cmp(draw(st.sampled_from(OPS)), Name(a), Name(b))
    if kind == "texts":
        a, b = draw(st.sampled_from(TEXT_FIELDS)), draw(st.sampled_from(TEXT_FIELDS))
        return Cmp(draw(st.sampled_from(["==", "!="])), Name(a), Name(b))
    return Bool(draw(st.booleans()))


conditions = st.recursive(
    atom(),
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs)))),
    max_leaves=8)


@st.composite
def accounts(draw):
    n = draw(st.integers(1, 8))
    data = {f: [draw(st.sampled_from(NUMBERS)) for _ in range(n)]
            for f in NUMBER_FIELDS if f != "score.revenue"}
    data.update({f: [draw(st.sampled_from(TEXTS)) for _ in range(n)] for f in TEXT_FIELDS})
    data["id"] = [f"A{i}" for i in range(n)]
    data["last_order"] = [draw(st.sampled_from(DATES)) for _ in range(n)]
    table = pd.DataFrame(data)
    for f in NUMBER_FIELDS[:-1]:
        table[f] = table[f].astype(float)
    scores = pd.DataFrame({"revenue": [draw(st.sampled_from([None, 0.0, 50.0, 100.0, 25.0]))
                                       for _ in range(n)]}, dtype=float)
    return table, scores


def make_ruleset(conds):
    lines = ["fields: {last_order: date}", "rules:"]
    actions = ["{flag: f}", "{cap: C}", "{floor: B}", "{force: A}", "{points: 2}",
               "{set: {sector: x}}", "{exclude: true}"]
    for i, cond in enumerate(conds):
        lines += [f"  - id: r{i}", "    when: >-", f"      {unparse(cond)}",
                  f"    then: {actions[i % len(actions)]}", f"    why: rule {i}"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules" / "random.yaml"
        path.parent.mkdir()
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_ruleset(path, CATALOGUE, CRITERIA)


def reference_matrix(rs, table, scores):
    rules = rs.active_rules
    out = np.zeros((len(table), len(rules)), dtype=bool)
    records = []
    for i in range(len(table)):
        record = {k: (None if not isinstance(v, (dt.date, str)) and pd.isna(v) else v)
                  for k, v in table.iloc[i].items()}
        record["score.revenue"] = None if pd.isna(scores["revenue"].iloc[i]) else \
            scores["revenue"].iloc[i]
        records.append(record)
    for i, record in enumerate(records):
        for j, rule in enumerate(rules):
            out[i, j] = fires(rule.condition, record, rs.kinds, records, TODAY)
    return out


@pytest.fixture(autouse=True, scope="module")
def fixed_today():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTENTIEL_TODAY", TODAY.isoformat())
        yield


# ----------------------------------------------------------------------------- durable readers

def _durable_holds(cond, message):
    """durable's condition language on one message, as observed on durable_rules 2.0.28."""
    (key, arg), = cond.items()
    if key == "$and":
        return all(_durable_holds(c, message) for c in arg)
    if key == "$or":
        return any(_durable_holds(c, message) for c in arg)
    if key in ("$ex", "$nex"):
        (field, _), = arg.items()
        return (field in message) == (key == "$ex")
    if key in ("$lt", "$lte", "$gt", "$gte", "$neq"):
        (field, value), = arg.items()
        if field not in message:
            return False
        v = message[field]
        return {"$lt": v < value, "$lte": v <= value, "$gt": v > value, "$gte": v >= value,
                "$neq": v != value}[key]
    return key in message and message[key] == arg


def python_reader_evaluate(conditions, records):
    for message in records:
        for v in message.values():
            assert type(v) in (float, int, str) and (not isinstance(v, float) or np.isfinite(v))
    return [[rid for rid, c in conditions.items() if _durable_holds(c, m)] for m in records]


def durable_module():
    """The durable_rules adapter. durable_rules is a dependency where it builds (Linux,
    macOS): the suite fails, rather than skips, when it is missing there."""
    from potentiel.rules import durable_engine
    assert durable_engine.available(), "durable_rules is not installed: pip install -e ."
    return durable_engine


def program_matrix(rs, table, scores, evaluate):
    rules = rs.active_rules
    frame = build_frame(table, scores, rs.kinds, rs.hidden)
    program = DurableProgram({r.id: r.normal for r in rules}, rs.hidden, frame, len(table))
    for message in program.records():
        for v in message.values():
            assert not isinstance(v, float) or safe_number(v)
    fired = evaluate(program.conditions, program.records())
    pos = {r.id: j for j, r in enumerate(rules)}
    out = np.zeros((len(table), len(rules)), dtype=bool)
    for i, ids in enumerate(fired):
        assert len(ids) == len(set(ids))
        for rid in ids:
            out[i, pos[rid]] = True
    return out


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- the checks

@SETTINGS
@given(st.lists(conditions, min_size=1, max_size=4), accounts())
def test_compiled_engine_matches_the_reference_interpreter(conds, data):
    table, scores = data
    rs = make_ruleset(conds)
    compiled = engines.fired_by(rs, table, scores, "compiled")
    np.testing.assert_array_equal(compiled, reference_matrix(rs, table, scores))


@SETTINGS
@given(st.lists(conditions, min_size=1, max_size=4), accounts())
def test_durable_json_means_what_the_compiled_engine_does(conds, data):
    table, scores = data
    rs = make_ruleset(conds)
    compiled = engines.fired_by(rs, table, scores, "compiled")
    np.testing.assert_array_equal(
        program_matrix(rs, table, scores, python_reader_evaluate), compiled)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, min_size=1, max_size=4), accounts())
def test_durable_rules_agrees_with_the_compiled_engine(monkeypatch_module, conds, data):
    table, scores = data
    rs = make_ruleset(conds)
    durable = apply_rules(rs, table, scores, engine="durable")
    compiled = apply_rules(rs, table, scores, engine="compiled")
    assert durable.problems == compiled.problems
    for attr in ("fired", "flags", "cap", "floor", "force", "points", "exclude"):
        pd.testing.assert_series_equal(getattr(durable, attr), getattr(compiled, attr))
    assert durable.set.keys() == compiled.set.keys()
    for k in durable.set:
        pd.testing.assert_series_equal(durable.set[k], compiled.set[k])


def make_points_ruleset(conds):
    """A points model (score: points, a points table, two sub-scores and their cross)
    whose rules give points to the score and to the sub-scores."""
    lines = ["fields: {last_order: date}", "score: {model: points, scale: 0 to 1000}",
             "tables:",
             "  size: {field: headcount, bands: [{from: 0, points: 10}, {from: 50, points: 300}],"
             " missing: 5}",
             "  far: {field: distance_km, bands: [{from: 0, points: -20}, {from: 600, "
             "points: -400}]}",
             "subscores:",
             "  fit: {tables: [size], bands: {A: 200, B: 50, C: 0}}",
             "  reach: {tables: [far], bands: {'1': 0, '2': -100, '3': -1000}}",
             "cross: [fit, reach]",
             "categories: {A: {min: 500}, B: {min: 100}, C: {min: 0}}",
             "rules:"]
    actions = ["{points: 150}", "{points: {fit: 70}}", "{points: -35.5}",
               "{points: {reach: 200, score: 3}}", "{cap: C}"]
    for i, cond in enumerate(conds):
        lines += [f"  - id: r{i}", "    when: >-", f"      {unparse(cond)}",
                  f"    then: {actions[i % len(actions)]}", f"    why: rule {i}"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules" / "points.yaml"
        path.parent.mkdir()
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_ruleset(path, CATALOGUE, CRITERIA)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, min_size=1, max_size=5), accounts())
def test_points_models_agree_on_both_engines(monkeypatch_module, conds, data):
    """Points, sub-score points, the totals, the bands and the cross: the same on durable
    rules and the compiled engine (they are decided in the shared outcome stage)."""
    from potentiel import scoremodels
    table, scores = data
    rs = make_points_ruleset(conds)
    totals = []
    for engine in ("durable", "compiled"):
        res = apply_rules(rs, table, scores, engine=engine)
        weighted = pd.Series(np.nan, index=table.index)
        totals.append((res, scoremodels.compute(rs, table, scores, weighted, res, [])))
    (d, dm), (c, cm) = totals
    pd.testing.assert_series_equal(d.points, c.points)
    assert d.subpoints.keys() == c.subpoints.keys()
    for k in d.subpoints:
        pd.testing.assert_series_equal(d.subpoints[k], c.subpoints[k])
    pd.testing.assert_series_equal(dm.total, cm.total)
    assert (dm.total >= 0).all()  # a points score starts at 0
    for k in dm.subscores:
        pd.testing.assert_series_equal(dm.subscores[k], cm.subscores[k])
        pd.testing.assert_series_equal(dm.bands[k], cm.bands[k])
    pd.testing.assert_series_equal(dm.cell, cm.cell)


@pytest.fixture(scope="module")
def monkeypatch_module():
    module = durable_module()
    saved = engines._durable_module
    engines._durable_module = lambda: module
    yield module
    engines._durable_module = saved


# ----------------------------------------------------------------------------- durable traps

def test_numbers_durable_cannot_read_are_rank_encoded(monkeypatch_module):
    rs = make_ruleset([Cmp("<", Name("penetration"), Num(5e-05)),
                       Cmp("==", Name("revenue"), Num(1e20)),
                       Cmp(">", Name("revenue"), Num(1e19))])
    table = pd.DataFrame({"id": ["a", "b", "c"], "penetration": [1e-7, 5e-05, 0.5],
                          "revenue": [1e20, 2e20, 1e18]})
    scores = pd.DataFrame({"revenue": [1.0, 2.0, 3.0]})
    expected = [("r0", "r1", "r2"), ("r2",), ()]
    for engine in ("compiled", "durable"):
        assert apply_rules(rs, table, scores, engine=engine).fired.tolist() == expected


def test_reserved_and_dotted_names_reach_durable_safely(monkeypatch_module):
    rs = make_ruleset([Cmp("==", Name("id"), Str("A1")),
                       Cmp(">=", Name("score.revenue"), Num(50))])
    table = pd.DataFrame({"id": ["A1", "A2"]})
    scores = pd.DataFrame({"revenue": [10.0, 60.0]})
    assert apply_rules(rs, table, scores, engine="durable").fired.tolist() == [("r0",), ("r1",)]


def test_is_missing_alone_or_in_an_or_returns(monkeypatch_module):
    rs = make_ruleset([Missing(Name("distance_km")),
                       Or((Missing(Name("distance_km")), Cmp(">", Name("headcount"), Num(5)))),
                       Bool(True)])
    table = pd.DataFrame({"id": ["a", "b"], "distance_km": [None, 5.0], "headcount": [1.0, 9.0]})
    fired = apply_rules(rs, table, None, engine="durable").fired.tolist()
    assert fired == [("r0", "r1", "r2"), ("r1", "r2")]


def test_text_shapes():
    frame_rs = make_ruleset([In(Name("status"), (Str("Client"), Str("prospect"))),
                             Cmp("!=", Name("status"), Str("client"))])
    table = pd.DataFrame({"id": ["a", "b", "c"], "status": ["Client", None, "suspect"]})
    frame = build_frame(table, None, frame_rs.kinds, frame_rs.hidden)
    program = DurableProgram({r.id: r.normal for r in frame_rs.active_rules}, [], frame, 3)
    assert program.conditions == {
        "r0": {"$or": [{"f_status": "client"}, {"f_status": "prospect"}]},
        "r1": {"$and": [{"$ex": {"f_status": 1}}, {"$neq": {"f_status": "client"}}]}}
    assert program.records() == [{"k_all": 1, "f_status": "client"}, {"k_all": 1},
                                 {"k_all": 1, "f_status": "suspect"}]


def test_long_lists_become_one_hidden_column(monkeypatch_module):
    sectors = [Str(f"s{i}") for i in range(40)]
    codes = [Num(float(i)) for i in range(30)]
    rs = make_ruleset([And((In(Name("sector"), tuple(sectors)),
                            In(Name("competitors"), tuple(codes), negated=True)))])
    assert [h.kind for h in rs.hidden] == ["member", "member"]
    table = pd.DataFrame({"id": list("abcd"), "sector": ["S3", "s39", "x", None],
                          "competitors": [31.0, 2.0, 50.0, 40.0]})
    for engine in ("compiled", "durable"):
        assert apply_rules(rs, table, None, engine=engine).fired.tolist() == [
            ("r0",), (), (), ()]


# ----------------------------------------------------------------------------- profiles and stage: final

LETTERS = ["A+", "A", "B1", "C-"]       # category names beyond one letter (point 8)
FIT_BANDS, REACH_BANDS = ["A", "B", "C"], ["1", "2", "3"]
CELLS = [a + b for a in FIT_BANDS for b in REACH_BANDS]


@st.composite
def final_atom(draw):
    kind = draw(st.sampled_from(["score", "category", "profile", "top80", "flag", "field",
                                 "subscore", "band", "cross"]))
    if kind == "subscore":
        return Cmp(draw(st.sampled_from(OPS)), Name(draw(st.sampled_from(["fit", "reach"]))),
                   Num(draw(st.sampled_from([-100.0, 0.0, 50.0, 200.0]))))
    if kind == "band":
        sub, bands = draw(st.sampled_from([("fit", FIT_BANDS), ("reach", REACH_BANDS)]))
        return Cmp(draw(st.sampled_from(["==", "!="])), Name(sub + ".band"),
                   Str(_case(draw, draw(st.sampled_from(bands)))))
    if kind == "cross":
        values = tuple(Str(c) for c in draw(st.lists(st.sampled_from(CELLS), min_size=1,
                                                     max_size=3, unique=True)))
        if len(values) == 1:
            return Cmp(draw(st.sampled_from(["==", "!="])), Name("cross"),
                       Str(_case(draw, values[0].value)))
        return In(Name("cross"), values, negated=draw(st.booleans()))
    if kind == "score":
        return Cmp(draw(st.sampled_from(OPS)), Name("score"),
                   Num(draw(st.sampled_from([0.0, 25.0, 50.0, 60.0, 75.0, 100.0]))))
    if kind == "category":
        return Cmp(draw(st.sampled_from(["==", "!="])), Name("category"),
                   Str(draw(st.sampled_from(LETTERS))))
    if kind == "profile":
        return Cmp(draw(st.sampled_from(["==", "!="])), Name("profile"),
                   Str(draw(st.sampled_from(["big", "small"]))))
    if kind in ("top80", "flag"):
        name = Name("top80" if kind == "top80" else "flag.far_away")
        return Not(name) if draw(st.booleans()) else name
    return draw(atom(simple=True))


final_conditions = st.recursive(
    final_atom(),
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs)))),
    max_leaves=6)


def make_staged_ruleset(profile_conds, final_conds):
    lines = ["fields: {last_order: date}", "profiles:"]
    for i, cond in enumerate(profile_conds):
        lines += [f"  p{i}:", "    when: >-", f"      {unparse(cond)}"]
    lines += ["  big:", "    when: status == \"client\"", "  small:", "    when: otherwise",
              "score: {model: points, scale: 0 to 1000}",
              "tables:",
              "  size: {field: headcount, bands: [{from: 0, points: 10}, {from: 50, points: 300}]}",
              "  far: {field: distance_km, bands: [{from: 0, points: -20}, {from: 600, "
              "points: -400}]}",
              "subscores:",
              "  fit: {tables: [size], bands: {A: 200, B: 50, C: 0}}",
              "  reach: {tables: [far], bands: {'1': 0, '2': -100, '3': -1000}}",
              "cross: [fit, reach]",
              "categories: {A+: {min: 500}, A: {min: 100}, B1: {min: 10}, C-: {min: 0}}",
              "rules:", "  - id: far", "    when: distance_km >= 600",
              "    then: {flag: far-away}", "    why: far"]
    actions = ["{flag: g}", "{cap: B1}", "{floor: A}", "{force: A+}", "{set: {sector: x}}"]
    for i, cond in enumerate(final_conds):
        lines += [f"  - id: z{i}", "    stage: final", "    when: >-", f"      {unparse(cond)}",
                  f"    then: {actions[i % len(actions)]}", f"    why: rule {i}"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules" / "staged.yaml"
        path.parent.mkdir()
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_ruleset(path, CATALOGUE, CRITERIA)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, max_size=2), st.lists(final_conditions, min_size=1, max_size=4),
       accounts(), st.data())
def test_profiles_and_final_stage_agree_on_both_engines(monkeypatch_module, profile_conds,
                                                        final_conds, data, draw):
    from potentiel.profiles import choose
    table, scores = data
    rs = make_staged_ruleset(profile_conds, final_conds)
    n = len(table)
    # the profile: first match wins, in the shared stage; durable_rules, running the same
    # conditions as rules, picks the same first match
    chosen = choose(rs.profiles, table, scores)
    frame = build_frame(table, scores, rs.profiles.kinds, list(rs.profiles.hidden))
    conds = {f"c{j}": p.normal for j, p in enumerate(rs.profiles.profiles) if p.normal is not None}
    program = DurableProgram(conds, list(rs.profiles.hidden), frame, n)
    fired = monkeypatch_module.evaluate_columns(program.conditions, program.keyed_columns(), n)
    names = rs.profiles.names
    for i in range(n):
        first = next((names[j] for j in range(len(names))
                      if names[j] in ("small",) or f"c{j}" in fired[i]), None)
        assert chosen.iloc[i] == first
    # the second stage reads the first stage's outcome
    table = table.assign(profile=chosen,
                         score=[draw.draw(st.sampled_from([None, 0.0, 50.0, 60.0, 99.5]))
                                for _ in range(n)],
                         category=[draw.draw(st.sampled_from([None, *LETTERS])) for _ in range(n)],
                         top80=[draw.draw(st.sampled_from([0.0, 1.0])) for _ in range(n)])
    table["flag.far_away"] = (table["distance_km"] >= 600).astype(float)
    # the sub-scores, their bands and the cross cell, as the shared stage computes them
    model = scoremodels.compute(rs, table, scores, pd.Series(np.nan, index=table.index),
                                apply_rules(rs, table, scores, engine="compiled"), [])
    table = outcome_columns(table.drop(columns=["score", "category", "top80"]), table["score"],
                            table["category"], table["top80"], pd.Series([()] * n,
                                                                         index=table.index),
                            rs.final_kinds, model).assign(**{"flag.far_away":
                                                            table["flag.far_away"]})
    durable = apply_rules(rs, table, scores, engine="durable", stage="final")
    compiled = apply_rules(rs, table, scores, engine="compiled", stage="final")
    for attr in ("fired", "flags", "cap", "floor", "force"):
        pd.testing.assert_series_equal(getattr(durable, attr), getattr(compiled, attr))
    assert durable.set.keys() == compiled.set.keys()
    # and the compiled engine means what the conditions say (the reference interpreter)
    records = [{k: (None if not isinstance(v, (dt.date, str)) and pd.isna(v) else v)
                for k, v in table.iloc[i].items()} for i in range(n)]
    for i, rec in enumerate(records):
        rec["score.revenue"] = None if pd.isna(scores["revenue"].iloc[i]) else \
            scores["revenue"].iloc[i]
    for rule in rs.final_rules:
        want = [fires(rule.condition, rec, rs.final_kinds, records, TODAY) for rec in records]
        got = [rule.id in f for f in compiled.fired]
        assert got == want, rule.when
