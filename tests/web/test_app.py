"""The web app over real HTTP on loopback (no browser): API, limits, headers, errors, privacy."""

from __future__ import annotations

import builtins
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailsleuth.model.report import Report
from mailsleuth.web import app as web
from mailsleuth.web.app import CSP, create_app
from tests.web.conftest import ROOT, LiveServer, snapshot_config
from tests.web.xss import payload_message, payloads, structure_problems

EXAMPLE = (ROOT / "examples" / "onedrive-microsoftemails.eml").read_bytes()


@pytest.fixture
def client(live_app: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_app.url, timeout=30) as c:
        yield c


def test_security_headers_on_every_kind_of_response(client: httpx.Client) -> None:
    responses = [client.get("/"), client.get("/docs"), client.get("/openapi.json"), client.get("/nope"),
                 client.post("/api/analyze", content=EXAMPLE), client.post("/api/analyze", content=b""),
                 client.post("/analyze", files={"file": ("m.eml", EXAMPLE)})]
    for r in responses:
        assert r.headers["content-security-policy"] == CSP, r.url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
    for directive in ("default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in CSP
    assert "script-src" not in CSP and "unsafe" not in CSP


def test_api_raw_body_returns_json_report(client: httpx.Client) -> None:
    r = client.post("/api/analyze", content=EXAMPLE, headers={"Content-Type": "message/rfc822"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    data = r.json()
    assert data["schema"] == "mailsleuth.report/1"
    assert data["message"]["subject"] == "Important changes to OneDrive"
    assert data["dns"]["mode"] == "snapshot"
    assert data["verdict"]["label"] in {"legitimate", "suspicious", "phishing", "spam", "unknown"}


def test_api_multipart_upload_and_redact(client: httpx.Client) -> None:
    r = client.post("/api/analyze", files={"file": ("m.eml", EXAMPLE, "message/rfc822")}, data={"redact": "on"})
    assert r.status_code == 200
    assert "hoge" not in r.text and "example.com" not in r.text
    assert r.json()["config"]["redact"] is True
    r2 = client.post("/api/analyze?redact=true", content=EXAMPLE)
    assert "hoge" not in r2.text
    assert r2.json()["verdict"]["label"] == r.json()["verdict"]["label"]


def test_api_errors_are_clear(client: httpx.Client) -> None:
    r = client.post("/api/analyze", content=b"")
    assert r.status_code == 400 and "empty" in r.json()["error"]
    r = client.post("/api/analyze", content=b"\x00\x01\x02\x03" * 50)
    assert r.status_code == 400 and "binary" in r.json()["error"]
    r = client.post("/api/analyze", content=b"just some words, no headers")
    assert r.status_code == 400 and "does not look like an email" in r.json()["error"]
    r = client.post("/api/analyze", content=b"--x--", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400
    for resp in (r,):
        assert "Traceback" not in resp.text


def test_too_large_is_413_with_length_and_when_streamed(client: httpx.Client) -> None:
    big = EXAMPLE + b"\n" + b"x" * (600 * 1024)
    r = client.post("/api/analyze", content=big)
    assert r.status_code == 413 and "larger than the limit" in r.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(20):
            yield b"y" * 64 * 1024

    r = client.post("/api/analyze", content=chunks())
    assert r.status_code == 413
    r = client.post("/analyze", files={"file": ("big.eml", big)})
    assert r.status_code == 413 and "larger than the limit" in r.text


def test_form_errors_render_a_page(client: httpx.Client) -> None:
    r = client.post("/analyze", files={"file": ("", b"")}, data={"headers": "   "})
    assert r.status_code == 400
    assert "nothing to analyse" in r.text and "<html" in r.text


def test_openapi_and_offline_docs(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/analyze"]["post"]
    assert {"message/rfc822", "multipart/form-data"} <= set(op["requestBody"]["content"])
    assert {"200", "400", "413"} <= set(op["responses"])
    docs = client.get("/docs").text
    assert "<script" not in docs.lower()
    assert "cdn" not in docs.lower() and "https://" not in docs
    assert "/api/analyze" in docs and 'href="/openapi.json"' in docs


def test_stylesheet_is_served_from_self(client: httpx.Client) -> None:
    r = client.get("/static/report.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert "@media print" in r.text
    page = client.get("/").text
    assert '<link rel="stylesheet" href="/static/report.css">' in page
    assert "<style" not in page and "style=" not in page  # nothing inline for the CSP to refuse


def test_dns_mode_shown(client: httpx.Client) -> None:
    assert "DNS mode: snapshot" in client.get("/").text


def test_host_header_must_be_loopback(client: httpx.Client) -> None:
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200


def test_nothing_written_to_disk_while_analysing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads stay in memory, also above the 1 MiB where form parsers usually spool to a file."""
    writes: list[str] = []
    real_open = builtins.open

    def spy_open(file: Any, mode: str = "r", *a: Any, **kw: Any) -> Any:
        if any(c in mode for c in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *a, **kw)

    def no_temp(*a: Any, **kw: Any) -> Any:
        writes.append("tempfile")
        raise AssertionError("temporary file created")

    big_but_allowed = EXAMPLE + b"\n" + b"z" * (2 * 1024 * 1024)
    app = create_app(snapshot_config(), max_upload=4 * 1024 * 1024)
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        monkeypatch.setattr(builtins, "open", spy_open)
        for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
            monkeypatch.setattr(tempfile, name, no_temp)
        r = c.post("/analyze", files={"file": ("m.eml", big_but_allowed)})
        assert r.status_code == 200
        r = c.post("/api/analyze", files={"file": ("m.eml", big_but_allowed)})
        assert r.status_code == 200
        monkeypatch.undo()
    assert writes == []


def test_analysis_runs_off_the_event_loop() -> None:
    """While one analysis is stuck, the server still answers other requests."""
    gate = threading.Event()
    entered = threading.Event()
    from mailsleuth.api import analyze

    def slow(data: bytes, **kw: Any) -> Report:
        entered.set()
        gate.wait(20)
        return analyze(data, **kw)

    app = create_app(snapshot_config(), analyze_fn=slow, workers=2)
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        result: dict[str, int] = {}
        t = threading.Thread(target=lambda: result.setdefault("status", c.post("/api/analyze", content=EXAMPLE).status_code))
        t.start()
        assert entered.wait(10)
        t0 = time.monotonic()
        assert c.get("/healthz").status_code == 200
        assert time.monotonic() - t0 < 2
        gate.set()
        t.join(20)
        assert result["status"] == 200


def test_internal_error_is_generic() -> None:
    def broken(data: bytes, **kw: Any) -> Report:
        raise RuntimeError("secret internals at /srv/path")

    app = create_app(snapshot_config(), analyze_fn=broken)
    with LiveServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        r = c.post("/api/analyze", content=EXAMPLE)
        assert r.status_code == 500
        assert "secret" not in r.text and "Traceback" not in r.text
        r = c.post("/analyze", files={"file": ("m.eml", EXAMPLE)})
        assert r.status_code == 500 and "internal error" in r.text and "secret" not in r.text


def test_serve_binds_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    web.serve(snapshot_config())
    assert seen["host"] == "127.0.0.1"
    from mailsleuth.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def test_cli_serve_passes_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from mailsleuth.cli import main

    seen: dict[str, Any] = {}
    monkeypatch.setattr(web, "serve", lambda cfg, **kw: seen.update(kw, cfg=cfg))
    assert main(["serve", "--offline", "--port", "8999", "--max-upload", "1000"]) == 0
    assert seen["port"] == 8999 and seen["max_upload"] == 1000 and seen["host"] == "127.0.0.1"
    assert seen["cfg"].dns_mode == "off"


def test_xss_payloads_never_become_markup_in_web_pages(client: httpx.Client) -> None:
    for n, p in enumerate(payloads()):
        r = client.post("/analyze", files={"file": ("m.eml", payload_message(p, n))})
        assert r.status_code == 200, p
        assert structure_problems(r.text) == [], p
        if "<" in p:
            assert p not in r.text, p
        api = client.post("/api/analyze", content=payload_message(p, n))
        assert api.json()["message"]["subject"] == p


def test_outlook_msg_upload(client: httpx.Client) -> None:
    from tests.support.msgfile import build_msg

    headers = ("Received: from a.example.net (a.example.net [192.0.2.1])\r\n\tby mx.example.com with ESMTP id 1;"
               " Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: Alice <alice@example.net>\r\nTo: bob@example.com\r\n"
               "Subject: Quarterly report\r\n")
    msg = build_msg(subject="Quarterly report", sender="alice@example.net", body="See http://example.org/q3",
                    transport_headers=headers)
    r = client.post("/api/analyze", files={"file": ("report.msg", msg, "application/vnd.ms-outlook")})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["message"]["kind"] == "msg" and data["message"]["subject"] == "Quarterly report"
    assert len(data["hops"]["hops"]) == 1
    page = client.post("/analyze", files={"file": ("report.msg", msg)})
    assert page.status_code == 200 and "Quarterly report" in page.text
