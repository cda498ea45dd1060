"""Benchmark of the day tours (issue 14, point 4): 20,000 accounts and 12 reps, a year.

`bench_tours()` times `potentiel.plan.tours.day_tours` once (``seconds``; importing
scikit-learn and OR-Tools, which the first plan of a process does, is ``import_seconds``)
on a synthetic portfolio made from a seed: 12 reps based in French cities, each account
within about 50 km of its rep's base (a normal spread), visits a year by category with
the issue's default frequencies (A 12, B 6, C 4, D 1; 30 % of accounts not visited).

At the issue's default capacity (5 visits a day, 200 field days) the reps are loaded
about 300 % (1,667 accounts each): the year is full and most accounts are listed as not
placed. `FITTING` is a capacity that holds about 90 % of the visits asked (15 a day, 230
days): almost every account is planned and routed, the heavier run. The target for
both: under 60 s on the 2-core machine (issue 14).

Run as a script it prints both as JSON (or one, with ``--visits-per-day`` and
``--field-days``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from potentiel.plan.tours import day_tours
from potentiel.sample import CITIES

# visits a year and the share of accounts: A, B, C, D and not visited
VISIT_MIX = ((12, 0.03), (6, 0.07), (4, 0.15), (1, 0.45), (0, 0.30))
FITTING = {"visits_per_day": 15, "field_days": 230}


def portfolio(n: int = 20_000, reps: int = 12, *, visits_per_day: int = 5,
              field_days: int = 200, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accounts, reps) in `day_tours`' shape."""
    rng = np.random.default_rng(seed)
    bases = [CITIES[i % len(CITIES)] for i in range(reps)]
    rep_names = [f"Rep {i + 1:02d} ({city})" for i, (city, _, _) in enumerate(bases)]
    rep_of = rng.integers(reps, size=n)
    base_lat = np.array([b[1] for b in bases])[rep_of]
    base_lon = np.array([b[2] for b in bases])[rep_of]
    visits = rng.choice([v for v, _ in VISIT_MIX], size=n, p=[p for _, p in VISIT_MIX])
    accounts = pd.DataFrame({
        "account": [f"A{i:06d}" for i in range(1, n + 1)],
        "name": [f"Account {i}" for i in range(1, n + 1)],
        "rep": np.array(rep_names, dtype=object)[rep_of],
        "lat": np.round(base_lat + rng.normal(0, 0.45, n), 4),
        "lon": np.round(base_lon + rng.normal(0, 0.6, n), 4),
        "visits": visits,
    })
    table = pd.DataFrame({"rep": rep_names, "base_lat": [b[1] for b in bases],
                          "base_lon": [b[2] for b in bases],
                          "visits_per_day": visits_per_day, "field_days": field_days})
    return accounts, table


def bench_tours(n: int = 20_000, reps: int = 12, *, visits_per_day: int = 5,
                field_days: int = 200) -> dict:
    """One timed run of `day_tours`: seconds, accounts, reps, days, and what was placed."""
    accounts, table = portfolio(n, reps, visits_per_day=visits_per_day, field_days=field_days)
    start = time.perf_counter()
    import ortools.constraint_solver.pywrapcp  # noqa: F401  (imported by the first plan)
    import sklearn.cluster  # noqa: F401
    imports = time.perf_counter() - start
    start = time.perf_counter()
    tours = day_tours(accounts, table)
    seconds = time.perf_counter() - start
    asked = int(accounts["visits"].sum())
    return {"seconds": round(seconds, 2), "import_seconds": round(imports, 2),
            "accounts": n, "reps": reps,
            "days": int(len(tours.days)), "visits": int(tours.days["visits"].sum()),
            "visits_asked": asked, "load": round(asked / (reps * visits_per_day * field_days), 2),
            "accounts_placed": int(tours.stops["account"].nunique()),
            "accounts_unplaced": int(len(tours.unplaced)),
            "visits_per_day": visits_per_day, "field_days": field_days,
            "km_per_day": round(float(tours.days["km"].mean()), 1) if len(tours.days) else 0.0}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=12)
    parser.add_argument("--visits-per-day", type=int)
    parser.add_argument("--field-days", type=int)
    args = parser.parse_args(argv)
    if args.visits_per_day or args.field_days:
        runs = [{"visits_per_day": args.visits_per_day or 5,
                 "field_days": args.field_days or 200}]
    else:
        runs = [{"visits_per_day": 5, "field_days": 200}, FITTING]
    for capacity in runs:
        print(json.dumps(bench_tours(args.accounts, args.reps, **capacity)))


if __name__ == "__main__":
    main()
