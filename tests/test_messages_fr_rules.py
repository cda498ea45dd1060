"""Rule files said in French: ``potentiel rules check --lang fr`` on a wrong ``score:`` or
``tables:`` section, a rule action given a bad category letter, a YAML mistake, and two
rules that conflict on a French workbook; each message starts with the French a
consultant reads, at its place (``file:line``, or the rule file)."""

from __future__ import annotations

import datetime as dt
import textwrap

import pandas as pd
import pytest

from helpers import write_workbook
from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.i18n import use_language
from potentiel.problems import UserError
from potentiel.rules.source import parse_yaml
from potentiel.rules.tables import Band, TableCriterion

WHEN = dt.datetime(2026, 3, 2, 9, 30)


def rule_file(tmp_path, text: str, name: str = "client.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def check(path, lang: str, capsys) -> list[str]:
    """The lines ``potentiel rules check --lang LANG`` prints for ``path`` (it must fail)."""
    assert main(["rules", "check", "--lang", lang, str(path)]) == 1
    return capsys.readouterr().out.splitlines()


def said(lines: list[str], where: str) -> str:
    """The message printed at ``where`` (``file:line``)."""
    hits = [line[len(where) + 2:] for line in lines if line.startswith(where + ": ")]
    assert len(hits) == 1, (where, lines)
    return hits[0]


SCORE_AND_TABLES = """
    extends: default
    score:
      model: points
      scale: 0 to 1000
      groups:
        profil: {points: 400, weights: {revenue: 50, potentiel: 50}}
    tables:
      size:
        field: headcount
        bands:
          - {from: 0, score: 10}
          - {from: 0, score: 20}
      land:
        field: country
        lookup: {France: 100}
    """


def test_a_wrong_score_and_tables_section_is_said_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, SCORE_AND_TABLES)
    lines = check(path, "fr", capsys)
    assert said(lines, f"{path}:6").startswith(
        "score : groupe profil : critère inconnu « potentiel » (vouliez-vous dire potential ?)")
    assert said(lines, f"{path}:12").startswith(
        "tables : size : deux tranches commencent à 0 (lignes 11 et 12) : elles se "
        "chevauchent ; chaque limite s'écrit une seule fois")
    assert said(lines, f"{path}:15").startswith(
        "tables : land : ajoutez otherwise: avec le score d'une valeur que le lookup ne "
        "liste pas")
    # the same file in English: the English keys are unchanged
    lines = check(path, "en", capsys)
    assert said(lines, f"{path}:6") == ('score: group profil: unknown criterion "potentiel" '
                                        "(did you mean potential?)")
    assert said(lines, f"{path}:12").startswith("tables: size: two bands start at 0 (lines 11 "
                                                "and 12): they overlap")


def test_a_wrong_subscore_and_scale_are_said_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, """
        extends: default
        score: {model: points, scale: 0 to 1000}
        subscores:
          fit: {tables: [size], bands: {A: 60, B: 30, C: 0}}
        categories:
          A: {min: 1200}
          B: {min: 500}
          C: {min: 100}
          D: {min: 0}
        """)
    lines = check(path, "fr", capsys)
    assert said(lines, f"{path}:4").startswith(
        "subscores : fit : « size » n'est pas une table de points de ce fichier")
    assert said(lines, f"{path}:6").startswith(
        "categories : A commence à 1200, hors de l'échelle du score (0 à 1000) ; déplacez "
        "ce seuil, ou changez score: scale")


def test_a_rule_action_with_a_bad_category_letter_is_said_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, """
        extends: default
        rules:
          - id: trop-loin
            when: distance_km >= 600
            then: {cap: 3}
            why: Aucun commercial à moins de 600 km.
          - id: grand-compte
            when: headcount >= 1000
            then: {force: Z}
            why: Grand compte.
        """)
    lines = check(path, "fr", capsys)
    assert said(lines, f"{path}:5") == (
        "règle « trop-loin » : cap : 3 n'est pas une lettre de catégorie (comme A, B, C, D, "
        "ou un nom comme A+, A- ou A1)")
    assert said(lines, f"{path}:9") == (
        "règle « grand-compte » : force : « Z » n'est pas une catégorie (les catégories sont "
        "A, B, C, D)")
    lines = check(path, "en", capsys)
    assert said(lines, f"{path}:5").startswith('rule "trop-loin": cap: 3 is not a category '
                                               "letter (such as A, B, C, D")
    assert said(lines, f"{path}:9") == ('rule "grand-compte": force: "Z" is not a category '
                                        "(the categories are A, B, C, D)")


