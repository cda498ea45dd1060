"""A French workbook reads and writes in French; a workbook switched from one language to
the other is rescored in place, its own columns re-headed and sheets renamed, nothing left
behind (headless and through xlwings' remote engine)."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from helpers import payload_from_workbook
from potentiel.headless import score_file, sheet_renamed
from potentiel.report import console_summary, top_accounts
from potentiel.sample import HEADERS, make_accounts

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "portfolio.xlsm"
WHEN = dt.datetime(2026, 3, 2, 9, 30)
ENGLISH_SHEETS = {"Matrix", "Summary", "Log", "Reading"}
FRENCH_SHEETS = {"Matrice", "Synthèse", "Journal", "Lecture"}
FRENCH_LABELS = {"Stratégique", "Important", "Moyen", "Petit",  # clients' bands
                 "Cible prioritaire", "Cible", "À surveiller", "Plus tard"}  # prospects' quotas


def user_workbook(path: Path, settings: list[tuple[str, object]] = (), n: int = 40,
                  headers=HEADERS) -> Path:
    """A plain user workbook (no table, no template): Comptes and Paramètres sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Comptes"
    ws.append(list(headers))
    for row in make_accounts(n):
        ws.append(list(row))
    if settings:
        st = wb.create_sheet("Paramètres")
        st.append(["Paramètre", "Valeur"])
        for label, value in settings:
            st.append([label, value])
    wb.save(path)
    return path


