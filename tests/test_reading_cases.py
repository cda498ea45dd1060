"""The reading cases of ``../shared/cases/reading/`` not covered elsewhere, each with the
outcome its README asks for, through the headless front end and, where the case is about
reading, xlwings' remote path (the actions played on a copy as the VBA client would):

- a title above the headers (row 3; a merged title and a subtitle, row 4): the header row
  found and said in the reading report;
- ``CA 2025`` / ``CA 2024`` / ``CA 2023``: revenue N, N-1, N-2, the values as typed, every
  column's use in the report;
- ``TOTAL`` lines, a pivot's ``Total général`` and sub-totals per rep: left out of scoring,
  Top 80 % and Summary, listed in the report, their output cells blank; an account named
  "Total Energies" with an id and ordinary amounts stays an account;
- a typed ``Potential`` column: read as the potential and never written;
- every warning kept in the workbook's Reading sheet, run-level ones first.

The other cases are in test_cell_values.py (error cells, decimal commas),
test_workbook_mechanics.py (formulas, % cells, 1904 dates, rows without r, AutoFilter),
test_edges.py (cents at 80 %, thresholds, the key warning) and test_cases_rules.py (weights
all 0).
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import math
import re
import shutil
from pathlib import Path

import openpyxl

from potentiel.i18n import both, in_language
import pytest

from helpers import SHARED_CASES, fr, write_workbook, score_headless, score_remote
from potentiel.headless import score_file

CASES = SHARED_CASES / "reading"
WHEN = dt.datetime(2026, 3, 2, 9, 30)
FRONT_ENDS = ["headless", "xlwings"]


def case(tmp_path: Path, name: str) -> Path:
    """A copy of a shared case (a missing case fails the test)."""
    src = CASES / name
    assert src.exists(), f"missing shared case {src}"
    return Path(shutil.copyfile(src, tmp_path / name))  # writable, unlike the case


def run(path: Path, front_end: str):
    """Score ``path`` through one front end: (result, the workbook as written)."""
    out = path.with_name("out-" + front_end + path.suffix)
    score = score_headless if front_end == "headless" else score_remote
    return score(path, out, when=WHEN), out


def by_id(result, field: str) -> dict:
    acc = result.accounts
    return {i: (None if isinstance(v, float) and math.isnan(v) else v)
            for i, v in zip(acc["id"], acc[field])}


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    """The rows of ``sheet``; Potentiel's sheets by their English name (found by marker,
    whatever the workbook's language), output headers in English."""
    from helpers import english_header, own_sheet
    wb = openpyxl.load_workbook(path, data_only=True)
    name = sheet if sheet in wb.sheetnames else own_sheet(path, sheet)
    return [tuple(english_header(v) for v in r) for r in wb[name].iter_rows(values_only=True)]


def header_columns(path: Path, sheet: str, header_row: int) -> dict[str, int]:
    """Header text → 0-based column, on the written sheet."""
    row = sheet_rows(path, sheet)[header_row - 1]
    return {str(h): j for j, h in enumerate(row) if h is not None}


def output_cells(path: Path, sheet: str, header_row: int, row: int, first_output: int) -> list:
    """The written cells of one sheet row from the first output column on."""
    rows = sheet_rows(path, sheet)
    return list(rows[row - 1][first_output:])


def summary_categories(path: Path) -> dict[str, tuple[int, float]]:
    """Summary's table by category: category → (accounts, revenue)."""
    out = {}
    rows = sheet_rows(path, "Summary")
    start = next(i for i, r in enumerate(rows) if r[0] == "Category")
    for r in rows[start + 1:]:
        if r[0] is None:
            break
        out[r[0]] = (r[2], r[3])
    return out


def reading_sheet(path: Path) -> list[tuple]:
    return sheet_rows(path, "Reading")


# message keys (English) whose French a French-headed case reads
HEADERS_BELOW_TITLE = ("headers found on row {row} ({n} recognised); row(s) {rows} above are "
                       "not read (a title)")
