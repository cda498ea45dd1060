"""Matrix, Summary, Log and Reading on a user's own workbook look finished (issue 11, point 4).

A plain workbook (no template) is scored by both front ends: the headless writer gives
the output sheets it creates widths, € and % formats, category colours, the fragility zone
in colour, a date-formatted Log time and a native chart on the Summary (checked part by
part: chart XML, drawing, relationships, content types); the xlwings path emits number
formats, fills and autofits that xlwings' VBA client implements (played by
tests/vba_client.py). A sheet that already existed (the template's, or one from an earlier
run) keeps its formats. The render test draws the scored workbook with LibreOffice.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import datetime as dt
import posixpath
import random
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from lxml import etree

from helpers import HEADERS, payload_from_workbook, write_workbook
from potentiel import sheet_styles
from potentiel.headless import score_file
from potentiel.report import LOG_HEADERS, SUMMARY_CATEGORY_ROW, SUMMARY_REP_ROW
from potentiel.sheet_styles import (CATEGORY_COLOURS, FRAGILE, FRAGILE_PLAIN, HEADER, MONEY,
                                    PERCENT)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "portfolio.xlsm"
WHEN = dt.datetime(2026, 3, 2, 9, 30)
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS = {"c": C, "m": MAIN, "r": REL, "p": PKG, "ct": CT}
# CT_Worksheet's children, in schema order
WORKSHEET_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
                   "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios",
                   "autoFilter", "sortState", "dataConsolidate", "customSheetViews",
                   "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
                   "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
                   "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
                   "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
                   "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
                   "extLst")


def user_rows(n: int = 24) -> list[list]:
    """A plain user's accounts: four reps, revenue and potential spread so that every
    category and the fragility zone have accounts."""
    rng = random.Random(11)
    rows = []
    for i in range(n):
        potential = rng.choice([40_000, 150_000, 600_000, 2_000_000])
        revenue = round(potential * rng.choice([0.02, 0.1, 0.3, 0.7]))
        rows.append([f"C{i + 1:03}", f"Client {i + 1}", "Client",
                     ["Claire", "Julien", "Karim", "Laura"][i % 4], revenue,
                     round(revenue * rng.uniform(0.7, 1.2)), potential, rng.choice([0, 0, 1]),
                     rng.randint(1, 5), rng.choice([20, 120, 400])])
    return rows


def load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl does not read every Excel extension
        return openpyxl.load_workbook(path)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def fill(cell) -> str | None:
    return ("#" + cell.fill.fgColor.rgb[-6:].upper()) if cell.fill.fill_type == "solid" else None


def sheet_parts(zf: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → worksheet part."""
    wb = etree.fromstring(zf["xl/workbook.xml"])
    rels = etree.fromstring(zf["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): _target("xl", r.get("Target"))
               for r in rels.iterfind("p:Relationship", NS)}
    return {s.get("name"): targets[s.get(f"{{{REL}}}id")]
            for s in wb.iterfind("m:sheets/m:sheet", NS)}


def _target(folder: str, target: str) -> str:
    """A relationship's target as a part name (absolute targets start at the root)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def rels_of(zf: dict[str, bytes], part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, target part) of one part."""
    folder, base = posixpath.split(part)
    name = posixpath.join(folder, "_rels", base + ".rels")
    if name not in zf:
        return {}
    root = etree.fromstring(zf[name])
    return {r.get("Id"): (r.get("Type").rsplit("/", 1)[-1], _target(folder, r.get("Target")))
            for r in root.iterfind("p:Relationship", NS)}


@pytest.fixture
def scored(tmp_path):
    src = write_workbook(tmp_path / "mine.xlsx", HEADERS, user_rows(), table=False)
    out = tmp_path / "mine-scored.xlsx"
    score_file(src, out, when=WHEN)
    return out


# --------------------------------------------------------------------------- headless


def test_matrix_has_formats_widths_and_the_fragility_zone_in_colour(scored):
    ws = load(scored)["Matrix"]
    assert ws["B4"].number_format == "#,##0"                # accounts grid
    assert ws["C10"].number_format == MONEY == ws["B16"].number_format  # revenue, potential
    for ref in ("B4", "B10", "B16"):                       # high potential × weak penetration
        assert fill(ws[ref]) == FRAGILE and ws[ref].font.b
        assert ws[ref].font.color.rgb[-6:] == "FFFFFF"
    assert fill(ws["C4"]) is None and fill(ws["A4"]) is not None  # row headers shaded
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws.column_dimensions["A"].width >= 20 and ws.column_dimensions["B"].width >= 18


def test_summary_has_money_percent_and_category_colours(scored):
    ws = load(scored)["Summary"]
    r = SUMMARY_CATEGORY_ROW + 1
    assert ws[f"A{r}"].value == "A" and ws[f"C{r}"].number_format == "#,##0"
    assert ws[f"D{r}"].number_format == MONEY == ws[f"E{r}"].number_format
    assert ws[f"F{r}"].number_format == PERCENT and isinstance(ws[f"F{r}"].value, float)
    for k, (colour, font) in enumerate(CATEGORY_COLOURS):
        assert fill(ws[f"A{r + k}"]) == fill(ws[f"B{r + k}"]) == colour
        assert ws[f"A{r + k}"].font.color.rgb[-6:] == font[1:]
    assert fill(ws[f"A{SUMMARY_CATEGORY_ROW}"]) == HEADER and ws[f"A{SUMMARY_CATEGORY_ROW}"].font.b
    rep = SUMMARY_REP_ROW
    headers = [c.value for c in ws[rep] if c.value is not None]
    revenue = headers.index("Revenue") + 1
    assert ws.cell(rep + 1, revenue).number_format == MONEY
    assert ws.cell(rep + 1, len(headers)).number_format == PERCENT
    assert all(ws.column_dimensions[x].width >= 15 for x in "BCDEFGHI")


def test_log_time_is_a_date_in_a_wide_column_and_stays_one_next_run(scored, tmp_path):
    ws = load(scored)["Log"]
    assert [c.value for c in ws[1]] == list(LOG_HEADERS)
    assert ws["A2"].is_date and ws["A2"].value == WHEN
    assert ws.column_dimensions["A"].width >= 16            # no more ###
    assert fill(ws["A1"]) == HEADER and ws["A1"].font.b
    again = tmp_path / "again.xlsx"
    score_file(scored, again, when=WHEN + dt.timedelta(days=1))
    ws = load(again)["Log"]
    assert ws["A3"].is_date and ws["A3"].value == WHEN + dt.timedelta(days=1)


def test_reading_sheet_has_widths(scored):
    ws = load(scored)["Reading"]
    assert ws.column_dimensions["B"].width >= 50 and ws["A1"].font.b


def test_summary_chart_is_a_native_chart_over_the_summary_cells(scored):
    zf = parts(scored)
    summary = sheet_parts(zf)["Summary"]
    sheet = etree.fromstring(zf[summary])
    drawing_el = sheet.find("m:drawing", NS)
    assert drawing_el is not None
    rels = rels_of(zf, summary)
    kind, drawing = rels[drawing_el.get(f"{{{REL}}}id")]
    assert kind == "drawing" and drawing in zf
    (kind, chart), = rels_of(zf, drawing).values()
    assert kind == "chart" and chart in zf
    frame = etree.fromstring(zf[drawing]).find(".//c:chart", NS)
    assert rels_of(zf, drawing)[frame.get(f"{{{REL}}}id")][1] == chart
    root = etree.fromstring(zf[chart])                       # well-formed
    bar = root.find("c:chart/c:plotArea/c:barChart", NS)
    assert bar.find("c:barDir", NS).get("val") == "col"
    (ser,) = bar.findall("c:ser", NS)
    first, last = SUMMARY_CATEGORY_ROW + 1, sheet_styles.CHART.last_row
    assert ser.findtext("c:val/c:numRef/c:f", namespaces=NS) == f"'Summary'!$F${first}:$F${last}"
    assert ser.findtext("c:cat/c:strRef/c:f", namespaces=NS) == f"'Summary'!$B${first}:$B${last}"
    assert ser.findtext("c:tx/c:strRef/c:f", namespaces=NS) == \
        f"'Summary'!$F${SUMMARY_CATEGORY_ROW}"                # "Share of revenue", translated
    colours = [p.find(".//{*}srgbClr").get("val") for p in ser.findall("c:dPt", NS)]
    assert colours[:4] == [c.lstrip("#") for c, _ in CATEGORY_COLOURS]
    ws = load(scored)["Summary"]
    assert [v.get("val") for v in root.iterfind(".//c:val//c:pt/c:v", NS)][:1] and \
        float(root.find(".//c:val//c:pt/c:v", NS).text) == ws[f"F{first}"].value
    assert len(ws._charts) == 1                              # openpyxl reads it as a chart


def test_the_package_stays_valid_for_excel(scored):
    zf = parts(scored)
    names = [n.casefold() for n in zf]
    assert len(names) == len(set(names))                     # unique, ignoring case
    types = etree.fromstring(zf["[Content_Types].xml"])
    overrides = [o.get("PartName").lstrip("/") for o in types.iterfind("ct:Override", NS)]
    assert len(overrides) == len({o.casefold() for o in overrides})  # one type per part
    assert all(o in zf for o in overrides)
    defaults = {d.get("Extension").lower() for d in types.iterfind("ct:Default", NS)}
    for name in zf:
        if not name.endswith("/") and name != "[Content_Types].xml":
            assert name in overrides or name.rsplit(".", 1)[-1].lower() in defaults, name
    by_type = {o.get("PartName").lstrip("/"): o.get("ContentType")
               for o in types.iterfind("ct:Override", NS)}
    charts = [n for n in zf if n.startswith("xl/charts/")]
    drawings = [n for n in zf if n.startswith("xl/drawings/drawing")]
    assert charts and all(by_type[n].endswith("drawingml.chart+xml") for n in charts)
    assert drawings and all(by_type[n].endswith(".drawing+xml") for n in drawings)
    for name in zf:                                          # every relationship resolves
        if name.endswith(".rels"):
            folder = posixpath.dirname(posixpath.dirname(name))
            for r in etree.fromstring(zf[name]).iterfind("p:Relationship", NS):
                if r.get("TargetMode") != "External":
                    assert _target(folder, r.get("Target")) in zf, (name, r.get("Target"))
    for part in sheet_parts(zf).values():                    # worksheet elements in order
        tags = [etree.QName(c).localname for c in etree.fromstring(zf[part])]
        assert tags == sorted(tags, key=WORKSHEET_ORDER.index), (part, tags)
    styles = etree.fromstring(zf["xl/styles.xml"])
    for tag in ("fonts", "fills", "cellXfs", "numFmts"):
        el = styles.find(f"m:{tag}", NS)
        assert int(el.get("count")) == len(el), tag
    fonts, fills = len(styles.find("m:fonts", NS)), len(styles.find("m:fills", NS))
    for xf in styles.iterfind("m:cellXfs/m:xf", NS):
        assert int(xf.get("fontId")) < fonts and int(xf.get("fillId")) < fills


def test_a_second_run_leaves_the_sheets_formats_and_chart_alone(scored, tmp_path):
    again = tmp_path / "again.xlsx"
    score_file(scored, again, when=WHEN)
    before, after = parts(scored), parts(again)
    assert [n for n in after if n.startswith("xl/charts/")] == \
        [n for n in before if n.startswith("xl/charts/")]
    for name in ("Matrix", "Summary", "Log"):
        part = sheet_parts(after)[name]
        cols = [etree.tostring(etree.fromstring(z[part]).find("m:cols", NS))
                for z in (before, after)]
        assert cols[0] == cols[1]
    xfs = [len(etree.fromstring(z["xl/styles.xml"]).find("m:cellXfs", NS))
           for z in (before, after)]
    assert xfs[0] == xfs[1]


def test_the_templates_own_formats_win(tmp_path):
    src = tmp_path / "t.xlsm"
    shutil.copy(TEMPLATE, src)
    out = tmp_path / "t-scored.xlsm"
    score_file(src, out, when=WHEN)
    before, after = parts(src), parts(out)
    assert [n for n in after if "chart" in n or "drawings/drawing" in n] == \
        [n for n in before if "chart" in n or "drawings/drawing" in n]
    for name in ("Matrix", "Summary", "Log", "Reading"):
        part = sheet_parts(after)[name]
        cols = [etree.tostring(etree.fromstring(z[part]).find("m:cols", NS))
                for z in (before, after)]
        assert cols[0] == cols[1], name
    ws = load(out)["Matrix"]
    assert ws["B4"].fill.fgColor.rgb[-6:] == FRAGILE[1:]     # the template's own


def test_a_users_summary_sheet_is_left_alone_and_the_chart_names_potentiels(tmp_path):
    src = write_workbook(tmp_path / "mine.xlsx", HEADERS, user_rows(8))
    wb = openpyxl.load_workbook(src)
    wb.create_sheet("Summary")["A1"] = "my own notes"
    wb.save(src)
    out = tmp_path / "out.xlsx"
    score_file(src, out, when=WHEN)
    zf = parts(out)
    names = sheet_parts(zf)
    own = next(n for n in names if n.startswith("Summary") and n != "Summary")
    assert etree.fromstring(zf[names["Summary"]]).find("m:drawing", NS) is None
    assert load(out)["Summary"]["A1"].value == "my own notes"
    chart = next(n for n in zf if n.startswith("xl/charts/"))
    quoted = "'" + own.replace("'", "''") + "'"
    assert etree.fromstring(zf[chart]).findtext(".//c:val//c:f", namespaces=NS).startswith(quoted)


def test_the_palette_is_the_templates():
    from test_template import build_module
    module = build_module()
    assert [c for c, _ in CATEGORY_COLOURS] == [module.COLOURS[k][0] for k in "ABCD"]
    assert [f for _, f in CATEGORY_COLOURS] == [module.COLOURS[k][1] for k in "ABCD"]
    assert (MONEY, FRAGILE) == (module.MONEY, module.FRAGILE)


# --------------------------------------------------------------------------- render


def render(workbook: Path, out: Path) -> list[Path]:
    from test_template import render as lo_render
    return lo_render(workbook, out)


@pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftoppm") is None)
                    and not os.environ.get("POTENTIEL_REQUIRE_RENDER"),
                    reason="LibreOffice (soffice) and pdftoppm are not installed; CI installs "
                           "them and sets POTENTIEL_REQUIRE_RENDER, so there it fails instead")
