"""A cell's value as a field value, on the shared reading cases and on workbooks built here,
through the headless front end and xlwings' remote path alike: error cells unknown and
named, bands, amounts as companies type them, decimal commas settled by a field's range,
statuses such as "Ancien client", and every per-cell problem kept with its kind and column."""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import math
import textwrap
from pathlib import Path

import openpyxl
import pytest

from helpers import SHARED_CASES, fr, write_workbook, score_headless, score_remote, shared_case
from potentiel.fields import STATUSES, Catalogue
from potentiel.validate import ErrorCell, RawTable, validate

CASES = SHARED_CASES / "reading"
WHEN = dt.datetime(2026, 3, 2, 9, 30)


def case(tmp_path, name: str) -> Path:
    return shared_case(tmp_path, "reading", name)


def headless(path: Path, **kw):
    return score_headless(path, path.with_name("out" + path.suffix), **kw)


def remote(path: Path, **kw):
    return score_remote(path, **kw)


def by_kind(result, kind: str) -> dict[str, str]:
    return {p.where: p.message for p in result.warnings if p.kind == kind}


def accounts(result):
    return result.accounts.set_index("id")


def check(headers, rows, sheet="Accounts"):
    raw = RawTable(list(headers), [list(r) for r in rows], sheet=sheet)
    return validate(raw, Catalogue.build())


# ------------------------------------------------------------------- error cells


@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_error_cells_are_unknown_and_named_by_cell(tmp_path, read):
    result = read(case(tmp_path, "error-cells-na-div0.xlsx"))
    errors = by_kind(result, "error-cell")
    assert errors["Accounts!F2"].startswith("holds #N/A") and "unknown" in errors["Accounts!F2"]
    assert errors["Accounts!H3"].startswith("holds #DIV/0!")
    assert errors["Accounts!C6"].startswith("holds #REF!")  # in a text column too
    columns = {p.where: p.column for p in result.warnings if p.kind == "error-cell"}
    assert columns["Accounts!F2"] == "Revenue N" and columns["Accounts!C6"] == "Status"
    # F5 is a formula whose saved value is #N/A: named either way, value unknown
    assert any(p.where == "Accounts!F5" for p in result.warnings)
    acc = accounts(result)
    assert math.isnan(acc.at["A001", "revenue"]) and math.isnan(acc.at["A004", "revenue"])
    assert math.isnan(acc.at["A002", "potential"])
    assert acc.at["A005", "status"] is None  # "#REF!" is no status
    assert acc.at["A001", "revenue_n1"] == 110000


def test_both_front_ends_read_error_cells_the_same(tmp_path):
    path = case(tmp_path, "error-cells-na-div0.xlsx")
    one, two = headless(path), remote(path)
    same = {"Accounts!F2", "Accounts!H3", "Accounts!C6"}
    assert {w: m for w, m in by_kind(one, "error-cell").items() if w in same} == \
        {w: m for w, m in by_kind(two, "error-cell").items() if w in same}
    cols = ["revenue", "potential", "status"]
    assert accounts(one)[cols].equals(accounts(two)[cols])


def test_every_kind_of_error_value_in_any_column(tmp_path):
    codes = ["#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
             "#CALC!", "#GETTING_DATA"]
    path = tmp_path / "errors.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["id", "name", "revenue", "headcount", "Note"])
    for k, code in enumerate(codes):
        ws.append([f"A{k}", code, code, 10, code])
        for c in ws[ws.max_row][1:3] + ws[ws.max_row][4:5]:
            c.data_type = "e"  # an error value, as Excel stores it
    wb.save(path)
    result = headless(path)
    errors = by_kind(result, "error-cell")
    for k, code in enumerate(codes):
        for col in "BCE":
            assert errors[f"Accounts!{col}{k + 2}"].startswith(f"holds {code} ")
    acc = accounts(result)
    assert acc["name"].isna().all() and acc["revenue"].isna().all()
    assert (acc["headcount"] == 10).all()


def test_error_texts_from_any_source_are_error_cells():
    checked = check(["id", "revenue", "sector"],
                    [["A", ErrorCell("#N/A"), "#SPILL!"], ["B", "#DIV/0!", "Food"]])
    assert checked.accounts["revenue"].isna().all()
    assert checked.accounts["sector"].tolist() == [None, "Food"]
    assert [(p.where, p.kind, p.column) for p in checked.warnings] == [
        ("Accounts!B2", "error-cell", "revenue"), ("Accounts!B3", "error-cell", "revenue"),
        ("Accounts!C2", "error-cell", "sector")]


# ------------------------------------------------------------- coordinates


