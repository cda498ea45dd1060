"""Loading rule files: every bad input gives file:line and a fix; extends; limits; shipped files."""

import textwrap
import time

import pytest

from potentiel.criterion import Criterion, Param
from potentiel.fields import Catalogue
from potentiel.problems import UserError
from potentiel.rules import check_ruleset, load_ruleset, rules_dir
from potentiel.rules.actions import RuleAction
from potentiel.rules.build import MAX_RULES
from potentiel.rules.source import MAX_FILE_BYTES


def _criterion(name, **params):
    cls = type(name.title(), (Criterion,), {
        "name": name, "params": {k: Param(v) for k, v in params.items()}})
    return cls()


CRITERIA = {c.name: c for c in (
    _criterion("revenue", low=None, high=None), _criterion("trend", full_at=0.2),
    _criterion("potential"), _criterion("penetration"), _criterion("solvency", per_incident=25),
    _criterion("growth", sector_outlook={}), _criterion("prescription"),
    _criterion("relationship"), _criterion("accessibility", far_km=600, near_km=50))}
CATALOGUE = Catalogue.build()

RULE = """\
rules:
  - id: too-far
    when: distance_km >= 600
    then: {flag: inaccessible, cap: C}
    why: Too far.
"""


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(folder, text, name="rules/acme.yaml", actions=None):
    return load_ruleset(write(folder, name, text), CATALOGUE, CRITERIA, actions)


def errors(folder, text, name="rules/acme.yaml"):
    with pytest.raises(UserError) as err:
        load(folder, text, name)
    return err.value.problems


def one_error(folder, text):
    problems = errors(folder, text)
    assert len(problems) == 1, problems
    assert problems[0].level == "error"
    return problems[0]


# ----------------------------------------------------------------------------- YAML

def test_invalid_yaml_reports_line_and_column(tmp_path):
    p = one_error(tmp_path, "weights: {revenue: 25\nrules: []\n")
    assert p.where.endswith("acme.yaml:2")
    assert "column" in p.message


def test_python_object_tags_are_refused(tmp_path):
    p = one_error(tmp_path, "description: !!python/object/apply:os.system [echo hacked]\n")
    assert p.where.endswith("acme.yaml:1")
    assert "tag !!python/object/apply:os.system is not allowed" in p.message


def test_aliases_are_refused(tmp_path):
    p = one_error(tmp_path, "weights: &w {revenue: 1}\nparams: *w\n")
    assert "aliases" in p.message


def test_a_key_written_twice_is_an_error(tmp_path):
    p = one_error(tmp_path, "weights: {revenue: 1}\nweights: {revenue: 2}\n")
    assert p.where.endswith(":2") and "written twice" in p.message


def test_a_file_that_is_not_a_mapping(tmp_path):
    p = one_error(tmp_path, "- just\n- a list\n")
    assert "set of keys" in p.message


def test_too_large_files_are_refused_before_parsing(tmp_path):
    path = tmp_path / "rules" / "big.yaml"
    path.parent.mkdir()
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(UserError, match="at most"):
        load_ruleset(path, CATALOGUE, CRITERIA)


def test_a_missing_file(tmp_path):
    with pytest.raises(UserError, match="no rule file"):
        load_ruleset(tmp_path / "nope.yaml", CATALOGUE, CRITERIA)


# ----------------------------------------------------------------------------- structure

def test_unknown_top_level_key_with_suggestion(tmp_path):
    p = one_error(tmp_path, "weights: {revenue: 1}\nrulez: []\n")
    assert p.where.endswith("acme.yaml:2")
    assert 'unknown key "rulez" (did you mean rules?)' in p.message


def test_unknown_field_in_a_condition_names_file_line_and_suggestion(tmp_path):
    p = one_error(tmp_path, RULE.replace("distance_km >= 600", "distnce_km >= 600"))
    assert p.where.endswith("rules/acme.yaml:3")
    assert 'unknown field "distnce_km" (did you mean distance_km?)' in p.message
    assert 'rule "too-far"' in p.message


def test_syntax_error_shows_the_position(tmp_path):
    p = one_error(tmp_path, RULE.replace("distance_km >= 600", "distance_km >= 600 &&"))
    assert '"&&" is not allowed here: write "and"' in p.message
    assert "▸&&" in p.message


def test_multi_line_condition_error_points_at_its_line(tmp_path):
    text = RULE.replace("when: distance_km >= 600",
                        'when: |\n      distance_km >= 600\n      and statut == "x"')
    p = one_error(tmp_path, text)
    assert p.where.endswith("acme.yaml:5") and "statut" in p.message


def test_type_mismatch(tmp_path):
    p = one_error(tmp_path, RULE.replace("distance_km >= 600", 'distance_km >= "far"'))
    assert "distance_km is a number (km) but \"far\" is text" in p.message
    assert "compare it with a number" in p.message