ONE_TRUE_LINE = ("criterion {name} scored no account: it needs {list}, which is not in the "
                 "Accounts table, and cannot score on the other inputs alone; add the column "
                 "(or set its weight to 0)")
SCORED_NONE_THOUGH = ("criterion {name} scored no account, though {filled} account(s) have all "
                      "its inputs; its scores are blank and the weights rest on the others")


# ------------------------------------------------------------- the header row

@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_headers_under_a_title_are_found_on_row_3(tmp_path, front_end):
    path = case(tmp_path, "title-row-above-headers.xlsx")
    result, out = run(path, front_end)
    assert result.reading.header_row == 3
    assert result.reading.header_note.startswith("headers found on row 3")
    assert "row(s) 1 above are not read" in result.reading.header_note
    assert list(result.accounts["id"]) == [f"A00{k}" for k in range(1, 9)]
    assert by_id(result, "revenue")["A001"] == 120000
    assert by_id(result, "potential")["A004"] == 400000
    assert result.reading.columns[0].cell == "Accounts!A3"
    assert {c.field for c in result.reading.columns} >= {"id", "name", "revenue", "potential"}
    # outputs are written under the header row, the title is left alone
    rows = sheet_rows(out, "Accounts")
    assert rows[0][0] == "Customer portfolio – North region – 2026"
    cols = header_columns(out, "Accounts", 3)
    assert rows[3][cols["Category"]] == result.category[0] and rows[3][0] == "A001"
    # the report kept in the workbook says so too
    said = reading_sheet(out)[1]
    assert said[:4] == ("Sheet", "Accounts", "Header row", 3)
    assert said[4].startswith("headers found on row 3")


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_erp_export_with_a_merged_title_and_a_total(tmp_path, front_end):
    """a1: a merged title (A1:H1) and a subtitle above the headers on row 4; a TOTAL row."""
    path = case(tmp_path, "a1_erp_title_row.xlsx")
    result, out = run(path, front_end)
    assert result.reading.header_row == 4
    assert result.language == "fr"  # French headers: the report is the catalog's French
    assert result.reading.header_note == fr(HEADERS_BELOW_TITLE, row=4, n=16, rows="1, 2")
    ids = list(result.accounts["id"])
    assert ids == [f"C010{k:02d}" for k in range(1, 29)] and "TOTAL" not in ids
    assert [(r.row, r.cell) for r in result.reading.left_out] == [(34, "Clients!A34")]
    assert "TOTAL" in result.reading.left_out[0].why
    assert by_id(result, "revenue")["C01001"] == pytest.approx(170657.47)
    assert by_id(result, "revenue_n2")["C01028"] == pytest.approx(4817.47)
    _total_row_blank(out, "Clients", 4, 34, 19)
    _summary_is_the_accounts(out, result)


# ------------------------------------------------------------- revenue by year

