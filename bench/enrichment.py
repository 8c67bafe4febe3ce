"""Enrichment of one message against a slow loopback DNS server: the lookups overlap.

Starts tests/support/slow_dns.py (every answer after 50 ms, UDP+TCP, one thread per query),
builds the view of a synthetic message that names two hops, four identity domains and SPF
include chains (documentation names only), runs the infra.dns enrichment through the project's
CachingResolver over a LiveResolver pointed at that server, and prints the wall time, the number
of questions asked, the number the server received, the concurrent waves and the highest number
of queries the server was answering at once.

    .venv/bin/python bench/enrichment.py [--delay 0.05] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.slow_dns import SlowDns  # noqa: E402

from mailsleuth.dns.cache import CachingResolver  # noqa: E402
from mailsleuth.dns.live import LiveResolver  # noqa: E402
from mailsleuth.infra.enrich import enrich  # noqa: E402
from mailsleuth.infra.standalone import _BareContext  # noqa: E402
from mailsleuth.infra.view import build_view  # noqa: E402
from mailsleuth.parse.message import parse_message  # noqa: E402

MESSAGE = b"""Return-Path: <bounce-123@bounce.example.net>
Received: from mta1.example.net (mta1.example.net [192.0.2.10])
\tby mx.example.org (Postfix) with ESMTPS id 4ABC
\tfor <user@example.org>; Mon, 04 Mar 2024 10:00:02 +0000 (UTC)
Received: from app7.internal.example.net (app7.internal.example.net [198.51.100.7])
\tby mta1.example.net with ESMTP id 99; Mon, 04 Mar 2024 10:00:01 +0000
DKIM-Signature: v=1; a=rsa-sha256; d=mail.example.com; s=s1; h=from; bh=AAAA; b=BBBB
From: "Example" <news@example.com>
Reply-To: <support@help.example.com>
To: <user@example.org>
Subject: bench
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <abc.123@mta1.example.net>

body
"""


def zone() -> dict[str, dict[str, list[str]]]:
    z: dict[str, dict[str, list[str]]] = {
        "example.com": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"], "NS": ["ns1.dns.example.net.", "ns2.dns.example.net."],
                        "SOA": ["ns1.dns.example.net. hostmaster.example.com. 1 3600 600 86400 300"],
                        "MX": ["10 mx.example.com."],
                        "TXT": ["v=spf1 include:_spf.example.net include:spf.esp.example -all"]},
        "mail.example.com": {"TXT": ["v=spf1 include:_spf.example.net -all"]},
        "help.example.com": {"A": ["192.0.2.5"]},
        "example.net": {"NS": ["ns1.dns.example.net."], "MX": ["5 mx.example.net."]},
        "bounce.example.net": {"MX": ["10 mx.example.net."], "TXT": ["v=spf1 redirect=_spf.example.net"]},
        "mta1.example.net": {"A": ["192.0.2.10"]},
        "app7.internal.example.net": {"A": ["198.51.100.7"]},
        "_spf.example.net": {"TXT": ["v=spf1 ip4:192.0.2.0/24 include:_spf2.example.net -all"]},
        "_spf2.example.net": {"TXT": ["v=spf1 ip4:198.51.100.0/24 include:_spf3.example.net -all"]},
        "_spf3.example.net": {"TXT": ["v=spf1 ip6:2001:db8::/32 -all"]},
        "spf.esp.example": {"TXT": ["v=spf1 include:_netblocks.esp.example -all"]},
        "_netblocks.esp.example": {"TXT": ["v=spf1 ip4:203.0.113.0/24 -all"]},
        "10.2.0.192.in-addr.arpa": {"PTR": ["mta1.example.net."]},
        "7.100.51.198.in-addr.arpa": {"PTR": ["app7.internal.example.net."]},
        "10.2.0.192.origin.asn.cymru.com": {"TXT": ['"64500 | 192.0.2.0/24 | ZZ | test | 2024-01-01"']},
        "7.100.51.198.origin.asn.cymru.com": {"TXT": ['"64501 | 198.51.100.0/24 | ZZ | test | 2024-01-01"']},
        "as64500.asn.cymru.com": {"TXT": ['"64500 | ZZ | test | 2024-01-01 | EXAMPLE-ESP - Example Sending Co, ZZ"']},
        "as64501.asn.cymru.com": {"TXT": ['"64501 | ZZ | test | 2024-01-01 | EXAMPLE-HOST - Example Hosting, ZZ"']},
    }
    return z


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    msg = parse_message(MESSAGE)
    view = build_view(_BareContext(msg))
    with SlowDns(zone(), delay=args.delay) as srv:
        for run in range(1, args.runs + 1):
            srv.queries = 0
            srv.max_parallel = 0
            resolver = CachingResolver(LiveResolver([f"127.0.0.1@{srv.port}"], timeout=2.0), max_queries=400)
            t0 = time.perf_counter()
            art, notes = enrich(view, resolver, budget_s=8.0)
            wall = time.perf_counter() - t0
            serial = srv.queries * args.delay
            print(f"run {run}: wall {wall * 1000:.0f} ms, {art.queries} questions asked, {srv.queries} received by the "
                  f"server, {art.waves} waves, up to {srv.max_parallel} answered at once "
                  f"(one after another they would take >= {serial:.2f} s)")
            for n in notes:
                print("   note:", n)
    client = art.ip("192.0.2.10")
    dom = art.domain("example.com")
    if client is not None and dom is not None:
        print(f"check: 192.0.2.10 PTR {client.ptr} fcrdns={client.fcrdns} AS{client.network.asn} {client.network.owner}; "
              f"example.com NS {dom.ns} SPF includes {list(dom.spf.includes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
