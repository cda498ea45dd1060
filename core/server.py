"""``potentiel serve``: the Excel entry points over HTTP, for xlwings Server clients.

A small FastAPI app. ``POST /recompute``, ``/check-rules``, ``/explain``, ``/plan``,
``/territory`` and ``/preview`` speak xlwings'
remote-interpreter protocol: the body is the workbook payload xlwings' VBA
(``RunRemotePython``), Office Scripts or Office.js client sends, the answer is the list of
actions (``book.json()``) the client applies. The task pane page, its manifest and icons
are served too, so Excel on the web can load the add-in from here.

Safety, in the order a request meets it:
- every path needs ``Authorization: Bearer <token>`` (the token comes from
  ``POTENTIEL_TOKEN``, compared in constant time), except the static task pane files
  that Excel fetches without headers and that hold no data and no secret;
- a body over ``max_body`` bytes is refused with 413, by Content-Length and by counting
  the bytes actually streamed;
- a body that is not an xlwings payload, or comes from another xlwings version, gets 400
  with a message; a bug gets 500 with a one-line message (the traceback stays in the
  server log);
- runs are serialised by a lock: the rules stage (durable_rules) is not thread-safe.
Answers are a few MB (about 3 MB for 10,000 accounts): they are encoded with orjson when
it is installed (the ``server`` extra), else with the standard library, to the same JSON.
Payloads are parsed by the standard library: orjson is hardly faster there, and it reads
integers past 64 bits as floats.
This module never imports xlwings; `potentiel.excel` does.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import os
import struct
import threading
import zlib
from pathlib import Path
from typing import Any, Iterable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from . import excel
from .resources import workbooks_dir

try:
    import orjson
except ImportError:  # pragma: no cover - the server extra installs it
    orjson = None

TOKEN_ENV = "POTENTIEL_TOKEN"
MAX_BODY_ENV = "POTENTIEL_MAX_BODY"
DEFAULT_MAX_BODY = 32 * 1024 * 1024  # a 10,000-account workbook sends about 6 MB
MIN_TOKEN_LENGTH = 16
ENDPOINTS = {"/recompute": "recompute", "/check-rules": "check-rules", "/explain": "explain",
             "/plan": "plan", "/territory": "territory", "/preview": "preview"}
STATIC = {"/taskpane.html": ("taskpane.html", "text/html; charset=utf-8"),
          "/taskpane.js": ("taskpane.js", "text/javascript; charset=utf-8"),
          "/manifest.xml": ("manifest.xml", "application/xml; charset=utf-8")}
ICONS = {"/icon-16.png": 16, "/icon-32.png": 32, "/icon-64.png": 64, "/icon-80.png": 80}
PUBLIC = frozenset({*STATIC, *ICONS, "/xlwings/alert"})

log = logging.getLogger("potentiel.server")


def taskpane_dir() -> Path:
    return workbooks_dir() / "taskpane"


def encode_json(content: Any) -> bytes:
    """What ``JSONResponse`` sends (compact UTF-8), encoded with orjson when it can.

    Numbers may be spelt differently (``1e16`` for ``1e+16``), never valued differently.
    Answers hold no NaN (`potentiel.excel_io` sends blanks as ""); orjson would write null
    where the standard library refuses."""
    if orjson is not None:
        try:
            return orjson.dumps(content)
        except TypeError:  # e.g. an integer past 64 bits: the standard library takes it
            pass
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


def check_token(token: str | None) -> str:
    """The token the server requires; refuses a missing or short one."""
    if not token or len(token.strip()) < MIN_TOKEN_LENGTH:
        raise ValueError(f"set {TOKEN_ENV} to a secret of at least {MIN_TOKEN_LENGTH} characters "
                         "(e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\")")
    return token.strip()


class BearerAuth:
    """ASGI middleware: every request but the public static files needs the bearer token.

    A middleware rather than a per-route dependency, so a route added later is protected
    without anyone remembering to.
    """

    def __init__(self, app: Any, token: str, public: Iterable[str] = PUBLIC) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.public = frozenset(public)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here
        if scope["method"] in ("GET", "HEAD") and scope["path"] in self.public:
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                given = value
                break
        # Scheme is case-insensitive (RFC 7235); the token itself is compared in constant time.
        if given[:7].lower() == b"bearer ":
            given = b"Bearer " + given[7:].strip()
        if not hmac.compare_digest(given, self.expected):
            await _send_json(send, 401, {"detail": "missing or wrong bearer token: send "
                                                   "Authorization: Bearer <POTENTIEL_TOKEN>"},
                             [(b"www-authenticate", b'Bearer realm="potentiel"')])
            return
        await self.app(scope, receive, send)


async def _send_json(send: Any, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, max_body: int) -> bytes:
    """The request body, refused as soon as it is known to exceed ``max_body``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ValueError("Content-Length is not a number") from None
        if size > max_body:
            raise BodyTooLarge()
    total, chunks = 0, []
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_body:  # the declared length may lie, or be absent (chunked)
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _png(size: int, rgb: tuple[int, int, int] = (0, 105, 92)) -> bytes:
    """A plain square icon, generated so the repository holds no binary file for it."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    head = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def create_app(token: str | None = None, max_body: int | None = None,
               plugin_dirs: Iterable[str | Path] = (), plugins: Any = None) -> FastAPI:
    """The ASGI app. ``token`` defaults to ``$POTENTIEL_TOKEN`` and is required."""
    token = check_token(token if token is not None else os.environ.get(TOKEN_ENV))
    if max_body is None:
        max_body = int(os.environ.get(MAX_BODY_ENV) or DEFAULT_MAX_BODY)
    why = excel.remote_available()
    if why:
        raise RuntimeError(why)
    lock = threading.Lock()
    options = dict(plugin_dirs=tuple(plugin_dirs), plugins=plugins)
    app = FastAPI(title="Potentiel", docs_url=None, redoc_url=None, openapi_url=None)

    def run(action: str, payload: Any) -> dict:
        with lock:  # one run at a time: the rules stage is not thread-safe
            return excel.run_remote(action, payload, excel.Options(remote=True, **options))

    async def endpoint(request: Request) -> Response:
        action = ENDPOINTS[request.url.path]
        try:
            body = await read_body(request, max_body)
        except BodyTooLarge:
            return JSONResponse({"detail": f"request body over {max_body} bytes; raise "
                                           f"{MAX_BODY_ENV} on the server if the workbook is "
                                           "really that big"}, status_code=413)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return JSONResponse({"detail": f"the body is not JSON ({exc})"}, status_code=400)
        except RecursionError:  # [[[[…]]]] nested deeper than the parser goes
            return JSONResponse({"detail": "the body is not a workbook payload: JSON nested "
                                           "too deeply"}, status_code=400)
        try:
            actions = await run_in_threadpool(run, action, payload)
        except excel.PayloadError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        except Exception as exc:
            log.exception("%s failed", action)
            return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the details "
                                           "are in the server log"}, status_code=500)
        # the answer is a few MB: encoded here, not by JSONResponse's json.dumps
        return Response(encode_json(actions), media_type="application/json")

    for path in ENDPOINTS:
        app.add_api_route(path, endpoint, methods=["POST"])

    @app.get("/health")
    async def health() -> dict:
        import importlib.metadata
        return {"ok": True, "xlwings": importlib.metadata.version("xlwings"),
                "potentiel": importlib.metadata.version("potentiel")}

    def static(request: Request) -> Response:
        name, media = STATIC[request.url.path]
        text = (taskpane_dir() / name).read_text(encoding="utf-8")
        import importlib.metadata
        base = str(request.base_url).rstrip("/")
        text = (text.replace("{{XLWINGS_VERSION}}", importlib.metadata.version("xlwings"))
                .replace("{{BASE_URL}}", html.escape(base)))
        return Response(text, media_type=media)

    for path in STATIC:
        app.add_api_route(path, static, methods=["GET"])

    def icon(request: Request) -> Response:
        return Response(_png(ICONS[request.url.path]), media_type="image/png")

    for path in ICONS:
        app.add_api_route(path, icon, methods=["GET"])

    @app.get("/xlwings/alert")
    async def alert(prompt: str = "", title: str = "", buttons: str = "ok", mode: str = "",
                    callback: str = "") -> HTMLResponse:
        # xlwings' Office.js client shows errors in a dialog loaded from this path.
        text = (taskpane_dir() / "alert.html").read_text(encoding="utf-8")
        shown = [b for b in ("ok", "yes", "no", "cancel") if b in buttons] or ["ok"]
        buttons_html = "".join(f'<button id="{b}" type="button">{b.upper() if b == "ok" else b.capitalize()}'
                               "</button>" for b in shown)
        text = (text.replace("{{TITLE}}", html.escape(title))
                .replace("{{PROMPT}}", html.escape(prompt).replace("\n", "<br>"))
                .replace("{{CALLBACK}}", html.escape(callback, quote=True))
                .replace("{{BUTTONS}}", buttons_html))
        return HTMLResponse(text)

    app.add_middleware(BearerAuth, token=token)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, plugin_dirs: Iterable[str] = (),
          certfile: str | None = None, keyfile: str | None = None) -> None:
    """Run the app with uvicorn (one process: runs are serialised anyway)."""
    import uvicorn

    app = create_app(plugin_dirs=plugin_dirs)
    uvicorn.run(app, host=host, port=port, ssl_certfile=certfile, ssl_keyfile=keyfile,
                workers=1, log_level="info", server_header=False)