@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_coordinates_with_a_decimal_comma_are_decimals(tmp_path, read):
    result = read(case(tmp_path, "i_coordinates_decimal_comma.xlsx"))
    assert not [p for p in result.warnings if p.kind == "ambiguous-number"]
    acc = accounts(result)
    assert acc.at["K1", "latitude"] == pytest.approx(48.804)
    assert acc.at["K3", "longitude"] == pytest.approx(-4.486)
    assert acc.at["K4", "latitude"] == pytest.approx(41.9192)
    # the Paris rep (48,857 / 2,352) is read, and is the nearest to Versailles
    assert acc.at["K1", "nearest_rep"] == "Claire Martin (Paris)"
    assert acc.at["K1", "nearest_rep_km"] == pytest.approx(17.3, abs=0.5)
    out = result.outputs.set_index(result.accounts["id"])
    assert "inaccessible" in out.at["K5", "Flags"]  # La Réunion, 8,777 km away
    assert "inaccessible" not in (out.at["K1", "Flags"] or "")
    notes = [p for p in result.warnings if p.kind == "decimal-by-range"]
    assert {(p.where, p.column) for p in notes} >= {("Comptes!F2", "Latitude"),
                                                   ("Commerciaux!B2", "Latitude")}
    assert len([p for p in notes if p.where.startswith("Comptes!")]) == 2  # one per column


def test_the_range_settles_a_comma_only_when_one_reading_fits():
    checked = check(["id", "Relation", "Latitude", "CA N"],
                    [["A", "4,500", "48,857", "1,200"]])
    acc = checked.accounts
    assert acc.at[0, "relationship"] == 4.5 and acc.at[0, "latitude"] == pytest.approx(48.857)
    assert math.isnan(acc.at[0, "revenue"])  # no range: 1.2 or 1200, refused
    assert {p.kind for p in checked.warnings} == {"decimal-by-range", "ambiguous-number"}


# ------------------------------------------------------------------ bands


BANDS = [("50-99", 74.5), ("50 à 99", 74.5), ("250 et plus", 250), ("10 à 19 salariés", 14.5),
         ("2 000 à 4 999 salariés", 3499.5), ("10000+", 10000), ("1-9", 5),
         ("Plus de 500", 500), ("moins de 10", 5), ("10 000 salariés et plus", 10000),
         ("1 ou 2 salariés", 1.5), ("12 salariés", 12), (35, 35)]


def test_headcount_bands_are_numbers_with_one_notice_per_column(tmp_path):
    rows = [[f"A{k}", f"Account {k}", "client", text, 1000 * (k + 1)]
            for k, (text, _) in enumerate(BANDS * 3)]
    path = write_workbook(tmp_path / "bands.xlsx",
                          ["Code client", "Raison sociale", "Statut", "Effectif", "CA N"], rows)
    result = headless(path)
    acc = accounts(result)
    for k, (_, value) in enumerate(BANDS * 3):
        assert acc.at[f"A{k}", "headcount"] == pytest.approx(value), rows[k]
    notes = [p for p in result.warnings if p.column == "Effectif"]
    assert [p.kind for p in notes] == ["band"]
    msg = notes[0].message
    assert notes[0].where == "Accounts!D2"
    # French headers: a French run, so the notice is the catalog's French (11 bands × 3)
    how = fr(" and ").join([
        fr("closed bands as their midpoint ({example})", example="50-99 → 74.5"),
        fr("open bands as their lower bound ({example})", example="250 et plus → 250")])
    assert msg.startswith(fr("{header}: {n} band(s) read as a number, {how}; type the exact "
                             "figure where you know it", header="Effectif", n=33, how=how)), msg


def test_bands_are_read_in_counts_only():
    checked = check(["id", "Concurrents", "CA N", "Relation"], [["A", "2-3", "50-99", "1-2"]])
    acc = checked.accounts
    assert acc.at[0, "competitors"] == 2.5
    assert math.isnan(acc.at[0, "revenue"]) and math.isnan(acc.at[0, "relationship"])
    assert [p.kind for p in checked.warnings] == ["band", "not-a-number", "not-a-number"]


# ----------------------------------------------------------------- amounts


@pytest.mark.parametrize("text, value", [
    ("12 500 € HT", 12500), ("12 500 € TTC", 12500), ("1 200 €/an", 1200),
    ("€1,234.56", 1234.56), ("1.234,56 €", 1234.56), ("-", 0), ("–", 0), ("12 k€ HT", 12000),
])
def test_amounts_as_companies_type_them(text, value):
    checked = check(["id", "CA N"], [["A", text]])
    assert checked.accounts.at[0, "revenue"] == pytest.approx(value)
    assert not [p for p in checked.warnings if p.kind in ("not-a-number", "ambiguous-number")]


def test_not_available_is_blank_with_one_notice_per_column():
    marks = ["NC", "n.c.", "n.s.", "N/A", "nd", "?"] * 20
    checked = check(["id", "CA N", "Effectif"],
                    [[f"A{k}", m, m] for k, m in enumerate(marks)] + [["B", 5, 7]])
    acc = checked.accounts
    assert acc["revenue"].iloc[:-1].isna().all() and acc["headcount"].iloc[:-1].isna().all()
    assert acc["revenue"].iloc[-1] == 5
    assert [(p.kind, p.column, p.where) for p in checked.warnings] == [
        ("not-available", "CA N", "Accounts!B2"), ("not-available", "Effectif", "Accounts!C2")]
    assert checked.warnings[0].message.startswith("CA N: 120 cell(s) say the value is not "
                                                  'available ("NC", "n.c.", "n.s.", "N/A")')
    assert "(cells B2, B3, B4" in checked.warnings[0].message


