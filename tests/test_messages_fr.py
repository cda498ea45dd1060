"""Messages people read come from the catalogs: real situations give French messages under
``use_language("fr")`` (and ``rules check --lang fr``, see also test_messages_fr_rules.py and
test_messages_fr_raised.py), no `Problem` / `UserError` in any module of core/ or plugins/ is
built from a bare string literal or f-string, nor an exception text that reaches people
(plugins/, core/manager.py, core/review/history.py), and every French entry keeps its
message's ``{fields}``."""

from __future__ import annotations

import ast
import datetime as dt
import string
from pathlib import Path

import openpyxl
import pytest

from babel.messages.pofile import read_po

from helpers import write_workbook
from potentiel.cli import env_language, main
from potentiel.fields import Catalogue
from potentiel.i18n import use_language
from potentiel.problems import UserError
from potentiel.validate import RawTable, validate

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "core" / "locale" / "fr" / "LC_MESSAGES" / "potentiel.po"
# Every module's messages go through the catalogs (`_()`): a message built from a bare
# literal anywhere under core/ or plugins/ fails test_no_bare_message_in_converted_modules.
MODULES = sorted(p for folder in ("core", "plugins") for p in (ROOT / folder).rglob("*.py"))
MESSAGE_CALLS = {"Problem", "UserError", "TypeProblem", "SyntaxProblem", "error", "warn",
                 "notice", "_err", "fail", "Hint"}


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


FRENCH_HEADERS = ["Code client", "Raison sociale", "Statut", "CA N", "CA N-1", "Potentiel"]
FRENCH_ROWS = [["C1", "Alpha", "client", 200000, 180000, 400000],
               ["C2", "Beta", "client", 50000, 52000, 120000],
               ["C3", "Gamma", "client", 2000, 2500, 5000]]
WHEN = dt.datetime(2026, 3, 2, 9, 30)


def test_a_category_override_naming_no_category_is_said_in_french(tmp_path):
    from potentiel.headless import score_file
    rows = [[*r, o] for r, o in zip(FRENCH_ROWS, ["Z", None, None])]
    book = write_workbook(tmp_path / "comptes.xlsx", [*FRENCH_HEADERS, "Catégorie forcée"], rows,
                          sheet="Comptes")
    result, _out = score_file(book, tmp_path / "out.xlsx", when=WHEN)
    bad = {p.where: p.message for p in result.warnings if p.kind == "bad-override"}
    assert list(bad) == ["Comptes!G2"]
    assert bad["Comptes!G2"].startswith(
        "« Z » n'est pas une catégorie (A, B, C, D, ou un libellé comme Stratégique) ; la "
        "catégorie forcée est ignorée et la catégorie calculée conservée : saisissez l'une des "
        "lettres, ou videz la cellule")


def test_a_category_changed_by_hand_is_said_in_french(tmp_path):
    from potentiel.headless import score_file
    book = write_workbook(tmp_path / "comptes.xlsx", FRENCH_HEADERS, FRENCH_ROWS,
                          sheet="Comptes")
    _first, out = score_file(book, tmp_path / "un.xlsx", when=WHEN)
    wb = openpyxl.load_workbook(out)
    ws = wb["Comptes"]
    headers = [c.value for c in ws[1]]
    col = headers.index("Catégorie") + 1
    label_col = headers.index("Libellé catégorie") + 1
    was, label = ws.cell(3, col).value, ws.cell(3, label_col).value
    now = "A" if was != "A" else "D"
    ws.cell(3, col).value = now
    wb.save(out)
    second, _out = score_file(out, tmp_path / "deux.xlsx", when=WHEN)
    edits = {p.where: p.message for p in second.warnings if p.kind == "hand-edit"}
    cell = f"Comptes!{openpyxl.utils.get_column_letter(col)}3"
    label_cell = f"{openpyxl.utils.get_column_letter(label_col)}3"
    assert list(edits) == [cell]
    assert edits[cell] == (
        f"Catégorie a été modifiée à la main de {was} en {now} (son libellé en {label_cell} "
        f"indique {label}) ; la catégorie de Potentiel est réécrite ; pour garder votre propre "
        "catégorie, utilisez une colonne « Catégorie forcée »")


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
    assert len(MODULES) > 100 and ROOT / "core" / "rules" / "tables.py" in MODULES
    bare = [hit for module in MODULES for hit in _bare_messages(module)]
    assert not bare, "messages not passed through _() (wrap them, add the French): " + \
        ", ".join(bare)