def test_unknown_action_with_suggestion(tmp_path):
    p = one_error(tmp_path, RULE.replace("cap: C", "capp: C"))
    assert p.where.endswith("acme.yaml:4")
    assert 'unknown action "capp" (did you mean cap?)' in p.message


@pytest.mark.parametrize("then, words", [
    ("{cap: Z}", '"Z" is not a category (the categories are A, B, C, D)'),
    ("{cap: 3}", "is not a category letter"),
    ("{points: lots}", "is not a number of points"),
    ("{points: 500}", "too many"),
    ("{exclude: yes please}", "write exclude: true"),
    ("{flag: [ok, '']}", "a flag is a short text"),
    ("{score: {revenu: 5}}", 'unknown criterion "revenu" (did you mean revenue?)'),
    ("{score: {revenue: 150}}", "a score is a number from 0 to 100"),
    ("{set: {distnce_km: 5}}", '"distnce_km" is not a known field (did you mean distance_km?)'),
    ("{set: {distance_km: far}}", "distance_km is a number"),
    ("{set: {status: customer}}", '"customer" is not a value of status'),
    ("{set: {penetration: 0.5}}", "cannot be set by a rule"),
    ("[cap, C]", "then must list actions"),
])
def test_bad_action_values(tmp_path, then, words):
    p = one_error(tmp_path, RULE.replace("{flag: inaccessible, cap: C}", then))
    assert words in p.message
    assert 'rule "too-far"' in p.message


def test_rule_needs_when_and_why_and_known_keys(tmp_path):
    problems = errors(tmp_path, """\
        rules:
          - id: a
            then: {flag: x}
            why: A.
          - id: b
            when: headcount > 5
          - id: c
            when: headcount > 5
            why: C.
            wen: typo
          - when: headcount > 5
            why: no id
        """)
    text = "\n".join(str(p) for p in problems)
    assert 'rule "a": add "when:"' in text
    p = one_error(tmp_path, RULE.replace("when: distance_km >= 600", "when: [distance_km]"))
    assert "when is one condition written as text" in p.message
    assert 'rule "b": add "why:"' in text
    assert 'unknown key "wen" (did you mean when?)' in text
    assert "has no id" in text
    assert len(problems) == 4


def test_conditions_too_large_for_durable_rules_are_refused(tmp_path):
    pairs = " and ".join(f"(headcount > {i} or distance_km > {i})" for i in range(9))
    p = one_error(tmp_path, RULE.replace("distance_km >= 600", pairs))
    assert "512 alternatives" in p.message and "split it into several rules" in p.message
    # a long list is fine: it is checked once, as a hidden column
    many = ", ".join(f'"s{i}"' for i in range(100))
    rs = load(tmp_path, RULE.replace("distance_km >= 600", f"sector in [{many}]"))
    assert rs.hidden[0].kind == "member"


def test_duplicate_rule_ids_in_one_file(tmp_path):
    p = one_error(tmp_path, RULE + RULE.replace("rules:\n", ""))
    assert p.where.endswith("acme.yaml:6")
    assert 'id "too-far" is used twice in this file (also at line 2)' in p.message


def test_all_problems_are_reported_at_once(tmp_path):
    problems = errors(tmp_path, """\
        weights: {revenu: 10, trend: -1}
        rules:
          - id: a
            when: distnce_km > 5
            why: A.
          - id: b
            when: headcount > 5
            then: {capp: C}
            why: B.
        """)
    assert len(problems) == 4
    assert [p.where.rsplit(":", 1)[1] for p in problems] == ["1", "1", "4", "8"]


def test_weights_params_and_categories_are_checked(tmp_path):
    problems = errors(tmp_path, """\
        params:
          accessibility: {far_kms: 600, near_km: close}
          acessibility: {far_km: 1}
        categories:
          A: {min: 50}
          B: {min: 60}
        """)
    text = "\n".join(str(p) for p in problems)
    assert 'accessibility has no parameter "far_kms" (did you mean far_km?)' in text
    assert "accessibility.near_km is a number" in text
    assert 'unknown criterion "acessibility" (did you mean accessibility?)' in text
    assert "best first" in text


def test_quotas(tmp_path):
    rs = load(tmp_path, """\
        categories:
          A: {share: 10%, label: Strategic}
          B: {share: 0.2}
          C: {label: Rest}
        """)
    assert rs.categories.mode == "quotas"
    assert [(q.letter, q.share) for q in rs.categories.quotas] == [
        ("A", 0.1), ("B", 0.2), ("C", None)]
    p = one_error(tmp_path, "categories:\n  A: {share: 70%}\n  B: {share: 50%}\n")
    assert "more than 100%" in p.message
    p = one_error(tmp_path, "categories:\n  A: {share: 10%}\n  B: {min: 50}\n")
    assert "not both" in p.message


