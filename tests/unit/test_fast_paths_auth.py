"""Performance pass on the engine, scoring, report assembly and the reported-authentication and
identity checks: every shortcut against the straightforward code it stands in for."""

from __future__ import annotations

import dataclasses
from itertools import combinations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.api import _report_order
from mailsleuth.checks.identity import build_report, by_role
from mailsleuth.checks.reported_auth import _trusted_ids, claim_subject
from mailsleuth.engine import NEEDS, _cached_plan, _skipped_for_needs, load_checks, plan
from mailsleuth.model.auth import AuthProperty, AuthResultValue, ReportedResult
from mailsleuth.model.findings import Finding, Severity
from mailsleuth.model.identity import Identity
from mailsleuth.model.verdict import Contribution, SkippedCheck
from mailsleuth.scoring import Composite, ScoringData, Weight, _narrative, load_scoring, score

CODES = ("A_ONE", "B_TWO", "C_THREE", "D_FOUR", "E_FIVE", "F_SIX")
SEVERITIES = list(Severity)


def _finding(code: str, severity: Severity, title: str) -> Finding:
    return Finding(code=code, severity=severity, title=title, explanation="", check="t")


findings_st = st.lists(st.builds(_finding, st.sampled_from(CODES), st.sampled_from(SEVERITIES),
                                 st.text(max_size=30)), max_size=25)


# ---- api: the report's order of findings ---------------------------------------------------------

@given(findings_st)
def test_report_order_is_sorting_by_rank_then_code(findings: list[Finding]) -> None:
    expected = sorted(findings, key=lambda f: (-f.severity.rank, f.code))
    got = _report_order(findings)
    assert [id(f) for f in got] == [id(f) for f in expected]


# ---- scoring: counts, first titles, multipliers, order and narrative -----------------------------

def _reference_contributions(findings: list[Finding], data: ScoringData) -> list[Contribution]:
    """What score() computed before the pass (per-finding loop, multiplier always applied)."""
    counts: dict[str, int] = {}
    firsts: dict[str, Finding] = {}
    for f in findings:
        if f.code not in counts:
            counts[f.code] = 0
            firsts[f.code] = f
        counts[f.code] += 1
    out = []
    for code, n in counts.items():
        w = data.weights.get(code)
        if w is None:
            continue
        mult = 1.0 + min(n - 1, 5) * w.repeat
        cp, cs, ct = w.phish * mult, w.spam * mult, w.trust * mult
        if cp or cs or ct:
            out.append(Contribution(code=code, phish=cp, spam=cs, trust=ct, note=firsts[code].title))
    for comp in data.composites:
        if comp.all and not all(c in counts for c in comp.all):
            continue
        if comp.any and not any(c in counts for c in comp.any):
            continue
        if any(c in counts for c in comp.none):
            continue
        out.append(Contribution(code=comp.id, phish=comp.weight.phish, spam=comp.weight.spam,
                                trust=comp.weight.trust, note=comp.note))
    out.sort(key=lambda c: -(abs(c.phish) + abs(c.spam) + abs(c.trust)))
    return out


def _reference_sides(contributions: list[Contribution]) -> tuple[list[Contribution], list[Contribution]]:
    sides = [(max(c.trust, 0.0) - min(c.phish, 0.0) - min(c.spam, 0.0),
              max(c.phish, 0.0) + max(c.spam, 0.0) - min(c.trust, 0.0), c) for c in contributions]
    for_ = [c for _g, _b, c in sorted((t for t in sides if t[0] > t[1]), key=lambda t: -t[0])[:3]]
    against = [c for _g, _b, c in sorted((t for t in sides if t[1] > t[0]), key=lambda t: -t[1])[:3]]
    return for_, against


weight_st = st.builds(Weight, phish=st.sampled_from([0.0, 1.0, -1.0, 2.5, 3.0]),
                      spam=st.sampled_from([0.0, 1.0, -0.5, 2.5]), trust=st.sampled_from([0.0, 1.0, -1.0, 2.0]),
                      repeat=st.sampled_from([0.0, 0.25, 0.5]))
composite_st = st.builds(Composite, id=st.sampled_from(["X1", "X2"]),
                         all=st.lists(st.sampled_from(CODES), max_size=2).map(tuple),
                         any=st.lists(st.sampled_from(CODES), max_size=2).map(tuple),
                         none=st.lists(st.sampled_from(CODES), max_size=2).map(tuple),
                         weight=weight_st, note=st.text(max_size=10))
data_st = st.builds(ScoringData, weights=st.dictionaries(st.sampled_from(CODES), weight_st),
                    composites=st.lists(composite_st, max_size=3).map(tuple),
                    thresholds=st.just({"phishing": 6.0, "spam": 5.0, "suspicious": 3.0, "legitimate": 2.0}),
                    narrative=st.just({"for": "FOR {items}", "against": "AGAINST {items}"}))


