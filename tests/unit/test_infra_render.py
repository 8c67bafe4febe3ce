"""Terminal renderers of the infrastructure sections: content, and hostile text shown as text."""

from __future__ import annotations

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import render_terminal

HOSTILE = b"""Return-Path: <[bold red]x[/]@example.net>
Received: from [red]evil[/red] (mta.example.net [192.0.2.10])
\tby mx.example.org with ESMTP id 1; Mon, 04 Mar 2024 10:00:02 +0000
From: "[link=http://bad.example]click[/link]" <a@example.com>
X-Job: 1_2
X-SG-EID: \x1b[31mred
Message-ID: <\x1b]8;;http://bad.example\x07@mta1.example.net>
"""


def test_hostile_values_render_as_text():
    zone = {"example.com": {"NS": ["ns1.[bold]x.example"]}}
    r = analyze(HOSTILE, config=Config(dns_mode="live"), resolver=MemoryResolver(zone))
    out = render_terminal(r, width=140)
    assert "\x1b" not in out and "\x07" not in out
    assert "Sending platform" in out


def test_sections_render_from_json_too():
    r = analyze(HOSTILE, config=Config(dns_mode="off"))
    from mailsleuth.render.sections.platform import render_platform
    from mailsleuth.render.terminal import SECTIONS, _load

    _load()
    assert SECTIONS["infra.platform"].func is render_platform
    data = to_jsonable(r.sections["infra.platform"])
    import io

    from rich.console import Console

    buf = io.StringIO()
    render_platform(data, Console(file=buf, width=140, no_color=True, markup=False))
    assert "SendGrid" in buf.getvalue() and "sent it" in buf.getvalue()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_HEADER = st.sampled_from(["Received", "Return-Path", "From", "Message-ID", "DKIM-Signature", "X-Job", "X-SG-EID",
                           "Reply-To", "List-Unsubscribe", "Feedback-ID"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_HEADER, st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300)), max_size=25))
def test_infra_checks_never_fail_on_arbitrary_headers(headers):
    raw = "".join(f"{k}: {v.replace(chr(10), ' ').replace(chr(13), ' ')}\n" for k, v in headers).encode("utf-8", "replace")
    r = analyze(b"Subject: t\nFrom: a@example.com\n" + raw, config=Config(dns_mode="live"), resolver=MemoryResolver({}))
    failed = [f for f in r.findings if f.code == "ENGINE_CHECK_FAILED" and str(f.facts.get("check", "")).startswith("infra.")]
    assert failed == []
