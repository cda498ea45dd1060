"""Day tours (issue 14, point 4): hand-checked small plans, the rules every plan keeps
(each account its count of visits spread over the year, no day over capacity, every tour
from the base and back, no more days than field days, places kept together), the reasons
an account is left out, and the Tours sheet in both languages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import fr
from potentiel.i18n import _, use_language
from potentiel.plan import tours as tours_mod
from potentiel.plan.tours import Tours, day_tours, tours_blocks
from potentiel.sheetnames import TOURS_SHEET

R = 6371.0088                  # the mean Earth radius the module says it uses
DEGREE_KM = R * math.pi / 180  # one degree of a great circle: 111.195 km


def haversine(lat1, lon1, lat2, lon2):
    """The test's own great-circle km, written out from the formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R * math.asin(math.sqrt(h))


def accounts(rows, rep="Rep"):
    """rows: (id, lat, lon, visits); names are the ids in capitals."""
    return pd.DataFrame([{"account": a, "name": a.upper(), "rep": rep, "lat": la, "lon": lo,
                          "visits": v} for a, la, lo, v in rows])


def reps(*rows):
    """rows: (rep, base_lat, base_lon, visits_per_day, field_days)."""
    return pd.DataFrame(rows, columns=["rep", "base_lat", "base_lon", "visits_per_day",
                                       "field_days"])


ONE_REP = reps(("Rep", 0.0, 0.0, 5, 200))


# ------------------------------------------------------------------ by hand


def test_three_accounts_on_a_line_go_out_and_back():
    # Base at (0°, 0°); A, B, C on the equator 1°, 2°, 3° east. One visit each, 5 a day:
    # one day. Out along the line and back: three legs of one degree, 3 degrees back.
    t = day_tours(accounts([("a", 0, 1, 1), ("b", 0, 2, 1), ("c", 0, 3, 1)]), ONE_REP)
    assert list(t.stops["account"]) == ["a", "b", "c"]
    assert list(t.stops["stop"]) == [1, 2, 3]
    assert t.stops["km_from_previous"].tolist() == pytest.approx([111.195] * 3, abs=1e-3)
    assert len(t.days) == 1
    day = t.days.iloc[0]
    assert (day["rep"], day["week"], day["day"], day["tour"]) == ("Rep", 1, 1, 1)
    assert day["accounts"] == "A; B; C" and day["visits"] == 3
    assert day["km"] == pytest.approx(6 * DEGREE_KM) == pytest.approx(667.17, abs=0.01)
    assert t.unplaced.empty


def test_two_visits_a_day_make_two_days_each_from_the_base():
    # The same line, 2 visits a day: ⌈3 ÷ 2⌉ = 2 days. The three splits, base to base:
    # {A, B} + {C}: (1+1+2) + (3+3) = 10°; {A, C} + {B}: (1+2+3) + (2+2) = 10°;
    # {B, C} + {A}: (2+1+3) + (1+1) = 8°, the shortest.
    t = day_tours(accounts([("a", 0, 1, 1), ("b", 0, 2, 1), ("c", 0, 3, 1)]),
                  reps(("Rep", 0.0, 0.0, 2, 200)))
    groups = sorted(sorted(d.split("; ")) for d in t.days["accounts"])
    assert groups == [["A"], ["B", "C"]]
    assert t.days["km"].sum() == pytest.approx(8 * DEGREE_KM, abs=1e-6)
    assert t.days["visits"].max() <= 2
    assert t.days["tour"].tolist() == [1, 2]


def test_km_from_the_base_then_from_stop_to_stop():
    # Base in Lyon; two accounts 1 visit each: the legs are the great-circle distances
    # base → first, first → second, and the day adds second → base.
    lyon, a, b = (45.764, 4.8357), (45.9, 4.9), (46.2, 5.2)
    t = day_tours(accounts([("a", *a, 1), ("b", *b, 1)]), reps(("Rep", *lyon, 5, 200)))
    assert list(t.stops["account"]) == ["a", "b"]  # nearer first: a is on the way to b
    legs = t.stops["km_from_previous"].tolist()
    assert legs == pytest.approx([haversine(*lyon, *a), haversine(*a, *b)], rel=1e-9)
    assert t.days["km"].iloc[0] == pytest.approx(sum(legs) + haversine(*b, *lyon), rel=1e-9)


# ------------------------------------------------------------------ the rules


