"""Property and fuzz tests (hypothesis): whatever a person pastes or types, nothing breaks.

- Random account tables (known, French, unknown, blank and duplicate headers; blanks,
  text in any script, huge and negative numbers, NaN and infinities, booleans, dates,
  number-like text, ragged rows) never crash the pipeline and never change the input;
  every score is within 0–100 (or blank); with no rule, the category never gets worse as
  the score rises (bands and quotas). 150 tables per run, up to 12 rows each; 40 more
  through the default rules on both engines, which must agree, 40 through rules with
  arithmetic at exact shares (amounts with cents making exactly 10 %, 20 %, 80 %), and 30
  through tables, portfolio statistics, text tests and functions.
- The same through the headless front end on real .xlsx files: the input cells read back
  identical. 30 workbooks per run (each is written, scored and read back).
- Random rule files (a grammar of plausible rule files, plus random edits of a valid
  one) either load or fail with messages that each name ``file:line``; the checker never
  raises. 200 files per run (150 generated, 50 edited).

The example counts keep these tests under about 30 s on 2 cores; raise them with
``HYPOTHESIS_PROFILE=long`` (10× the examples) for a deeper run.
"""

import copy
import datetime as dt
import math
import os
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from potentiel.categories import CategorySpec, Quota
from potentiel.config import Config
from potentiel.pipeline import run
from potentiel.problems import UserError
from potentiel.rules import check_ruleset, load_ruleset
from potentiel.validate import RawTable

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def examples(n: int) -> int:
    return n * 10 if LONG else n


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.function_scoped_fixture])

HEADERS = ["id", "Code client", "name", "Raison sociale", "status", "Statut", "salesperson",
           "sector", "revenue", "CA N", "CA N-1", "revenue_n2", "potential", "headcount",
           "Effectif", "spend_per_employee", "payment_incidents", "dso_days",
           "credit_rating", "growth_pct", "prescription", "relationship", "Relation",
           "distance_km", "latitude", "longitude", "competitors", "Score", "Category",
           "Why", "Flags"]

cell_values = st.one_of(
    st.none(), st.just(""), st.just("   "),
    st.text(max_size=12),
    st.integers(min_value=-10 ** 18, max_value=10 ** 18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["client", "Prospect ", "suspect", "n/a", "1 200,50", "12 %", "-",
                     "=1+1", "1e308", "-0", "€ 3,5", "Δ", "١٢٣", "😀", "NaN", "inf",
                     "2024-02-30", "A", "true", "0x10", "1_000"]),
    # decimal edges: shares of exactly 10 %, 20 %, 80 % once the cents are read exactly
    st.sampled_from([1000.01, 10000.1, 2000.02, 4000.04, 20000.2, 0.1, 0.2, 0.3, 8017.98,
                     4601.58, 2334.6, 1869.27, "1 000,01", "10 000,10"]),
)
header_values = st.one_of(st.sampled_from(HEADERS), st.none(), st.just(""),
                          st.text(min_size=1, max_size=10))


@st.composite
def tables(draw):
    headers = draw(st.lists(header_values, min_size=1, max_size=9))
    n = draw(st.integers(0, 12))
    rows = []
    for _ in range(n):
        width = len(headers) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        rows.append(draw(st.lists(cell_values, min_size=max(width, 0),
                                  max_size=max(width, 0))))
    return headers, rows


def _same(a, b) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def plugins():
    from potentiel.manager import load_plugins
    return load_plugins(entry_points=False)


QUOTAS = CategorySpec(mode="quotas", quotas=(Quota("A", 0.2), Quota("B", 0.3), Quota("C", 0.3),
                                             Quota("D", None)))


def _check_scores_and_categories(result) -> None:
    out = result.outputs
    for col in [c for c in out.columns if c == "Score" or c.startswith("Score: ")]:
        values = out[col].to_numpy(dtype=float)
        known = values[~np.isnan(values)]
        assert ((known >= 0) & (known <= 100)).all(), col
    order = {k: i for i, k in enumerate(result.config.categories.letters)}
    score = result.weighted.score.to_numpy(dtype=float)
    letters = result.category.to_numpy(dtype=object)
    pairs = sorted((s, order[c]) for s, c in zip(score, letters) if c is not None and s == s)
    # a higher score never has a worse (larger) category index
    worst_so_far = math.inf
    for s, rank in pairs:
        assert rank <= worst_so_far, pairs
        worst_so_far = rank


