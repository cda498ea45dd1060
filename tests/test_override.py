"""A hand-set category is kept: a Category override column wins over the computed category
and shows in Why and Flags; a Category cell edited by hand is reported as overwritten and
never counted as a change of the model. On the shared case (headless and xlwings' remote
path) and on workbooks built here."""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import datetime as dt
import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers import SHARED_CASES, write_workbook, score_headless, score_remote, shared_case
from potentiel.categories import DEFAULT_CATEGORIES, hand_edits, letter_of
from potentiel.headless import score_file

CASES = SHARED_CASES / "reading"
WHEN = dt.datetime(2026, 3, 2, 9, 30)
EDITED = "h_category_edited_by_hand.xlsx"


def case(tmp_path, name: str) -> Path:
    return shared_case(tmp_path, "reading", name)


def headless(path: Path, **kw):
    return score_headless(path, path.with_name("out-" + path.name), **kw)


def remote(path: Path, **kw):
    return score_remote(path, **kw)


def of_kind(result, kind: str) -> dict[str, object]:
    return {p.where: p for p in result.warnings if p.kind == kind}


def row_of(result, ident: str):
    return result.accounts.index[result.accounts["id"] == ident][0]


# ------------------------------------------------------------- the shared case


@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_a_category_edited_by_hand_is_reported_and_not_a_change(tmp_path, read):
    path = case(tmp_path, EDITED)
    result = read(path)
    # the old output block (written without markers) is adopted, and that is said
    adopted = [p for p in result.warnings if p.kind == "adopted"]
    assert adopted and adopted[0].where == "Clients!T1"
    # C01005's Category was changed from C (its label still says Medium) to A by hand
    edits = of_kind(result, "hand-edit")
    assert list(edits) == ["Clients!U6"]
    p = edits["Clients!U6"]
    assert p.column == "Category"
    # the case's headers are French (Code client …): a French run, said in French
    assert p.message.startswith("Category a été modifiée à la main de C en A (son libellé en "
                                "V6 indique Medium)")
    assert "la catégorie de Potentiel est réécrite" in p.message
    assert "« Catégorie forcée »" in p.message
    pos = row_of(result, "C01005")
    assert result.previous_category[pos] == "C"  # what the model said, not the edit
    # counted exactly as if nobody had touched the cell
    wb = openpyxl.load_workbook(path)
    assert wb["Clients"]["U6"].value == "A"
    wb["Clients"]["U6"].value = "C"
    untouched = tmp_path / "untouched.xlsx"
    wb.save(untouched)
    clean = read(untouched)
    assert not of_kind(clean, "hand-edit")
    assert result.changes == clean.changes
    assert result.category.equals(clean.category)
    # C01005's move is measured from C: never "down" from the hand-typed A
    moved_down = [result.accounts.at[i, "id"] for i in result.accounts.index
                  if result.previous_category[i] in ("A", "B", "C", "D") and result.category[i]
                  and "ABCD".index(result.category[i]) > "ABCD".index(result.previous_category[i])]
    assert "C01005" not in moved_down
    assert result.changes["down"] == len(moved_down)


def test_the_edit_is_overwritten_in_the_file_and_the_log_counts_no_edit(tmp_path):
    path = case(tmp_path, EDITED)
    result, out = score_file(path, tmp_path / "scored.xlsx", when=WHEN)
    wb = openpyxl.load_workbook(out)
    ws = wb["Clients"]
    pos = row_of(result, "C01005")
    assert ws["U6"].value == result.category[pos]           # Potentiel's category written back
    from helpers import own_sheet
    from potentiel.i18n import use_language
    with use_language(result.language):  # a French workbook: the label in French
        assert ws["V6"].value == result.config.categories.shown_label(result.category[pos])
    log = [r for r in wb[own_sheet(out, "Log")].iter_rows(values_only=True)]
    head, last = log[0], log[-1]
    from potentiel.report import LOG_HEADERS
    row = dict(zip(LOG_HEADERS, last))  # by position: the headers are in the run's language
    assert (row["Changed"], row["Moved up"], row["Moved down"]) == \
        (result.changes["changed"], result.changes["up"], result.changes["down"])
    # a second run reads its own output back: no edit, no change
    again, _ = score_file(out, tmp_path / "again.xlsx", when=WHEN)
    assert not of_kind(again, "hand-edit")
    assert again.changes["changed"] == 0


# ------------------------------------------------------------- the override column

HEADERS = ("id", "name", "status", "revenue", "revenue_n1", "potential", "payment_incidents",
           "relationship", "distance_km")
ROWS = [
    ("A1", "Big", "client", 200000, 180000, 400000, 0, 5, 20),
    ("A2", "Mid", "client", 50000, 52000, 120000, 1, 3, 40),
    ("A3", "Small", "client", 2000, 2500, 5000, 3, 2, 60),
    ("A4", "Far", "prospect", None, None, 300000, 0, 4, 900),
    ("A5", "Other", "client", 30000, 20000, 90000, 0, 3, 30),
]


