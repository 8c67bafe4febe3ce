"""``auth.verify.spf``: SPF re-evaluated by us (RFC 7208), every step explained.

Identities: the envelope sender (Return-Path, else the envelope-from the boundary hop recorded) and
the HELO name the boundary hop recorded, evaluated at the client IP of the hop that entered the
trust boundary; ``--ip`` (``config.client_ip``) overrides that IP. With no IP there is nothing to
evaluate: the check says so (incomplete) rather than guessing.

Note the evaluation is *now*, against today's DNS (or the snapshot): a result that differs from what
the receiver reported at delivery may mean the record changed since (``auth.compare`` explains).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mailsleuth.auth.memo import addresses
from mailsleuth.auth.spf import SpfResult, check_host, parse_ip
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.auth import AuthResultValue, VerifiedResult
from mailsleuth.model.fastinit import fast_init
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding

R = AuthResultValue

CODES = (
    "SPF_PASS", "SPF_FAIL", "SPF_SOFTFAIL", "SPF_NEUTRAL", "SPF_NONE", "SPF_PERMERROR", "SPF_TEMPERROR",
    "SPF_LOOKUP_LIMIT", "SPF_VOID_LIMIT", "SPF_PERMISSIVE_RECORD", "SPF_HELO_FAIL", "SPF_INCOMPLETE",
)
_RESULT_CODE = {
    R.PASS: "SPF_PASS", R.FAIL: "SPF_FAIL", R.SOFTFAIL: "SPF_SOFTFAIL", R.NEUTRAL: "SPF_NEUTRAL",
    R.NONE: "SPF_NONE", R.PERMERROR: "SPF_PERMERROR", R.TEMPERROR: "SPF_TEMPERROR",
}
# A record that lets (nearly) anyone pass: +all, or an address block this wide or wider.
BROAD_IP4_PREFIX = 8
BROAD_IP6_PREFIX = 16
_BROAD = re.compile(r"^\+?(ip4|ip6):([^/\s]+)/(\d{1,3})$", re.IGNORECASE)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpfReport:
    """The artifact: where the IP came from and one VerifiedResult per identity (mailfrom, helo)."""

    ip: str | None
    ip_source: str  # "--ip", "boundary hop", "none"
    mailfrom: str | None  # the envelope sender ("" = null sender), None when unknown
    mailfrom_source: str
    helo: str | None
    results: tuple[VerifiedResult, ...] = ()
    _evaluations: tuple[SpfResult, ...] = field(default=(), repr=False)

    def identity(self, name: str) -> VerifiedResult | None:
        return next((r for r in self.results if r.details.get("identity") == name), None)


def envelope_sender(ctx: Context, chain: Any) -> tuple[str | None, str]:
    """(envelope sender, where it came from); "" is the null sender, None unknown."""
    rp = ctx.message.get("Return-Path")
    if rp is not None:
        v = rp.value.strip()
        if v.replace(" ", "") in ("<>", ""):
            return "", f"{rp.ref} (null sender)"
        found = addresses(ctx.message, v)
        a = found[0] if found else None
        if a is not None and "@" in a.addr:
            return a.addr, rp.ref
    boundary = getattr(chain, "boundary", None) if chain is not None else None
    hop = getattr(boundary, "hop", None)
    env = getattr(hop, "envelope_from", None)
    if isinstance(env, str) and env.strip():
        e = env.strip().strip("<>")
        return e, "envelope-from of the boundary hop"
    return None, "none"


def _verified(r: SpfResult, identity: str) -> VerifiedResult:
    return VerifiedResult(
        method="spf", result=r.result,
        subject=f"smtp.mailfrom={r.sender}" if identity == "mailfrom" else f"smtp.helo={r.helo}",
        cause=r.cause, complete=r.complete, trace=r.trace,
        details={
            "identity": identity, "domain": r.domain, "ip": r.ip, "sender": r.sender, "helo": r.helo,
            "record": r.record, "matched_mechanism": r.mechanism, "matched_in": r.matched_domain,
            "explanation": r.explanation, "lookups": r.lookups, "lookup_limit": r.limits.dns_mechanisms,
            "void_lookups": r.void_lookups, "void_limit": r.limits.void_lookups, "queries": list(r.queries),
        },
    )


def broad_terms(record: str | None) -> list[str]:
    """Terms of a record that authorise (nearly) everyone: +all / all, ip4 /8 or wider, ip6 /16 or wider."""
    if not record:
        return []
    return list(_broad_terms(record))


@lru_cache(maxsize=2048)
def _broad_terms(record: str) -> tuple[str, ...]:
    """:func:`broad_terms`, remembered per record text (the same records recur across a batch)."""
    out = []
    for tok in record.split()[1:60]:
        t = tok.lower()
        if t in ("all", "+all"):
            out.append(tok)
            continue
        m = _BROAD.match(t)
        if m:
            try:
                plen = int(m.group(3))
                ipaddress.ip_address(m.group(2))
            except ValueError:
                continue
            if (m.group(1) == "ip4" and plen <= BROAD_IP4_PREFIX) or (m.group(1) == "ip6" and plen <= BROAD_IP6_PREFIX):
                out.append(tok)
    return tuple(out)


def _dns_ev(r: SpfResult) -> list[Evidence]:
    ev = []
    for q in r.queries[:8]:
        ref, _, val = q.partition(" -> ")
        ev.append(Evidence(kind=EvidenceKind.DNS, ref=ref, value=val[:300]))
    return ev


@check("auth.verify.spf", title="SPF, re-evaluated", codes=CODES, needs=("dns",), after=("received.chain",))
def verify_spf(ctx: Context) -> Outcome:
    out = Outcome()
    chain = ctx.artifact("received.chain")
    ip: str | None = None
    ip_source = "none"
    if ctx.config.client_ip:
        ip, ip_source = ctx.config.client_ip.strip(), "--ip"
    elif chain is not None and getattr(chain, "client_ip", None):
        ip, ip_source = str(chain.client_ip), "boundary hop"
    helo_raw = getattr(chain, "client_helo", None) if chain is not None else None
    helo = helo_raw.strip().strip("[]") if isinstance(helo_raw, str) and helo_raw.strip() else None
    sender, sender_src = envelope_sender(ctx, chain)
    why = ""
    if ip is None or parse_ip(ip) is None:
        why = ("no client IP is known (no boundary hop with an IP; give --ip)" if ip is None
               else f"the client IP {ip!r} is not an IP address")
    elif sender is None and helo is None:
        why = "neither the envelope sender (Return-Path) nor the HELO name is known"
    if why:
        out.incomplete.append(f"SPF: {why}")
        out.findings.append(ctx.finding("SPF_INCOMPLETE", reason=why))
        out.artifact = SpfReport(ip=ip, ip_source=ip_source, mailfrom=sender, mailfrom_source=sender_src, helo=helo)
        return out
    assert ip is not None
    evaluations: list[SpfResult] = []
    results: list[VerifiedResult] = []
    mf: SpfResult | None = None
    now = int(ctx.clock().timestamp())
    if sender:
        dom = sender.rpartition("@")[2]
        mf = check_host(ip, dom, sender, helo or "", ctx.resolver, now=now)
        evaluations.append(mf)
        results.append(_verified(mf, "mailfrom"))
    hl: SpfResult | None = None
    if helo:
        hl = check_host(ip, helo, "", helo, ctx.resolver, now=now)
        evaluations.append(hl)
        results.append(_verified(hl, "helo"))
    report = SpfReport(ip=ip, ip_source=ip_source, mailfrom=sender, mailfrom_source=sender_src, helo=helo,
                       results=tuple(results), _evaluations=tuple(evaluations))
    out.artifact = report
    main, identity = (mf, "mailfrom") if mf is not None else (hl, "helo")
    if main is None:
        why = "the envelope sender is unknown and the HELO name is not usable"
        out.incomplete.append(f"SPF: {why}")
        out.findings.append(ctx.finding("SPF_INCOMPLETE", reason=why))
        return out
    out.findings.extend(_findings(ctx, main, identity, ip_source, sender_src))
    if hl is not None and main is not hl and hl.result is R.FAIL and hl.complete:
        out.findings.append(ctx.finding("SPF_HELO_FAIL", _dns_ev(hl), helo=hl.helo, ip=ip,
                                        mechanism=hl.mechanism or "", cause=hl.cause))
    for r in evaluations:
        if not r.complete:
            out.incomplete.append(f"SPF for {r.domain}: {r.cause}")
    return out


def _findings(ctx: Context, r: SpfResult, identity: str, ip_source: str, sender_src: str) -> list[Finding]:
    facts: dict[str, Any] = {
        "domain": r.domain, "ip": r.ip, "identity": "envelope sender" if identity == "mailfrom" else "HELO name",
        "sender": r.sender, "mechanism": r.mechanism or "(none)", "cause": r.cause, "ip_source": ip_source,
        "lookups": r.lookups, "lookup_limit": r.limits.dns_mechanisms, "void_lookups": r.void_lookups,
        "void_limit": r.limits.void_lookups, "explanation": r.explanation or "",
        "matched_in": r.matched_domain or r.domain,
    }
    ev = [Evidence(kind=EvidenceKind.COMPUTED, ref=f"SPF {identity} at {r.ip}", value=f"{r.result}: {r.cause}")]
    ev.extend(_dns_ev(r))
    out: list[Finding] = []
    if not r.complete:
        out.append(ctx.finding("SPF_INCOMPLETE", ev, reason=r.cause, **facts))
        return out
    if r.result is R.PERMERROR and "lookup limit" in r.cause:
        out.append(ctx.finding("SPF_LOOKUP_LIMIT", ev, **facts))
    elif r.result is R.PERMERROR and "void lookups" in r.cause:
        out.append(ctx.finding("SPF_VOID_LIMIT", ev, **facts))
    else:
        out.append(ctx.finding(_RESULT_CODE.get(r.result, "SPF_PERMERROR"), ev, **facts))
    broad = broad_terms(r.record)
    if broad:
        out.append(ctx.finding("SPF_PERMISSIVE_RECORD", [Evidence(kind=EvidenceKind.DNS, ref=f"TXT {r.domain}",
                                                                  value=(r.record or "")[:300])],
                               terms=" ".join(broad), **facts))
    return out