@settings(max_examples=examples(150), **COMMON)
@given(table=tables(), quotas=st.booleans())
def test_random_tables_never_crash_and_never_change_the_input(plugins, table, quotas):
    headers, rows = table
    raw = RawTable(headers, rows)
    before = copy.deepcopy((headers, rows))
    config = Config(engine="compiled", categories=QUOTAS) if quotas else Config(engine="compiled")
    result = run(raw, plugins, config)
    assert _same([raw.headers, raw.rows], list(before)), "the input table was changed"
    assert len(result.outputs) == len(result.accounts)
    _check_scores_and_categories(result)


@pytest.fixture(scope="module")
def default_rules(plugins):
    return load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


@settings(max_examples=examples(40), **COMMON)
@given(table=tables())
def test_random_tables_through_the_rules_on_both_engines(plugins, default_rules, table):
    """The default rules on random tables: no crash, the same outcome on both engines."""
    headers, rows = table
    results = [run(RawTable(headers, rows), plugins, Config(engine=e), default_rules)
               for e in ("compiled", "durable")]
    a, b = (r.outputs for r in results)
    assert a.equals(b) or a.fillna(-1).astype(str).equals(b.fillna(-1).astype(str))
    for r in results:
        for col in [c for c in r.outputs.columns if c == "Score" or c.startswith("Score: ")]:
            known = r.outputs[col].dropna()
            assert ((known >= 0) & (known <= 100)).all()


EDGE_RULES = textwrap.dedent('''
    extends: default
    rules:
      - id: ratio-low
        when: revenue / potential < 10%
        then: {flag: ratio-low}
        why: Less than a tenth won.
      - id: ratio-exact
        when: revenue / potential == 20% or revenue + potential == 0.3
        then: {flag: ratio-exact}
        why: Exactly.
      - id: weak
        when: penetration_tier == "weak" or penetration < 20%
        then: {flag: weak}
        why: Weak.
      - id: tenth
        when: revenue >= potential * 0.1
        then: {points: 1}
        why: At least a tenth.
      - id: final-a-thin
        stage: final
        when: category == "A" and (flag.thin_data or not top80) and profile == "client"
        then: {flag: check-a, cap: B}
        why: An A on thin data, or outside the top 80 %.
      - id: final-prospect
        stage: final
        when: profile == "prospect" and score >= 60 and not flag.weak
        then: {floor: B, set: {sector: "target"}}
        why: A strong prospect.
''')


LANGUAGE_RULES = textwrap.dedent('''
    extends: default
    tables:
      size:
        field: headcount
        bands:
          - {from: 0, score: 10}
          - {from: 50, below: 200, score: 60}
          - {from: 250, score: 100}
        otherwise: 30
      rating:
        field: credit_rating
        lookup: {A: 100, B: 60, otherwise: 20}
        missing: 0
    weights: {size: 10, rating: 10}
    derive:
      reach: if(distance_km is missing, 0, max(0, 100 - sqrt(abs(distance_km))))
    rules:
      - id: class-a
        when: cumulative_share(revenue) < 80%
        then: {flag: class-a}
        why: A.
      - id: rfm
        when: quintile(revenue) >= 4 or percentile(potential) > 50
        then: {points: 3}
        why: Top quintiles.
      - id: text
        when: name contains "e" or sector starts with "ind" or salesperson ends with "é"
        then: {flag: text}
        why: Text.
      - id: mix
        when: min(revenue, potential) + if(status == "client", 10, 0) >= 1000.01
        then: {cap: B}
        why: Mix.
''')


def _ruleset(plugins, tmp_path_factory, name: str, text: str):
    path = tmp_path_factory.mktemp(name) / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


def _both_engines(plugins, table, ruleset):
    """The run on the compiled and the durable engine; their outputs must be equal."""
    headers, rows = table
    results = [run(RawTable(headers, rows), plugins, Config(engine=e), ruleset)
               for e in ("compiled", "durable")]
    a, b = (r.outputs for r in results)
    assert a.equals(b) or a.fillna(-1).astype(str).equals(b.fillna(-1).astype(str))
    return results


@pytest.fixture(scope="module")
def language_rules(plugins, tmp_path_factory):
    return _ruleset(plugins, tmp_path_factory, "language", LANGUAGE_RULES)


