"""The shipped template workbooks/portfolio.xlsm: rebuilt and compared, VBA, buttons, styles.

The template is the one binary fixture, and it is itself rebuilt here by its script and
compared part by part. Its VBA project is read with oletools' olevba, its buttons from
the sheets' VML drawings. The render test turns the scored template into PNG pages with
LibreOffice (skipped only when LibreOffice is not installed; ``make render`` keeps them).
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import importlib.util
import posixpath
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from potentiel.config import SETTINGS
from potentiel.excel import ACTION_NAME, ACTIONS, STATUS_NAME, action_label
from potentiel.headless import score_file
from potentiel.report import LOG_HEADERS, MATRIX_GRIDS, SUMMARY_CATEGORY_ROW
from potentiel.sample import HEADERS, make_accounts, reps

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "portfolio.xlsm"
SHEETS = ["Accounts", "Settings", "Salespeople", "Matrix", "Summary", "Explain", "Log",
          "Reading", "Changes", "History", "_xlwings.conf"]


def build_module():
    spec = importlib.util.spec_from_file_location("build_template",
                                                  ROOT / "workbooks" / "build_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def load(path=TEMPLATE, **kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl does not read every Excel extension
        return openpyxl.load_workbook(path, **kw)


def test_the_build_is_reproducible_and_matches_the_shipped_template(tmp_path):
    build = build_module()
    a, b = build.build(tmp_path / "a.xlsm"), build.build(tmp_path / "b.xlsm")
    assert a.read_bytes() == b.read_bytes(), "two builds differ: the build is not reproducible"
    shipped, rebuilt = parts(TEMPLATE), parts(a)
    assert sorted(shipped) == sorted(rebuilt)
    stale = [n for n in shipped if shipped[n] != rebuilt[n]]
    assert not stale, f"workbooks/portfolio.xlsm is out of date ({stale}): run make template"
    empty = build.build(tmp_path / "e.xlsm", n_accounts=0)
    shipped = parts(ROOT / "workbooks" / "portfolio-empty.xlsm")
    stale = [n for n, data in parts(empty).items() if shipped.get(n) != data]
    assert not stale, f"workbooks/portfolio-empty.xlsm is out of date ({stale}): make template"


def test_sheets_tables_and_sample_data():
    wb = load()
    assert wb.sheetnames == SHEETS
    ws = wb["Accounts"]
    table = ws.tables["Accounts"]
    build = build_module()
    assert table.ref == f"A5:{openpyxl.utils.get_column_letter(len(HEADERS) + len(build.OUTPUTS))}205"
    names = [c.name for c in table.tableColumns]
    assert names == [*HEADERS, *build.OUTPUTS]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=6, max_row=205,
                                                       max_col=len(HEADERS))]
    assert rows == make_accounts(200)
    outputs = [c.value for r in ws.iter_rows(min_row=6, max_row=205, min_col=len(HEADERS) + 1)
               for c in r]
    assert set(outputs) == {None}, "output columns ship empty"
    people = wb["Salespeople"]
    assert [[c.value for c in r] for r in people.iter_rows(min_row=2)] == reps()
    assert [c.value for c in wb["Log"][1]] == list(LOG_HEADERS)


def test_settings_show_every_setting_with_help_in_both_languages():
    ws = load()["Settings"]
    grid = [[c.value for c in r] for r in ws.iter_rows()]
    header = grid.index(["Setting", "Value", "Help", "Paramètre", "Aide"])
    rows = {r[0]: r for r in grid[header + 1:] if r[0]}
    for s in SETTINGS:
        assert s.key in rows, s.key
        assert rows[s.key][2] and rows[s.key][3] == s.french and rows[s.key][4]
    assert any(k.startswith("Weight: ") for k in rows)
    assert {"Band A", "Label A", "Band D", "Label D"} <= set(rows)
    from potentiel.excel import read_settings  # noqa: F401 (the reader is the real check)
    from potentiel.config import read_settings as parse
    from potentiel.layout import settings_rows
    overrides, warnings = parse(settings_rows(grid, "Settings"), [
        "revenue", "trend", "potential", "penetration", "solvency", "growth", "prescription",
        "relationship", "accessibility"])
    assert warnings == []  # the button strip above the header is not read as settings
    assert overrides.values["Top revenue share"] == 0.8


def test_action_and_status_cells_are_named_beside_the_buttons():
    wb = load()
    for sheet in ("Accounts", "Settings"):
        ws = wb[sheet]
        names = ws.defined_names
        assert names[ACTION_NAME].attr_text == f"{sheet}!$B$2"
        assert names[STATUS_NAME].attr_text == f"{sheet}!$B$3"
        assert ws["B2"].value == action_label("recompute")
        lists = [dv for dv in ws.data_validations.dataValidation if "B2" in str(dv.sqref)]
        assert lists and all(action_label(k) in lists[0].formula1 for k in ACTIONS)


def test_vba_project_holds_runpython_and_the_ready_macro():
    from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(TEMPLATE))
    try:
        assert parser.detect_vba_macros()
        code = {name: text for _, _, name, text in parser.extract_macros()}
    finally:
        parser.close()
    assert re.search(r"Function RunPython\(PythonCommand As String\)", code["xlwings.bas"])
    macro = code["Module1.bas"]
    assert "Sub SampleCall()" in macro
    # the module named like the workbook, and its main(): portfolio.py → main()
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in macro
    import xlwings
    assert f"'Version: {xlwings.__version__}" in code["xlwings.bas"]


def _vml_for(zf: dict[str, bytes], sheet_index: int) -> str:
    """The VML drawing (form buttons) a sheet's legacyDrawing relationship points to."""
    sheet = zf[f"xl/worksheets/sheet{sheet_index}.xml"].decode()
    rid = re.search(r'<legacyDrawing [^>]*r:id="([^"]+)"', sheet).group(1)
    rels = zf[f"xl/worksheets/_rels/sheet{sheet_index}.xml.rels"].decode()
    rel = next(r for r in re.findall(r"<Relationship [^>]*/>", rels) if f'Id="{rid}"' in r)
    target = re.search(r'Target="([^"]+)"', rel).group(1)
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl/worksheets", target)
    return zf[posixpath.normpath(path)].decode()


