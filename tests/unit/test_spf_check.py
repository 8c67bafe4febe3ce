"""The auth.verify.spf and auth.verify.dmarc checks through the engine (received.chain included)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, CheckSpec, Context, Outcome, RunResult, run_checks
from mailsleuth.model.auth import AuthResultValue, VerifiedResult
from mailsleuth.parse.message import parse_message

RAW = (b"Return-Path: <bounce@mail.example.com>\r\n"
       b"Received: from out.example.com (out.example.com [192.0.2.10]) by mx.example.net (Postfix) with ESMTPS "
       b"id 4AbC for <u@example.net>; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
       b"From: Alice <alice@example.com>\r\nTo: u@example.net\r\nSubject: hi\r\n"
       b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n")

ZONE: dict[str, Any] = {
    "mail.example.com": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
    "out.example.com": {"TXT": ["v=spf1 a -all"], "A": ["192.0.2.10"]},
    "_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject"]},
    "example.com": {"A": ["192.0.2.1"]},
}


@dataclass(frozen=True)
class _Dkim:
    signatures: tuple[VerifiedResult, ...]


def _specs(dkim: _Dkim | None) -> dict[str, CheckSpec]:
    for mod in ("received", "auth_spf", "auth_dmarc"):  # only the checks under test
        importlib.import_module(f"mailsleuth.checks.{mod}")
    specs = {k: REGISTRY[k] for k in ("received.chain", "auth.verify.spf", "auth.verify.dmarc")}
    if dkim is not None:
        specs["auth.verify.dkim"] = CheckSpec(id="auth.verify.dkim", title="stub", codes=frozenset(),
                                              func=lambda ctx: Outcome(artifact=dkim))
    return specs


def run(raw: bytes = RAW, zone: dict[str, Any] | None = None, dkim: _Dkim | None = None, **cfg: Any) -> RunResult:
    ctx = Context(parse_message(raw), Config(**cfg), CachingResolver(MemoryResolver(zone or ZONE)))
    return run_checks(ctx, _specs(dkim))


def codes(rr: Any) -> set[str]:
    return {f.code for f in rr.findings}


def test_spf_uses_boundary_ip_and_return_path() -> None:
    rr = run()
    rep = rr.artifacts["auth.verify.spf"]
    assert rep.ip == "192.0.2.10" and rep.ip_source == "boundary hop"
    mf, helo = rep.identity("mailfrom"), rep.identity("helo")
    assert mf.result is AuthResultValue.PASS and mf.details["domain"] == "mail.example.com"
    assert mf.details["matched_mechanism"] == "ip4:192.0.2.0/24" and mf.details["lookups"] == 0
    assert helo.result is AuthResultValue.PASS and helo.details["matched_mechanism"] == "a"
    assert "SPF_PASS" in codes(rr)


def test_ip_override_changes_the_result() -> None:
    rr = run(client_ip="203.0.113.5")
    rep = rr.artifacts["auth.verify.spf"]
    assert rep.ip_source == "--ip" and rep.identity("mailfrom").result is AuthResultValue.FAIL
    assert {"SPF_FAIL", "SPF_HELO_FAIL"} <= codes(rr)


def test_no_ip_is_incomplete() -> None:
    raw = RAW.replace(b"(out.example.com [192.0.2.10])", b"(out.example.com)")
    rr = run(raw)
    assert "SPF_INCOMPLETE" in codes(rr)
    assert any("no client IP" in s.reason for s in rr.skipped if s.check == "auth.verify.spf")


def test_permissive_record_is_flagged() -> None:
    zone = dict(ZONE, **{"mail.example.com": {"TXT": ["v=spf1 ip4:10.0.0.0/9 ip4:192.0.0.0/8 ip6:2001:db8::/17 +all"]}})
    f = next(x for x in run(zone=zone).findings if x.code == "SPF_PERMISSIVE_RECORD")
    assert f.facts["terms"] == "ip4:192.0.0.0/8 +all"


def test_dmarc_pass_by_relaxed_spf_and_modes_agree() -> None:
    rr = run(dkim=_Dkim(signatures=()))
    rep = rr.artifacts["auth.verify.dmarc"]
    vr = rep.results[0]
    assert vr.result is AuthResultValue.PASS and vr.details["aligned"] == ["spf:mail.example.com"]
    assert rep.differences == () and "DMARC_PASS" in codes(rr) and "DMARC_MODES_DIFFER" not in codes(rr)


def test_dmarc_fail_reject_with_dkim_of_other_domain() -> None:
    sig = VerifiedResult(method="dkim", result=AuthResultValue.PASS, subject="d=example.org", details={"d": "example.org"})
    rr = run(dkim=_Dkim(signatures=(sig,)), client_ip="203.0.113.5")
    assert "DMARC_FAIL_REJECT" in codes(rr)
    f = next(x for x in rr.findings if x.code == "DMARC_FAIL_REJECT")
    assert f.facts["record_domain"] == "example.com" and f.facts["requested"] == "reject"


def test_dmarc_without_dkim_artifact_is_incomplete_when_it_would_fail() -> None:
    rr = run(client_ip="203.0.113.5")
    assert "DMARC_INCOMPLETE" in codes(rr) and "DMARC_FAIL_REJECT" not in codes(rr)
    assert any("DKIM was not evaluated" in s.reason for s in rr.skipped if s.check == "auth.verify.dmarc")


def test_dmarc_two_from_domains_is_permerror() -> None:
    raw = RAW.replace(b"From: Alice <alice@example.com>", b"From: alice@example.com, bob@example.org")
    rr = run(raw, dkim=_Dkim(signatures=()))
    assert "DMARC_PERMERROR" in codes(rr)


def test_findings_explain_with_facts() -> None:
    rr = run(client_ip="203.0.113.5")
    f = next(x for x in rr.findings if x.code == "SPF_FAIL")
    assert "mail.example.com" in f.title and "203.0.113.5" in f.title and "?" not in f.title