@settings(max_examples=300)
@given(findings_st, data_st)
def test_score_contributions_match_the_per_finding_loop(findings: list[Finding], data: ScoringData) -> None:
    expected = _reference_contributions(findings, data)
    verdict = score(findings, [], ["x"], data)
    assert list(verdict.contributions) == expected
    assert verdict.scores == {"phish": round(sum(c.phish for c in expected), 3),
                              "spam": round(sum(c.spam for c in expected), 3),
                              "trust": round(sum(c.trust for c in expected), 3)}


@settings(max_examples=300)
@given(st.lists(st.builds(Contribution, code=st.sampled_from(CODES), phish=st.sampled_from([0.0, 1.0, -1.0, 2.0]),
                          spam=st.sampled_from([0.0, 1.0, -1.0]), trust=st.sampled_from([0.0, 1.0, -2.0, 3.0]),
                          note=st.text(max_size=8)), max_size=10))
def test_narrative_sides_match_the_sorted_tuples(contributions: list[Contribution]) -> None:
    data = ScoringData(weights={}, composites=(), thresholds={},
                       narrative={"for": "FOR {items}", "against": "AGAINST {items}"})
    from mailsleuth.model.verdict import Label

    lines = _narrative(Label.UNKNOWN, contributions, [], data, {})
    for_, against = _reference_sides(contributions)
    expected = []
    if for_:
        expected.append("FOR " + "; ".join(" ".join(c.note.split())
                                           for i, c in enumerate(for_)))
    if against:
        expected.append("AGAINST " + "; ".join(" ".join(c.note.split())
                                               for i, c in enumerate(against)))
    assert lines == expected


def test_score_with_the_shipped_data_repeats_and_composites() -> None:
    data = load_scoring()
    codes = sorted(data.weights)[:12]
    findings = [_finding(c, Severity.MEDIUM, f"t{i}") for i, c in enumerate(codes * 3)]
    verdict = score(findings, [SkippedCheck(check="x", reason="r")], ["y"], data)
    assert list(verdict.contributions) == _reference_contributions(findings, data)


# ---- engine: the plan cache and the needs skip ---------------------------------------------------

def test_skipped_for_needs_matches_the_subset_test() -> None:
    names = sorted(NEEDS)
    subsets = [frozenset(c) for n in range(len(names) + 1) for c in combinations(names, n)]
    for needs in subsets:
        for have in subsets:
            got = _skipped_for_needs("some.check", needs, have)
            if needs <= have:
                assert got is None
            else:
                assert got is not None and got.check == "some.check"
                missing = sorted(needs - have)
                assert got.reason.count(";") == len(missing) - 1


def test_cached_plan_is_the_plan_and_refuses_equal_but_distinct_specs() -> None:
    specs = dict(load_checks())
    first = _cached_plan(specs)
    assert [s.id for s in first] == [s.id for s in plan(specs)]
    assert _cached_plan(specs) is first
    copies = {k: dataclasses.replace(v) for k, v in specs.items()}  # equal, not the same objects
    again = _cached_plan(copies)
    assert again is not first and all(s is copies[s.id] for s in again)
    assert _cached_plan(specs) is not again


# ---- auth.reported: prop without the key property, the trusted ids, claim subjects ---------------

prop_text = st.text(alphabet=st.sampled_from("abHD.-iİΣσς_x"), max_size=6)


@settings(max_examples=400)
@given(st.lists(st.builds(AuthProperty, ptype=prop_text, name=prop_text, value=st.text(max_size=4)), max_size=5),
       st.lists(prop_text, min_size=1, max_size=4))
def test_prop_matches_the_key_property(props: list[AuthProperty], keys: list[str]) -> None:
    r = ReportedResult(method="dkim", result=AuthResultValue.PASS, result_raw="pass", properties=tuple(props))

    def reference(key: str) -> str | None:
        return next((p.value for p in props if p.key.lower() == key.lower()), None)

    for key in [*keys, *(p.key for p in props), *(p.key.upper() for p in props)]:
        assert r.prop(key) == reference(key)


class _Chain:
    def __init__(self, ids: Any):
        self.trusted_authserv_ids = ids


def test_trusted_ids_lowered_for_every_shape() -> None:
    assert _trusted_ids(_Chain(("MX.Example.COM", "*.Example.NET"))) == ("mx.example.com", "*.example.net")
    assert _trusted_ids(_Chain(["A.example"])) == ("a.example",)
    assert _trusted_ids(_Chain((["unhashable"],))) == ("['unhashable']",)
    assert _trusted_ids(_Chain(None)) == ()
    assert _trusted_ids(None) == ()