A2_VALUES = {  # read off the file: typed numbers and French-formatted text alike
    "C01001": (170657.47, 159887.98, 116553.84),
    "C01002": (16201.74, 15406.29, 13009.04),     # '16 201,74 €' (narrow no-break spaces)
    "C01004": (97690.91, 101847.48, 0.0),         # '-' in an amount is 0
    "C01009": (0.0, 132497.15, 138848.68),        # '0,00 €'
    "C01013": (None, None, None),                 # a prospect
    "C01021": (None, 126056.94, 105109.43),       # a former client
}


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_year_headers_are_revenue_n_n1_n2(tmp_path, front_end):
    path = case(tmp_path, "a2_erp_year_headers_total_row.xlsx")
    result, out = run(path, front_end)
    uses = {c.header: c for c in result.reading.columns}
    assert (uses["CA 2025"].field, uses["CA 2024"].field, uses["CA 2023"].field) == \
        ("revenue", "revenue_n1", "revenue_n2")
    # French headers: the note is the catalog's French
    assert uses["CA 2025"].note.startswith(fr("revenue {label} (year {year}, the latest year "
                                              "{latest} being N)", label="N", year=2025,
                                              latest=2025))
    assert uses["CA 2023"].cell == "Clients!N1"
    for account, expected in A2_VALUES.items():
        got = tuple(by_id(result, f)[account] for f in ("revenue", "revenue_n1", "revenue_n2"))
        for g, e in zip(got, expected):
            assert (g is None) if e is None else g == pytest.approx(e, abs=0.001), (account, got)
    assert by_id(result, "status")["C01021"] == "former"
    # every column of the sheet has its use in the report: a field, or why not
    headers = [h for h in sheet_rows(path, "Clients")[0] if h is not None]
    assert [c.header for c in result.reading.columns] == headers
    for c in result.reading.columns:
        assert c.field or c.note, c
    notes = {c.header: c.note for c in result.reading.columns if not c.field}
    # postal code and town locate the account; the payment columns are French aliases
    assert set(notes) == {"Date de création", "SIRET", "Dernière commande"}
    # revenue makes trend and Top 80 % work; the TOTAL row is not an account
    assert "TOTAL" not in set(result.accounts["id"])
    assert [r.row for r in result.reading.left_out] == [31]
    assert result.outputs["Score: trend"].notna().sum() >= 25
    top = dict(zip(result.accounts["id"], result.outputs["Top 80%"]))
    assert top["C01001"] is True or top["C01001"] == True  # noqa: E712 (numpy bool)
    assert not top["C01016"]  # 842 €
    _total_row_blank(out, "Clients", 1, 31, 19)
    _summary_is_the_accounts(out, result)


# ------------------------------------------------------------- total rows

def _total_row_blank(out: Path, sheet: str, header_row: int, row: int, inputs: int) -> None:
    """Every output cell of ``row`` is blank in the written file, its inputs unchanged."""
    written = output_cells(out, sheet, header_row, row, inputs)
    header = sheet_rows(out, sheet)[header_row - 1][inputs:]
    assert "Category" in header and "Score" in header
    assert all(v is None for v in written), dict(zip(header, written))


def _summary_is_the_accounts(out: Path, result) -> None:
    """Summary counts the accounts only: not one more, and their revenue, not double."""
    table = summary_categories(out)
    assert sum(n for n, _ in table.values()) == len(result.accounts)
    revenue = result.accounts["revenue"].fillna(0).clip(lower=0).sum()
    assert sum(r for _, r in table.values()) == pytest.approx(revenue, abs=1)


@pytest.mark.parametrize("front_end", FRONT_ENDS)
@pytest.mark.parametrize("name, sheet, row, accounts, first_output, why", [
    ("plain-range-total-line-values.xlsx", "Accounts", 10, 8, 12, 'the name "TOTAL"'),
    # French headers: the reason is the catalog's French
    ("c3_pivot_with_total_general.xlsx", "Comptes", 62, 60, 5,
     ('the id "{id}" reads as a total', {"id": "Total général"})),
])
def test_a_total_row_is_not_an_account(tmp_path, front_end, name, sheet, row, accounts,
                                       first_output, why):
    path = case(tmp_path, name)
    result, out = run(path, front_end)
    assert len(result.accounts) == len(result.category) == accounts
    assert not result.accounts["id"].isna().any()
    left = result.reading.left_out
    assert [(r.row, r.cell) for r in left] == [(row, f"{sheet}!A{row}")]
    if isinstance(why, tuple):  # a message key in a French run
        assert fr(why[0], **why[1]) in left[0].why
    else:
        assert why in left[0].why
    said = [w for w in result.warnings if w.kind == "total-row"]
    assert len(said) == 1 and said[0].where == f"{sheet}!{row}:{row}"
    # Top 80 % over the accounts only: the total (as big as all of them) is not in it
    top = result.outputs["Top 80%"].astype(bool)
    revenue = result.accounts["revenue"].fillna(0).to_numpy()
    assert 0 < top.sum() < accounts
    assert revenue[top.to_numpy()].sum() >= 0.8 * revenue.sum()
    _total_row_blank(out, sheet, 1, row, first_output)
    _summary_is_the_accounts(out, result)
    # the report kept in the workbook lists it
    grid = reading_sheet(out)
    at = next(i for i, r in enumerate(grid) if r[0] in both("Rows left out"))
    assert grid[at][1] == 1 and grid[at + 1][0] == f"{sheet}!A{row}"


