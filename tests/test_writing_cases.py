"""Real workbooks written back as Excel requires (../shared/cases/writing/): elements of
workbook.xml in schema order, one content type per part."""

from __future__ import annotations

import collections
import re
import zipfile

from helpers import score_headless, shared_case


def test_calcpr_goes_after_external_references_in_schema_order(tmp_path):
    path = shared_case(tmp_path, "writing", "calcPr-before-externalReferences.xlsx")
    out = tmp_path / "out.xlsx"
    score_headless(path, out)
    xml = zipfile.ZipFile(out).read("xl/workbook.xml").decode()
    order = re.findall(r"<(?:\w+:)?(sheets|externalReferences|definedNames|calcPr)\b", xml)
    assert order == ["sheets", "externalReferences", "definedNames", "calcPr"]


def test_a_leftover_content_type_override_is_not_added_again(tmp_path):
    path = shared_case(tmp_path, "writing", "stale-override-duplicated.xlsx")
    out = tmp_path / "out.xlsx"
    score_headless(path, out)
    types = zipfile.ZipFile(out).read("[Content_Types].xml").decode()
    parts = collections.Counter(p.lower() for p in re.findall(r'PartName="([^"]+)"', types))
    assert parts and not [p for p, n in parts.items() if n > 1]


def _values(path, sheet="Accounts"):
    """A written sheet's values as Potentiel reads them (without a sparse sheet's empty
    rows: `potentiel.xlsxstream`), as (row, col) → value."""
    from potentiel.headless import Workbook
    wb = Workbook(path)
    try:
        ref = next(s for s in wb.package.sheets if s.name == sheet)
        return {(i + 1, j + 1): v for i, row in enumerate(wb.values(ref))
                for j, v in enumerate(row) if v is not None}
    finally:
        wb.package.close()


def _column(cells, header):
    return next(c for (r, c), v in cells.items() if r == 1 and v == header)


def test_accounts_a_million_rows_apart_are_read_and_written_in_their_rows(tmp_path):
    """Formatted rows down to 1,048,576 with accounts at the top (rows 2-111) and at the
    very bottom (1,048,548-1,048,576): every account is scored and its outputs land in
    its own row; the empty rows between are said, not read one by one."""
    path = shared_case(tmp_path, "writing", "formatted-rows-to-1048576-ids-timeout.xlsx")
    out = tmp_path / "out.xlsx"
    result = score_headless(path, out)
    assert len(result.accounts) == 139
    said = [p for p in result.warnings if getattr(p, "kind", "") == "empty-rows"]
    assert len(said) == 1 and "1,048,436 empty rows" in said[0].message
    assert said[0].where == "Accounts!2:1048576"
    cells = _values(out)
    category = _column(cells, "Category")
    ids = {r: v for (r, c), v in cells.items() if c == 26 and r > 1}
    assert ids[2] == "K0001" and ids[1048576] == "K0139" and len(ids) == 139
    assert {r for (r, c) in cells if c == category and r > 1} == set(ids)


def test_a_stray_value_far_below_the_accounts_leaves_them_scored(tmp_path):
    """"total" typed in A100000 under five accounts: the row is a total row, said with
    its cell; the five accounts are scored; the 99,993 empty rows between are said."""
    path = shared_case(tmp_path, "writing", "stray-value-A100000-quadratic-write.xlsx")
    out = tmp_path / "out.xlsx"
    result = score_headless(path, out)
    assert len(result.accounts) == 5
    where = {p.where for p in result.warnings}
    assert "Accounts!100000:100000" in where and "Accounts!2:100000" in where
    cells = _values(out)
    category = _column(cells, "Category")
    assert {r for (r, c) in cells if c == category and r > 1} == {2, 3, 4, 5, 6}


def test_a_stray_value_at_aw1000000_is_read_without_a_dense_grid(tmp_path):
    """A value at AW1000000: 49 million cells for a reader of whole sheets; read as the
    rows that hold a value, the five accounts are scored and the value stays where it
    was typed."""
    path = shared_case(tmp_path, "writing", "stray-value-AW1000000-2GB-no-end.xlsx")
    out = tmp_path / "out.xlsx"
    result = score_headless(path, out)
    assert len(result.accounts) == 5
    before, after = _values(path), _values(out)
    assert after[(1000000, 49)] == before[(1000000, 49)]
    assert all(after.get(k) == v for k, v in before.items())


def test_the_check_of_a_sparse_sheet_reads_it_back_a_row_at_a_time_and_sees_a_change(tmp_path):
    """The check after writing reads a sheet whose values stand a million rows apart a
    row at a time (`Workbook.sparse_rows`): the same values as a full read, the empty
    rows between as one run (`_Skip`), and a cell of the user's that differs is named,
    in a run of empty rows too."""
    from pathlib import Path

    from potentiel.headless import Workbook, _read_back, _Skip, changed_cells
    path = shared_case(tmp_path, "writing", "formatted-rows-to-1048576-ids-timeout.xlsx")
    out = tmp_path / "out.xlsx"
    score_headless(path, out)
    wb = Workbook(Path(out))
    ref = next(s for s in wb.package.sheets if s.name == "Accounts")
    grid = wb.values(ref)
    back = _read_back(str(out), ref, sparse=True)
    rows = []
    for row in back:
        rows.extend([[]] * row if isinstance(row, _Skip) else [row])
    assert len(rows) == len(grid) == 1048576
    assert back.width == max(len(r) for r in grid)
    for r in (0, 1, 110, 1048547, 1048575):
        assert [None if v == "" else v for v in rows[r]] == grid[r]
    assert rows[5000] == [] and grid[5000] == []
    before = [list(r) for r in grid[:2]] + grid[2:]
    before[1048575] = list(before[1048575])
    before[1048575][0] = "typed before"
    changed = changed_cells(before, _read_back(str(out), ref, sparse=True), set())
    assert changed and changed[0][:3] == (1048576, 1, "typed before")
    before[5000] = ["typed in an empty row"]  # where the file read back has none
    changed = changed_cells(before, _read_back(str(out), ref, sparse=True), set())
    assert changed[0][:3] == (5001, 1, "typed in an empty row")
    assert changed_cells(grid, _read_back(str(out), ref, sparse=True), set()) == []
