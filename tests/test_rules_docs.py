"""Every YAML example of docs/rules.md is a rule file `rules check` accepts (no error), so
that a consultant who copies one starts from something that works. A block preceded by an
``<!-- fragment: … -->`` line is part of a file (a rule's ``when:``, a section that needs
another file's tables) and is only parsed as YAML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from potentiel.manager import load_plugins
from potentiel.rules import check_ruleset

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
BLOCK = re.compile(r"(<!-- fragment:[^\n]*-->\n)?```yaml\n(.*?)```", re.S)
PLUGINS = load_plugins(entry_points=False)


def _blocks() -> list[tuple[int, bool, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(text[:m.start()].count("\n") + 1, bool(m.group(1)), m.group(2))
            for m in BLOCK.finditer(text)]


def test_the_docs_have_examples_for_each_construct():
    text = "\n".join(b for _, _, b in _blocks())
    for construct in ("profiles:", "tables:", "lookup:", "score: points", "groups:",
                      "model: imported", "subscores:", "cross:", "stage: final",
                      "percentile(", "cumulative_share(", "quintile(", "contains",
                      "starts with", "days_since(", "months_since(", "if(", "A+:",
                      "set:", "outputs:", "quotas_by:", "fit.band", "expect:", "plan:"):
        assert construct in text, f"no example in docs/rules.md uses {construct}"


@pytest.mark.parametrize("line,fragment,text", _blocks(), ids=lambda v: str(v)[:20])
def test_each_yaml_example_of_the_docs_passes_rules_check(tmp_path, line, fragment, text):
    if fragment:
        yaml.safe_load(text)
        return
    path = tmp_path / f"rules-md-line-{line}.yaml"
    path.write_text(text, encoding="utf-8")
    errors = [f"{p.where}: {p.message}" for p in
              check_ruleset(path, PLUGINS.catalogue(), PLUGINS.criteria) if p.level == "error"]
    assert not errors, f"docs/rules.md line {line}: " + " | ".join(errors)


WITH_TESTS = [b for b in _blocks() if not b[1] and "\ntests:" in "\n" + b[2]]


@pytest.mark.parametrize("engine", ["durable", "compiled"])
@pytest.mark.parametrize("line,fragment,text", WITH_TESTS, ids=lambda v: str(v)[:20])
def test_the_tests_of_the_docs_examples_pass_on_both_engines(tmp_path, engine, line, fragment,
                                                             text):
    from potentiel.pipeline import rule_test_scorer
    from potentiel.rules import load_ruleset, run_rule_tests
    path = tmp_path / f"rules-md-line-{line}.yaml"
    path.write_text(text, encoding="utf-8")
    rs = load_ruleset(path, PLUGINS.catalogue(), PLUGINS.criteria, PLUGINS.rule_actions)
    outcomes = run_rule_tests(rs, rule_test_scorer(PLUGINS, engine=engine))
    assert outcomes and all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]


def test_some_docs_examples_carry_tests():
    assert len(WITH_TESTS) >= 4