def test_pivot_total_column_is_listed_as_not_used(tmp_path):
    """c3: the pivot's ``Total général`` column is a sum of the years, not a field."""
    result, _ = run(case(tmp_path, "c3_pivot_with_total_general.xlsx"), "headless")
    uses = {c.header: c for c in result.reading.columns}
    assert uses["Total général"].field is None and uses["Total général"].note
    assert by_id(result, "revenue")["4110000"] == pytest.approx(23768.98)
    assert by_id(result, "revenue_n2")["4110000"] == pytest.approx(27736.43)


ACCOUNT_HEADERS = ["Code client", "Raison sociale", "Statut", "Commercial", "CA N", "CA N-1"]


def test_an_account_named_total_energies_is_an_account(tmp_path):
    rows = [
        ["C1", "Acier Martin", "Client", "Julie", 1000, 900],
        ["C2", "Total Energies", "Client", "Julie", 2500, 2000],
        ["C3", "TOTAL ENERGIES MARKETING", "Client", "Karim", 700, 800],
        ["C4", "Somme Pêche", "Client", "Karim", 1200, 1000],   # a town, la Somme
        ["C5", "Total", "Client", "Karim", 3000, 2600],         # an id, ordinary amounts
        ["C6", "Boulangerie Nova", "Prospect", "Karim", None, None],
    ]
    path = write_workbook(tmp_path / "total.xlsx", ACCOUNT_HEADERS, rows, table=False)
    for front_end in FRONT_ENDS:
        result, out = run(path, front_end)
        assert list(result.accounts["id"]) == ["C1", "C2", "C3", "C4", "C5", "C6"], front_end
        assert result.reading.left_out == []
        assert not [w for w in result.warnings if w.kind == "total-row"]
        assert result.category.notna().sum() >= 5
        written = sheet_rows(out, "Accounts")
        cols = header_columns(out, "Accounts", 1)
        assert written[2][cols["Category"]] in ("A", "B", "C", "D")  # Total Energies


def test_sub_totals_per_rep_and_the_grand_total_are_left_out(tmp_path):
    rows = [
        ["C1", "Acier Martin", "Client", "Julie", 1000, 900],
        ["C2", "Boulangerie Nova", "Client", "Julie", 2500, 2000],
        [None, "Sous-total Julie", None, "Julie", 3500, 2900],     # by its name
        ["C3", "Cabinet Orion", "Client", "Karim", 700, 800],
        ["C4", "Delta Logistique", "Client", "Karim", 1200, 1000],
        ["C5", "Epsilon Santé", "Client", "Karim", 300, 100],
        [None, None, None, "Karim", 2200, 1900],                   # by its amounts only
        [None, None, None, None, None, None],
        ["C6", "Fenwick Outils", "Client", "Sophie", 400, 500],
        ["C7", "Garage Helios", "Client", "Sophie", 600, 300],
        ["Total Sophie", None, None, None, 1000, 800],             # in the id column
        ["Total général", None, None, None, 6700, 5600],
    ]
    path = write_workbook(tmp_path / "subtotals.xlsx", ACCOUNT_HEADERS, rows, table=False)
    for front_end in FRONT_ENDS:
        result, out = run(path, front_end)
        assert list(result.accounts["id"]) == [f"C{k}" for k in range(1, 8)], front_end
        assert [r.row for r in result.reading.left_out] == [4, 8, 12, 13]
        assert result.accounts["revenue"].sum() == 6700
        for row in (4, 8, 12, 13):
            _total_row_blank(out, "Accounts", 1, row, len(ACCOUNT_HEADERS))
        _summary_is_the_accounts(out, result)
        reps = dict(zip(result.accounts["id"], result.accounts["salesperson"]))
        assert reps == {"C1": "Julie", "C2": "Julie", "C3": "Karim", "C4": "Karim",
                        "C5": "Karim", "C6": "Sophie", "C7": "Sophie"}


