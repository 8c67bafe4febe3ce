"""DNS enrichment: PTR/FCrDNS, NS operators, SPF include chains, origin AS, statuses, budget."""

from __future__ import annotations

from mailsleuth.api import analyze
from mailsleuth.config import Config, Limits
from mailsleuth.dns.base import Answer, Status
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.infra.asn import origin_name, parse_as, parse_origin
from mailsleuth.infra.enrich import enrich, spf_targets
from mailsleuth.infra.standalone import _BareContext
from mailsleuth.infra.view import build_view
from mailsleuth.parse.message import parse_message

MSG = b"""Return-Path: <bounce@bounce.example.net>
Received: from mta1.example.net (mta1.example.net [192.0.2.10])
\tby mx.example.org (Postfix) with ESMTPS id 4ABC
\tfor <user@example.org>; Mon, 04 Mar 2024 10:00:02 +0000 (UTC)
DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; h=from; bh=AAAA; b=BBBB
From: "Example" <news@example.com>
Reply-To: <help@gone.example>
To: <user@example.org>
Subject: test
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <abc@mta1.example.net>
"""

ZONE = {
    "example.com": {"A": ["192.0.2.1"], "NS": ["ns1.dns.example.net", "ns2.dns.example.net"],
                    "TXT": ["v=spf1 include:_spf.example.net redirect=_r.example.net"]},
    "bounce.example.net": {"MX": ["10 mx.example.net"]},
    "example.net": {"NS": ["ns1.example.net"]},
    "mta1.example.net": {"A": ["192.0.2.99"]},
    "10.2.0.192.in-addr.arpa": {"PTR": ["mta1.example.net"]},
    "_spf.example.net": {"TXT": ["v=spf1 include:_spf.example.net include:deep1.example.net -all"]},
    "deep1.example.net": {"TXT": ["v=spf1 include:deep2.example.net"]},
    "deep2.example.net": {"TXT": ["v=spf1 include:deep3.example.net"]},
    "deep3.example.net": {"TXT": ["v=spf1 -all"]},
    "_r.example.net": {"TXT": ["v=spf1 -all"]},
    "10.2.0.192.origin.asn.cymru.com": {"TXT": ["64500 | 192.0.2.0/24 | ZZ | test | 2024-01-01"]},
    "as64500.asn.cymru.com": {"TXT": ["64500 | ZZ | test | 2024-01-01 | EXAMPLE-NET Example Networks"]},
}


def _run(zone, raw=MSG, budget=5.0):
    msg = parse_message(raw)
    view = build_view(_BareContext(msg))
    res = CachingResolver(MemoryResolver(zone))
    return enrich(view, res, budget_s=budget), res


def test_ptr_fcrdns_and_network():
    (art, _notes), _ = _run(ZONE)
    ip = art.ip("192.0.2.10")
    assert ip is not None and ip.ptr == ("mta1.example.net",)
    assert ip.fcrdns is False  # mta1.example.net resolves to 192.0.2.99
    assert ip.network.asn == 64500 and ip.network.owner == "EXAMPLE-NET Example Networks"
    assert ip.network.prefix == "192.0.2.0/24"
    zone = dict(ZONE, **{"mta1.example.net": {"A": ["192.0.2.10"]}})
    (art2, _), _ = _run(zone)
    assert art2.ip("192.0.2.10").fcrdns is True and art2.ip("192.0.2.10").fcrdns_name == "mta1.example.net"


def test_domains_ns_operator_spf_chain_and_existence():
    (art, _), res = _run(ZONE)
    d = art.domain("example.com")
    assert d.ns_operators == ("example.net",) and d.ns_zone == "example.com" and "from" in d.roles and "dkim" in d.roles
    # include loop and depth are bounded; redirect counted; order kept
    assert d.spf.includes[:2] == ("_spf.example.net", "deep1.example.net")
    assert "_r.example.net" in d.spf.includes and d.spf.includes.count("_spf.example.net") == 1
    assert "deep3.example.net" not in d.spf.includes  # beyond the depth limit
    rp = art.domain("bounce.example.net")
    assert rp.ns_zone == "example.net" and rp.ns_operators == ("example.net",)  # from the parent zone
    gone = art.domain("gone.example")
    assert gone.exists is False and gone.roles == ("reply-to",)
    assert ("ptr", "10.2.0.192.in-addr.arpa") not in {(a.rdtype, a.name) for a in res.log}
    assert ("PTR", "10.2.0.192.in-addr.arpa") in {(a.rdtype, a.name) for a in res.log}


