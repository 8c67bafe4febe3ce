"""``auth.compare``: what the receivers reported against what we re-verified, one table per method.

Every disagreement gets a reason the reader can act on:

- the message was changed after delivery (and, when the signed headers show it, how: a redacted To
  address, a mask, a From that differs from the one reported; see mailsleuth.auth.edits);
- the key was removed, revoked or replaced since (so the signature cannot be re-verified);
- DNS changed since (the SPF record or policy we see now is not the one the receiver saw);
- the report came from a hop outside the trust boundary (anyone can write such a header);
- the evaluation lacked data (headers only, DNS off, not in the snapshot).

A DKIM failure weighs here, according to its explanation: explained as "changed after delivery"
under a trusted pass it weighs about nothing; left unexplained it counts against the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailsleuth.auth.edits import EditAssessment, assess_edits
from mailsleuth.checks.auth_dkim import trusted_delivery
from mailsleuth.domains import same_org
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.auth import AuthClaim, AuthResultValue, VerifiedResult
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.parse.addresses import domain_of

CODES = (
    "AUTH_MISMATCH_EDITED_AFTER_DELIVERY", "AUTH_MISMATCH_CHANGED_AFTER_DELIVERY", "AUTH_MISMATCH_KEY_ROTATED",
    "AUTH_MISMATCH_DNS_CHANGED", "AUTH_MISMATCH_UNTRUSTED_REPORT", "AUTH_MISMATCH_LACKED_DATA",
    "AUTH_MISMATCH_RECEIVER_FAILED", "AUTH_MISMATCH_POLICY", "DKIM_BODY_CHANGED", "DKIM_HEADERS_CHANGED",
)
METHODS = ("dkim", "spf", "dmarc", "arc")
_INCOMPLETE = (AuthResultValue.TEMPERROR,)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareRow:
    subject: str  # what the row is about: "d=example.com s=sel", "mailfrom=example.com", ...
    reported: str  # "pass by mx.example.net (trusted); fail by relay.example (untrusted)" or "nothing reported"
    verified: str  # our result ("pass", "fail", ...) or "not verified: <why>"
    verified_cause: str = ""
    agree: bool | None = None  # None: nothing to compare
    reason: str = ""  # why they differ, in words the reader can act on
    code: str = ""  # the finding that carries the reason


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareTable:
    method: str
    rows: tuple[CompareRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthComparison:
    tables: tuple[CompareTable, ...]
    edits: EditAssessment | None = None
    reported_source: str = ""  # "auth.reported" or "headers (auth.reported did not run)"
    notes: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------- inputs

def _claims(ctx: Context) -> tuple[list[AuthClaim], str]:
    """Reported claims: from ``auth.reported`` when it ran, else parsed here from the headers."""
    art = ctx.artifact("auth.reported")
    claims = getattr(art, "claims", None) if art is not None else None
    if claims is not None:
        return [c for c in claims if isinstance(c, AuthClaim)], "auth.reported"
    return _fallback_claims(ctx), "headers (auth.reported did not run; trust judged from the top Received header)"


def _fallback_claims(ctx: Context) -> list[AuthClaim]:
    try:
        from mailsleuth.parse.authres import is_copy, parse_auth_header
    except ImportError:  # the parser is optional for this check
        return []
    td = trusted_delivery(ctx)
    trusted_ids = {t.lower() for t in ctx.config.trusted_authserv_ids}
    first_received = next((h.index for h in ctx.message.headers if h.lname == "received"), len(ctx.message.headers))
    out: list[AuthClaim] = []
    for h in ctx.message.headers[:400]:
        ra = parse_auth_header(h)
        if ra is None or is_copy(h.name):
            continue
        by = (ra.authserv_id or "").lower()
        if trusted_ids:
            trusted = by in trusted_ids
        else:  # written above the top Received by the recipient's own server (same organisation)
            trusted = h.index < first_received and (not by or same_org(by, td.by_host) or by == (td.by_host or ""))
        for r in ra.results[:40]:
            dom_raw = (r.prop("header.d") or r.prop("header.i") or "") if r.method == "dkim" else (
                r.prop("smtp.mailfrom") or r.prop("smtp.helo") or "") if r.method == "spf" else (
                r.prop("header.from") or "")
            dom = (domain_of(dom_raw) if "@" in dom_raw else dom_raw).strip(".").lower() or None
            out.append(AuthClaim(method=r.method, result=r.result, result_raw=r.result_raw, domain=dom,
                                 subject=dom_raw, by=ra.authserv_id, header=ra.ref, header_index=ra.header_index,
                                 trusted=trusted, reason=r.reason, comments=r.comments))
    return out


def verified_results(art: Any) -> list[VerifiedResult]:
    """VerifiedResults from a colleague's artifact, whatever its shape (result, results, signatures)."""
    if art is None:
        return []
    if isinstance(art, VerifiedResult):
        return [art]
    for attr in ("signatures", "results", "verified"):
        v = getattr(art, attr, None)
        if isinstance(v, list | tuple):
            return [x for x in v if isinstance(x, VerifiedResult)]
    for attr in ("result", "verified_result"):
        v = getattr(art, attr, None)
        if isinstance(v, VerifiedResult):
            return [v]
    return []


