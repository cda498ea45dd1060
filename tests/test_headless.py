"""The headless front end on real .xlsx files built in tmp_path."""

import os
import re
import shutil
import zipfile

import openpyxl
import pytest

from helpers import HEADERS, Formula, cells, read_parts, write_parts, write_workbook
from potentiel.cli import main
from potentiel.headless import score_file
from potentiel.problems import UserError

ROOT = __import__('pathlib').Path(__file__).resolve().parents[1]

ROWS = [
    ["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
    ["C2", "=HYPERLINK(\"http://x\",\"y\")", "Client", "Julien", 30000, 35000, 50000, 5, 2, 650],
    ["C3", "+Bobo", "Prospect", "Claire", None, None, 900000, None, None, 700],
    [None, None, None, None, None, None, None, None, None, None],
    ["C4", "@Delta", "Client", "-Julien", 8000, 4000, None, 1, 3, 120],
]


def test_scores_in_place_keeps_a_backup_and_never_changes_inputs(workbook):
    path = workbook(ROWS)
    before = cells(path)
    result, target = score_file(path)
    assert target == path
    backup = path.with_name("book.backup.xlsx")
    assert cells(backup) == before
    after = cells(path)
    inputs = {k: v for k, v in before.items() if k[0] == "Accounts"}
    assert {k: after[k] for k in inputs} == inputs, "an input cell was changed"
    ws = openpyxl.load_workbook(path)["Accounts"]
    headers = [c.value for c in ws[1]]
    assert headers[:len(HEADERS)] == list(HEADERS)
    for name in ("Score", "Category", "Category label", "Potential", "Penetration", "Matrix",
                 "Top 80%", "Flags", "Why", "Confidence", "To collect"):
        assert name in headers or f"{name} (Potentiel)" in headers
    score_col = headers.index("Category") + 1
    assert [ws.cell(row=r, column=score_col).value for r in range(2, 7)][3] is None  # empty row
    table = ws.tables["Accounts"]
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}6"
    assert {"Matrix", "Summary", "Log"} <= set(openpyxl.load_workbook(path).sheetnames)


def test_no_output_cell_is_a_formula(workbook):
    path = workbook(ROWS)
    before = {k for k, v in cells(path).items() if v[1] == "f"}
    score_file(path)
    after = cells(path)
    formulas = {k for k, v in after.items() if v[1] == "f"}
    assert formulas == before == set()
    # the hostile name is written back as text only, where it was typed
    hits = [k for k, v in after.items() if str(v[0]).startswith("=HYPERLINK")]
    assert hits == [("Accounts", "B3")]
    # text that starts like a formula in our own output (a rep named "-Julien") stays text
    summary = [v for k, v in after.items() if k[0] == "Summary" and v[0] == "-Julien"]
    assert summary and all(t == "s" for _, t in summary)


def test_second_run_rewrites_the_same_columns_and_logs_changes(workbook, tmp_path):
    path = workbook(ROWS)
    score_file(path)
    width = openpyxl.load_workbook(path)["Accounts"].max_column
    result, _ = score_file(path)
    wb = openpyxl.load_workbook(path)
    assert wb["Accounts"].max_column == width
    log = list(wb["Log"].iter_rows(values_only=True))
    assert log[0][0] == "Time" and len(log) == 3
    assert result.changes["changed"] == 0 and result.changes["new"] == 0


def test_writes_to_another_file_with_o(workbook, tmp_path):
    path = workbook(ROWS)
    before = cells(path)
    out = tmp_path / "scored.xlsx"
    score_file(path, out)
    assert cells(path) == before and out.exists()
    assert not path.with_name("book.backup.xlsx").exists()


def test_plain_range_without_an_excel_table(tmp_path):
    path = write_workbook(tmp_path / "plain.xlsx", HEADERS, ROWS, table=False, sheet="Comptes")
    result, _ = score_file(path)
    ws = openpyxl.load_workbook(path)["Comptes"]
    assert ws.cell(row=1, column=len(HEADERS) + 1).value == "Score"
    assert len(result.accounts) == 4


