"""Day tours (issue 14, point 4): each rep's accounts made into days on the road from the
rep's base, for a whole year, every account visited its count of times at its frequency.

Owns `day_tours` (which accounts on which day, in which order, how far), the `Tours` it
returns and `tours_blocks` (the content of the Tours sheet). The steps, told for a sales
manager in docs/plan.md ("Day tours"):

1. **Calendar.** The year has ``weeks × days_per_week`` working days; a rep's field days
   are spread evenly over them (the others are office days). The field days are cut into
   *periods*, as many as the most visits any of the rep's accounts needs (12 a year: 12
   periods of about four weeks).
2. **Sectors.** The rep's accounts are grouped by place into sectors of about two days of
   visits per period (`SECTOR_DAYS`), never more sectors than a period has field days:
   scikit-learn's KMeans on km east and north of the base, weighted by visits.
3. **Visits to periods.** The k-th of an account's v visits falls in the k-th v-th of the
   year (12 a year: one per period; 4 a year: one every three periods, which of the three
   is free). The free choice fills the sector's days already opened before it opens a new
   one, and no period gets more days than it has field days. Accounts are placed most
   visits first, then nearest to the base first; one that no longer fits is left out and
   said (`Tours.unplaced`).
4. **Days and order.** A sector's visits in a period make ⌈visits ÷ visits a day⌉ days,
   split and ordered by OR-Tools' routing solver (a capacitated vehicle routing problem:
   each day a vehicle from the base and back, at most the rep's visits a day, shortest
   total distance). A day never mixes two sectors.
5. **Dates.** A period's days are laid out over its field days turning around the base
   by the bearing of their sector (the same every period), so that a sector comes back
   at about the same point of every period.

Distances are great-circle km (haversine on the mean Earth radius, 6,371 km): as the crow
flies, no roads. A day's km is its round trip, base → stops → base.

scikit-learn and OR-Tools are imported when a plan is made, not when this module is
imported, so that the front ends that import `tours_blocks` start as fast as before.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import N_, _
from ..problems import Problem
from ..report import Block, plain
from ..sheet_styles import GRID_HEADER, HEAD, INTEGER, KM, SUBTITLE, TITLE, Cells, Look

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), the haversine's sphere
# Days of visits per period in a sector: 2 fills the days better than 1 (fewer half-empty
# last days) for about the same km per visit (benchmarks/tours.py, measured on 20,000).
SECTOR_DAYS = 2
ROUTE_SECONDS = 1.0  # OR-Tools' time limit for one sector's days of one period
# Routing time for one call of day_tours, all reps: past it, the remaining days keep the
# solver's first solution (savings) without its local search, so that very large plans
# (many visits a day) still end in bounded time. Within it, results are reproducible.
ROUTE_BUDGET_SECONDS = 40.0
# The working calendar of a year: 46 weeks (52 less holidays and public holidays) of 5 days.
WEEKS, DAYS_A_WEEK = 46, 5

STOP_COLUMNS = ["rep", "week", "day", "tour", "stop", "account", "name", "km_from_previous"]
DAY_COLUMNS = ["rep", "week", "day", "tour", "accounts", "visits", "km"]
UNPLACED_COLUMNS = ["rep", "account", "name", "visits", "reason", "why"]
ACCOUNT_COLUMNS = ("account", "name", "rep", "lat", "lon", "visits")
REP_COLUMNS = ("rep", "base_lat", "base_lon", "visits_per_day", "field_days")

# Why an account has no tour: its key (`Tours.unplaced["reason"]`) and the sentence said.
REASONS = {
    "no-frequency": N_("no visits a year for this account (no category, or no frequency "
                       "set for its category)"),
    "no-rep": N_("no salesperson in charge: fill its salesperson"),
    "unknown-rep": N_("salesperson {rep} is not on the Salespeople sheet: add a row for them"),
    "no-base": N_("salesperson {rep} has no base: fill their latitude and longitude on the "
                  "Salespeople sheet"),
    "no-coordinates": N_("no latitude and longitude: locate the account (coordinates, or "
                         "postal code and town) to put it in a tour"),
    "no-capacity": N_("salesperson {rep} has no field days or no visits a day"),
    "too-many-visits": N_("{visits} visits a year is more than salesperson {rep}'s {days} "
                          "field days"),
    "over-capacity": N_("salesperson {rep}'s field days are full ({days} days of at most "
                        "{per_day} visits, grouped by place): accounts with more visits, "
                        "then those nearer the base, came first"),
}


@dataclass
class Tours:
    """A year of day tours.

    ``stops``: one row per visit (`STOP_COLUMNS`): ``rep``, ``week`` (1-based), ``day``
    (day of the week, 1-based), ``tour`` (the rep's day number in the year, 1-based, in date
    order), ``stop`` (1-based order in the day), ``account``, ``name``, ``km_from_previous``
    (from the base for stop 1, great-circle km).
    ``days``: one row per day (`DAY_COLUMNS`): ``accounts`` (names in visit order,
    "; "-joined), ``visits``, ``km`` (the round trip from the base, great-circle km).
    ``unplaced``: accounts with visits to make that have no tour (`UNPLACED_COLUMNS`):
    ``reason`` a key of `REASONS`, ``why`` its sentence in the run's language; its index
    is the accounts' own (the labels of the ``accounts`` given), so a caller finds each
    account's row. A caller may add a ``cell`` column (where the account is typed): the
    Tours sheet then lists it.
    ``notes``: what was decided about the reps' figures (field days beyond the calendar).
    """

    stops: pd.DataFrame
    days: pd.DataFrame
    unplaced: pd.DataFrame
    notes: list[Problem] = field(default_factory=list)


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Haversine distance in km between points given in degrees (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def day_tours(accounts: pd.DataFrame, reps: pd.DataFrame, *, weeks: int = WEEKS,
              days_per_week: int = DAYS_A_WEEK, seed: int = 0) -> Tours:
    """Each rep's year of day tours (the steps: this module's docstring).

    ``accounts``: columns ``account`` (id), ``name``, ``rep``, ``lat``, ``lon`` (degrees),
    ``visits`` (visits a year, a whole number ≥ 0, or blank: no frequency). ``reps``:
    ``rep``, ``base_lat``, ``base_lon`` (degrees), ``visits_per_day``, ``field_days``
    (a year). ``weeks`` × ``days_per_week`` is the working calendar; ``seed`` makes the
    sectors reproducible (the same inputs give the same tours).

    Every account with visits either gets exactly that many, on distinct days spread over
    the year, or is in ``unplaced`` with the reason. Raises ValueError when a column is
    missing, a rep is listed twice, visits are negative or not whole, or the calendar is
    empty (the caller's bug: the front ends give these tables, not the user).
    """
    for frame, cols, what in ((accounts, ACCOUNT_COLUMNS, "accounts"),
                              (reps, REP_COLUMNS, "reps")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"day_tours: {what} lack the columns {missing}")
    if weeks < 1 or days_per_week < 1:
        raise ValueError("day_tours: weeks and days_per_week must be at least 1")
    acc = accounts.reset_index(drop=True)
    visits = pd.to_numeric(acc["visits"], errors="coerce")
    known = visits.notna()
    if (visits[known] < 0).any() or (visits[known] % 1 != 0).any():
        raise ValueError("day_tours: visits must be whole numbers ≥ 0")
    rep_names = reps["rep"].astype(str)
    if rep_names.duplicated().any():
        twice = sorted(set(rep_names[rep_names.duplicated()]))
        raise ValueError(f"day_tours: reps listed twice: {twice}")
    by_rep = {name: row for name, row in zip(rep_names, reps.itertuples(index=False))}

    ids = acc["account"].astype(str).to_numpy()
    names = [_label(n, i) for n, i in zip(acc["name"], ids)]
    rep_of = [None if _blank(r) else str(r) for r in acc["rep"]]
    lat = pd.to_numeric(acc["lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(acc["lon"], errors="coerce").to_numpy(dtype=float)
    v = visits.fillna(0).to_numpy(dtype=np.int64)

    calendar = weeks * days_per_week
    unplaced: list[tuple[int, str, dict]] = []
    notes: list[Problem] = []
    todo: dict[str, list[int]] = {}
    for i in range(len(acc)):
        if not known.iat[i]:
            unplaced.append((i, "no-frequency", {}))
            continue
        if v[i] == 0:
            continue  # nothing to plan
        rep = rep_of[i]
        row = by_rep.get(rep) if rep is not None else None
        if rep is None:
            unplaced.append((i, "no-rep", {}))
        elif row is None:
            unplaced.append((i, "unknown-rep", {"rep": rep}))
        elif not (_number(row.base_lat) and _number(row.base_lon)):
            unplaced.append((i, "no-base", {"rep": rep}))
        elif not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            unplaced.append((i, "no-coordinates", {}))
        elif _capacity(row.visits_per_day) < 1 or _capacity(row.field_days) < 1:
            unplaced.append((i, "no-capacity", {"rep": rep}))
        elif v[i] > min(_capacity(row.field_days), calendar):
            unplaced.append((i, "too-many-visits", {
                "rep": rep, "visits": int(v[i]),
                "days": min(_capacity(row.field_days), calendar)}))
        else:
            todo.setdefault(rep, []).append(i)

    stop_rows: list[list[Any]] = []
    day_rows: list[list[Any]] = []
    deadline = time.monotonic() + ROUTE_BUDGET_SECONDS
    for rep in sorted(todo):
        row = by_rep[rep]
        per_day, field_days = _capacity(row.visits_per_day), _capacity(row.field_days)
        if field_days > calendar:
            notes.append(Problem(
                _("{days} field days a year is more than the calendar's {calendar} working "
                  "days ({weeks} weeks of {per_week} days): the tours use {calendar}").format(
                    days=field_days, calendar=calendar, weeks=weeks, per_week=days_per_week),
                where=_("Salespeople, {rep}").format(rep=rep), kind="field-days"))
            field_days = calendar
        idx = np.asarray(todo[rep])
        plan = _RepYear(float(row.base_lat), float(row.base_lon), per_day, field_days,
                        calendar, seed, deadline)
        days, left = plan.make(lat[idx], lon[idx], v[idx])
        for j in left:
            unplaced.append((int(idx[j]), "over-capacity",
                             {"rep": rep, "days": field_days, "per_day": per_day}))
        for tour, (slot, order, legs, back) in enumerate(days, start=1):
            week, day = slot // days_per_week + 1, slot % days_per_week + 1
            who = idx[order]
            for n, (i, km) in enumerate(zip(who, legs), start=1):
                stop_rows.append([rep, week, day, tour, n, ids[i], names[i], km])
            day_rows.append([rep, week, day, tour, "; ".join(names[i] for i in who),
                             len(who), float(sum(legs) + back)])

    unplaced.sort(key=lambda t: t[0])
    lost = [[rep_of[i], ids[i], names[i], int(v[i]) if known.iat[i] else None, key,
             _(REASONS[key]).format(**params)] for i, key, params in unplaced]
    labels = accounts.index[[i for i, _key, _params in unplaced]]
    return Tours(
        stops=pd.DataFrame(stop_rows, columns=STOP_COLUMNS).astype(
            {"week": "int64", "day": "int64", "tour": "int64", "stop": "int64",
             "km_from_previous": "float64"}),
        days=pd.DataFrame(day_rows, columns=DAY_COLUMNS).astype(
            {"week": "int64", "day": "int64", "tour": "int64", "visits": "int64",
             "km": "float64"}),
        unplaced=pd.DataFrame(lost, columns=UNPLACED_COLUMNS, index=labels),
        notes=notes)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        value is pd.NA or (isinstance(value, str) and not value.strip())


def _label(name: Any, ident: str) -> str:
    return ident if _blank(name) else str(name)


def _number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _capacity(value: Any) -> int:
    """A rep's visits a day or field days as a whole number (blank or not a number: 0)."""
    return int(math.floor(float(value))) if _number(value) and float(value) > 0 else 0


class _RepYear:
    """One rep's year: the calendar, the sectors, the visits in periods, the days."""

    def __init__(self, base_lat: float, base_lon: float, per_day: int, field_days: int,
                 calendar: int, seed: int, deadline: float = math.inf):
        self.base, self.deadline = (base_lat, base_lon), deadline
        self.per_day, self.field_days, self.calendar, self.seed = (per_day, field_days,
                                                                   calendar, seed)

    def make(self, lat: np.ndarray, lon: np.ndarray, visits: np.ndarray
             ) -> tuple[list[tuple[int, np.ndarray, list[float], float]], list[int]]:
        """The days in date order, each (calendar slot, the accounts' positions in visit
        order, km of each leg from the previous stop, km back to the base), and the
        positions of the accounts that do not fit."""
        n_periods = int(visits.max())
        # field-day j of F falls on calendar slot ⌊j·S/F⌋; period p holds field days
        # [⌊p·F/P⌋, ⌊(p+1)·F/P⌋), at least one each since visits ≤ field days.
        starts = (np.arange(n_periods + 1) * self.field_days) // n_periods
        room = np.diff(starts)
        east, north = self._local_km(lat, lon)
        sector = self._sectors(east, north, visits, room)
        placed, left = self._periods(sector, visits, np.hypot(east, north), room)

        by_period: dict[int, list[tuple[tuple, np.ndarray]]] = {}
        groups: dict[tuple[int, int], list[int]] = {}
        for i, ps in placed.items():
            for p in ps:
                groups.setdefault((int(sector[i]), int(p)), []).append(i)
        # A sector's bearing from the base, the same in every period, puts its days at
        # the same point of each period; a day's own bearing, taken from its sector's
        # (so no jump at north), orders the sector's days within a period.
        weights = visits.astype(float)
        sector_bearing = {
            s: math.atan2(np.average(east[sector == s], weights=weights[sector == s]),
                          np.average(north[sector == s], weights=weights[sector == s]))
            for s in np.unique(sector)}
        for (s, p), members in sorted(groups.items()):
            members = np.asarray(members)
            n_days = -(-len(members) // self.per_day)
            for route in _route(self._metres(lat[members], lon[members]), n_days,
                                self.per_day, improve=time.monotonic() < self.deadline):
                order = members[np.asarray(route) - 1]
                turn = math.atan2(east[order].mean(), north[order].mean()) - sector_bearing[s]
                key = (sector_bearing[s] % (2 * math.pi), s,
                       (turn + math.pi) % (2 * math.pi) - math.pi)
                by_period.setdefault(p, []).append((key, order))
        days = []
        for p, found in sorted(by_period.items()):
            found.sort(key=lambda d: d[0])
            for j, (_key, order) in enumerate(found):
                field_day = starts[p] + (j * room[p]) // len(found)
                slot = (field_day * self.calendar) // self.field_days
                legs = great_circle_km(np.r_[self.base[0], lat[order][:-1]],
                                       np.r_[self.base[1], lon[order][:-1]],
                                       lat[order], lon[order])
                back = float(great_circle_km(lat[order][-1], lon[order][-1], *self.base))
                days.append((int(slot), order, [float(k) for k in legs], back))
        days.sort(key=lambda d: d[0])
        return days, left

    def _local_km(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """km east and north of the base (equirectangular: good over a territory)."""
        lat0, lon0 = self.base
        dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
        east = np.radians(dlon) * EARTH_RADIUS_KM * math.cos(math.radians(lat0))
        north = np.radians(lat - lat0) * EARTH_RADIUS_KM
        return east, north

    def _sectors(self, east: np.ndarray, north: np.ndarray, visits: np.ndarray,
                 room: np.ndarray) -> np.ndarray:
        """Each account's sector: KMeans on places weighted by visits, with about
        `SECTOR_DAYS` days of visits per period in a sector, and no more sectors than the
        shortest period has field days (a sector whose accounts come every period needs
        a day in each)."""
        points = np.column_stack([east, north])
        distinct = len(np.unique(points.round(6), axis=0))
        per_period = len(room) * self.per_day * SECTOR_DAYS
        k = min(distinct, int(room.min()), max(1, -(-int(visits.sum()) // per_period)))
        if k == 1:
            return np.zeros(len(points), dtype=np.int64)
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits
        model = KMeans(n_clusters=k, n_init=4, random_state=self.seed)
        # One thread: on a busy machine OpenMP's waiting threads make KMeans 20× slower.
        with threadpool_limits(limits=1):
            return model.fit_predict(points, sample_weight=visits.astype(float)).astype(np.int64)

    def _periods(self, sector: np.ndarray, visits: np.ndarray, distance: np.ndarray,
                 room: np.ndarray) -> tuple[dict[int, np.ndarray], list[int]]:
        """The periods of each account's visits, and the accounts that do not fit.

        Account i with v visits of P periods takes periods ⌊(k·P + s)/v⌋, k = 0…v−1, for a
        shift s in 0…P−1: the k-th visit in the k-th v-th of the year. Of the shifts, the
        one opening the fewest new days in its sector wins (then the emptiest periods);
        a shift that would need more days than a period has is not taken."""
        n_periods, cap = len(room), self.per_day
        load = np.zeros((int(sector.max()) + 1, n_periods), dtype=np.int64)
        used = np.zeros(n_periods, dtype=np.int64)
        shifts: dict[int, np.ndarray] = {}
        chosen: dict[int, np.ndarray] = {}
        left: list[int] = []
        order = np.lexsort((np.arange(len(visits)), distance, -visits))
        for i in order:
            v = int(visits[i])
            if v not in shifts:
                s = np.arange(n_periods)[:, None]
                shifts[v] = np.unique((np.arange(v)[None, :] * n_periods + s) // v, axis=0)
            cand = shifts[v]
            here = load[sector[i]]  # a view: the sector's visits per period
            new = (here[cand] % cap == 0).astype(np.int64)  # this visit opens a day
            fits = (used[cand] + new <= room[cand]).all(axis=1)
            if not fits.any():
                left.append(int(i))
                continue
            cost = np.where(fits, new.sum(axis=1) * (n_periods * self.field_days + 1)
                            + used[cand].sum(axis=1), np.iinfo(np.int64).max)
            best = int(np.argmin(cost))
            here[cand[best]] += 1
            used[cand[best]] += new[best]
            chosen[int(i)] = cand[best]
        return chosen, left

    def _metres(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Whole metres between the base (node 0) and the stops, for the solver."""
        la, lo = np.r_[self.base[0], lat], np.r_[self.base[1], lon]
        km = great_circle_km(la[:, None], lo[:, None], la[None, :], lo[None, :])
        return np.rint(km * 1000).astype(np.int64)


def _route(metres: np.ndarray, days: int, per_day: int, improve: bool = True
           ) -> list[list[int]]:
    """Stops 1…n of the distance matrix ``metres`` (node 0 the base) split into ``days``
    routes of at most ``per_day`` stops, each from the base and back, the shortest total
    OR-Tools finds: cheapest-arc first solution, then local search to a local optimum
    within `ROUTE_SECONDS`; without ``improve``, the savings first solution alone (about
    ten times faster, some 7 % longer). Each route lists its stops in visit order."""
    n = len(metres) - 1
    if n == 1:
        return [[1]]
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    manager = pywrapcp.RoutingIndexManager(n + 1, days, 0)
    model = pywrapcp.RoutingModel(manager)
    arc = model.RegisterTransitMatrix(metres.tolist())
    model.SetArcCostEvaluatorOfAllVehicles(arc)
    demand = model.RegisterUnaryTransitVector([0] + [1] * n)
    model.AddDimensionWithVehicleCapacity(demand, 0, [per_day] * days, True, "visits")
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategy = routing_enums_pb2.FirstSolutionStrategy
    params.first_solution_strategy = strategy.PATH_CHEAPEST_ARC if improve else strategy.SAVINGS
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
    if not improve:
        params.solution_limit = 1
    params.time_limit.FromMilliseconds(int(ROUTE_SECONDS * 1000))
    solution = model.SolveWithParameters(params)
    if solution is None:
        return _route_by_bearing(metres, days, per_day)
    routes = []
    for vehicle in range(days):
        index, stops = model.Start(vehicle), []
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            if node:
                stops.append(node)
            index = solution.Value(model.NextVar(index))
        if stops:
            routes.append(stops)
    return routes


def _route_by_bearing(metres: np.ndarray, days: int, per_day: int) -> list[list[int]]:
    """When the solver finds no split (not seen in practice): stops cut into ``days``
    runs by their order around the base (farthest stop first as the reference), each run
    then ordered by the solver as a single day."""
    n = len(metres) - 1
    ref = int(np.argmax(metres[0, 1:])) + 1
    # angle around the base from the reference stop, by the law of cosines on distances
    a, b, c = metres[0, ref], metres[0, 1:], metres[ref, 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip((a ** 2 + b ** 2 - c ** 2) / (2.0 * a * b), -1.0, 1.0)
    order = np.argsort(np.nan_to_num(np.arccos(cos)), kind="stable") + 1
    size = -(-n // days)
    routes = []
    for chunk in (order[k:k + size] for k in range(0, n, size)):
        nodes = np.r_[0, chunk]
        sub = metres[np.ix_(nodes, nodes)]
        routes += [[int(nodes[j]) for j in r] for r in _route(sub, 1, per_day)]
    return routes


# ------------------------------------------------------------------ the Tours sheet

TOURS_HEADERS = (N_("Salesperson"), N_("Week"), N_("Day"), N_("Tour"),
                 N_("Accounts, in visit order"), N_("Visits"), N_("km"))
TOURS_REP_HEADERS = (N_("Salesperson"), N_("Days"), N_("Visits"), N_("km"),
                     N_("Accounts not placed"))
TOURS_UNPLACED_HEADERS = (N_("Account id"), N_("Name"), N_("Salesperson"),
                          N_("Visits a year"), N_("Why"))
CELL_HEADER = N_("Cell")  # the unplaced account's cell, when the caller gives it
TOURS_TABLE_ROW = 4     # the days table's header row
TOURS_SIDE_COL = 9      # column I: per salesperson, then the accounts not placed


def tours_blocks(tours: Tours, previous_rows: int = 0) -> list[Block]:
    """The Tours sheet: a title and how km are counted; from row `TOURS_TABLE_ROW`, one
    row per day (salesperson, week, day of the week, tour number, accounts in visit order,
    visits, km rounded to 0.1); from column `TOURS_SIDE_COL`, per salesperson their days,
    visits and km, then every account not placed with why (and its cell, when
    ``tours.unplaced`` has a ``cell`` column). Both tables are blanked down to
    ``previous_rows`` (the rows the sheet used at the last run), so a shorter plan leaves
    no old rows behind. Each block carries its look (`potentiel.sheet_styles`: title,
    headers, number formats), the Plan sheet's."""
    days = tours.days.sort_values(["rep", "tour"], kind="stable")
    head = [[_("Day tours: each salesperson's year, day by day")],
            [_("Every day starts and ends at the salesperson's base. km: great-circle "
               "distance (as the crow flies, no roads), the round trip.")]]
    table: list[list[Any]] = [[_(h) for h in TOURS_HEADERS]]
    table += [[plain(r.rep), int(r.week), int(r.day), int(r.tour), r.accounts, int(r.visits),
               round(float(r.km), 1)] for r in days.itertuples(index=False)]
    lost = tours.unplaced
    cells = "cell" in lost.columns
    width = len(TOURS_UNPLACED_HEADERS) + (1 if cells else 0)
    side: list[list[Any]] = [[_(h) for h in TOURS_REP_HEADERS]]
    reps = sorted(set(days["rep"].dropna()) | set(lost["rep"].dropna()))
    for rep in reps:
        mine = days[days["rep"] == rep]
        side.append([rep, int(len(mine)), int(mine["visits"].sum()),
                     round(float(mine["km"].sum()), 1), int((lost["rep"] == rep).sum())])
    if lost["rep"].isna().any():
        side.append([_("(none)"), 0, 0, 0.0, int(lost["rep"].isna().sum())])
    n_reps = len(side) - 1
    side += [[None], [_("Accounts not placed")],
             [_(h) for h in TOURS_UNPLACED_HEADERS] + ([_(CELL_HEADER)] if cells else [])]
    listed = len(side) - 1  # the unplaced table's header row, in the block
    side += [[plain(r.account), plain(r.name), plain(r.rep), plain(r.visits), r.why,
              *((plain(r.cell),) if cells else ())] for r in lost.itertuples(index=False)]
    if lost.empty:
        side.append([_("(none: every account with visits is in a tour)")])
    side = [row + [None] * (width - len(row)) for row in side]
    return [
        Block(1, 1, head, formats=[Cells(0, 0, TITLE, fit=False),
                                   Cells(1, 0, SUBTITLE, fit=False)]),
        Block(TOURS_TABLE_ROW, 1, table, clear_to_row=_end(len(table), previous_rows),
              clear_cols=len(TOURS_HEADERS), formats=[Cells(0, 0, HEAD, cols=len(TOURS_HEADERS))]),
        Block(TOURS_TABLE_ROW, TOURS_SIDE_COL, side, clear_to_row=_end(len(side), previous_rows),
              clear_cols=width, formats=[
                  Cells(0, 0, HEAD, cols=len(TOURS_REP_HEADERS)),
                  *((Cells(1, 1, Look(INTEGER), rows=n_reps, cols=2),
                     Cells(1, 3, Look(KM), rows=n_reps),
                     Cells(1, 4, Look(INTEGER), rows=n_reps)) if n_reps else ()),
                  Cells(listed - 1, 0, GRID_HEADER, cols=width, fit=False),
                  Cells(listed, 0, HEAD, cols=width)])]


def _end(rows: int, previous_rows: int) -> int:
    """The last sheet row a table of ``rows`` rows from `TOURS_TABLE_ROW` blanks: one past
    itself, or the last run's last row."""
    return max(TOURS_TABLE_ROW + rows, previous_rows)