def _check_rules(t: Tours, acc: pd.DataFrame, reps_: pd.DataFrame, *, weeks=46,
                 days_per_week=5):
    """Every rule a plan keeps, checked on the frames alone."""
    base = {r.rep: (r.base_lat, r.base_lon) for r in reps_.itertuples()}
    cap = {r.rep: r.visits_per_day for r in reps_.itertuples()}
    field_days = {r.rep: r.field_days for r in reps_.itertuples()}
    where = {r.account: (r.lat, r.lon) for r in acc.itertuples()}
    # each placed account gets exactly its visits, each unplaced one none
    got = t.stops.groupby("account").size()
    placed = set(got.index)
    for r in acc.itertuples():
        if r.account in placed:
            assert got[r.account] == r.visits, r.account
        elif r.visits > 0:
            assert r.account in set(t.unplaced["account"]), r.account
    assert placed.isdisjoint(t.unplaced["account"])
    # an account at most once a day; a day's stops numbered 1..n, at most the rep's visits
    assert not t.stops.duplicated(["rep", "week", "day", "account"]).any()
    day_rows = {(r.rep, r.tour): r for r in t.days.itertuples(index=False)}
    assert len(day_rows) == len(t.days)
    for (rep, tour), day in t.stops.groupby(["rep", "tour"]):
        assert day["stop"].tolist() == list(range(1, len(day) + 1))
        assert len(day) <= cap[rep]
        # the tour leaves from the base, goes stop to stop, and comes back to the base
        points = [base[rep]] + [where[a] for a in day["account"]]
        legs = [haversine(*p, *q) for p, q in zip(points, points[1:])]
        assert day["km_from_previous"].tolist() == pytest.approx(legs, rel=1e-9, abs=1e-9)
        row = day_rows.pop((rep, tour))
        assert row.km == pytest.approx(sum(legs) + haversine(*points[-1], *base[rep]),
                                       rel=1e-9, abs=1e-9)
        assert row.visits == len(day)
        assert row.accounts == "; ".join(day["name"])
        assert (row.week, row.day) == (day["week"].iloc[0], day["day"].iloc[0])
    assert not day_rows  # no day without stops
    # one tour a calendar day, numbered in date order, no more than the field days
    assert not t.days.duplicated(["rep", "week", "day"]).any()
    assert t.days["day"].between(1, days_per_week).all()
    assert t.days["week"].between(1, weeks).all()
    for rep, days in t.days.groupby("rep"):
        assert len(days) <= min(field_days[rep], weeks * days_per_week)
        dated = days.sort_values(["week", "day"])
        assert dated["tour"].tolist() == list(range(1, len(days) + 1))
        assert (dated["visits"] <= cap[rep]).all()


def _spread_ok(t: Tours, acc: pd.DataFrame, weeks=46, days_per_week=5):
    """The k-th of an account's v visits falls in the k-th v-th of the year, give or take
    one period (a period: the year ÷ the most visits any account of the rep has), and
    two visits in a row are between 0.4 and 1.6 times the even interval apart (the
    bounds measured over 20 random portfolios were 0.47 and 1.51)."""
    slots = weeks * days_per_week
    periods = acc.groupby("rep")["visits"].max()
    for account, visits in t.stops.groupby("account"):
        rep = visits["rep"].iloc[0]
        when = sorted((visits["week"] - 1) * days_per_week + visits["day"] - 1)
        v, slack = len(when), 1 / periods[rep] + 2 / slots
        for k, slot in enumerate(when):
            assert k / v - slack <= slot / slots <= (k + 1) / v + slack, (account, k, when)
        gaps = np.diff(when) / (slots / v)
        assert v < 2 or (gaps.min() >= 0.4 and gaps.max() <= 1.6), (account, when)


def test_each_account_gets_its_visits_spread_over_the_year():
    rng = np.random.default_rng(1)
    n = 60
    acc = accounts([(f"x{i}", 45 + rng.normal(0, 0.3), 5 + rng.normal(0, 0.3), v)
                    for i, v in enumerate(rng.choice([12, 6, 4, 1], n))])
    reps_ = reps(("Rep", 45.0, 5.0, 5, 200))
    t = day_tours(acc, reps_)
    assert t.unplaced.empty
    _check_rules(t, acc, reps_)
    _spread_ok(t, acc)


