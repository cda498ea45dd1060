"""Build workbooks/portfolio.xlsm, the Excel front end's template. Never edit the .xlsm.

Run ``python workbooks/build_template.py`` (``make template``). The workbook carries every
style Potentiel's outputs need, so that the front ends write values only: category colours
(conditional formatting), number formats, the Matrix's fragility zone, the Summary chart
drawn over the cells `potentiel.report` fills, the Explain layout. Its VBA project is the
one of xlwings' standalone quickstart (RunPython, and the ready macro ``SampleCall`` that
runs ``main()`` of the Python module named like the workbook: ``portfolio.py``). The
build is reproducible: seeded sample data, fixed document dates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

import openpyxl
import xlsxwriter
import xlsxwriter.vml
import xlwings

from potentiel.config import CRITERION_FRENCH, SETTINGS
from potentiel.excel import ACTION_NAME, ACTIONS, STATUS_NAME, action_label
from potentiel.fields import (NEAREST_REP_COLUMNS, OUTPUT_COLUMNS_HEAD, OUTPUT_COLUMNS_TAIL,
                              SCORE_PREFIX)
from potentiel.report import (EXPLAIN_CRITERIA_HEADER, EXPLAIN_CRITERIA_ROW, EXPLAIN_FACTS,
                              EXPLAIN_FACTS_ROW, EXPLAIN_MAX_CRITERIA, EXPLAIN_MAX_RULES,
                              EXPLAIN_RULES_ROW, EXPLAIN_SHEET, LOG_HEADERS, LOG_SHEET,
                              MATRIX_GRIDS, MATRIX_SHEET, PEN_ORDER, POT_ORDER, READING_SHEET,
                              SUMMARY_CATEGORY_ROW, SUMMARY_MAX_CATEGORIES, SUMMARY_REP_ROW,
                              SUMMARY_SHEET)
from potentiel.sample import HEADERS, make_accounts, reps
from potentiel.sheetnames import CHANGES_SHEET, HISTORY_SHEET
from potentiel.sources.ownership import COL, SHEET, key_of, mark_name, refers_to

HERE = Path(__file__).resolve().parent
CREATED = dt.datetime(2026, 1, 1)
MACRO = "SampleCall"  # the standalone quickstart's macro: RunPython "import <book>; <book>.main()"
HEADER_ROW = 5        # the Accounts table's header row: rows 1-3 hold the button strip
HELP_WIDTH = 58  # characters: the Settings sheet's help columns

# The nine built-in criteria, in DESIGN's order: their score columns are in the template.
CRITERIA = ("revenue", "trend", "potential", "penetration", "solvency", "growth",
            "prescription", "relationship", "accessibility")
OUTPUTS = (*OUTPUT_COLUMNS_HEAD, *(SCORE_PREFIX + c for c in CRITERIA), *OUTPUT_COLUMNS_TAIL,
           *NEAREST_REP_COLUMNS)
# Category colours: fill, font. The Summary chart's bars use the same fills.
COLOURS = {"A": ("#1B5E20", "#FFFFFF"), "B": ("#66BB6A", "#0B2E13"),
           "C": ("#FFD54F", "#3E2C00"), "D": ("#CFD8DC", "#263238")}
NO_CATEGORY = "#90A4AE"
MONEY = '#,##0 "€"'
FRAGILE = "#C62828"

FRENCH_HELP = {
    "Language": "English ou Français : la langue des colonnes, feuilles et messages écrits. "
                "Vide : la langue des en-têtes de Comptes.",
    "Fiscal year ends": "Mois de fin d'exercice (juin, June ou 6). Vide : décembre (années "
                        "civiles).",
    "Revenue up to": "Une date : le CA N est alors celui des 12 mois jusqu'à cette date.",
    "Add accounts from invoice lines": "oui : les codes clients des factures absents des "
                                       "comptes sont ajoutés comme clients.",
    "Country": "Pays des codes postaux et villes quand la ligne n'en dit rien. Vide : FR.",
    "Detour factor": "Km par la route ≈ km à vol d'oiseau × ce coefficient (environ 1,25). "
                     "Vide : 1.",
    "Rules file": "Fichier de règles de l'entreprise (dossier rules). Vide : rules/default.yaml.",
    "Plugin folder": "Dossier de plugins de critères (.py). Vide : aucun.",
    "Engine": "durable (par défaut) ou compiled : deux moteurs aux résultats identiques.",
    "Category mode": "bands : catégorie selon le score. quotas : la meilleure part des comptes "
                     "reçoit A, etc.",
    "Potential high from": "Potentiel (€) à partir duquel un compte est à fort potentiel. "
                           "Vide : tiers supérieur.",
    "Potential low below": "Potentiel (€) en dessous duquel un compte est à faible potentiel. "
                           "Vide : tiers inférieur.",
    "Penetration strong from": "Part du potentiel déjà gagnée à partir de laquelle la "
                               "pénétration est forte.",
    "Penetration weak below": "Part du potentiel en dessous de laquelle la pénétration est "
                              "faible.",
    "Top revenue share": "Les comptes qui font cette part du CA sont marqués Top 80%.",
    "Visits a day": "Visites par jour d'un commercial (capacité) ; une colonne Visites par jour "
                    "dans Commerciaux donne celle de chacun. Vide : 5.",
    "Field days a year": "Jours de terrain par an d'un commercial ; une colonne Jours terrain "
                         "dans Commerciaux donne ceux de chacun. Vide : 200.",
    "Visit length (min)": "Minutes d'une visite standard : une journée en compte Visites par "
                          "jour. Durée propre d'une catégorie : une ligne Durée de visite A. "
                          "Vide : 60.",
    "Revenue target": "Objectif de CA de l'entreprise pour l'année, réparti entre les "
                      "commerciaux selon le potentiel de leur portefeuille (feuille Objectifs). "
                      "Vide : pas d'objectifs.",
    "Objectives by last year's revenue": "Part de l'objectif répartie selon le CA N au lieu du "
                                         "potentiel (0 % à 100 %). Vide : 0 %, selon le "
                                         "potentiel seul (juste part).",
    "Reach (km)": "Les prospects à cette distance ou moins de la base d'un commercial sont à "
                  "sa portée (feuille Territoire). Vide : 200 km.",
    "History file": "Garder l'historique des exécutions dans ce fichier à côté du classeur "
                    "(.parquet ou .csv) au lieu de sa feuille masquée Historique. Vide : dans "
                    "le classeur.",
    "History runs": "Combien d'exécutions l'historique garde (une par jour : la dernière du "
                    "jour) ; les plus anciennes partent d'abord. Vide : 60.",
    "Changes since": "La feuille Changements compare chaque exécution avec celle-ci : un numéro "
                     "d'exécution ou une date. Vide : l'exécution précédente.",
    "Last year's file": "Le classeur noté l'an dernier (ou un fichier d'instantané, CSV ou "
                        "Parquet), à côté de celui-ci ou un chemin, pour l'action "
                        "Rétrospective. Plusieurs : séparez-les par ;, le plus ancien d'abord. "
                        "Vide : l'Historique de ce classeur, son exécution d'environ un an "
                        "avant la dernière.",
}
# Visits a year per category (potentiel.plan.visits.DEFAULT_VISITS), shown in Settings.
PLAN_VISITS = (("", "A", 12), ("", "B", 6), ("", "C", 4), ("", "D", 1),
               ("prospects ", "A", 4), ("prospects ", "B", 2), ("prospects ", "C", 1),
               ("prospects ", "D", 0))


def _sibling(name: str):
    """A module next to this script (build_sample's weights and bands), by path."""
    spec = importlib.util.spec_from_file_location(f"_potentiel_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _xlwings_file(name: str) -> Path:
    return Path(xlwings.__file__).resolve().parent / name


def vba_project() -> bytes:
    """The VBA project of xlwings' standalone quickstart (RunPython without the add-in)."""
    with zipfile.ZipFile(_xlwings_file("quickstart_standalone.xlsm")) as z:
        return z.read("xl/vbaProject.bin")


def xlwings_conf_rows() -> list[tuple]:
    """The quickstart's ``_xlwings.conf`` sheet: interpreter paths, PYTHONPATH, ..."""
    wb = openpyxl.load_workbook(_xlwings_file("quickstart_standalone.xlsm"), read_only=True)
    try:
        return [tuple(r) for r in wb["_xlwings.conf"].iter_rows(values_only=True)]
    finally:
        wb.close()


@contextlib.contextmanager
def printable_buttons():
    """XlsxWriter marks form buttons non-printing (``<x:PrintObject>False``); a printed or
    rendered page should show them, and an absent PrintObject means printable."""
    vml = xlsxwriter.vml.Vml
    original = vml._write_print_object  # fails loudly if XlsxWriter renames it
    vml._write_print_object = lambda self: None
    try:
        yield
    finally:
        vml._write_print_object = original


class Formats:
    def __init__(self, wb):
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 14, "font_color": "#1F3864"})
        self.subtitle = add({"italic": True, "font_color": "#595959"})
        self.label = add({"bold": True, "font_color": "#1F3864", "align": "right"})
        self.action = add({"bg_color": "#FFF2CC", "border": 1, "border_color": "#BF9000",
                           "bold": True})
        self.status = add({"font_color": "#1F3864", "italic": True})
        self.header = add({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF",
                           "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.out_header = add({"bold": True, "bg_color": "#00695C", "font_color": "#FFFFFF",
                               "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.money = add({"num_format": MONEY})
        self.int = add({"num_format": "#,##0"})
        self.one = add({"num_format": "0.0"})
        self.score = add({"num_format": "0"})
        self.pct = add({"num_format": "0%"})
        self.pct1 = add({"num_format": "0.0%"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.bold = add({"bold": True})
        self.cell = add({"border": 1, "border_color": "#BFBFBF"})
        self.cell_int = add({"border": 1, "border_color": "#BFBFBF", "num_format": "#,##0",
                             "align": "center"})
        self.cell_money = add({"border": 1, "border_color": "#BFBFBF", "num_format": MONEY,
                               "align": "center"})
        self.fragile_int = add({"border": 2, "border_color": FRAGILE, "bg_color": FRAGILE,
                                "font_color": "#FFFFFF", "bold": True, "num_format": "#,##0",
                                "align": "center"})
        self.fragile_money = add({"border": 2, "border_color": FRAGILE, "bg_color": FRAGILE,
                                  "font_color": "#FFFFFF", "bold": True, "num_format": MONEY,
                                  "align": "center"})
        self.grid_head = add({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                              "border_color": "#BFBFBF", "align": "center", "text_wrap": True})
        self.grid_row = add({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                             "border_color": "#BFBFBF"})
        self.note = add({"italic": True, "font_color": FRAGILE, "bold": True})
        self.datetime = add({"num_format": "yyyy-mm-dd hh:mm:ss", "valign": "top",
                             "align": "left"})
        self.fact = add({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                         "border_color": "#BFBFBF"})
        self.fact_value = add({"border": 1, "border_color": "#BFBFBF", "align": "left",
                               "text_wrap": True, "valign": "top"})
        self.boolean = add({"num_format": '"TRUE";"TRUE";"FALSE"', "align": "center"})
        self.fact_num = add({"border": 1, "border_color": "#BFBFBF", "align": "left",
                             "num_format": "0.0"})
        self.fact_pct = add({"border": 1, "border_color": "#BFBFBF", "align": "left",
                             "num_format": "0%"})
        self.fact_money = add({"border": 1, "border_color": "#BFBFBF", "align": "left",
                               "num_format": MONEY})
        self.cats = {k: add({"bg_color": f, "font_color": c, "bold": True})
                     for k, (f, c) in COLOURS.items()}
        self.error = add({"bg_color": "#FFCDD2", "font_color": "#B71C1C", "bold": True})
        self.ok = add({"font_color": "#1B5E20"})
        self.top = add({"bold": True, "font_color": "#0D47A1", "bg_color": "#E3F2FD"})
        self.flag = add({"font_color": "#B71C1C"})
        self.fragile_text = add({"font_color": FRAGILE, "bold": True})
        self.top_bold = add({"bold": True, "valign": "top"})
        self.top_pct = add({"num_format": "0%", "valign": "top", "align": "left"})
        self.top_left = add({"valign": "top", "align": "left"})


def button_strip(wb, ws, f: Formats, title: str) -> None:
    """Title, the action cell (drop-down), the status cell and the Recompute button."""
    ws.set_row(0, 22)
    ws.set_row(1, 22)
    ws.write(0, 0, title, f.title)
    ws.write(1, 0, "Action", f.label)
    ws.write(1, 1, action_label("recompute"), f.action)
    ws.data_validation(1, 1, 1, 1, {
        "validate": "list", "source": [action_label(k) for k in ACTIONS],
        "input_title": "Action · Action",
        "input_message": "What the Recompute button runs. Explain, Territory: select an "
                         "account's row first. / Ce que lance le bouton."})
    ws.write(2, 0, "Status · État", f.label)
    ws.write(2, 1, "Press Recompute to score the accounts. · Cliquez sur Recompute.", f.status)
    ws.conditional_format(2, 1, 2, 1, {"type": "text", "criteria": "begins with",
                                       "value": "Error", "format": f.error})
    quoted = f"'{ws.name}'" if " " in ws.name else ws.name
    wb.define_name(f"{quoted}!{ACTION_NAME}", f"={quoted}!$B$2")
    wb.define_name(f"{quoted}!{STATUS_NAME}", f"={quoted}!$B$3")
    ws.insert_button(0, 2, {"macro": MACRO, "caption": "Recompute", "width": 180, "height": 40,
                            "x_offset": 6, "y_offset": 2})


def accounts_sheet(wb, f: Formats, n_accounts: int = 200) -> None:
    ws = wb.add_worksheet("Accounts")
    button_strip(wb, ws, f, "Potentiel · Accounts / Comptes")
    rows = make_accounts(n_accounts) if n_accounts else [[None] * len(HEADERS)]
    first, last = HEADER_ROW - 1, HEADER_ROW - 1 + len(rows)
    money_in = {"CA N", "CA N-1", "CA N-2", "Potentiel", "Dépense par salarié"}
    formats = {"Score": f.one, "Potential": f.money, "Penetration": f.pct, "Confidence": f.pct,
               "Nearest rep km": f.int, "Distance (km)": f.int, "Top 80%": f.boolean}
    columns = []
    for h in HEADERS:
        col = {"header": h, "header_format": f.header}
        if h in money_in:
            col["format"] = f.money
        columns.append(col)
    for h in OUTPUTS:
        col = {"header": h, "header_format": f.out_header}
        if h in formats:
            col["format"] = formats[h]
        elif h.startswith(SCORE_PREFIX):
            col["format"] = f.score
        columns.append(col)
    data = [list(r) + [None] * len(OUTPUTS) for r in rows]
    ws.add_table(first, 0, last, len(columns) - 1, {
        "name": "Accounts", "style": "Table Style Medium 2", "columns": columns, "data": data})
    ws.set_row(first, 45)
    widths = {"Code client": 11, "Raison sociale": 28, "Statut": 10, "Commercial": 15,
              "Secteur": 15, "Category": 9, "Category label": 15, "Matrix": 46,
              "Flags": 16, "Why": 70, "To collect": 34, "Nearest rep": 15}
    for j, h in enumerate((*HEADERS, *OUTPUTS)):
        fmt = next((c.get("format") for c in columns if c["header"] == h), None)
        width = widths.get(h, 12 if h in money_in or h in formats or h.startswith(SCORE_PREFIX)
                           else 10)
        ws.set_column(j, j, width, fmt)
    col = {h: len(HEADERS) + i for i, h in enumerate(OUTPUTS)}
    cat = xlsxwriter.utility.xl_col_to_name(col["Category"])
    body = (first + 1, 1048575)
    for letter in COLOURS:
        ws.conditional_format(body[0], col["Category"], body[1], col["Category label"], {
            "type": "formula", "criteria": f'=${cat}{first + 2}="{letter}"',
            "format": f.cats[letter]})
    ws.conditional_format(body[0], col["Score"], body[1], col["Score"], {
        "type": "data_bar", "min_type": "num", "min_value": 0, "max_type": "num",
        "max_value": 100, "bar_color": "#8EA9DB", "bar_solid": True})
    ws.conditional_format(body[0], col["Top 80%"], body[1], col["Top 80%"], {
        "type": "cell", "criteria": "==", "value": "TRUE", "format": f.top})
    ws.conditional_format(body[0], col["Flags"], body[1], col["Flags"], {
        "type": "no_blanks", "format": f.flag})
    ws.conditional_format(body[0], col["Matrix"], body[1], col["Matrix"], {
        "type": "text", "criteria": "containing", "value": "fragilit",  # fragility, fragilité
        "format": f.fragile_text})
    ws.freeze_panes(HEADER_ROW, 2)
    # Printed across then down, id and name repeated: readable pages, not one tiny one.
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_print_scale(70)
    ws.print_across()
    ws.repeat_rows(first)
    ws.repeat_columns(0, 1)
    ws.set_margins(left=0.3, right=0.3, top=0.4, bottom=0.4)
    ws.activate()


def _lines(text: str, width: int) -> int:
    """Lines a wrapped cell needs (Excel does not size rows itself when the file opens)."""
    return max(1, -(-len(text) // int(width * 1.1)))


def settings_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet("Settings")
    heights: dict[int, float] = {}

    def help_row(r: int, english: str, french: str) -> None:
        ws.write(r, 2, english, f.wrap)
        ws.write(r, 4, french, f.wrap)
        lines = max(_lines(english, HELP_WIDTH), _lines(french, HELP_WIDTH))
        if lines > 1:
            heights[r] = 15 * lines
    button_strip(wb, ws, f, "Potentiel · Settings / Paramètres")
    sample = _sibling("build_sample")
    r = HEADER_ROW - 1
    ws.write_row(r, 0, ["Setting", "Value", "Help", "Paramètre", "Aide"], f.header)
    r += 1
    for s in SETTINGS:
        ws.write(r, 0, s.key, f.top_bold)
        if s.example is not None:
            ws.write(r, 1, s.example, f.top_pct if s.kind == "share" else f.top_left)
        else:
            ws.write_blank(r, 1, None, f.top_pct if s.kind == "share" else f.top_left)
        ws.write(r, 3, s.french, f.top_left)
        help_row(r, s.help, FRENCH_HELP.get(s.key, ""))
        if s.kind in ("engine", "mode", "language"):
            choices = {"engine": ["durable", "compiled"], "mode": ["bands", "quotas"],
                       "language": ["English", "Français"]}[s.kind]
            ws.data_validation(r, 1, r, 1, {"validate": "list", "source": choices})
        r += 1
    for name, w in sample.WEIGHTS.items():
        ws.write(r, 0, f"Weight: {name}", f.top_bold)
        ws.write(r, 1, w, f.top_left)
        ws.write(r, 3, f"Poids : {CRITERION_FRENCH.get(name, name)}", f.top_left)
        help_row(r, f"Weight of the {name} criterion; 0 ignores it. Weights are "
                    "re-normalised, they need not add up to 100.",
                 f"Poids du critère {name} ; 0 l'ignore. Pas besoin que la somme fasse 100.")
        r += 1
    for letter, low, label in sample.BANDS:
        ws.write(r, 0, f"Band {letter}", f.bold)
        ws.write(r, 1, low)
        ws.write(r, 3, f"Seuil {letter}")
        help_row(r, f"Minimum score (0–100) for category {letter}.",
                 f"Score minimum (0–100) de la catégorie {letter}.")
        ws.write(r + 1, 0, f"Label {letter}", f.bold)
        ws.write(r + 1, 1, label)
        ws.write(r + 1, 3, f"Libellé {letter}")
        help_row(r + 1, f"Name of category {letter}.", f"Nom de la catégorie {letter}.")
        r += 2
    for group, letter, visits in PLAN_VISITS:
        who = "prospects" if group else "clients"
        ws.write(r, 0, f"Visits a year {group}{letter}", f.bold)
        ws.write(r, 1, visits)
        ws.write(r, 3, f"Visites par an {group}{letter}")
        help_row(r, f"Visits a year to a {who[:-1]} of category {letter} (Plan sheet).",
                 f"Visites par an à un {who[:-1]} de catégorie {letter} (feuille Plan).")
        r += 1
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, HELP_WIDTH)
    ws.set_column(3, 3, 30)
    ws.set_column(4, 4, HELP_WIDTH)
    for row, height in heights.items():
        ws.set_row(row, height)
    ws.freeze_panes(HEADER_ROW, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def salespeople_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet("Salespeople")
    people = reps()
    ws.add_table(0, 0, len(people), 2, {
        "name": "Salespeople", "style": "Table Style Light 9",
        "columns": [{"header": "Nom"}, {"header": "Latitude"}, {"header": "Longitude"}],
        "data": people})
    ws.set_column(0, 0, 20)
    ws.set_column(1, 2, 12)


def matrix_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet(MATRIX_SHEET)
    ws.write(0, 0, "Portfolio matrix: potential × penetration", f.title)
    ws.write(1, 0, "High potential with weak penetration is the fragility zone.", f.subtitle)
    for title, row in MATRIX_GRIDS:
        r = row - 1
        ws.set_row(r, 30)
        ws.write(r, 0, title, f.grid_row)
        for j, pn in enumerate(PEN_ORDER):
            ws.write(r, 1 + j, f"{pn.capitalize()} penetration", f.grid_head)
        for i, pt in enumerate(POT_ORDER):
            ws.write(r + 1 + i, 0, f"{pt.capitalize()} potential", f.grid_row)
            for j, pn in enumerate(PEN_ORDER):
                fragile = pt == "high" and pn == "weak"
                if title == "Accounts":
                    fmt = f.fragile_int if fragile else f.cell_int
                else:
                    fmt = f.fragile_money if fragile else f.cell_money
                ws.write_blank(r + 1 + i, 1 + j, None, fmt)
        ws.write(r + 1, 4, "◀ fragility zone: visit first", f.note)
    ws.write(20, 0, "Accounts not in the matrix (potential or penetration unknown)", f.subtitle)
    ws.write_blank(20, 3, None, f.cell_int)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 3, 17)
    ws.set_column(4, 4, 28)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)


def summary_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    ws.write(0, 0, "Summary by category and by salesperson", f.title)
    head = ["Category", "Label", "Accounts", "Revenue", "Potential", "Share of revenue",
            "In Top 80%"]
    r0 = SUMMARY_CATEGORY_ROW - 1
    ws.write_row(r0, 0, head, f.header)
    formats = [f.cell, f.cell, f.cell_int, f.cell_money, f.cell_money,
               wb.add_format({"border": 1, "border_color": "#BFBFBF", "num_format": "0.0%",
                              "align": "center"}), f.cell_int]
    rows = SUMMARY_MAX_CATEGORIES + 1  # categories plus "no category"
    for i in range(rows):
        for j, fmt in enumerate(formats):
            ws.write_blank(r0 + 1 + i, j, None, fmt)
    a = f"$A{r0 + 2}"
    for letter in COLOURS:
        ws.conditional_format(r0 + 1, 0, r0 + rows, 1, {
            "type": "formula", "criteria": f'={a}="{letter}"', "format": f.cats[letter]})
    rep_head = ["Salesperson", "Accounts", *COLOURS, "Revenue", "Potential", "Share of revenue"]
    ws.write_row(SUMMARY_REP_ROW - 1, 0, rep_head, f.header)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 2, 12, f.int)
    ws.set_column(3, 5, 12, f.int)
    ws.set_column(6, 7, 14, f.money)
    ws.set_column(8, 8, 12, f.pct1)
    ws.set_row(r0, 30)
    ws.set_row(SUMMARY_REP_ROW - 1, 30)
    # The chart reads the category rows report.summary_blocks fills (fixed height).
    first, last = SUMMARY_CATEGORY_ROW + 1, SUMMARY_CATEGORY_ROW + SUMMARY_MAX_CATEGORIES
    name = SUMMARY_SHEET
    chart = wb.add_chart({"type": "column"})
    points = [{"fill": {"color": COLOURS[k][0]}} for k in COLOURS]
    points += [{"fill": {"color": NO_CATEGORY}}] * (SUMMARY_MAX_CATEGORIES - len(points))
    chart.add_series({"name": "Revenue", "categories": [name, first - 1, 1, last - 1, 1],
                      "values": [name, first - 1, 3, last - 1, 3], "points": points,
                      "fill": {"color": "#607D8B"},  # the legend's swatch; bars use points
                      "gap": 60, "data_labels": {"value": True, "num_format": '#,##0,"k€"',
                                                 "font": {"size": 8}}})
    line = wb.add_chart({"type": "line"})
    line.add_series({"name": "Accounts", "categories": [name, first - 1, 1, last - 1, 1],
                     "values": [name, first - 1, 2, last - 1, 2], "y2_axis": True,
                     "line": {"color": "#1F3864", "width": 2.25},
                     "marker": {"type": "circle", "size": 7,
                                "fill": {"color": "#1F3864"}, "border": {"color": "#1F3864"}},
                     "data_labels": {"value": True, "position": "above",
                                     "font": {"size": 8, "color": "#1F3864", "bold": True}}})
    chart.combine(line)
    chart.set_title({"name": "Revenue and accounts per category",
                     "name_font": {"size": 12, "bold": True}})
    chart.set_y_axis({"name": "Revenue", "num_format": '#,##0,"k€"',
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
    line.set_y2_axis({"name": "Accounts", "num_format": "0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 330})
    chart.show_blanks_as("gap")
    ws.insert_chart(0, 9, chart, {"x_offset": 10, "y_offset": 4})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def explain_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet(EXPLAIN_SHEET)
    ws.write(0, 0, "Explain: why an account has its category", f.title)
    ws.write(1, 0, "Select a cell in an account's row on Accounts, then run Explain.", f.subtitle)
    for i, fact in enumerate(EXPLAIN_FACTS):
        ws.write(EXPLAIN_FACTS_ROW - 1 + i, 0, fact, f.fact)
        fmt = {"Score": f.fact_num, "Confidence": f.fact_pct, "Potential": f.fact_money,
               "Penetration": f.fact_pct}.get(fact)
        ws.write_blank(EXPLAIN_FACTS_ROW - 1 + i, 1, None, fmt or f.fact_value)
    cat_row = EXPLAIN_FACTS_ROW - 1 + EXPLAIN_FACTS.index("Category")
    for letter in COLOURS:
        ws.conditional_format(cat_row, 1, cat_row + 1, 1, {
            "type": "formula", "criteria": f'=$B${cat_row + 1}="{letter}"',
            "format": f.cats[letter]})
    r = EXPLAIN_CRITERIA_ROW - 1
    ws.write_row(r, 0, list(EXPLAIN_CRITERIA_HEADER), f.header)
    ws.set_row(r, 30)
    col_formats = [None, None, f.one, f.one, f.pct, f.one, f.wrap]
    for i in range(EXPLAIN_MAX_CRITERIA):
        for j, fmt in enumerate(col_formats):
            if fmt is not None:
                ws.write_blank(r + 1 + i, j, None, fmt)
    ws.conditional_format(r + 1, 5, r + EXPLAIN_MAX_CRITERIA, 5, {
        "type": "data_bar", "min_type": "num", "min_value": 0, "max_type": "num",
        "max_value": 50, "bar_color": "#8EA9DB", "bar_solid": True})
    ws.write_row(EXPLAIN_RULES_ROW - 1, 0, ["Rule", "Why"], f.header)
    for i in range(EXPLAIN_MAX_RULES):
        ws.write_blank(EXPLAIN_RULES_ROW + i, 1, None, f.wrap)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 5, 11)
    ws.set_column(6, 6, 60)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def log_sheet(wb, f: Formats) -> None:
    ws = wb.add_worksheet(LOG_SHEET)
    ws.write_row(0, 0, list(LOG_HEADERS), f.header)
    widths = {"Time": 19, "Rules file": 24, "Engine": 10, "Counts": 30, "Messages": 120}
    formats = {"Time": f.datetime, "Messages": f.wrap}  # long messages wrap, not overflow
    for j, h in enumerate(LOG_HEADERS):
        ws.set_column(j, j, widths.get(h, 10), formats.get(h, f.top_left))
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def reading_sheet(wb, f: Formats) -> None:
    # Filled at each run: how the accounts were read, every warning with its cell.
    ws = wb.add_worksheet(READING_SHEET)
    ws.write(0, 0, "How the accounts were read (filled at each run)", f.header)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 4, 14)


def review_sheets(wb, f: Formats) -> None:
    # Filled at each run (potentiel.review.history): what changed since the run before, and
    # the hidden history of runs it is read from.
    ws = wb.add_worksheet(CHANGES_SHEET)
    ws.write(0, 0, "What changed since the run before (filled at each run)", f.header)
    ws.set_column(0, 1, 16)
    ws.set_column(2, 6, 12)
    ws.set_column(7, 7, 60)
    ws = wb.add_worksheet(HISTORY_SHEET)
    ws.write(0, 0, "History of runs, kept by Potentiel (filled at each run; do not edit)")
    ws.hide()


def ownership_marks(wb) -> None:
    """The markers that make the template's output columns and sheets Potentiel's (see
    potentiel.sources.ownership): a column or sheet is Potentiel's only if so marked."""
    for j, h in enumerate(OUTPUTS):
        wb.define_name(mark_name(COL, key_of(h)),
                       refers_to("Accounts", HEADER_ROW, len(HEADERS) + j + 1))
    for name in (MATRIX_SHEET, SUMMARY_SHEET, EXPLAIN_SHEET, LOG_SHEET, READING_SHEET,
                 CHANGES_SHEET, HISTORY_SHEET):
        wb.define_name(mark_name(SHEET, key_of(name)), refers_to(name, 1, 1))


def xlwings_conf_sheet(wb, f: Formats) -> None:
    # Inactive until renamed "xlwings.conf": where a user puts the Python interpreter path.
    ws = wb.add_worksheet("_xlwings.conf")
    for i, row in enumerate(xlwings_conf_rows()):
        for j, v in enumerate(row):
            if v is not None:
                ws.write(i, j, v)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    ws.set_landscape()


def explicit_chart_xml(xml: str) -> str:
    """Spell out what XlsxWriter leaves to defaults, so every reader draws the same chart:
    data labels show the value only, and the accounts line is straight (LibreOffice
    otherwise adds series and category names to the labels, smooths the line and draws
    blank cells as zeros)."""
    xml = xml.replace('<c:showVal val="1"/>',
                      '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
                      '<c:showSerName val="0"/><c:showPercent val="0"/>'
                      '<c:showBubbleSize val="0"/>')
    # Blank category rows (fewer categories than the chart's slots) are gaps, not zeros.
    xml = xml.replace('<c:plotVisOnly val="1"/>',
                      '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>')
    start, end = xml.index("<c:lineChart>"), xml.index("</c:lineChart>")
    line = xml[start:end].replace("</c:val></c:ser>", '</c:val><c:smooth val="0"/></c:ser>')
    return xml[:start] + line + xml[end:]


def rewrite_parts(path: Path, prefix: str, change) -> None:
    """Rewrite some parts of the built file in place, keeping every entry's metadata (the
    fixed dates XlsxWriter uses), so the build stays byte-for-byte reproducible."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            if info.filename.startswith(prefix):
                data = change(data.decode("utf-8")).encode("utf-8")
            z.writestr(info, data, compress_type=info.compress_type)


def build(path: Path, n_accounts: int = 200) -> Path:
    """The template at ``path``: with ``n_accounts`` sample accounts, or with one empty
    account row (``portfolio-empty.xlsm``, what ``potentiel new --empty`` copies)."""
    path = Path(path)
    with printable_buttons():
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                             "strings_to_urls": False})
        wb.set_properties({"title": "Potentiel portfolio", "author": "Potentiel",
                           "comments": "Built by workbooks/build_template.py; do not edit by hand.",
                           "created": CREATED})
        wb.set_vba_name("ThisWorkbook")
        wb.add_vba_project(io.BytesIO(vba_project()), is_stream=True)
        f = Formats(wb)
        accounts_sheet(wb, f, n_accounts)
        settings_sheet(wb, f)
        salespeople_sheet(wb, f)
        matrix_sheet(wb, f)
        summary_sheet(wb, f)
        explain_sheet(wb, f)
        log_sheet(wb, f)
        reading_sheet(wb, f)
        review_sheets(wb, f)
        xlwings_conf_sheet(wb, f)
        ownership_marks(wb)
        wb.close()
    rewrite_parts(path, "xl/charts/", explicit_chart_xml)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "portfolio.xlsm"
    print(build(out))
    if len(sys.argv) == 1:
        print(build(HERE / "portfolio-empty.xlsm", n_accounts=0))