def _reported_text(claims: list[AuthClaim]) -> str:
    if not claims:
        return "nothing reported"
    parts = [f"{c.result_raw or c.result.value} by {c.by or c.header} ({'trusted' if c.trusted else 'untrusted'})"
             for c in claims[:6]]
    return "; ".join(dict.fromkeys(parts))


def _verified_text(v: VerifiedResult | None, why_missing: str) -> str:
    if v is None:
        return f"not verified: {why_missing}"
    return v.result.value + ("" if v.complete else " (incomplete)")


def _why_not_verified(ctx: Context, check_id: str) -> str:
    if ctx.resolver.mode == "off":
        return "DNS is off"
    return f"{check_id} did not run"


# ---------------------------------------------------------------------------------------------- check

@check("auth.compare", title="Reported against re-verified authentication", codes=CODES,
       after=("auth.reported", "auth.verify.dkim", "auth.verify.spf", "auth.verify.dmarc", "auth.verify.arc",
              "received.chain"))
def compare(ctx: Context) -> Outcome:
    out = Outcome()
    claims, source = _claims(ctx)
    by_method: dict[str, list[AuthClaim]] = {m: [] for m in METHODS}
    for c in claims:
        if c.method in by_method:
            by_method[c.method].append(c)
    state = _State(ctx=ctx, out=out)
    tables = [
        CompareTable(method="dkim", rows=tuple(_dkim_rows(state, by_method["dkim"], by_method["dmarc"]))),
        CompareTable(method="spf", rows=tuple(_simple_rows(state, "spf", by_method["spf"], "auth.verify.spf"))),
        CompareTable(method="dmarc", rows=tuple(_simple_rows(state, "dmarc", by_method["dmarc"], "auth.verify.dmarc"))),
        CompareTable(method="arc", rows=tuple(_arc_rows(state, by_method["arc"]))),
    ]
    tables = [t for t in tables if t.rows]
    if not tables:
        return out
    out.artifact = AuthComparison(tables=tuple(tables), edits=state.edits, reported_source=source)
    return out


@dataclass(slots=True)
class _State:
    ctx: Context
    out: Outcome
    edits: EditAssessment | None = None
    dkim_explained: str = ""  # the DKIM explanation, reused for DMARC/ARC rows that follow from it
    emitted: set[tuple[str, str]] = field(default_factory=set)
    _by_host: tuple[str | None] | None = None  # the trusted hop's by-host, once asked for

    @property
    def by_host(self) -> str | None:
        """The host of the trusted delivery hop (looked up only when a DKIM failure needs explaining)."""
        if self._by_host is None:
            self._by_host = (trusted_delivery(self.ctx).by_host,)
        return self._by_host[0]

    def emit(self, code: str, ev: list[Evidence], key: str = "", **facts: Any) -> None:
        if (code, key) in self.emitted or len(self.emitted) > 40:
            return
        self.emitted.add((code, key))
        self.out.findings.append(self.ctx.finding(code, ev, **facts))


def _claim_ev(claims: list[AuthClaim]) -> list[Evidence]:
    return [Evidence(kind=EvidenceKind.HEADER, ref=c.header, value=f"{c.method}={c.result_raw or c.result.value}"
                     + (f" {c.subject}" if c.subject else "")) for c in claims[:4]]


def _sig_ev(v: VerifiedResult) -> list[Evidence]:
    d = v.details
    return [Evidence(kind=EvidenceKind.COMPUTED, ref=str(d.get("header_ref", v.subject)),
                     value=f"our result: {v.result.value} ({v.cause[:160]})")]