def test_missing_accounts_sheet_is_a_clear_error(tmp_path):
    """Two sheets of data, neither named Accounts: which one holds the accounts is not
    guessed (a workbook's only sheet of data is read, and that is said)."""
    path = write_workbook(tmp_path / "x.xlsx", HEADERS, ROWS, sheet="Feuil1", table=False)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Feuil2").append(["Code client", "CA N"])
    wb.save(path)
    with pytest.raises(UserError, match="no Accounts sheet"):
        score_file(path)


@pytest.mark.parametrize("content, words", [
    (b"id;name\nC1;Acme\n", "not an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old .xls"),
    (b"", "not an Excel workbook"),
])
def test_a_file_that_is_not_a_workbook(tmp_path, content, words, capsys):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(content)
    assert main(["score", str(path)]) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_truncated_workbook(workbook, capsys):
    path = workbook(ROWS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert main(["score", str(path)]) == 1
    assert "not an Excel workbook" in capsys.readouterr().err


def test_output_column_cannot_overwrite_user_data_beside_the_table(tmp_path):
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    wb = openpyxl.load_workbook(path)
    wb["Accounts"].cell(row=3, column=len(HEADERS) + 1).value = "my note"
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(UserError, match="cells to the right of the accounts are not empty"):
        score_file(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("formula", ['<f>F{r}-G{r}</f>', '<f>""</f><v></v>',
                                     '<f t="shared" ref="{c}{r}:AH{r}" si="0">F{r}-G{r}</f>'])
def test_output_column_cannot_overwrite_a_formula_beside_the_table(tmp_path, formula):
    """A formula of the user's where an output column goes is never written over, even
    one whose value was never saved (openpyxl saves none) or is "": both read as empty."""
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    col = openpyxl.utils.get_column_letter(len(HEADERS) + 1)
    parts = read_parts(path)
    name = "xl/worksheets/sheet1.xml"
    cell = f'<c r="{col}3" t="str">' + formula.format(r=3, c=col) + "</c>"
    parts[name] = re.sub(rb'(<row r="3"[^>]*>.*?)(</row>)',
                         lambda m: m.group(1) + cell.encode() + m.group(2), parts[name],
                         count=1, flags=re.S)
    write_parts(path, parts)
    before = path.read_bytes()
    with pytest.raises(UserError, match="cells to the right of the accounts are not empty") \
            as raised:
        score_file(path)
    assert raised.value.problems[0].where.endswith(f"{col}3")
    assert path.read_bytes() == before


def test_output_column_cannot_take_cells_an_array_formula_fills(tmp_path):
    """An array formula in the last input column whose range reaches where an output
    column goes: the cells it fills hold no formula of their own, and are refused all
    the same (named by the first of them)."""
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    last = openpyxl.utils.get_column_letter(len(HEADERS))
    out = openpyxl.utils.get_column_letter(len(HEADERS) + 1)
    parts = read_parts(path)
    name = "xl/worksheets/sheet1.xml"
    parts[name] = re.sub(rb'<c r="%s3"[^>]*?(?:/>|>.*?</c>)' % last.encode(),
                         b'<c r="%s3"><f t="array" ref="%s3:%s3">{1,2}</f><v>1</v></c>'
                         % (last.encode(), last.encode(), out.encode()), parts[name],
                         count=1, flags=re.S)
    write_parts(path, parts)
    before = path.read_bytes()
    with pytest.raises(UserError, match="cells to the right of the accounts are not empty") \
            as raised:
        score_file(path)
    assert raised.value.problems[0].where.endswith(f"{out}3")
    assert path.read_bytes() == before


def test_a_cell_naming_a_format_the_file_lacks_keeps_showing_as_it_did(tmp_path):
    """A cell whose style index is past the cell formats the file defines, or whose format
    names a number format the file does not define (Excel shows both as General): the
    formats Potentiel adds never take those places, so the cell does not turn into a date
    or a percentage."""
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    parts = read_parts(path)
    sheet, styles = "xl/worksheets/sheet1.xml", "xl/styles.xml"
    count = len(re.findall(rb"<xf ", re.search(rb"<cellXfs.*?</cellXfs>", parts[styles],
                                                re.S).group(0)))
    far, lost = count + 5, count  # past the last; a new one naming number format 164
    parts[sheet] = re.sub(rb'<c r="B3"', b'<c r="B3" s="%d"' % far, parts[sheet], count=1)
    parts[sheet] = re.sub(rb'<c r="B4"', b'<c r="B4" s="%d"' % lost, parts[sheet], count=1)
    column = far + 3  # a column's format, past the last too
    cols = b'<cols><col min="2" max="2" width="12" style="%d" customWidth="1"/></cols>' % column
    parts[sheet] = re.sub(rb"<cols>.*?</cols>", cols, parts[sheet], flags=re.S) \
        if b"<cols>" in parts[sheet] else parts[sheet].replace(b"<sheetData", cols + b"<sheetData")
    parts[styles] = parts[styles].replace(
        b"</cellXfs>", b'<xf numFmtId="164" fontId="0" fillId="0" borderId="0" '
        b'applyNumberFormat="1"/></cellXfs>').replace(
        b'<cellXfs count="%d"' % count, b'<cellXfs count="%d"' % (count + 1))
    write_parts(path, parts)
    out = tmp_path / "out.xlsx"
    score_file(path, out)
    with zipfile.ZipFile(out) as z:
        written = z.read(styles)
    xfs = re.findall(rb"<xf [^>]*?(?:/>|>.*?</xf>)",
                     re.search(rb"<cellXfs.*?</cellXfs>", written, re.S).group(0), re.S)
    assert len(xfs) > column
    assert all(x == xfs[0] for x in xfs[count + 1:column + 1])  # the first, where B3 points
    assert b'numFmtId="164"' not in re.search(rb"<numFmts.*?</numFmts>", written,
                                              re.S).group(0)


def test_a_format_naming_a_font_or_fill_the_file_lacks_keeps_showing_as_it_did(tmp_path):
    """A cell format whose font or fill is past those the file defines: the fonts and
    fills Potentiel adds (bold headers, category colours) never take those places."""
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    parts = read_parts(path)
    styles = parts["xl/styles.xml"].decode()
    fonts = len(re.findall(r"<font>|<font ", re.search(r"<fonts.*?</fonts>", styles, re.S)[0]))
    fills = len(re.findall(r"<fill>|<fill ", re.search(r"<fills.*?</fills>", styles, re.S)[0]))
    xfs = re.search(r"<cellXfs[^>]*>", styles)[0]
    count = int(re.search(r'count="(\d+)"', xfs)[1])
    styles = styles.replace(xfs, xfs.replace(f'count="{count}"', f'count="{count + 1}"')).replace(
        "</cellXfs>", f'<xf numFmtId="0" fontId="{fonts + 1}" fillId="{fills + 1}" '
        'borderId="0" applyFont="1" applyFill="1" xfId="0"/></cellXfs>')
    parts["xl/styles.xml"] = styles.encode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb'<c r="B3"', b'<c r="B3" s="%d"' % count, parts["xl/worksheets/sheet1.xml"], count=1)
    write_parts(path, parts)
    out = tmp_path / "out.xlsx"
    score_file(path, out)
    with zipfile.ZipFile(out) as z:
        written = z.read("xl/styles.xml").decode()
    font_list = re.findall(r"<font>.*?</font>|<font/>",
                           re.search(r"<fonts.*?</fonts>", written, re.S)[0], re.S)
    fill_list = re.findall(r"<fill>.*?</fill>|<fill/>",
                           re.search(r"<fills.*?</fills>", written, re.S)[0], re.S)
    assert len(font_list) > fonts + 1 and len(fill_list) > fills + 1  # Potentiel's added
    assert font_list[fonts + 1] == font_list[0] and fill_list[fills + 1] == fill_list[0]


def test_a_workbook_open_in_excel_is_not_overwritten(workbook):
    path = workbook(ROWS)
    lock = path.with_name("~$" + path.name)
    lock.write_bytes(b"owner")
    before = path.read_bytes()
    with pytest.raises(UserError, match="open in Excel"):
        score_file(path)
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(path.parent) if p.startswith(".~potentiel")]


