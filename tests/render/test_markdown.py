"""The Markdown report: structure, and attacker-controlled values that stay inert text when the
Markdown is rendered (even by a renderer that allows raw HTML) and carry no clickable link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from mailsleuth.api import analyze
from mailsleuth.cli import main
from mailsleuth.config import Config
from mailsleuth.render.markdown import code, defang, esc, render_markdown
from tests.web.factory import sample_report
from tests.web.xss import payload_message, payloads

# commonmark with raw HTML enabled and GFM tables: the most permissive common setting.
MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")
ALLOWED = {"h2", "h3", "h4", "p", "strong", "em", "code", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td"}


def _tags(html: str) -> set[str]:
    return {t.lower() for t in TAG.findall(html)}


def test_sections_and_tables() -> None:
    md = render_markdown(sample_report())
    for heading in ("## mailsleuth verdict: SUSPICIOUS", "### Message", "### Findings (2)", "### Route (origin first)",
                    "### Authentication: claimed vs re-verified", "### DNS evidence (2)", "### Not checked"):
        assert heading in md
    html = MD.render(md)
    assert html.count("<table>") >= 4
    assert "<td>2 min 30 s</td>" in html  # per-hop delay column


def test_payloads_render_as_text_only() -> None:
    cfg = Config(dns_mode="off")
    for n, p in enumerate(payloads()):
        for report in (analyze(payload_message(p, n), config=cfg), sample_report(p)):
            html = MD.render(render_markdown(report))
            assert _tags(html) <= ALLOWED, f"{p!r}: {_tags(html) - ALLOWED}"
            assert "<a " not in html and "<img" not in html, p
            assert not re.search(r"<[^>]*\s(href|src|on\w+)\s*=", html), p


def test_subject_survives_as_visible_text() -> None:
    p = "<b>Urgent</b> *pay* [now](https://evil.example/) | `x`"
    html = MD.render(render_markdown(sample_report(p)))
    row = re.search(r"<td>Subject</td>\s*<td>(.*?)</td>", html, re.DOTALL)
    assert row is not None
    text = row.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    assert text == "<b>Urgent</b> *pay* [now](hxxps://evil[.]example/) | `x`"


def test_esc_and_code_helpers() -> None:
    assert esc("1. item") == "1\\. item"
    assert esc("- dash").startswith("\\-")
    assert esc("a\nb") == "a b"
    assert "&lt;script&gt;" in esc("<script>")
    assert code("a`b") == "``a`b``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert code("") == "—"
    assert defang("see https://a.example.com/x and www.b.example") == "see hxxps://a[.]example[.]com/x and www[.]b.example"


def test_cli_format_md(tmp_path: Path, example_eml: bytes, example_dns_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.eml"
    src.write_bytes(example_eml)
    assert main(["analyze", str(src), "--dns-snapshot", str(example_dns_path), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## mailsleuth verdict: ")
    assert "Important changes to OneDrive" in out