def _dkim_rows(st: _State, claims: list[AuthClaim], dmarc_claims: list[AuthClaim]) -> list[CompareRow]:
    ctx = st.ctx
    art = ctx.artifact("auth.verify.dkim")
    sigs = verified_results(art)
    rows: list[CompareRow] = []
    matched: set[int] = set()
    for v in sigs:
        d = str(v.details.get("d", ""))
        mine = [c for c in claims if c.domain and (c.domain == d or c.domain.endswith("." + d))]
        if not mine and len(sigs) == 1:
            mine = [c for c in claims if not c.domain]
        matched.update(id(c) for c in mine)
        trusted = [c for c in mine if c.trusted]
        t_pass = [c for c in trusted if c.result is AuthResultValue.PASS]
        t_fail = [c for c in trusted if c.result in (AuthResultValue.FAIL, AuthResultValue.PERMERROR)]
        u_pass = [c for c in mine if not c.trusted and c.result is AuthResultValue.PASS]
        ev = _sig_ev(v) + _claim_ev(t_pass or mine)
        first = (t_pass or t_fail or mine)[:1]
        facts: dict[str, Any] = {"d": d, "s": v.details.get("s", ""), "cause": v.cause,
                                 "by": (first[0].by or first[0].header) if first else "", "method": "dkim"}
        agree: bool | None = None
        reason, code = "", ""
        r = v.result
        if r is AuthResultValue.PASS:
            agree = not t_fail if mine else None
            if t_fail:
                code, reason = "AUTH_MISMATCH_RECEIVER_FAILED", (
                    "the recipient's server failed this signature at delivery but it verifies now: the key was "
                    "published or changed since, or the receiver mishandled it")
        elif r is AuthResultValue.FAIL and v.details.get("header_ok") is not False and v.details.get("body_ok") is not False:
            agree = not t_pass if mine else None
            if t_pass:  # expired or a timing problem
                code, reason = "AUTH_MISMATCH_POLICY", f"we judged it differently: {v.cause}"
        elif r is AuthResultValue.FAIL:
            body_fail = v.details.get("body_ok") is False
            header_fail = v.details.get("header_ok") is False
            agree = not (t_pass or u_pass) if mine else None
            if t_pass:
                signed = v.details.get("signed_headers")
                hnames = [str(x) for x in signed] if isinstance(signed, list | tuple) else []
                dm_from = next((c.domain for c in dmarc_claims if c.trusted and c.domain), None)
                edits = assess_edits(ctx.message, hnames, signer_domain=d, trusted_by_host=st.by_host,
                                     reported_from=dm_from) if header_fail else EditAssessment(likely_edited=False)
                if edits.likely_edited:
                    st.edits = edits
                    code = "AUTH_MISMATCH_EDITED_AFTER_DELIVERY"
                    reason = (f"this copy was probably changed after delivery — {edits.summary} — while the "
                              f"recipient's own server ({facts['by']}) reported a pass at delivery")
                    facts["summary"] = edits.summary
                    ev = ev + [Evidence(kind=EvidenceKind.HEADER, ref=s.header_ref, value=s.value[:200])
                               for s in edits.signs[:4]]
                else:
                    code = "AUTH_MISMATCH_CHANGED_AFTER_DELIVERY"
                    part = "the body" if body_fail and not header_fail else "a signed header" if header_fail else "the message"
                    reason = (f"{part} of this copy was changed after delivery, while the recipient's own server "
                              f"({facts['by']}) reported a pass at delivery (or the key was replaced since)")
                    facts["part"] = part
                st.dkim_explained = reason
            elif u_pass:
                code = "AUTH_MISMATCH_UNTRUSTED_REPORT"
                reason = (f"only a hop outside the trust boundary ({u_pass[0].by or u_pass[0].header}) reported a "
                          "pass; that header may be forged, and the signature does not verify")
                facts["by"] = u_pass[0].by or u_pass[0].header
            # Weigh the failure itself unless a trusted pass explains it.
            if not t_pass:
                which = "DKIM_BODY_CHANGED" if body_fail and not header_fail else "DKIM_HEADERS_CHANGED"
                st.emit(which, _sig_ev(v), key=d, **facts)
        elif r is AuthResultValue.PERMERROR and v.details.get("key_status") in ("NXDOMAIN", "NODATA"):
            agree = not t_pass if mine else None
            if t_pass:
                code, reason = "AUTH_MISMATCH_KEY_ROTATED", (
                    f"the key {v.details.get('s')}._domainkey.{d} is gone ({v.details.get('key_status')}): removed or "
                    "rotated since delivery, so the signature cannot be re-verified; the recipient's server verified "
                    "it at delivery")
        elif r is AuthResultValue.PERMERROR and v.details.get("key_record"):
            agree = not t_pass if mine else None
            if t_pass:
                code, reason = "AUTH_MISMATCH_KEY_ROTATED", (
                    f"the key record of {d} changed since delivery and cannot be used now ({v.cause})")
        elif r is AuthResultValue.POLICY:
            agree = not t_pass if mine else None
            if t_pass:
                code, reason = "AUTH_MISMATCH_POLICY", f"the receiver accepted it; we do not: {v.cause}"
        elif r in _INCOMPLETE:
            agree = None
            if mine:
                code, reason = "AUTH_MISMATCH_LACKED_DATA", f"we could not verify: {v.cause}"
        else:
            agree = not t_pass if mine else None
            if t_pass:
                code, reason = "AUTH_MISMATCH_POLICY", f"we judged the signature unusable: {v.cause}"
        if not v.complete and r is AuthResultValue.PASS and mine:
            reason = reason or "agree on the header signature; the body could not be checked (headers only)"
        if code:
            facts["reason"] = reason
            st.emit(code, ev, key=d, **facts)
        rows.append(CompareRow(subject=v.subject, reported=_reported_text(mine), verified=_verified_text(v, ""),
                               verified_cause=v.cause, agree=agree, reason=reason, code=code))
    rest = [c for c in claims if id(c) not in matched]
    if rest:
        why = _why_not_verified(ctx, "auth.verify.dkim") if art is None else ""
        for dom in list(dict.fromkeys(c.domain or "" for c in rest))[:10]:
            group = [c for c in rest if (c.domain or "") == dom]
            if art is None:
                reason, code, verified = f"the evaluation lacked data ({why})", "", f"not verified: {why}"
            else:
                trusted_pass = any(c.trusted and c.result is AuthResultValue.PASS for c in group)
                verified = "no signature of this domain in this copy"
                code = "AUTH_MISMATCH_CHANGED_AFTER_DELIVERY" if trusted_pass else ""
                reason = ("the signature the receiver verified is no longer in this copy: it was changed after "
                          "delivery" if trusted_pass else "")
                if code:
                    st.emit(code, _claim_ev(group), key=f"missing:{dom}", d=dom, part="the DKIM-Signature header",
                            by=group[0].by or group[0].header, reason=reason, method="dkim")
            rows.append(CompareRow(subject=f"header.d={dom}" if dom else "(no domain)", reported=_reported_text(group),
                                   verified=verified, agree=None if art is None else not code, reason=reason,
                                   code=code))
    return rows


