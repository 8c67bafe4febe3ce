"""Render the example's report page in headless Chromium and save docs/screenshot.png (README).

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png] [--full]

The web app runs in-process on a free loopback port with the example's DNS snapshot; the headers
are pasted into the form exactly as a user would, and the report page is captured.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "onedrive-microsoftemails.eml"
SNAPSHOT = ROOT / "examples" / "onedrive-microsoftemails.dns"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def main() -> int:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from mailsleuth.config import Config
    from mailsleuth.web.app import create_app

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--full", action="store_true", help="capture the whole page, not the first screen")
    args = ap.parse_args()

    app = create_app(Config(dns_mode="snapshot", dns_snapshot=str(SNAPSHOT)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height}, device_scale_factor=1)
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("textarea#headers", EXAMPLE.read_text(encoding="utf-8"))
            with page.expect_navigation():
                page.click("button#analyze")
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=args.full)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
