"""The pipeline: weighting, confidence, what to collect, categories, and faulty criteria."""

import math
import time

import numpy as np
import pandas as pd
import pytest

from potentiel import Criterion, Derivation, Input, Scored
from potentiel.categories import (DEFAULT_CATEGORIES, CategorySpec, Quota, adjust,
                                  by_bands, by_quotas)
from potentiel.config import Config
from potentiel.manager import load_plugins
from potentiel.pipeline import run
from potentiel.validate import RawTable


class Column(Criterion):
    """Scores an account with the value of one column, as is."""

    def __init__(self, name, field, weight=1.0):
        self.name, self.label = name, name.capitalize()
        self.inputs = (Input(field, "number"),)
        self.default_weight = weight
        self._field = field

    def score(self, accounts, params):
        return Scored(accounts[self._field], "value " + accounts[self._field].astype(str))


class Raises(Criterion):
    name, inputs, default_weight = "broken", (Input("a", "number"),), 1.0

    def score(self, accounts, params):
        raise RuntimeError("boom")


class WrongLength(Criterion):
    name, inputs, default_weight = "short", (Input("a", "number"),), 1.0

    def score(self, accounts, params):
        return pd.Series([50.0])


class OutOfRange(Criterion):
    name, inputs, default_weight = "wild", (Input("a", "number"),), 1.0

    def score(self, accounts, params):
        return accounts["a"] * 10


class Slow(Criterion):
    name, inputs, default_weight = "slow", (Input("a", "number"),), 1.0

    def score(self, accounts, params):
        time.sleep(2)
        return accounts["a"]


def make_plugins(*criteria, derivations=()):
    plugins = load_plugins(builtins=False, entry_points=False)
    for c in criteria:
        plugins.criteria[c.name] = c
    for d in derivations:
        plugins.derivations[d.field] = d
    return plugins


def score(rows, headers, *criteria, config=None, **kw):
    raw = RawTable(list(headers), [list(r) for r in rows])
    return run(raw, make_plugins(*criteria, derivations=kw.pop("derivations", ())),
               config or Config(), **kw)


def test_weights_are_normalised():
    r = score([["X", 100, 0]], ["id", "a", "b"], Column("ca", "a", 3), Column("cb", "b", 1))
    assert r.outputs.loc[0, "Score"] == 75.0
    assert r.outputs.loc[0, "Confidence"] == 1.0


def test_unknown_criterion_is_left_out_named_in_why_and_to_collect():
    r = score([["X", 80, None]], ["id", "a", "b"], Column("ca", "a", 1), Column("cb", "b", 1))
    out = r.outputs.loc[0]
    assert out["Score"] == 80.0           # rests on the known criterion alone
    assert out["Confidence"] == 0.5       # half the weight is known
    assert "not scored: cb" in out["Why"]
    assert out["To collect"] == "B"       # the blank input that would raise confidence


def test_account_with_nothing_known_gets_no_category_not_a_silent_d():
    r = score([["X", None, None]], ["id", "a", "b"], Column("ca", "a"), Column("cb", "b"))
    out = r.outputs.loc[0]
    assert math.isnan(out["Score"]) and out["Category"] is None
    assert out["Category label"] == "Not enough data"
    assert out["Confidence"] == 0
    assert set(out["To collect"].split(", ")) == {"A", "B"}


def test_categories_by_default_bands():
    r = score([[s] for s in (80, 75, 60, 30, 10)], ["a"], Column("ca", "a"))
    assert list(r.outputs["Category"]) == ["A", "A", "B", "C", "D"]
    assert list(r.outputs["Category label"]) == ["Strategic", "Strategic", "Important", "Medium",
                                                 "Small"]


def test_categories_by_quotas():
    spec = CategorySpec("quotas", quotas=(Quota("A", 0.1, "Top"), Quota("B", 0.2), Quota("C", 0.3),
                                          Quota("D", None)))
    r = score([[s] for s in range(10)], ["a"], Column("ca", "a"), config=Config(categories=spec))
    assert list(r.outputs["Category"]) == list("DDDDCCCBBA")


