"""The plugin system: every hook, plugin sources, and failures that never stop the run."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from helpers import HEADERS, write_workbook
from potentiel import hookspecs
from potentiel.headless import score_file
from potentiel.manager import BUILTIN_MODULES, load_plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "plugins.md"
ROWS = [["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
        ["C2", "Bobo", "Client", "Julien", 30000, 35000, 50000, 5, 2, 650]]

DROP_IN = '''
from potentiel import Criterion, Input, Scored, hookimpl

class Loyalty(Criterion):
    name = "loyalty"
    label = "Loyalty"
    description = "years as a client"
    inputs = (Input("years", "number", label="Years", aliases=("Ancienneté",)),)
    default_weight = 20

    def score(self, accounts, params):
        y = accounts["years"]
        return Scored((y * 10).clip(0, 100), "client for " + y.astype(str) + " years")

@hookimpl
def register_criteria(register):
    register(Loyalty())
'''


def plugin_dir(tmp_path, **files):
    d = tmp_path / "plugins"
    d.mkdir(exist_ok=True)
    for name, body in files.items():
        (d / f"{name}.py").write_text(textwrap.dedent(body))
    return d


def test_builtins_are_the_nine_criteria(plugins):
    assert list(plugins.criteria) == list(BUILTIN_MODULES)
    assert all(str(plugins.origins[n]) == "built-in" for n in plugins.criteria)
    assert plugins.problems == []


def test_register_criteria_drop_in_file_adds_a_weighted_column(tmp_path):
    d = plugin_dir(tmp_path, loyalty=DROP_IN)
    headers = (*HEADERS, "Ancienneté")
    path = write_workbook(tmp_path / "b.xlsx", headers, [[*r, 5] for r in ROWS])
    result, _ = score_file(path, plugin_dirs=[str(d)])
    assert str(result.scores.failed) == "{}" or "loyalty" not in result.scores.failed
    assert list(result.outputs["Score: loyalty"]) == [50, 50]
    # every criterion of the model weighs, with or without a column in this workbook
    # (growth and prescription have none: they are unknown, and lower confidence)
    weights = {n: result.config.weights.get(n, c.default_weight)
               for n, c in result.criteria.items()}
    total = sum(w for w in weights.values() if w > 0)
    assert len(result.scores.absent["growth"]) == len(result.criteria["growth"].inputs)
    assert result.weighted.weights["loyalty"] == pytest.approx(20 / total)
    ws = openpyxl.load_workbook(path)["Accounts"]
    assert "Score: loyalty" in [c.value for c in ws[1]]


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_run(tmp_path):
    d = plugin_dir(tmp_path, loyalty=DROP_IN, broken="import nowhere_to_be_found\n",
                   typo="def oops(:\n")
    plugins = load_plugins([d], entry_points=False)
    text = [str(p) for p in plugins.problems]
    assert any(t.startswith(str(d / "broken.py")) and "plugin broken failed to import: "
               "ModuleNotFoundError" in t for t in text), text
    assert any("plugin typo failed to import: SyntaxError" in t and "(line 1)" in t for t in text)
    assert "loyalty" in plugins.criteria and "revenue" in plugins.criteria


def test_a_duplicate_criterion_name_is_reported_by_plugin_and_file(tmp_path):
    dup = DROP_IN.replace('name = "loyalty"', 'name = "revenue"')
    d = plugin_dir(tmp_path, dup=dup)
    plugins = load_plugins([d], entry_points=False)
    msg = [str(p) for p in plugins.problems]
    assert any(m.startswith(str(d / "dup.py")) and "criterion 'revenue' is already registered "
               "by built-in" in m for m in msg), msg
    assert str(plugins.origins["revenue"]) == "built-in"


def test_override_replaces_a_builtin(tmp_path):
    body = DROP_IN.replace('name = "loyalty"', 'name = "growth"\n    override = True')
    d = plugin_dir(tmp_path, mygrowth=body)
    plugins = load_plugins([d], entry_points=False)
    assert plugins.problems == []
    assert str(plugins.origins["growth"]) == f"file {d / 'mygrowth.py'}"


def test_a_misspelt_hook_is_reported(tmp_path):
    d = plugin_dir(tmp_path, misspelt='''
        from potentiel import hookimpl
        @hookimpl
        def register_criterias(register):
            pass
    ''')
    plugins = load_plugins([d], entry_points=False)
    assert any("implements unknown hook 'register_criterias'" in str(p) for p in plugins.problems)


def test_contract_violations_are_reported(tmp_path):
    d = plugin_dir(tmp_path, bad='''
        from potentiel import Criterion, hookimpl
        class NoScore(Criterion):
            name = "noscore"
        class BadName(Criterion):
            name = "Bad Name"
            def score(self, a, p):
                return a.index.to_series() * 0.0
        @hookimpl
        def register_criteria(register):
            register(NoScore())
            register(BadName)
            register(BadName())
            register("revenue")
    ''')
    text = " | ".join(str(p) for p in load_plugins([d], entry_points=False).problems)
    assert "criterion 'noscore' does not implement score()" in text
    assert "pass an instance: register(BadName())" in text
    assert "criterion name 'Bad Name' must be lower case" in text
    assert "not a potentiel.Criterion" in text


def test_a_hook_that_raises_is_reported(tmp_path):
    d = plugin_dir(tmp_path, raising='''
        from potentiel import hookimpl
        @hookimpl
        def register_criteria(register):
            raise RuntimeError("no licence server")
    ''')
    plugins = load_plugins([d], entry_points=False)
    assert any("register_criteria failed: RuntimeError: no licence server (line 5)" in str(p)
               for p in plugins.problems)
    assert len(plugins.criteria) == 9


def test_blocked_plugins_do_not_load(monkeypatch, tmp_path):
    d = plugin_dir(tmp_path, loyalty=DROP_IN)
    monkeypatch.setenv("POTENTIEL_BLOCK_PLUGINS", "growth, loyalty")
    plugins = load_plugins([d], entry_points=False)
    assert "growth" not in plugins.criteria and "loyalty" not in plugins.criteria
    assert "revenue" in plugins.criteria


def test_missing_plugin_folder_is_reported(tmp_path):
    plugins = load_plugins([tmp_path / "nope"], entry_points=False)
    assert any("plugin folder not found" in str(p) for p in plugins.problems)


def test_register_derivations(tmp_path):
    d = plugin_dir(tmp_path, sites='''
        from potentiel import Derivation, hookimpl
        @hookimpl
        def register_derivations(register):
            register(Derivation("potential", ("sites", "spend_per_site"),
                                lambda a, ctx: a["sites"] * a["spend_per_site"], override=True))
            register(Derivation("potential", ("x",), lambda a, ctx: a["x"]))
    ''')
    from potentiel.pipeline import score_records
    plugins = load_plugins([d], entry_points=False)
    assert [str(p).split(": ", 1)[1] for p in plugins.problems] == [
        f"plugin sites: 'potential' is already derived by file {d / 'sites.py'}; this derivation "
        "is ignored (set override=True to replace a built-in one)"]
    result = score_records([{"id": "A", "sites": 3, "spend_per_site": 1000, "revenue": 600},
                            {"id": "B", "sites": 3, "spend_per_site": 1000, "potential": 50}],
                           plugins=plugins)
    assert list(result.outputs["Potential"]) == [3000, 50]
    assert result.outputs.loc[0, "Penetration"] == 0.2


def test_register_rule_actions(tmp_path):
    d = plugin_dir(tmp_path, notify='''
        from potentiel import RuleAction, hookimpl

        def check(value):
            if not isinstance(value, str) or not value.strip():
                raise ValueError("notify needs a team name, e.g. notify: logistics")
            return value.strip()

        def apply(result, mask, value, rule_id):
            result.add_flags(mask, f"notify-{value}")

        @hookimpl
        def register_rule_actions(register):
            register(RuleAction(name="notify", check=check, apply=apply))
    ''')
    rules = tmp_path / "client.yaml"
    rules.write_text(textwrap.dedent('''
        extends: default
        rules:
          - id: big-far
            when: distance_km >= 600 and revenue > 1000
            then: {notify: logistics}
            why: Deliveries that far need planning.
    '''))
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    result, _ = score_file(path, rules=str(rules), plugin_dirs=[str(d)])
    assert result.outputs.loc[1, "Flags"] == "credit-watch, inaccessible, notify-logistics"
    assert "big-far: Deliveries that far need planning; " in result.outputs.loc[1, "Why"]
    assert result.outputs.loc[0, "Flags"] in (None, "")
    # a wrong value is reported with its file and line
    rules.write_text(rules.read_text().replace("{notify: logistics}", "{notify: 3}"))
    from potentiel.cli import main
    assert main(["rules", "check", str(rules), "--plugins", str(d)]) == 1


def test_register_output_sheets(tmp_path):
    d = plugin_dir(tmp_path, sheet='''
        from potentiel import hookimpl
        def build(result):
            return [["Accounts", "Best"], [len(result.accounts), "=danger()"]]
        def broken(result):
            raise KeyError("sector")
        @hookimpl
        def register_output_sheets(register):
            register("Extra", build)
            register("Broken", broken)
    ''')
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    result, _ = score_file(path, plugin_dirs=[str(d)])
    wb = openpyxl.load_workbook(path)
    rows = list(wb["Extra"].iter_rows(values_only=True))
    assert rows == [("Accounts", "Best"), (2, "=danger()")]
    assert wb["Extra"]["B2"].data_type == "s"  # written as text, never as a formula
    assert "Broken" not in wb.sheetnames
    assert any("output sheet Broken failed: KeyError" in str(w) for w in result.warnings)


def test_installed_package_appears_in_potentiel_plugins(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target),
                    str(ROOT / "examples" / "potentiel-nps")], check=True)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "potentiel", "plugins"], capture_output=True,
                         text=True, env=env, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("nps "))
    assert "Net Promoter Score" in line and line.endswith("package nps")
    for name in BUILTIN_MODULES:
        assert re.search(rf"^{name}\s", out, re.M)


# Meta-tests: every hook has a documented signature, a runnable example and a test here.

def hook_names():
    return sorted(n for n in dir(hookspecs) if n.startswith("register_"))


def test_every_hook_is_documented_with_its_signature():
    docs = DOCS.read_text()
    for name in hook_names():
        assert f"## `{name}(register)`" in docs, name
        doc = getattr(hookspecs, name).__doc__
        assert doc and "Called" in doc and "Returns" in doc, name


def test_every_hook_has_a_test_in_this_file():
    here = Path(__file__).read_text()
    for name in hook_names():
        assert f"def test_{name}" in here, name


def test_every_docs_example_loads_as_a_plugin(tmp_path):
    docs = DOCS.read_text()
    blocks = re.findall(r"```python\n(.*?)```", docs, re.S)
    examples = [b for b in blocks if "@hookimpl" in b]
    assert len(examples) >= len(hook_names())
    for i, code in enumerate(examples):
        d = tmp_path / f"ex{i}"
        d.mkdir()
        (d / f"example{i}.py").write_text(code)
        plugins = load_plugins([d], entry_points=False)
        assert plugins.problems == [], (code, plugins.problems)
