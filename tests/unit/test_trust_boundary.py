"""ChainAnalysis.is_trusted_header and the boundary fields other checks rely on."""

from __future__ import annotations

from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import REGISTRY, Context, load_checks, run_checks
from mailsleuth.model.chain import ChainAnalysis
from mailsleuth.parse.message import parse_message

MSG = b"""Authentication-Results: mx.example.com; dkim=pass header.d=example.org
Authentication-Results: relay.example.com; spf=pass smtp.mailfrom=example.org
Authentication-Results: evil.example.net; dkim=pass header.d=example.org
Received: from relay.example.com (relay.example.com [10.0.0.2]) by mx.example.com (Postfix) with ESMTP id A;
 Mon, 01 Jan 2024 10:00:05 +0000
Received: from out.example.org (out.example.org [192.0.2.7]) by relay.example.com (Postfix) with ESMTPS id B;
 Mon, 01 Jan 2024 10:00:03 +0000
Authentication-Results: mx.example.com; dkim=pass header.d=example.org
Date: Mon, 01 Jan 2024 10:00:00 +0000
From: a@example.org

x
"""


def chain_for(raw: bytes, **cfg) -> ChainAnalysis:
    load_checks()
    ctx = Context(parse_message(raw), Config(dns_mode="off", **cfg), CachingResolver(OfflineResolver()))
    return run_checks(ctx, {"received.chain": REGISTRY["received.chain"]}).artifacts["received.chain"]


def test_boundary_fields():
    c = chain_for(MSG)
    assert c.boundary.number == 1 and c.client_ip == "192.0.2.7" and c.client_helo == "out.example.org"
    assert c.client_rdns == "out.example.org" and c.boundary_header_index == 4
    assert c.delivered_at.isoformat() == "2024-01-01T10:00:03+00:00"
    assert c.recipient_org == "example.com" and c.trusted_orgs == ("example.com",)
    assert {"mx.example.com", "relay.example.com"} <= set(c.trusted_authserv_ids)
    assert c.boundary_hop is c.boundary.hop and c.hop_at(3).number == 2


def test_is_trusted_header_rules():
    c = chain_for(MSG)
    assert c.is_trusted_header(0, "mx.example.com")
    assert c.is_trusted_header(1, "relay.example.com")
    assert c.is_trusted_header(1, "other.example.com")  # the organisation of a trusted by-host
    assert not c.is_trusted_header(2, "evil.example.net")  # trusted place, foreign id
    assert c.is_trusted_header(2, None) and c.is_trusted_header(2, "")  # no id: the trusted hop's
    assert not c.is_trusted_header(5, "mx.example.com")  # below the boundary: a claim
    assert not c.is_trusted_header(5, None) and not c.is_trusted_header(-1, None)
    assert c.authserv_trusted("MX.EXAMPLE.COM.") and not c.authserv_trusted("example.net")


def test_configured_id_trusts_the_boundary_block_only():
    c = chain_for(MSG, trusted_authserv_ids=("mx.example.com",))
    assert c.is_trusted_header(5, "mx.example.com")  # just below the boundary Received
    assert not c.is_trusted_header(5, "relay.example.com")
    assert "mx.example.com" in c.trusted_authserv_ids


def test_unparseable_top_stops_the_walk():
    raw = b"Received: garbage without structure\nReceived: from a.example.org (a.example.org [192.0.2.1]) by mx.example.com with ESMTP id Z; Mon, 01 Jan 2024 10:00:00 +0000\nFrom: a@example.org\n\nx\n"
    c = chain_for(raw)
    assert c.boundary.number == 2 and c.client_ip is None and "could not be read" in c.method
