"""Messages raised as exceptions and shown to people in French runs: a criterion's
parameter set wrong in Settings or in a rule file (the ``ValueError`` of plugins/ becomes
the run's "criterion … failed" warning), a plugin that breaks its contract (core/manager.py,
a warning of the run at the plugin's file), a History file the review cannot read
(core/review/history.py, a `UserError` naming the file)."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from helpers import write_workbook
from potentiel.headless import score_file
from potentiel.i18n import use_language
from potentiel.manager import load_plugins
from potentiel.problems import UserError
from potentiel.review.history import read_file

HEADERS = ["Code client", "Raison sociale", "Statut", "CA N", "CA N-1", "Potentiel",
           "Croissance %", "Distance (km)", "Concurrents"]
ROWS = [["C1", "Alpha", "client", 200000, 180000, 400000, 12, 30, 1],
        ["C2", "Beta", "client", 50000, 52000, 120000, -3, 300, 0],
        ["C3", "Gamma", "client", 2000, 2500, 5000, 4, 700, 2]]
WHEN = dt.datetime(2026, 3, 2, 9, 30)
FAILED_END = (") ; ses notes restent vides et les poids reposent sur les autres critères")


def _failed(result, criterion: str) -> str:
    """The one warning saying ``criterion`` failed."""
    said = [p.message for p in result.warnings
            if p.message.startswith(f"le critère {criterion} a échoué")]
    assert len(said) == 1, [p.message for p in result.warnings]
    return said[0]


def test_a_growth_band_out_of_order_in_settings_is_said_in_french(tmp_path):
    book = write_workbook(tmp_path / "comptes.xlsx", HEADERS, ROWS, sheet="Comptes",
                          settings=[("Param: growth.low", 30), ("Param: growth.high", 10)])
    with use_language("fr"):
        result, _out = score_file(book, tmp_path / "out.xlsx", when=WHEN)
    assert _failed(result, "growth") == (
        "le critère growth a échoué (ValueError: growth : high (10) doit être supérieur à "
        "low (30)" + FAILED_END)
    assert result.scores.failed["growth"].startswith("ValueError: growth : high (10)")


def test_a_parameter_that_is_not_a_number_in_settings_is_said_in_french(tmp_path):
    book = write_workbook(tmp_path / "comptes.xlsx", HEADERS, ROWS, sheet="Comptes",
                          settings=[("Param: revenue.low", "beaucoup")])
    with use_language("fr"):
        result, _out = score_file(book, tmp_path / "out.xlsx", when=WHEN)
    assert _failed(result, "revenue") == (
        "le critère revenue a échoué (ValueError: revenue : le paramètre low doit être un "
        "nombre, pas 'beaucoup'" + FAILED_END)


def _scored_in_french_with(tmp_path: Path, params: str):
    """A French workbook scored with a rule file extending the default with ``params``."""
    rules = tmp_path / "client.yaml"
    rules.write_text("extends: default\nparams:\n  " + params + "\n")
    book = write_workbook(tmp_path / "comptes.xlsx", HEADERS, ROWS, sheet="Comptes")
    with use_language("fr"):
        return score_file(book, tmp_path / "out.xlsx", rules=str(rules), when=WHEN)[0]


def test_a_distance_scale_not_increasing_in_a_rule_file_is_said_in_french(tmp_path):
    result = _scored_in_french_with(tmp_path, "accessibility: {near_km: 600, far_km: 50}")
    assert _failed(result, "accessibility") == (
        "le critère accessibility a échoué (ValueError: accessibility : far_km (50) doit être "
        "supérieur à near_km (600)" + FAILED_END)


def test_a_sector_outlook_that_is_not_points_in_a_rule_file_is_said_in_french(tmp_path):
    result = _scored_in_french_with(tmp_path, "growth: {sector_outlook: {Santé: beaucoup}}")
    assert _failed(result, "growth") == (
        "le critère growth a échoué (ValueError: growth : sector_outlook pour 'Santé' doit "
        "être un nombre de points, pas 'beaucoup'" + FAILED_END)


def _plugin(tmp_path: Path, body: str) -> tuple[Path, Path]:
    folder = tmp_path / "plugins"
    folder.mkdir()
    path = folder / "maison.py"
    path.write_text(textwrap.dedent(body))
    return folder, path


def test_a_plugin_breaking_its_contract_is_said_in_french_at_its_file(tmp_path):
    folder, path = _plugin(tmp_path, '''
        import pandas as pd
        from potentiel import Criterion, hookimpl

        class Fidelite(Criterion):
            name = "fidelite"
            def score(self, accounts, params):
                return pd.Series(50.0, index=accounts.index)

        class Doublon(Fidelite):
            name = "revenue"

        @hookimpl
        def register_criteria(register):
            register(Fidelite)
            register(Doublon())

        @hookimpl
        def register_output_sheets(register):
            register("Comptes", lambda result: [])
    ''')
    with use_language("fr"):
        problems = load_plugins([folder], entry_points=False).problems
    said = {p.message: p.where for p in problems}
    assert said == {
        "plugin maison : register() a reçu la classe Fidelite ; passez une instance : "
        "register(Fidelite())": str(path),
        "plugin maison : le critère 'revenue' est déjà enregistré (origine : intégré à "
        "Potentiel) ; celui-ci est ignoré (renommez-le, ou mettez override = True pour "
        "remplacer un critère intégré)": str(path),
        "plugin maison : la feuille de résultats 'Comptes' écraserait la feuille du classeur "
        "qui porte ce nom ; choisissez un autre nom ; ignorée": str(path)}


def test_a_plugin_contract_error_in_a_french_run_is_a_warning_of_the_run(tmp_path):
    folder, path = _plugin(tmp_path, '''
        from potentiel import hookimpl

        @hookimpl
        def register_output_sheets(register):
            register("Bilan?", lambda result: [])
    ''')
    book = write_workbook(tmp_path / "comptes.xlsx", HEADERS, ROWS, sheet="Comptes")
    with use_language("fr"):
        result, _out = score_file(book, tmp_path / "out.xlsx", plugin_dirs=[str(folder)],
                                  when=WHEN)
    said = [p for p in result.warnings if p.message.startswith("plugin maison")]
    assert [(p.message, p.where) for p in said] == [(
        "plugin maison : la feuille de résultats 'Bilan?' n'a pas un nom de feuille Excel "
        "valide (1 à 31 caractères, aucun de [ ] : * ? / \\, pas de ' à l'une ou l'autre "
        "extrémité) ; ignorée", str(path))]


HISTORY_COLUMNS = ["run", "date", "account", "score", "category", "profile", "flags", "rules",
                   "left", "rules_file", "model"]


@pytest.mark.parametrize("rows, why", [
    ([["1", "", "", "", "", "", "", "", "", "", ""]], "l'exécution 1 n'a pas de date"),
    ([["2", "", "C1", "50", "B", "", "", "", "", "", ""],
      ["2", "2026-03-02T09:30:00", "", "", "", "", "", "", "", "", ""]],
     "une ligne de compte de l'exécution 2 précède la ligne de l'exécution"),
])
def test_a_history_file_out_of_shape_is_said_in_french(tmp_path, rows, why):
    from potentiel.review.history import STORED
    assert list(STORED) == HISTORY_COLUMNS
    path = tmp_path / "historique.csv"
    path.write_text("\n".join(",".join(r) for r in [HISTORY_COLUMNS, *rows]) + "\n")
    with use_language("fr"), pytest.raises(UserError) as exc:
        read_file(path)
    assert str(exc.value).startswith(
        f"{path} : pas un fichier d'historique que Potentiel sait lire ({why})")
