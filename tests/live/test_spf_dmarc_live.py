"""SPF and DMARC against a real Knot server on loopback, through the live resolver (UDP, and TCP for
a TXT answer too big for UDP); then the SPF record is altered and the change is seen and explained."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from mailsleuth.auth.dmarc import evaluate_both
from mailsleuth.auth.spf import check_host
from mailsleuth.config import Config
from mailsleuth.dns.base import Answer
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.live import LiveResolver
from mailsleuth.engine import REGISTRY, Context, run_checks
from mailsleuth.model.auth import AuthResultValue as R
from mailsleuth.parse.message import parse_message
from tests.support.knot import KnotServer, available

pytestmark = [pytest.mark.live, pytest.mark.skipif(not available(), reason="knotd not installed")]

BIG = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(1, 200)) + " -all"


def _txt(value: str) -> str:
    return " ".join(f'"{value[i:i + 250]}"' for i in range(0, len(value), 250))


def zone(sender_spf: str) -> str:
    return "\n".join([
        f"sender IN TXT {_txt(sender_spf)}",
        "sender IN MX 10 mx.sender",
        "sender IN A 192.0.2.1",
        "mx.sender IN A 192.0.2.25",
        f"_spf.provider IN TXT {_txt(BIG)}",
        'fwd.sender IN TXT "v=spf1 a:relay.sender.test -all exp=explain.sender.test"',
        "relay.sender IN A 203.0.113.7",
        'explain.sender IN TXT "%{i} is not a server of %{d}"',
        'news.sender IN A 192.0.2.2',
        '_dmarc.sender IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@sender.test"',
    ])


SPF_V1 = "v=spf1 mx include:_spf.provider.test redirect=fwd.sender.test"
SPF_V2 = "v=spf1 a:relay.sender.test -all"


class Recording:
    """Keeps every live answer, to see which came over TCP."""

    def __init__(self, inner: LiveResolver):
        self.inner, self.mode, self.answers = inner, inner.mode, []  # type: ignore[var-annotated]

    def query(self, name: str, rdtype: str) -> Answer:
        a = self.inner.query(name, rdtype)
        self.answers.append(a)
        return a


@pytest.fixture(scope="module")
def v1() -> Iterator[KnotServer]:
    with KnotServer({"test": zone(SPF_V1)}) as srv:
        yield srv


@pytest.fixture(scope="module")
def v2() -> Iterator[KnotServer]:
    with KnotServer({"test": zone(SPF_V2)}) as srv:
        yield srv


def resolver(srv: KnotServer) -> Recording:
    return Recording(LiveResolver([f"127.0.0.1@{srv.port}"], timeout=2))


def test_mx_match(v1: KnotServer) -> None:
    r = check_host("192.0.2.25", "sender.test", "a@sender.test", "mx.sender.test", resolver(v1))
    assert r.result is R.PASS and r.mechanism == "mx" and r.lookups == 1
    step = next(s for s in r.steps if s.term == "mx")
    assert step.outcome == "match" and "MX sender.test -> NOERROR 10 mx.sender.test" in step.dns[0]


def test_include_of_a_record_too_big_for_udp(v1: KnotServer) -> None:
    res = resolver(v1)
    r = check_host("198.51.100.150", "sender.test", "a@sender.test", "mx.sender.test", res)
    assert r.result is R.PASS and r.mechanism == "include:_spf.provider.test" and r.lookups == 2
    big = next(a for a in res.answers if a.name == "_spf.provider.test")
    assert big.truncated_fallback_tcp and big.records == (BIG,)
    assert any(s.depth == 1 and s.term == "ip4:198.51.100.150" and s.outcome == "match" for s in r.steps)


def test_redirect_and_explanation(v1: KnotServer) -> None:
    r = check_host("203.0.113.7", "sender.test", "a@sender.test", "h.example.com", resolver(v1))
    assert r.result is R.PASS and r.matched_domain == "fwd.sender.test" and r.mechanism == "a:relay.sender.test"
    f = check_host("192.0.2.99", "sender.test", "a@sender.test", "h.example.com", resolver(v1))
    assert f.result is R.FAIL and f.mechanism == "-all" and f.lookups == 4  # mx, include, redirect, a
    assert f.explanation == "192.0.2.99 is not a server of fwd.sender.test"
    assert [s.term for s in f.steps if s.depth == 0] == ["record", "mx", "include:_spf.provider.test",
                                                         "include:_spf.provider.test", "redirect=fwd.sender.test"]


def test_dmarc_live(v1: KnotServer) -> None:
    both = evaluate_both("news.sender.test", spf=("fail", "news.sender.test"), dkim=[], resolver=resolver(v1))
    r = both.rfc9989
    assert r.result is R.FAIL and r.record is not None and r.record.domain == "sender.test"
    assert (r.policy_tag, r.policy, r.requested) == ("sp", "quarantine", "quarantine")
    assert r.org_domain == "sender.test" and both.differences == ()
    ok = evaluate_both("sender.test", spf=("pass", "mx.sender.test"), dkim=[], resolver=resolver(v1))
    assert ok.rfc9989.result is R.PASS and ok.rfc7489.result is R.PASS


RAW = (b"Return-Path: <a@sender.test>\r\n"
       b"Received: from mx.sender.test (mx.sender.test [192.0.2.25]) by mx.example.net (Postfix) with ESMTPS "
       b"id 1 for <u@example.net>; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
       b"From: <a@sender.test>\r\nTo: u@example.net\r\nSubject: t\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nx\r\n")


def _checks(srv: KnotServer) -> Any:
    for mod in ("received", "auth_spf", "auth_dmarc"):  # only the checks under test
        importlib.import_module(f"mailsleuth.checks.{mod}")
    specs = {k: REGISTRY[k] for k in ("received.chain", "auth.verify.spf", "auth.verify.dmarc")}
    ctx = Context(parse_message(RAW), Config(), CachingResolver(LiveResolver([f"127.0.0.1@{srv.port}"], timeout=2)))
    return run_checks(ctx, specs)


def test_altered_spf_record_changes_the_result_and_says_why(v1: KnotServer, v2: KnotServer) -> None:
    before = _checks(v1).artifacts["auth.verify.spf"].identity("mailfrom")
    after = _checks(v2).artifacts["auth.verify.spf"].identity("mailfrom")
    assert before.result is R.PASS and before.details["matched_mechanism"] == "mx"
    assert after.result is R.FAIL and after.details["matched_mechanism"] == "-all"
    assert after.details["record"] == SPF_V2 and after.cause == "'-all' matched"
    assert [(t.what, t.outcome) for t in after.trace[1:]] == [("sender.test: a:relay.sender.test", "no match"),
                                                               ("sender.test: -all", "match")]
    rr = _checks(v2)
    assert {"SPF_FAIL"} <= {f.code for f in rr.findings}