def test_settings_select_weights_and_bands(tmp_path):
    path = write_workbook(tmp_path / "s.xlsx", HEADERS, ROWS,
                          settings=[("Weight: revenue", 100), ("Weight: trend", 0),
                                    ("Weight: potential", 0), ("Weight: solvency", 0),
                                    ("Weight: relationship", 0), ("Weight: accessibility", 0),
                                    ("Weight: prescription", 0), ("Weight: growth", 0),
                                    ("Band A", 10)])
    result, _ = score_file(path)
    out = result.outputs
    assert out.loc[0, "Score"] == out.loc[0, "Score: revenue"]
    assert out.loc[0, "Confidence"] == 1.0


def test_bad_setting_names_its_cell(tmp_path, capsys):
    path = write_workbook(tmp_path / "s.xlsx", HEADERS, ROWS, settings=[("Weight: revenue", "lots")])
    assert main(["score", str(path)]) == 1
    assert 'Settings!B2: "lots" is not a number (weight of revenue)' in capsys.readouterr().err


def test_salespeople_sheet_gives_nearest_rep(tmp_path):
    headers = ("id", "revenue", "latitude", "longitude")
    path = write_workbook(tmp_path / "r.xlsx", headers, [["C1", 10, 43.2965, 5.3698]],
                          reps=[["Lyon rep", 45.764, 4.8357], ["Paris rep", 48.8566, 2.3522]])
    result, _ = score_file(path)
    assert result.outputs.loc[0, "Nearest rep"] == "Lyon rep"
    assert 270 < result.outputs.loc[0, "Nearest rep km"] < 280