def _simple_rows(st: _State, method: str, claims: list[AuthClaim], check_id: str) -> list[CompareRow]:
    ctx = st.ctx
    art = ctx.artifact(check_id)
    results = verified_results(art)
    rows: list[CompareRow] = []
    if not results:
        if claims:
            why = _why_not_verified(ctx, check_id)
            rows.append(CompareRow(subject=claims[0].subject or method, reported=_reported_text(claims),
                                   verified=f"not verified: {why}", agree=None,
                                   reason=f"the evaluation lacked data ({why})"))
        return rows
    for v in results[:5]:
        mine = claims
        if method == "spf":  # a HELO result is compared with HELO claims, a MAIL FROM one with the others
            helo = "helo" in v.subject.lower()
            mine = [c for c in claims if ("helo" in (c.subject or "").lower()) == helo]
        trusted = [c for c in mine if c.trusted]
        untrusted = [c for c in mine if not c.trusted]
        ours = v.result
        t_results = {c.result for c in trusted}
        agree: bool | None = None
        reason = code = ""
        ev = [Evidence(kind=EvidenceKind.COMPUTED, ref=f"{method} {v.subject}"[:120],
                       value=f"our result: {ours.value} ({v.cause[:160]})"), *_claim_ev(trusted or untrusted)]
        facts: dict[str, Any] = {"method": method, "cause": v.cause, "ours": ours.value, "d": v.subject}
        if trusted:
            agree = ours in t_results if v.complete and ours not in _INCOMPLETE else None
            if agree is None or not agree:
                facts["theirs"] = ", ".join(sorted(r.value for r in t_results))
                facts["by"] = trusted[0].by or trusted[0].header
                if ours in _INCOMPLETE or not v.complete:
                    code, reason = "AUTH_MISMATCH_LACKED_DATA", f"we could not evaluate fully: {v.cause}"
                elif method in ("dmarc", "arc") and st.dkim_explained:
                    # Follows from the DKIM difference, whose finding already explains it: no second finding.
                    reason = f"follows from DKIM: {st.dkim_explained}"
                else:
                    code = "AUTH_MISMATCH_DNS_CHANGED"
                    reason = (f"{facts['by']} reported {facts['theirs']} at delivery and we get {ours.value} now: the "
                              f"{method.upper()} record (or the address we evaluated at) is not what the receiver saw; "
                              "DNS changed since")
        elif untrusted:
            agree = ours in {c.result for c in untrusted}
            if not agree and any(c.result is AuthResultValue.PASS for c in untrusted):
                code = "AUTH_MISMATCH_UNTRUSTED_REPORT"
                facts["by"] = untrusted[0].by or untrusted[0].header
                reason = (f"only a hop outside the trust boundary ({facts['by']}) reported a pass; that header may be "
                          f"forged, and we get {ours.value}")
        if code:
            facts["reason"] = reason
            st.emit(code, ev, key=f"{method}:{v.subject}", **facts)
        rows.append(CompareRow(subject=v.subject, reported=_reported_text(mine), verified=_verified_text(v, ""),
                               verified_cause=v.cause, agree=agree, reason=reason, code=code))
    return rows


def _arc_rows(st: _State, claims: list[AuthClaim]) -> list[CompareRow]:
    return _simple_rows(st, "arc", claims, "auth.verify.arc")
