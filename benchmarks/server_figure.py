"""The server figure for run.py: recompute of an N-account payload through the HTTP app.

Measured: JSON bytes in, the xlwings actions out, through the whole FastAPI app (auth,
size limit, payload checks, ``xw.Book(json=...)``, scoring, ``book.json()``). Floor:
``xw.Book(json=payload)`` construction plus ``book.json()`` alone, as xlwings itself costs.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings Server mode (PRO code)

import bench_server  # noqa: E402


def figure(n: int, timed) -> dict:
    import xlwings as xw
    from fastapi.testclient import TestClient

    from potentiel.manager import load_plugins
    from potentiel.server import create_app

    token = "bench-token-0123456789abcdef"
    plugins = load_plugins(entry_points=False)
    client = TestClient(create_app(token=token, max_body=256 * 1024 * 1024, plugins=plugins))
    payload = bench_server.big_payload(n)
    body = json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def ours():
        r = client.post("/recompute", content=body, headers=headers)
        assert r.status_code == 200, r.text[:300]

    def floor():
        book = xw.Book(json=json.loads(body))
        book.json()

    ours()
    m, f = timed(ours), timed(floor)
    ratio = m["median"] / f["median"]
    return {"figure": f"server recompute, {n:,}-account payload", "measured": m, "floor": f,
            "ratio": ratio, "rate": n / m["median"], "target": "≤ 2× floor and < 0.5 s",
            "ok": ratio <= 2 and m["median"] < 0.5}
