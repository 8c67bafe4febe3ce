"""``auth.verify.dmarc``: DMARC evaluated by us, RFC 9989 (DNS tree walk) first, RFC 7489 (PSL)
beside it, and every disagreement between the two reported.

Inputs: the From domain of the message; our SPF result (``auth.verify.spf``: the envelope sender's,
or the HELO's for a null sender) and our DKIM results (``auth.verify.dkim``: ``signatures``, each a
VerifiedResult with ``details["d"]``). A missing input is "not evaluated", never "fail": a DMARC
fail that rests on a missing input is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailsleuth.auth.dmarc import Alignment, DmarcBoth, DmarcResult, evaluate_both
from mailsleuth.auth.memo import addresses
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.auth import AuthResultValue, TraceStep, VerifiedResult
from mailsleuth.model.fastinit import fast_init
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding

R = AuthResultValue

CODES = (
    "DMARC_PASS", "DMARC_FAIL_REJECT", "DMARC_FAIL_QUARANTINE", "DMARC_FAIL_NONE", "DMARC_NO_RECORD",
    "DMARC_POLICY_NONE", "DMARC_TESTING", "DMARC_TEMPERROR", "DMARC_PERMERROR", "DMARC_INCOMPLETE",
    "DMARC_MODES_DIFFER",
)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DmarcReport:
    """The artifact: the RFC 9989 result as a VerifiedResult (``results``), the RFC 7489 evaluation in
    full, the inputs used and the differences between the two modes."""

    from_domain: str
    spf_input: str  # what SPF identity was used, or why none
    dkim_input: str
    results: tuple[VerifiedResult, ...] = ()  # the RFC 9989 result, with its trace
    rfc7489: DmarcResult | None = None
    _rfc9989: DmarcResult | None = None  # the same as results[0], unconverted (kept out of the JSON)
    differences: tuple[str, ...] = ()


def _spf_input(art: Any) -> tuple[tuple[str, str] | None, str]:
    if art is None:
        return None, "SPF was not evaluated"
    chosen = None  # the first mailfrom result, else the first helo result: one pass
    for r in getattr(art, "results", None) or ():
        if isinstance(r, VerifiedResult):
            ident = r.details.get("identity")
            if ident == "mailfrom":
                chosen = r
                break
            if ident == "helo" and chosen is None:
                chosen = r
    if chosen is None:
        return None, "SPF was not evaluated (no IP or identity)"
    if not chosen.complete:
        return None, f"SPF incomplete ({chosen.cause})"
    dom = str(chosen.details.get("domain") or "")
    result = str(chosen.result)  # the value (a StrEnum), without the slow Enum.value descriptor
    return (result, dom), f"SPF {result} for {dom} ({chosen.details.get('identity')})"


def _dkim_input(art: Any) -> tuple[list[tuple[str, str]] | None, str]:
    if art is None:
        return None, "DKIM was not evaluated"
    sigs = getattr(art, "signatures", None)
    if not isinstance(sigs, list | tuple):
        return None, "DKIM results are not available"
    out: list[tuple[str, str]] = []
    for s in sigs:
        if not isinstance(s, VerifiedResult):
            continue
        d = str(s.details.get("d") or "").strip().lower()
        if d:
            out.append((d, str(s.result)))
    shown = ", ".join(f"d={d} {r}" for d, r in out[:6]) or "no signatures"
    return out, f"DKIM: {shown}"


def from_domain(ctx: Context) -> tuple[str | None, str]:
    """The single RFC 5322.From domain, or (None, why)."""
    froms = ctx.message.get_all("From")
    if not froms:
        return None, "the message has no From header"
    if len(froms) > 1:
        return None, f"the message has {len(froms)} From headers"
    addrs = addresses(ctx.message, froms[0].value)
    domains = {a.domain.lower() for a in addrs if a.domain}
    if not domains:
        return None, "the From header has no address with a domain"
    if len(domains) > 1:
        return None, f"the From header names several domains ({', '.join(sorted(domains)[:4])})"
    return domains.pop(), froms[0].ref


def _verified(r: DmarcResult, both: DmarcBoth, aligned: tuple[Alignment, ...]) -> VerifiedResult:
    rec = r.record
    return VerifiedResult(
        method="dmarc", result=r.result, subject=f"header.from={r.from_domain}", cause=r.cause, complete=r.complete,
        trace=r.trace,
        details={
            "mode": r.mode, "from_domain": r.from_domain, "record_domain": rec.domain if rec else None,
            "record": rec.raw if rec else None, "tags": dict(rec.tags) if rec else {},
            "org_domain": r.org_domain, "org_reason": r.org_reason, "policy_tag": r.policy_tag, "policy": r.policy,
            "requested": r.requested, "requested_note": r.requested_note, "nonexistent": r.nonexistent,
            "aligned": [f"{a.method}:{a.domain}" for a in aligned],
            "rfc7489_result": str(both.rfc7489.result), "rfc7489_org_domain": both.rfc7489.org_domain,
            "differences": list(both.differences), "queries": list(r.queries),
        },
    )


@check("auth.verify.dmarc", title="DMARC, evaluated (RFC 9989, with RFC 7489 beside it)", codes=CODES,
       needs=("dns",), after=("auth.verify.spf", "auth.verify.dkim", "identity.alignment"))
def verify_dmarc(ctx: Context) -> Outcome:
    out = Outcome()
    dom, where = from_domain(ctx)
    spf, spf_text = _spf_input(ctx.artifact("auth.verify.spf"))
    dkim, dkim_text = _dkim_input(ctx.artifact("auth.verify.dkim"))
    if dom is None:
        vr = VerifiedResult(method="dmarc", result=R.PERMERROR, subject="header.from", cause=where,
                            trace=(TraceStep(what="From domain", outcome="unusable", detail=where),))
        out.artifact = DmarcReport(from_domain="", spf_input=spf_text, dkim_input=dkim_text, results=(vr,))
        out.findings.append(ctx.finding("DMARC_PERMERROR", [Evidence(kind=EvidenceKind.HEADER, ref="From",
                                                                     value=ctx.message.value("From")[:200])],
                                        cause=where))
        return out
    both = evaluate_both(dom, spf=spf, dkim=dkim, resolver=ctx.resolver)
    r = both.rfc9989
    aligned = r.aligned_pass  # made once, read by both below
    vr = _verified(r, both, aligned)
    out.artifact = DmarcReport(from_domain=dom, spf_input=spf_text, dkim_input=dkim_text, results=(vr,),
                               _rfc9989=r, rfc7489=both.rfc7489, differences=both.differences)
    if not r.complete:
        missing = [t for t, v in ((spf_text, spf), (dkim_text, dkim)) if v is None]
        out.incomplete.append(f"DMARC for {dom}: {r.cause}" + (f" ({'; '.join(missing)})" if missing else ""))
    out.findings.extend(_findings(ctx, r, both, where, spf_text, dkim_text, aligned))
    return out


def _findings(ctx: Context, r: DmarcResult, both: DmarcBoth, from_ref: str, spf_text: str,
              dkim_text: str, aligned: tuple[Alignment, ...]) -> list[Finding]:
    rec = r.record
    facts: dict[str, Any] = {
        "from_domain": r.from_domain, "record_domain": rec.domain if rec else "", "policy": r.policy or "",
        "policy_tag": r.policy_tag or "", "requested": r.requested or "", "note": r.requested_note,
        "org_domain": r.org_domain or "", "cause": r.cause, "spf": spf_text, "dkim": dkim_text,
        "aligned": ", ".join([f"{a.method} ({a.domain})" for a in aligned]) or "none",
    }
    ev = [Evidence(kind=EvidenceKind.HEADER, ref=from_ref, value=r.from_domain)]
    if rec is not None:
        ev.append(Evidence(kind=EvidenceKind.DNS, ref=f"TXT _dmarc.{rec.domain}", value=rec.raw[:300]))
    ev.append(Evidence(kind=EvidenceKind.COMPUTED, ref="organizational domain (RFC 9989 tree walk)",
                       value=f"{r.org_domain} ({r.org_reason})"))
    out: list[Finding] = []
    if r.result is R.PASS:
        out.append(ctx.finding("DMARC_PASS", ev, **facts))
    elif r.result is R.FAIL:
        if not r.complete:
            out.append(ctx.finding("DMARC_INCOMPLETE", ev, **facts))
        else:
            code = {"reject": "DMARC_FAIL_REJECT", "quarantine": "DMARC_FAIL_QUARANTINE"}.get(r.requested or "",
                                                                                             "DMARC_FAIL_NONE")
            out.append(ctx.finding(code, ev, **facts))
    elif r.result is R.NONE:
        out.append(ctx.finding("DMARC_NO_RECORD", ev, **facts))
    elif r.result is R.TEMPERROR:
        out.append(ctx.finding("DMARC_INCOMPLETE" if not r.complete else "DMARC_TEMPERROR", ev, **facts))
    else:
        out.append(ctx.finding("DMARC_PERMERROR", ev, **facts))
    if rec is not None and r.policy == "none" and r.result in (R.PASS, R.FAIL):
        out.append(ctx.finding("DMARC_POLICY_NONE", ev[:2], **facts))
    if rec is not None and rec.t and r.result in (R.PASS, R.FAIL):
        out.append(ctx.finding("DMARC_TESTING", ev[:2], **facts))
    if both.differences and r.complete and both.rfc7489.complete:
        out.append(ctx.finding("DMARC_MODES_DIFFER",
                               [Evidence(kind=EvidenceKind.COMPUTED, ref="RFC 9989 vs RFC 7489", value=d)
                                for d in both.differences],
                               differences="; ".join(both.differences), result_7489=str(both.rfc7489.result),
                               **facts))
    return out
