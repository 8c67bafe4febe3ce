"""RDAP: parsing, the on-disk cache and its expiry, redirects, bootstrap, and the check's
newly-registered finding, against a local RDAP server on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.http import HttpResponse, HttpxClient
from mailsleuth.infra.rdap import IANA_DNS, IANA_V4, RdapCache, RdapClient, parse_rdap
from mailsleuth.model.infra import Registrations
from tests.support.rdap_server import RdapServer, domain_object, ip_object

MSG = b"""Return-Path: <bounce@mail.example.net>
Received: from out.example.net (out.example.net [192.0.2.10])
\tby mx.example.org (Postfix) with ESMTPS id 4ABC; Mon, 04 Mar 2024 10:00:02 +0000 (UTC)
From: "Shop" <news@young.example>
To: <user@example.org>
Subject: hello
Date: Mon, 04 Mar 2024 10:00:00 +0000
Message-ID: <abc@out.example.net>
Content-Type: text/html

<a href="https://www.linkdomain.example/x">x</a>
"""


def test_parse_fields_and_redaction():
    rec = parse_rdap(domain_object("example.com", created="2020-01-02T00:00:00Z", expires="2030-01-02T00:00:00Z",
                                   registrant_org="Example Org"), query="example.com", kind="domain")
    assert rec.ok and rec.registrar == "Example Registrar, Inc." and rec.created.startswith("2020-01-02")
    assert rec.abuse_email == "abuse@registrar.example" and rec.abuse_phone == "+1.5555550100"
    assert rec.registrant_org == "Example Org"
    hidden = parse_rdap(domain_object("example.com"), query="example.com", kind="domain")
    assert hidden.registrant_org is None  # "REDACTED FOR PRIVACY" is not an organisation
    net = parse_rdap(ip_object("192.0.2.0/24"), query="192.0.2.10", kind="ip")
    assert net.network_name == "EXAMPLE-NET" and net.abuse_email == "abuse@hosting.example"
    assert parse_rdap({"entities": "junk", "events": [1, {"eventAction": 3}]}, query="x", kind="domain").ok


def test_cache_hit_and_expiry(tmp_path):
    now = [1_000_000.0]
    with RdapServer(domains={"example.com": domain_object("example.com", created="2020-01-02")}) as srv:
        http = HttpxClient(timeout=3)
        mk = lambda: RdapClient(http, base_url=srv.base_url, cache=RdapCache(tmp_path, clock=lambda: now[0]))  # noqa: E731
        first = mk().domain("example.com")
        assert first.ok and not first.from_cache and len(srv.requests) == 1
        second = mk().domain("example.com")
        assert second.ok and second.from_cache and len(srv.requests) == 1
        now[0] += 8 * 86400  # past the expiry
        third = mk().domain("example.com")
        assert third.ok and not third.from_cache and len(srv.requests) == 2
        missing = mk().domain("nothing.example")
        assert not missing.ok and missing.error == "not found"
        mk().domain("nothing.example")
        assert srv.requests.count("/rdap/domain/nothing.example") == 1  # negative answers are cached too
        http.close()


def test_redirect_and_bad_answers(tmp_path):
    with RdapServer(domains={"example.net": domain_object("example.net", created="2019-05-05")},
                    redirect={"alias.example": "/rdap/domain/example.net"},
                    extra={"/rdap/domain/broken.example": (200, b"not json")}) as srv:
        http = HttpxClient(timeout=3)
        c = RdapClient(http, base_url=srv.base_url, cache=RdapCache(tmp_path))
        rec = c.domain("alias.example")
        assert rec.ok and rec.created == "2019-05-05"
        bad = c.domain("broken.example")
        assert not bad.ok and "JSON" in bad.error
        http.close()
    dead = RdapClient(HttpxClient(timeout=0.5), base_url="http://127.0.0.1:9/rdap/")
    assert dead.domain("example.com").error  # connection refused is a value


class FakeIana:
    """An HttpClient that answers the IANA bootstrap files and one registry, from memory."""

    def __init__(self):
        self.urls: list[str] = []

    def request(self, method, url, *, headers=None, timeout=None, max_bytes=1_000_000):
        self.urls.append(url)
        routes = {
            IANA_DNS: {"services": [[["example"], ["https://rdap.registry.example/"]],
                                    [["com", "net"], ["http://rdap.other.example/", "https://rdap.other.example/"]]]},
            IANA_V4: {"services": [[["192.0.2.0/24"], ["https://rdap.rir.example/"]]]},
            "https://rdap.registry.example/domain/shop.example": domain_object("shop.example", created="2024-02-01"),
            "https://rdap.rir.example/ip/192.0.2.10": ip_object("192.0.2.0/24"),
        }
        body = routes.get(url)
        if body is None:
            return HttpResponse(url=url, status=404, body=b"{}")
        return HttpResponse(url=url, status=200, body=json.dumps(body).encode())


def test_iana_bootstrap(tmp_path):
    fake = FakeIana()
    c = RdapClient(fake, cache=RdapCache(tmp_path))
    assert c.domain("shop.example").created == "2024-02-01"
    assert c.ip("192.0.2.10").network_name == "EXAMPLE-NET"
    assert c.domain("x.com").url == "https://rdap.other.example/domain/x.com"  # https preferred
    n = len(fake.urls)
    c2 = RdapClient(fake, cache=RdapCache(tmp_path))
    c2.domain("shop.example")
    assert len(fake.urls) == n  # bootstrap and answer both cached on disk


def test_check_finds_young_identity_domain(tmp_path):
    domains = {"young.example": domain_object("young.example", created="2024-02-27T00:00:00Z"),
               "example.net": domain_object("example.net", created="2001-01-01T00:00:00Z"),
               "linkdomain.example": domain_object("linkdomain.example", created="2024-03-01T00:00:00Z")}
    with RdapServer(domains=domains, ips={"192.0.2.0/24": ip_object("192.0.2.0/24")}) as srv:
        cfg = Config(dns_mode="off", rdap=True, rdap_bootstrap_url=srv.base_url, rdap_cache_dir=str(tmp_path),
                     http_timeout=3)
        http = HttpxClient(timeout=3)
        r = analyze(MSG, config=cfg, resolver=OfflineResolver(), http=http,
                    clock=lambda: datetime(2024, 3, 5, tzinfo=UTC))
        http.close()
    young = [f for f in r.findings if f.code == "INFRA_DOMAIN_NEWLY_REGISTERED"]
    assert [f.facts["domain"] for f in young] == ["young.example"]  # link domains are the links check's
    assert young[0].facts["days"] == 6 and "from" in young[0].facts["role"]
    art = r.sections["infra.rdap"]
    assert isinstance(art, Registrations)
    assert art.domains["linkdomain.example"].age_days is not None
    assert art.domains["mail.example.net"] is art.domains["example.net"]
    contacts = r.sections["infra.abuse"].contacts
    assert {c.party for c in contacts} >= {"network", "registrar"}
    assert any(c.contact == "abuse@hosting.example" for c in contacts)


def test_rdap_is_opt_in():
    r = analyze(MSG, config=Config(dns_mode="off"))
    assert "infra.rdap" not in r.sections
    assert any(s.check == "infra.rdap" and "opt-in" in s.reason for s in r.verdict.skipped)