# ------------------------------------------------------------- a typed Potential

@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_a_typed_potential_is_the_potential_and_never_written(tmp_path, front_end):
    path = case(tmp_path, "english-header-potential.xlsx")
    before = sheet_rows(path, "Accounts")
    result, out = run(path, front_end)
    uses = {c.header: c for c in result.reading.columns}
    assert uses["Potential"].field == "potential" and uses["Potential"].cell == "Accounts!H1"
    typed = {r[0]: r[7] for r in before[1:]}
    assert by_id(result, "potential") == typed  # A008's blank stays unknown
    after = sheet_rows(out, "Accounts")
    assert [r[:12] for r in after] == [r[:12] for r in before]  # every typed cell kept
    header = list(after[0])
    assert header.count("Potential") == 1 and header.index("Potential") == 7
    assert "Potential (Potentiel)" in header[12:]
    own = header.index("Potential (Potentiel)")
    # Potentiel's own column: the potential used (typed here), for the accounts scored
    assert after[1][own] == 300000 and after[4][own] == 400000
    said = [w for w in result.warnings if w.kind == "own-column"]
    assert len(said) == 1 and '"Potential (Potentiel)"' in said[0].message
    assert not [w for w in result.warnings if "otential" in w.message and "missing" in w.message]


def test_a_typed_potential_is_kept_at_the_next_run(tmp_path):
    """Scored twice: the second run still reads the user's column, and writes its own."""
    path = case(tmp_path, "english-header-potential.xlsx")
    first, _ = score_file(path, when=WHEN)
    second, _ = score_file(path, when=WHEN)
    assert by_id(second, "potential") == by_id(first, "potential")
    after = sheet_rows(path, "Accounts")
    assert list(after[0]).count("Potential") == 1
    assert list(after[0]).count("Potential (Potentiel)") == 1
    assert after[1][7] == 300000


# ------------------------------------------------------------- every warning kept

@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_every_warning_is_kept_in_the_reading_sheet(tmp_path, front_end):
    """j: 40 × "n.c.", 40 × "n.s.", 40 × "à estimer" and the one warning that explains why
    no account is A: all kept, run-level first, grouped one line per kind and column."""
    path = case(tmp_path, "j_key_warning_hidden.xlsx")
    result, out = run(path, front_end)
    warnings = result.warnings
    per_cell = [w for w in warnings if w.kind == "not-a-number" and w.column == "Potentiel"]
    assert [w.where for w in per_cell] == [f"Comptes!H{r}" for r in range(2, 42)]
    grid = reading_sheet(out)
    every = next(i for i, r in enumerate(grid) if r[0] in both("Every warning"))
    assert grid[every][1] == len(warnings)
    kept = [(r[0] or "", r[1]) for r in grid[every + 1: every + 1 + len(warnings)]]
    assert sorted(kept) == sorted((w.where, w.message) for w in warnings)
    run_level = [w for w in warnings if not w.column]
    assert kept[:len(run_level)] == [(w.where, w.message) for w in run_level]
    assert "criteria-without-columns" in {w.kind for w in run_level}
    # a French workbook: the thin-data count is the catalog's French
    assert result.language == "fr"
    thin = fr(", and {n} of {total} rest on half of it or less, which the default "
              "rules (thin-data) keep out of A", n=40, total=40)
    assert any(thin in m for _, m in kept[:len(run_level)])
    # grouped: one line per kind and column, run-level first
    grouped_at = next(i for i, r in enumerate(grid) if r[0] in both("Warnings, grouped"))
    grouped = [r for r in grid[grouped_at + 1: every] if r[0] is not None or r[1] is not None]
    assert [r[1] for r in grouped[:len(run_level)]] == [w.message for w in run_level]
    rest = grouped[len(run_level):]
    per_column = {(w.kind, w.column) for w in warnings if w.column}
    assert len(rest) == len(per_column)
    estimer = [r for r in rest if "à estimer" in r[1]]
    # a French workbook: the grouped line is in French
    assert len(estimer) == 1 and estimer[0][1].startswith("40 cellules dans la colonne Potentiel")
    assert estimer[0][0].startswith("Comptes!H2, ") and estimer[0][0].endswith("et 35 de plus")


