"""Terminal renderers of the spf and dmarc sections: the trace as a readable list, hostile text inert."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from mailsleuth.render.sections.dmarc import render_dmarc
from mailsleuth.render.sections.spf import render_spf
from tests.unit.test_spf_check import ZONE, _Dkim, run


def _render(func: Any, artifact: Any) -> str:
    buf = io.StringIO()
    func(artifact, Console(file=buf, width=160, no_color=True, markup=False, highlight=False))
    return buf.getvalue()


def test_spf_section_shows_result_counts_and_trace() -> None:
    out = _render(render_spf, run(client_ip="203.0.113.5").artifacts["auth.verify.spf"])
    assert "Client IP: 203.0.113.5 (from the --ip)" in out
    assert "MAIL FROM mail.example.com: FAIL" in out
    assert "DNS lookups: 0 of 10; void lookups: 0 of 2" in out
    assert "• mail.example.com: ip4:192.0.2.0/24 → no match" in out
    assert "dns: TXT mail.example.com -> NOERROR v=spf1 ip4:192.0.2.0/24 -all" in out


def test_dmarc_section_shows_policy_and_agreement() -> None:
    out = _render(render_dmarc, run(dkim=_Dkim(signatures=())).artifacts["auth.verify.dmarc"])
    assert "From domain: example.com  → DMARC PASS" in out
    assert "policy record: _dmarc.example.com  v=DMARC1; p=reject" in out
    assert "policy: p=reject; nothing asked (pass)" in out
    assert "RFC 7489 (Public Suffix List) agrees: pass" in out


def test_hostile_record_text_is_inert() -> None:
    zone = dict(ZONE, **{"mail.example.com": {"TXT": ["v=spf1 [bold red]x\x1b[2J -all"]}})
    out = _render(render_spf, run(zone=zone, client_ip="192.0.2.1").artifacts["auth.verify.spf"])
    assert "[bold red]" in out and "\x1b" not in out and "\\x1b" in out