def test_snapshot_unknown_is_incomplete_not_absent():
    snap = SnapshotResolver.from_text("example.com. 300 IN NS ns1.dns.example.net.\n")
    msg = parse_message(MSG)
    view = build_view(_BareContext(msg))
    art, notes = enrich(view, CachingResolver(snap), budget_s=5)
    d = art.domain("example.com")
    assert d.ns == ("ns1.dns.example.net",) and d.exists is True
    gone = art.domain("gone.example")
    assert gone.exists is None  # unknown, never NXDOMAIN
    assert any("not in the DNS snapshot" in n for n in notes)


def test_budget_exhaustion_is_reported():
    ticks = iter([0.0, 0.0, 0.0] + [100.0] * 1000)  # start, wave 1 check, after wave 1; then late
    msg = parse_message(MSG)
    view = build_view(_BareContext(msg))
    art, notes = enrich(view, CachingResolver(MemoryResolver(ZONE)), budget_s=1.0, clock=lambda: next(ticks))
    assert art.waves == 1 and any("time budget" in n for n in notes)


def test_spf_and_cymru_parsers():
    assert spf_targets("v=spf1 include:a.example ~include:b.example redirect=c.example include:%{d}.x.example a mx") == [
        "a.example", "b.example", "c.example"]
    assert origin_name("192.0.2.10") == "10.2.0.192.origin.asn.cymru.com"
    assert origin_name("2001:db8::1").endswith(".8.b.d.0.1.0.0.2.origin6.asn.cymru.com")
    assert parse_origin(("64500 64501 | 192.0.2.0/24 | ZZ | test | 2024-01-01",))[:2] == (64500, "192.0.2.0/24")
    assert parse_origin(("garbage",)) == (None, None, None, None, None)
    assert parse_as(("64500 | ZZ | test | 2024-01-01 | NAME",)) == "NAME"


def _analyze(zone, raw=MSG):
    return analyze(raw, config=Config(dns_mode="live"), resolver=MemoryResolver(zone))


def test_findings_through_the_engine():
    zone = dict(ZONE)
    zone.pop("10.2.0.192.in-addr.arpa")
    r = _analyze(zone)
    codes = {f.code: f for f in r.findings}
    assert "INFRA_NO_PTR" in codes and codes["INFRA_NO_PTR"].facts["ip"] == "192.0.2.10"
    assert "INFRA_DOMAIN_NXDOMAIN" in codes and codes["INFRA_DOMAIN_NXDOMAIN"].facts["domain"] == "gone.example"
    op = [f for f in r.findings if f.code == "INFRA_DNS_OPERATOR" and f.facts["domain"] == "example.com"]
    assert op and op[0].title == "The DNS of example.com is served by example.net's name servers"
    assert op[0].evidence[0].ref == "NS example.com" and "ns1.dns.example.net" in op[0].evidence[0].value
    assert "INFRA_NO_MX" in codes  # example.com has an A record but no MX
    assert "INFRA_NETWORK_OWNER" in codes and codes["INFRA_NETWORK_OWNER"].facts["asn"] == 64500
    assert "INFRA_SPF_PROVIDERS" in codes
    r2 = _analyze(dict(ZONE, **{"mta1.example.net": {"A": ["192.0.2.10"]}, "example.com": dict(ZONE["example.com"], MX=["10 mx.example.com"])}))
    codes2 = {f.code for f in r2.findings}
    assert "INFRA_FCRDNS_MISMATCH" not in codes2 and "INFRA_NO_PTR" not in codes2 and "INFRA_NO_MX" not in codes2
    assert "INFRA_NO_PTR" in codes


def test_offline_skips_dns_but_platform_still_runs():
    r = analyze(MSG, config=Config(dns_mode="off"))
    assert "infra.dns" not in r.sections and "infra.platform" in r.sections
    assert any(s.check == "infra.dns" for s in r.verdict.skipped)


def test_dns_failure_is_a_value():
    class Broken:
        mode = "live"

        def query(self, name: str, rdtype: str) -> Answer:
            return Answer(name=name, rdtype=rdtype, status=Status.SERVFAIL)

    r = analyze(MSG, config=Config(dns_mode="live", limits=Limits(dns_budget_seconds=2)), resolver=Broken())
    art = r.sections["infra.dns"]
    assert art.domain("example.com").exists is None
    assert any("failed temporarily" in s.reason for s in r.verdict.skipped)