def test_xlsm_keeps_its_macros(tmp_path):
    import xlsxwriter
    vba = shutil.which("true")  # any file would do for openpyxl; use a real vbaProject.bin
    src = tmp_path / "m.xlsm"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Accounts")
    ws.write_row(0, 0, ["id", "revenue"])
    ws.write_row(1, 0, ["C1", 100])
    import xlwings
    with zipfile.ZipFile(os.path.join(os.path.dirname(xlwings.__file__),
                                      "quickstart_standalone.xlsm")) as z:
        (tmp_path / "vbaProject.bin").write_bytes(z.read("xl/vbaProject.bin"))
    wb.add_vba_project(str(tmp_path / "vbaProject.bin"))
    ws.insert_button("D2", {"macro": "SampleCall", "caption": "Recompute"})
    wb.close()
    assert vba is not None
    score_file(src)
    with zipfile.ZipFile(src) as z:
        names = set(z.namelist())
        assert z.read("xl/vbaProject.bin") == (tmp_path / "vbaProject.bin").read_bytes()
    assert any(n.startswith("xl/drawings/vmlDrawing") for n in names)


def test_only_the_parts_potentiel_owns_change(tmp_path):
    """Charts, styles, macros, drawings: every part but the Accounts sheet, its table and
    the output sheets is copied byte for byte."""
    src = ROOT / "workbooks" / "portfolio.xlsm"
    work = tmp_path / "p.xlsm"
    shutil.copy(src, work)
    score_file(work)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(work) as b:
        before = {n: a.read(n) for n in a.namelist()}
        after = {n: b.read(n) for n in b.namelist()}
    assert set(after) >= set(before)
    changed = {n for n in before if before[n] != after[n]}
    sheets = {n for n in changed if n.startswith("xl/worksheets/sheet")}
    assert changed - sheets <= {"xl/workbook.xml", "xl/styles.xml", "xl/tables/table1.xml"}
    for keep in ("xl/vbaProject.bin", "xl/charts/chart1.xml", "xl/drawings/vmlDrawing1.vml"):
        if keep in before:
            assert after[keep] == before[keep], keep


