"""Unit tests of our DMARC: record parsing, the RFC 9989 tree walk, honest gaps."""

from __future__ import annotations

from mailsleuth.auth.dmarc import (
    MAX_WALK_QUERIES,
    RFC7489,
    RFC9989,
    Walker,
    evaluate,
    evaluate_both,
    parse_record,
)
from mailsleuth.dns.base import Answer, Status, answer
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.model.auth import AuthResultValue as R


def test_parse_record_tags_and_defaults() -> None:
    rec = parse_record("example.com", "v=DMARC1; p=Quarantine; sp=reject; np=none; adkim=s; aspf=x; t=y; psd=n; "
                                      "rua=mailto:a@example.com, mailto:b@example.com; ruf=mailto:f@example.com; fo=1; "
                                      "pct=50; future=1")
    assert rec is not None
    assert (rec.p, rec.sp, rec.np, rec.adkim, rec.aspf, rec.t, rec.psd, rec.pct, rec.fo) == (
        "quarantine", "reject", "none", "s", "r", True, "n", 50, "1")
    assert rec.rua == ("mailto:a@example.com", "mailto:b@example.com") and rec.ruf == ("mailto:f@example.com",)
    assert any("aspf" in p for p in rec.problems)
    assert parse_record("x", "v=spf1 -all") is None
    assert parse_record("x", "p=reject; v=DMARC1") is None
    assert parse_record("x", "v = DMARC1 ; p=none") is not None


def test_walk_names_bounded() -> None:
    w = Walker(MemoryResolver({}))
    assert w.walk_names("mail.example.com") == ["mail.example.com", "example.com", "com"]
    long = ".".join(f"l{i}" for i in range(30)) + ".example.com"
    names = w.walk_names(long)
    assert len(names) == MAX_WALK_QUERIES and names[1].count(".") == 6 and names[-1] == "com"


def test_walk_queries_at_most_eight() -> None:
    res = MemoryResolver({})
    long = ".".join(f"l{i}" for i in range(30)) + ".example.com"
    r = evaluate(long, spf=("pass", long), dkim=[], resolver=res)
    assert r.result is R.NONE
    assert len([q for q in res.queries if q[0].startswith("_dmarc.")]) <= MAX_WALK_QUERIES


class _Snapshot:
    """Knows _dmarc.example.com only; anything else is UNKNOWN, as in a recorded snapshot."""

    mode = "snapshot"

    def query(self, name: str, rdtype: str) -> Answer:
        if name == "_dmarc.example.com" and rdtype == "TXT":
            return answer(name, rdtype, Status.NOERROR, ("v=DMARC1; p=reject",))
        return answer(name, rdtype, Status.UNKNOWN)


def test_unknown_data_is_incomplete_never_none() -> None:
    r = evaluate("mail.example.com", spf=("fail", "mail.example.com"), dkim=[], resolver=_Snapshot())
    assert r.result is R.TEMPERROR and not r.complete and "not in the snapshot" in r.cause


def test_org_walk_falls_back_to_psl_when_data_is_missing() -> None:
    r = evaluate("example.com", spf=("pass", "example.com"), dkim=[], resolver=_Snapshot())
    assert r.result is R.PASS and r.record is not None and r.record.domain == "example.com"
    assert r.org_domain == "example.com" and "Public Suffix List" in r.org_reason


def test_trace_explains_policy_and_alignment() -> None:
    zone = {"_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject; sp=quarantine"]}, "mail.example.com": {"A": ["192.0.2.1"]}}
    r = evaluate("mail.example.com", spf=("pass", "example.net"), dkim=[("example.com", "fail")],
                 resolver=MemoryResolver(zone))
    assert r.result is R.FAIL and r.policy_tag == "sp" and r.requested == "quarantine"
    whats = [s.what for s in r.trace]
    assert "policy: _dmarc.mail.example.com" in whats and "policy: _dmarc.example.com" in whats
    assert any(s.outcome == "not aligned" and "example.net" in s.what for s in r.trace)
    assert r.trace[-1].what == "policy" and r.trace[-1].outcome == "sp=quarantine"


def test_both_modes_share_lookups_and_report_differences() -> None:
    zone = {"_dmarc.dept.example.com": {"TXT": ["v=DMARC1; p=reject; psd=n"]},
            "_dmarc.example.com": {"TXT": ["v=DMARC1; p=none"]}, "mail.dept.example.com": {"A": ["192.0.2.1"]}}
    res = MemoryResolver(zone)
    both = evaluate_both("mail.dept.example.com", spf=("pass", "example.com"), dkim=[], resolver=res)
    assert both.rfc9989.mode == RFC9989 and both.rfc7489.mode == RFC7489
    assert both.rfc9989.result is R.FAIL and both.rfc7489.result is R.PASS
    assert both.rfc9989.org_domain == "dept.example.com" and both.rfc7489.org_domain == "example.com"
    assert any(d.startswith("organizational domain") for d in both.differences)
    txt = [q for q in res.queries if q[1] == "TXT"]
    assert len(txt) == len(set(txt))  # each _dmarc name asked once


def test_no_from_domain_is_permerror() -> None:
    assert evaluate("", spf=None, dkim=None, resolver=MemoryResolver({})).result is R.PERMERROR
