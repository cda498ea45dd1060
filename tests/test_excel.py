"""The xlwings entry points on the real remote code path: ``xw.Book(json=payload)``.

The payload is built from the shipped template exactly as xlwings' VBA client would send
it; the actions that come back are checked cell by cell, played on a copy of the file the
way the VBA client would (tests/vba_client.py) and compared with the headless front end.
Two test criteria (``ca``, ``rel``) come from a plugin folder, next to whatever built-in
criteria are installed: the assertions hold with or without the built-ins.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import datetime as dt
import importlib.util
import shutil
import textwrap
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw

from helpers import cells, payload_from_workbook
from potentiel.excel import (STATUS_NAME, Options, PayloadError, action_label,
                             check_rules, explain, parse_action, recompute, run_button,
                             run_remote)
from potentiel.headless import score_file
from potentiel.manager import load_plugins
from potentiel.report import EXPLAIN_CRITERIA_ROW, EXPLAIN_FACTS, EXPLAIN_FACTS_ROW, LOG_HEADERS
from potentiel.sample import HEADERS
from vba_client import VBA_FUNCS, apply_actions

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "portfolio.xlsm"
WHEN = dt.datetime(2026, 3, 2, 9, 30)
HEADER_ROW, FIRST_OUTPUT_COL, LAST_ROW = 5, len(HEADERS) + 1, 205

CRITERIA = '''
from potentiel import Criterion, Input, Scored, hookimpl

class Revenue(Criterion):
    name, label, default_weight = "{rev}", "Revenue rank", 2
    inputs = (Input("revenue", "money"),)
    def score(self, accounts, params):
        r = accounts["revenue"]
        return Scored((r.rank(pct=True) * 100).where(r.notna()), "for " + accounts["name"])

class Relation(Criterion):
    name, label, default_weight = "{rel}", "Relation", 1
    inputs = (Input("relationship", "rating"),)
    def score(self, accounts, params):
        return accounts["relationship"] * 20

@hookimpl
def register_criteria(register):
    register(Revenue())
    register(Relation())
'''


def plugin_folder(path: Path, rev: str, rel: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "crit.py").write_text(textwrap.dedent(CRITERIA.format(rev=rev, rel=rel)))
    return path


@pytest.fixture(scope="module")
def pro():
    if not getattr(xw, "__pro__", False):
        pytest.fail("xlwings' remote engine did not load: XLWINGS_LICENSE_KEY must be set "
                    "before xlwings is first imported")


@pytest.fixture
def same(tmp_path, pro):
    """The built-ins (the template's score columns) plus two test criteria."""
    return load_plugins([plugin_folder(tmp_path / "p", "ca", "rel")], entry_points=False)


new = same  # the test criteria have no column in the template: the table must grow


def book_of(payload):
    return xw.Book(json=copy.deepcopy(payload))


def actions_of(entry, payload, **options):
    book = book_of(payload)
    try:
        outcome = entry(book, Options(remote=True, when=WHEN, **options))
        return outcome, book.json()["actions"]
    finally:
        book.close()


def cells_written(actions, sheet_index):
    """(row, col) → value of every setValues cell on one sheet (1-based)."""
    out = {}
    for a in actions:
        if a["func"] == "setValues" and a["sheet_position"] == sheet_index:
            for i, line in enumerate(a["values"]):
                for j, v in enumerate(line):
                    out[(a["start_row"] + 1 + i, a["start_column"] + 1 + j)] = v
    return out


def test_recompute_writes_scores_in_the_output_columns_aligned_with_ids(same):
    payload = payload_from_workbook(TEMPLATE)
    outcome, actions = actions_of(recompute, payload, plugins=same)
    assert outcome.ok, outcome.message
    grid = payload["sheets"][0]["values"]
    headers = grid[HEADER_ROW - 1]
    written = cells_written(actions, 0)
    score_col = headers.index("Score") + 1
    cat_col = headers.index("Category") + 1
    assert written[(HEADER_ROW, score_col)] == "Score"
    result = outcome.result
    ids = result.accounts["id"]
    for pos in range(200):
        row = HEADER_ROW + 1 + pos
        assert grid[row - 1][0] == ids.at[pos]  # the id in column A of that sheet row
        expected = result.outputs.at[pos, "Score"]
        got = written[(row, score_col)]
        assert (got == "" and expected != expected) or got == pytest.approx(expected)
        letter = result.outputs.at[pos, "Category"]
        assert written[(row, cat_col)] == (letter if isinstance(letter, str) else "")
    assert {v for (r, c), v in written.items() if r == HEADER_ROW} >= {
        "Score", "Category", "Score: ca", "Score: rel", "Why"}
    assert outcome.message.startswith("Recomputed 200 accounts")


def test_nothing_is_written_outside_outputs_and_owned_sheets(same):
    payload = payload_from_workbook(TEMPLATE, selection="B12")
    names = {n["name"]: (n["sheet_index"], n["address"]) for n in payload["names"]}
    status = {names[f"{s}!{STATUS_NAME}"] for s in ("Accounts", "Settings")}
    owned = {3, 4, 5, 6, 7, 8, 9}  # Matrix, Summary, Explain, Log, Reading, Changes, History
    for entry in (recompute, check_rules, explain):
        _, actions = actions_of(entry, payload, plugins=same)
        for a in actions:
            sheet = a["sheet_position"]
            if a["func"] in ("namesAdd", "nameDelete"):  # only Potentiel's markers
                # new output columns the template lacks: criteria, and Profile (default rules)
                assert a["args"][0].startswith("_Potentiel.col.score.") or \
                    a["args"][0] == "_Potentiel.col.profile", a
                continue
            if a["func"] == "activateSheet":
                assert a["args"] == [5]
                continue
            if a["func"] == "resizeTable":  # the Accounts table grows to the right only
                assert sheet == 0 and a["args"][0] == 0 and a["args"][1].startswith("$A$5:")
                assert a["args"][1].endswith(f"${LAST_ROW}")
                continue
            if sheet in owned:
                continue
            cell = xw.utils.col_name(a["start_column"] + 1) + str(a["start_row"] + 1)
            if (sheet, cell) in status and a["row_count"] == a["column_count"] == 1:
                continue
            assert sheet == 0, f"{entry.__name__} wrote {a}"
            assert a["start_column"] + 1 >= FIRST_OUTPUT_COL, f"an input column was written: {a}"
            assert a["start_row"] + 1 >= HEADER_ROW
            assert a["start_row"] + a["row_count"] <= LAST_ROW


def test_only_actions_the_vba_client_implements(same, new):
    assert len(VBA_FUNCS) >= 30 and "setValues" in VBA_FUNCS
    payload = payload_from_workbook(TEMPLATE, selection="C40")
    seen = set()
    for entry in (recompute, check_rules, explain):
        _, actions = actions_of(entry, payload, plugins=same)
        seen |= {a["func"] for a in actions}
    assert seen <= VBA_FUNCS, seen - VBA_FUNCS
    assert {"setValues", "resizeTable", "activateSheet"} <= seen


def test_each_block_is_one_bulk_write(same):
    payload = payload_from_workbook(TEMPLATE)
    _, actions = actions_of(recompute, payload, plugins=same)
    table_writes = [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == 0
                    and a["row_count"] > 1]
    # full height (header + 200 rows), and no two writes side by side (they would be one)
    assert all(a["start_row"] + 1 == HEADER_ROW and a["row_count"] == 201 for a in table_writes)
    spans = sorted((a["start_column"], a["start_column"] + a["column_count"]) for a in table_writes)
    assert all(end < nxt for (_, end), (nxt, _) in zip(spans, spans[1:]))
    matrix = [a for a in actions if a["sheet_position"] == 3]
    # title, three grids, the "not in the matrix" line, one grid per profile (default rules)
    assert len(matrix) == 5 + 2
    log = [a for a in actions if a["sheet_position"] == 6]
    assert len(log) == 1 and log[0]["row_count"] == 1 and log[0]["start_row"] == 1


def test_text_from_data_never_reaches_excel_as_a_formula(same):
    payload = payload_from_workbook(TEMPLATE)
    grid = payload["sheets"][0]["values"]
    grid[5][1] = '=HYPERLINK("http://x","y")'   # a hostile account name (row 6)
    grid[6][3] = "-Julien"                       # a rep name that looks like a formula
    grid[7][1] = "@SUM(A1)"
    outcome, actions = actions_of(recompute, payload, plugins=same)
    assert outcome.ok
    values = [v for a in actions if a["func"] == "setValues" for line in a["values"] for v in line]
    risky = [v for v in values if isinstance(v, str) and v.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert risky == []
    assert "'-Julien" in values                  # Summary's per-rep table, neutralised
    # Explain writes the account's name itself
    _, explain_actions = actions_of(explain, {**payload, "book": {**payload["book"],
                                                                  "selection": "B6"}},
                                    plugins=same)
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK")
               for a in explain_actions if a["func"] == "setValues"
               for line in a["values"] for v in line)


def test_no_formula_after_playing_the_actions(tmp_path, same):
    payload = payload_from_workbook(TEMPLATE)
    payload["sheets"][0]["values"][5][1] = "=1+1"
    _, actions = actions_of(recompute, payload, plugins=same)
    assert apply_actions(TEMPLATE, actions, tmp_path / "out.xlsm") == []


def test_new_output_columns_extend_the_table(new):
    payload = payload_from_workbook(TEMPLATE)
    outcome, actions = actions_of(recompute, payload, plugins=new)
    assert outcome.ok
    written = cells_written(actions, 0)
    width = len(payload["sheets"][0]["values"][HEADER_ROW - 1])
    assert written[(HEADER_ROW, width + 1)] == "Profile"  # the default rules have profiles
    assert written[(HEADER_ROW, width + 2)] == "Score: ca"
    assert written[(HEADER_ROW, width + 3)] == "Score: rel"
    resize = [a for a in actions if a["func"] == "resizeTable"]
    assert resize == [{**resize[0], "args": [0, f"$A$5:${xw.utils.col_name(width + 3)}$205"]}]
    # template score columns no criterion fills (built-ins absent) are cleared, data rows only
    clears = [a for a in actions if a["func"] == "rangeClearContents" and a["sheet_position"] == 0]
    assert all(a["start_row"] + 1 == HEADER_ROW + 1 and a["row_count"] == 200 for a in clears)
    headers = payload["sheets"][0]["values"][HEADER_ROW - 1]
    cleared = {headers[a["start_column"] + j] for a in clears for j in range(a["column_count"])}
    assert all(h.startswith("Score: ") for h in cleared)


def test_new_columns_never_overwrite_cells_beside_the_table(new):
    payload = payload_from_workbook(TEMPLATE)
    grid = payload["sheets"][0]["values"]
    for line in grid:
        line.append(None)
    grid[9][-1] = "my notes"
    outcome, actions = actions_of(recompute, payload, plugins=new)
    assert not outcome.ok and "AR10" in outcome.message
    assert {a["sheet_position"] for a in actions} == {0, 1, 6}  # status cells and the Log
    assert not any(a["row_count"] > 1 for a in actions if a["sheet_position"] == 0)


def test_a_user_error_goes_to_the_status_cells_and_the_log(same):
    payload = payload_from_workbook(TEMPLATE)
    settings = payload["sheets"][1]["values"]
    row = next(i for i, r in enumerate(settings) if r[0] == "Top revenue share")
    settings[row][1] = "lots"
    outcome, actions = actions_of(recompute, payload, plugins=same)
    assert not outcome.ok
    assert f"Settings!B{row + 1}" in outcome.message and "lots" in outcome.message
    status = [a for a in actions if a["row_count"] == a["column_count"] == 1]
    assert {(a["sheet_position"], a["start_row"], a["start_column"]) for a in status} == {
        (0, 2, 1), (1, 2, 1)}
    assert all(a["values"][0][0].startswith("Error (recompute): Settings!B") for a in status)
    log = [a for a in actions if a["sheet_position"] == 6]
    assert len(log) == 1
    entry = dict(zip(LOG_HEADERS, log[0]["values"][0]))
    assert "lots" in entry["Messages"] and entry["Warnings"] == 1
    assert not [a for a in actions if a["sheet_position"] in (3, 4)]  # nothing half-written


def test_explain_writes_the_selected_account(same):
    payload = payload_from_workbook(TEMPLATE, selection="D12")
    outcome, actions = actions_of(explain, payload, plugins=same)
    assert outcome.ok, outcome.message
    ident = payload["sheets"][0]["values"][11][0]
    written = cells_written(actions, 5)
    facts = {written[(EXPLAIN_FACTS_ROW + i, 1)]: written[(EXPLAIN_FACTS_ROW + i, 2)]
             for i in range(len(EXPLAIN_FACTS))}
    assert facts["Account id"] == ident and facts["Accounts row"] == "Accounts!A12"
    assert facts["Category"] == outcome.result.outputs.at[6, "Category"]
    header = [written[(EXPLAIN_CRITERIA_ROW, c)] for c in range(1, 8)]
    assert header[0] == "Criterion" and header[-1] == "Reason"
    names = {written.get((EXPLAIN_CRITERIA_ROW + i, 1)) for i in range(1, 21)}
    assert {"ca", "rel"} <= names
    assert [a for a in actions if a["func"] == "activateSheet"][0]["args"] == [5]
    assert ident in outcome.message


@pytest.mark.parametrize("selection", [None, "B2", "A300"])
def test_explain_needs_an_account_row(same, selection):
    payload = payload_from_workbook(TEMPLATE, selection=selection)
    outcome, actions = actions_of(explain, payload, plugins=same)
    assert not outcome.ok and "select" in outcome.message
    assert not [a for a in actions if a["sheet_position"] == 5]


def test_check_rules_reports_in_the_status_cells(same):
    payload = payload_from_workbook(TEMPLATE)
    outcome, actions = actions_of(check_rules, payload, plugins=same)
    assert outcome.message.startswith("Rules default")
    assert {a["sheet_position"] for a in actions} == {0, 1, 6}
    log = cells_written(actions, 6)
    assert log[(2, 5)].startswith("Check rules")


def test_remote_workbook_cannot_name_a_plugin_folder_or_a_path(same):
    payload = payload_from_workbook(TEMPLATE)
    settings = payload["sheets"][1]["values"]
    row = next(i for i, r in enumerate(settings) if r[0] == "Plugin folder")
    settings[row][1] = "/tmp/evil"
    outcome, _ = actions_of(recompute, payload, plugins=same)
    assert not outcome.ok and "plugin folders" in outcome.message
    settings[row][1] = None
    row = next(i for i, r in enumerate(settings) if r[0] == "Rules file")
    for bad in ("/etc/passwd", "../../secret.yaml", "C:\\rules.yaml"):
        settings[row][1] = bad
        outcome, _ = actions_of(recompute, payload, plugins=same)
        assert not outcome.ok and "not a path" in outcome.message, bad


@pytest.mark.parametrize("text,key", [(None, "recompute"), ("", "recompute"),
                                      ("Explain · Expliquer", "explain"),
                                      ("vérifier les règles", "check-rules"),
                                      ("Recalculer", "recompute"), ("Fly", None)])
def test_parse_action(text, key):
    assert parse_action(text) == key


def test_the_button_runs_the_action_cell_then_resets_it(same):
    payload = payload_from_workbook(TEMPLATE, selection="B20", active_sheet="Accounts")
    payload["sheets"][0]["values"][1][1] = action_label("explain")
    book = book_of(payload)
    try:
        outcome = run_button(book, Options(remote=True, when=WHEN, plugins=same))
        actions = book.json()["actions"]
    finally:
        book.close()
    assert outcome.action == "explain" and outcome.ok
    assert cells_written(actions, 0)[(2, 2)] == action_label("recompute")
    # a blank action cell recomputes
    payload["sheets"][0]["values"][1][1] = None
    book = book_of(payload)
    try:
        assert run_button(book, Options(remote=True, when=WHEN, plugins=same)).action == "recompute"
    finally:
        book.close()


def test_an_unknown_action_is_reported_not_raised(same):
    payload = payload_from_workbook(TEMPLATE, active_sheet="Settings")
    payload["sheets"][1]["values"][1][1] = "Fly"
    book = book_of(payload)
    try:
        outcome = run_button(book, Options(remote=True, when=WHEN, plugins=same))
    finally:
        book.close()
    assert not outcome.ok and "Settings!B2" in outcome.message and '"Fly"' in outcome.message


def test_glue_module_main_runs_on_a_mock_caller(same, monkeypatch):
    spec = importlib.util.spec_from_file_location("portfolio", ROOT / "workbooks" / "portfolio.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = []
    monkeypatch.setattr(module, "run_button",
                        lambda book: calls.append(run_button(book, plugins=same, remote=True)))
    book = book_of(payload_from_workbook(TEMPLATE))
    book.set_mock_caller()
    try:
        module.main()
        assert calls and calls[0].ok and calls[0].action == "recompute"
        assert book.json()["actions"]
    finally:
        del xw.Book._mock_caller
        book.close()


def test_version_mismatch_is_refused_with_a_clear_message():
    payload = payload_from_workbook(TEMPLATE)
    payload["version"] = "0.30.0"
    with pytest.raises(PayloadError, match="0.30.0.*" + xw.__version__.replace(".", r"\.")):
        run_remote("recompute", payload)


def test_run_remote_closes_the_book(same):
    books = xw.engines["remote"].apps.active.books
    before = len(books)
    run_remote("check-rules", payload_from_workbook(TEMPLATE), Options(plugins=same))
    assert len(books) == before


def test_same_outputs_as_the_headless_front_end(tmp_path, pro):
    """Played on a copy of the template, the xlwings actions give the cells the headless
    command writes itself (same plugins, same time); only the status cells differ."""
    folder = plugin_folder(tmp_path / "p", "ca", "rel")
    payload = payload_from_workbook(TEMPLATE)
    outcome, actions = actions_of(recompute, payload, plugin_dirs=[folder])  # + built-ins
    assert outcome.ok
    via_xlwings = tmp_path / "xlwings.xlsm"
    assert apply_actions(TEMPLATE, actions, via_xlwings) == []
    via_file = tmp_path / "headless.xlsm"
    shutil.copy(TEMPLATE, tmp_path / "in.xlsm")
    score_file(tmp_path / "in.xlsm", via_file, plugin_dirs=[folder], when=WHEN)
    a, b = _cells(via_xlwings), _cells(via_file)
    status = {("Accounts", "B3"), ("Settings", "B3")}
    diff = {k for k in set(a) | set(b) if a.get(k) != b.get(k)} - status
    assert not diff, sorted(diff)[:10]
    ta = openpyxl.load_workbook(via_xlwings)["Accounts"].tables["Accounts"]
    tb = openpyxl.load_workbook(via_file)["Accounts"].tables["Accounts"]
    assert ta.ref == tb.ref and [c.name for c in ta.tableColumns] == [c.name for c in tb.tableColumns]


def test_a_second_run_reads_its_own_output_back(tmp_path, same):
    payload = payload_from_workbook(TEMPLATE)
    _, actions = actions_of(recompute, payload, plugins=same)
    first = tmp_path / "first.xlsm"
    apply_actions(TEMPLATE, actions, first)
    outcome, actions = actions_of(recompute, payload_from_workbook(first), plugins=same)
    assert outcome.ok and outcome.result.changes["changed"] == 0
    log = cells_written(actions, 6)
    assert (3, 1) in log  # appended under the first run's row
    entry = {LOG_HEADERS[c - 1]: v for (r, c), v in log.items()}
    assert entry["Changed"] == 0 and entry["Accounts"] == 200


def _cells(path):
    return cells(path, values_only=True)


class _Column:
    def __init__(self, fmt):
        self.number_format = fmt


class _DesktopSheet:
    """What `_percent_cells` asks of a live sheet: the engine's name, a column's format."""

    def __init__(self, formats):
        self.formats = formats
        self.calls = []
        self.book = type("B", (), {"app": type("A", (), {"engine": type("E", (), {"name": "excel"})})})

    def range(self, first, last):
        assert first[1] == last[1]  # one column at a time
        self.calls.append((first, last))
        return _Column(self.formats[first[1]])


def test_desktop_reads_number_formats_once_per_column():
    from potentiel.excel import _percent_cells
    sheet = _DesktopSheet({1: "General", 2: "0.0%", 3: None, 4: '0.0"%"'})
    percent, unknown = _percent_cells(sheet, hr=5, c1=1, c2=4, n=3)
    assert percent == [(0, 1), (1, 1), (2, 1)] and unknown == [2]  # mixed formats: unknown
    assert sheet.calls == [((6, c), (8, c)) for c in range(1, 5)]


def test_remote_books_have_no_number_formats(tmp_path, same):
    from potentiel.excel import read_accounts
    book = book_of(payload_from_workbook(TEMPLATE))
    try:
        raw = read_accounts(book).raw
    finally:
        book.close()
    assert list(raw.percent_cells) == [] and list(raw.unknown_formats) == list(range(len(raw.headers)))
