"""Cells read as Excel shows them, and the workbook's own mechanics, on the shared cases.

Formula cells (the value Excel saved is used), %-formatted cells (a share shown as a
percentage), a 1904-date workbook's Log time, rows and cells without ``r`` references and
an AutoFilter on a plain range: each case of ``../shared/cases`` with its right value,
through the headless front end and, for formulas and percentages, the xlwings remote path.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import math
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import xlwings as xw
from lxml import etree
from python_calamine import CalamineWorkbook

from helpers import SHARED_CASES, fr, fr_plural, payload_from_workbook
from potentiel.excel import Options, recompute
from potentiel.headless import score_file

CASES = SHARED_CASES
READING, WRITING = CASES / "reading", CASES / "writing"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
WHEN = dt.datetime(2026, 3, 2, 9, 30)


def case(tmp_path: Path, folder: Path, name: str) -> Path:
    """A copy of a shared case file (a missing case fails the test)."""
    src = folder / name
    assert src.exists(), f"shared case missing: {src}"
    return Path(shutil.copy(src, tmp_path / name))


def by_id(result, field: str) -> dict:
    acc = result.accounts
    return {i: (None if isinstance(v, float) and math.isnan(v) else v)
            for i, v in zip(acc["id"], acc[field])}


def remote(path: Path):
    """Recompute on xlwings' remote engine, from the payload its VBA client would send."""
    book = xw.Book(json=payload_from_workbook(path))
    try:
        outcome = recompute(book, Options(remote=True, when=WHEN))
    finally:
        book.close()
    assert outcome.ok, outcome.message
    return outcome.result


def sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml"):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(part))


