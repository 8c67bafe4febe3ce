"""A hand-built Report with every kind of section the renderers meet, for render, redaction and
browser tests that must not depend on which checks have landed. Names are documentation names."""

from __future__ import annotations

from datetime import UTC, datetime

from mailsleuth.model.auth import (
    AuthProperty,
    AuthResultValue,
    ReportedAuth,
    ReportedResult,
    TraceStep,
    VerifiedResult,
)
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding, Severity
from mailsleuth.model.hop import Hop
from mailsleuth.model.report import DnsRecord, Report
from mailsleuth.model.verdict import Contribution, Label, SkippedCheck, Verdict

RECIPIENT = "alice.recipient@mail.recipient-org.test"


def sample_report(text: str = "Quarterly invoice", *, redact_flag: bool = False) -> Report:
    """``text`` is placed in every attacker-controlled field (subject, names, link text, filenames...)."""
    hops = (
        Hop(header_index=0, raw=f"from relay.recipient-org.test by mx.recipient-org.test for <{RECIPIENT}>",
            from_rdns="relay.recipient-org.test", from_ip="192.0.2.10", by_host="mx.recipient-org.test",
            protocol="ESMTPS", tls="TLS1.3", id="4Q1", for_addr=RECIPIENT,
            timestamp=datetime(2024, 5, 1, 10, 0, 42, tzinfo=UTC), timestamp_raw="Wed, 1 May 2024 10:00:42 +0000"),
        Hop(header_index=1, raw=f"from out.sender.example.net ({text}) by relay.recipient-org.test",
            from_helo=text, from_rdns="out.sender.example.net", from_ip="198.51.100.7",
            by_host="relay.recipient-org.test", protocol="ESMTP",
            timestamp=datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC)),
        Hop(header_index=2, raw="by out.sender.example.net", by_host="out.sender.example.net",
            timestamp=datetime(2024, 5, 1, 9, 58, 0, tzinfo=UTC)),
    )
    reported = (
        ReportedAuth(header_name="Authentication-Results", header_index=3, occurrence=0,
                     authserv_id="mx.recipient-org.test", trusted=True,
                     raw="mx.recipient-org.test; spf=pass smtp.mailfrom=sender.example.net; dkim=pass header.d=sender.example.net",
                     results=(ReportedResult(method="spf", result=AuthResultValue.PASS, result_raw="pass",
                                             properties=(AuthProperty(ptype="smtp", name="mailfrom",
                                                                      value="bounce@sender.example.net"),)),
                              ReportedResult(method="dkim", result=AuthResultValue.PASS, result_raw="pass",
                                             reason=text,
                                             properties=(AuthProperty(ptype="header", name="d",
                                                                      value="sender.example.net"),)))),
    )
    dkim = VerifiedResult(method="dkim", result=AuthResultValue.FAIL, subject="d=sender.example.net s=sel1",
                          cause="body hash mismatch", trace=(
                              TraceStep(what="key lookup", outcome="found",
                                        dns=("TXT sel1._domainkey.sender.example.net -> NOERROR",)),
                              TraceStep(what="body hash", outcome="mismatch", detail=text)))
    spf = VerifiedResult(method="spf", result=AuthResultValue.PASS, subject="mailfrom=bounce@sender.example.net",
                         cause="ip4:198.51.100.0/24 matched", complete=False)
    findings = (
        Finding(code="BRAND_LOOKALIKE_DOMAIN", severity=Severity.HIGH, title=f"Display name {text} imitates a brand",
                explanation=f"The From display name {text} names a brand the domain does not belong to.",
                check="brand.impersonation", area="brand",
                evidence=(Evidence(kind=EvidenceKind.HEADER, ref="From[0]", value=f'"{text}" <x@sender.example.net>'),
                          Evidence(kind=EvidenceKind.HEADER, ref="To[0]", value=f"<{RECIPIENT}>")),
                facts={"display": text}),
        Finding(code="SPF_PASS", severity=Severity.POSITIVE, title="SPF passed", explanation="The sending IP is allowed.",
                check="auth.verify.spf", area="auth",
                evidence=(Evidence(kind=EvidenceKind.DNS, ref="TXT sender.example.net", value="v=spf1 ip4:198.51.100.0/24 -all"),)),
    )
    verdict = Verdict(label=Label.SUSPICIOUS, confidence=0.72, summary=f"Suspicious: {text}",
                      narrative=(f"The message claims to come from {text}.", "DKIM failed at the body hash."),
                      would_change=("A valid DKIM signature from the brand's own domain.",), completeness=0.9,
                      skipped=(SkippedCheck(check="infra.rdap", reason="registration lookups are opt-in (--rdap)"),),
                      scores={"phish": 4.0, "spam": 1.0, "trust": 0.5},
                      contributions=(Contribution(code="BRAND_LOOKALIKE_DOMAIN", phish=4.0, spam=0, trust=0, note=text),))
    sections = {
        "input.structure": {"kind": "eml", "has_body": True, "line_ends": "CRLF", "header_count": 14},
        "received.chain": {"hops": list(hops), "count": 3},
        "auth.reported": list(reported),
        "auth.verify.dkim": [dkim],
        "auth.verify.spf": spf,
        "infra.platform": {"platform": "Example Mailer", "matched_by": f"NS ns1.mailer.example ({text})",
                           "evidence": [{"kind": "dns", "ref": "NS sender.example.net", "value": "ns1.mailer.example"}]},
        "body.links": {"links": [{"url": "https://login.example.com/reset", "text": text, "part": "1.2",
                                  "host": "login.example.com", "mismatch": True}]},
        "body.attachments": [{"filename": text, "content_type": "application/pdf", "size": 1234}],
        "x.future": {"nested": {"deep": [text, 1, None, True]}, "list": [{"a": text, "b": 2}]},
        "_engine": {"ran": ["received.chain"], "timings_ms": {}},
    }
    return Report(
        schema="mailsleuth.report/1", tool_version="0.1.0", analysed_at="2024-05-01T10:05:00+00:00",
        message={"kind": "eml", "size": 2048, "has_body": True, "subject": text,
                 "from": f'"{text}" <billing@sender.example.net>', "to": f'"Alice" <{RECIPIENT}>',
                 "date": "Wed, 1 May 2024 09:57:59 +0000", "message_id": f"<{text}@sender.example.net>",
                 "header_count": 14, "notes": []},
        sections=sections, dns_mode="snapshot",
        dns=(DnsRecord(name="sender.example.net", rdtype="TXT", status="NOERROR",
                       records=("v=spf1 ip4:198.51.100.0/24 -all",), source="snapshot"),
             DnsRecord(name="mx.recipient-org.test", rdtype="A", status="UNKNOWN", records=(), source="snapshot")),
        findings=findings, verdict=verdict,
        config={"dns_mode": "snapshot", "trusted_authserv_ids": [], "trusted_relays": [], "redact": redact_flag},
    )