def test_twelve_visits_a_year_come_about_every_four_weeks():
    # Twenty accounts around one town, all A (12 a year), 5 visits a day: 4 days a period.
    rng = np.random.default_rng(2)
    acc = accounts([(f"a{i}", 45 + rng.normal(0, 0.2), 5 + rng.normal(0, 0.2), 12)
                    for i in range(20)])
    t = day_tours(acc, reps(("Rep", 45.0, 5.0, 5, 200)))
    for account, visits in t.stops.groupby("account"):
        weeks = sorted(visits["week"])
        assert len(weeks) == 12
        assert weeks[0] <= 4, (account, weeks)               # not all in January ...
        assert weeks[-1] >= 46 - 4, (account, weeks)          # ... nor bunched at the start
        gaps = np.diff(weeks)
        assert gaps.min() >= 2 and gaps.max() <= 6, (account, weeks)   # 46 ÷ 12 ≈ 3.8


def test_two_clear_clusters_never_share_a_day():
    # Ten accounts around Lyon and ten around Grenoble (about 95 km apart), mixed
    # frequencies, the base in between: a day is in one town's cluster only.
    rng = np.random.default_rng(3)
    rows = []
    for town, (lat, lon) in (("lyon", (45.764, 4.836)), ("gre", (45.189, 5.725))):
        for i, v in enumerate([12, 12, 12, 12, 6, 6, 4, 4, 1, 1]):
            rows.append((f"{town}{i}", lat + rng.normal(0, 0.03), lon + rng.normal(0, 0.03), v))
    acc = accounts(rows)
    reps_ = reps(("Rep", 45.45, 5.3, 5, 200))
    t = day_tours(acc, reps_)
    assert t.unplaced.empty
    _check_rules(t, acc, reps_)
    towns = t.stops.assign(town=t.stops["account"].str.replace(r"\d+$", "", regex=True))
    assert (towns.groupby(["rep", "tour"])["town"].nunique() == 1).all()


def test_field_days_that_cannot_hold_the_visits_leave_the_last_accounts_out():
    # One visit a day, two field days, three accounts of one visit: the farthest (c) is
    # left out, said with the rep's figures; the two others get a day each.
    t = day_tours(accounts([("a", 0, 1, 1), ("b", 0, 2, 1), ("c", 0, 3, 1)]),
                  reps(("Rep", 0.0, 0.0, 1, 2)))
    assert sorted(t.stops["account"]) == ["a", "b"]
    assert len(t.days) == 2
    assert t.unplaced[["account", "reason"]].values.tolist() == [["c", "over-capacity"]]
    assert "2 days of at most 1 visits" in t.unplaced["why"].iloc[0]


def test_more_visits_first_when_the_year_is_full():
    # 5 a day, 40 field days = 200 visits for 6 A accounts (12 a year: 72 visits) and
    # 150 D accounts (1 a year): every A is placed, the D accounts fill what is left.
    rng = np.random.default_rng(4)
    acc = accounts([(f"a{i}", 45 + rng.normal(0, 0.1), 5 + rng.normal(0, 0.1), 12)
                    for i in range(6)]
                   + [(f"d{i}", 45 + rng.normal(0, 0.1), 5 + rng.normal(0, 0.1), 1)
                      for i in range(150)])
    reps_ = reps(("Rep", 45.0, 5.0, 5, 40))
    t = day_tours(acc, reps_)
    _check_rules(t, acc, reps_)
    assert {f"a{i}" for i in range(6)} <= set(t.stops["account"])
    assert set(t.unplaced["account"]) <= {f"d{i}" for i in range(150)}
    assert set(t.unplaced["reason"]) == {"over-capacity"}
    assert len(t.days) <= 40
    assert len(t.stops) >= 190  # grouping by place costs at most a few visits here