@settings(max_examples=examples(30), **COMMON)
@given(table=tables())
def test_tables_statistics_text_and_functions_on_both_engines(plugins, language_rules, table):
    """Tables, portfolio statistics, text tests and functions: the same outcome on both."""
    for r in _both_engines(plugins, table, language_rules):
        for col in [c for c in r.outputs.columns if c == "Score" or c.startswith("Score: ")]:
            known = r.outputs[col].dropna()
            assert ((known >= 0) & (known <= 100)).all()


@pytest.fixture(scope="module")
def edge_rules(plugins, tmp_path_factory):
    return _ruleset(plugins, tmp_path_factory, "edge", EDGE_RULES)


@settings(max_examples=examples(40), **COMMON)
@given(table=tables())
def test_decimal_edges_through_arithmetic_rules_on_both_engines(plugins, edge_rules, table):
    """Rules with arithmetic at exact shares: both engines give the same outcome."""
    _both_engines(plugins, table, edge_rules)


xlsx_values = st.one_of(
    st.none(), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=10).filter(
        lambda s: s == s.strip() and not s.startswith("=")),
    st.integers(min_value=-10 ** 15, max_value=10 ** 15),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
    st.booleans(), st.sampled_from(["client", "prospect", "n/a", "-5", "+33 1", "@x", "Δ😀"]),
)


@settings(max_examples=examples(30), **COMMON)
@given(headers=st.lists(st.sampled_from(HEADERS[:27]), min_size=1, max_size=8),
       data=st.data())
def test_headless_never_changes_a_typed_cell(tmp_path_factory, headers, data):
    import openpyxl

    from helpers import cells, write_workbook
    from potentiel.headless import score_file

    rows = data.draw(st.lists(st.lists(xlsx_values, min_size=len(headers),
                                       max_size=len(headers)), min_size=1, max_size=8))
    rows[0][0] = rows[0][0] if rows[0][0] is not None else "X"  # one non-blank row
    folder = tmp_path_factory.mktemp("prop")
    path = write_workbook(folder / "p.xlsx", headers, rows, table=data.draw(st.booleans()))
    before = {k: v for k, v in cells(path).items() if k[0] == "Accounts"}
    try:
        score_file(path, folder / "out.xlsx", engine="compiled")
    except UserError as exc:  # only a refusal that names its place, e.g. a duplicate header
        assert all(p.where for p in exc.problems), exc.problems
        event(f"refused: {exc.problems[0].message[:40]}")
        return
    event("scored")
    after = cells(folder / "out.xlsx")
    assert {k: after.get(k) for k in before} == before
    ws = openpyxl.load_workbook(folder / "out.xlsx")["Accounts"]
    assert [c.value for c in ws[1]][:len(headers)] == list(headers)


# ----------------------------------------------------------------------------- rule files

FIELDS = ["revenue", "distance_km", "status", "potential", "payment_incidents", "score.revenue",
          "confidence", "penetration", "sector", "nope", "headcount", "potential_tier",
          "percentile(revenue)", "quintile(revenue)", "cumulative_share(revenue)",
          "min(revenue, 5)", "if(status == \"client\", 1, 0)", "sqrt(", "days_since(revenue)",
          "today", "score", "max(revenue)"]
OPS = [">", ">=", "<", "<=", "==", "!=", " in ", " not in ", " is blank", " is not blank", "",
       " contains ", " starts with ", " ends with ", " ≥ ", " <> "]
VALUES = ["600", "50%", '"client"', "[1, 2]", '["a", "b"]', "-3", "1e400", "x", '"', "()",
          "true", "null", "0x1", "1 000", "600,5", "50 %", '"2024-12-31"', "prospect"]
JOINS = [" and ", " or ", " and not ", ") or (", " ", "", " && "]


@st.composite
def conditions(draw):
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append(draw(st.sampled_from(FIELDS)) + draw(st.sampled_from(OPS))
                     + draw(st.sampled_from(VALUES)))
        parts.append(draw(st.sampled_from(JOINS)))
    text = "".join(parts[:-1])
    if draw(st.booleans()):
        text = "(" + text + ")" * draw(st.integers(0, 2))
    return text


scalars = st.one_of(st.sampled_from(["A", "C", "Z", "inaccessible", "bad flag!", "", "5", "-5",
                                     "true", "yes", "null", "~", "[]", "{}", "&a", "*a", "!!python/object:os.system"]),
                    st.integers(-200, 200), st.floats(allow_nan=True, allow_infinity=True))


