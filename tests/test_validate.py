"""Validate & coerce: each bad input gets a warning naming its cell, and inputs stay as typed."""

import copy
import math

from potentiel.fields import Catalogue
from potentiel.validate import FormulaCell, RawTable, validate


def run(headers, rows):
    formulas = [(i, j) for i, r in enumerate(rows) for j, v in enumerate(r)
                if isinstance(v, FormulaCell)]
    raw = RawTable(list(headers), [list(r) for r in rows], formulas=formulas)
    before = copy.deepcopy((raw.headers, raw.rows))
    checked = validate(raw, Catalogue.build())
    assert (raw.headers, raw.rows) == before, "validate must never change the input"
    return checked, [str(w) for w in checked.warnings]


def test_text_in_number_columns_is_parsed_when_unambiguous():
    checked, warnings = run(["id", "CA N", "DSO"], [["A", "1 200 €", "12,5"], ["B", "oops", 30]])
    acc = checked.accounts
    assert acc.loc[0, "revenue"] == 1200 and acc.loc[0, "dso_days"] == 12.5
    assert math.isnan(acc.loc[1, "revenue"])
    assert any(w.startswith('Accounts!B3: "oops" is not a number') for w in warnings), warnings


def test_ambiguous_number_warns_with_its_cell():
    checked, warnings = run(["id", "revenue"], [["A", "1,200"]])
    assert math.isnan(checked.accounts.loc[0, "revenue"])
    assert any(w.startswith('Accounts!B2: "1,200" could be read two ways') for w in warnings)


def test_empty_rows_are_skipped_but_positions_kept():
    checked, warnings = run(["id", "revenue"], [["A", 1], [None, None], ["", " "], ["B", 2]])
    assert list(checked.accounts.index) == [0, 3]
    assert list(checked.accounts["id"]) == ["A", "B"]
    assert warnings == []


def test_duplicate_ids_warn_naming_both_cells_and_both_are_kept():
    checked, warnings = run(["id", "revenue"], [["A1", 1], ["A2", 2], ["A1", 3]])
    assert len(checked.accounts) == 3
    dup = [w for w in warnings if "appears 2 times" in w]
    assert dup and "Accounts!A2" in dup[0] and "Accounts!A4" in dup[0]


def test_negative_revenue_is_kept_and_warned():
    checked, warnings = run(["id", "revenue"], [["A", -500]])
    assert checked.accounts.loc[0, "revenue"] == -500
    assert any(w.startswith("Accounts!B2: negative revenue") for w in warnings)


def test_header_typo_suggests_the_closest_field():
    checked, warnings = run(["id", "Distnce_km", "revenue"], [["A", 700, 10]])
    assert "distance_km" not in checked.columns
    assert any(w.startswith('Accounts!B1: unknown column "Distnce_km" (did you mean') and
               "distance_km" in w for w in warnings), warnings


def test_french_headers_match_ignoring_case_accents_and_punctuation():
    checked, _ = run(["CODE CLIENT", "Raison sociale", "CA N-1", "Dépense par salarié", "effectif"],
                     [["A", "Acme", 10, 300, 20]])
    assert set(checked.columns) == {"id", "name", "revenue_n1", "spend_per_employee", "headcount"}


def test_formula_cell_is_blank_and_warned():
    checked, warnings = run(["id", "revenue"], [["A", FormulaCell("=B3*2")]])
    assert math.isnan(checked.accounts.loc[0, "revenue"])
    assert "Accounts!B: 1 formula has no saved value (B2 =B3*2); left blank: open and save " \
        "the file in Excel, or paste the values" in warnings


def test_out_of_range_rating_is_blanked_with_a_warning():
    checked, warnings = run(["id", "Relation"], [["A", 7], ["B", 3]])
    assert math.isnan(checked.accounts.loc[0, "relationship"])
    assert checked.accounts.loc[1, "relationship"] == 3
    assert any(w.startswith("Accounts!B2: 7 is outside 1–5") for w in warnings)


def test_status_words_in_french_and_english():
    checked, warnings = run(["id", "Statut"], [["A", "Client"], ["B", "Prospects"], ["C", "ami"]])
    assert list(checked.accounts["status"]) == ["client", "prospect", "ami"]
    assert [w.kind for w in checked.warnings] == ["unknown-status"]
    assert any('status "ami"' in w for w in warnings)


def test_numbers_in_text_fields_read_as_text():
    checked, _ = run(["id", "revenue"], [[1001.0, 5]])
    assert checked.accounts.loc[0, "id"] == "1001"


def test_messages_name_real_cells_when_the_table_is_offset():
    raw = RawTable(["id", "revenue"], [["A", "oops"]], sheet="Comptes", header_row=4,
                   col_numbers=[3, 4])
    checked = validate(raw, Catalogue.build())
    assert any(str(w).startswith('Comptes!D5: "oops"') for w in checked.warnings)
