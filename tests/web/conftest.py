"""Fixtures for the web tests: the app served by uvicorn on a free loopback port in a thread, and a
headless Chromium driven by Playwright (tests marked ``browser`` skip when it is missing)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailsleuth.config import Config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DNS = ROOT / "examples" / "onedrive-microsoftemails.dns"
CHROMIUM = os.environ.get("MAILSLEUTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--no-proxy-server"]


class LiveServer:
    def __init__(self, app: Any):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def snapshot_config(**kw: Any) -> Config:
    return Config(dns_mode="snapshot", dns_snapshot=str(EXAMPLE_DNS), **kw)


@pytest.fixture(scope="module")
def live_app() -> Iterator[LiveServer]:
    from mailsleuth.web.app import LOOPBACK_HOSTS, create_app

    app = create_app(snapshot_config(), max_upload=512 * 1024, allowed_hosts=LOOPBACK_HOSTS)
    with LiveServer(app) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"headless Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# Installed before any page script: records what a successful injection would leave behind.
WATCH_SCRIPT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI), true);
"""

PROBE = """() => ({
  xss: window.__xss === undefined ? null : String(window.__xss),
  title: document.title,
  markers: document.querySelectorAll('xss-marker').length,
  scripts: document.scripts.length,
  csp: window.__csp || [],
  onattrs: [...document.querySelectorAll('*')].filter(
      e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).length,
  active: document.querySelectorAll('iframe, frame, object, embed, base, form[action^="javascript"], '
      + 'meta[http-equiv]:not([http-equiv="Content-Security-Policy"]), link[href^="data"], style:not(head style)').length,
  jslinks: [...document.querySelectorAll('[href], [src], [action], [formaction]')].filter(
      e => /^\\s*(javascript|data):/i.test(e.getAttribute('href') || e.getAttribute('src')
          || e.getAttribute('action') || e.getAttribute('formaction') || '')).length,
})"""


class Watched:
    """A page with dialog and console listeners attached."""

    def __init__(self, page: Any):
        self.page = page
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(WATCH_SCRIPT)
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, d: Any) -> None:
        self.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    def probe(self) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(PROBE)
        return result


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    ctx = browser.new_context(java_script_enabled=True, service_workers="block")
    page = ctx.new_page()
    yield Watched(page)
    ctx.close()