def actions():
    return st.dictionaries(st.sampled_from(["flag", "cap", "floor", "force", "points", "exclude",
                                            "set", "score", "explode", "flagg"]),
                           st.one_of(scalars, st.dictionaries(st.sampled_from(
                               ["salesperson", "revenue", "accessibility", "nope"]), scalars,
                               max_size=2)), max_size=3)


@st.composite
def rule_files(draw):
    doc = {}
    if draw(st.booleans()):
        doc["extends"] = draw(st.sampled_from(["default", "nothing-here", "../etc/passwd", 5]))
    if draw(st.booleans()):
        doc["weights"] = draw(st.dictionaries(st.sampled_from(
            ["revenue", "trend", "potential", "nope", "accessibility"]), scalars, max_size=4))
    if draw(st.booleans()):
        doc["categories"] = draw(st.dictionaries(st.sampled_from(["A", "B", "C", "x"]),
                                                 st.dictionaries(st.sampled_from(
                                                     ["min", "label", "share"]), scalars,
                                                     max_size=2), max_size=4))
    rules = []
    for k in range(draw(st.integers(0, 4))):
        rule = {"id": draw(st.sampled_from([f"r{k}", "r0", "bad id", "", "x" * 70])),
                "when": draw(conditions()), "then": draw(actions()),
                "why": draw(st.sampled_from(["Because.", "", "=1+1", "é"]))}
        for key in ("priority", "enabled", "whne"):
            if draw(st.integers(0, 5)) == 0:
                rule[key] = draw(scalars)
        rules.append(rule)
    if rules or draw(st.booleans()):
        doc["rules"] = rules
    if draw(st.integers(0, 3)) == 0:
        doc["tests"] = [{"name": "t", "account": {"revenue": draw(scalars)},
                         "expect": {"category_at_most": draw(scalars)}}]
    if draw(st.integers(0, 4)) == 0:
        doc[draw(st.sampled_from(["junk", "rule", "derive", "params"]))] = draw(scalars)
    return doc


def _yaml(doc) -> str:
    import yaml
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


VALID = textwrap.dedent('''
    extends: default
    weights: {revenue: 30, potential: 30}
    categories:
      A: {min: 70, label: Strategic}
      B: {min: 40, label: Important}
      C: {min: 0, label: Small}
    rules:
      - id: far
        when: distance_km >= 600 and status == "prospect"
        then: {flag: inaccessible, cap: C}
        why: Too far.
      - id: big
        when: revenue > 100000 or potential in [1, 2]
        then: {points: 5}
        why: Big.
''')


@st.composite
def mutated(draw):
    """A valid rule file with random edits: deleted, inserted or replaced characters."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.sampled_from([":", "-", " ", "\n", "\t", "[", "{", '"', "'", "&a ", "*a",
                                      "!!", "#", "%", "\x00", "é", "  - ", "when: "]))
        if kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        elif kind == "insert":
            text = text[:i] + piece + text[i:]
        else:
            text = text[:i] + piece + text[i + 1:]
    return text


def _check_rule_file(plugins, folder: Path, text: str) -> None:
    path = folder / "client.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    shown = re.escape(os.path.relpath(path).replace(os.sep, "/")) + "|" + re.escape(str(path))
    args = (path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    try:
        load_ruleset(*args)
    except UserError as exc:
        assert exc.problems
        for p in exc.problems:
            assert re.fullmatch(rf"(?:{shown}|.*\.ya?ml):\d+", p.where), (p.where, p.message)
            assert p.message and "Traceback" not in p.message
    for p in check_ruleset(*args):  # never raises; errors name their line too
        if p.level == "error":
            assert re.fullmatch(rf"(?:{shown}|.*\.ya?ml):\d+", p.where), (p.where, p.message)


@settings(max_examples=examples(150), **COMMON)
@given(doc=rule_files())
def test_random_rule_files_load_or_fail_with_file_and_line(plugins, tmp_path_factory, doc):
    _check_rule_file(plugins, tmp_path_factory.mktemp("rules"), _yaml(doc))


@settings(max_examples=examples(50), **COMMON)
@given(text=mutated())
def test_randomly_edited_rule_files_load_or_fail_with_file_and_line(plugins, tmp_path_factory,
                                                                     text):
    _check_rule_file(plugins, tmp_path_factory.mktemp("rules"), text)