def values(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


# ------------------------------------------------------------------ formulas

FORMULA_CASE = "e_formulas_with_cached_values.xlsx"
SAVED = {"revenue": {"C1": 46000, "C2": 8500, "C3": 137000, "C4": 0, "C5": 3000},
         "potential": {"C1": 5000, "C2": 14400, "C3": 60000, "C4": 6750, "C5": 2640}}
GROWTH = {"C1": 15.0, "C2": -15.0, "C3": 14.166666666666666, "C4": None, "C5": 20.0}


# message keys (English) whose French the French-headed formula case reads
NO_SAVED_VALUE = ("{n} formula has no saved value ({cells}); left blank: open and save the "
                  "file in Excel, or paste the values",
                  "{n} formulas have no saved value ({cells}); left blank: open and save the "
                  "file in Excel, or paste the values")
PERCENT_GUESS = ("guessed: every number of {header} lies between -1 and 1, so they are read as "
                 "percentages, as Excel shows them when formatted % ({first}); Excel on the web "
                 "does not send number formats: if they are plain numbers (0.5 meaning 0.5 %), "
                 "recompute in desktop Excel or with potentiel score, which read the formats")


def test_formulas_saved_by_excel_are_read_as_their_values(tmp_path):
    path = case(tmp_path, READING, FORMULA_CASE)
    result, _ = score_file(path, tmp_path / "out.xlsx")
    for field, expected in SAVED.items():
        assert by_id(result, field) == expected
    assert by_id(result, "growth_pct") == pytest.approx(GROWTH)  # 0.0% cells: shares
    assert set(result.category) <= {"A", "B", "C", "D"} and result.category.notna().all()
    # J5 (=IF(I5=0,"",…)) was saved with an empty numeric value: it alone is unknown
    said = [w for w in result.warnings if w.kind == "formula-no-value"]
    assert [(w.where, w.column) for w in said] == [("Comptes!J", "Croissance")]
    # French headers: the warning is the catalog's French
    no_value = fr_plural(*NO_SAVED_VALUE, 1, cells="{cells}").split("{cells}")[0]
    assert said[0].message.startswith(no_value + 'J5 =IF(I5=0,"",'), said[0].message


def _strip_saved_values(src: Path, dst: Path, column: str) -> None:
    """The case as a program that does not compute would save it: no value for the
    formulas of one column."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'(<c r="' + column.encode() + rb'\d+"[^>]*>)(<f>[^<]*</f>)<v>[^<]*</v>',
                              rb"\1\2", data)
            zout.writestr(info, data)


def test_formulas_without_a_saved_value_are_unknown_and_said_once_per_column(tmp_path):
    path = case(tmp_path, READING, FORMULA_CASE)
    bare = tmp_path / "bare.xlsx"
    _strip_saved_values(path, bare, "H")
    result, _ = score_file(bare, tmp_path / "out.xlsx")
    assert all(v is None for v in by_id(result, "revenue").values())
    assert by_id(result, "potential") == SAVED["potential"]  # other formulas keep their values
    said = [w for w in result.warnings if w.kind == "formula-no-value"]
    assert [(w.where, w.column) for w in said] == [("Comptes!H", "CA N"), ("Comptes!J", "Croissance")]
    # French headers: the warning is the catalog's French
    assert str(said[0]) == "Comptes!H: " + fr_plural(*NO_SAVED_VALUE, 5,
                                                     cells="H2 =SUM(D2:G2), H3, H4, …")


def test_formula_cells_stay_formulas_and_outputs_never_are(tmp_path):
    path = case(tmp_path, READING, FORMULA_CASE)
    out = tmp_path / "out.xlsx"
    score_file(path, out)
    root = sheet_xml(out)
    formulas = {c.get("r") for c in root.iterfind(".//m:c[m:f]", NS)}
    assert formulas == {f"{c}{r}" for c in "HJL" for r in range(2, 7)}


def test_formulas_through_the_xlwings_remote_path(tmp_path):
    """The payload holds what Excel computed; percentages come without their format, so
    the growth column (shares only) is a guess, and said so."""
    path = case(tmp_path, READING, FORMULA_CASE)
    result = remote(path)
    for field, expected in SAVED.items():
        assert by_id(result, field) == expected
    assert by_id(result, "growth_pct") == pytest.approx(GROWTH)
    guess = [w for w in result.warnings if w.kind == "percent-guess"]
    assert [(w.where, w.column) for w in guess] == [("Comptes!J", "Croissance")]
    # French headers: the warning is the catalog's French
    guessed = fr(PERCENT_GUESS, header="Croissance", first="{first}").split("{first}")[0]
    assert guess[0].message.startswith(guessed) and "J2 0.15 → 15 %" in guess[0].message
    assert not [w for w in result.warnings if w.kind == "formula-no-value"]


# ------------------------------------------------------------------ percentages

def test_percent_formatted_cells_hold_percent_points(tmp_path):
    """P1 typed 35 % and 12 % in %-formatted cells (0.35, 0.12); P2 typed 35 and 12."""
    path = case(tmp_path, READING, "percent-cell.xlsx")
    rules = case(tmp_path, READING, "percent-cell.yaml")
    result, _ = score_file(path, tmp_path / "out.xlsx", rules=str(rules))
    assert by_id(result, "debt_ratio") == {"P1": 35.0, "P2": 35.0}
    assert by_id(result, "growth_pct") == {"P1": 12.0, "P2": 12.0}
    flags = dict(zip(result.accounts["id"], result.outputs["Flags"]))
    assert all({"debt-low", "growing"} <= set(f.split(", ")) for f in flags.values())
    growth = result.outputs["Score: growth"].tolist()
    assert growth[0] == growth[1] == pytest.approx(73.3)
    assert not [w for w in result.warnings if w.kind == "percent-guess"]


def test_percent_cells_through_the_xlwings_remote_path(tmp_path):
    """Without number formats, a column mixing 0.12 and 12 cannot be told apart: read as
    typed (docs/excel.md says so), never guessed."""
    path = case(tmp_path, READING, "percent-cell.xlsx")
    result = remote(path)
    assert by_id(result, "growth_pct") == {"P1": 0.12, "P2": 12.0}
    assert not [w for w in result.warnings if w.kind == "percent-guess"]


def test_growth_in_percent_cells_of_an_erp_export(tmp_path):
    """a2: Croissance is 0.117 in a 0.0% cell for C01003 (Q4): 11.7 %."""
    path = case(tmp_path, READING, "a2_erp_year_headers_total_row.xlsx")
    result, _ = score_file(path, tmp_path / "out.xlsx")
    growth = by_id(result, "growth_pct")
    assert growth["C01003"] == pytest.approx(11.7) and growth["C01001"] == pytest.approx(-6.7)
    via_xlwings = by_id(remote(path), "growth_pct")
    assert via_xlwings["C01003"] == pytest.approx(11.7)


@pytest.mark.parametrize("code, percent", [
    ("0%", True), ("0.0%", True), ("0.00 %", True), ("[Red]0.0%;[Blue]-0.0%", True),
    ('#,##0 "€"', False), ('0.0"%"', False), ("0\\%", False), ("0_%", False),
    ("0*%", False), ("[$%-409]0", False), ("0;0%", False), ("General", False), ("", False)])
def test_percent_format_codes(code, percent):
    from potentiel.xlsxsheet import percent_format
    assert percent_format(code) is percent


# ------------------------------------------------------------------ 1904 dates

def test_log_time_in_a_1904_date_workbook(tmp_path):
    path = case(tmp_path, READING, "date1904-mac-workbook.xlsx")
    out = tmp_path / "out.xlsx"
    score_file(path, out, when=WHEN)
    assert values(out, "Log")[1][0] == WHEN
    # the serial itself counts from 1904-01-01
    with zipfile.ZipFile(out) as z:
        names = {n for n in z.namelist() if n.startswith("xl/worksheets/")}
    log_part = max(names)  # the Log is the sheet added last
    cell = sheet_xml(out, log_part).find(".//m:c[@r='A2']/m:v", NS)
    assert float(cell.text) == pytest.approx((WHEN - dt.datetime(1904, 1, 1)).total_seconds() / 86400)
    assert values(out, "Accounts")[1][12] == dt.date(2027, 3, 1)  # the user's date unchanged


# ------------------------------------------------------------------ rows without r

def _check_rows(path: Path, n_rows: int) -> None:
    root = sheet_xml(path)
    rows = [int(r.get("r")) for r in root.iterfind(".//m:row", NS)]
    assert rows == list(range(1, n_rows + 1))  # ascending, unique, none added
    for row in root.iterfind(".//m:row", NS):
        cols = [c.get("r") for c in row.iterfind("m:c", NS)]
        assert all(cols) and all(re.fullmatch(r"[A-Z]+" + row.get("r"), c) for c in cols)
        nums = [int.from_bytes(c.rstrip("0123456789").encode(), "big") for c in cols]
        widths = [len(c.rstrip("0123456789")) for c in cols]
        assert list(zip(widths, nums)) == sorted(set(zip(widths, nums)))


@pytest.mark.parametrize("folder, name, n_rows", [
    (READING, "rows-and-cells-without-r.xlsx", 9),
    (WRITING, "rows-without-r-written-twice.xlsx", 5)])
def test_rows_and_cells_without_r_get_their_outputs_in_their_own_rows(tmp_path, folder, name,
                                                                     n_rows):
    path = case(tmp_path, folder, name)
    out = tmp_path / "out.xlsx"
    result, _ = score_file(path, out)
    _check_rows(out, n_rows)
    grid = values(out, "Accounts")
    assert len(grid) == n_rows
    header = grid[0]
    category = dict(zip(result.accounts["id"], result.category))
    for line in grid[1:]:
        assert (line[header.index("Category")] or None) == category[line[0]]
    # a second run reads its own outputs back into the same rows
    again = tmp_path / "again.xlsx"
    score_file(out, again)
    _check_rows(again, n_rows)


# ------------------------------------------------------------------ AutoFilter

def test_autofilter_on_a_plain_range_is_widened_over_the_outputs(tmp_path):
    path = case(tmp_path, READING, "plain-range-autofilter.xlsx")
    out = tmp_path / "out.xlsx"
    score_file(path, out)
    header = values(out, "Accounts")[0]
    last = _letters(len(header))
    assert header[11] == "Distance (km)" and header[-1] != "Distance (km)"
    assert sheet_xml(out).find("m:autoFilter", NS).get("ref") == f"A1:{last}9"
    names = sheet_xml(out, "xl/workbook.xml").findall(".//m:definedName", NS)
    filters = [(n.get("name"), n.get("localSheetId"), n.text) for n in names
               if not n.get("name").startswith("_Potentiel.")]  # the ownership markers
    assert filters == [("_xlnm._FilterDatabase", "0", f"'Accounts'!$A$1:${last}$9")]
    again = tmp_path / "again.xlsx"
    score_file(out, again)  # already wide: unchanged
    assert sheet_xml(again).find("m:autoFilter", NS).get("ref") == f"A1:{last}9"


def _letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _validated(rows, **kw):
    from potentiel.fields import Catalogue
    from potentiel.validate import RawTable, validate
    raw = RawTable(["id", "revenue", "growth"], rows, **kw)
    checked = validate(raw, Catalogue.build())
    return checked.accounts, checked.warnings


def test_only_percent_fields_read_percent_cells_as_shares():
    rows = [["A", 0.5, 0.117], ["B", 1200, "12 %"], ["C", 3, 0.1]]
    marked = [(i, j) for i in range(3) for j in (1, 2)]
    accounts, warnings = _validated(rows, percent_cells=marked)
    assert accounts["revenue"].tolist() == [0.5, 1200, 3]           # money: as stored
    assert accounts["growth_pct"].tolist() == [11.7, 12.0, 10.0]    # exact: 0.1 → 10, not 10.000…02
    assert not warnings


@pytest.mark.parametrize("growth, expected, guessed", [
    ([0.12, -0.05, None], [12.0, -5.0, None], True),
    ([0.12, 5, 0.3], [0.12, 5.0, 0.3], False),       # mixed: read as typed
    ([0, 1, -1], [0.0, 1.0, -1.0], False),           # whole numbers: percent points
])
def test_unknown_formats_guess_only_a_column_of_shares(growth, expected, guessed):
    rows = [[k, 100, g] for k, g in zip("ABC", growth)]
    accounts, warnings = _validated(rows, unknown_formats=[0, 1, 2])
    got = [None if math.isnan(v) else v for v in accounts["growth_pct"]]
    assert got == pytest.approx(expected)
    said = [(w.where, w.kind, w.column) for w in warnings if w.kind == "percent-guess"]
    assert said == ([("Accounts!C", "percent-guess", "growth")] if guessed else [])


def test_rows_and_cells_are_numbered_as_excel_reads_them():
    from potentiel.xlsxsheet import _number_rows_and_cells
    m = NS["m"]
    data = etree.fromstring(
        f'<sheetData xmlns="{m}"><row><c/><c/></row><row r="5"><c r="C5"/><c/></row>'
        '<row><c/><c r="E7"/><c/></row></sheetData>')
    _number_rows_and_cells(data)
    assert [(r.get("r"), [c.get("r") for c in r]) for r in data] == [
        ("1", ["A1", "B1"]), ("5", ["C5", "D5"]), ("6", ["A6", "E7", "F6"])]


def test_a_settings_formula_is_read_as_its_saved_value(tmp_path):
    from helpers import HEADERS, Formula, write_workbook
    from potentiel.problems import UserError
    rows = [["C1", "Acme", "Client", "Claire", 120000, 100000, 400000, 0, 4, 30],
            ["C2", "Bobo", "Client", "Julien", 30000, 35000, 50000, 5, 2, 650]]
    zero = [(f"Weight: {k}", 0) for k in ("trend", "potential", "solvency", "relationship",
                                          "accessibility", "prescription", "growth")]
    path = write_workbook(tmp_path / "s.xlsx", HEADERS, rows,
                          settings=[("Weight: revenue", Formula("=50*2")), *zero])
    with pytest.raises(UserError, match=r"Settings!B2: a formula with no saved value"):
        score_file(path, tmp_path / "out.xlsx")  # openpyxl saves no value
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(saved, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if b"<f>50*2</f>" in data:
                data = re.sub(rb"<f>50\*2</f><v\s*/?>(</v>)?", b"<f>50*2</f><v>100</v>", data)
                assert b"<v>100</v>" in data
            zout.writestr(info, data)
    result, _ = score_file(saved, tmp_path / "out.xlsx")
    out = result.outputs
    assert out["Score"].tolist() == out["Score: revenue"].tolist()