def test_a_dash_is_zero_in_an_amount_and_unknown_elsewhere():
    checked = check(["id", "CA N", "Effectif"], [["A", "-", "-"], ["B", "–", 4]])
    assert checked.accounts["revenue"].tolist() == [0, 0]
    assert math.isnan(checked.accounts.at[0, "headcount"])
    assert {(p.kind, p.column) for p in checked.warnings} == {
        ("dash-zero", "CA N"), ("not-available", "Effectif")}


def test_ttc_amounts_are_taken_as_typed_and_noted():
    checked = check(["id", "CA N"], [["A", "12 500 € TTC"], ["B", "10 000 € HT"],
                                     ["C", "1 000 € TTC"]])
    assert checked.accounts["revenue"].tolist() == [12500, 10000, 1000]
    (note,) = checked.warnings
    assert note.kind == "ttc" and note.where == "Accounts!B2"
    assert "2 amount(s) marked TTC" in note.message and "not converted" in note.message


def test_amounts_through_the_headless_front_end(tmp_path):
    rows = [["A1", "Acme", "client", "12 500 € HT", "€1,234.56"],
            ["A2", "Bolt", "client", "NC", "1.234,56 €"],
            ["A3", "Coda", "client", "-", "n.c."]]
    path = write_workbook(tmp_path / "amounts.xlsx",
                          ["Code client", "Raison sociale", "Statut", "CA N", "Potentiel"], rows)
    acc = accounts(headless(path))
    assert acc.at["A1", "revenue"] == 12500 and acc.at["A1", "potential"] == 1234.56
    assert math.isnan(acc.at["A2", "revenue"]) and acc.at["A2", "potential"] == 1234.56
    assert acc.at["A3", "revenue"] == 0 and math.isnan(acc.at["A3", "potential"])


# ------------------------------------------------------------------ status


def test_former_is_a_status():
    assert "former" in STATUSES


@pytest.mark.parametrize("typed, status", [
    ("Ancien client", "former"), ("Former client", "former"), ("Lost", "former"),
    ("Perdu", "former"), ("Inactif", "former"), ("ex-client", "former"),
    ("Client actif", "client"), ("Client", "client"), ("Customer", "client"),
    ("Prospect chaud", "prospect"), ("Prospect froid", "prospect"), ("Lead", "prospect"),
    ("Suspect", "suspect"), ("former", "former"),
])
def test_status_words(typed, status):
    checked = check(["id", "Statut"], [["A", typed]])
    assert checked.accounts.at[0, "status"] == status
    assert not [p for p in checked.warnings if p.kind == "unknown-status"]


def test_status_read_from_words_is_noted_once_unclear_ones_per_cell():
    checked = check(["id", "Statut"], [["A", "Ancien client"], ["B", "Ancien client"],
                                       ["C", "Client"], ["D", "Prospect perdu"], ["E", "ami"],
                                       ["F", "ami"]])
    assert checked.accounts["status"].tolist() == ["former", "former", "client",
                                                   "Prospect perdu", "ami", "ami"]
    kinds = [(p.kind, p.where) for p in checked.warnings]
    assert kinds == [("unknown-status", "Accounts!B5"), ("unknown-status", "Accounts!B6"),
                     ("unknown-status", "Accounts!B7"), ("status-read", "Accounts!B2")]
    assert '"Ancien client" as former (2)' in checked.warnings[-1].message


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_rules_can_use_status_former(tmp_path, engine):
    rules = tmp_path / "acme.yaml"
    rules.write_text(textwrap.dedent("""\
        extends: default
        rules:
          - id: lapsed
            when: status == "former"
            then: {flag: win-back}
            why: A former client, to win back.
        tests:
          - name: a former client is flagged
            account: {status: former, revenue: 0, potential: 50000}
            expect: {flags: [win-back]}
        """))
    rows = [["A1", "Acme", "Ancien client", 0, 50000], ["A2", "Bolt", "Client actif", 9000, 20000],
            ["A3", "Coda", "Lost", 0, 10000]]
    path = write_workbook(tmp_path / "status.xlsx",
                          ["Code client", "Raison sociale", "Statut", "CA N", "Potentiel"], rows)
    result = headless(path, rules=str(rules), engine=engine)
    flags = result.outputs["Flags"].fillna("").tolist()
    assert ["win-back" in f for f in flags] == [True, False, True]


# ------------------------------------------------------- every problem kept


def test_every_bad_cell_is_kept_with_kind_and_column():
    rows = [[f"A{k}", "oops", "ami", 9] for k in range(250)]
    checked = check(["id", "CA N", "Statut", "Relation"], rows)
    per = {}
    for p in checked.warnings:
        per.setdefault((p.kind, p.column), []).append(p.where)
    assert len(per[("not-a-number", "CA N")]) == 250
    assert len(per[("unknown-status", "Statut")]) == 250
    assert len(per[("out-of-range", "Relation")]) == 250
    assert per[("not-a-number", "CA N")][-1] == "Accounts!B251"
    assert not any("only the first ones" in p.message for p in checked.warnings)
