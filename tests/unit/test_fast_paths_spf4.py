"""Performance pass 4 on SPF and DMARC re-verification: every shortcut against the straightforward
code it stands in for."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth import dmarc as D
from mailsleuth.auth import spf as S
from mailsleuth.checks import auth_dmarc as CD
from mailsleuth.dns.base import Answer, Status
from mailsleuth.model.auth import AuthResultValue, VerifiedResult

labels = st.text(alphabet="abcxyz0-", min_size=1, max_size=6)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
ip4s = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
# Few distinct high bits, so that networks and addresses often meet.
ip6s = st.tuples(st.sampled_from([0x20010DB8, 0xFE800000, 0, 0xFFFF]), st.integers(0, 2**96 - 1)).map(
    lambda t: str(ipaddress.IPv6Address((t[0] << 96) | t[1])))
clients = st.one_of(ip4s, ip6s, st.sampled_from(["::ffff:192.0.2.7", "2001:DB8::A", "fe80::1%eth0", " 192.0.2.9 ",
                                                 "[2001:db8::1]", "192.0.2.300", "", "x"]))


# ---- SPF: ip4/ip6 matches remembered per (network text, IP text) ------------------------------------

def _reference_ip_match(net: ipaddress.IPv4Network | ipaddress.IPv6Network, ip: S.IP) -> tuple[bool, str]:
    """The ip4/ip6 branch of _Evaluator._match_inner before the pass."""
    if net.version != ip.version:
        return False, f"client is IPv{ip.version}"
    inside = ip in net
    return inside, f"{ip} {'is' if inside else 'is not'} in {net}"


@settings(max_examples=300)
@given(st.one_of(ip4s.map(lambda a: f"ip4:{a}"), ip6s.map(lambda a: f"ip6:{a}")), st.integers(0, 128), clients)
def test_ip_term_matches_the_reference(term: str, plen: int, client: str) -> None:
    maxlen = 32 if term.startswith("ip4") else 128
    tok = f"{term}/{plen % (maxlen + 1)}"
    rec = S.parse_record(f"v=spf1 {tok} -all")
    t = rec.mechanisms[0]
    assert t.network is not None and t.network_text == str(t.network)
    ip = S.parse_ip(client)
    if ip is None:
        assert S._client(client) is None
        return
    assert S._client(client) == (ip, str(ip))
    assert S._ip_match(t.network_text, str(ip)) == _reference_ip_match(t.network, ip)


class _Zone:
    """A resolver answering TXT from a dict, NXDOMAIN for anything else."""

    mode = "memory"

    def __init__(self, txt: dict[str, str]):
        self.txt = txt

    def query(self, name: str, rdtype: str) -> Answer:
        if rdtype == "TXT" and name in self.txt:
            return Answer(name=name, rdtype=rdtype, status=Status.NOERROR, records=(self.txt[name],))
        return Answer(name=name, rdtype=rdtype, status=Status.NXDOMAIN)


_TERMS = ["ip4:192.0.2.0/24", "ip4:198.51.100.7", "ip6:2001:db8::/32", "ip6:fe80::1/128", "~all", "-all", "?all",
          "all", "+ip4:0.0.0.0/0", "-ip6:::/0", "include:inc.example", "a:nowhere.example", "exists:%{i}.x.example",
          "redirect=red.example", "exp=exp.example", "bogus:1", "ip4:300.1.1.1"]


@settings(max_examples=200)
@given(st.lists(st.sampled_from(_TERMS), max_size=6), st.lists(st.sampled_from(_TERMS), max_size=4), clients)
def test_check_host_steps_and_trace_match_the_reference(top: list[str], inc: list[str], client: str) -> None:
    zone = _Zone({"example.com": "v=spf1 " + " ".join(top), "inc.example": "v=spf1 " + " ".join(inc),
                  "red.example": "v=spf1 ip4:192.0.2.0/25 -all", "exp.example": "denied for %{i}"})
    r = S.check_host(client, "example.com", "a@example.com", "h.example.com", zone, now=0)
    assert r.trace == tuple([s.as_trace() for s in r.steps])
    ip = S.parse_ip(client)
    for s in r.steps:  # every all/ip4/ip6 line reads as the code before the pass wrote it
        name = s.term.lstrip("+-~?").partition(":")[0]
        if name == "all":
            assert (s.outcome, s.detail, s.dns) == ("match", "'all' always matches", ())
        elif name in ("ip4", "ip6") and s.outcome in ("match", "no match"):
            assert ip is not None
            net = ipaddress.ip_network(s.term.lstrip("+-~?")[4:], strict=False)
            matched, detail = _reference_ip_match(net, ip)
            assert (s.outcome, s.detail, s.dns) == ("match" if matched else "no match", detail, ())


@given(st.integers(0, 12), domains, st.text(max_size=20), st.text(max_size=10), st.text(max_size=40),
       st.lists(st.text(max_size=30), max_size=3).map(tuple))
def test_cached_trace_lines_match_as_trace(depth: int, domain: str, term: str, outcome: str, detail: str,
                                           dns: tuple[str, ...]) -> None:
    step = S.SpfStep(depth=depth, domain=domain, term=term, outcome=outcome, detail=detail, dns=dns)
    assert S._trace_line(depth, domain, term, outcome, detail, dns) == step.as_trace()
    assert S.SpfResult(result=AuthResultValue.NONE, domain="", ip="", sender="", helo="",
                       steps=(step, step)).trace == (step.as_trace(), step.as_trace())


# ---- DMARC: the inputs -------------------------------------------------------------------------------

def _reference_spf_input(art: Any) -> tuple[tuple[str, str] | None, str]:
    """checks.auth_dmarc._spf_input before the pass."""
    if art is None:
        return None, "SPF was not evaluated"
    results = getattr(art, "results", None) or ()
    chosen = None
    for ident in ("mailfrom", "helo"):
        chosen = next((r for r in results if isinstance(r, VerifiedResult) and r.details.get("identity") == ident),
                      None)
        if chosen is not None:
            break
    if chosen is None:
        return None, "SPF was not evaluated (no IP or identity)"
    if not chosen.complete:
        return None, f"SPF incomplete ({chosen.cause})"
    dom = str(chosen.details.get("domain") or "")
    result = str(chosen.result)
    return (result, dom), f"SPF {result} for {dom} ({chosen.details.get('identity')})"


class _Art:
    def __init__(self, results: Any):
        self.results = results


_results = st.lists(st.one_of(
    st.builds(lambda ident, res, dom, complete: VerifiedResult(
        method="spf", result=res, subject="s", cause=f"cause {dom}", complete=complete,
        details={"identity": ident, "domain": dom} if ident else {"domain": dom}),
        st.sampled_from(["mailfrom", "helo", "other", None]), st.sampled_from(list(AuthResultValue)), domains,
        st.booleans()),
    st.just("not a result")), max_size=5)


@given(st.one_of(st.none(), _results.map(_Art), _results.map(tuple).map(_Art), st.just(_Art(None))))
def test_spf_input_matches_the_reference(art: Any) -> None:
    assert CD._spf_input(art) == _reference_spf_input(art)


@given(st.one_of(st.none(), st.tuples(st.sampled_from(["pass", "fail"]), st.sampled_from(["", "A.example.", "b.example"]))),
       st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(["", "a.example", "B.Example.", "."]),
                                               st.sampled_from(["pass", "fail"])), max_size=4)))
def test_alignment_names_are_sorted_once(spf: tuple[str, str] | None, dkim: list[tuple[str, str]] | None) -> None:
    names = []
    if spf is not None and spf[1]:
        names.append(spf[1].lower().rstrip("."))
    names += [d.lower().rstrip(".") for d, _r in dkim or [] if d]
    assert D._Inputs(spf, dkim).names == tuple(sorted(set(names)))


@settings(max_examples=50)
@given(st.sampled_from(["a.example", "sub.a.example", "b.example"]),
       st.sampled_from([("pass", "a.example"), ("fail", "sub.a.example"), ("pass", "b.example")]),
       st.lists(st.tuples(st.sampled_from(["a.example", "x.b.example"]), st.sampled_from(["pass", "fail"])),
                max_size=3))
def test_aligned_pass_read_once_gives_the_same_details(dom: str, spf: tuple[str, str],
                                                       dkim: list[tuple[str, str]]) -> None:
    from mailsleuth.dns.memory import MemoryResolver
    zone = {"_dmarc.a.example": {"TXT": ["v=DMARC1; p=reject"]}, "_dmarc.b.example": {"TXT": ["v=DMARC1; p=none"]}}
    both = D.evaluate_both(dom, spf=spf, dkim=dkim, resolver=MemoryResolver(zone))
    r = both.rfc9989
    vr = CD._verified(r, both, r.aligned_pass)
    assert vr.details["aligned"] == [f"{a.method}:{a.domain}" for a in r.alignments if a.aligned]
