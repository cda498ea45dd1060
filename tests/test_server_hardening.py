"""The xlwings Server under bad requests and load, on a real uvicorn server on loopback.

A server is started in this process on a free port of 127.0.0.1 (never another address)
with the ``noncommercial`` xlwings key. Requests without the token, over the size limit or
with a malformed payload are refused with a JSON message and no traceback; random
mutations of a real payload never make it answer 500. The load test sends recompute
requests of a 1,000-account payload, 4 at a time, and prints latency percentiles (no
timing is asserted): ``make test`` sends POTENTIEL_LOADTEST_REQUESTS (default 24),
``make loadtest`` sends 200.
"""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import copy
import json
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import payload_from_workbook, write_workbook
from potentiel import sample, server
from potentiel.manager import load_plugins

TOKEN = "hardening-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 4 * 1024 * 1024
REQUESTS = int(os.environ.get("POTENTIEL_LOADTEST_REQUESTS") or 24)
CONCURRENCY = 4


@pytest.fixture(scope="module")
def plugins():
    return load_plugins(entry_points=False)


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """What xlwings' VBA client sends for a workbook of 1,000 accounts (about 0.3 MB)."""
    folder = tmp_path_factory.mktemp("load")
    path = write_workbook(folder / "load.xlsx", sample.HEADERS, sample.make_accounts(1000),
                          reps=sample.reps())
    return payload_from_workbook(path)