def test_quota_ties_share_the_better_letter():
    s = pd.Series([90.0, 90, 10, 5])
    spec = CategorySpec("quotas", quotas=(Quota("A", 0.25), Quota("B", None)))
    assert list(by_quotas(s, spec)) == ["A", "A", "B", "B"]


def test_bands_missing_score_has_no_letter():
    assert list(by_bands(pd.Series([np.nan, 100.0]), DEFAULT_CATEGORIES)) == [None, "A"]


def test_cap_floor_force():
    letters = pd.Series(["A", "D", "B", "B", None])
    cap = pd.Series(["C", None, "D", None, "C"])
    floor = pd.Series([None, "B", "A", None, "B"])
    force = pd.Series([None, None, None, "D", None])
    out = adjust(letters, DEFAULT_CATEGORIES, cap, floor, force)
    # A capped at C; D floored to B; floor A with cap D: the cap wins; forced D;
    # no score, floored to B then capped at C
    assert list(out) == ["C", "B", "D", "D", "C"]


def test_a_criterion_that_raises_is_named_and_the_others_are_scored():
    r = score([["X", 60]], ["id", "a"], Column("ca", "a"), Raises())
    assert r.outputs.loc[0, "Score"] == 60
    assert any("criterion broken failed (RuntimeError: boom)" in str(w) for w in r.warnings)
    assert "broken (plugin error)" in r.outputs.loc[0, "Why"]
    assert math.isnan(r.outputs.loc[0, "Score: broken"])


def test_wrong_length_and_out_of_range_are_caught():
    r = score([["X", 9], ["Y", 20]], ["id", "a"], Column("ca", "a"), WrongLength(), OutOfRange())
    text = " ".join(str(w) for w in r.warnings)
    assert "criterion short failed (ValueError: score() returned 1 values for 2 accounts)" in text
    assert "criterion wild returned 1 score(s) outside 0–100; they were clipped" in text
    assert list(r.outputs["Score: wild"]) == [90, 100]


def test_a_slow_criterion_is_given_up_after_its_time_limit():
    started = time.perf_counter()
    r = score([["X", 60]], ["id", "a"], Column("ca", "a"), Slow(), time_limit=0.3)
    assert time.perf_counter() - started < 1.5
    assert any("criterion slow failed (TimeoutError" in str(w) for w in r.warnings)
    assert r.outputs.loc[0, "Score"] == 60


def test_the_criteria_after_a_slow_one_are_scored_and_in_the_runs_language():
    """The criteria share one worker thread; the one after a criterion given up runs on a
    new one, in the run's language."""
    from potentiel.i18n import language, use_language
    seen = []

    class Speaks(Column):
        def score(self, accounts, params):
            seen.append(language())
            return super().score(accounts, params)

    started = time.perf_counter()
    with use_language("fr"):
        r = score([["X", 60]], ["id", "a"], Slow(), Speaks("ca", "a"), Speaks("cb", "a"),
                  time_limit=0.3)
    assert time.perf_counter() - started < 1.5
    assert any("slow" in str(w) and "TimeoutError" in str(w) for w in r.warnings)
    assert list(r.outputs["Score: ca"]) == [60] and list(r.outputs["Score: cb"]) == [60]
    assert seen == ["fr", "fr"]


def test_derivation_fills_blanks_and_typed_values_win():
    pot = Derivation("potential", ("headcount", "spend_per_employee"),
                     lambda a, ctx: a["headcount"] * a["spend_per_employee"])
    r = score([["X", 10, 100, None, 50], ["Y", 10, 100, 5000, 50]],
              ["id", "headcount", "spend_per_employee", "potential", "revenue"],
              Column("ca", "revenue"), derivations=[pot])
    assert list(r.outputs["Potential"]) == [1000, 5000]
    assert list(r.outputs["Penetration"]) == [0.05, 0.01]