def test_accounts_left_out_say_why():
    acc = pd.DataFrame([
        {"account": "ok", "name": "Fine", "rep": "Rep", "lat": 0.0, "lon": 1.0, "visits": 1},
        {"account": "nowhere", "name": "No place", "rep": "Rep", "lat": None, "lon": None,
         "visits": 4},
        {"account": "orphan", "name": "Nobody", "rep": None, "lat": 0.0, "lon": 1.0,
         "visits": 4},
        {"account": "stranger", "name": "Unknown rep", "rep": "Zoé", "lat": 0.0, "lon": 1.0,
         "visits": 4},
        {"account": "homeless", "name": "Rep without base", "rep": "Nomad", "lat": 0.0,
         "lon": 1.0, "visits": 4},
        {"account": "busy", "name": "Too often", "rep": "Rep", "lat": 0.0, "lon": 1.0,
         "visits": 300},
        {"account": "unrated", "name": "No frequency", "rep": "Rep", "lat": 0.0, "lon": 1.0,
         "visits": None},
        {"account": "idle", "name": "Not visited", "rep": "Rep", "lat": 0.0, "lon": 1.0,
         "visits": 0},
    ])
    reps_ = reps(("Rep", 0.0, 0.0, 5, 200), ("Nomad", None, None, 5, 200))
    t = day_tours(acc, reps_)
    assert list(t.stops["account"]) == ["ok"]
    reasons = dict(zip(t.unplaced["account"], t.unplaced["reason"]))
    assert reasons == {"nowhere": "no-coordinates", "orphan": "no-rep",
                       "stranger": "unknown-rep", "homeless": "no-base",
                       "busy": "too-many-visits", "unrated": "no-frequency"}
    why = dict(zip(t.unplaced["account"], t.unplaced["why"]))
    assert why["busy"] == "300 visits a year is more than salesperson Rep's 200 field days"
    assert "Zoé" in why["stranger"] and "Nomad" in why["homeless"]
    assert "idle" not in reasons  # no visit to make: nothing to place, nothing to say


def test_field_days_beyond_the_calendar_are_said():
    t = day_tours(accounts([("a", 0, 1, 1)]), reps(("Rep", 0.0, 0.0, 5, 300)))
    assert len(t.notes) == 1 and t.notes[0].kind == "field-days"
    assert "300 field days" in t.notes[0].message and "230" in t.notes[0].message
    assert "Rep" in t.notes[0].where


def test_a_rep_without_capacity_places_nobody():
    t = day_tours(accounts([("a", 0, 1, 1)]), reps(("Rep", 0.0, 0.0, 0, 200)))
    assert t.stops.empty and t.unplaced["reason"].tolist() == ["no-capacity"]


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_every_rule_holds_on_a_random_portfolio(seed):
    # Three reps, 400 accounts around their bases and beyond, mixed frequencies and
    # capacities (one rep overloaded), a few accounts without coordinates.
    rng = np.random.default_rng(seed)
    reps_ = reps(("North", 50.63, 3.06, 5, 200), ("South", 43.30, 5.37, 6, 120),
                 ("Tight", 45.76, 4.84, 4, 30))
    n = 400
    who = rng.choice(reps_["rep"].to_numpy(), n)
    centre = reps_.set_index("rep").loc[who, ["base_lat", "base_lon"]].to_numpy()
    lat = centre[:, 0] + rng.normal(0, 0.4, n)
    lon = centre[:, 1] + rng.normal(0, 0.5, n)
    lat[rng.random(n) < 0.02] = np.nan
    acc = pd.DataFrame({"account": [f"k{i}" for i in range(n)],
                        "name": [f"Account {i}" for i in range(n)], "rep": who,
                        "lat": lat, "lon": lon,
                        "visits": rng.choice([12, 6, 4, 2, 1, 0], n,
                                             p=[.05, .1, .2, .1, .35, .2])})
    t = day_tours(acc, reps_, seed=seed)
    _check_rules(t, acc, reps_)
    _spread_ok(t, acc[acc["account"].isin(t.stops["account"])])
    assert set(t.unplaced["reason"]) <= {"no-coordinates", "over-capacity"}
    tight = t.days[t.days["rep"] == "Tight"]
    assert len(tight) <= 30 and (t.unplaced["rep"] == "Tight").any()  # overloaded: said
    # the same inputs make the same plan
    again = day_tours(acc, reps_, seed=seed)
    pd.testing.assert_frame_equal(t.stops, again.stops)
    pd.testing.assert_frame_equal(t.unplaced, again.unplaced)


def test_past_the_routing_budget_days_keep_the_first_solution(monkeypatch):
    # A plan too large for the routing budget still keeps every rule; only the order of
    # the stops may be a little longer (the solver's savings solution, no local search).
    rng = np.random.default_rng(5)
    acc = accounts([(f"x{i}", 45 + rng.normal(0, 0.3), 5 + rng.normal(0, 0.3), v)
                    for i, v in enumerate(rng.choice([12, 4, 1], 80))])
    reps_ = reps(("Rep", 45.0, 5.0, 8, 200))
    full = day_tours(acc, reps_)
    monkeypatch.setattr(tours_mod, "ROUTE_BUDGET_SECONDS", 0.0)
    quick = day_tours(acc, reps_)
    _check_rules(quick, acc, reps_)
    assert quick.unplaced.empty and len(quick.stops) == len(full.stops)
    assert quick.days["km"].sum() >= full.days["km"].sum() * 0.97


