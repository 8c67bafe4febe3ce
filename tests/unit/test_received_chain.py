"""The received.chain check: hop table, delays, findings, limits, renderer, and the knowledge data
it reads (relay families and dynamic-rDNS patterns, each with the examples their files carry)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from mailsleuth.checks.received import (
    HostPatterns,
    _embeds_ip,
    _stamp,
    dynamic_match,
    dynamic_patterns,
    family_of,
    relay_families,
)
from mailsleuth.config import Config, Limits
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import REGISTRY, Context, load_checks, run_checks
from mailsleuth.model.chain import ChainAnalysis, host_matches
from mailsleuth.parse.message import parse_message
from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.sections.received import render_chain

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run(text: str, config: Config | None = None) -> tuple[ChainAnalysis, dict[str, list]]:
    load_checks()
    msg = parse_message(text.encode())
    ctx = Context(msg, config or Config(dns_mode="off"), CachingResolver(OfflineResolver()), clock=lambda: NOW)
    res = run_checks(ctx, {"received.chain": REGISTRY["received.chain"]})
    by_code: dict[str, list] = {}
    for f in res.findings:
        by_code.setdefault(f.code, []).append(f)
    return res.artifacts["received.chain"], by_code


def msg(*received: str, date: str | None = "Mon, 01 Jan 2024 10:00:00 +0000", extra: str = "") -> str:
    head = "".join(f"Received: {r}\n" for r in received)
    if date:
        head += f"Date: {date}\n"
    return head + extra + "From: a@example.org\nTo: b@example.com\nSubject: t\n\nbody\n"


TOP = ("from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.com (Postfix) with ESMTPS id AAA "
       "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256) for <b@example.com>; Mon, 01 Jan 2024 10:00:05 +0000")
ORIGIN = "from [10.0.0.5] (unknown [10.0.0.5]) by mail.example.org (Postfix) with ESMTPSA id BBB; Mon, 01 Jan 2024 10:00:01 +0000"


def test_hop_table_origin_first_with_delays_and_transit():
    chain, f = run(msg(TOP, ORIGIN))
    assert [v.number for v in chain.hops] == [1, 2]
    assert [v.hop.by_host for v in chain.hops] == ["mail.example.org", "mx.example.com"]
    assert chain.hops[0].delay_s is None and chain.hops[1].delay_s == 4.0
    assert chain.total_transit_s == 4.0
    assert chain.received_count == 2 and chain.omitted == 0
    assert chain.hops[1].header_position == 0 and chain.hops[0].header_position == 1
    assert "RCVD_BOUNDARY" in f and "RCVD_COHERENT_TLS" in f
    assert f["RCVD_DATE_SKEW"][0].facts["seconds"] == -1  # Date 1 s before the first hop
    assert "RCVD_PRIVATE_IP" not in f  # the sender's own LAN at submission is normal


def test_no_received_headers():
    chain, f = run("From: a@example.org\nSubject: x\n\nbody\n")
    assert "RCVD_NONE" in f and chain.boundary is None and not chain.is_trusted_header(0, None)


def test_time_reversed_and_slow_hop():
    back = TOP.replace("10:00:05", "09:40:00")
    _, f = run(msg(back, ORIGIN))
    assert f["RCVD_TIME_REVERSED"][0].facts["hop"] == 2
    small = TOP.replace("10:00:05", "09:59:30")  # 31 s back: ordinary clock drift
    _, f2 = run(msg(small, ORIGIN))
    assert "RCVD_TIME_REVERSED" not in f2
    slow = TOP.replace("10:00:05", "13:00:05")
    _, f3 = run(msg(slow, ORIGIN))
    assert f3["RCVD_SLOW_HOP"][0].facts["seconds"] == 3 * 3600 + 4


def test_date_skew_large_and_after_delivery():
    _, f = run(msg(TOP, ORIGIN, date="Mon, 01 Jan 2024 05:00:00 +0000"))
    assert "RCVD_DATE_SKEW_LARGE" in f and "RCVD_DATE_SKEW" not in f
    assert f["RCVD_DATE_SKEW_LARGE"][0].facts["direction"] == "before"
    _, f2 = run(msg(TOP, ORIGIN, date="Mon, 01 Jan 2024 12:00:00 +0000"))
    assert "RCVD_DATE_AFTER_DELIVERY" in f2
    _, f3 = run(msg(TOP, ORIGIN, date=None))
    assert not {"RCVD_DATE_SKEW", "RCVD_DATE_SKEW_LARGE"} & set(f3)


def test_no_timestamp_unparseable_and_future():
    no_ts = "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.com (Postfix) with ESMTP id C;"
    _, f = run(msg(no_ts, ORIGIN))
    assert f["RCVD_NO_TIMESTAMP"][0].facts["hop"] == 2
    _, f2 = run(msg(TOP, "complete nonsense here", ORIGIN))
    assert f2["RCVD_UNPARSEABLE"][0].facts["hop"] == 2
    fut = TOP.replace("2024", "2031")
    _, f3 = run(msg(fut, ORIGIN))
    assert "RCVD_FUTURE_TIMESTAMP" in f3


def test_private_ip_between_organisations():
    mid = ("from relay.example.net (relay.example.net [10.1.2.3]) by mail.example.org (Postfix) with ESMTP id D; "
           "Mon, 01 Jan 2024 10:00:02 +0000")
    first = "from [192.0.2.50] by relay.example.net with ESMTPA id E; Mon, 01 Jan 2024 10:00:01 +0000"
    _, f = run(msg(TOP, mid, first))
    assert f["RCVD_PRIVATE_IP"][0].facts["ip"] == "10.1.2.3"
    same_org = mid.replace("relay.example.net", "relay.example.org")
    _, f2 = run(msg(TOP, same_org, first.replace("example.net", "example.org")))
    assert "RCVD_PRIVATE_IP" not in f2


def test_helo_ip_mismatch_and_claims_recipient_and_may_be_forged():
    lit = ("from [198.51.100.9] (host.example.net [192.0.2.77]) by mx.example.com (Postfix) with ESMTP id F; "
           "Mon, 01 Jan 2024 10:00:05 +0000")
    _, f = run(msg(lit))
    assert f["RCVD_HELO_IP_MISMATCH"][0].facts == {"hop": 1, "helo": "198.51.100.9", "ip": "192.0.2.77"}
    nat = lit.replace("[198.51.100.9] (", "[10.0.0.9] (")  # a NATed host naming its private address
    _, f_nat = run(msg(nat))
    assert "RCVD_HELO_IP_MISMATCH" not in f_nat
    claim = ("from mail.example.com (203-0-113-4.dsl.example.net [203.0.113.4] (may be forged)) by mx.example.com "
             "(8.18.1/8.18.1) with ESMTP id G; Mon, 01 Jan 2024 10:00:05 +0000")
    _, f2 = run(msg(claim))
    assert f2["RCVD_HELO_CLAIMS_RECIPIENT"][0].facts["org"] == "example.com"
    assert "RCVD_RDNS_MAY_BE_FORGED" in f2
    assert f2["RCVD_DIRECT_DYNAMIC"][0].facts["rdns"] == "203-0-113-4.dsl.example.net"
    _, f3 = run(msg(claim.replace("mail.example.com", "mail.example.net")))
    assert "RCVD_HELO_CLAIMS_RECIPIENT" not in f3


def test_own_domains_config_extends_helo_claim():
    hop = ("from relay.example.net (relay.example.net [192.0.2.77]) by mx.example.org (Postfix) with ESMTP id H; "
           "Mon, 01 Jan 2024 10:00:05 +0000")
    _, f = run(msg(hop), Config(dns_mode="off", own_domains=("example.net",)))
    assert "RCVD_HELO_CLAIMS_RECIPIENT" in f


def test_direct_dynamic_needs_a_single_direct_hop():
    relayed = ("from 203-0-113-4.dsl.example.net (203-0-113-4.dsl.example.net [203.0.113.4]) by mx.example.com "
               "(Postfix) with ESMTP id J; Mon, 01 Jan 2024 10:00:05 +0000")
    below = "by 203-0-113-4.dsl.example.net with SMTP id K; Mon, 01 Jan 2024 10:00:01 +0000"
    _, direct = run(msg(relayed))
    _, via = run(msg(relayed, below))
    assert "RCVD_DIRECT_DYNAMIC" in direct and "RCVD_DIRECT_DYNAMIC" not in via


def test_chain_gap_is_info_and_lenient():
    mid = ("from other.example.net (other.example.net [192.0.2.20]) by mail.example.org (Postfix) with ESMTP id L; "
           "Mon, 01 Jan 2024 10:00:02 +0000")
    first = "by unrelated.example.test with ESMTP id M; Mon, 01 Jan 2024 10:00:01 +0000"
    _, f = run(msg(TOP, mid, first))
    gap = f["RCVD_CHAIN_GAP"][0]
    assert gap.severity.value == "info" and gap.facts["by"] == "unrelated.example.test"
    ok_first = "by other.example.net with ESMTP id N; Mon, 01 Jan 2024 10:00:01 +0000"
    _, f2 = run(msg(TOP, mid, ok_first))
    assert "RCVD_CHAIN_GAP" not in f2


def test_cap_and_ten_thousand_received_lines_are_fast():
    lines = [f"from h{i}.example.net (h{i}.example.net [192.0.2.{i % 250 + 1}]) by h{i + 1}.example.net with ESMTP "
             f"id X{i}; Mon, 01 Jan 2024 10:00:00 +0000" for i in range(10_000)]
    text = msg(*lines)
    t0 = time.perf_counter()
    chain, f = run(text, Config(dns_mode="off", limits=Limits(max_received=200)))
    elapsed = time.perf_counter() - t0
    assert chain.received_count == 10_000 and chain.omitted == 9_800 and len(chain.hops) == 200
    assert chain.hops[-1].number == 10_000 and chain.hops[0].number == 9_801
    assert f["RCVD_EXCESSIVE_HOPS"][0].facts["omitted"] == 9_800
    assert elapsed < 3.0  # about a second on a quiet machine; generous for loaded CI


def test_renderer_shows_table_boundary_and_escapes():
    evil = ("from [b]evil\x1b[31m (x.example.net [192.0.2.66]) by mx.example.com (Postfix) with ESMTP id P; "
            "Mon, 01 Jan 2024 10:00:05 +0000")
    chain, _ = run(msg(evil, ORIGIN))
    buf = io.StringIO()
    render_chain(chain, Console(file=buf, width=160, no_color=True, markup=False, highlight=False))
    out = buf.getvalue()
    assert "[b]evil" in out and "\x1b" not in out and "\\x1b" in out
    assert "boundary" in out and "Total transit: 4s over 2 hops" in out and "How decided" in out
    buf2 = io.StringIO()
    render_chain(to_jsonable(chain), Console(file=buf2, width=160, no_color=True))  # a report read back from JSON
    assert "boundary" in buf2.getvalue()


# --------------------------------------------------------------------------- knowledge data

@pytest.mark.parametrize("family", relay_families(), ids=lambda f: f.id)
def test_relay_family_examples(family):
    assert family.examples["member"], f"{family.id} needs member examples"
    assert family.examples["not_member"], f"{family.id} needs negative examples"
    for name in family.examples["member"]:
        assert family_of(name) is family, name
    for name in family.examples["not_member"]:
        assert family_of(name) is not family, name
    for name in family.examples["inbound"]:
        assert family.is_inbound(name), name
    for name in family.examples["not_inbound"]:
        assert not family.is_inbound(name), name


@pytest.mark.parametrize("pattern", dynamic_patterns(), ids=lambda p: p.id)
def test_dynamic_pattern_examples(pattern):
    assert pattern.positive and pattern.negative
    for name, ip in pattern.positive:
        hit = _embeds_ip(name, ip) if pattern.kind == "embeds_ip" else bool(pattern.regex.search(name))
        assert hit, (name, ip)
    for name, ip in pattern.negative:
        hit = _embeds_ip(name, ip) if pattern.kind == "embeds_ip" else bool(pattern.regex.search(name))
        assert not hit, (name, ip)
    assert dynamic_match(None, "192.0.2.1") is None


def test_host_patterns():
    assert host_matches("a.mail.example.com", "*.example.com") and not host_matches("example.com", "*.example.com")
    assert host_matches("MX.Example.COM.", "mx.example.com") and host_matches("mx07.example.com", "mx*.example.com")
    assert not host_matches(None, "*.example.com") and not host_matches("badexample.com", "*.example.com")


_PATTERNS = ["*.example.com", "mx*.example.net", "MX.Example.ORG.", "*.ex?mple.com", "[ab].example.com",
             "*.example.com[", "*.", "a.example.com", "*"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PATTERNS), max_size=5),
       st.one_of(st.none(), st.sampled_from(["a.example.com", "example.com", "MX7.EXAMPLE.NET.", "mx.example.org",
                                             "b.example.com", "x.exbmple.com", "a.example.com[", "", ".", "."]),
                 st.text(alphabet="abmx.*?[]-EXAMPLE\u0130\u212a", max_size=20)))
def test_host_pattern_set_matches_like_host_matches(patterns, name):
    assert HostPatterns(patterns).match(name) == any(host_matches(name, p) for p in patterns)


def test_hop_time_stamp_written_as_strftime_would():
    for ts in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
               datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1969, 12, 31, 23, 30)):
        assert _stamp(ts) == ts.strftime("%Y-%m-%d %H:%M:%S UTC")