# Exceptions whose text reaches people: a criterion's ValueError becomes the run's "criterion
# … failed (…)" warning (core/scoring.py), a plugin's contract error a warning at its file
# (core/manager.py), a History table's ValueError the "not a history file" UserError.
RAISED = {"ValueError", "TypeError", "_ContractError"}
RAISING_MODULES = sorted([*(ROOT / "plugins").glob("*.py"), ROOT / "core" / "manager.py",
                          ROOT / "core" / "plan" / "tours.py",
                          ROOT / "core" / "review" / "history.py"])
# Raised texts that never reach a user, each with why (file name, start of the text).
DEVELOPER_ONLY = {
    # day_tours' tables are built by core/plan/sheets.py (every column, whole visits ≥ 0,
    # reps once each, the fixed calendar), never typed by a user: a caller's bug.
    ("tours.py", "day_tours: "),
}


def _message_start(arg: ast.expr) -> str | None:
    """The literal start of a message that is a bare literal or an f-string (None when it
    is something else, such as ``_(…)``)."""
    while isinstance(arg, ast.BinOp):
        arg = arg.left
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        first = arg.values[0] if arg.values else None
        return first.value if isinstance(first, ast.Constant) else ""
    return None


def _bare_raises(path: Path) -> list[str]:
    """``raise ValueError/TypeError/_ContractError(<literal or f-string>)`` not listed in
    DEVELOPER_ONLY, as ``file:line``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        exc = node.exc if isinstance(node, ast.Raise) else None
        if not isinstance(exc, ast.Call) or not exc.args:
            continue
        f = exc.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        start = _message_start(exc.args[0]) if name in RAISED else None
        if start is not None and not any(path.name == file and start.startswith(prefix)
                                         for file, prefix in DEVELOPER_ONLY):
            out.append(f"{path.name}:{node.lineno}")
    return out


def test_no_bare_raised_message_that_reaches_people():
    assert len(RAISING_MODULES) > 10 and ROOT / "plugins" / "_scales.py" in RAISING_MODULES
    bare = [hit for module in RAISING_MODULES for hit in _bare_raises(module)]
    assert not bare, "raised texts people read not passed through _() (wrap them, add the " \
        "French, or list them in DEVELOPER_ONLY with why): " + ", ".join(bare)


def test_the_ast_check_catches_a_bare_raised_message(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('raise ValueError(f"{x}: bad")\nraise _ContractError("plain")\n'
                     'raise TypeError("a " + b)\nraise ValueError(_("fine"))\n'
                     'raise ValueError(message.format(x=1))\nraise KeyError("not ours")\n')
    assert _bare_raises(probe) == ["probe.py:1", "probe.py:2", "probe.py:3"]
    tours = tmp_path / "tours.py"
    tours.write_text('raise ValueError(f"day_tours: {x}")\nraise ValueError(f"run {x}")\n')
    assert _bare_raises(tours) == ["tours.py:2"]


def _fields(text: str) -> list[tuple[str, str | None]] | None:
    """The ``{name!conversion}`` fields of a message (None when it is no format string)."""
    try:
        return sorted((name, conv) for _t, name, _spec, conv in string.Formatter().parse(text)
                      if name is not None)
    except ValueError:
        return None


def test_every_french_entry_keeps_the_fields_of_its_message():
    """A French text that drops, renames or adds a ``{field}`` fails in a French run only
    (KeyError, or a value left out): caught here, for every entry of the catalog."""
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="fr")
    wrong = []
    for entry in catalog:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        texts = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        want = _fields(ids[-1])
        wrong += [f"{ids[0]!r} → {text!r}" for text in texts
                  if text and want is not None and _fields(text) != want]
    assert not wrong, "\n".join(wrong)


def test_the_ast_check_catches_a_bare_message(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('raise UserError(f"{x} is wrong")\nProblem("plain", "A1")\n'
                     'UserError(_("fine"))\n')
    assert _bare_messages(probe) == ["probe.py:1", "probe.py:2"]
