"""Messages people read come from the catalogs: real situations give French messages under
``use_language("fr")`` (and ``rules check --lang fr``), and no `Problem` / `UserError`
in the converted modules is built from a bare string literal or f-string."""

from __future__ import annotations

import ast
from pathlib import Path

import openpyxl
import pytest

from potentiel.cli import env_language, main
from potentiel.fields import Catalogue
from potentiel.i18n import use_language
from potentiel.problems import UserError
from potentiel.validate import RawTable, validate

ROOT = Path(__file__).resolve().parents[1]
# The modules whose messages go through the catalogs (`_()`); a new message built there
# from a bare literal fails test_no_bare_message_in_converted_modules.
CONVERTED = ["core/validate.py", "core/numbers.py", "core/config.py", "core/headless.py",
             "core/xlsxpackage.py", "core/xlsxsheet.py", "core/savefile.py", "core/cli.py",
             "core/scoring.py", "core/manager.py",
             *(f"core/sources/{m}.py" for m in ("csv", "parquet", "filekind", "invoices",
                                                "geocode", "headers", "totals", "ownership")),
             *(f"core/rules/{m}.py" for m in ("lint", "syntax", "typecheck", "sections",
                                              "build", "files", "testcases"))]
MESSAGE_CALLS = {"Problem", "UserError", "TypeProblem", "SyntaxProblem", "error", "warn",
                 "notice"}


def _accounts() -> RawTable:
    return RawTable(["Code client", "Raison sociale", "CA N", "Effectif"],
                    [["C1", "Alpha", 12000, "abc"], ["C2", "Beta", 800, 10],
                     [None, "Total", 12800, None]])


def test_a_bad_number_cell_and_a_total_row_are_said_in_french():
    with use_language("fr"):
        got = validate(_accounts(), Catalogue.build())
    by_where = {p.where: p.message for p in got.warnings}
    assert by_where["Accounts!D2"].startswith("« abc » n'est pas un nombre")
    assert "laissé vide" in by_where["Accounts!D2"]
    total = next(p for p in got.warnings if p.kind == "total-row")
    assert total.message.startswith("1 ligne(s) de total écartée(s) du score, du Top 80 %")
    assert "(ligne 4)" in total.message


def test_the_same_run_in_english_keeps_the_english_keys():
    got = validate(_accounts(), Catalogue.build())
    by_where = {p.where: p.message for p in got.warnings}
    assert by_where["Accounts!D2"] == ('"abc" is not a number (Headcount); left blank: type a '
                                       "number or leave the cell empty")
    assert any(p.message.startswith("1 total row(s) left out of scoring") for p in got.warnings)


def test_a_missing_accounts_sheet_is_said_in_french(tmp_path, capsys):
    wb = openpyxl.Workbook()
    wb.active.title = "Feuil1"
    wb.active.append(["x"])
    path = tmp_path / "sans-comptes.xlsx"
    wb.save(path)
    with use_language("fr"):
        assert main(["score", str(path), "-o", str(tmp_path / "out.xlsx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("erreur : pas de feuille des comptes (feuilles présentes : Feuil1)")
    assert "nommez la feuille de vos comptes Comptes, Clients ou Accounts" in err
    from potentiel.headless import score_file
    with use_language("fr"), pytest.raises(UserError) as exc:
        score_file(path, tmp_path / "out.xlsx")
    assert "pas de feuille des comptes" in str(exc.value)


def test_rules_check_lang_fr_names_an_unknown_field_in_french(tmp_path, capsys):
    src = ROOT / "rules" / "clients" / "office-supplies-co.yaml"
    lines = src.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if "distance_km" in line and "when:" in line)
    lines[k] = lines[k].replace("distance_km", "distnce_km")
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n")
    assert main(["rules", "check", "--lang", "fr", str(broken)]) == 1
    captured = capsys.readouterr()
    assert 'champ inconnu « distnce_km » (vouliez-vous dire distance_km ?)' in captured.out
    assert "erreur(s) dans" in captured.err
    assert main(["rules", "check", "--lang", "en", str(broken)]) == 1
    assert 'unknown field "distnce_km" (did you mean distance_km?)' in capsys.readouterr().out


def test_the_terminal_language_comes_from_lc_all_then_lang():
    assert env_language({"LANG": "fr_FR.UTF-8"}) == "fr"
    assert env_language({"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}) == "en"
    assert env_language({"LC_ALL": "fr_CA.UTF-8"}) == "fr"
    assert env_language({}) == "en"


def _bare_messages(path: Path) -> list[str]:
    """Calls in MESSAGE_CALLS whose message (first argument) is a string literal or an
    f-string rather than ``_(…)``, as ``file:line``."""
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name not in MESSAGE_CALLS:
            continue
        arg = node.args[0]
        while isinstance(arg, ast.BinOp):  # "…" + more: the left part is the message
            arg = arg.left
        if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant)
                                              and isinstance(arg.value, str) and arg.value):
            out.append(f"{path.name}:{node.lineno}")
    return out


def test_no_bare_message_in_converted_modules():
    bare = [hit for module in CONVERTED for hit in _bare_messages(ROOT / module)]
    assert not bare, "messages not passed through _() (wrap them, add the French): " + \
        ", ".join(bare)


def test_the_ast_check_catches_a_bare_message(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('raise UserError(f"{x} is wrong")\nProblem("plain", "A1")\n'
                     'UserError(_("fine"))\n')
    assert _bare_messages(probe) == ["probe.py:1", "probe.py:2"]
