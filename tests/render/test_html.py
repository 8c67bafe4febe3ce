"""The standalone HTML report: structure, tolerance of unknown sections, no external resources,
and (statically) that no XSS payload becomes markup anywhere in the page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from mailsleuth.api import analyze
from mailsleuth.cli import main
from mailsleuth.config import Config
from mailsleuth.render import html as html_render
from mailsleuth.render.html import build_view, hop_view, render_html, style_hash
from tests.web.factory import sample_report
from tests.web.xss import payload_message, payloads, structure_problems


def test_sections_in_reading_order_and_verdict_first() -> None:
    page = render_html(sample_report())
    ids = ["verdict", "message", "findings", "route", "authentication", "group-sender", "group-content",
           "group-other", "dns", "not-checked"]
    positions = [page.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions)
    assert "SUSPICIOUS" in page
    assert "DKIM failed at the body hash." in page
    assert "A valid DKIM signature from the brand" in page


def test_unknown_section_appears_without_template_work() -> None:
    r = sample_report()
    r = replace(r, sections={**r.sections, "zz.new_check": {"answer": "forty-two", "rows": [{"k": "v1"}, {"k": "v2"}]}})
    page = render_html(r)
    block = page[page.index('id="section-zz-new_check"'):]
    assert "forty-two" in block and "v1" in block and "v2" in block
    assert "<th scope=\"col\">K</th>" in block  # a list of records became a table


def test_tolerates_missing_and_odd_shapes() -> None:
    r = sample_report()
    odd = {"received.chain": "not a list", "auth.reported": {"unexpected": 1}, "auth.verify.spf": [None, 3],
           "body.links": [], "x.none": None, "x.deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}}
    page = render_html(replace(r, sections=odd, findings=(), dns=()))
    assert "No findings." in page
    assert "No DNS queries were made." in page
    assert "not a list" in page  # shown generically
    assert "…" in page  # depth bounded


def test_hop_timeline_bars_are_proportional_to_delay() -> None:
    view = hop_view(sample_report().sections["received.chain"])
    assert view is not None
    rows = view["rows"]
    assert [r["header_index"] for r in rows] == [2, 1, 0]  # origin first
    assert rows[0]["delay"] is None
    assert rows[1]["delay"] == 150.0 and rows[2]["delay"] == 12.0
    assert rows[1]["bar"] == 100.0 and rows[2]["bar"] == 8.0
    assert view["total"] == 162.0


def test_hop_clock_going_backwards_is_flagged() -> None:
    chain = [{"header_index": 0, "timestamp": "2024-05-01T10:00:00+00:00", "by_host": "b.example.com"},
             {"header_index": 1, "timestamp": "2024-05-01T10:05:00+00:00", "by_host": "a.example.com"}]
    view = hop_view(chain)
    assert view is not None
    assert view["rows"][1]["delay"] == -300.0 and view["rows"][1]["backwards"]
    assert "clock goes backwards" in render_html(replace(sample_report(), sections={"received.chain": chain}))


def test_authentication_claims_next_to_verification() -> None:
    auth = build_view(sample_report())["auth"]
    by_method = {r["method"]: r for r in auth["rows"]}
    assert [r["method"] for r in auth["rows"]][:2] == ["spf", "dkim"]
    assert by_method["dkim"]["claims"][0]["result"] == "pass"
    assert by_method["dkim"]["verified"][0]["result"] == "fail"
    assert by_method["spf"]["verified"][0]["complete"] is False


def test_standalone_has_no_external_resources_and_a_strict_policy() -> None:
    page = render_html(sample_report())
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert meta is not None
    policy = meta.group(1).replace("&#39;", "'")
    assert "default-src 'none'" in policy and style_hash() in policy
    assert "@media print" in page


def test_style_hash_matches_the_inline_stylesheet() -> None:
    import base64
    import hashlib

    page = render_html(sample_report())
    css = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert style_hash() == f"'sha256-{digest}'"


def test_payloads_never_become_markup_in_report_or_sections() -> None:
    cfg = Config(dns_mode="off")
    for n, p in enumerate(payloads()):
        for kind, report in (("message", analyze(payload_message(p, n), config=cfg)), ("sections", sample_report(p))):
            page = render_html(report)
            assert structure_problems(page) == [], f"{kind} {p!r}"
            if "<" in p:
                assert p not in page, f"{kind}: {p!r} appears unescaped"


def test_structure_check_catches_unescaped_markup() -> None:
    assert structure_problems("<p><img src=x onerror=alert(1)></p>")
    assert structure_problems('<a href="javascript:alert(1)">x</a>')
    assert structure_problems("<style>a{}</style><style>b{}</style>")
    assert structure_problems(render_html(sample_report())) == []


def test_control_characters_made_visible() -> None:
    page = render_html(sample_report("bell\x07 and escape\x1b[31m"))
    assert "\x07" not in page and "\\x07" in page and "\\x1b" in page


def test_cli_format_html(tmp_path: Path, example_eml: bytes, example_dns_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.eml"
    src.write_bytes(example_eml)
    out = tmp_path / "r.html"
    assert main(["analyze", str(src), "--dns-snapshot", str(example_dns_path), "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Important changes to OneDrive" in page
    assert structure_problems(page) == []


def test_templates_are_packaged() -> None:
    for name in ("standalone.html", "report_body.html", "macros.html", "report.css"):
        assert html_render._load_template(name), name


def test_at_a_glance_summarises_route_auth_and_platform() -> None:
    g = build_view(sample_report())["glance"]
    assert g["hops"] == 3 and g["transit"] == 162.0
    assert {a["method"]: (a["claimed"], a["verified"]) for a in g["auth"]} == {
        "spf": ("pass", "pass"), "dkim": ("pass", "fail")}
    assert g["platform"] == "Example Mailer"
    page = render_html(sample_report())
    glance = page[page.index('id="glance"'):page.index('id="message"')]
    assert "3 hops, 2 min 42 s" in glance and "Example Mailer" in glance and "res-fail" in glance


def test_duration_words() -> None:
    from mailsleuth.render.html import duration

    assert [duration(x) for x in (0, 0.25, 12, 150, 3600, 3661 + 3600, 200000, -30, None)] == [
        "0 s", "0.2 s", "12 s", "2 min 30 s", "1 h", "2 h 1 min", "2.3 days", "-30 s", ""]