def book(tmp_path, header: str | None, overrides: list, name="book.xlsx", **kw) -> Path:
    headers = list(HEADERS) + ([header] if header else [])
    rows = [list(r) + ([o] if header else []) for r, o in zip(ROWS, overrides)]
    return write_workbook(tmp_path / name, headers, rows, **kw)


def test_without_override_column_nothing_changes(tmp_path):
    result = headless(book(tmp_path, None, [None] * 5))
    assert result.override is None
    assert "override" not in " ".join(result.outputs["Flags"].fillna(""))
    assert result.changes["set_by_hand"] == 0


@pytest.mark.parametrize("header", ["Category override", "Catégorie forcée", "CATEGORIE FORCEE"])
@pytest.mark.parametrize("read", [headless, remote], ids=["headless", "xlwings-remote"])
def test_an_override_wins_and_shows_in_why_and_flags(tmp_path, header, read):
    plain = headless(book(tmp_path, None, [None] * 5, name="plain.xlsx"))
    computed = dict(zip(plain.accounts["id"], plain.category))
    assert computed["A3"] != "A" and computed["A1"] != "D"
    result = read(book(tmp_path, header, [None, None, "a", None, "d"]))
    cat = dict(zip(result.accounts["id"], result.category))
    out = result.outputs.set_index(result.accounts["id"])
    assert cat["A3"] == "A" and cat["A5"] == "D"
    assert cat["A1"] == computed["A1"] and cat["A2"] == computed["A2"]
    assert out.at["A3", "Category"] == "A" and out.at["A3", "Category label"] == "Strategic"
    assert out.at["A3", "Why"].startswith(
        f"category set by hand in {header}: A (the model says {computed['A3']})")
    assert "override" in out.at["A3", "Flags"].split(", ")
    assert "override" not in (out.at["A1", "Flags"] or "")
    assert "set by hand" not in out.at["A1", "Why"]
    assert out.at["A3", "Score"] == plain.outputs.set_index(plain.accounts["id"]).at["A3", "Score"]
    assert result.counts["A"] == sum(1 for v in cat.values() if v == "A")
    assert not [p for p in result.warnings if "override" in p.kind]


@pytest.mark.parametrize("typed,letter", [
    ("A", "A"), ("b", "B"), (" C ", "C"), ("Strategic", "A"), ("stratégique", "A"),
    ("STRATEGIQUE", "A"), ("Important", "B"), ("Moyen", "C"), ("Moyenne", "C"),
    ("medium", "C"), ("Petit", "D"), ("Small", "D"), ("E", None), ("AA", None),
    ("", None), (None, None), ("top", None),
])
def test_letters_and_labels_in_both_languages(typed, letter):
    assert letter_of(typed, DEFAULT_CATEGORIES) == letter


def test_a_label_of_the_config_names_its_letter(tmp_path):
    rules = tmp_path / "custom.yaml"
    rules.write_text(textwrap.dedent("""\
        categories:
          A: {min: 70, label: Key account}
          B: {min: 40, label: Develop}
          C: {min: 0, label: Maintain}
        """))
    result = headless(book(tmp_path, "Category override", ["maintain", "Key Account", "Petit",
                                                           None, "Strategic"]),
                      rules=str(rules))
    cat = dict(zip(result.accounts["id"], result.category))
    assert cat["A1"] == "C" and cat["A2"] == "A" and cat["A5"] == "A"
    bad = of_kind(result, "bad-override")
    assert list(bad) == ["Accounts!J4"]  # "Petit" is D's label, and there is no D


def test_an_invalid_override_is_a_warning_naming_the_cell(tmp_path):
    plain = headless(book(tmp_path, None, [None] * 5, name="plain.xlsx"))
    result = headless(book(tmp_path, "Catégorie forcée", ["Z", None, "top priority", None, 3]))
    bad = of_kind(result, "bad-override")
    assert set(bad) == {"Accounts!J2", "Accounts!J4", "Accounts!J6"}
    assert all(p.column == "Catégorie forcée" for p in bad.values())
    assert bad["Accounts!J2"].message.startswith('"Z" is not a category (A, B, C, D')
    assert "ignored" in bad["Accounts!J2"].message
    assert result.category.equals(plain.category)  # ignored: the computed category stays
    assert result.override.isna().all()
    assert "override" not in " ".join(result.outputs["Flags"].fillna(""))


