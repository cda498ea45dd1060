"""Potentiel's benchmarks: every figure against a floor measured in the same run.

``make bench`` runs this file. Each figure is timed at least five times (median, min,
max) next to its floor, on synthetic portfolios generated from a seed
(`portfolios.py`), and the table is printed and written as JSON to
``benchmarks/results/``. Speed is never asserted in the test suite: it is measured here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import portfolios  # noqa: E402
from potentiel.config import Config  # noqa: E402
from potentiel.manager import load_plugins  # noqa: E402
from potentiel.pipeline import run  # noqa: E402
from potentiel.rules import apply_rules, load_ruleset  # noqa: E402
from potentiel.validate import RawTable  # noqa: E402

RUNS = 5


def timed(fn: Callable[[], object], runs: int = RUNS) -> dict:
    times = []
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "runs": len(times)}


def fixture(n: int):
    raw = RawTable(list(portfolios.HEADERS), portfolios.rows(n))
    reps = pd.DataFrame(portfolios.reps(), columns=["name", "latitude", "longitude"])
    plugins = load_plugins(entry_points=False)
    ruleset = load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    config = Config(weights=dict(ruleset.weights), params=dict(ruleset.params),
                    categories=ruleset.categories or Config().categories)
    return raw, reps, plugins, ruleset, config


# ------------------------------------------------------------------ floors

def _durable_inputs(ruleset, accounts: pd.DataFrame, scores: pd.DataFrame):
    """The same rules and accounts the rules stage sends to durable_rules."""
    from potentiel.rules import durable_engine
    from potentiel.rules.to_durable import DurableProgram
    from potentiel.rules.values import build_frame

    frame = build_frame(accounts, scores, ruleset.kinds, ruleset.hidden)
    program = DurableProgram({r.id: r.normal for r in ruleset.active_rules}, ruleset.hidden,
                             frame, len(accounts))
    fields, chunks = durable_engine._compile(program.conditions)
    messages = [durable_engine._message(i, r, fields) for i, r in enumerate(program.records())]
    return chunks, messages


def durable_floor(ruleset, accounts: pd.DataFrame, scores: pd.DataFrame) -> Callable[[], object]:
    """The floor of the target: durable_rules' own API (one Host, one shared session),
    asserting each account as a fact and retracting it at once, with the same rules."""
    import durable.engine as de

    chunks, messages = _durable_inputs(ruleset, accounts, scores)
    facts = [json.loads(m) for m in messages]
    host = de.Host()
    fired: list = []
    names = []
    for i, chunk in enumerate(chunks):
        definition = json.loads(chunk)
        for rule in definition.values():
            rule["run"] = lambda c: fired.append(1)
        name = f"floor{i}x{time.time_ns()}"
        host.register_rulesets({name: definition})
        names.append(name)

    def loop():
        for fact in facts:
            for name in names:
                try:
                    host.assert_fact(name, fact)
                except de.MessageNotHandledException:
                    pass
                host.retract_fact(name, {"id": fact["id"]})
    return loop


def durable_c_floor(ruleset, accounts: pd.DataFrame, scores: pd.DataFrame) -> Callable[[], object]:
    """Informative only: the same loop on durable_rules' C engine, below its Python API
    (Potentiel's rules stage talks to the C engine directly)."""
    import durable_rules_engine as engine

    chunks, messages = _durable_inputs(ruleset, accounts, scores)
    handles = [engine.create_ruleset(f"cfloor-{i}-{time.time_ns()}", c) for i, c in enumerate(chunks)]

    def loop():
        for i, text in enumerate(messages):
            for h in handles:
                code, state = engine.assert_fact(h, text)
                if code == 0:
                    action = engine.start_action_for_state(h, state)
                    while action:
                        action = engine.complete_and_start_action(h, state)
                engine.retract_fact(h, '{"id":%d}' % i)
    return loop


def pandas_floor(accounts: pd.DataFrame, weights: dict) -> Callable[[], object]:
    """A hand-written pandas weighted score with categories on ready-made criterion scores."""
    rng = np.random.default_rng(1)
    scores = pd.DataFrame({k: rng.uniform(0, 100, len(accounts)) for k in weights},
                          index=accounts.index)

    def compute():
        w = pd.Series(weights, dtype=float)
        known = scores.notna()
        s = (scores.fillna(0) * w).sum(axis=1) / (known * w).sum(axis=1)
        return pd.cut(s, [-1, 25, 50, 75, 101], right=False, labels=list("DCBA"))
    return compute


# ------------------------------------------------------------------ figures

def figure_pipeline(n: int, engine: str) -> dict:
    raw, reps, plugins, ruleset, config = fixture(n)
    config.engine = engine
    go = lambda: run(raw, plugins, config, ruleset, reps)  # noqa: E731
    result = go()  # warm up (rulesets compiled, caches filled)
    measured = timed(go)
    accounts = result.accounts
    extra = {}
    if engine == "durable":
        floor = timed(durable_floor(ruleset, accounts, result.scores.scores))
        c_floor = timed(durable_c_floor(ruleset, accounts, result.scores.scores))
        extra = {"c_floor": c_floor, "c_ratio": measured["median"] / c_floor["median"]}
        target = "≤ 1.3× floor, ≥ 40,000 accounts/s, peak ≤ 500 MB"
    else:
        floor = timed(pandas_floor(accounts, {k: 1.0 for k in plugins.criteria}))
        target = "≥ 250,000 accounts/s"
    rate = n / measured["median"]
    ratio = measured["median"] / floor["median"]
    ok = rate >= 250_000 if engine == "compiled" else (ratio <= 1.3 and rate >= 40_000)
    return {"figure": f"pipeline, {n:,} accounts, {engine} engine", "measured": measured,
            "floor": floor, "ratio": ratio, "rate": rate, "target": target, "ok": ok, **extra}


def figure_rules(n: int) -> list[dict]:
    raw, reps, plugins, ruleset, config = fixture(n)
    result = run(raw, plugins, config, None, reps)
    accounts, scores = result.accounts, result.scores.scores
    fifty = _fifty_rules(plugins)
    out = []
    for name, rs in (("default rules", ruleset), ("50-rule file", fifty)):
        for engine in ("durable", "compiled"):
            apply_rules(rs, accounts, scores, engine=engine)
            m = timed(lambda: apply_rules(rs, accounts, scores, engine=engine))
            out.append({"figure": f"rules stage, {n:,} accounts, {name}, {engine}",
                        "measured": m, "floor": None, "ratio": None, "rate": n / m["median"],
                        "target": "report accounts/s", "ok": True})
    return out


def _fifty_rules(plugins):
    lines = ["extends: default", "rules:"]
    fields = ["distance_km", "revenue", "potential", "dso_days", "growth_pct", "headcount"]
    for i in range(50):
        f = fields[i % len(fields)]
        lines += [f"  - id: r{i:02d}",
                  f"    when: {f} >= {(i + 1) * 37} and status in [\"client\", \"prospect\"]"
                  + (" or score.solvency < 40" if i % 5 == 0 else ""),
                  f"    then: {{flag: f{i % 7}, points: {(i % 11) - 5}}}",
                  f"    why: Benchmark rule {i}."]
    path = Path(tempfile.mkdtemp()) / "fifty.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_ruleset(path, plugins.catalogue(), plugins.criteria, plugins.rule_actions)


_SCORE_RUN = """
import json, resource, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
from potentiel import keptwatch
from potentiel.headless import score_file
# the check's own process (potentiel.keptwatch), when one runs: its peak is added
watcher = []
real_answer = keptwatch.Watch.answer
def answer(self, timeout):
    got = real_answer(self, timeout)
    watcher.append((got or {}).get("peak_mb") or 0.0)
    return got
keptwatch.Watch.answer = answer
# warmed up on a workbook of a few accounts first: the baseline is the process with every
# module, plugin and rules engine loaded, what the accounts add is measured above it
score_file(sys.argv[3], sys.argv[2])
watcher.clear()
before = rss()
t = time.perf_counter()
score_file(sys.argv[1], sys.argv[2])
took = time.perf_counter() - t
# VmHWM, this process's own high-water mark: ru_maxrss would count the benchmark process
# it was forked from (Linux keeps the larger of the two across exec)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
# the two processes' peaks added, as if both were at their highest at once
print(json.dumps({"s": took, "peak_mb": peak + sum(watcher), "base_mb": before,
                  "watcher_mb": sum(watcher)}))
"""


def _score_once(src: Path, tmp: Path) -> dict:
    """One `score_file` of a fresh copy of ``src`` in a fresh process: seconds, peak RSS
    and the RSS once imports are done (the baseline the accounts add to)."""
    work = tmp / ("work" + src.suffix)
    shutil.copyfile(src, work)
    tiny = tmp / "tiny.xlsx"
    shutil.copyfile(HERE.parent / "workbooks" / "portfolio.xlsx", tiny)
    out = subprocess.run([sys.executable, "-c", _SCORE_RUN, str(work), str(tmp / "out.xlsx"),
                          str(tiny)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _calamine_read(path: Path) -> Callable[[], object]:
    def read():
        from python_calamine import CalamineWorkbook
        CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Accounts").to_python()
    return read


def workbook_of(n: int, tmp: Path) -> Path:
    """The benchmark workbook of n accounts (the sample's generator; beyond 100,000, the
    100,000 one's rows copied, `bigbook.scale`)."""
    sys.path.insert(0, str(HERE.parent / "workbooks"))
    from build_sample import build
    path = tmp / f"portfolio-{n}.xlsx"
    if path.exists():
        return path
    if n <= 100_000:
        return build(path, n=n)
    import bigbook
    bigbook.scale(workbook_of(100_000, tmp), path, n // 100_000)
    return path


def figure_headless(n: int, tmp: Path, runs: int) -> dict:
    """`potentiel score` on a workbook of n accounts (17 input columns) against
    python-calamine's read of the same sheet; peak memory and MB per 1,000 accounts above
    the process's baseline."""
    src = workbook_of(n, tmp)
    done = [_score_once(src, tmp) for _ in range(runs)]
    times = [d["s"] for d in done]
    m = {"median": statistics.median(times), "min": min(times), "max": max(times),
         "runs": len(times)}
    f = timed(_calamine_read(src), runs=max(runs, 3) if n <= 100_000 else 1)
    ratio = m["median"] / f["median"]
    peak = max(d["peak_mb"] for d in done)
    per_k = (peak - min(d["base_mb"] for d in done)) / (n / 1000)
    limit, mem = {100_000: (4, 1024), 1_000_000: (6, 6144)}.get(n, (None, None))
    target = f"≤ {limit}× calamine's read, peak ≤ {mem / 1024:g} GB" if limit else "report"
    ok = (ratio <= limit and peak <= mem) if limit else True
    return {"figure": f"headless recompute, {n:,}-account .xlsx", "measured": m, "floor": f,
            "ratio": ratio, "rate": n / m["median"], "target": target, "ok": ok,
            "peak_mb": peak, "mb_per_1000": per_k}


def figure_far_value(n: int, tmp: Path, plain: dict) -> dict:
    """The same workbook with one value typed far below (A1,048,576): the time must stay
    that of the workbook without it (linear in the rows that hold something)."""
    import zipfile
    src = workbook_of(n, tmp)
    far = tmp / f"portfolio-{n}-far.xlsx"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(far, "w", zipfile.ZIP_DEFLATED) as o:
        for i in z.infolist():
            data = z.read(i)
            if i.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="AW1048576">'
                                    b"<v>1</v></c></row></sheetData>")
            o.writestr(i.filename, data)
    done = [_score_once(far, tmp) for _ in range(plain["measured"]["runs"])]
    times = [d["s"] for d in done]
    m = {"median": statistics.median(times), "min": min(times), "max": max(times),
         "runs": len(times)}
    ratio = m["median"] / plain["measured"]["median"]
    return {"figure": f"same, one value at AW1048576 ({n:,} accounts)", "measured": m,
            "floor": plain["measured"], "ratio": ratio, "rate": n / m["median"],
            "target": "≤ 1.25× the same workbook without it", "ok": ratio <= 1.25,
            "peak_mb": max(d["peak_mb"] for d in done)}


def figure_tours() -> dict:
    """Day tours (potentiel.plan.tours, OR-Tools and scikit-learn) for 20,000 accounts and
    12 reps at the default capacity (`benchmarks/tours.py`), one run."""
    import tours
    r = tours.bench_tours()
    m = {"median": r["seconds"], "min": r["seconds"], "max": r["seconds"], "runs": 1}
    return {"figure": "day tours, 20,000 accounts, 12 reps", "measured": m, "floor": None,
            "ratio": None, "rate": r["accounts"] / r["seconds"], "target": "< 60 s",
            "ok": r["seconds"] < 60,
            "note": f"{r['days']:,} days, {r['accounts_unplaced']:,} accounts past capacity"}


def figure_cold_start() -> dict:
    exe = Path(sys.executable).with_name("potentiel")
    ours = timed(lambda: subprocess.run([str(exe), "score", "--help"], check=True,
                                        capture_output=True), runs=7)
    floor = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs=7)
    above = ours["median"] - floor["median"]
    return {"figure": "cold start of `potentiel score --help`", "measured": ours, "floor": floor,
            "ratio": ours["median"] / floor["median"], "above": above,
            "target": "≤ 0.5 s above the floor", "ok": above <= 0.5}


_GEO_LOAD = """
import json, resource, sys, time
def rss():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from potentiel.sources import geocode
before = rss()
t = time.perf_counter()
geocode.load({"FR"})
print(json.dumps({"load_s": time.perf_counter() - t, "mb": rss() - before}))
"""


def figure_geocode(n: int) -> dict:
    """Locating n accounts from postal code and town once the dataset is loaded (the load
    itself, in a fresh process, and the memory it takes are in the note)."""
    from potentiel.sources import geocode
    out = subprocess.run([sys.executable, "-c", _GEO_LOAD], capture_output=True, text=True,
                         check=True)
    cold = json.loads(out.stdout.strip().splitlines()[-1])
    places = geocode.load({"FR"})["FR"]
    rng = np.random.default_rng(7)
    codes = np.array([k for k in places.postal if "CEDEX" not in k], dtype=object)
    pick = rng.integers(0, len(codes), n)
    postal = codes[pick].copy()
    town = np.array([places.names[places.postal[c][0]] for c in postal], dtype=object)
    kind = rng.random(n)
    postal[kind < 0.2] = None                                  # town only
    town[(kind >= 0.2) & (kind < 0.4)] = None                  # postal code only
    postal[kind > 0.99] = "99999"                              # a code that does not exist
    frame = pd.DataFrame({"postal_code": postal, "town": town})
    table = {k: (float(places.lat[v[0]]), float(places.lon[v[0]])) for k, v in places.postal.items()}

    def floor():  # one dictionary look-up per account, nothing else
        pd.Series(postal, dtype=object).map(table)

    m, f = timed(lambda: geocode.locate(frame)), timed(floor)
    return {"figure": f"geocode {n:,} accounts (postal code, town)", "measured": m, "floor": f,
            "ratio": m["median"] / f["median"], "rate": n / m["median"],
            "target": f"< 2 s for {n:,}", "ok": m["median"] < 2.0 * n / 100_000,
            "note": f"dataset load {cold['load_s']:.1f} s, {cold['mb']:.0f} MB, in a fresh process"}


def peak_memory(n: int) -> float:
    """Peak RSS (MB) of a fresh process running the durable pipeline once on n accounts."""
    code = ("import sys, resource; sys.path.insert(0, %r); import run as b; "
            "raw, reps, plugins, rs, config = b.fixture(%d); "
            "b.run(raw, plugins, config, rs, reps); "
            "print(next(int(l.split()[1]) for l in open('/proc/self/status') "
            "if l.startswith('VmHWM:')))") % (str(HERE), n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def fmt(s: float) -> str:
    return f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.1f} s"


def table(rows: list[dict]) -> str:
    head = (f"{'figure':<58} {'median':>9} {'min-max':>19} {'floor':>9} {'ratio':>6} "
            f"{'acc/s':>10}  target")
    lines = [head, "-" * len(head)]
    for r in rows:
        m, f = r["measured"], r["floor"]
        spread = f"{fmt(m['min'])}-{fmt(m['max'])}"
        floor = fmt(f["median"]) if f else "-"
        ratio = f"{r['ratio']:.2f}x" if r.get("ratio") else "-"
        rate = f"{r['rate']:,.0f}" if r.get("rate") else "-"
        verdict = "OK  " if r["ok"] else "MISS"
        extra = f" (peak {r['peak_mb']:.0f} MB)" if "peak_mb" in r else ""
        extra += f" ({r['mb_per_1000']:.1f} MB per 1,000 accounts)" if "mb_per_1000" in r else ""
        extra += f" ({r['above']:.2f} s above)" if "above" in r else ""
        extra += f" ({r['note']})" if "note" in r else ""
        if "c_floor" in r:
            extra += (f"; durable C engine alone: {fmt(r['c_floor']['median'])}, "
                      f"{r['c_ratio']:.1f}x")
        lines.append(f"{r['figure']:<58} {fmt(m['median']):>9} {spread:>19} {floor:>9} "
                     f"{ratio:>6} {rate:>10}  {verdict} {r['target']}{extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10× smaller portfolios")
    args = parser.parse_args(argv)
    big, small = (10_000, 1_000) if args.quick else (100_000, 10_000)
    rows = []
    print(f"Potentiel benchmarks on {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores; median of ≥ {RUNS} runs", flush=True)
    r = figure_pipeline(big, "durable")
    r["peak_mb"] = peak_memory(big)
    r["ok"] = r["ok"] and r["peak_mb"] <= 500
    rows.append(r)
    rows.append(figure_pipeline(big, "compiled"))
    rows.extend(figure_rules(big))
    tmp = Path(tempfile.mkdtemp(prefix="potentiel-bench-"))
    sizes = (1_000, 10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    for n in sizes:
        r = figure_headless(n, tmp, runs=3 if n <= 100_000 else 1)
        print(table([r]).splitlines()[-1], flush=True)
        rows.append(r)
        if n == sizes[1]:
            rows.append(figure_far_value(n, tmp, r))
    rows.append(figure_geocode(big))
    rows.append(figure_tours())
    extra = HERE / "server_figure.py"
    if extra.exists():
        import server_figure
        rows.append(server_figure.figure(small, timed))
    rows.append(figure_cold_start())
    print(table(rows))
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"bench-{stamp}.json").write_text(json.dumps(
        {"when": stamp, "python": platform.python_version(), "cores": os.cpu_count(),
         "rows": rows}, indent=2, default=str))
    print(f"written: {out / f'bench-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
