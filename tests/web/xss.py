"""The XSS payload list and messages that carry a payload in every attacker-controlled place:
subject, display names, a HELO name in a Received header, an Authentication-Results comment,
an X- header, link text and a link URL in an HTML part, and an attachment's file name."""

from __future__ import annotations

import base64
import html
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

PAYLOAD_FILE = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.txt"


def payloads() -> list[str]:
    out = []
    for line in PAYLOAD_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        out.append(line)
    return out


def _b64word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def payload_message(p: str, n: int = 0) -> bytes:
    """A complete message with ``p`` in headers, display names, link text and a file name."""
    boundary = f"b-{n}-boundary"
    lines = [
        "Return-Path: <bounce@sender.example.net>",
        f"Received: from mx.sender.example.net ({p} [198.51.100.7])",
        "\tby mx.recipient-org.test (Postfix) with ESMTPS id 4XQ1",
        "\tfor <alice@recipient-org.test>; Wed, 1 May 2024 10:00:42 +0000",
        f"Received: from {_helo(p)} (out.sender.example.net [198.51.100.7]) by mx.sender.example.net",
        "\twith ESMTP id 9AB; Wed, 1 May 2024 10:00:10 +0000",
        f"Authentication-Results: mx.recipient-org.test; dkim=pass ({p}) header.d=sender.example.net;",
        "\tspf=pass smtp.mailfrom=sender.example.net",
        f"From: {_b64word(p)} <billing@sender.example.net>",
        f"To: {_b64word(p)} <alice@recipient-org.test>",
        f"Reply-To: {_b64word(p)} <reply@sender.example.net>",
        f"Subject: {_b64word(p)}",
        "Date: Wed, 1 May 2024 09:59:59 +0000",
        f"Message-ID: <{n}.payload@sender.example.net>",
        f"X-Mailer: {p}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/html; charset=utf-8",
        "",
        f'<html><body><p>{p}</p><a href="https://login.example.com/reset?u={quote(p)}">{html.escape(p)}</a>',
        f'<a href="https://login.example.com/x">{p}</a></body></html>',
        f"--{boundary}",
        f'Content-Type: application/pdf; name="{_b64word(p)}"',
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; filename*=utf-8''{quote(p, safe='')}",
        "",
        "JVBERi0xLjQKJSVFT0YK",
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def _helo(p: str) -> str:
    return p.replace(" ", "_")[:200] or "x"


# Every tag and attribute our templates may produce. Anything else in a rendered page came from
# a payload and means escaping failed.
ALLOWED_TAGS = frozenset({
    "html", "head", "meta", "title", "style", "link", "body", "main", "article", "header", "section", "footer",
    "div", "p", "h1", "h2", "h3", "span", "strong", "code", "pre", "table", "thead", "tbody", "tfoot", "tr", "th",
    "td", "ul", "ol", "li", "details", "summary", "br", "svg", "rect", "a", "nav", "form", "label", "textarea",
    "input", "button",
})
ALLOWED_ATTRS = frozenset({
    "lang", "charset", "http-equiv", "content", "name", "rel", "href", "class", "id", "scope", "colspan", "viewbox",
    "preserveaspectratio", "width", "height", "role", "aria-label", "x", "y", "fill", "open", "method", "action",
    "enctype", "for", "spellcheck", "autocomplete", "placeholder", "type", "accept", "value",
})
ALLOWED_URLS = frozenset({"/", "/docs", "/openapi.json", "/static/report.css", "/analyze"})


class StructureCheck(HTMLParser):
    """Collects every tag and attribute of a page to prove no payload became markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag in ("style", "title", "link", "html", "head", "body") and self.counts[tag] > 1:
            self.problems.append(f"second <{tag}>")
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"unexpected tag <{tag}>")
        for name, value in attrs:
            if name not in ALLOWED_ATTRS:
                self.problems.append(f"unexpected attribute {name} on <{tag}>")
            if name in ("href", "action") and value not in ALLOWED_URLS:
                self.problems.append(f"unexpected URL {name}={value!r} on <{tag}>")
            if tag == "meta" and name == "http-equiv" and value not in ("Content-Security-Policy",):
                self.problems.append(f"unexpected meta http-equiv={value!r}")

    handle_startendtag = handle_starttag


def structure_problems(page: str) -> list[str]:
    chk = StructureCheck()
    chk.feed(page)
    chk.close()
    return chk.problems
