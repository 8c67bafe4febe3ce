"""The live resolver against a real Knot server on loopback: statuses, UDP and TCP."""

from __future__ import annotations

import pytest

from mailsleuth.dns.base import Status
from mailsleuth.dns.live import LiveResolver
from tests.support.knot import KnotServer, available

pytestmark = [pytest.mark.live, pytest.mark.skipif(not available(), reason="knotd not installed")]

BIG = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 200)) + " -all"


def _txt(value: str) -> str:
    chunks = [value[i : i + 250] for i in range(0, len(value), 250)]
    return " ".join(f'"{c}"' for c in chunks)


@pytest.fixture(scope="module")
def server():
    zone = "\n".join([
        "host IN A 192.0.2.10",
        "host IN AAAA 2001:db8::10",
        f"big IN TXT {_txt(BIG)}",
        'small IN TXT "v=spf1 -all"',
        "alias IN CNAME host",
        "sub.empty IN A 192.0.2.11",
    ])
    with KnotServer({"example.test": zone}) as srv:
        yield srv


def test_statuses(server):
    r = LiveResolver([f"127.0.0.1@{server.port}"], timeout=2)
    a = r.query("host.example.test", "A")
    assert a.status is Status.NOERROR and a.records == ("192.0.2.10",)
    assert r.query("host.example.test", "MX").status is Status.NODATA
    assert r.query("nope.example.test", "A").status is Status.NXDOMAIN
    assert r.query("empty.example.test", "A").status is Status.NODATA  # empty non-terminal
    c = r.query("alias.example.test", "A")
    assert c.records == ("192.0.2.10",) and c.canonical_name == "host.example.test"


def test_big_txt_comes_whole_over_tcp(server):
    r = LiveResolver([f"127.0.0.1@{server.port}"], timeout=2)
    a = r.query("big.example.test", "TXT")
    assert a.status is Status.NOERROR
    assert a.records == (BIG,)
    assert a.truncated_fallback_tcp
    small = r.query("small.example.test", "TXT")
    assert small.records == ("v=spf1 -all",) and not small.truncated_fallback_tcp


def test_forced_tcp(server):
    r = LiveResolver([f"127.0.0.1@{server.port}"], timeout=2, tcp=True)
    assert r.query("small.example.test", "TXT").records == ("v=spf1 -all",)


def test_dead_server_is_timeout_not_exception():
    r = LiveResolver(["127.0.0.1@9"], timeout=0.3)
    a = r.query("host.example.test", "A")
    assert a.status in (Status.TIMEOUT, Status.SERVFAIL)