def test_declared_fields_and_derive(tmp_path):
    rs = load(tmp_path, """\
        fields: {region: text, visits: integer}
        derive:
          potential: headcount * spend_per_employee
          yearly_visits: visits * 12
        rules:
          - id: idf
            when: region == "Nord" and yearly_visits > 10 and potential > 1000
            why: x
        """)
    assert rs.extra_fields == {"region": "text", "visits": "integer"}
    assert [d.field for d in rs.derivations] == ["potential", "yearly_visits"]
    assert rs.fields_read >= {"region", "yearly_visits", "potential", "headcount",
                              "spend_per_employee", "visits"}
    import pandas as pd
    accounts = pd.DataFrame({"headcount": [10, None], "spend_per_employee": [300.0, 5.0]})
    assert rs.derivations[0].compute(accounts, None).tolist()[0] == 3000.0
    assert pd.isna(rs.derivations[0].compute(accounts, None).iloc[1])


def test_derive_errors(tmp_path):
    text = "\n".join(str(p) for p in errors(tmp_path, """\
        derive:
          potental: headcount * 2
          a: b + 1
          b: a + 1
          name: headcount
          c: score.revenue * 2
          d: status * 2
        """))
    assert 'unknown field "potental" (did you mean potential?)' in text
    assert "is a loop" in text
    assert "name is text" in text
    assert "computed after derive" in text
    assert "needs numbers, but status is text" in text


def test_tests_section_is_checked(tmp_path):
    text = "\n".join(str(p) for p in errors(tmp_path, RULE + textwrap.dedent("""\
        tests:
          - name: one
            account: {distnce_km: 5, headcount: many}
            expect: {flags: [x], fired: [too-fr], category: Z, colour: red}
          - name: two
            account: {status: customer}
            expect: {}
        """)))
    assert 'unknown field "distnce_km" (did you mean distance_km?)' in text
    assert "headcount is a number" in text
    assert 'no rule "too-fr" (did you mean too-far?)' in text
    assert "category is a category letter" in text
    assert 'unknown expectation "colour"' in text
    assert "status is client, prospect, suspect" in text


# ----------------------------------------------------------------------------- extends

def test_extends_merges_child_over_parent(tmp_path):
    write(tmp_path, "rules/base.yaml", """\
        description: base
        weights: {revenue: 10, trend: 10}
        params: {accessibility: {far_km: 600, near_km: 50}}
        categories:
          A: {min: 75, label: Strategic}
          B: {min: 50, label: Important}
          C: {min: 0, label: Small}
        rules:
          - id: too-far
            when: distance_km >= 600
            then: {cap: C}
            why: base
          - id: credit
            when: payment_incidents > 3
            then: {flag: credit-watch}
            why: base
        tests:
          - name: far
            account: {distance_km: 700}
            expect: {fired: [too-far]}
        """)
    rs = load(tmp_path, """\
        extends: base
        weights: {trend: 20}
        params: {accessibility: {far_km: 800}}
        categories:
          A: {min: 80}
        rules:
          - id: too-far
            when: distance_km >= 800
            then: {cap: B}
            why: child
          - id: extra
            when: headcount > 5
            why: child
        """, name="rules/clients/acme.yaml")
    assert rs.weights == {"revenue": 10, "trend": 20}
    assert rs.params == {"accessibility": {"far_km": 800, "near_km": 50}}
    assert [(b.letter, b.min, b.label) for b in rs.categories.bands] == [
        ("A", 80, "Strategic"), ("B", 50, "Important"), ("C", 0, "Small")]
    by_id = {r.id: r for r in rs.rules}
    assert sorted(by_id) == ["credit", "extra", "too-far"]
    assert by_id["too-far"].why == "child" and by_id["too-far"].source.endswith("acme.yaml")
    assert by_id["credit"].source.endswith("base.yaml")
    assert rs.tests == []  # tests are not inherited: each file runs its own
    assert rs.description == "base"
    assert len(rs.files) == 2


def test_extends_default_finds_the_rules_root(tmp_path):
    write(tmp_path, "rules/default.yaml", RULE)
    rs = load(tmp_path, "extends: default\n", name="rules/clients/acme.yaml")
    assert [r.id for r in rs.rules] == ["too-far"]


def test_extends_the_shipped_default_from_anywhere(tmp_path):
    rs = load(tmp_path, "extends: default\n", name="elsewhere/acme.yaml")
    assert {"too-far", "fragility-zone", "credit-watch"} <= {r.id for r in rs.rules}


def test_extends_missing_file(tmp_path):
    p = one_error(tmp_path, "description: x\nextends: nothing-here\n")
    assert p.where.endswith("acme.yaml:2")
    assert 'extends "nothing-here": no such rule file' in p.message