def test_an_override_beats_a_rule_cap(tmp_path):
    # the default rule too-far caps a prospect 600 km or more away at C
    plain = headless(book(tmp_path, None, [None] * 5, name="plain.xlsx"))
    far = row_of(plain, "A4")
    assert "too-far" in plain.rules.fired[far] and plain.category[far] in ("C", "D")
    result = headless(book(tmp_path, "Category override", [None, None, None, "A", None]))
    pos = row_of(result, "A4")
    assert result.category[pos] == "A"
    assert result.model_category[pos] == plain.category[far]
    why = result.outputs.at[pos, "Why"]
    assert why.startswith(f"category set by hand in Category override: A (the model says "
                          f"{plain.category[far]})")
    assert "too-far" in why  # the rule that capped it still shows
    flags = result.outputs.at[pos, "Flags"].split(", ")
    assert "inaccessible" in flags and "override" in flags


@pytest.mark.parametrize("engine", ["durable", "compiled"])
def test_an_excluded_account_stays_excluded_and_that_is_said(tmp_path, engine):
    rules = tmp_path / "exclude.yaml"
    rules.write_text(textwrap.dedent("""\
        extends: default
        rules:
          - id: no-prospects
            when: status == "prospect"
            then: {exclude: true}
            why: Prospects are ranked elsewhere.
        """))
    result = headless(book(tmp_path, "Category override", [None, None, None, "A", "B"]),
                      rules=str(rules), engine=engine)
    pos = row_of(result, "A4")
    assert result.category[pos] is None
    assert result.outputs.at[pos, "Category label"] == "Excluded from ranking"
    blocked = of_kind(result, "override-excluded")
    assert list(blocked) == ["Accounts!J5"]
    assert "not applied" in blocked["Accounts!J5"].message
    assert result.category[row_of(result, "A5")] == "B"


def test_summary_and_counts_use_the_final_category(tmp_path):
    from potentiel.report import summary_blocks
    result = headless(book(tmp_path, "Category override", ["D", "D", "D", "D", "D"]))
    assert result.counts == {"A": 0, "B": 0, "C": 0, "D": 5}
    table = summary_blocks(result)[1].values
    assert [r[2] for r in table[1:5]] == [0, 0, 0, 5]


# ------------------------------------------------------------- changes since the last run


def rescore(path: Path, tmp_path: Path, name: str):
    return score_file(path, tmp_path / name, when=WHEN)


def test_overrides_are_not_counted_as_changes(tmp_path):
    first, out = rescore(book(tmp_path, "Category override", [None] * 5), tmp_path, "one.xlsx")
    # a person sets two categories in the scored file
    wb = openpyxl.load_workbook(out)
    ws = wb["Accounts"]
    col = [c.value for c in ws[1]].index("Category override") + 1
    ws.cell(2, col).value = "D"
    ws.cell(4, col).value = "Stratégique"
    wb.save(out)
    second, out2 = rescore(out, tmp_path, "two.xlsx")
    assert second.changes == {"changed": 0, "up": 0, "down": 0, "new": 0, "set_by_hand": 2}
    assert second.category[row_of(second, "A1")] == "D"
    assert second.category[row_of(second, "A3")] == "A"
    # the next run reads the override's letter back with its label: no edit, no change
    third, _ = rescore(out2, tmp_path, "three.xlsx")
    assert not of_kind(third, "hand-edit")
    assert third.changes["changed"] == 0 and third.changes["set_by_hand"] == 2


def test_hand_edits_found_against_the_label():
    prev = pd.Series(["A", "B", "A", None, "c", "X", "B", None], dtype=object)
    label = pd.Series(["Strategic", "Medium", "Moyen", "Important", "Medium", "Small",
                       "Not enough data", "Excluded from ranking"], dtype=object)
    edits = hand_edits(prev, label, DEFAULT_CATEGORIES)
    assert edits.edited.tolist() == [False, True, True, True, False, True, True, False]
    assert edits.model.tolist() == ["A", "C", "C", "B", "C", "D", None, None]
    assert edits.typed.tolist() == [None, "B", "A", None, None, "X", "B", None]
    # a label that names no category proves nothing: the cell is taken as it is
    other = hand_edits(pd.Series(["A"], dtype=object), pd.Series(["Key"], dtype=object),
                       DEFAULT_CATEGORIES)
    assert other.edited.tolist() == [False] and other.model.tolist() == ["A"]


def test_a_cleared_category_cell_is_a_hand_edit(tmp_path):
    first, out = rescore(book(tmp_path, None, [None] * 5), tmp_path, "one.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["Accounts"]
    col = [c.value for c in ws[1]].index("Category") + 1
    was = ws.cell(3, col).value
    ws.cell(3, col).value = None
    wb.save(out)
    second, _ = rescore(out, tmp_path, "two.xlsx")
    edits = of_kind(second, "hand-edit")
    where = f"Accounts!{openpyxl.utils.get_column_letter(col)}3"
    assert list(edits) == [where]
    assert edits[where].message.startswith(f"Category was changed by hand from {was} to blank")
    assert second.changes["changed"] == 0 and second.changes["new"] == 0