@pytest.fixture(scope="module")
def live(plugins):
    """A uvicorn server on 127.0.0.1 and a free port, stopped after the module."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = server.create_app(token=TOKEN, max_body=MAX_BODY, plugins=plugins)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False,
                                        lifespan="off", timeout_keep_alive=30))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(15)
    sock.close()


def _clean(r: httpx.Response) -> dict:
    """The body is a JSON object with a one-line detail, and never a traceback."""
    assert "Traceback" not in r.text and 'File "' not in r.text, r.text[:500]
    body = r.json()
    assert isinstance(body, dict)
    if "detail" in body:
        assert isinstance(body["detail"], str) and "\n" not in body["detail"]
    return body


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope-nope-nope-nope"},
                                     {"Authorization": TOKEN}, {"Authorization": "Bearer x"},
                                     {"Authorization": f"Bearer {TOKEN[:-1]}"}])
def test_no_token_no_service(live, payload, headers):
    with httpx.Client(base_url=live, timeout=30) as client:
        for path in ("/recompute", "/check-rules", "/explain"):
            r = client.post(path, json=payload, headers=headers)
            assert r.status_code == 401 and "token" in _clean(r)["detail"]
        assert client.get("/health", headers=headers).status_code == 401


def test_a_body_over_the_limit_is_refused_before_it_is_read(live):
    big = b'{"client": "VBA", "pad": "' + b"x" * (MAX_BODY + 10) + b'"}'
    with httpx.Client(base_url=live, timeout=30) as client:
        r = client.post("/recompute", content=big, headers={**AUTH, "Content-Type":
                                                              "application/json"})
        assert r.status_code == 413 and "POTENTIEL_MAX_BODY" in _clean(r)["detail"]

        def chunks():  # no Content-Length: the streamed bytes are counted
            for _ in range(MAX_BODY // 65536 + 2):
                yield b"x" * 65536
        r = client.post("/recompute", content=chunks(), headers=AUTH)
        assert r.status_code == 413
        assert client.get("/health", headers=AUTH).status_code == 200  # still serving


MALFORMED = {
    "not json": b"{not json",
    "not utf-8": b"\xff\xfe\x00{",
    "nested": b"[" * 100_000 + b"]" * 100_000,
    "a list": b"[1, 2]",
    "no sheets": None,
    "version": None,
    "table beyond": None,
    "name too big": None,
    "cell object": None,
    "bad selection": None,
}


def _malformed(name, payload) -> bytes:
    if MALFORMED[name] is not None:
        return MALFORMED[name]
    p = copy.deepcopy(payload)
    if name == "no sheets":
        del p["sheets"]
    elif name == "version":
        p["version"] = "0.1.0"
    elif name == "table beyond":
        p["sheets"][0]["tables"][0]["range_address"] = "$A$1:$XFD$1048576"
    elif name == "name too big":
        p["names"].append({"name": "PotentielStatus", "sheet_index": 0,
                           "address": "A1:XFD1048576", "book_scope": True})
    elif name == "cell object":
        p["sheets"][0]["values"][3][2] = {"=": "1+1"}
    elif name == "bad selection":
        p["book"]["selection"] = "ZZZZZZ99999999"
    return json.dumps(p).encode()


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_payload_is_a_400_with_a_message(live, payload, name):
    path = "/explain" if name == "bad selection" else "/recompute"
    with httpx.Client(base_url=live, timeout=60) as client:
        r = client.post(path, content=_malformed(name, payload),
                        headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400, (name, r.status_code, r.text[:300])
    assert _clean(r)["detail"]


# Random mutations of a real payload, through the app in-process (faster than the socket).

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 12), st.floats(),
                 st.sampled_from(["", "x", "A1", "$A$1:$XFD$1048576", "Accounts", "=1+1",
                                  "ZZZ1", "A0", "B8:C9", "Sheet1!A1"]),
                 st.just([]), st.just({}), st.just([[]]), st.just([[None]]))


def _mutate(doc, data, depth=0):
    """Replace, delete or truncate one thing somewhere in the payload."""
    if isinstance(doc, dict) and doc and depth < 6:
        key = data.draw(st.sampled_from(sorted(doc)))
        choice = data.draw(st.integers(0, 4))
        if choice == 0:
            del doc[key]
        elif choice == 1:
            doc[key] = data.draw(JUNK)
        else:
            doc[key] = _mutate(doc[key], data, depth + 1)
        return doc
    if isinstance(doc, list) and doc and depth < 6:
        i = data.draw(st.integers(0, len(doc) - 1))
        choice = data.draw(st.integers(0, 4))
        if choice == 0:
            return doc[:i]
        if choice == 1:
            doc[i] = data.draw(JUNK)
        else:
            doc[i] = _mutate(doc[i], data, depth + 1)
        return doc
    return data.draw(JUNK)


@pytest.fixture(scope="module")
def template_payload():
    from pathlib import Path
    return payload_from_workbook(Path(__file__).resolve().parents[1] / "workbooks" /
                                 "portfolio.xlsm", selection="B8")


@pytest.fixture(scope="module")
def app_client(plugins):
    from fastapi.testclient import TestClient
    return TestClient(server.create_app(token=TOKEN, max_body=MAX_BODY, plugins=plugins),
                      raise_server_exceptions=False)


@settings(max_examples=600 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 60,
          deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), action=st.sampled_from(["/recompute", "/explain", "/check-rules"]))
def test_mutated_payloads_never_get_a_500(app_client, template_payload, data, action):
    """60 random mutations of the template's payload (a key deleted, a value replaced by
    junk, a list cut short, at any depth): the answer is 200 or 400, never a 500."""
    mutated = _mutate(copy.deepcopy(template_payload), data)
    r = app_client.post(action, content=json.dumps(mutated).encode(),
                        headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code in (200, 400), (r.status_code, r.text[:300])
    _clean(r)


def test_bounded_load_on_loopback(live, payload):
    """REQUESTS recomputes of 1,000 accounts, 4 at a time; every answer is complete."""
    body = json.dumps(payload).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    latencies, errors = [], []

    def one(_: int) -> None:
        with httpx.Client(base_url=live, timeout=120) as client:
            start = time.perf_counter()
            r = client.post("/recompute", content=body, headers=headers)
            took = time.perf_counter() - start
        if r.status_code != 200 or not r.json().get("actions"):
            errors.append((r.status_code, r.text[:200]))
        latencies.append(took)

    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(REQUESTS)))
    wall = time.perf_counter() - start
    assert errors == []
    assert len(latencies) == REQUESTS
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    report = (f"\nload test: {REQUESTS} recompute requests of 1,000 accounts "
              f"({len(body) / 1e6:.2f} MB each), {CONCURRENCY} at a time, on 127.0.0.1: "
              f"{wall:.1f} s, {REQUESTS / wall:.2f} requests/s; latency p50 {q[49]:.2f} s, "
              f"p90 {q[89]:.2f} s, p95 {q[94]:.2f} s, p99 {q[98]:.2f} s, "
              f"max {max(latencies):.2f} s (runs are serialised by the server)")
    print(report)
