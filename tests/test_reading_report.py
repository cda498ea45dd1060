"""What was read is said: the column map, `potentiel inspect`, `potentiel fields`, grouped
warnings in the terminal, the Reading sheet, and the headers companies write."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from helpers import SHARED_CASES, fr, write_workbook
from potentiel.cli import main
from potentiel.fields import Catalogue
from potentiel.headless import inspect_file, score_file
from potentiel.problems import Problem, UserError
from potentiel.sources.headers import find_header_row, year_columns, year_header
from potentiel.sources.reading import group_problems
from potentiel.sources.totals import is_total_label

CASES = SHARED_CASES


def case(tmp_path: Path, folder: str, name: str) -> Path:
    src = CASES / folder / name
    assert src.is_file(), f"shared case missing: {src}"
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


def sheet_rows(path: Path, name: str) -> list[list]:
    """Rows of a sheet; Potentiel's sheets by their English name, found by marker."""
    from helpers import own_sheet
    book = CalamineWorkbook.from_path(str(path))
    if name not in book.sheet_names:
        name = own_sheet(path, name)
    return book.get_sheet_by_name(name).to_python()


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("header, year", [
    ("CA 2025", 2025), ("CA HT 2024", 2024), ("Chiffre d'affaires 2023", 2023),
    ("Revenue 2025", 2025), ("Sales FY2025", 2025), ("CA 2025 HT", 2025), ("Ventes 2022", 2022)])
def test_revenue_by_year_headers(header, year):
    assert year_header(header)[0] == year


@pytest.mark.parametrize("header", ["Année 2025", "Effectif 2025", "CA", "2025", "Code 2025"])
def test_other_headers_with_a_year_are_not_revenue(header):
    assert year_header(header) is None


def test_the_latest_year_is_n_and_older_years_are_not_used():
    uses = year_columns(["Code", "CA 2022", "CA 2025", "CA 2023", "CA 2024"])
    assert {j: u.field for j, u in uses.items()} == {1: None, 2: "revenue", 3: "revenue_n2",
                                                      4: "revenue_n1"}
    assert "older than N-2" in uses[1].note


def test_header_row_is_the_one_with_most_known_headers():
    grid = [["Portefeuille clients — export du 28/11"], ["Montants HT"], [None],
            ["Code client", "Raison sociale", "CA 2025"], ["C1", "Alpha", 10]]
    row, note = find_header_row(grid, Catalogue.build())
    assert row == 3 and "row 4" in note and "1, 2" in note


def test_a_clients_own_turnover_is_never_proposed_as_revenue(workbook, tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "Chiffre d'affaires société", "CA N"),
                          [["C1", 5_000_000, 1000], ["C2", 8_000_000, 2000]])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert result.language == "fr"  # French headers: the report is the catalog's French
    did_you_mean = fr(" (did you mean {field}? say so in the column map)").split("{field}")[0]
    assert not any(did_you_mean.strip() in p.message for p in result.warnings)
    uses = {c.header: c for c in result.reading.columns}
    assert uses["Chiffre d'affaires société"].field is None
    assert fr("not a field Potentiel knows") in uses["Chiffre d'affaires société"].note
    assert did_you_mean.strip() not in uses["Chiffre d'affaires société"].note


def test_total_words():
    for w in ("Total", "TOTAL", "Total général", "Sous-total", "Grand total", "Somme",
              "Sous-total Nantes"):
        assert is_total_label(w), w
    assert not is_total_label("Totalement bio")


def test_an_account_named_total_with_an_id_is_an_account(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "Raison sociale", "CA N"),
                          [["C1", "Total Energies", 120_000], ["C2", "Beta", 45_000],
                           ["C3", "Gamma", 15_000], [None, "Total", 180_000]])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["id"]) == ["C1", "C2", "C3"]
    assert [r.row for r in result.reading.left_out] == [5]


def test_sub_totals_and_a_grand_total_by_their_sums(tmp_path):
    rows = [["C1", "Alpha", 100.10], ["C2", "Beta", 200.20], [None, None, 300.30],
            ["C3", "Gamma", 50.05], ["C4", "Delta", 49.95], [None, None, 100.00],
            [None, None, 400.30]]
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "Raison sociale", "CA N"), rows)
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["id"]) == ["C1", "C2", "C3", "C4"]
    assert [r.row for r in result.reading.left_out] == [4, 7, 8]
    assert result.top.sum() >= 1 and float(result.accounts["revenue"].sum()) == pytest.approx(400.30)


