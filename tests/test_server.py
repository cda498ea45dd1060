"""potentiel serve: the HTTP app with FastAPI's test client, on the template's payload."""

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import payload_from_workbook
from potentiel import excel, server
from potentiel.manager import load_plugins
from vba_client import VBA_FUNCS

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbooks" / "portfolio.xlsm"
TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENDPOINTS = ("/recompute", "/check-rules", "/explain")


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "rel.py").write_text(textwrap.dedent('''
        from potentiel import Criterion, Input, hookimpl

        class Relation(Criterion):
            name, label, default_weight = "rel", "Relation", 1
            inputs = (Input("relationship", "rating"),)
            def score(self, accounts, params):
                return accounts["relationship"] * 20

        @hookimpl
        def register_criteria(register):
            register(Relation())
    '''))
    return load_plugins([folder], entry_points=False)  # the built-ins, if installed, plus rel


@pytest.fixture(scope="module")
def payload():
    return payload_from_workbook(TEMPLATE, selection="B8")


@pytest.fixture
def client(plugins):
    return TestClient(server.create_app(token=TOKEN, max_body=8 * 1024 * 1024, plugins=plugins))


def test_recompute_over_http_returns_xlwings_actions(client, payload):
    r = client.post("/recompute", json=payload, headers=AUTH)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    assert {a["func"] for a in actions} <= VBA_FUNCS
    header = next(a for a in actions if a["func"] == "setValues" and a["sheet_position"] == 0
                  and a["row_count"] == 201)
    assert header["values"][0][0] == "Score" and header["start_row"] == 4
    status = [a for a in actions if a["row_count"] == a["column_count"] == 1]
    assert status[-1]["values"][0][0].startswith("Recomputed 200 accounts")


def test_explain_and_check_rules_over_http(client, payload):
    r = client.post("/explain", json=payload, headers=AUTH)
    assert r.status_code == 200
    assert any(a["func"] == "activateSheet" for a in r.json()["actions"])
    r = client.post("/check-rules", json=payload, headers=AUTH)
    assert r.status_code == 200 and r.json()["actions"]


def test_a_user_error_is_a_normal_answer_with_the_status_cell(client, payload):
    bad = json.loads(json.dumps(payload))
    bad["book"]["selection"] = "A1"
    r = client.post("/explain", json=bad, headers=AUTH)
    assert r.status_code == 200
    texts = [a["values"][0][0] for a in r.json()["actions"] if a["row_count"] == 1
             and a["column_count"] == 1]
    assert texts and texts[0].startswith("Error (explain)")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"},
                                     {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": f"Bearer {TOKEN}x"}])
def test_every_endpoint_needs_the_token(client, payload, headers):
    for path in ENDPOINTS:
        r = client.post(path, json=payload, headers=headers)
        assert r.status_code == 401, path
        assert "token" in r.json()["detail"]
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/health", headers=headers).status_code == 401
    assert client.get("/no-such-page", headers=headers).status_code == 401


def test_every_route_but_the_static_files_is_protected(plugins):
    app = server.create_app(token=TOKEN, plugins=plugins)
    client = TestClient(app)
    paths = {r.path for r in app.routes if hasattr(r, "methods")}
    assert set(ENDPOINTS) <= paths
    for path in paths - server.PUBLIC:
        for method in ("GET", "POST"):
            assert client.request(method, path).status_code == 401, (method, path)
    for path in server.PUBLIC:
        assert client.post(path).status_code == 401  # public means GET only


def test_the_scheme_is_case_insensitive(client, payload):
    r = client.post("/check-rules", json=payload, headers={"Authorization": f"bearer {TOKEN}"})
    assert r.status_code == 200


def test_static_task_pane_files_are_served_without_the_token(client):
    import xlwings
    page = client.get("/taskpane.html")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"xlwings@{xlwings.__version__}/xlwingsjs/dist/xlwings.min.js" in page.text
    assert TOKEN not in page.text
    js = client.get("/taskpane.js").text
    assert all(f'"{e[1:]}"' in js for e in ENDPOINTS) and "Bearer " in js
    manifest = client.get("/manifest.xml")
    assert manifest.status_code == 200
    assert "http://testserver/taskpane.html" in manifest.text and "{{" not in manifest.text
    import xml.etree.ElementTree as ET
    ET.fromstring(manifest.content)  # well-formed
    icon = client.get("/icon-32.png")
    assert icon.content.startswith(b"\x89PNG")
    alert = client.get("/xlwings/alert", params={"prompt": "<script>x</script>", "title": "E"})
    assert "<script>x</script>" not in alert.text and "&lt;script&gt;" in alert.text


def test_an_oversized_body_is_refused_with_413(plugins, payload):
    client = TestClient(server.create_app(token=TOKEN, max_body=1000, plugins=plugins))
    r = client.post("/recompute", json=payload, headers=AUTH)
    assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the streamed bytes are counted
        for _ in range(10):
            yield b"x" * 500
    r = client.post("/recompute", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_lying_content_length_is_caught_while_streaming(plugins):
    app = server.create_app(token=TOKEN, max_body=100, plugins=plugins)
    sent = []

    async def receive():
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b"x" * 60, "more_body": True}
        return {"type": "http.request", "body": b"x" * 60, "more_body": False}

    out = []

    async def send(message):
        out.append(message)

    import asyncio
    scope = {"type": "http", "method": "POST", "path": "/recompute", "raw_path": b"/recompute",
             "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"authorization", AUTH["Authorization"].encode()),
                         (b"content-length", b"10"), (b"content-type", b"application/json")]}
    asyncio.run(app(scope, receive, send))
    assert out[0]["status"] == 413


