"""Performance pass 3 on SPF, DMARC and ARC re-verification: every shortcut against the
straightforward code it stands in for."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth import dmarc as D
from mailsleuth.auth import spf as S
from mailsleuth.dns.base import Answer, Status
from mailsleuth.model.auth import AuthResultValue, TraceStep

STATUSES = list(Status)
labels = st.text(alphabet="abcxyz0-", min_size=1, max_size=6)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)


# ---- enums: str() and format() give the value, the sets match the properties ----------------------

def test_str_and_format_of_the_enums_are_their_values() -> None:
    for member in [*Status, *AuthResultValue]:
        assert str(member) == member.value
        assert type(str(member)) is str
        assert f"{member}" == member.value
        assert f"x {member}: y" == f"x {member.value}: y"


# ---- SPF: the DNS step ------------------------------------------------------------------------------

class _One:
    """A resolver that gives one fixed answer."""

    mode = "memory"

    def __init__(self, status: Status, records: tuple[str, ...] = ()):
        self.status, self.records = status, records

    def query(self, name: str, rdtype: str) -> Answer:
        return Answer(name=name, rdtype=rdtype, status=self.status, records=self.records)


def _reference_q(ans: Answer, rdtype: str, tolerant: bool) -> tuple[str, str, bool] | None:
    """What _Evaluator._q did before the pass: None (the answer is returned) or the _Stop."""
    if ans.status in (Status.UNKNOWN, Status.OFFLINE):
        if tolerant:
            return None
        why = "not in the DNS snapshot" if ans.status is Status.UNKNOWN else "DNS is offline"
        return "temperror", f"could not evaluate: {rdtype} {ans.name} is {why}", True
    if ans.status.is_temporary and not tolerant:
        return "temperror", f"DNS error: {rdtype} {ans.name} -> {ans.status.value}", False
    return None


def test_spf_dns_step_matches_the_reference_for_every_status() -> None:
    for status in STATUSES:
        for tolerant in (False, True):
            for rdtype in ("TXT", "A", "MX"):
                res = _One(status, ("v=spf1 -all",))
                ev = S._Evaluator(S.parse_ip("192.0.2.1"), "a@example.com", "a", "example.com",  # type: ignore[arg-type]
                                  "mx.example.com", res, S.SpfLimits(), None, "unknown", 0)
                dns: list[str] = []
                expected = _reference_q(res.query("example.com", rdtype), rdtype, tolerant)
                try:
                    got = ev._q("example.com", rdtype, dns, tolerant=tolerant)
                except S._Stop as e:
                    assert expected == (e.result.value, e.cause, e.incomplete)
                else:
                    assert expected is None
                    assert got.status is status
                assert dns == ev.queries == [res.query("example.com", rdtype).summary()]


@settings(max_examples=300)
@given(st.sampled_from(["192.0.2.1", "2001:db8::1", "2001:DB8::A", "::ffff:192.0.2.7", "not-an-ip", "", " 192.0.2.9 "]),
       st.one_of(domains, st.sampled_from(["", "é.example", "example.com.", "a..b", "1.2.3.4", "x" * 70 + ".example"])),
       st.sampled_from([Status.NOERROR, Status.NODATA, Status.UNKNOWN, Status.SERVFAIL]))
def test_check_host_early_paths_and_result_fields(ip: str, domain: str, status: Status) -> None:
    res = _One(status, ("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all",))
    r = S.check_host(ip, domain, "a@example.com", "mx.example.com", res, now=0)
    dom = domain.strip().rstrip(".").lower()
    assert (r.domain, r.ip, r.sender, r.helo, r.limits) == (dom, ip, "a@example.com", "mx.example.com", S.SpfLimits())
    addr = S.parse_ip(ip)
    if addr is None:
        assert r.result is (AuthResultValue.PERMERROR if ip else AuthResultValue.NONE)
        assert r.complete is bool(ip)
    else:
        try:
            dom.encode("ascii")
        except UnicodeEncodeError:
            assert r.cause == "the domain is not an ASCII (A-label) name"
            return
        why = S.valid_domain(dom)
        if why:
            assert r.cause == f"malformed domain ({why})"
            assert [s.detail for s in r.steps] == [f"the domain is malformed: {why}"]
        else:
            assert r.queries  # evaluated
    assert r.trace == tuple(s.as_trace() for s in r.steps)


def test_upper_hex_only_for_ipv6_written_in_upper_case() -> None:
    seen = {}
    for ip in ("192.0.2.1", "2001:DB8::A", "2001:db8::a", "2001:db8::", "::ffff:192.0.2.7", "2001:Db8::A"):
        res = _One(Status.NOERROR, ("v=spf1 exists:%{i}.x.example -all",))
        r = S.check_host(ip, "example.com", "a@example.com", "h.example.com", res, now=0)
        addr = S.parse_ip(ip)
        assert addr is not None
        expected = addr.version == 6 and any(c in "ABCDEF" for c in ip) and not any(c in "abcdef" for c in ip)
        seen[ip] = expected
        exists = [s for s in r.steps if s.term.startswith("exists")]
        assert exists
        shown = exists[0].dns[0]
        assert any(c in "ABCDEF" for c in shown.split()[1]) == expected
    assert seen["2001:DB8::A"] and not seen["2001:Db8::A"]


# ---- DMARC: alignment and trace lines ------------------------------------------------------------

def _reference_alignment(method: str, d: str, res: str, mode: str, dom: str,
                         org_of: dict[str, str]) -> tuple[D.Alignment, TraceStep]:
    """The alignment code of _evaluate before the pass."""
    strict = d == dom
    oa, ob = org_of.get(d), org_of.get(dom)
    relaxed = strict or (oa is not None and oa == ob)
    ok = res == "pass" and (strict if mode == "s" else relaxed)
    why = ("identical to the From domain" if strict else
           f"same organizational domain {org_of.get(d)}" if relaxed else
           f"organizational domains differ ({org_of.get(d)} vs {org_of.get(dom)})")
    if relaxed and not strict and mode == "s":
        why += f", but {'aspf' if method == 'spf' else 'adkim'}=s requires the exact domain"
    a = D.Alignment(method=method, domain=d, result=res, mode=mode, aligned=ok, why=why)
    step = TraceStep(what=f"{a.method} {a.domain} ({a.result}) vs From {dom}, mode {a.mode}",
                     outcome="aligned" if a.aligned else "not aligned", detail=a.why)
    return a, step


@settings(max_examples=500)
@given(st.sampled_from(["spf", "dkim"]), domains, st.sampled_from(["pass", "fail", "temperror", "none"]),
       st.sampled_from(["r", "s"]), domains, st.dictionaries(domains, st.sampled_from(["o.example", "p.example"])))
def test_alignment_matches_the_reference(method: str, d: str, res: str, mode: str, dom: str,
                                         orgs: dict[str, str]) -> None:
    org_of = dict(orgs)
    org_of.setdefault(dom, "o.example")
    got = D._alignment(method, d, res, mode, dom, org_of.get(d), org_of.get(dom))
    assert got == _reference_alignment(method, d, res, mode, dom, org_of)


@given(st.text(max_size=20), domains, st.text(max_size=20), st.text(max_size=40), st.text(max_size=40))
def test_cached_trace_lines_match_direct_construction(why: str, domain: str, outcome: str, detail: str,
                                                      line: str) -> None:
    assert D._lookup_step(why, domain, outcome, detail, line) == TraceStep(
        what=f"{why}: _dmarc.{domain}", outcome=outcome, detail=detail, dns=(line,))
    assert D._org_step(domain, outcome, detail) == TraceStep(
        what=f"organizational domain of {domain}", outcome=outcome, detail=detail)
    assert D._policy_step("sp", outcome, domain, detail) == TraceStep(
        what="policy", outcome=f"sp={outcome}", detail=f"record at _dmarc.{domain}" + (f"; {detail}" if detail else ""))


def _reference_lookup(w: D.Walker, domain: str, why: str, tolerant: bool) -> D.Lookup | None:
    """Walker.lookup before the pass (without its cache)."""
    ans = w.resolver.query(f"_dmarc.{domain}", "TXT")
    line = ans.summary()
    w.queries.append(line)
    if tolerant and not ans.status.is_definite:
        w.trace.append(TraceStep(what=f"{why}: _dmarc.{domain}", outcome="unavailable",
                                 detail=ans.status.value, dns=(line,)))
        return None
    if ans.status in (Status.UNKNOWN, Status.OFFLINE):
        w.trace.append(TraceStep(what=f"{why}: _dmarc.{domain}", outcome="unavailable",
                                 detail="not in the DNS snapshot" if ans.status is Status.UNKNOWN
                                 else "DNS is offline", dns=(line,)))
        raise D._Incomplete(AuthResultValue.TEMPERROR, f"could not evaluate: TXT _dmarc.{domain} is "
                            f"{'not in the snapshot' if ans.status is Status.UNKNOWN else 'offline'}", True)
    if ans.status.is_temporary:
        w.trace.append(TraceStep(what=f"{why}: _dmarc.{domain}", outcome="temperror", dns=(line,)))
        raise D._Incomplete(AuthResultValue.TEMPERROR, f"DNS error: TXT _dmarc.{domain} -> {ans.status.value}",
                            False)
    recs = tuple([r for t in ans.records if (r := D.parse_record(domain, t)) is not None])
    if not recs:
        outcome, detail = "no record", (ans.status.value if ans.status is not Status.NOERROR
                                        else "no TXT record starts with v=DMARC1")
    elif len(recs) > 1:
        outcome, detail = "discarded", f"{len(recs)} DMARC records: all discarded"
    else:
        outcome, detail = "record", recs[0].raw
    w.trace.append(TraceStep(what=f"{why}: _dmarc.{domain}", outcome=outcome, detail=detail, dns=(line,)))
    return D.Lookup(name=domain, status=ans.status, records=recs, dns=line)


def _outcome(f, *args, **kw):  # type: ignore[no-untyped-def]
    try:
        return f(*args, **kw)
    except D._Incomplete as e:
        return ("incomplete", e.result, e.cause, e.incomplete)


@settings(max_examples=200)
@given(st.sampled_from(STATUSES), st.lists(st.sampled_from(["v=DMARC1; p=reject", "v=DMARC1; p=none; rua=mailto:a@b.example",
                                                           "v=spf1 -all", "hello"]), max_size=3),
       domains, st.sampled_from(["policy", "org domain"]), st.booleans())
def test_walker_lookup_matches_the_reference(status: Status, records: list[str], domain: str, why: str,
                                             tolerant: bool) -> None:
    res = _One(status, tuple(records) if status is Status.NOERROR else ())
    ours, ref = D.Walker(res), D.Walker(res)
    assert _outcome(ours.lookup, domain, why, tolerant=tolerant) == _outcome(_reference_lookup, ref, domain, why, tolerant)
    assert ours.trace == ref.trace
    assert ours.queries == ref.queries


# ---- DMARC: both modes over hostile and varied inputs stay consistent -----------------------------

@settings(max_examples=150)
@given(domains, st.sampled_from(["pass", "fail", "softfail"]), domains,
       st.lists(st.tuples(domains, st.sampled_from(["pass", "fail", "temperror"])), max_size=3),
       st.sampled_from(["v=DMARC1; p=reject; aspf=s; adkim=s", "v=DMARC1; p=quarantine; t=y", "v=DMARC1; pct=50; p=reject",
                        "v=DMARC1; sp=bogus; rua=mailto:x@y.example"]))
def test_evaluate_both_alignment_lines_follow_the_alignments(dom: str, spf_res: str, spf_dom: str,
                                                             dkim: list[tuple[str, str]], record: str) -> None:
    from mailsleuth.dns.memory import MemoryResolver

    zone = {f"_dmarc.{dom}.example": {"TXT": [record]}}
    both = D.evaluate_both(dom + ".example", spf=(spf_res, spf_dom), dkim=dkim, resolver=MemoryResolver(zone))
    assert both.rfc9989.record is not None
    for r in (both.rfc9989, both.rfc7489):
        lines = [t for t in r.trace if re.search(r" vs From ", t.what)]
        assert len(lines) == len(r.alignments)
        for a, t in zip(r.alignments, lines, strict=True):
            assert t.what == f"{a.method} {a.domain} ({a.result}) vs From {r.from_domain}, mode {a.mode}"
            assert t.detail == a.why
            assert t.outcome == ("aligned" if a.aligned else "not aligned")


# ---- ARC: unfolding, AAR comments, the sets by instance -------------------------------------------

@settings(max_examples=500)
@given(st.binary(max_size=40).map(lambda b: bytes(b"\r\na ;="[x % 6] for x in b)))
def test_unfold_is_the_newline_regex(value: bytes) -> None:
    from mailsleuth.auth import arc as A

    assert A.unfold(value) == A._NEWLINE.sub(b"", value)


def _reference_parse_aar(value: str) -> tuple[str, tuple[object, ...]]:
    from mailsleuth.auth import arc as A

    text = value[:8000]
    for _ in range(5):
        text2 = A._COMMENT.sub("", text)
        if text2 == text:
            break
        text = text2
    parts = [p.strip() for p in text.split(";")]
    if parts and A._INSTANCE_ONLY.match(parts[0]):
        parts = parts[1:]
    if not parts:
        return "", ()
    authserv = parts[0].split()[0] if parts[0].split() else ""
    claims = []
    for p in parts[1:60]:
        m = A._RESULT.match(p)
        if m:
            claims.append(A.ArcClaim(method=m.group(1).lower(), result=m.group(2).lower(),
                                     properties=" ".join(m.group(3).split())[:300]))
    return authserv, tuple(claims)


@settings(max_examples=500)
@given(st.lists(st.sampled_from(["i=1", "i=2", "; ", "mx.example.com", " (", ")", "spf=pass", "dkim=fail",
                                 " smtp.mailfrom=a.example", "((x)", "=", "x"]), max_size=14).map("".join))
def test_parse_aar_matches_the_reference(value: str) -> None:
    from mailsleuth.auth import arc as A

    assert A.parse_aar(value) == _reference_parse_aar(value)


def _reference_header_instances(headers: list[tuple[bytes, bytes]]) -> dict[int, dict[str, object]]:
    from mailsleuth.auth import arc as A

    sets: dict[int, dict[str, object]] = {}
    for name, value in headers:
        ln = name.lower()
        if ln not in (b"arc-seal", b"arc-message-signature", b"arc-authentication-results"):
            continue
        m = A._INSTANCE_TAG.search(value)
        if not m:
            continue
        inst = int(m.group(1))
        if not 0 < inst <= A.MAX_INSTANCES:
            continue
        entry = sets.setdefault(inst, {})
        key = {b"arc-seal": "as", b"arc-message-signature": "ams", b"arc-authentication-results": "aar"}[ln]
        entry.setdefault(key, A._NEWLINE.sub(b"", value).strip())
    return sets


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from([b"ARC-Seal", b"arc-message-signature", b"ARC-Authentication-Results",
                                           b"Received", b"ARC-Foo"]),
                          st.lists(st.sampled_from([b"i=1", b"i=2", b"i=0", b"i=51", b"; ", b"\r\n ", b"\n\t",
                                                    b"d=example.org", b" ", b"\r"]), max_size=6).map(b"".join)),
                max_size=8))
def test_header_instances_match_the_reference(headers: list[tuple[bytes, bytes]]) -> None:
    from mailsleuth.auth import arc as A

    assert A._header_instances(headers) == _reference_header_instances(headers)


# ---- fast_init on the result classes: same values, defaults, equality and frozenness ---------------

def test_fast_init_result_classes_behave_as_dataclasses() -> None:
    import dataclasses

    import pytest

    from mailsleuth.auth import arc as A
    from mailsleuth.checks.auth_dmarc import DmarcReport
    from mailsleuth.checks.auth_spf import SpfReport

    samples = [
        S.SpfStep(depth=1, domain="example.com", term="a", outcome="match"),
        S.SpfResult(result=AuthResultValue.PASS, domain="example.com", ip="192.0.2.1", sender="a@example.com", helo="h"),
        D.Lookup(name="example.com", status=Status.NODATA, records=(), dns="TXT _dmarc.example.com -> NODATA"),
        D.Alignment(method="spf", domain="example.com", result="pass", mode="r", aligned=True, why="x"),
        D.DmarcResult(mode=D.RFC9989, result=AuthResultValue.NONE, from_domain="example.com"),
        A.ArcClaim(method="spf", result="pass"),
        SpfReport(ip=None, ip_source="none", mailfrom=None, mailfrom_source="none", helo=None),
        DmarcReport(from_domain="example.com", spf_input="s", dkim_input="d"),
    ]
    for obj in samples:
        cls = type(obj)
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                assert values[f.name] == f.default
            elif f.default_factory is not dataclasses.MISSING:
                assert values[f.name] == f.default_factory()
        assert cls(**values) == obj
        assert hash(cls(**values)) == hash(obj)
        assert dataclasses.replace(obj) == obj
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, dataclasses.fields(cls)[0].name, None)


edge_domains = st.one_of(domains, st.sampled_from(["", ".", "A.Example.", "example.com..", "EXAMPLE.COM"]))


@settings(max_examples=500)
@given(st.one_of(st.none(), st.tuples(st.sampled_from(["pass", "fail"]), edge_domains)),
       st.one_of(st.none(), st.lists(st.tuples(edge_domains, st.sampled_from(["pass", "fail", "temperror"])),
                                     max_size=4)))
def test_alignment_inputs_match_the_reference(spf: tuple[str, str] | None,
                                              dkim: list[tuple[str, str]] | None) -> None:
    names: set[str] = set()
    ids: list[tuple[str, str, str]] = []
    if spf is not None and spf[1]:
        names.add(spf[1].lower().rstrip("."))
        ids.append(("spf", spf[1].lower().rstrip("."), spf[0]))
    for d, _r in dkim or []:
        if d:
            names.add(d.lower().rstrip("."))
    for d, res in dkim or []:
        dd = d.lower().rstrip(".")
        if dd:
            ids.append(("dkim", dd, res))
    got = D._Inputs(spf, dkim)
    assert set(got.names) == names
    assert got.identities == ids
    assert got.missing == [m for m, v in (("SPF", spf), ("DKIM", dkim)) if v is None]