@pytest.mark.parametrize("sheet_index", [1, 2])  # Accounts, Settings
def test_the_recompute_button_is_bound_to_the_macro_and_printable(sheet_index):
    vml = _vml_for(parts(TEMPLATE), sheet_index)
    assert 'ObjectType="Button"' in vml
    assert "<x:FmlaMacro>[0]!SampleCall</x:FmlaMacro>" in vml
    assert ">Recompute<" in vml
    assert "<x:PrintObject>False</x:PrintObject>" not in vml  # absent means printable


def test_values_in_values_out_styling_is_in_the_template():
    zf = parts(TEMPLATE)
    accounts = zf["xl/worksheets/sheet1.xml"].decode()
    build = build_module()
    cat = openpyxl.utils.get_column_letter(len(HEADERS) + build.OUTPUTS.index("Category") + 1)
    for letter in "ABCD":
        assert f'${cat}6="{letter}"' in accounts  # conditional colour per category
    assert "<dataBar" in accounts
    styles = zf["xl/styles.xml"].decode()
    assert '#,##0 &quot;€&quot;' in styles and 'formatCode="0%"' in styles
    ws = load()["Matrix"]
    for title, row in MATRIX_GRIDS:
        fragile = ws.cell(row=row + 1, column=2)  # high potential × weak penetration
        assert fragile.fill.fgColor.rgb.endswith("C62828"), title
        assert ws.cell(row=row + 1, column=3).fill.fgColor.rgb in (None, "00000000")
    chart = zf["xl/charts/chart1.xml"].decode()
    first, last = SUMMARY_CATEGORY_ROW + 1, SUMMARY_CATEGORY_ROW + 6
    assert f"Summary!$D${first}:$D${last}" in chart and f"Summary!$C${first}:$C${last}" in chart
    assert "<c:barChart>" in chart and "<c:lineChart>" in chart