def test_extends_itself(tmp_path):
    p = one_error(tmp_path, "extends: acme\n")
    assert "cannot extend itself" in p.message and p.where.endswith("acme.yaml:1")


def test_extends_cycle(tmp_path):
    write(tmp_path, "rules/a.yaml", "extends: b\n")
    write(tmp_path, "rules/b.yaml", "extends: acme\n")
    p = one_error(tmp_path, "extends: a\n")
    assert "loop" in p.message and "a.yaml" in p.message and "b.yaml" in p.message


def test_switching_bands_to_quotas_replaces_the_categories(tmp_path):
    write(tmp_path, "rules/base.yaml", "categories:\n  A: {min: 50}\n  B: {min: 0}\n")
    rs = load(tmp_path, "extends: base\ncategories:\n  A: {share: 10%}\n  B: {label: rest}\n")
    assert rs.categories.mode == "quotas" and rs.categories.letters == ("A", "B")


# ----------------------------------------------------------------------------- limits

def _many_rules(n):
    lines = ["rules:"]
    for i in range(n):
        lines += [f"  - id: r{i}", f"    when: distance_km >= {i} and headcount < {i + 5}",
                  "    then: {flag: f" + str(i % 7) + "}", f"    why: rule {i}"]
    return "\n".join(lines) + "\n"


def test_ten_thousand_rules_load_quickly(tmp_path):
    start = time.perf_counter()
    rs = load(tmp_path, _many_rules(MAX_RULES))
    assert len(rs.rules) == MAX_RULES
    assert time.perf_counter() - start < 30


def test_more_rules_than_the_limit_are_refused_quickly(tmp_path):
    start = time.perf_counter()
    p = one_error(tmp_path, _many_rules(MAX_RULES + 1))
    assert "a rule file may hold at most 10,000" in p.message
    assert time.perf_counter() - start < 30


# ----------------------------------------------------------------------------- plugins, API

def test_plugin_actions_are_accepted_and_checked(tmp_path):
    def check(value):
        if value not in ("phone", "visit"):
            raise ValueError("is phone or visit")
        return value

    notify = RuleAction("contact", check, lambda result, mask, value, rule_id: None, "how")
    rs = load(tmp_path, RULE.replace("cap: C", "contact: phone"), actions={"contact": notify})
    assert rs.rules[0].actions == (("flag", ("inaccessible",)), ("contact", "phone"))
    with pytest.raises(UserError, match="contact: is phone or visit"):
        load(tmp_path, RULE.replace("cap: C", "contact: mail"), actions={"contact": notify})


def test_check_ruleset_never_raises(tmp_path):
    path = write(tmp_path, "rules/bad.yaml", "rules: [\n")
    problems = check_ruleset(path, CATALOGUE, CRITERIA)
    assert problems and problems[0].level == "error"
    problems = check_ruleset(tmp_path / "missing.yaml", CATALOGUE, CRITERIA)
    assert problems[0].level == "error"


def test_content_hash_ignores_rule_order_but_not_content(tmp_path):
    two = RULE + RULE.replace("rules:\n", "").replace("too-far", "other")
    swapped = RULE.replace("rules:\n", "").replace("too-far", "other")
    a = load(tmp_path, two, name="rules/a.yaml").content_hash
    b = load(tmp_path, "rules:\n" + swapped + RULE.replace("rules:\n", ""),
             name="rules/b.yaml").content_hash
    c = load(tmp_path, two.replace(">= 600", ">= 601"), name="rules/c.yaml").content_hash
    assert a == b != c


@pytest.mark.parametrize("name", [None, "clients/office-supplies-co.yaml",
                                  "clients/industrial-supplier.yaml"])
def test_shipped_rule_files_load_and_are_lint_clean(name):
    path = None if name is None else rules_dir() / name
    rs = load_ruleset(path, CATALOGUE, CRITERIA)
    assert rs.rules and rs.tests and rs.weights
    # Notices (an inherited rule deliberately replaced) are not warnings.
    assert [p for p in check_ruleset(path, CATALOGUE, CRITERIA) if p.level != "notice"] == []


def test_default_ruleset_matches_the_design():
    rs = load_ruleset(None, CATALOGUE, CRITERIA)
    assert rs.name == "default"
    assert rs.weights == {"revenue": 25, "trend": 10, "potential": 25, "penetration": 0,
                          "solvency": 10, "growth": 10, "prescription": 10,
                          "relationship": 5, "accessibility": 5}
    assert [(b.letter, b.min, b.label) for b in rs.categories.bands] == [
        ("A", 75, "Strategic"), ("B", 50, "Important"), ("C", 25, "Medium"), ("D", 0, "Small")]
    assert {r.id for r in rs.rules} == {"too-far", "fragility-zone", "credit-watch", "thin-data",
                                        "check-potential"}
