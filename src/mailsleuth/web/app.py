"""``mailsleuth serve``: paste headers or upload a message, get the report page; ``POST /api/analyze``
returns the JSON report.

Privacy and safety
  * bound to 127.0.0.1 unless told otherwise; on loopback, only loopback Host headers are accepted
    (a web page elsewhere cannot reach the app through DNS rebinding);
  * nothing is stored: request bodies are read into memory (bounded by ``max_upload``; larger ones
    get 413 before analysis), parsed in memory (multipart included: no spooling to temporary files)
    and dropped with the response; report pages are sent ``Cache-Control: no-store``;
  * every response carries a strict Content-Security-Policy (no scripts at all; styles only from
    /static), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
    ``X-Frame-Options: DENY``. The pages need no JavaScript; /docs is a server-rendered page built
    from /openapi.json, so it works offline without loosening the policy;
  * analysis runs in a thread pool so the event loop keeps serving while messages are analysed.
    Errors become a clear message (page or JSON), never a traceback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FunctionLoader
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mailsleuth.config import Config
from mailsleuth.dns.base import Resolver
from mailsleuth.errors import ConfigError, InputError
from mailsleuth.model.report import Report
from mailsleuth.render import html as html_render
from mailsleuth.render.jsonout import render_json

log = logging.getLogger("mailsleuth.web")

DEFAULT_MAX_UPLOAD = 25 * 1024 * 1024
FORM_OVERHEAD = 256 * 1024  # multipart framing and the other form fields on top of the message itself
MAX_FORM_PARTS = 16
MAX_CONNECTIONS = 32  # beyond this uvicorn answers 503: bounds memory (each request may hold max_upload bytes)

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response (errors included)."""

    def __init__(self, app: Any):
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the upload is larger than the limit of {_size(limit)}")
        self.limit = limit


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


# ------------------------------------------------------------------------------------------ templates

