"""The rules stage at portfolio scale, on the shipped rules, through both engines."""

import threading
from pathlib import Path

import numpy as np
import pandas as pd

from potentiel.headless import score_file
from potentiel.rules import apply_rules, load_ruleset

ROOT = Path(__file__).resolve().parents[1]


def test_sample_workbook_far_accounts_are_inaccessible_and_at_most_c(tmp_path, plugins):
    out = tmp_path / "scored.xlsx"
    result, _ = score_file(ROOT / "workbooks" / "portfolio.xlsx", out)
    far = result.accounts["distance_km"] >= 600
    assert far.sum() >= 5  # the sample has some, typed or from coordinates
    flags = result.outputs["Flags"].fillna("")
    assert flags[far].str.contains("inaccessible").all()
    assert result.category[far].isin(["C", "D"]).all()
    assert result.outputs.loc[far, "Why"].str.contains("too-far: No salesperson within 600 km").all()
    assert not flags[~far].str.contains("inaccessible").any()


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _accounts(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"A{i}" for i in range(n)],
        "status": rng.choice(["client", "prospect", "suspect"], n).astype(object),
        "distance_km": np.where(rng.random(n) < 0.05, rng.uniform(600, 900, n), rng.uniform(0, 500, n)),
        "payment_incidents": rng.poisson(1.0, n).astype(float),
        "potential_tier": rng.choice(["high", "medium", "low"], n).astype(object),
        "penetration_tier": rng.choice(["strong", "medium", "weak"], n).astype(object),
    })


def test_100k_accounts_both_engines_flat_memory_no_thread_left(plugins):
    ruleset = load_ruleset(None, plugins.catalogue(), plugins.criteria, plugins.rule_actions)
    halves = [_accounts(50_000, 1), _accounts(50_000, 2)]
    scores = [pd.DataFrame(index=h.index) for h in halves]
    threads = threading.active_count()
    results = {}
    for engine in ("durable", "compiled"):
        apply_rules(ruleset, halves[0].head(100), scores[0].head(100), engine=engine)  # warm up
        rss = []
        fired = []
        for half, sc in zip(halves, scores):
            r = apply_rules(ruleset, half, sc, engine=engine)
            rss.append(_rss_kb())
            fired.append(r.fired)
        growth_mb = (rss[1] - rss[0]) / 1024
        assert growth_mb < 40, f"{engine}: memory grew {growth_mb:.0f} MB on the second 50,000"
        results[engine] = fired
    for a, b in zip(results["durable"], results["compiled"]):
        assert a.equals(b)
    far = halves[0]["distance_km"] >= 600
    assert results["durable"][0][far].map(lambda t: "too-far" in t).all()
    for _ in range(3):
        apply_rules(ruleset, halves[0].head(1000), scores[0].head(1000), engine="durable")
    assert threading.active_count() == threads