def test_a_yaml_mistake_is_said_in_french_at_its_line(tmp_path, capsys):
    path = rule_file(tmp_path, "extends: default\nweights:\n\trevenue: 20\n")
    lines = check(path, "fr", capsys)
    assert said(lines, f"{path}:3").startswith("colonne 1 : une tabulation : indentez avec des "
                                               "espaces uniquement")


def test_a_file_shape_and_a_condition_mistake_are_said_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, """
        extends: default
        weight: {revenue: 20}
        rules:
          - id: loin
            when: distance_km >
            then: {flag: loin}
            why: Loin.
          - id: loin
            when: name starts "Ab"
            then: {flag: ab}
            why: Ab.
        """)
    lines = check(path, "fr", capsys)
    assert said(lines, f"{path}:2").startswith(
        "clé inconnue « weight » (vouliez-vous dire weights ?) : un fichier de règles peut "
        "avoir extends, ")
    assert said(lines, f"{path}:5").startswith(
        "règle « loin » : attendu : un nom de champ, un nombre ou un texte entre guillemets ; "
        "trouvé : la fin de la condition")
    assert said(lines, f"{path}:8") == ("id « loin » est utilisé deux fois dans ce fichier "
                                        "(aussi à la ligne 4) : chacun doit être unique")
    lines = check(path, "en", capsys)
    assert said(lines, f"{path}:5").startswith(
        'rule "loin": expected a field name, a number or a quoted text, found the end of the '
        "condition")
    assert said(lines, f"{path}:8") == ('id "loin" is used twice in this file (also at line 4): '
                                        "each must be unique")


def test_a_key_written_twice_is_not_called_a_tab(tmp_path):
    """PyYAML's "tab" wording is reworded, never the loader's own: a second "tables:" key
    was once reported as a tab character."""
    text = "tables: {}\ntables: {}\n"
    with pytest.raises(UserError) as exc:
        parse_yaml(text, "client.yaml")
    assert [(p.where, p.message) for p in exc.value.problems] == [
        ("client.yaml:2", 'column 1: "tables" is written twice here')]
    with use_language("fr"), pytest.raises(UserError) as exc:
        parse_yaml(text, "client.yaml")
    assert [(p.where, p.message) for p in exc.value.problems] == [
        ("client.yaml:2", "colonne 1 : « tables » est écrit deux fois ici")]


CLASH = """
    extends: default
    rules:
      - id: gros-ca
        when: revenue >= 40000
        then: {force: A}
        why: Gros CA.
      - id: petit-potentiel
        when: potential <= 200000
        then: {force: C}
        why: Petit potentiel.
    """


def _french_book(tmp_path, rows):
    return write_workbook(tmp_path / "comptes.xlsx",
                          ["Code client", "Raison sociale", "Statut", "CA N", "CA N-1",
                           "Potentiel"], rows, sheet="Comptes")


@pytest.mark.parametrize("engine", ["compiled", "durable"])
def test_two_rules_in_conflict_are_said_in_french(tmp_path, engine):
    rules = rule_file(tmp_path, CLASH)
    book = _french_book(tmp_path, [["C1", "Alpha", "client", 200000, 180000, 400000],
                                   ["C2", "Beta", "client", 50000, 52000, 120000],
                                   ["C3", "Gamma", "client", 45000, 2500, 150000]])
    result, _out = score_file(book, tmp_path / "out.xlsx", rules=str(rules), engine=engine,
                              when=WHEN)
    clash = [p for p in result.warnings if "gros-ca" in p.message]
    assert [p.where for p in clash] == [str(rules)]
    assert clash[0].message == (
        "les règles « gros-ca » et « petit-potentiel » imposent des catégories différentes "
        "(« A » et « C ») sur les comptes C2, C3 : aucune ne s'y applique ; rendez leurs "
        "conditions exclusives")
    # one account: the singular
    result, _out = score_file(_french_book(tmp_path, [["C2", "Beta", "client", 50000, 52000,
                                                      120000]]),
                              tmp_path / "out1.xlsx", rules=str(rules), engine=engine, when=WHEN)
    clash = [p for p in result.warnings if "gros-ca" in p.message]
    assert "sur le compte C2 : aucune ne s'y applique" in clash[0].message


def test_the_same_conflict_in_english_keeps_its_words(tmp_path):
    rules = rule_file(tmp_path, CLASH)
    book = write_workbook(tmp_path / "accounts.xlsx",
                          ["id", "name", "status", "revenue", "revenue_n1", "potential"],
                          [["C2", "Beta", "client", 50000, 52000, 120000],
                           ["C3", "Gamma", "client", 45000, 2500, 150000]])
    result, _out = score_file(book, tmp_path / "out.xlsx", rules=str(rules), when=WHEN)
    assert [p.message for p in result.warnings if "gros-ca" in p.message] == [
        'rules "gros-ca" and "petit-potentiel" force different categories ("A" and "C") on '
        "accounts C2, C3: neither applies there; make their conditions exclusive"]