def test_distance_comes_from_coordinates_only_where_blank():
    reps = pd.DataFrame({"name": ["Lyon"], "latitude": [45.764], "longitude": [4.8357]})
    raw_rows = [["X", 43.2965, 5.3698, None], ["Y", 43.2965, 5.3698, 12]]
    r = score(raw_rows, ["id", "latitude", "longitude", "distance_km"],
              Column("dist", "distance_km"), salespeople=reps)
    assert r.accounts.loc[0, "distance_km"] == pytest.approx(277.5, abs=1)
    assert r.accounts.loc[1, "distance_km"] == 12   # the typed distance wins for scoring
    assert list(r.outputs["Nearest rep"]) == ["Lyon", "Lyon"]
    assert r.outputs.loc[1, "Nearest rep km"] == pytest.approx(277.5, abs=1)
    assert raw_rows[0][3] is None                   # the input itself is never filled in


def test_missing_input_column_is_unknown_named_once_and_to_collect():
    r = score([["X", 60], ["Y", 80]], ["id", "a"], Column("ca", "a"), Column("cb", "b"))
    notes = [w for w in r.warnings if "no column in the Accounts table" in w.message]
    assert len(notes) == 1 and "cb (B)" in notes[0].message
    assert "best-known account rests on 50 % of the weight" in notes[0].message
    assert "2 of 2 rest on half of it or less" in notes[0].message
    # unknown, not left out: half of the model's weight rests on known values
    assert list(r.outputs["Confidence"]) == [0.5, 0.5]
    assert list(r.outputs["To collect"]) == ["add a B column"] * 2
    assert "not scored: cb" in r.outputs.loc[0, "Why"]
    assert r.outputs.loc[0, "Score"] == 60.0  # the score rests on what is known


def test_a_weight_of_0_set_by_the_company_leaves_a_criterion_out():
    r = score([["X", 60]], ["id", "a"], Column("ca", "a"), Column("cb", "b"),
              config=Config(weights={"cb": 0}))
    assert not any("no column in the Accounts table" in w.message for w in r.warnings)
    assert r.outputs.loc[0, "Confidence"] == 1.0
    assert r.outputs.loc[0, "To collect"] == "" and "not scored" not in r.outputs.loc[0, "Why"]


def test_outputs_are_in_design_order():
    r = score([["X", 60]], ["id", "a"], Column("ca", "a"))
    assert list(r.outputs.columns) == [
        "Score", "Category", "Category label", "Score: ca", "Potential", "Penetration", "Matrix",
        "Top 80%", "Flags", "Why", "Confidence", "To collect"]


def test_zero_or_missing_potential_gives_no_division_and_says_why():
    r = score([["X", 500, 0], ["Y", 500, None], ["Z", 500, 2000]],
              ["id", "revenue", "potential"], Column("ca", "revenue"))
    out = r.outputs
    assert math.isnan(out.loc[0, "Penetration"]) and math.isnan(out.loc[1, "Penetration"])
    assert out.loc[2, "Penetration"] == 0.25
    assert "penetration unknown: the potential is zero" in out.loc[0, "Why"]
    assert "penetration unknown: no potential" in out.loc[1, "Why"]
    assert "penetration unknown" not in out.loc[2, "Why"]


def test_a_rule_file_is_compiled_once_and_again_when_it_changes(tmp_path):
    from potentiel.pipeline import _load_ruleset
    plugins = load_plugins(entry_points=False)
    path = tmp_path / "r.yaml"
    path.write_text("extends: default\nweights: {revenue: 30}\n")
    first = _load_ruleset(path, plugins)
    assert _load_ruleset(path, plugins) is first
    time.sleep(0.01)
    path.write_text("extends: default\nweights: {revenue: 40}\n")
    second = _load_ruleset(path, plugins)
    assert second is not first and second.weights["revenue"] == 40
    assert _load_ruleset(path, load_plugins(entry_points=False)) is not second


def test_a_rules_name_from_settings_is_not_looked_up_in_the_working_folder(tmp_path, monkeypatch):
    from potentiel.pipeline import resolve_rules_file
    from potentiel.problems import UserError
    (tmp_path / "secret.yaml").write_text("extends: default\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="not found"):
        resolve_rules_file("secret", None, "Settings!B2")
    assert resolve_rules_file("secret", None, from_command_line=True) == tmp_path / "secret.yaml"
    assert resolve_rules_file("office-supplies-co", None).name == "office-supplies-co.yaml"
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))
    assert resolve_rules_file("secret", None) == tmp_path / "secret.yaml"