def test_text_of_digits_in_an_unknown_column_keeps_its_zeros(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "SIRET", "CA N"),
                          [["C1", "00000000000004", 10], ["C2", "12345678900012", 20]])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["siret"]) == ["00000000000004", "12345678900012"]


# --------------------------------------------------------------------------- column map


def _with_settings(path: Path, rows: list[tuple[str, object]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Settings")
    ws.append(["Setting", "Value"])
    for r in rows:
        ws.append(list(r))
    wb.save(path)


def test_the_settings_column_map_says_which_column_is_which(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "Montant facturé", "Potentiel"),
                          [["C1", 100, 1000], ["C2", 300, 1000]])
    _with_settings(path, [("Colonne : CA N", "Montant facturé")])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["revenue"]) == [100, 300]
    use = next(c for c in result.reading.columns if c.header == "Montant facturé")
    # French headers: the note and the warnings are the catalog's French
    assert result.language == "fr"
    assert use.field == "revenue"
    assert use.note == fr('the column map reads {field} from "{header}"', field="revenue",
                          header="Montant facturé")
    unknown = fr('unknown setting "{label}", ignored (known: {list})').split("{label}")[0]
    assert not any(unknown in p.message for p in result.warnings)


def test_the_column_map_wins_over_an_alias(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "CA", "CA HT 2025"),
                          [["C1", 1, 100], ["C2", 2, 300]])
    _with_settings(path, [("Column: revenue", "CA HT 2025")])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["revenue"]) == [100, 300]
    ca = next(c for c in result.reading.columns if c.header == "CA")
    assert ca.field is None


def test_a_column_map_naming_an_unknown_field_or_header_is_said(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "CA N"), [["C1", 1]])
    _with_settings(path, [("Column: revenu", "CA N")])
    with pytest.raises(UserError) as exc:
        score_file(path, tmp_path / "o.xlsx")
    assert "Settings!B2" in str(exc.value) and "revenue" in str(exc.value)
    path2 = write_workbook(tmp_path / "u.xlsx", ("Code client", "CA N"), [["C1", 1]])
    _with_settings(path2, [("Column: potential", "Potentiel estimé")])
    result, _ = score_file(path2, tmp_path / "o2.xlsx")
    said = [p for p in result.warnings if p.kind == "column-map"]
    assert said and "Potentiel estimé" in said[0].message and said[0].where == "Settings!B2"


def test_a_rule_files_columns_section(tmp_path):
    rules = tmp_path / "acme.yaml"
    rules.write_text("extends: default\ncolumns:\n  revenue: Montant facturé\n", encoding="utf-8")
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "Montant facturé"),
                          [["C1", 100], ["C2", 300]])
    result, _ = score_file(path, tmp_path / "o.xlsx", rules=str(rules))
    assert list(result.accounts["revenue"]) == [100, 300]
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: default\ncolumns:\n  revenu: Montant facturé\n", encoding="utf-8")
    assert main(["rules", "check", str(bad)]) == 1


# --------------------------------------------------------------------------- reports


def test_inspect_prints_how_the_file_is_read_and_writes_nothing(tmp_path, capsys):
    path = case(tmp_path, "reading", "a1_erp_title_row.xlsx")
    before = path.read_bytes()
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out  # a French export: inspect speaks French, as score does
    assert "en-têtes trouvés ligne 4" in out
    assert "'CA 2025'" in out and "→ revenue (CA N (année 2025" in out
    assert "ligne 34 : une ligne de total" in out
    assert "'Date de création'" in out and "non utilisée" in out
    assert "Par champ (lues / vides / illisibles)" in out and "Les 5 premiers comptes" in out
    assert path.read_bytes() == before and "Rien n'a été écrit." in out


def test_fields_lists_french_and_english_headers(capsys):
    assert main(["fields"]) == 0
    out = capsys.readouterr().out
    assert "Chiffre d'affaires" in out and "Revenue N" in out and "CA 2025" in out
    assert "Catégorie forcée" in out and "Code client" in out