def test_a_table_gives_its_reasons_in_french():
    bands = (Band(1, None, 20, 3), Band(11, None, 40, 4), Band(1001, None, 100, 5))
    size = TableCriterion("size", "", "", "headcount", "number", "number", bands=bands,
                          otherwise=0.0)
    accounts = pd.DataFrame({"headcount": [5.0, 2000.0, 0.0, None]})
    with use_language("fr"):
        reasons = size.score(accounts, {}).reason.tolist()
    assert reasons == ["headcount 5 : de 1 à 11 → 20", "headcount 2000 : à partir de 1001 → 100",
                       "headcount 0 : dans aucune tranche → 0", "headcount vide"]
    assert size.score(accounts, {}).reason.tolist() == [
        "headcount 5: from 1 to 11 → 20", "headcount 2000: from 1001 up → 100",
        "headcount 0: in no band → 0", "headcount blank"]


def test_a_rule_action_that_raises_is_named_in_both_languages(tmp_path):
    from potentiel.fields import Catalogue
    from potentiel.rules import apply_rules, load_ruleset
    from potentiel.rules.actions import RuleAction

    def escalate(result, mask, value, rule_id):
        raise KeyError(f"no such queue: {value}")

    path = rule_file(tmp_path, """
        rules:
          - id: big
            when: headcount >= 50
            then: {escalate: key-accounts, flag: big}
            why: Big.
        """)
    ruleset = load_ruleset(path, Catalogue.build(), {},
                           {"escalate": RuleAction("escalate", str, escalate)})
    accounts = pd.DataFrame({"id": ["C1", "C2"], "headcount": [10.0, 500.0]})
    said_en = [(p.where, p.message) for p in apply_rules(ruleset, accounts).problems]
    with use_language("fr"):
        said_fr = [(p.where, p.message) for p in apply_rules(ruleset, accounts).problems]
    assert said_en == [(str(path), 'rule "big": action escalate failed (KeyError: \'no such '
                                   "queue: key-accounts'); its effect is left out")]
    assert said_fr == [(str(path), "règle « big » : action escalate a échoué (KeyError: 'no "
                                   "such queue: key-accounts') ; son effet est ignoré")]


LINTED = """
    extends: default
    rules:
      - id: loin
        when: distance_km >= 600
        then: {force: A}
        why: Loin.
      - id: petit
        when: headcount < 10
        then: {cap: C}
        why: Petit.
      - id: part
        when: penetration > 30
        then: {flag: y}
        why: Y.
    tests:
      - name: faux exprès
        account: {status: client, distance_km: 10, headcount: 5}
        expect: {category: A, flags: [vip]}
    """


def test_lint_warnings_and_a_type_mistake_are_said_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, LINTED)
    assert main(["rules", "check", "--lang", "fr", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{path}:3: les règles « loin » ({path}:3) et « petit » ({path}:7) peuvent se " \
           "déclencher sur le même compte et se contredire : force A l'emporte sur le cap C " \
           "de « petit » (avertissement)" in lines
    assert said(lines, f"{path}:12") == ("règle « part » : penetration est une part (0.25 = 25 %) "
                                         ": 30 fait 3000 % ; vouliez-vous dire 30% ? "
                                         "(avertissement)")
    wrong = rule_file(tmp_path, LINTED.replace("penetration > 30", 'distance_km >= "far"'),
                      "wrong.yaml")
    lines = check(wrong, "fr", capsys)
    assert said(lines, f"{wrong}:12").startswith(
        'règle « part » : distance_km est un nombre (km) mais "far" est du texte : comparez-le '
        "à un nombre, par exemple distance_km >= 600")


def test_rules_test_reports_in_french(tmp_path, capsys):
    path = rule_file(tmp_path, LINTED)
    assert main(["rules", "test", "--lang", "fr", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ÉCHEC faux exprès : attendu catégorie A, obtenu C ; attendu "
                             "drapeaux ['vip'], obtenu [")
    assert out[0].endswith(f"({path}:16)")
    assert out[-1] == "0 réussi(s), 1 en échec"
    assert main(["rules", "test", "--lang", "en", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL faux exprès: expected category A, got C; expected flags "
                             "['vip'], got [")
    assert out[-1] == "0 passed, 1 failed"
