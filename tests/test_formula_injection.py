"""Formula injection: no front end ever writes a formula that was not there before.

Text that starts with =, +, -, @, a tab or a carriage return would be run by Excel (or a
CSV export of the sheet) as a formula, a DDE call or a hyperlink. Such values are planted
everywhere text flows from data into what Potentiel writes: account names and sectors,
salespeople (the Summary sheet), a rep's name (the Nearest rep column), a rule's ``why``
(the Explain sheet), a value a rule sets, a criterion plugin's reasons (Why and Explain)
and a plugin's output sheet. Then:

- headless: no cell of the written file holds a formula, and every text cell that looks
  like one is stored as text with Excel's quote prefix (checked in the sheet XML);
- xlwings (desktop and server, same code): every string sent starts with an apostrophe
  when it looks like a formula, and playing the actions as Excel would leaves no formula.

A text starting with + or - followed by digits ("-5", "+33 1 23") would be taken by Excel
as a number: it is neutralised the same way, so it stays the text it was.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import textwrap
import zipfile

import openpyxl
import pytest

from helpers import payload_from_workbook, write_workbook
from potentiel import excel
from potentiel.headless import score_file
from potentiel.manager import load_plugins
from potentiel.safety import FORMULA_STARTS, formula_like
from potentiel.xlsxpackage import MAIN, NS, parse_xml
from vba_client import apply_actions

HOSTILE = ['=HYPERLINK("http://evil.example","click me")', "+SUM(1,2)", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=2+2", "=cmd|' /C calc'!A0", "-5", "+33 1 23 45 67 89"]
HEADERS = ("id", "name", "status", "salesperson", "sector", "revenue", "revenue_n1",
           "potential", "payment_incidents", "relationship", "latitude", "longitude")

PLUGIN = '''
from potentiel import Criterion, Input, Scored, hookimpl

class Poison(Criterion):
    name, label, default_weight = "poison", "Poison", 50
    inputs = (Input("revenue", "money"),)
    def score(self, accounts, params):
        return Scored(accounts["revenue"] * 0 + 90, accounts["revenue"].map(
            lambda v: "=REASON()" if v and v > 50000 else "-reason"))

def sheet(result):
    return [["=HEADER()", "+h"], ["@cell", "-7"], ["\\t=x", 3]]

@hookimpl
def register_criteria(register):
    register(Poison())

@hookimpl
def register_output_sheets(register):
    register("Poisoned", sheet)
'''

RULES = '''
extends: default
rules:
  - id: big
    when: revenue > 50000
    then: {set: {salesperson: "=SET()"}, flag: big}
    why: "=cmd|' /C calc'!A0 big account"
'''


def rows():
    out = []
    for i, text in enumerate(HOSTILE):
        out.append([f"C{i}", text, "client", HOSTILE[(i + 2) % len(HOSTILE)],
                    HOSTILE[(i + 4) % len(HOSTILE)], 10000 * (i + 1), 9000 * (i + 1),
                    40000 * (i + 1), i % 5, 1 + i % 5, 45.0 + i / 10, 4.0 + i / 10])
    return out


@pytest.fixture
def setup(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "poison.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "inject.yaml").write_text(RULES)
    # a server finds rule files in the rules folder and in POTENTIEL_RULES_PATH folders
    monkeypatch.setenv("POTENTIEL_RULES_PATH", str(tmp_path))
    path = write_workbook(tmp_path / "book.xlsx", HEADERS, rows(),
                          settings=[("Rules file", "inject")],
                          reps=[["=REP()", 45.0, 4.0], ["-5", 46.0, 5.0]])
    wb = openpyxl.load_workbook(path)
    wb["Salespeople"]["A2"].data_type = "s"  # typed as text, as with a leading apostrophe
    wb.save(path)
    return path, folder


def _formula_cells(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.data_type == "f"}


def _text_cells(path):
    """(sheet part, cell ref, text, style index) of every inline or shared text cell."""
    with zipfile.ZipFile(path) as z:
        strings = []
        if "xl/sharedStrings.xml" in z.namelist():
            sst = parse_xml(z.read("xl/sharedStrings.xml"), "sst")
            strings = ["".join(si.itertext()) for si in sst.iterfind("m:si", NS)]
        out, formulas = [], 0
        for name in z.namelist():
            if not name.startswith("xl/worksheets/sheet"):
                continue
            root = parse_xml(z.read(name), name)
            formulas += len(root.findall(f".//{{{MAIN}}}f"))
            for c in root.iter(f"{{{MAIN}}}c"):
                if c.get("t") == "inlineStr":
                    text = "".join(c.find("m:is", NS).itertext())
                elif c.get("t") == "s":
                    text = strings[int(c.find("m:v", NS).text)]
                else:
                    continue
                out.append((name, c.get("r"), text, int(c.get("s", "0"))))
        styles = parse_xml(z.read("xl/styles.xml"), "styles")
        quoted = [xf.get("quotePrefix") == "1" for xf in styles.find("m:cellXfs", NS)]
    return out, formulas, quoted


def test_headless_writes_no_formula_and_quotes_formula_like_text(setup):
    path, folder = setup
    assert _formula_cells(path) == set()
    result, _ = score_file(path, plugin_dirs=[str(folder)])
    assert _formula_cells(path) == set()
    cells, formulas, quoted = _text_cells(path)
    assert formulas == 0
    risky = [(part, ref, text) for part, ref, text, style in cells
             if formula_like(text) and not quoted[style]]
    # the only unquoted ones are the inputs people typed (openpyxl wrote them as text)
    accounts_part = "xl/worksheets/sheet1.xml"
    assert all(part == accounts_part or part.endswith(("sheet2.xml", "sheet3.xml"))
               for part, _, _ in risky), risky
    typed = set(HOSTILE) | {"=REP()"}
    assert {text for _, _, text in risky} <= typed, "an output was written unquoted"
    written = {text for part, _, text, style in cells if quoted[style]}
    for planted in ("=SET()", "=REP()", "=HEADER()", "@cell", "-7", "-2+3", "@SUM(A1:A9)",
                    "=1+1", "-5"):  # (input text is trimmed: "\\t=1+1" is "=1+1")
        assert planted in written, planted
    wb = openpyxl.load_workbook(path)
    summary = [c.value for row in wb["Summary"].iter_rows() for c in row]
    assert "=SET()" in summary and wb["Poisoned"]["A1"].value == "=HEADER()"
    headers = [c.value for c in wb["Accounts"][1]]
    nearest = headers.index("Nearest rep") + 1
    assert "=REP()" in [wb["Accounts"].cell(row=r, column=nearest).value for r in range(2, 11)]


def _strings(actions):
    for a in actions:
        if a["func"] == "setValues":
            for line in a["values"]:
                for v in line:
                    if isinstance(v, str):
                        yield v


@pytest.mark.parametrize("action", ["recompute", "explain"])
def test_xlwings_actions_neutralise_every_formula_like_string(setup, tmp_path, action):
    path, folder = setup
    plugins = load_plugins([folder], entry_points=False)
    # explain the first big account (row 6: revenue 50,000 and more from there)
    payload = payload_from_workbook(path, selection="B8", active_sheet="Accounts")
    answer = excel.run_remote(action, payload, excel.Options(remote=True, plugins=plugins))
    actions = answer["actions"]
    sent = list(_strings(actions))
    assert sent, "nothing was written"
    bad = [v for v in sent if v.startswith(FORMULA_STARTS)]
    assert bad == []
    quoted = {v[1:] for v in sent if v.startswith("'")}
    expected = {"=SET()", "-2+3"} if action == "recompute" else {
        "=cmd|' /C calc'!A0 big account", "=REASON()"}
    assert expected <= quoted, expected - quoted
    assert apply_actions(path, actions, tmp_path / "played.xlsx") == []


def test_every_formula_start_is_neutralised():
    from potentiel.safety import neutralise_text

    for start in FORMULA_STARTS:
        text = start + "1+1"
        assert formula_like(text) and neutralise_text(text) == "'" + text
    for safe in ("Acme", " =1+1", "1+1", "", "'=already quoted"):
        assert not formula_like(safe) and neutralise_text(safe) == safe