def set_setting(path: Path, label: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    st = wb["Paramètres"] if "Paramètres" in wb.sheetnames else wb.create_sheet("Paramètres")
    for row in st.iter_rows(min_row=1):
        if row[0].value == label:
            row[1].value = value
            break
    else:
        st.append([label, value])
    wb.save(path)


def header_row(ws, row: int = 1) -> list:
    return [c.value for c in ws[row] if c.value is not None]


def test_a_french_workbook_end_to_end(tmp_path):
    path = user_workbook(tmp_path / "fr.xlsx", [("Poids : CA", 60), ("Poids : tendance", 0)])
    result, out = score_file(path, when=WHEN)
    assert result.language == "fr"
    assert result.config.weights["revenue"] == 60 and result.config.weights["trend"] == 0
    wb = openpyxl.load_workbook(out)
    assert FRENCH_SHEETS <= set(wb.sheetnames) and not ENGLISH_SHEETS & set(wb.sheetnames)
    ws = wb["Comptes"]
    heads = header_row(ws)
    outputs = heads[len(HEADERS):]
    assert outputs[:3] == ["Score", "Catégorie", "Libellé catégorie"]
    for h in ("Score : CA", "Score : tendance", "Potentiel retenu", "Pénétration", "Matrice",
              "Top 80 %", "Alertes", "Pourquoi", "Confiance", "À collecter"):
        assert h in outputs, h
    assert not any(h in outputs for h in ("Category", "Why", "To collect", "Score: revenue"))
    col = {h: j for j, h in enumerate(heads)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    labels = {r[col["Libellé catégorie"]] for r in rows}
    assert labels <= FRENCH_LABELS | {"Données insuffisantes", "Exclu du classement"} and \
        labels & FRENCH_LABELS
    whys = " ".join(r[col["Pourquoi"]] or "" for r in rows)
    assert "point fort : " in whys and "strongest" not in whys
    matrix = {r[col["Matrice"]] for r in rows} - {None, ""}
    assert matrix and all(m.startswith("Potentiel ") for m in matrix)
    assert wb["Matrice"]["A1"].value == "Matrice du portefeuille : potentiel × pénétration"
    assert wb["Synthèse"]["A3"].value == "Catégorie" and wb["Synthèse"]["B4"].value == "Stratégique"
    assert header_row(wb["Journal"])[:3] == ["Heure", "Fichier de règles", "Moteur"]
    assert wb["Lecture"]["A1"].value == "Comment les comptes ont été lus"
    text = console_summary(result)
    assert "comptes notés avec les règles" in text and "Stratégique" in text
    top = top_accounts(result, 3)  # one list per profile of the default rules
    assert top.startswith("Profil client :\nLes 3 meilleurs comptes") and "Profil prospect :" in top


def test_english_headers_write_english(tmp_path):
    english = ("Account ID", "Name", "Status", "Salesperson", "Sector", "Revenue N",
               "Revenue N-1", "Revenue N-2", "Potential revenue", "Headcount")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(list(english))
    for row in make_accounts(10):
        ws.append(list(row[:len(english)]))
    wb.save(tmp_path / "en.xlsx")
    result, out = score_file(tmp_path / "en.xlsx", when=WHEN)
    assert result.language == "en"
    wb = openpyxl.load_workbook(out)
    assert ENGLISH_SHEETS <= set(wb.sheetnames)
    assert "Category label" in header_row(wb["Accounts"])


@pytest.mark.parametrize("value, lang", [("English", "en"), ("en", "en"), ("Anglais", "en")])
def test_the_language_setting_wins_over_the_headers(tmp_path, value, lang):
    path = user_workbook(tmp_path / "w.xlsx", [("Langue", value)])
    result, out = score_file(path, when=WHEN)
    assert result.language == lang
    wb = openpyxl.load_workbook(out)
    assert ENGLISH_SHEETS <= set(wb.sheetnames)
    heads = header_row(wb["Comptes"])
    assert "Category label" in heads and "Libellé catégorie" not in heads
    why = [r[heads.index("Why")] for r in wb["Comptes"].iter_rows(min_row=2, values_only=True)]
    assert any(w and "strongest: " in w for w in why)


def test_a_language_the_setting_does_not_know_is_an_error(tmp_path):
    from potentiel.problems import UserError
    path = user_workbook(tmp_path / "w.xlsx", [("Language", "klingon")])
    with pytest.raises(UserError, match="klingon"):
        score_file(path, when=WHEN)


def _outputs_and_sheets(path: Path) -> tuple[list, list, dict]:
    wb = openpyxl.load_workbook(path)
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    accounts = wb["Comptes"] if "Comptes" in wb.sheetnames else wb["Accounts"]
    first = 1 if accounts.title == "Comptes" else 5
    return header_row(accounts, first), wb.sheetnames, names


def test_a_plain_workbook_switched_language_is_rescored_in_place(tmp_path):
    path = user_workbook(tmp_path / "w.xlsx", [("Langue", "Français")])
    score_file(path, when=WHEN)
    fr_heads, fr_sheets, _ = _outputs_and_sheets(path)
    assert "Libellé catégorie" in fr_heads and FRENCH_SHEETS <= set(fr_sheets)
    set_setting(path, "Langue", "English")
    score_file(path, when=WHEN)
    en_heads, en_sheets, names = _outputs_and_sheets(path)
    assert len(en_heads) == len(fr_heads)  # the same columns, re-headed: none added
    assert "Category label" in en_heads and "Libellé catégorie" not in en_heads
    assert ENGLISH_SHEETS <= set(en_sheets) and not FRENCH_SHEETS & set(en_sheets)
    assert len(en_sheets) == len(fr_sheets)
    assert names["_Potentiel.sheet.summary"].startswith("Summary!") or \
        names["_Potentiel.sheet.summary"].startswith("'Summary'!")
    log = openpyxl.load_workbook(path)["Log"]
    assert header_row(log)[0] == "Time" and log.max_row == 3  # both runs' rows kept
    set_setting(path, "Langue", "Français")
    score_file(path, when=WHEN)
    back, sheets, _ = _outputs_and_sheets(path)
    assert back == fr_heads and sorted(sheets) == sorted(fr_sheets)


def _chart_formulas(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [f for n in z.namelist() if n.startswith("xl/charts/chart")
                for f in re.findall(r"<c:f>(.*?)</c:f>", z.read(n).decode())]


def _set_language_headless(path: Path, value: str) -> None:
    """Type the Language value into the template's Settings with Potentiel's own writer."""
    from potentiel.headless import Workbook
    wb = Workbook(path)
    try:
        ref = next(s for s in wb.package.sheets if s.name == "Settings")
        row = next(i for i, r in enumerate(wb.values(ref), start=1) if r and r[0] == "Language")
        wb.sheet(ref).write_row(row, {2: value})
        wb.finish()
        tmp = path.with_suffix(".tmp.xlsm")
        wb.package.write(str(tmp))
    finally:
        wb.package.close()
    shutil.move(tmp, path)


def test_the_template_switched_to_french_and_back_headless(tmp_path):
    path = tmp_path / "t.xlsm"
    shutil.copy(TEMPLATE, path)
    score_file(path, when=WHEN)
    en_heads, en_sheets, _ = _outputs_and_sheets(path)
    assert any("Summary!" in f for f in _chart_formulas(path))
    _set_language_headless(path, "Français")
    result, _ = score_file(path, when=WHEN)
    assert result.language == "fr"
    heads, sheets, names = _outputs_and_sheets(path)
    assert len(heads) == len(en_heads) and "Libellé catégorie" in heads
    assert FRENCH_SHEETS | {"Explication"} <= set(sheets) and \
        not (ENGLISH_SHEETS | {"Explain"}) & set(sheets)
    assert len(sheets) == len(en_sheets)
    formulas = _chart_formulas(path)
    assert formulas and all("Summary" not in f for f in formulas)
    assert any(f.startswith("'Synthèse'!") for f in formulas)
    assert names["_Potentiel.sheet.summary"].startswith("'Synthèse'!")
    wb = openpyxl.load_workbook(path)
    table = wb["Accounts"].tables["Accounts"]
    assert [c.name for c in table.tableColumns][-len(heads) + len(HEADERS):] == \
        heads[len(HEADERS):]  # the table's column names follow the headers
    _set_language_headless(path, "English")
    score_file(path, when=WHEN)
    back, sheets, _ = _outputs_and_sheets(path)
    assert back == en_heads and sorted(sheets) == sorted(en_sheets)
    assert any("Summary!" in f or "'Summary'!" in f for f in _chart_formulas(path))


def test_the_template_switched_through_xlwings(tmp_path):
    pytest.importorskip("xlwings")
    import xlwings as xw

    from potentiel.excel import Options, recompute
    from vba_client import apply_actions

    def run(path: Path, target: Path):
        book = xw.Book(json=copy.deepcopy(payload_from_workbook(path)))
        try:
            outcome = recompute(book, Options(remote=True, when=WHEN))
            actions = book.json()["actions"]
        finally:
            book.close()
        assert apply_actions(path, actions, target) == []
        return outcome, actions

    english = tmp_path / "en.xlsm"
    run(TEMPLATE, english)
    en_heads, en_sheets, _ = _outputs_and_sheets(english)
    french_in = tmp_path / "fr-in.xlsm"
    wb_actions = [{"func": "setValues", "sheet_position": 1, "start_row": _language_row() - 1,
                   "start_column": 1, "row_count": 1, "column_count": 1,
                   "values": [["Français"]], "args": []}]
    apply_actions(english, wb_actions, french_in)  # … with Langue set to Français
    french = tmp_path / "fr.xlsm"
    outcome, actions = run(french_in, french)
    assert outcome.ok and outcome.message.startswith("200 comptes recalculés")
    assert any(a["func"] == "setSheetName" for a in actions)
    assert not any(a["func"] == "addSheet" for a in actions)  # renamed, not added
    heads, sheets, names = _outputs_and_sheets(french)
    assert len(heads) == len(en_heads) and "Libellé catégorie" in heads
    assert FRENCH_SHEETS <= set(sheets) and not ENGLISH_SHEETS & set(sheets)
    assert len(sheets) == len(en_sheets)
    assert names["_Potentiel.sheet.summary"].lstrip("=").startswith("'Synthèse'!")
    assert all("Summary" not in f for f in _chart_formulas(french))
    english_again = tmp_path / "en-again.xlsm"
    back_in = tmp_path / "back-in.xlsm"
    apply_actions(french, [{**wb_actions[0], "values": [["English"]]}], back_in)
    run(back_in, english_again)
    back, sheets, _ = _outputs_and_sheets(english_again)
    assert back == en_heads and sorted(sheets) == sorted(en_sheets)


def _language_row() -> int:
    wb = openpyxl.load_workbook(TEMPLATE, read_only=True)
    try:
        return next(i for i, r in enumerate(wb["Settings"].iter_rows(values_only=True), start=1)
                    if r and r[0] == "Language")
    finally:
        wb.close()


def test_sheet_references_follow_a_rename():
    assert sheet_renamed("Summary!$B$4:$B$9", "Summary", "Synthèse") == "'Synthèse'!$B$4:$B$9"
    assert sheet_renamed("'Summary'!$A$1", "Summary", "Synthèse") == "'Synthèse'!$A$1"
    assert sheet_renamed("MySummary!A1+Summary!A1", "Summary", "Log") == "MySummary!A1+'Log'!A1"
    assert sheet_renamed('"Summary!A1"&Summary!A1', "Summary", "X") == '"Summary!A1"&\'X\'!A1'
    # a 3-D reference, the sheet at either end, quoted or not (Excel quotes the pair)
    assert sheet_renamed("SUM(Notes:Summary!B4)", "Summary", "Synthèse") == \
        "SUM('Notes:Synthèse'!B4)"
    assert sheet_renamed("SUM(Summary:Notes!B4)", "Summary", "Synthèse") == \
        "SUM('Synthèse:Notes'!B4)"
    assert sheet_renamed("SUM('My notes:Summary'!B4)", "Summary", "L'été") == \
        "SUM('My notes:L''été'!B4)"
    assert sheet_renamed("SUM(Notes:Other!B4)+Summary!A1", "Summary", "S") == \
        "SUM(Notes:Other!B4)+'S'!A1"
    # a range between two references, in any case; what names another sheet, workbook
    # or column is left as it is
    assert sheet_renamed("SUM(Synthèse!D4:SYNTHÈSE!D7)", "Synthèse", "Summary") == \
        "SUM('Summary'!D4:'Summary'!D7)"
    for kept in ["'L''Historique'!A1", "'[1]Notes:Summary'!A1", "[1]Summary!A1",
                 "Table1[Summary!]", "'a\"b'!A1", 'INDIRECT("Summary!A1")', "A1:Other!B2"]:
        assert sheet_renamed(kept, "Historique" if "Histo" in kept else "Summary", "X") == kept
    from potentiel.headless import _may_name
    assert _may_name(b"<f>Synth&#232;se!D4</f>", "Synthèse")  # (as openpyxl writes it)
    assert _may_name("<f>synthèse!D4</f>".encode(), "Synthèse")
    assert not _may_name(b"<f>A1</f>", "Log")


def test_the_french_quick_start_keeps_in_step_with_the_english_docs():
    """docs/fr/demarrage.md names every command of the README's command-line section and of
    docs/excel.md's set-up, and every Settings row by its French label."""
    from potentiel.config import SETTINGS
    fr = " ".join((ROOT / "docs" / "fr" / "demarrage.md").read_text(encoding="utf-8").split())
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    excel = (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")
    section = readme.split("## Recompute a workbook from the command line")[1].split(" ## ")[0]
    commands = set(re.findall(r"potentiel (\w+)", section + excel.split("## Formulas")[0]))
    assert {"score", "inspect", "plugins", "new"} <= commands
    for command in commands | {"serve"}:
        assert f"potentiel {command}" in fr, command
    for option in re.findall(r"`(--?\w+)", section):
        assert option in fr, option
    for setting in SETTINGS:
        assert f"`{setting.french}`" in fr, setting.french
        assert f"`{setting.key}`" in readme, setting.key
    assert "docs/fr/demarrage.md" in readme and "fr/demarrage.md" in excel