def _old_claim_subject(method: str, r: ReportedResult) -> tuple[str | None, str]:
    from mailsleuth.checks.reported_auth import _clean_domain

    if method == "dkim":
        keys: tuple[str, ...] = ("header.d", "header.i")
    elif method == "spf":
        keys = ("smtp.mailfrom", "smtp.mail", "envelope-from", "smtp.helo")
    elif method in ("dmarc", "dkim-adsp", "sender-id", "bimi"):
        keys = ("header.from",)
    elif method == "iprev":
        keys = ("policy.iprev", "smtp.remote-ip")
    elif method == "auth":
        keys = ("smtp.auth", "smtp.mailfrom")
    else:
        keys = ()
    for k in keys:
        v = r.prop(k)
        if v:
            return (v if method == "iprev" else _clean_domain(v)), f"{k}={v}"
    return None, ""


METHODS = ("dkim", "spf", "dmarc", "dkim-adsp", "sender-id", "bimi", "iprev", "auth", "arc", "x-other")
KEYS = ("header.d", "header.i", "smtp.mailfrom", "smtp.mail", "envelope-from", "smtp.helo", "header.from",
        "policy.iprev", "smtp.remote-ip", "smtp.auth", "header.s")


@given(st.sampled_from(METHODS),
       st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(["", "example.com", "<a@Example.org>", "none"])),
                max_size=4))
def test_claim_subject_table_matches_the_if_chain(method: str, pairs: list[tuple[str, str]]) -> None:
    props = []
    for key, value in pairs:
        ptype, _, name = key.rpartition(".")
        props.append(AuthProperty(ptype=ptype, name=name, value=value))
    r = ReportedResult(method=method, result=AuthResultValue.PASS, result_raw="pass", properties=tuple(props))
    assert claim_subject(method, r) == _old_claim_subject(method, r)


# ---- identity.alignment: one pass by role ------------------------------------------------------

ROLES = ("from", "sender", "reply-to", "return-path", "envelope-from", "message-id", "dkim-d", "list-id")
identity_st = st.builds(Identity, role=st.sampled_from(ROLES), value=st.sampled_from(["a@x.example", "b@y.example"]),
                        domain=st.sampled_from([None, "x.example", "y.example", "mail.x.example"]),
                        org=st.sampled_from([None, "x.example", "y.example"]), source=st.just("From[0]"))


@given(st.lists(identity_st, max_size=12))
def test_build_report_by_role_matches_the_scans(identities: list[Identity]) -> None:
    rep = build_report(identities)
    assert rep == build_report(identities, by_role(identities))
    froms = [i for i in identities if i.role == "from"]
    rp = next((i for i in identities if i.role == "return-path"), None)
    assert rep.from_address == (froms[0].value if froms else None)
    assert rep.return_path_domain == (rp.domain if rp else None)
    assert rep.dkim_domains == tuple(dict.fromkeys(i.domain for i in identities if i.role == "dkim-d" and i.domain))
    roles = by_role(identities)
    assert [i for role in roles for i in roles[role]] == sorted(identities, key=lambda i: list(roles).index(i.role))


# ---- spam.stamps: the copy with changes ----------------------------------------------------------

@given(st.fixed_dictionaries({}, optional={"trusted": st.booleans(),
                                           "explained": st.dictionaries(st.text(max_size=3), st.text(max_size=3)),
                                           "score": st.none() | st.floats(allow_nan=False)}))
def test_stamp_copy_is_dataclasses_replace(changes: dict[str, Any]) -> None:
    from mailsleuth.checks.spam_stamps import _replace
    from mailsleuth.model.spam import SpamStamp

    stamp = SpamStamp(vendor="spamassassin", headers=("X-Spam-Status[0]",), header_index=3, is_spam=False,
                      score=1.5, threshold=5.0, host="mx.example.com", fields={"flag": "NO"}, parse_errors=("e",))
    assert _replace(stamp, changes) == dataclasses.replace(stamp, **changes)


def test_stamp_and_auth_headers_are_the_named_headers_in_order() -> None:
    from mailsleuth.checks.reported_auth import _auth_headers
    from mailsleuth.parse.authres import AUTH_HEADER_NAMES
    from mailsleuth.parse.message import parse_message
    from mailsleuth.parse.spamstamps import FAMILIES, stamp_headers

    raw = (b"X-Spam-Flag: NO\r\nAuthentication-Results: mx.example.com; spf=pass\r\nReceived: x\r\n"
           b"x-spam-status: No, score=1\r\nReceived-SPF: pass\r\nX-MS-Exchange-Organization-SCL: 1\r\n"
           b"ARC-Authentication-Results: i=1; mx.example.com; dkim=pass\r\nSubject: s\r\n\r\nbody\r\n")
    msg = parse_message(raw)
    assert stamp_headers(msg) == [h for h in msg.headers if h.lname in FAMILIES]
    assert _auth_headers(msg) == [h for h in msg.headers if h.lname in AUTH_HEADER_NAMES]


@given(st.lists(identity_st, max_size=12))
def test_known_orgs_from_the_groups_match_the_identities(identities: list[Identity]) -> None:
    groups = build_report(identities).groups
    assert ({g.org for g in groups if g.roles != ("message-id",)}
            == {i.org for i in identities if i.org and i.role != "message-id"})