def test_glue_module_exists_and_imports_cleanly():
    path = ROOT / "workbooks" / "portfolio.py"
    spec = importlib.util.spec_from_file_location("portfolio", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main) and module.__doc__


def test_headless_recompute_keeps_the_vba_project_buttons_and_chart(tmp_path):
    src = tmp_path / "portfolio.xlsm"
    shutil.copy(TEMPLATE, src)
    before = parts(src)
    score_file(src, tmp_path / "scored.xlsm")
    after = parts(tmp_path / "scored.xlsm")
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert "vbaProject" in after["[Content_Types].xml"].decode()
    for index in (1, 2):
        vml_before, vml_after = _vml_for(before, index), _vml_for(after, index)
        assert vml_after == vml_before
    assert any(n.startswith("xl/charts/chart") for n in after)
    wb = load(tmp_path / "scored.xlsm", keep_vba=True)
    assert wb["Accounts"].defined_names[STATUS_NAME].attr_text == "Accounts!$B$3"
    assert wb.sheetnames == SHEETS


def test_potentiel_new_copies_the_template_and_its_module(tmp_path):
    from potentiel.cli import main
    assert main(["new", str(tmp_path / "acme.xlsm")]) == 0
    assert (tmp_path / "acme.xlsm").read_bytes() == TEMPLATE.read_bytes()
    assert (tmp_path / "acme.py").read_text() == (ROOT / "workbooks" / "portfolio.py").read_text()
    assert main(["new", str(tmp_path / "acme.xlsm")]) == 1  # no silent overwrite
    assert main(["new", str(tmp_path / "my accounts.xlsm")]) == 1
    assert main(["new", str(tmp_path / "acme.xlsx")]) == 1


def render(workbook: Path, out: Path) -> list[Path]:
    """LibreOffice headless → PDF → one PNG per page (pdftoppm)."""
    out.mkdir(parents=True, exist_ok=True)
    profile = (out / ".lo-profile").resolve().as_uri()  # must be an absolute file URL
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out.resolve()), str(workbook.resolve())],
                   check=True, capture_output=True, timeout=300)
    pdf = out / (workbook.stem + ".pdf")
    subprocess.run(["pdftoppm", "-png", "-r", "90", str(pdf), str(out / workbook.stem)],
                   check=True, capture_output=True, timeout=300)
    return sorted(out.glob(workbook.stem + "*.png"))


@pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftoppm") is None)
                    and not os.environ.get("POTENTIEL_REQUIRE_RENDER"),
                    reason="LibreOffice (soffice) and pdftoppm are not installed; CI installs "
                           "them and sets POTENTIEL_REQUIRE_RENDER, so there it fails instead")
def test_render_the_scored_template(tmp_path):
    """The template recomputed through the xlwings path, rendered; POTENTIEL_RENDER_DIR
    keeps the pages (make render) so a person can look at them."""
    from test_excel import WHEN, plugin_folder  # the same test criteria
    from helpers import payload_from_workbook
    from potentiel.excel import Options, run_remote
    from vba_client import apply_actions

    folder = plugin_folder(tmp_path / "p", "ca", "rel")  # plus the built-ins, if installed
    scored = tmp_path / "portfolio-scored.xlsm"
    actions = run_remote("recompute", payload_from_workbook(TEMPLATE),
                         Options(plugin_dirs=[folder], when=WHEN))["actions"]
    apply_actions(TEMPLATE, actions, scored)
    actions = run_remote("explain", payload_from_workbook(scored, selection="B10"),
                         Options(plugin_dirs=[folder], when=WHEN))["actions"]
    apply_actions(scored, actions, scored)
    out = Path(os.environ.get("POTENTIEL_RENDER_DIR") or tmp_path / "render")
    pages = render(scored, out)
    assert len(pages) >= 8 and sum(p.stat().st_size > 20000 for p in pages) >= 6
