"""Day tours through the front ends (issue 14, point 4 with point 7): the Tours sheet that
`potentiel plan` writes on a real .xlsx, the workbook's Plan action through xlwings' remote
engine (Excel's button and the server), the server's /plan, in English and French.

Every check is recomputed from the sheet as written: each account's visits a year counted
in the days' account lists, no day over the rep's visits a day, no two days of a rep on one
date, and each day's km recomputed from the base through the stops and back to the base,
with the test's own great-circle formula and the coordinates typed below (or located from
the postal code and town). Accounts that cannot be placed are listed with their cell, in
the sheet, the warnings and the Reading sheet.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

from collections import Counter
from pathlib import Path

import openpyxl
from openpyxl.worksheet.table import Table

from helpers import RUN_TIME, act_remote, fr, own_sheet
from potentiel.headless import plan_file
from potentiel.plan import tours as tours_mod

R = 6371.0088  # the mean Earth radius of the great-circle km (docs/plan.md, "km")

HEADERS = ["id", "name", "status", "salesperson", "latitude", "longitude", "postal_code",
           "town", "Category override"]
# (id, name, status, rep, lat, lon, postal code, town, category)
ACCOUNTS = [
    ["C01", "Alpha", "client", "Anne", 48.90, 2.25, None, None, "A"],
    ["C02", "Beta", "client", "Anne", 48.80, 2.45, None, None, "A"],
    ["C03", "Gamma", "client", "Anne", 49.05, 2.10, None, None, "B"],
    ["C04", "Delta", "client", "Anne", 48.60, 2.60, None, None, "C"],
    ["C05", "Epsilon", "client", "Anne", 48.95, 2.55, None, None, "C"],
    ["C06", "Zeta", "client", "Anne", None, None, "69001", "Lyon", "D"],  # located: Lyon
    ["C07", "Eta", "client", "Anne", None, None, None, None, "A"],  # nowhere: not placed
    ["C08", "Theta", "client", "Bruno", 45.80, 4.90, None, None, "B"],
    ["C09", "Iota", "client", "bruno ", 45.70, 4.75, None, None, "C"],  # Bruno, typed loosely
    ["P01", "Kappa", "prospect", "Bruno", 45.60, 5.00, None, None, "A"],
    ["P02", "Lambda", "prospect", None, 45.90, 4.80, None, None, "B"],  # nobody's
    ["P03", "Mu", "prospect", "Bruno", 45.75, 4.85, None, None, "D"],  # 0 visits
]
SETTINGS = [("Visits a day", 3), ("Field days a year", 20)]
REPS = [["Anne", 48.8566, 2.3522, None], ["Bruno", 45.7640, 4.8357, 2]]
PER_DAY = {"Anne": 3, "Bruno": 2}
BASES = {r[0]: (r[1], r[2]) for r in REPS}
# The default visits a year (docs/plan.md, 1.): clients A 12, B 6, C 4, D 1; prospects
# A 4, B 2, C 1, D 0.
VISITS = {"client": {"A": 12, "B": 6, "C": 4, "D": 1},
          "prospect": {"A": 4, "B": 2, "C": 1, "D": 0}}
NOT_PLACED = {"C07": ("no-coordinates", 8), "P02": ("no-rep", 12)}  # reason, sheet row


def make_workbook(path: Path, settings=SETTINGS, names=("Accounts", "Settings",
                                                        "Salespeople"),
                  reps_headers=("Name", "Latitude", "Longitude", "Visits a day")) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = names[0]
    ws.append(HEADERS)
    for r in ACCOUNTS:
        ws.append(r)
    # an Excel table, as in the template: xlwings' front end reads the language from its
    # header row (without one it reads the first rows' values too, where "client" and
    # "Lyon" are French words)
    ws.add_table(Table(displayName="Accounts", ref=f"A1:I{len(ACCOUNTS) + 1}"))
    st = wb.create_sheet(names[1])
    st.append(["Setting", "Value"])
    for k, v in settings:
        st.append([k, v])
    sp = wb.create_sheet(names[2])
    sp.append(list(reps_headers))
    for r in REPS:
        sp.append(r)
    wb.save(path)
    return path


def km(a, b):
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R * math.asin(math.sqrt(h))


def tours_sheet(path: Path, name: str):
    """(days, per rep, not placed) as written: days from row 5, columns A–G; per rep from
    I5; the accounts not placed below their title."""
    ws = openpyxl.load_workbook(path)[name]
    grid = [list(r) for r in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=14,
                                          values_only=True)]
    while grid and all(v is None for v in grid[-1]):  # rows blanked (cleared cells)
        grid.pop()
    days = [r[:7] for r in grid[4:] if r[0] is not None]
    side = [r[8:14] for r in grid[3:]]
    title = next(i for i, r in enumerate(side) if r[0] in ("Accounts not placed",
                                                           fr("Accounts not placed")))
    reps = [r[:5] for r in side[1:title - 1] if r[0] is not None]
    lost = [r for r in side[title + 2:] if r[0] is not None]
    return grid, days, reps, lost


def check_tours(path: Path, name: str = "Tours", why=lambda key: tours_mod.REASONS[key],
                accounts: str = "Accounts"):
    """The rules of the issue, recomputed from the sheet; returns the days."""
    grid, days, reps, lost = tours_sheet(path, name)
    place = {r[1]: (r[4], r[5]) for r in ACCOUNTS}
    place["Zeta"] = (45.76, 4.83)  # 69001 Lyon, about (the check below allows 5 km)
    expected = {r[1]: VISITS[r[2]][r[8]] for r in ACCOUNTS if r[0] not in NOT_PLACED}
    counted = Counter(n for d in days for n in d[4].split("; "))
    assert dict(counted) == {n: v for n, v in expected.items() if v}  # Mu: 0 visits, no day
    dates = Counter((d[0], d[1], d[2]) for d in days)
    assert max(dates.values()) == 1  # a rep has one tour a day
    for rep, week, day, tour, names, visits, distance in days:
        stops = names.split("; ")
        assert visits == len(stops) <= PER_DAY[rep], (rep, tour)
        assert 1 <= week <= tours_mod.WEEKS and 1 <= day <= tours_mod.DAYS_A_WEEK
        path_ = [BASES[rep], *(place[n] for n in stops), BASES[rep]]
        by_hand = sum(km(a, b) for a, b in zip(path_, path_[1:]))
        slack = 10.0 if "Zeta" in stops else 0.06  # Zeta's place is the town's centre
        assert abs(distance - by_hand) <= slack, (rep, tour, distance, by_hand)
    # tours numbered in date order, per rep
    for rep in PER_DAY:
        mine = [(d[1], d[2], d[3]) for d in days if d[0] == rep]
        assert [t for _w, _d, t in sorted(mine)] == list(range(1, len(mine) + 1))
    # per rep: days, visits and km add up; the accounts not placed, with why and cell
    for rep, n_days, visits, total, not_placed in reps:
        mine = [d for d in days if d[0] == rep]
        assert (n_days, visits) == (len(mine), sum(d[5] for d in mine))
        assert abs(total - sum(d[6] for d in mine)) <= 0.05 * (len(mine) + 1)  # each to 0.1
    assert sorted((r[0], r[4], r[5]) for r in lost) == sorted(
        (i, why(key), f"{accounts}!A{row}") for i, (key, row) in NOT_PLACED.items())
    return days


def test_potentiel_plan_writes_the_tours_sheet(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "planned.xlsx"
    result, plan, _target = plan_file(path, out, when=RUN_TIME)
    days = check_tours(out)
    assert {d[0] for d in days} == {"Anne", "Bruno"}
    # Potentiel's sheet by its marker, beside the Plan; the other sheets untouched
    assert own_sheet(out, "Tours") == "Tours"
    names = openpyxl.load_workbook(out).sheetnames
    assert names.index("Tours") == names.index("Objectives") + 1
    # each account not placed is a warning at its cell, grouped in the terminal
    at = {p.where: p for p in result.warnings if p.kind.startswith("tour-")}
    assert set(at) == {"Accounts!A8", "Accounts!A12"}
    assert at["Accounts!A8"].column == "id" and "no latitude and longitude" in \
        at["Accounts!A8"].message
    from potentiel.report import console_summary
    shown = console_summary(result, str(out))
    assert "Accounts!A8" in shown and "not in the day tours" in shown
    assert "Day tours:" in plan.text() and "2 account(s) not placed" in plan.text()
    # and in the Reading sheet, with the cell
    reading = [v for row in openpyxl.load_workbook(out)[own_sheet(out, "Reading")]
               .iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert "Accounts!A12" in reading and any("not in the day tours" in v for v in reading)


def test_a_second_plan_leaves_no_old_day_behind(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    plan_file(path, when=RUN_TIME)
    before = len(tours_sheet(path, "Tours")[1])
    # fewer visits: Anne's A clients become D (1 visit each)
    wb = openpyxl.load_workbook(path)
    ws = wb["Accounts"]
    for row in ws.iter_rows(min_row=2):
        if row[3].value == "Anne" and row[8].value == "A":
            row[8].value = "D"
    wb.save(path)
    plan_file(path, when=RUN_TIME)
    grid, days, _reps, _lost = tours_sheet(path, "Tours")
    assert len(days) < before
    assert all(r[:7] == [None] * 7 for r in grid[4 + len(days) + 1:])  # the old days blanked
    assert openpyxl.load_workbook(path).sheetnames.count("Tours") == 1


def test_the_plan_action_writes_the_same_tours(tmp_path):
    path = make_workbook(tmp_path / "book.xlsx")
    out = tmp_path / "remote.xlsx"
    outcome, actions = act_remote(path, "plan", out)
    assert outcome.ok, outcome.message
    assert "day tours, 2 account(s) not placed" in outcome.message
    assert any(a["func"] == "addSheet" and a["args"][1] == "Tours" for a in actions)
    check_tours(out)
    assert own_sheet(out, "Tours") == "Tours"
    # cell for cell what `potentiel plan` writes
    headless = tmp_path / "headless.xlsx"
    plan_file(path, headless, when=RUN_TIME)
    assert tours_sheet(out, "Tours")[0] == tours_sheet(headless, "Tours")[0]


def test_tours_in_french_and_back(tmp_path):
    path = make_workbook(tmp_path / "classeur.xlsx", settings=[*SETTINGS, ("Langue", "Français")],
                         names=("Comptes", "Paramètres", "Commerciaux"),
                         reps_headers=("Nom", "Latitude", "Longitude", "Visites par jour"))
    out = tmp_path / "remote.xlsx"
    outcome, _actions = act_remote(path, "plan", out)
    assert outcome.ok, outcome.message
    assert own_sheet(out, "Tours") == "Tournées"
    grid = tours_sheet(out, "Tournées")[0]
    assert grid[0][0] == fr("Day tours: each salesperson's year, day by day")
    assert grid[3][:7] == [fr(h) for h in tours_mod.TOURS_HEADERS]
    check_tours(out, "Tournées", why=lambda key: fr(tours_mod.REASONS[key]), accounts="Comptes")
    # headless, from the French file: the same sheet name; back in English, renamed
    headless = tmp_path / "plan.xlsx"
    plan_file(path, headless, when=RUN_TIME)
    assert own_sheet(headless, "Tours") == "Tournées"
    wb = openpyxl.load_workbook(out)
    for row in wb["Paramètres"].iter_rows():
        if row[0].value == "Langue":
            row[1].value = "English"
    english = tmp_path / "english.xlsx"
    wb.save(english)
    again = tmp_path / "again.xlsx"
    outcome, _actions = act_remote(english, "plan", again)
    assert outcome.ok, outcome.message
    names = openpyxl.load_workbook(again).sheetnames
    assert "Tours" in names and "Tournées" not in names
    check_tours(again, accounts="Comptes")


def test_plan_over_http_writes_the_tours(tmp_path):
    from fastapi.testclient import TestClient

    from helpers import payload_from_workbook
    from potentiel import server
    token = "test-token-0123456789abcdef"
    client = TestClient(server.create_app(token=token, max_body=8 * 1024 * 1024))
    path = make_workbook(tmp_path / "book.xlsx")
    r = client.post("/plan", json=payload_from_workbook(path),
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    sheet = next(a["args"][1] for a in actions if a["func"] == "addSheet"
                 and a["args"][1] == "Tours")
    written = [v for a in actions if a["func"] == "setValues"
               for row in a["values"] for v in row]
    assert sheet == "Tours" and "Accounts!A8" in written and "Alpha" in " ".join(
        v for v in written if isinstance(v, str))
