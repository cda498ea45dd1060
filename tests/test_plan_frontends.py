"""The plan through the three front ends (issue 14, point 7): `potentiel plan` on real .xlsx
files, the workbook's Plan and Territory actions through xlwings' remote engine (the path of
Excel's buttons and of the server), the server's endpoints; English and French.

The workbook below is small enough to plan by hand (see `BY_HAND`); its categories are set
by a Category override, so they do not depend on the scoring model.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from helpers import RUN_TIME, act_remote, fr, own_sheet
from potentiel.excel import parse_action
from potentiel.headless import plan_file
from potentiel.plan.workload import REP_ROW
from potentiel.problems import UserError

HEADERS = ["id", "name", "status", "salesperson", "revenue", "potential", "latitude",
           "longitude", "Category override"]
ACCOUNTS = [
    ["C1", "Alpha", "client", "Anne", 90000, 200000, 48.0, 2.0, "A"],
    ["C2", "Beta", "client", "Anne", 50000, 400000, 48.1, 2.0, "A"],
    ["C3", "Gamma", "client", "Anne", 10000, 50000, 48.2, 2.0, "B"],
    ["C4", "Delta", "client", "Bruno", 5000, 10000, 49.0, 2.0, "C"],
    ["P1", "Eps", "prospect", "Bruno", 0, 300000, 49.5, 2.0, "B"],
    ["P2", "Zeta", "prospect", None, 0, 150000, 48.6, 2.0, "A"],
]
SETTINGS = [("Visits a day", 2), ("Field days a year", 10), ("Revenue target", 1_000_000),
            ("Potential high from", 100000), ("Potential low below", 20000)]
REPS = [["Anne", 48.0, 2.0, None], ["Bruno", 49.0, 2.0, 1]]

# By hand. A rep has 2 visits a day × 10 days = 20 visits (1,200 min); Bruno's own row
# says 1 visit a day: 10 visits (600 min).
# Anne: C1 A 12 + C2 A 12 + C3 B 6 = 30 visits (1,800 min): load 1.5; the first A fits
#   (12 ≤ 20), the second brings 24: out of reach, and the B: 2 accounts, 18 visits.
# Bruno: C4 C client 4 + P1 B prospect 2 = 6 visits (360 min): load 0.6.
# Nobody: P2 A prospect, 4 visits: out of reach.
# Portfolio: 40 visits, 2,400 min ÷ 1,200 = 2 reps needed; today 2 reps with 1,800 min:
#   load 4/3.
# Objectives: potential Anne 650,000, Bruno 310,000, nobody 150,000 (1,110,000): targets
#   1e6 × 650/1,110 = 585,585.585…, 279,279.279…, 135,135.135…; in cents the floors
#   leave 2 cents, to the largest remainders (.927 Bruno, .558 Anne): 585,585.59,
#   279,279.28, 135,135.13. Fragility zone (high ≥ 100,000, weak < 20 %): C2 (gap 50 % ×
#   400,000 − 50,000 = 150,000), P1 (150,000), P2 (75,000).
BY_HAND = {
    "portfolio": [6, 40, 40, 20, 2, 2, 2, 1.3333, 3],
    "reps": [["Anne", 3, 2, 10, 30, 20, 30, 20, 1.5, 2, 18, 2, 1, 0, 0, 0],
             ["Bruno", 2, 1, 10, 6, 10, 6, 10, 0.6, 0, 0, 0, 1, 1, 0, 0],
             ["(no salesperson)", 1, None, None, 4, 0, 4, 0, None, 1, 4, 1, 0, 0, 0, 0]],
    "targets": [585585.59, 279279.28, 135135.13],
    "actions": [("C2", 150000), ("P1", 150000), ("P2", 75000)],
}


def make_workbook(path: Path, settings=SETTINGS, accounts=ACCOUNTS, headers=HEADERS,
                  reps=REPS, reps_headers=("Name", "Latitude", "Longitude", "Visits a day"),
                  names=("Accounts", "Settings", "Salespeople")) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = names[0]
    ws.append(list(headers))
    for r in accounts:
        ws.append(list(r))
    st = wb.create_sheet(names[1])
    st.append(["Setting", "Value"])
    for k, v in settings:
        st.append([k, v])
    sp = wb.create_sheet(names[2])
    sp.append(list(reps_headers))
    for r in reps:
        sp.append(list(r))
    wb.save(path)
    return path


def rows(path: Path, sheet: str, first: int, last: int, width: int) -> list[list]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [[_round(ws.cell(r, c).value) for c in range(1, width + 1)]
            for r in range(first, last + 1)]


def _round(v):
    return round(v, 4) if isinstance(v, float) else v


def check_plan_sheets(path: Path, plan_name="Plan", objectives_name="Objectives",
                      no_rep="(no salesperson)", red="FFC62828"):
    portfolio = [r[1] for r in rows(path, plan_name, 5, 13, 2)]  # label, value
    assert portfolio == BY_HAND["portfolio"]
    reps = rows(path, plan_name, REP_ROW + 1, REP_ROW + 4, 16)
    expected = [list(r) for r in BY_HAND["reps"]]
    expected[2][0] = no_rep
    assert reps[:3] == expected and reps[3] == [None] * 16
    ws = openpyxl.load_workbook(path)[plan_name]
    fills = [ws.cell(REP_ROW + i, 9).fill.fgColor.rgb for i in (1, 2)]
    assert fills == [red, "FFC8E6C9"]  # over capacity red, within green
    targets = [r[6] for r in rows(path, objectives_name, 5, 8, 10)]
    assert targets == [*BY_HAND["targets"], 1_000_000]  # the total is the target, to the cent
    grid = rows(path, objectives_name, 1, 40, 9)
    head = next(i for i, r in enumerate(grid) if r[0] in ("Account id", "Code client",
                                                          fr("Account id")))
    actions = [(r[0], r[7]) for r in grid[head + 1:] if r[0]]
    assert actions == BY_HAND["actions"]


def test_potentiel_plan_writes_the_plan_computed_by_hand(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "planned.xlsx"
    result, plan, target = plan_file(path, out, when=RUN_TIME)
    assert target == out and len(result.accounts) == 6
    check_plan_sheets(out)
    # the sheets are Potentiel's, by their markers; the Log has the run
    assert own_sheet(out, "Plan") == "Plan" and own_sheet(out, "Objectives") == "Objectives"
    wb = openpyxl.load_workbook(out)
    assert "Territory" not in wb.sheetnames and wb["Log"].max_row == 2


def test_a_reps_territory_headless(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "planned.xlsx"
    _result, plan, _target = plan_file(path, out, rep="bruno", when=RUN_TIME)
    grid = rows(out, "Territory", 1, 40, 12)
    assert grid[0][0] == "Territory of Bruno: what to do first"
    facts = {r[0]: r[1] for r in grid[3:12]}
    assert facts["Salesperson"] == "Bruno" and facts["Base"] == "49.0000, 2.0000"
    assert facts["Load (Plan)"] == 0.6 and facts["Prospects within reach"] == 2
    listed = [r[0] for r in grid[13:] if r[0] and r[0][:1] in "CP" and len(r[0]) == 2]
    # no A client; the fragility zone: P1; prospects: P2 (nobody's, nearest Bruno, A)
    # then P1 (his, B), 44.5 and 55.6 km from his base
    assert listed == ["P1", "P2", "P1"]
    prospects = [r for r in grid if r[0] in ("P2",)]
    assert prospects[0][10] == 44.5
    assert "Territory of Bruno" in plan.text()


def test_an_unknown_rep_stops_before_anything_is_written(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    before = path.read_bytes()
    with pytest.raises(UserError) as err:
        plan_file(path, rep="Brunot", when=RUN_TIME)
    assert "did you mean Bruno" in str(err.value)
    assert path.read_bytes() == before


def test_a_second_plan_clears_what_the_first_wrote_below(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    plan_file(path, when=RUN_TIME)
    fewer = [r for r in ACCOUNTS if r[3] != "Bruno"]
    again = make_workbook(tmp_path / "again.xlsx", accounts=fewer)
    # the planned sheets of the first workbook, on the second's accounts: run on a copy
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    ws.delete_rows(2, ws.max_row)
    for r in fewer:
        ws.append(r)
    wb.save(again)
    plan_file(again, when=RUN_TIME)
    reps = rows(again, "Plan", REP_ROW + 1, REP_ROW + 4, 2)
    assert [r[0] for r in reps] == ["Anne", "Bruno", "(no salesperson)", None]  # Bruno: 0
    assert reps[1][1] == 0
    ws = openpyxl.load_workbook(again)["Plan"]
    assert ws.cell(REP_ROW + 2, 9).fill.fgColor.rgb == "FFC8E6C9"  # 0 % now


def test_plan_in_french(tmp_path):
    path = make_workbook(tmp_path / "classeur.xlsx", settings=[*SETTINGS, ("Langue", "Français")],
                         names=("Comptes", "Paramètres", "Commerciaux"),
                         reps_headers=("Nom", "Latitude", "Longitude", "Visites par jour"))
    out = tmp_path / "plan.xlsx"
    plan_file(path, out, rep="Anne", when=RUN_TIME)
    wb = openpyxl.load_workbook(out)
    assert {"Plan", "Objectifs", "Territoire"} <= set(wb.sheetnames)
    assert own_sheet(out, "Objectives") == "Objectifs" and own_sheet(out, "Territory") == \
        "Territoire"
    check_plan_sheets(out, "Plan", "Objectifs", fr("(no salesperson)"))
    assert wb["Plan"].cell(REP_ROW, 1).value == fr("Salesperson")
    assert wb["Plan"].cell(REP_ROW, 9).value == fr("Load")
    assert wb["Territoire"]["A1"].value == fr("Territory of {rep}: what to do first", rep="Anne")
    # back in English: the same sheets are renamed, never duplicated
    english = tmp_path / "english.xlsx"
    wb = openpyxl.load_workbook(out)
    st = wb["Paramètres"]
    for row in st.iter_rows():
        if row[0].value == "Langue":
            row[1].value = "English"
    wb.save(english)
    plan_file(english, rep="Anne", when=RUN_TIME)
    names = openpyxl.load_workbook(english).sheetnames
    assert {"Plan", "Objectives", "Territory"} <= set(names) and "Objectifs" not in names


def test_plan_settings_in_a_rule_file(tmp_path):
    rules = tmp_path / "acme.yaml"
    rules.write_text("extends: default\nplan:\n  visits_a_day: 3\n  visits:\n"
                     "    clients: {A: 2}\n")
    settings = [("Rules file", str(rules)), ("Field days a year", 10)]
    path = make_workbook(tmp_path / "book.xlsx", settings=settings)
    _result, plan, _target = plan_file(path, tmp_path / "out.xlsx", when=RUN_TIME)
    anne = plan.workload.reps.iloc[0]
    # Anne: A 2 + A 2 + B 6 = 10 visits; 3 visits a day (rule file) × 10 days = 30
    assert (anne["visits_required"], anne["visits_available"]) == (10, 30)


def test_a_csv_is_not_planned(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("id;name\nC1;Alpha\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        plan_file(path)
    assert "sheets of a workbook" in str(err.value)


def test_the_cli(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    cmd = [sys.executable, "-m", "potentiel", "plan", str(path), "-o", str(tmp_path / "o.xlsx"),
           "--rep", "Anne"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LANG": "C"})
    assert done.returncode == 0, done.stderr
    assert "Reps needed: 2.00 (rounded up 2); reps today: 2" in done.stdout
    assert "Territory of Anne" in done.stdout and "overloaded" in done.stdout
    done = subprocess.run([*cmd[:-1], "Nobody"], capture_output=True, text=True)
    assert done.returncode == 1 and 'no rep named "Nobody"' in done.stderr
    assert "Traceback" not in done.stderr


# --- the workbook's actions, through xlwings' remote engine ---------------------------------

def test_the_plan_action_writes_the_same_sheets(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "remote.xlsx"
    outcome, actions = act_remote(path, "plan", out)
    assert outcome.ok, outcome.message
    assert "2.00 reps needed" in outcome.message and "1 over capacity" in outcome.message
    # the load's colours come from the VBA client's setRangeColor (a fill without a font:
    # the light red)
    check_plan_sheets(out, red="FFEF9A9A")
    assert any(a["func"] == "activateSheet" for a in actions)
    # the same values as the headless front end, cell for cell
    headless = tmp_path / "headless.xlsx"
    plan_file(path, headless, when=RUN_TIME)
    for sheet, last, width in (("Plan", REP_ROW + 3, 16), ("Objectives", 13, 15)):
        assert rows(out, sheet, 1, last, width) == rows(headless, sheet, 1, last, width), sheet


def test_the_territory_action_takes_the_selected_accounts_rep(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "remote.xlsx"
    outcome, _actions = act_remote(path, "territory", out, selection="B5",
                                   active_sheet="Accounts")
    assert outcome.ok, outcome.message
    assert outcome.message.startswith("Territory of Bruno")
    assert openpyxl.load_workbook(out)["Territory"]["A1"].value == \
        "Territory of Bruno: what to do first"
    # no row selected, and an account nobody holds: said in the status cell
    outcome, _actions = act_remote(path, "territory", selection="B7", active_sheet="Accounts")
    assert not outcome.ok and "has no salesperson" in outcome.message
    outcome, _actions = act_remote(path, "territory", selection="A1", active_sheet="Settings")
    assert not outcome.ok and "then run Territory" in outcome.message


def test_the_action_cell_knows_plan_and_territory_in_both_languages():
    assert parse_action("Plan") == "plan" and parse_action("Plan · Plan") == "plan"
    assert parse_action("Territoire") == "territory" and parse_action("territory") == \
        "territory"


def test_plan_and_territory_over_http(tmp_path):
    from fastapi.testclient import TestClient

    from helpers import payload_from_workbook
    from potentiel import server
    from vba_client import VBA_FUNCS
    token = "test-token-0123456789abcdef"
    client = TestClient(server.create_app(token=token, max_body=8 * 1024 * 1024))
    path = make_workbook(tmp_path / "book.xlsx")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/plan", json=payload_from_workbook(path), headers=auth)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    assert {a["func"] for a in actions} <= VBA_FUNCS
    assert any(a["func"] == "addSheet" and a["args"][1] == "Plan" for a in actions)
    r = client.post("/territory", json=payload_from_workbook(path, selection="B2",
                                                              active_sheet="Accounts"),
                    headers=auth)
    assert r.status_code == 200 and any(a["func"] == "addSheet" and a["args"][1] == "Territory"
                                        for a in r.json()["actions"])
    assert client.post("/plan", json={}, headers={}).status_code == 401