def test_an_output_written_over_a_formula_drops_the_calculation_chain(tmp_path):
    # a formula typed into Potentiel's own Score column (known by its marker)
    path = write_workbook(tmp_path / "f.xlsx", (*HEADERS, "Score"),
                          [[*r, Formula("=E2*2")] if r[0] else [*r, None] for r in ROWS])
    wb = openpyxl.load_workbook(path)
    from openpyxl.workbook.defined_name import DefinedName
    wb.defined_names["_Potentiel.col.score"] = DefinedName("_Potentiel.col.score",
                                                           attr_text="Accounts!$K$1")
    wb.save(path)
    assert wb["Accounts"]["K2"].data_type == "f"
    _add_calc_chain(path, "K2")
    score_file(path)
    wb = openpyxl.load_workbook(path)
    assert wb["Accounts"]["K2"].data_type == "n"
    with zipfile.ZipFile(path) as z:
        assert not any("calcChain" in n for n in z.namelist())


def _add_calc_chain(path, ref):
    """What Excel writes next to formulas (openpyxl does not): xl/calcChain.xml."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/calcChain.xml"] = (f'<calcChain xmlns="{main}"><c r="{ref}" i="1"/></calcChain>').encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdCalc" Type="http://schemas.'
                        'openxmlformats.org/officeDocument/2006/relationships/calcChain" '
                        'Target="calcChain.xml"/></Relationships>')
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    types = parts["[Content_Types].xml"].decode().replace("</Types>", '<Override PartName="/xl/'
                                                          'calcChain.xml" ContentType="application/'
                                                          'vnd.openxmlformats-officedocument.'
                                                          'spreadsheetml.calcChain+xml"/></Types>')
    parts["[Content_Types].xml"] = types.encode()
    write_parts(path, parts)


def test_output_to_a_missing_folder_is_one_clear_line(workbook, tmp_path, capsys):
    path = workbook(ROWS)
    assert main(["score", str(path), "-o", str(tmp_path / "nope" / "x.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_written_file_keeps_usual_permissions(workbook, tmp_path):
    path = workbook(ROWS)
    os.chmod(path, 0o644)
    score_file(path)
    assert path.stat().st_mode & 0o777 == 0o644
    out = tmp_path / "new.xlsx"
    old = os.umask(0o022)
    try:
        score_file(path, out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_o_to_the_same_file_is_in_place_with_a_backup(workbook):
    path = workbook(ROWS)
    score_file(path, path)
    assert path.with_name("book.backup.xlsx").exists()


def test_formula_in_an_input_column_is_warned_and_kept(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][4] = Formula("=F2*1.1")
    path = write_workbook(tmp_path / "f.xlsx", HEADERS, rows)
    result, _ = score_file(path)
    # openpyxl saves no value for a formula: unknown, said once for the column
    said = [w for w in result.warnings if w.kind == "formula-no-value"]
    assert [(w.where, w.column) for w in said] == [("Accounts!E", HEADERS[4])]
    assert "1 formula has no saved value (E2 =F2*1.1)" in said[0].message
    wb = openpyxl.load_workbook(path)
    assert wb["Accounts"]["E2"].value == "=F2*1.1" and wb["Accounts"]["E2"].data_type == "f"


def test_a_workbook_let_go_is_freed_at_once_not_by_the_cycle_collector(tmp_path):
    """No reference cycle holds a workbook (its sheets, their values): freed as soon as
    it is let go, while the run keeps Python's cycle collector waiting
    (`potentiel.gcpause`), not all at once by it at the end."""
    import gc
    import weakref
    from potentiel.headless import Workbook
    path = write_workbook(tmp_path / "b.xlsx", HEADERS, ROWS)
    gc.disable()
    try:
        wb = Workbook(path)
        wb.values(wb.package.sheets[0])
        wb.styles.foresee()
        wb.styles._foreseen[1].result()
        wb.package.close()
        gone = weakref.ref(wb)
        del wb
        assert gone() is None
    finally:
        gc.enable()