def _web_template(name: str) -> str | None:
    try:
        return resources.files("mailsleuth.web").joinpath("templates", name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


@cache
def environment() -> Environment:
    env = Environment(loader=ChoiceLoader([FunctionLoader(_web_template), FunctionLoader(html_render._load_template)]),
                      autoescape=True, undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    html_render.configure(env)
    env.globals["dns_mode_words"] = html_render.DNS_MODE_WORDS
    return env


def _page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    body = environment().get_template(name).render(**ctx)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


# -------------------------------------------------------------------------------------------- bodies

async def read_body(request: Request, limit: int) -> bytes:
    """The request body, in memory, refusing (413) anything over ``limit`` bytes before reading it
    all when Content-Length says so, and while streaming otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise TooLarge(limit)
        except ValueError:
            raise InputError("the Content-Length header is not a number") from None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_form(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data or application/x-www-form-urlencoded, parsed in memory:
    ``{field name: (filename or None, bytes)}``."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(content_type)
    if ctype == b"application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        return {k: (None, v.encode("utf-8")) for k, v in
                parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FORM_PARTS)}
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise InputError("expected a multipart/form-data form")
    fields: dict[str, tuple[str | None, bytes]] = {}
    state: dict[str, Any] = {"headers": {}, "data": [], "field": b"", "value": b""}

    def on_part_begin() -> None:
        state.update(headers={}, data=[], field=b"", value=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"].append(data[start:end])

    def on_part_end() -> None:
        if len(fields) >= MAX_FORM_PARTS:
            return
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", errors="replace")
        filename = disp.get(b"filename")
        if name and name not in fields:
            fields[name] = (filename.decode("utf-8", errors="replace") if filename is not None else None,
                            b"".join(state["data"]))

    callbacks: Any = {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                      "on_header_value": on_header_value, "on_header_end": on_header_end,
                      "on_part_data": on_part_data, "on_part_end": on_part_end}
    try:
        parser = MultipartParser(boundary, callbacks, max_header_count=16)
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own errors for malformed framing
        raise InputError(f"the form upload is malformed ({type(exc).__name__})") from None
    return fields


def message_from_form(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str | None]:
    """The uploaded file if one was sent, else the pasted text."""
    for name in ("file", "message", "upload"):
        filename, data = fields.get(name, (None, b""))
        if data.strip():
            return data, filename
    for name in ("headers", "text", "raw"):
        _, data = fields.get(name, (None, b""))
        if data.strip():
            return data, None
    raise InputError("nothing to analyse: paste the message headers or choose a file")


def _truthy(v: str | bytes | None) -> bool:
    if isinstance(v, bytes):
        v = v.decode("ascii", errors="replace")
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


# ----------------------------------------------------------------------------------------------- app

def create_app(config: Config | None = None, resolver: Resolver | None = None, *,
               max_upload: int = DEFAULT_MAX_UPLOAD, workers: int | None = None,
               allowed_hosts: list[str] | None = None,
               analyze_fn: Callable[..., Report] | None = None) -> FastAPI:
    """The web app. ``resolver`` overrides the one the configuration asks for (tests pass a
    snapshot or memory resolver); ``allowed_hosts`` restricts the Host header."""
    from mailsleuth.api import analyze, make_resolver

    cfg = config or Config()
    shared_resolver = resolver if resolver is not None else make_resolver(cfg)
    mode = getattr(shared_resolver, "mode", cfg.dns_mode)
    pool = ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) + 2),
                              thread_name_prefix="mailsleuth-analyze")
    run = analyze_fn or analyze

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="mailsleuth", version=_version(),
                  description="Explain where an email came from, who vouched for it, and whether to trust it. "
                              "Nothing is stored: each message is analysed in memory and dropped.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    app.add_middleware(SecurityHeaders)

    async def analyse(data: bytes, filename: str | None, redact: bool, render: Callable[[Report], str]) -> str:
        """Analyse and render in the pool: the event loop only moves bytes."""
        def work() -> str:
            report = run(data, config=cfg, resolver=shared_resolver, filename=filename)
            if redact or cfg.redact:
                from mailsleuth.redact import redact_report

                report = redact_report(report, own_domains=cfg.own_domains)
            return render(report)

        return await asyncio.get_running_loop().run_in_executor(pool, work)

    def report_page(report: Report) -> str:
        view = html_render.build_view(report)
        subject = html_render.shorten(view["message"].get("subject"), 120) or "(no subject)"
        return environment().get_template("report.html").render(page_title=f"mailsleuth: {subject}", **view,
                                                                 **common)

    common: dict[str, Any] = {"app_dns_mode": mode, "max_upload": _size(max_upload), "version": _version()}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return _page("index.html", **common)

    @app.post("/analyze", response_class=HTMLResponse, include_in_schema=False)
    async def analyze_form(request: Request) -> HTMLResponse:
        try:
            body = await read_body(request, max_upload + FORM_OVERHEAD)
            fields = parse_form(body, request.headers.get("content-type", ""))
            data, filename = message_from_form(fields)
            if len(data) > max_upload:
                raise TooLarge(max_upload)
            page = await analyse(data, filename, _truthy(fields.get("redact", (None, b""))[1]), report_page)
        except TooLarge as exc:
            return _page("error.html", 413, title="Upload too large", message=str(exc), **common)
        except (InputError, ConfigError) as exc:
            return _page("error.html", 400, title="This could not be analysed", message=str(exc), **common)
        except Exception:
            log.exception("analysis failed")
            return _page("error.html", 500, title="The analysis failed",
                         message="mailsleuth hit an internal error while analysing this message.", **common)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.post("/api/analyze", summary="Analyse one message and return the JSON report",
              description="Send the message as the raw request body (message/rfc822, text/plain or "
                          "application/octet-stream; an Outlook .msg is recognised by its content), or as a "
                          "multipart/form-data upload in the field `file` (or pasted text in `headers`). "
                          "The answer is the report in schema mailsleuth.report/1 (docs/report-schema.md). "
                          f"Bodies larger than the configured limit (default {_size(DEFAULT_MAX_UPLOAD)}) get 413. "
                          "Nothing is stored.",
              responses={200: {"description": "The JSON report", "content": {"application/json": {}}},
                         400: {"description": "Not an email, or empty: `{\"error\": \"...\"}`"},
                         413: {"description": "The upload is larger than the limit"},
                         500: {"description": "Internal error (no details)"}},
              openapi_extra={"parameters": [{"name": "redact", "in": "query", "required": False,
                                             "schema": {"type": "boolean"},
                                             "description": "mask the recipient's addresses and own host names"},
                                            {"name": "filename", "in": "query", "required": False,
                                             "schema": {"type": "string"},
                                             "description": "original file name (e.g. x.msg), informational"}],
                              "requestBody": {"required": True, "content": {
                                  "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                                  "text/plain": {"schema": {"type": "string"}},
                                  "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                                      "file": {"type": "string", "format": "binary"},
                                      "headers": {"type": "string"}}}}}}})
    async def analyze_api(request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        is_form = ctype.lower().startswith(("multipart/form-data", "application/x-www-form-urlencoded"))
        try:
            body = await read_body(request, max_upload + (FORM_OVERHEAD if is_form else 0))
            redact = _truthy(request.query_params.get("redact"))
            filename = request.query_params.get("filename")
            if is_form:
                fields = parse_form(body, ctype)
                data, filename = message_from_form(fields)
                redact = redact or _truthy(fields.get("redact", (None, b""))[1])
                if len(data) > max_upload:
                    raise TooLarge(max_upload)
            else:
                data = body
            if not data.strip():
                raise InputError("the request body is empty: send the message as the body or as a file upload")
            text = await analyse(data, filename, redact, lambda r: render_json(r, indent=None))
        except TooLarge as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)
        except (InputError, ConfigError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception:
            log.exception("analysis failed")
            return JSONResponse({"error": "internal error while analysing the message"}, status_code=500)
        return Response(text, media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _page("docs.html", spec=app.openapi(), **common)

    @app.get("/static/report.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(html_render.stylesheet(), media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "dns_mode": mode}

    return app


def _version() -> str:
    from mailsleuth.version import __version__

    return __version__


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(config: Config, host: str = "127.0.0.1", port: int = 8025, max_upload: int = DEFAULT_MAX_UPLOAD) -> None:
    """Run the web app with uvicorn (``mailsleuth serve``)."""
    import sys

    import uvicorn

    if max_upload <= 0:
        raise ConfigError("--max-upload must be a positive number of bytes")
    loopback = _is_loopback(host)
    allowed = LOOPBACK_HOSTS if loopback else None
    app = create_app(config, max_upload=max_upload, allowed_hosts=allowed)
    if not loopback:
        sys.stderr.write(f"mailsleuth: warning: serving on {host}, reachable from other machines; "
                         "there is no authentication\n")
    sys.stderr.write(f"mailsleuth: serving on http://{'[' + host + ']' if ':' in host else host}:{port}/ "
                     f"(DNS mode: {config.dns_mode}; uploads up to {_size(max_upload)}; nothing is stored)\n")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                proxy_headers=False, limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5)