def test_grouping_puts_run_level_first_and_one_line_per_kind_and_column():
    ps = [Problem("bad", f"A!F{i}", kind="nan", column="CA") for i in range(2, 30)]
    ps.insert(5, Problem("no id column"))
    grouped = group_problems(ps)
    assert grouped[0].message == "no id column"
    assert len(grouped) == 2 and grouped[1].message.startswith("28 cells in column CA")
    assert grouped[1].where.startswith("A!F2, A!F3") and "and 23 more" in grouped[1].where


def test_every_warning_is_kept_in_the_reading_sheet(tmp_path, capsys):
    path = case(tmp_path, "reading", "j_key_warning_hidden.xlsx")
    out = tmp_path / "o.xlsx"
    assert main(["score", str(path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    result, _ = score_file(path, tmp_path / "again.xlsx")
    rows = sheet_rows(out, "Reading")
    at = next(i for i, r in enumerate(rows) if r and r[0] in ("Every warning",
                                                              "Tous les avertissements"))
    listed = [r for r in rows[at + 1:] if any(v != "" for v in r)]
    assert rows[at][1] == len(result.warnings) == len(listed)
    first_cell_level = next(i for i, r in enumerate(listed) if "!" in str(r[0]) and
                            str(r[0])[-1].isdigit())
    assert all("!" not in str(r[0]) or ":" in str(r[0]) for r in listed[:first_cell_level])
    assert "(chacun avec sa cellule : la feuille Lecture)" in printed or \
        len(group_problems(result.warnings)) == len(result.warnings)


def test_no_contradicting_lines_for_a_criterion_missing_a_column(tmp_path):
    # trend needs N, N-1 and N-2; without N-2 it cannot score: one true line, no "filled"
    path = write_workbook(tmp_path / "t.xlsx", ("Code client", "CA N", "CA N-1"),
                          [["C1", 100, 90], ["C2", 200, 210]])
    result, _ = score_file(path, tmp_path / "o.xlsx")
    text = " | ".join(p.message for p in result.warnings if "trend" in p.message)
    assert "though" not in text


def test_inspect_reads_a_csv_the_same_way(tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text("Code client;Raison sociale;CA 2025;CA 2024\nC1;Alpha;1 200,50 €;1000\n"
                    "C2;Beta;NC;900\nTOTAL;;1200,50;1900\n", encoding="utf-8")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out  # French headers: French report
    assert 'séparateur ";"' in out and "→ revenue (CA N (année 2025" in out
    assert "ligne 4 : une ligne de total" in out
    # "NC" is a value said to be unknown: blank, not unreadable
    revenue = next(line for line in out.splitlines() if line.strip().startswith("revenue "))
    assert revenue.split()[1:4] == ["1", "1", "0"]


def test_the_only_sheet_is_read_when_none_is_named_accounts(tmp_path):
    path = tmp_path / "export.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feuil1"
    ws.append(["Export CRM du 28/11"])
    ws.append(["Code client", "Raison sociale", "CA N"])
    ws.append(["C1", "Alpha", 1000])
    wb.save(path)
    result, _ = score_file(path, tmp_path / "o.xlsx")
    assert list(result.accounts["id"]) == ["C1"]
    said = [p for p in result.warnings if p.kind == "accounts-sheet"]
    assert len(said) == 1 and "Feuil1" in said[0].message
    wb.create_sheet("Feuil2")
    wb.save(path)
    with pytest.raises(UserError) as exc:
        score_file(path, tmp_path / "o2.xlsx")
    assert "Feuil1, Feuil2" in str(exc.value) and "Clients" in str(exc.value)


def test_blank_rows_above_the_headers_do_not_count_in_the_rows_scanned():
    """Headers on row 45 under 44 blank rows (charts drawn above the table), and a title
    on row 1 then 40 blank rows: found, the 30 rows scanned being rows with a value."""
    header = ["Code client", "Raison sociale", "CA 2025"]
    row, note = find_header_row([[None]] * 44 + [header, ["C1", "Alpha", 10]], Catalogue.build())
    assert row == 44 and "row 45" in note
    row, note = find_header_row([["Portefeuille"]] + [[None, ""]] * 40 + [header],
                                Catalogue.build())
    assert row == 41 and "row 42" in note