def test_render_a_scored_user_workbook(scored, tmp_path):
    """A user's workbook scored headless, drawn by LibreOffice: one PNG per page
    (POTENTIEL_RENDER_DIR keeps them, as ``make render`` does, for a person to look at)."""
    out = Path(os.environ.get("POTENTIEL_RENDER_DIR") or tmp_path / "render")
    pages = render(scored, out)
    assert len(pages) >= 4
    assert sum(p.stat().st_size > 15000 for p in pages) >= 3
    # The Summary page shows the chart right of its tables: the bar of category A, in A's
    # colour, where no cell of the tables is (the right half of the page). Pages are read
    # back as PPM, a format numpy reads as is.
    pdf = out / (scored.stem + ".pdf")
    subprocess.run(["pdftoppm", "-r", "60", str(pdf), str(tmp_path / "ppm")],
                   check=True, capture_output=True, timeout=300)
    colour = np.array([int(CATEGORY_COLOURS[0][0][k:k + 2], 16) for k in (1, 3, 5)])
    counts = []
    for page in sorted(tmp_path.glob("ppm*.ppm")):
        pixels = read_ppm(page)
        right = pixels[:, pixels.shape[1] // 2:].astype(int)
        counts.append(int((np.abs(right - colour).sum(axis=2) < 12).sum()))
    assert max(counts) > 300, counts


def read_ppm(path: Path):
    """A binary PPM (P6, 8 bits) as an array of rows × columns × RGB."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255"
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data[pos + 1:pos + 1 + width * height * 3],
                         dtype=np.uint8).reshape(height, width, 3)


# --------------------------------------------------------------------------- xlwings


@pytest.fixture(scope="module")
def pro():
    import xlwings as xw
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set "
                    "before xlwings is first imported")


def remote_actions(path: Path) -> list[dict]:
    import xlwings as xw
    from potentiel.excel import Options, recompute
    book = xw.Book(json=copy.deepcopy(payload_from_workbook(path)))
    try:
        outcome = recompute(book, Options(remote=True, when=WHEN))
        assert outcome.ok, outcome.message
        return book.json()["actions"]
    finally:
        book.close()


def test_xlwings_formats_the_sheets_it_adds_with_actions_the_vba_client_runs(tmp_path, pro):
    from vba_client import VBA_FUNCS, apply_actions
    src = write_workbook(tmp_path / "mine.xlsx", HEADERS, user_rows())
    actions = remote_actions(src)
    funcs = {a["func"] for a in actions}
    assert {"setNumberFormat", "setRangeColor", "setAutofit"} <= funcs
    assert funcs <= VBA_FUNCS, funcs - VBA_FUNCS
    assert all(a["args"] == ["columns"] for a in actions if a["func"] == "setAutofit")
    out = tmp_path / "played.xlsx"
    assert apply_actions(src, actions, out) == []
    wb = load(out)
    matrix, summary, log = wb["Matrix"], wb["Summary"], wb["Log"]
    assert matrix["B4"].number_format == "#,##0" and matrix["C10"].number_format == MONEY
    assert fill(matrix["B4"]) == FRAGILE_PLAIN == fill(matrix["B16"])
    r = SUMMARY_CATEGORY_ROW + 1
    assert summary[f"D{r}"].number_format == MONEY and summary[f"F{r}"].number_format == PERCENT
    assert fill(summary[f"A{r}"]) == sheet_styles.CATEGORY_PLAIN_FILLS[0]
    assert log["A2"].is_date and log["A2"].value == WHEN
    assert log.column_dimensions["A"].width >= 16          # autofitted to the date
    assert summary.column_dimensions["D"].width > 10


def test_xlwings_leaves_the_templates_formats_alone(tmp_path, pro):
    actions = remote_actions(TEMPLATE)
    assert not {"setNumberFormat", "setRangeColor", "setAutofit"} & {a["func"] for a in actions}
