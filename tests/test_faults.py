"""Faults in plugins: the run finishes, the faulty part is named, the other scores hold.

Each faulty criterion (it raises, returns the wrong length, scores outside 0–100, returns
NaN everywhere, or takes too long) and a rule action that raises are loaded from a plugin
folder next to the built-ins, on a realistic 40-account workbook scored headless. In every
case the workbook is written, the fault is named in the Log sheet's row (and, for a
criterion, in the Why column), and every other score is what a run without the faulty
plugin gives.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import textwrap
import time

import openpyxl
import pytest

from helpers import fr, write_workbook
from potentiel import sample
from potentiel.headless import score_file
from potentiel.report import LOG_HEADERS
from potentiel.scoring import TIME_LIMIT_ENV

FAULTY = {
    "boom": '''
        def score(self, accounts, params):
            raise RuntimeError("the CRM database is down")''',
    "short": '''
        def score(self, accounts, params):
            return accounts["revenue"].iloc[:-1] * 0''',
    "wild": '''
        def score(self, accounts, params):
            return (accounts["revenue"].rank(pct=True) * 300 - 100).fillna(-5)''',
    "blank": '''
        def score(self, accounts, params):
            return accounts["revenue"] * float("nan")''',
    "sleepy": '''
        def score(self, accounts, params):
            time.sleep(4)
            return accounts["revenue"] * 0 + 50''',
}

PLUGIN = '''
import time

from potentiel import Criterion, Input, RuleAction, hookimpl

class Faulty(Criterion):
    name, label, default_weight = "{name}", "Faulty {name}", 20
    inputs = (Input("revenue", "money"),)
{body}

@hookimpl
def register_criteria(register):
    register(Faulty())
'''

ACTION = '''
from potentiel import RuleAction, hookimpl

def check(value):
    return value

def apply(result, mask, value, rule_id):
    raise KeyError("no such queue: " + str(value))

@hookimpl
def register_rule_actions(register):
    register(RuleAction(name="escalate", check=check, apply=apply))
'''

RULES = '''
extends: default
rules:
  - id: big-clients
    when: revenue > 10000
    then: {escalate: key-accounts, flag: big}
    why: Large clients go to the key-account team.
'''

COMPARED = ["Score", "Category", *(f"Score: {c}" for c in
                                   ("revenue", "trend", "potential", "penetration", "solvency",
                                    "growth", "prescription", "relationship", "accessibility"))]


def plugin_folder(path, names, action=False):
    path.mkdir()
    for name in names:
        body = textwrap.indent(textwrap.dedent(FAULTY[name]).strip("\n"), "    ")
        (path / f"{name}.py").write_text(PLUGIN.format(name=name, body=body))
    if action:
        (path / "escalate.py").write_text(ACTION)
    return path


@pytest.fixture
def book(tmp_path):
    def make(name):
        return write_workbook(tmp_path / name, sample.HEADERS, sample.make_accounts(40))
    return make


def log_row(path):
    from helpers import own_sheet
    ws = openpyxl.load_workbook(path)[own_sheet(path, "Log")]
    rows = list(ws.iter_rows(values_only=True))
    return dict(zip(LOG_HEADERS, rows[-1]))


def clean_run(book, tmp_path, rules=None):
    empty = tmp_path / "no-plugins"
    empty.mkdir(exist_ok=True)
    result, _ = score_file(book("clean.xlsx"), rules=rules, plugin_dirs=[str(empty)])
    return result.outputs


# message keys of the criterion faults (a French-headed workbook reads them in French)
FAILED = ("criterion {name} failed ({error}); its scores are left blank and the weights rest "
          "on the others")
SCORED_NONE = ("criterion {name} scored no account, though {filled} account(s) have all its "
               "inputs; its scores are blank and the weights rest on the others")


def test_criteria_that_fail_are_named_and_leave_the_other_scores_alone(book, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setenv(TIME_LIMIT_ENV, "0.5")
    folder = plugin_folder(tmp_path / "plugins", ["boom", "short", "blank", "sleepy"])
    path = book("faulty.xlsx")
    start = time.perf_counter()
    result, _ = score_file(path, plugin_dirs=[str(folder)])
    took = time.perf_counter() - start
    assert took < 4, f"the slow criterion was waited for ({took:.1f} s)"
    messages = log_row(path)["Messages"]
    # a French-headed workbook: each warning is the catalog's French for its key
    failed = fr(FAILED, name="{name}", error="{error}")
    for name, said in (
            ("boom", failed.format(name="boom", error="RuntimeError: the CRM database is down")),
            ("short", failed.format(name="short", error="ValueError: score() returned 39 "
                                                         "values for 40 accounts")),
            ("blank", fr(SCORED_NONE).split("{filled}")[0].format(name="blank")),
            ("sleepy", failed.format(name="sleepy",
                                     error="TimeoutError: took longer than 0.5 s"))):
        assert said in messages, (name, messages)
        assert any(said in str(w) for w in result.warnings)
        assert result.outputs[f"Score: {name}"].isna().all()
    why = " ".join(result.outputs["Why"].dropna())
    for name in ("boom", "short", "sleepy"):  # a French-headed workbook: Why in French
        assert f"{name} (erreur du plugin)" in why
    assert "blank" in why
    clean = clean_run(book, tmp_path)
    # weights rest on the criteria that scored: the same scores and categories, except that
    # a failed criterion is unknown, so it lowers confidence and a thin account is at most B
    scores = [c for c in COMPARED if c != "Category"]
    assert result.outputs[scores].equals(clean[scores])
    thin = result.outputs["Flags"].fillna("").str.contains("thin-data")
    assert result.outputs.loc[~thin, "Category"].equals(clean.loc[~thin, "Category"])
    assert (result.outputs.loc[thin, "Category"].isin(["B", "C", "D"])).all()


def test_scores_outside_0_100_are_clipped_and_named(book, tmp_path):
    folder = plugin_folder(tmp_path / "plugins", ["wild"])
    path = book("wild.xlsx")
    result, _ = score_file(path, plugin_dirs=[str(folder)])
    wild = result.outputs["Score: wild"]
    assert wild.between(0, 100).all() and wild.max() == 100 and wild.min() == 0
    # a French-headed workbook: the catalog's French, around the count
    returned, clipped = fr("criterion {name} returned {n} score(s) outside 0–100; they were "
                           "clipped").split("{n}")
    assert returned.format(name="wild") in log_row(path)["Messages"]
    assert clipped in log_row(path)["Messages"]
    clean = clean_run(book, tmp_path)
    others = [c for c in COMPARED if c.startswith("Score: ")]
    assert result.outputs[others].equals(clean[others])


def test_a_rule_action_that_raises_is_named_and_the_rest_of_the_rule_applies(book, tmp_path):
    folder = plugin_folder(tmp_path / "plugins", [], action=True)
    rules = tmp_path / "client.yaml"
    rules.write_text(RULES)
    path = book("action.xlsx")
    result, _ = score_file(path, rules=str(rules), plugin_dirs=[str(folder)])
    messages = log_row(path)["Messages"]
    # the sample's headers are French (Code client …): a French run, said in French
    assert "règle « big-clients » : action escalate a échoué (KeyError" in messages
    big = result.accounts["revenue"] > 10000
    assert big.any()
    assert result.outputs.loc[big, "Flags"].str.contains("big").all()
    plain = tmp_path / "plain.yaml"
    plain.write_text(RULES.replace("{escalate: key-accounts, flag: big}", "{flag: big}"))
    clean = clean_run(book, tmp_path, rules=str(plain))
    assert result.outputs[[*COMPARED, "Flags"]].equals(clean[[*COMPARED, "Flags"]])


def test_the_time_limit_comes_from_the_environment(monkeypatch):
    from potentiel.scoring import DEFAULT_TIME_LIMIT_S, time_limit_from_env

    monkeypatch.delenv(TIME_LIMIT_ENV, raising=False)
    assert time_limit_from_env() == DEFAULT_TIME_LIMIT_S
    for text, value in (("2.5", 2.5), ("0", 0.0), ("-1", DEFAULT_TIME_LIMIT_S),
                        ("soon", DEFAULT_TIME_LIMIT_S), ("nan", DEFAULT_TIME_LIMIT_S)):
        monkeypatch.setenv(TIME_LIMIT_ENV, text)
        assert time_limit_from_env() == value, text


SHEETS = '''
from potentiel import hookimpl

@hookimpl
def register_output_sheets(register):
    register("Accounts", lambda result: [["wiped"]] * 50)
    register("bad/name", lambda result: [["x"]])
    register("Comptes", lambda result: [["wiped"]])
    register("By sector", lambda result: [["sector", "accounts"], ["retail", 3]])
'''


def test_a_plugin_sheet_cannot_overwrite_the_accounts_or_break_the_file(book, tmp_path):
    """A plugin's output sheet named like the user's Accounts sheet (or one Excel cannot
    name) is refused at load, named in the warnings; the valid one is written."""
    from helpers import cells

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "sheets.py").write_text(SHEETS)
    path = book("sheets.xlsx")
    before = {k: v for k, v in cells(path).items() if k[0] == "Accounts"}
    result, _ = score_file(path, plugin_dirs=[str(folder)])
    after = cells(path)
    assert {k: after[k] for k in before} == before
    messages = log_row(path)["Messages"]
    for name in ("Accounts", "bad/name", "Comptes"):  # French headers: a French run
        assert f"la feuille de résultats '{name}'" in messages
    wb = openpyxl.load_workbook(path)
    assert "bad/name" not in wb.sheetnames and wb["By sector"]["A2"].value == "retail"


LONG_REASON = '''
from potentiel import Criterion, Input, Scored, hookimpl

class Verbose(Criterion):
    name, label, default_weight = "verbose", "Verbose", 10
    inputs = (Input("revenue", "money"),)
    def score(self, accounts, params):
        reason = accounts["revenue"].map(lambda v: "=" + "x" * 40000)
        return Scored(accounts["revenue"] * 0 + 80, reason)

@hookimpl
def register_criteria(register):
    register(Verbose())
'''


def test_text_longer_than_a_cell_holds_is_cut_on_both_front_ends(book, tmp_path):
    """A plugin reason of 40,000 characters: Excel holds 32,767 in a cell."""
    from helpers import payload_from_workbook
    from potentiel import excel
    from potentiel.manager import load_plugins

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "verbose.py").write_text(LONG_REASON)
    path = book("long.xlsx")
    score_file(path, tmp_path / "out.xlsx", plugin_dirs=[str(folder)])
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    longest = max(len(str(c.value)) for row in wb["Accounts"].iter_rows() for c in row)
    assert 30000 < longest <= 32767
    plugins = load_plugins([folder], entry_points=False)
    payload = payload_from_workbook(path, selection="B3", active_sheet="Accounts")
    actions = excel.run_remote("explain", payload, excel.Options(remote=True, plugins=plugins))
    texts = [v for a in actions["actions"] if a["func"] == "setValues" for line in a["values"]
             for v in line if isinstance(v, str)]
    assert max(len(v.lstrip("'")) for v in texts) == 32767
