"""Infrastructure checks end to end against a real authoritative DNS server (Knot) and the local
RDAP server, both on loopback: PTR/FCrDNS, NS operator, SPF includes, origin AS, registration,
platform from the sender domain's name servers, ownership and abuse contacts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.live import LiveResolver
from mailsleuth.http import HttpxClient
from tests.support.knot import KnotServer, available
from tests.support.rdap_server import RdapServer, domain_object, ip_object

pytestmark = [pytest.mark.live, pytest.mark.skipif(not available(), reason="knotd not installed")]

ZONES = {
    "example.com": "\n".join([
        "@ IN NS ns1.mail-platform.example.net.",
        "@ IN NS ns2.mail-platform.example.net.",
        "@ IN MX 10 mx.example.com.",
        '@ IN TXT "v=spf1 include:_spf.example.net -all"',
        "mx IN A 192.0.2.25",
        "bounce IN MX 10 mx.example.com.",
    ]),
    "example.net": "\n".join([
        "mta7 IN A 192.0.2.10",
        '_spf IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
        "ns1.mail-platform IN A 192.0.2.53",
    ]),
    "2.0.192.in-addr.arpa": "10 IN PTR mta7.example.net.",
    "asn.cymru.com": "\n".join([
        '10.2.0.192.origin IN TXT "64500 | 192.0.2.0/24 | ZZ | test | 2020-01-01"',
        'AS64500 IN TXT "64500 | ZZ | test | 2020-01-01 | EXAMPLE-MAIL Example Mail Services"',
    ]),
}

MSG = b"""Return-Path: <bounce-1@bounce.example.com>
Received: from mta7.example.net (mta7.example.net [192.0.2.10])
\tby mx.example.org (Postfix) with ESMTPS id 4ABC
\tfor <user@example.org>; Mon, 04 Mar 2024 10:00:02 +0000 (UTC)
DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; h=from; bh=AAAA; b=BBBB
From: "Example" <news@example.com>
To: <user@example.org>
Subject: live
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <abc@mta7.example.net>
"""


@pytest.fixture(scope="module")
def knot():
    with KnotServer(ZONES) as srv:
        yield srv


def test_enrichment_against_knot(knot):
    r = analyze(MSG, config=Config(dns_mode="live"), resolver=LiveResolver([f"127.0.0.1@{knot.port}"], timeout=2))
    art = r.sections["infra.dns"]
    ip = art.ip("192.0.2.10")
    assert ip.ptr == ("mta7.example.net",) and ip.fcrdns is True
    assert ip.network.asn == 64500 and ip.network.owner == "EXAMPLE-MAIL Example Mail Services"
    d = art.domain("example.com")
    assert d.ns == ("ns1.mail-platform.example.net", "ns2.mail-platform.example.net")
    assert d.ns_operators == ("example.net",) and d.spf.includes == ("_spf.example.net",)
    assert d.mx == ("10 mx.example.com.",) or d.mx == ("10 mx.example.com",)
    rp = art.domain("bounce.example.com")
    assert rp.ns_zone == "example.com"  # NS found at the parent zone
    codes = {f.code for f in r.findings}
    assert {"INFRA_DNS_OPERATOR", "INFRA_NETWORK_OWNER", "INFRA_SPF_PROVIDERS"} <= codes
    assert "INFRA_NO_PTR" not in codes and "INFRA_FCRDNS_MISMATCH" not in codes
    # every answer a finding rests on is in the report's DNS evidence
    logged = {(a.rdtype, a.name) for a in r.dns}
    assert ("NS", "example.com") in logged and ("PTR", "10.2.0.192.in-addr.arpa") in logged
    own = r.sections["infra.ownership"]
    assert own.dns_operator == "example.net" and own.network_owner == "EXAMPLE-MAIL Example Mail Services"


def test_rdap_and_abuse_with_knot(knot, tmp_path):
    domains = {"example.com": domain_object("example.com", created="2024-03-01T00:00:00Z",
                                            registrant_org="Example Shop Ltd")}
    with RdapServer(domains=domains, ips={"192.0.2.0/24": ip_object("192.0.2.0/24")}) as rdap:
        http = HttpxClient(timeout=3)
        cfg = Config(dns_mode="live", rdap=True, rdap_bootstrap_url=rdap.base_url, rdap_cache_dir=str(tmp_path))
        r = analyze(MSG, config=cfg, resolver=LiveResolver([f"127.0.0.1@{knot.port}"], timeout=2), http=http,
                    clock=lambda: datetime(2024, 3, 5, tzinfo=UTC))
        http.close()
    young = [f for f in r.findings if f.code == "INFRA_DOMAIN_NEWLY_REGISTERED"]
    assert young and young[0].facts["domain"] == "example.com" and young[0].facts["days"] == 3
    own = r.sections["infra.ownership"]
    assert own.registrant == "Example Shop Ltd"
    parties = {c.party: c.contact for c in r.sections["infra.abuse"].contacts}
    assert parties["network"] == "abuse@hosting.example" and parties["registrar"] == "abuse@registrar.example"


def test_lookups_overlap_against_a_slow_server():
    """Not a timing test: the slow server records how many queries it was answering at once."""
    from mailsleuth.dns.cache import CachingResolver
    from mailsleuth.infra.enrich import enrich
    from mailsleuth.infra.standalone import _BareContext
    from mailsleuth.infra.view import build_view
    from mailsleuth.parse.message import parse_message
    from tests.support.slow_dns import SlowDns

    zone = {"example.com": {"NS": ["ns1.example.net."], "TXT": ["v=spf1 include:_spf.example.net -all"]},
            "_spf.example.net": {"TXT": ["v=spf1 -all"]},
            "10.2.0.192.in-addr.arpa": {"PTR": ["mta7.example.net."]},
            "mta7.example.net": {"A": ["192.0.2.10"]}}
    view = build_view(_BareContext(parse_message(MSG)))
    with SlowDns(zone, delay=0.05) as srv:
        res = CachingResolver(LiveResolver([f"127.0.0.1@{srv.port}"], timeout=2))
        art, _notes = enrich(view, res, budget_s=8)
    assert srv.max_parallel >= 8
    assert art.waves <= 4 and srv.queries == res.sent
    assert art.ip("192.0.2.10").fcrdns is True and art.domain("example.com").spf.includes == ("_spf.example.net",)
