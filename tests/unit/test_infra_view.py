"""infra.view: host-name validation, the view built once per message, the same hops from the
received.chain artifact as from the raw headers."""

from __future__ import annotations

from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import REGISTRY, Context, load_checks, run_checks
from mailsleuth.infra.standalone import _BareContext
from mailsleuth.infra.view import MessageView, build_view, valid_host, view_for
from mailsleuth.parse.message import parse_message

MSG = b"""Received: from mx.example.org (mx.example.org [192.0.2.20])
\tby inbox.example.org (Postfix) with LMTP id 77AA
\tfor <user@example.org>; Mon, 04 Mar 2024 10:00:03 +0000 (UTC)
Received: from mta1.example.net (mta1.example.net [192.0.2.10])
\tby mx.example.org (Postfix) with ESMTPS id 4ABC
\tfor <user@example.org>; Mon, 04 Mar 2024 10:00:02 +0000 (UTC)
From: "Example" <news@Example.COM>
To: <user@example.org>
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <abc@host.example.local>

hello
"""


def test_valid_host():
    assert valid_host("Mail.Example.COM.") == "mail.example.com"
    assert valid_host("[mail.example.com]") == "mail.example.com"
    for bad in (None, "", "192.0.2.1", "[2001:db8::1]", "localhost", "a b.example.com", "x" * 64 + ".example.com"):
        assert valid_host(bad) is None, bad


def test_valid_host_takes_idns_in_either_form():
    assert valid_host("xn--bcher-kva.example") == "bücher.example"
    assert valid_host("BÜCHER.example") == "bücher.example"
    # Styled letters that IDNA would map to plain ones name another domain: not a host name as written.
    assert valid_host("\U0001d5de\U0001d5f6\U0001d5fb\U0001d5f1.example") is None
    assert valid_host("b\u00fc cher.example") is None


def test_add_domain_skips_local_names_and_keeps_roles_once():
    view = MessageView()
    view.add_domain("Mail.Example.COM", "from")
    view.add_domain("mail.example.com.", "from")
    view.add_domain("mail.example.com", "dkim")
    view.add_domain("printer.office.local", "helo")
    view.add_domain("192.0.2.1", "helo")
    assert view.domains == {"mail.example.com": ["from", "dkim"]}


def _ctx() -> Context:
    load_checks()
    ctx = Context(parse_message(MSG), Config(dns_mode="off"), CachingResolver(OfflineResolver()))
    run_checks(ctx, {"received.chain": REGISTRY["received.chain"]})
    return ctx


def test_view_built_once_per_message():
    ctx = _ctx()
    assert view_for(ctx) is view_for(ctx)
    assert view_for(_ctx()) is not view_for(ctx)


def test_same_hops_from_the_chain_artifact_and_from_the_raw_headers():
    with_chain = build_view(_ctx())
    bare = build_view(_BareContext(parse_message(MSG)))
    assert with_chain.used_artifacts == ["received.chain"] and bare.used_artifacts == []
    assert [(h.pos, h.header_index, h.helo, h.rdns, h.ip, h.by, h.timestamp, h.client, h.side) for h in with_chain.hops] \
        == [(h.pos, h.header_index, h.helo, h.rdns, h.ip, h.by, h.timestamp, h.client, h.side) for h in bare.hops]
    assert with_chain.client is not None and with_chain.client.ip == "192.0.2.10" and with_chain.client.side == "origin"
    assert [h.side for h in with_chain.hops] == ["origin", "recipient"]
    assert with_chain.from_domain == "example.com" and "host.example.local" not in with_chain.domains
