"""Benchmark: server-side recompute of a 10,000-account workbook payload.

The payload is the template's (as xlwings' VBA client sends it) with the Accounts table
grown to N sample accounts; it goes through the whole HTTP app (FastAPI test client:
JSON parsing, auth, payload checks, ``xw.Book(json=...)``, scoring, ``book.json()``).
Run ``make bench`` or ``python benchmarks/bench_server.py [N]``; the timings are printed
and written to benchmarks/results/server.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings Server mode (PRO code)

import json
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from potentiel.headless import remote_payload
from potentiel.manager import load_plugins
from potentiel.problems import column_letter
from potentiel.resources import workbooks_dir
from potentiel.sample import make_accounts
from potentiel.server import create_app

HERE = Path(__file__).resolve().parent
HEADER_ROW = 5


def big_payload(n: int) -> dict:
    payload = remote_payload(workbooks_dir() / "portfolio.xlsm")
    sheet = payload["sheets"][0]
    width = len(sheet["values"][HEADER_ROW - 1])
    rows = [r + [None] * (width - len(r)) for r in make_accounts(n)]
    sheet["values"] = sheet["values"][:HEADER_ROW] + rows
    last, col = HEADER_ROW + n, column_letter(width)
    table = sheet["tables"][0]
    table["range_address"] = f"$A${HEADER_ROW}:${col}${last}"
    table["data_body_range_address"] = f"$A${HEADER_ROW + 1}:${col}${last}"
    return payload


def main(n: int = 10_000, repeat: int = 3) -> dict:
    token = "bench-token-0123456789abcdef"
    plugins = load_plugins()
    client = TestClient(create_app(token=token, max_body=256 * 1024 * 1024, plugins=plugins))
    body = json.dumps(big_payload(n)).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times, answer = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        r = client.post("/recompute", content=body, headers=headers)
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text[:500]
        answer = len(r.content)
    result = {"accounts": n, "payload_bytes": len(body), "answer_bytes": answer,
              "criteria": sorted(plugins.criteria), "seconds": [round(t, 3) for t in times],
              "median_seconds": round(statistics.median(times), 3)}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "server.json").write_text(json.dumps(result, indent=2))
    print(f"server recompute, {n} accounts: median {result['median_seconds']} s "
          f"(runs {result['seconds']}), payload {len(body) / 1e6:.1f} MB, "
          f"answer {answer / 1e6:.1f} MB, criteria: {', '.join(result['criteria']) or 'none'}")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
