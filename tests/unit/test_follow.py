"""Opt-in link following: redirect chains against a local server, and the refusals that keep it
away from private, loopback and metadata addresses at every hop (DNS rebinding included)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import mailsleuth.checks.body  # noqa: F401 - registers the checks
from mailsleuth.body.follow import MAX_HOPS, address_refusal, follow, name_refusal, resolve_vetted
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, Context, run_checks
from mailsleuth.http import HttpResponse, HttpxClient
from mailsleuth.parse.message import parse_message
from tests.support.http_server import LinkServer

NO_DNS = MemoryResolver({})


@pytest.fixture()
def client():
    c = HttpxClient(timeout=3.0)
    yield c
    c.close()


def test_chain_followed_to_its_end_with_every_hop(client):
    routes = {"/start": (302, {"Location": "/mid"}), "/mid": (301, {"Location": "http://127.0.0.1:{port}/end"}),
              "/end": (200, {})}
    with LinkServer(routes) as srv:
        chain = follow(srv.url("/start"), http=client, resolver=NO_DNS, allow_loopback=True)
        assert chain.outcome == "ok"
        assert [h.status for h in chain.hops] == [302, 301, 200]
        assert chain.final == srv.url("/end")
        assert all(h.ip == "127.0.0.1" for h in chain.hops)
        # HEAD only (it worked), and the cookie the server set was never sent back.
        assert [r[0] for r in srv.requests] == ["HEAD", "HEAD", "HEAD"]
        assert all(r[3] == "" for r in srv.requests)


def test_get_only_when_head_is_refused(client):
    with LinkServer({"/h": (200, {})}, head_status={"/h": 405}) as srv:
        chain = follow(srv.url("/h"), http=client, resolver=NO_DNS, allow_loopback=True)
        assert chain.outcome == "ok"
        assert chain.hops[0].method == "GET"
        assert [r[0] for r in srv.requests] == ["HEAD", "GET"]


def test_loop_and_hop_limit(client):
    loop = {"/l1": (302, {"Location": "/l2"}), "/l2": (302, {"Location": "/l1"})}
    many = {f"/r{i}": (302, {"Location": f"/r{i + 1}"}) for i in range(30)}
    with LinkServer({**loop, **many}) as srv:
        assert follow(srv.url("/l1"), http=client, resolver=NO_DNS, allow_loopback=True).outcome == "loop"
        chain = follow(srv.url("/r0"), http=client, resolver=NO_DNS, allow_loopback=True)
        assert chain.outcome == "too-many-hops"
        assert len(chain.hops) == MAX_HOPS


def test_loopback_refused_unless_allowed_and_nothing_is_fetched(client):
    resolver = MemoryResolver({"public.example.com": {"A": ["127.0.0.1"]}})
    with LinkServer({"/": (200, {})}) as srv:
        chain = follow(srv.url("/", host="public.example.com"), http=client, resolver=resolver)
        assert chain.outcome == "refused"
        assert "loopback" in (chain.hops[0].error or "")
        literal = follow(srv.url("/"), http=client, resolver=NO_DNS)
        assert literal.outcome == "refused"
        assert srv.requests == []


def test_pinned_connection_sends_the_name_as_host(client):
    resolver = MemoryResolver({"named.example.com": {"A": ["127.0.0.1"]}})
    with LinkServer({"/p": (200, {})}) as srv:
        chain = follow(srv.url("/p", host="named.example.com"), http=client, resolver=resolver, allow_loopback=True)
        assert chain.outcome == "ok"
        assert srv.requests[0][2] == f"named.example.com:{srv.port}"


@dataclass
class FakeHttp:
    """Answers by the pinned address; records every connection attempt."""

    answers: dict[str, HttpResponse]
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def request_pinned(self, method, url, ip, *, headers=None, timeout=None, max_bytes=65536):
        self.calls.append((method, url, ip))
        return self.answers.get(ip, HttpResponse(url=url, status=0, error="unreachable"))


@pytest.mark.parametrize("target, resolved", [
    ("http://rebind.example.net/secret", "127.0.0.1"),
    ("http://inside.example.net/", "10.1.2.3"),
    ("http://meta.example.net/latest/meta-data/", "169.254.169.254"),
    ("http://169.254.169.254/latest/meta-data/", None),
    ("http://[fd00:ec2::254]/latest/", None),
    ("http://metadata.google.internal/computeMetadata/v1/", None),
])
def test_redirect_from_public_name_to_forbidden_address_is_refused(target, resolved):
    zone = {"start.example.com": {"A": ["203.0.113.10"]}}
    if resolved:
        zone[target.split("/")[2]] = {"A": [resolved]}
    http = FakeHttp({"203.0.113.10": HttpResponse(url="http://start.example.com/", status=302,
                                                   headers={"location": target})})
    chain = follow("http://start.example.com/", http=http, resolver=MemoryResolver(zone))
    assert chain.outcome == "refused"
    assert chain.hops[0].status == 302 and chain.hops[0].ip == "203.0.113.10"
    assert chain.hops[-1].error and chain.hops[-1].error.startswith("refused")
    assert [c[2] for c in http.calls if c[0] == "HEAD"] == ["203.0.113.10"]  # never connected further


def test_name_with_any_forbidden_address_is_refused():
    resolver = MemoryResolver({"mixed.example.com": {"A": ["203.0.113.7", "127.0.0.1"]}})
    ip, why = resolve_vetted("mixed.example.com", resolver, allow_loopback=False)
    assert ip is None and "loopback" in (why or "")
    ip, why = resolve_vetted("plain.example.com", MemoryResolver({"plain.example.com": {"A": ["203.0.113.7"]}}),
                             allow_loopback=False)
    assert ip == "203.0.113.7" and why is None


@pytest.mark.parametrize("ip, refused", [
    ("10.0.0.1", True), ("192.168.1.1", True), ("127.0.0.2", True), ("::1", True), ("169.254.169.254", True),
    ("fd00:ec2::254", True), ("100.100.100.200", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", True),
    ("224.0.0.1", True), ("203.0.113.5", False), ("2001:db8::5", False),
])
def test_address_policy(ip, refused):
    assert (address_refusal(ip) is not None) is refused


def test_internal_names_refused():
    assert name_refusal("metadata.google.internal")
    assert name_refusal("localhost")
    assert name_refusal("intranet")
    assert name_refusal("www.example.com") is None


def test_follow_check_feeds_final_urls():
    with LinkServer({"/go": (302, {"Location": "http://127.0.0.1:{port}/landing"}), "/landing": (200, {})}) as srv:
        raw = (b"From: a@example.com\nTo: b@example.org\nSubject: s\nMIME-Version: 1.0\n"
               b"Content-Type: text/html\n\n<a href=\"" + srv.url("/go").encode() + b"\">open</a>\n")
        msg = parse_message(raw)
        client = HttpxClient(timeout=3.0)
        try:
            ctx = Context(msg, Config(dns_mode="off", follow_links=True, follow_allow_loopback=True),
                          CachingResolver(NO_DNS), http=client)
            res = run_checks(ctx, {k: REGISTRY[k] for k in ("body.links", "body.follow")})
        finally:
            client.close()
        art = res.artifacts["body.follow"]
        assert art.final_urls == {srv.url("/go"): srv.url("/landing")}
        followed = [f for f in res.findings if f.code == "LINK_FOLLOWED"]
        assert followed and len(followed[0].evidence) == 2


def test_follow_check_skipped_when_not_asked():
    msg = parse_message(b"From: a@example.com\nTo: b@example.org\nSubject: s\n\nhttp://www.example.com/\n")
    ctx = Context(msg, Config(dns_mode="off"), CachingResolver(NO_DNS))
    res = run_checks(ctx, {k: REGISTRY[k] for k in ("body.links", "body.follow")})
    assert "body.follow" not in res.ran
    assert any(s.check == "body.follow" and "opt-in" in s.reason for s in res.skipped)


def test_offline_follow_is_incomplete_not_a_finding():
    from mailsleuth.dns.off import OfflineResolver

    msg = parse_message(b"From: a@example.com\nTo: b@example.org\nSubject: s\n\nhttps://www.example.com/x\n")
    client = HttpxClient(timeout=1.0)
    try:
        ctx = Context(msg, Config(dns_mode="off", follow_links=True), CachingResolver(OfflineResolver()), http=client)
        res = run_checks(ctx, {k: REGISTRY[k] for k in ("body.links", "body.follow")})
    finally:
        client.close()
    assert not [f for f in res.findings if f.code.startswith("LINK_FOLLOW")]
    assert any(s.check == "body.follow" and "DNS is off" in s.reason for s in res.skipped)


def test_unresolvable_name_is_an_error_not_a_refusal():
    chain = follow("http://nowhere.example.com/", http=FakeHttp({}), resolver=MemoryResolver({}))
    assert chain.outcome == "error" and "did not resolve" in (chain.hops[0].error or "")