def test_other_calendars():
    # 10 weeks of 4 days: 40 days; weekly accounts (10 a year) get one visit a week.
    acc = accounts([(f"w{i}", 0.1 * i, 1, 10) for i in range(3)])
    reps_ = reps(("Rep", 0.0, 0.0, 3, 40))
    t = day_tours(acc, reps_, weeks=10, days_per_week=4)
    _check_rules(t, acc, reps_, weeks=10, days_per_week=4)
    for _account, visits in t.stops.groupby("account"):
        assert sorted(visits["week"]) == list(range(1, 11))


def test_bad_tables_are_the_callers_bug():
    with pytest.raises(ValueError, match="lat"):
        day_tours(accounts([("a", 0, 1, 1)]).drop(columns="lat"), ONE_REP)
    with pytest.raises(ValueError, match="whole numbers"):
        day_tours(accounts([("a", 0, 1, -1)]), ONE_REP)
    with pytest.raises(ValueError, match="twice"):
        day_tours(accounts([("a", 0, 1, 1)]), reps(("Rep", 0, 0, 5, 200),
                                                   ("Rep", 1, 1, 5, 200)))


def test_the_fallback_split_covers_every_stop_within_capacity():
    # When the solver finds no split, stops are cut by bearing and each run ordered alone.
    pts = [(0.0, 0.0)] + [(math.cos(a), math.sin(a)) for a in np.linspace(0, 6, 11)]
    metres = np.array([[round(haversine(*p, *q) * 1000) for q in pts] for p in pts])
    routes = tours_mod._route_by_bearing(metres, 3, 4)
    assert sorted(s for r in routes for s in r) == list(range(1, 12))
    assert len(routes) == 3 and max(len(r) for r in routes) <= 4


# ------------------------------------------------------------------ the Tours sheet


def test_tours_sheet_in_english_and_french():
    acc = pd.DataFrame([
        {"account": "a", "name": "Atelier A", "rep": "Rep", "lat": 0.0, "lon": 1.0, "visits": 1},
        {"account": "b", "name": None, "rep": "Rep", "lat": 0.0, "lon": 2.0, "visits": 1},
        {"account": "z", "name": "Nowhere", "rep": "Rep", "lat": None, "lon": None,
         "visits": 2},
    ])
    t = day_tours(acc, ONE_REP)
    title, table, side = tours_blocks(t)
    assert (table.row, table.col, side.col) == (4, 1, 9)
    assert table.values[0] == ["Salesperson", "Week", "Day", "Tour",
                               "Accounts, in visit order", "Visits", "km"]
    # a nameless account shows its id; km rounded to 0.1
    assert table.values[1] == ["Rep", 1, 1, 1, "Atelier A; b", 2, round(4 * DEGREE_KM, 1)]
    assert side.values[1] == ["Rep", 1, 2, round(4 * DEGREE_KM, 1), 1]
    lost = side.values[side.values.index(["Accounts not placed", None, None, None, None]) + 2]
    assert lost[:4] == ["z", "Nowhere", "Rep", 2] and "latitude" in lost[4]
    # blanked one row past the tables, or down to the last run's last row; never the
    # sheet's million rows (a remote client would clear seven million cells)
    assert (table.clear_to_row, side.clear_to_row) == (4 + 2, 4 + len(side.values))
    again = tours_blocks(t, previous_rows=400)
    assert again[1].clear_to_row == again[2].clear_to_row == 400
    assert again[1].clear_cols == 7 and again[2].clear_cols == 5
    with use_language("fr"):
        t_fr = day_tours(acc, ONE_REP)
        title, table, side = tours_blocks(t_fr)
        assert _(TOURS_SHEET) == "Tournées"
    assert table.values[0][:5] == [fr("Salesperson"), fr("Week"), fr("Day"), fr("Tour"),
                                   fr("Accounts, in visit order")]
    assert title.values[0][0] == fr("Day tours: each salesperson's year, day by day")
    assert t_fr.unplaced["why"].iloc[0] == fr(tours_mod.REASONS["no-coordinates"])


def test_empty_plan_sheet_says_everyone_is_placed():
    t = day_tours(accounts([("a", 0, 1, 0)]), ONE_REP)
    assert t.stops.empty and t.days.empty and t.unplaced.empty
    _title, table, side = tours_blocks(t)
    assert len(table.values) == 1
    assert side.values[-1][0] == "(none: every account with visits is in a tour)"
