"""The platform matcher: sides (origin vs relay), thresholds, domain-only evidence, yields_to."""

from __future__ import annotations

import time

from mailsleuth.infra.platforms import Observed, match, parse_platform
from mailsleuth.infra.standalone import platforms_for
from mailsleuth.parse.message import parse_message

ESP = parse_platform('''
id = "esp-a"
name = "ESP A"
kind = "esp"
operator = "A Ltd"
description = "test"
abuse = ["abuse@esp-a.example"]
source = "test"
[[signal]]
kind = "header"
name = "x-espa-id"
weight = 1.0
[[signal]]
kind = "host"
domains = ["esp-a.example"]
weight = 0.6
[[signal]]
kind = "ns"
domains = ["esp-a.example"]
weight = 0.8
[[signal]]
kind = "message_id"
pattern = '@mta\\d+\\.esp-a\\.internal>?$'
weight = 0.4
''', "esp-a.toml")
GW = parse_platform('''
id = "gw"
name = "Gateway"
kind = "gateway"
operator = "G"
description = "test"
source = "test"
[[signal]]
kind = "host"
domains = ["gw.example"]
weight = 1.0
''', "gw.toml")
BIG = parse_platform('''
id = "big"
name = "Big mailbox"
kind = "mailbox"
operator = "B"
description = "test"
source = "test"
yields_to = ["small"]
[[signal]]
kind = "dkim"
domains = ["mail.example"]
weight = 1.0
''', "big.toml")
SMALL = parse_platform('''
id = "small"
name = "Small mailbox"
kind = "mailbox"
operator = "S"
description = "test"
source = "test"
[[signal]]
kind = "dkim"
domains = ["mail.example"]
weight = 1.0
[[signal]]
kind = "return_path"
pattern = '@mail\\.example$'
weight = 0.5
''', "small.toml")
PLATS = (ESP, GW, BIG, SMALL)


def test_header_alone_names_the_origin_and_lists_the_signal():
    r = match(Observed(headers=[("x-espa-id", "42", "X-EspA-Id[0]")]), PLATS)
    assert r.origin == "esp-a" and r.platform == "ESP A"
    m = r.matches[0]
    assert m.role == "origin" and [s.ref for s in m.signals] == ["X-EspA-Id[0]"] and abs(m.confidence - 0.632) < 0.01


def test_weak_signal_alone_names_nothing():
    r = match(Observed(message_id=("<a@mta7.esp-a.internal>", "Message-ID[0]")), PLATS)
    assert r.matches == () and r.origin is None


def test_name_servers_support_but_never_name_alone():
    only_ns = match(Observed(ns=[("ns1.esp-a.example", "NS example.com")]), PLATS)
    assert only_ns.origin is None
    with_mid = match(Observed(ns=[("ns1.esp-a.example", "NS example.com")],
                              message_id=("<a@mta7.esp-a.internal>", "Message-ID[0]")), PLATS)
    assert with_mid.origin is None  # 0.4 of direct evidence is below the 0.5 floor
    with_host = match(Observed(ns=[("ns1.esp-a.example", "NS example.com")],
                               hosts=[("out1.esp-a.example", "origin", "hop 1 helo")]), PLATS)
    assert with_host.origin == "esp-a"
    assert {s.kind for s in with_host.matches[0].signals} == {"ns", "host"}


def test_host_side_decides_role():
    relay = match(Observed(hosts=[("mx1.esp-a.example", "relay", "hop 2 by"), ("x.esp-a.example", "relay", "hop 3 helo"),
                                  ("y.gw.example", "relay", "hop 2 helo")]), PLATS)
    assert relay.origin is None and "gw" in relay.relays
    # the same suffix counts once, however many hosts carry it
    assert all(m.id != "esp-a" for m in relay.matches)


def test_gateway_on_origin_side_is_still_a_relay():
    r = match(Observed(hosts=[("in.gw.example", "origin", "hop 1 helo")]), PLATS)
    assert r.origin is None and r.relays == ("gw",)


def test_yields_to_closer_match():
    r = match(Observed(dkim=[("mail.example", "DKIM-Signature[0]")], return_path=("a@mail.example", "Return-Path[0]")), PLATS)
    assert r.origin == "small" and [m.id for m in r.matches] == ["small"]


def test_fallback_view_tells_sender_side_from_recipient_side():
    from mailsleuth.infra.standalone import _BareContext
    from mailsleuth.infra.view import build_view

    raw = (b"Received: from mx1.example.org (mx1.example.org [192.0.2.9]) by inbox.example.org with LMTP id 1;"
           b" Mon, 1 Jan 2024 00:00:03 +0000\n"
           b"Received: from out1.esp-a.example (out1.esp-a.example [192.0.2.8]) by mx1.example.org with ESMTPS id 2;"
           b" Mon, 1 Jan 2024 00:00:02 +0000\n"
           b"Received: from app (app.esp-a.example [10.0.0.5]) by out1.esp-a.example with ESMTP id 3;"
           b" Mon, 1 Jan 2024 00:00:01 +0000\n"
           b"From: a@example.com\nMessage-ID: <1@example.com>\n")
    view = build_view(_BareContext(parse_message(raw)))
    assert [h.side for h in view.hops] == ["origin", "origin", "recipient"]
    assert view.client is not None and view.client.ip == "192.0.2.8" and view.client.pos == 1
    obs_hosts = {h for h, side, _ in __import__("mailsleuth.infra.platforms", fromlist=["observe"]).observe(
        view, parse_message(raw)).hosts if side == "origin"}
    assert "out1.esp-a.example" in obs_hosts and "mx1.example.org" not in obs_hosts


def test_real_files_on_hostile_input_are_fast():
    huge = "X" * 200_000
    raw = ("Received: from " + "a." * 2000 + "example (x [192.0.2.1]) by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Message-ID: <" + huge + "@" + "b." * 5000 + "example>\nReturn-Path: <" + huge + "@x.example>\n"
           "X-Job: " + huge + "\nFrom: a@example.com\n") * 5
    msg = parse_message(raw.encode())
    t0 = time.perf_counter()
    platforms_for(msg)
    assert time.perf_counter() - t0 < 1.0
