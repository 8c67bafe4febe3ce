"""Unit tests of our SPF check_host(): results, trace, limits, macros, honest gaps."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth import macro
from mailsleuth.auth.spf import SpfLimits, SpfResult, check_host, parse_record, valid_domain
from mailsleuth.dns.base import Answer, Status, answer
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.model.auth import AuthResultValue as R

ZONE: dict[str, Any] = {
    "example.com": {"TXT": ["v=spf1 ip4:192.0.2.0/24 include:_spf.example.net mx -all exp=why.example.com"],
                    "MX": ["10 mx.example.com"]},
    "mx.example.com": {"A": ["198.51.100.7"], "AAAA": ["2001:db8::7"]},
    "_spf.example.net": {"TXT": ["v=spf1 ip6:2001:db8:1::/48 ~all"]},
    "why.example.com": {"TXT": ["%{i} is not allowed to send for %{d} (sender %{s})"]},
    "redir.example.org": {"TXT": ["v=spf1 redirect=example.com"]},
    "open.example.org": {"TXT": ["v=spf1 +all"]},
    "two.example.org": {"TXT": ["v=spf1 -all", "v=spf1 +all"]},
    "other.example.org": {"TXT": ["google-site-verification=abc"]},
    "slow.example.org": {"TXT": ["v=spf1 a:gone.example.org -all"]},
    "gone.example.org": "TIMEOUT",
}


def run(ip: str, domain: str, sender: str = "", helo: str = "mail.example.com", **kw: Any) -> SpfResult:
    return check_host(ip, domain, sender or f"user@{domain}", helo, MemoryResolver(ZONE), now=1_700_000_000, **kw)


def test_ip4_pass_trace_and_counts() -> None:
    r = run("192.0.2.55", "example.com")
    assert r.result is R.PASS and r.mechanism == "ip4:192.0.2.0/24" and r.matched_domain == "example.com"
    assert r.lookups == 0 and r.void_lookups == 0
    assert r.steps[0].term == "record" and r.steps[0].outcome == "found"
    assert r.steps[0].dns == ('TXT example.com -> NOERROR ' + ZONE["example.com"]["TXT"][0],)
    assert r.steps[1].term == "ip4:192.0.2.0/24" and r.steps[1].outcome == "match"
    assert r.trace[1].what == "example.com: ip4:192.0.2.0/24"


def test_include_then_mx_then_fail_with_explanation() -> None:
    r = run("203.0.113.9", "example.com", "bob@example.com")
    assert r.result is R.FAIL and r.mechanism == "-all"
    assert r.explanation == "203.0.113.9 is not allowed to send for example.com (sender bob@example.com)"
    assert r.lookups == 2  # include + mx
    terms = [(s.depth, s.term, s.outcome) for s in r.steps]
    assert (1, "ip6:2001:db8:1::/48", "no match") in terms
    assert (0, "include:_spf.example.net", "no match") in terms
    assert (0, "mx", "no match") in terms
    assert any("A mx.example.com -> NOERROR 198.51.100.7" in d for s in r.steps for d in s.dns)


def test_include_pass_is_a_match_and_ipv4_mapped_is_ipv4() -> None:
    assert run("2001:db8:1::5", "example.com").mechanism == "include:_spf.example.net"
    r = run("::ffff:198.51.100.7", "example.com")
    assert r.result is R.PASS and r.mechanism == "mx"


def test_redirect_uses_target_and_counts() -> None:
    r = run("192.0.2.1", "redir.example.org")
    assert r.result is R.PASS and r.matched_domain == "example.com" and r.lookups == 1


def test_record_selection() -> None:
    assert run("192.0.2.1", "two.example.org").result is R.PERMERROR
    assert run("192.0.2.1", "other.example.org").result is R.NONE
    assert run("192.0.2.1", "nxdomain.example.org").result is R.NONE


def test_temperror_from_timeout() -> None:
    r = run("192.0.2.1", "slow.example.org")
    assert r.result is R.TEMPERROR and r.complete and "TIMEOUT" in r.cause


class _Unknown:
    """A snapshot that knows nothing: every answer is UNKNOWN."""

    mode = "snapshot"

    def query(self, name: str, rdtype: str) -> Answer:
        return answer(name, rdtype, Status.UNKNOWN)


def test_unknown_is_incomplete_not_nxdomain() -> None:
    r = check_host("192.0.2.1", "example.com", "a@example.com", "h.example.com", _Unknown())
    assert r.result is R.TEMPERROR and not r.complete
    assert "not in the DNS snapshot" in r.cause
    assert [(s.term, s.outcome) for s in r.steps] == [("record", "temperror")]
    assert r.steps[0].dns == ("TXT example.com -> UNKNOWN",)


def test_lookup_limit() -> None:
    zone: dict[str, Any] = {"example.com": {"TXT": ["v=spf1 " + " ".join(f"a:h{i}.example.com" for i in range(11)) + " -all"]}}
    zone.update({f"h{i}.example.com": {"A": ["198.51.100.1"]} for i in range(11)})
    r = check_host("192.0.2.1", "example.com", "a@example.com", "", MemoryResolver(zone))
    assert r.result is R.PERMERROR and r.lookups == 11 and "lookup limit" in r.cause
    assert r.steps[-1].outcome == "permerror" and "exceeds the limit of 10" in r.steps[-1].detail
    ok = check_host("192.0.2.1", "example.com", "a@example.com", "", MemoryResolver(zone), limits=SpfLimits(dns_mechanisms=20))
    assert ok.result is R.FAIL


def test_void_limit() -> None:
    zone: dict[str, Any] = {"example.com": {"TXT": ["v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com -all"]}}
    r = check_host("192.0.2.1", "example.com", "a@example.com", "", MemoryResolver(zone))
    assert r.result is R.PERMERROR and r.void_lookups == 3 and "void" in r.cause


def test_empty_sender_uses_postmaster_at_helo() -> None:
    r = check_host("192.0.2.1", "example.com", "", "example.com", MemoryResolver(ZONE))
    assert r.sender == "postmaster@example.com" and r.result is R.PASS


@pytest.mark.parametrize("record", ["v=spf1 ip4:192.0.2.0/33 -all", "v=spf1 foo:bar -all", "v=spf1 a:%{z}.x.com",
                                    "v=spf1 redirect=a.com redirect=b.com", "v=spf1 include -all"])
def test_syntax_errors_are_permerror(record: str) -> None:
    r = check_host("192.0.2.1", "example.com", "a@example.com", "", MemoryResolver({"example.com": {"TXT": [record]}}))
    assert r.result is R.PERMERROR and any(s.term == "syntax" for s in r.steps)


def test_macro_expansion() -> None:
    ctx = macro.MacroContext(sender="strong-bad@email.example.com", local="strong-bad",
                             sender_domain="email.example.com", domain="email.example.com",
                             ip=ipaddress.ip_address("192.0.2.3"), helo="mx.example.org")
    ex = lambda s: macro.expand(macro.parse(s), ctx)  # noqa: E731
    assert ex("%{s}") == "strong-bad@email.example.com"
    assert ex("%{d4}") == "email.example.com"
    assert ex("%{d2}") == "example.com"
    assert ex("%{dr}") == "com.example.email"
    assert ex("%{d2r}") == "example.email"
    assert ex("%{l-}") == "strong.bad"
    assert ex("%{lr-}") == "bad.strong"
    assert ex("%{l1r-}") == "strong"
    assert ex("%{ir}.%{v}._spf.%{d2}") == "3.2.0.192.in-addr._spf.example.com"
    assert ex("%{S}") == "strong-bad%40email.example.com"
    assert ex("%%%_%-") == "% %20"
    v6 = macro.MacroContext(sender="a@b.c", local="a", sender_domain="b.c", domain="b.c",
                            ip=ipaddress.ip_address("2001:db8::cb01"), helo="h")
    assert macro.expand(macro.parse("%{ir}.%{v}"), v6) == "1.0.b.c." + "0." * 20 + "8.b.d.0.1.0.0.2.ip6"
    for bad in ("%{x}", "%{d0}", "%", "%a", "%{c}"):
        with pytest.raises(macro.MacroError):
            macro.parse(bad)
    assert macro.parse("%{c}", exp=True)


def test_valid_domain() -> None:
    assert valid_domain("example.com") is None
    assert valid_domain("a..example.com") == "empty label"
    assert valid_domain("x" * 64 + ".com") == "label longer than 63 characters"
    assert valid_domain("localhost") == "not a multi-label domain name"


def test_parse_record_terms() -> None:
    rec = parse_record("v=spf1 a/24//64 mx:mx.example.com/28 ?ip6:2001:db8::/32 exp=e.%{d} -all")
    assert [(t.qualifier, t.name) for t in rec.mechanisms] == [("+", "a"), ("+", "mx"), ("?", "ip6"), ("-", "all")]
    assert rec.mechanisms[0].cidr4 == 24 and rec.mechanisms[0].cidr6 == 64 and rec.mechanisms[1].cidr4 == 28
    assert rec.exp is not None and rec.redirect is None


def test_hostile_inputs_never_raise() -> None:
    huge = "v=spf1 " + "a " * 5000
    r = check_host("192.0.2.1", "example.com", "a@example.com", "", MemoryResolver({"example.com": {"TXT": [huge]}}))
    assert r.result is R.PERMERROR
    assert check_host("not-an-ip", "example.com", "a@example.com", "", MemoryResolver({})).result is R.PERMERROR
    assert check_host("", "example.com", "", "", MemoryResolver({})).complete is False
    loop = {"a.example.com": {"TXT": ["v=spf1 include:b.example.com -all"]},
            "b.example.com": {"TXT": ["v=spf1 include:a.example.com -all"]}}
    assert check_host("192.0.2.1", "a.example.com", "x@a.example.com", "", MemoryResolver(loop)).result is R.PERMERROR
    assert check_host("192.0.2.1", "exämple.com", "x@exämple.com", "", MemoryResolver({})).result is R.NONE


_SPF_ALPHABET = st.sampled_from(list("v=spf1 %{}.-+~?:/ailmxptr46ed0123456789_SLODIPHVcrt\x00\t\xe9"))


@settings(max_examples=300, deadline=None)
@given(st.text(_SPF_ALPHABET, max_size=120), st.text(_SPF_ALPHABET, max_size=40))
def test_any_record_or_sender_never_raises(body: str, local: str) -> None:
    zone: dict[str, Any] = {"example.com": {"TXT": ["v=spf1 " + body]}, "x.example.com": {"A": ["192.0.2.1"]}}
    r = check_host("192.0.2.1", "example.com", f"{local}@example.com", "h.example.com", MemoryResolver(zone))
    assert r.result in set(R) and r.lookups <= 11


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_dmarc_text_never_raises(text: str) -> None:
    from mailsleuth.auth.dmarc import parse_record as parse_dmarc

    rec = parse_dmarc("example.com", "v=DMARC1; " + text)
    assert rec is not None and rec.adkim in ("r", "s") and rec.psd in ("y", "n", "u")