@pytest.mark.parametrize("body,message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"client": "VBA"}', "\"book\" must be an object"),
    ("missing-sheets", "sheets"),
    ("bad-address", "not a cell range address"),
    ("bad-value", "not a cell value"),
    ("bad-active", "active_sheet_index"),
])
def test_a_malformed_payload_is_a_400_with_a_message(client, payload, body, message):
    import xlwings
    if isinstance(body, str):
        p = json.loads(json.dumps(payload))
        if body == "missing-sheets":
            del p["sheets"]
        elif body == "bad-address":
            p["sheets"][0]["tables"][0]["range_address"] = "A1:ZZZZZ9"
        elif body == "bad-value":
            p["sheets"][0]["values"][0][0] = {"x": 1}
        elif body == "bad-active":
            p["book"]["active_sheet_index"] = 99
        body = json.dumps(p).encode()
    elif body == b'{"client": "VBA"}':
        body = json.dumps({"client": "VBA", "version": xlwings.__version__}).encode()
    r = client.post("/recompute", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert message in r.json()["detail"]
    assert "Traceback" not in r.text


def test_a_version_mismatch_is_a_400_saying_both_versions(client, payload):
    import xlwings
    p = {**payload, "version": "0.31.0"}
    r = client.post("/recompute", json=p, headers=AUTH)
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "0.31.0" in detail and xlwings.__version__ in detail


def test_a_bug_is_a_500_without_traceback(client, payload, monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("boom")
    monkeypatch.setattr(excel, "run_remote", broken)
    r = client.post("/recompute", json=payload, headers=AUTH)
    assert r.status_code == 500
    assert "ZeroDivisionError" in r.json()["detail"] and "Traceback" not in r.text


def test_runs_are_serialised(client, payload, monkeypatch):
    running, most = [0], [0]
    lock = threading.Lock()

    def slow(action, body, options):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return {"actions": []}
    monkeypatch.setattr(excel, "run_remote", slow)
    small = {"client": "VBA"}
    threads = [threading.Thread(target=lambda: client.post("/check-rules", json=small,
                                                           headers=AUTH)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1


@pytest.mark.parametrize("token", [None, "", "short", " " * 20])
def test_the_server_refuses_to_start_without_a_real_token(token, monkeypatch):
    monkeypatch.delenv(server.TOKEN_ENV, raising=False)
    with pytest.raises(ValueError, match=server.TOKEN_ENV):
        server.create_app(token=token)


def test_serve_command_refuses_without_token_or_licence(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (server.TOKEN_ENV, "XLWINGS_LICENSE_KEY")}
    cmd = [sys.executable, "-m", "potentiel", "serve"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and server.TOKEN_ENV in r.stderr and "Traceback" not in r.stderr
    env[server.TOKEN_ENV] = TOKEN
    env["HOME"] = str(tmp_path)  # no user-level xlwings licence file either
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "XLWINGS_LICENSE_KEY" in r.stderr and "Traceback" not in r.stderr


def test_serve_binds_to_localhost_by_default():
    from potentiel.cli import build_parser
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 8000


def test_answers_encode_to_the_same_json(client, payload, plugins, monkeypatch):
    import datetime as dt
    content = {"actions": [{"values": [[1, 2.5, 1e16, 1e-7, -0.0, "été", "", True, None]],
                            "args": [0, "$A$5:$AS$205"]}], "big": 2 ** 70}
    assert json.loads(server.encode_json(content)) == content
    actions = excel.run_remote("recompute", json.loads(json.dumps(payload)), excel.Options(
        plugins=plugins, when=dt.datetime(2026, 3, 2, 9, 30)))
    fast = server.encode_json(actions)
    monkeypatch.setattr(server, "orjson", None)  # the standard library alone
    plain = server.encode_json(actions)
    assert plain == json.dumps(actions, ensure_ascii=False, allow_nan=False,
                               separators=(",", ":")).encode()
    assert json.loads(fast) == json.loads(plain) == actions
    r = client.post("/recompute", json=payload, headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["actions"]