def test_no_warning_names_a_cell_of_a_total_row(tmp_path):
    """A total row is said once, as a total: its "Total" in the Statut column, its =SUM
    saved without a value and its "NC" are not reported as unreadable cells."""
    from helpers import Formula
    headers = ["Statut", "Code client", "Raison sociale", "CA N", "Effectif", "Croissance"]
    rows = [["Client", "C1", "Acier Martin", 1000, 10, 5],
            ["Client", "C2", "Boulangerie Nova", 2500, "NC", 3],
            ["Prospect", "C3", "Cabinet Orion", None, 40, None],
            ["Total", None, None, Formula("=SUM(D2:D4)"), "NC", "n.s."]]
    path = write_workbook(tmp_path / "total-cells.xlsx", headers, rows, table=False)
    for front_end in FRONT_ENDS:
        result, out = run(path, front_end)
        assert list(result.accounts["id"]) == ["C1", "C2", "C3"], front_end
        assert [r.row for r in result.reading.left_out] == [5]
        # French headers: the reason is the catalog's French
        assert fr('"{text}" in the first column reads as a total', text="Total") \
            in result.reading.left_out[0].why, front_end
        on_row_5 = [w for w in result.warnings if w.kind != "total-row"
                    and re.search(r"\b[A-Z]{1,2}5\b", f"{w.where} {w.message}")]
        assert on_row_5 == [], front_end
        nc = [w for w in result.warnings if w.kind == "not-available"]
        assert [(w.where, w.column) for w in nc] == [("Accounts!E3", "Effectif")], front_end
        assert not [w for w in result.warnings if w.kind in ("formula-no-value", "unknown-status")]
        _total_row_blank(out, "Accounts", 1, 5, len(headers))


@pytest.mark.parametrize("name, criterion, column, language", [
    # the missing input named as a person reads its header, in the run's language
    ("title-row-above-headers.xlsx", "growth", "Growth %", "en"),
    ("c3_pivot_with_total_general.xlsx", "penetration", "Potentiel", "fr"),  # French headers
])
def test_a_criterion_missing_a_column_is_one_true_line(tmp_path, name, criterion, column,
                                                       language):
    """Not "column X is not in the table; it scores on the other inputs" followed by
    "scored no account, though N account(s) have all its inputs"."""
    result, _ = run(case(tmp_path, name), "headless")
    assert result.language == language
    one_line = in_language(ONE_TRUE_LINE, language)
    starts = one_line.split("{name}")[0] + criterion  # "criterion growth" / "le critère …"
    said = [w.message for w in result.warnings if w.message.startswith(starts)]
    assert said == [one_line.format(name=criterion, list=column)]
    though = in_language(SCORED_NONE_THOUGH, language)  # its words between name and count
    though = though[though.index("{name}") + len("{name}"):though.index("{filled}")]
    assert though.strip() and not [w for w in result.warnings if though in w.message]
