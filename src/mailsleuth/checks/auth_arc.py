"""``auth.verify.arc``: the ARC chain validated by us (dkimpy, keys through our resolver).

A valid chain proves only that each sealer added its set and that nothing broke the chain since;
what the sealers claimed (their ARC-Authentication-Results) is worth as much as the sealers are.
The sealers are listed for the reader; whether a sealer deserves trust is not judged here.
"""

from __future__ import annotations

from typing import Any

from mailsleuth.auth import rfc822
from mailsleuth.auth.arc import verify_arc
from mailsleuth.auth.dkim import KeyFetcher
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.findings import Evidence, EvidenceKind

CODES = ("ARC_CHAIN_PASS", "ARC_CHAIN_FAIL", "ARC_CHAIN_UNVERIFIED", "ARC_SEALERS")


@check("auth.verify.arc", title="ARC chain, re-validated", codes=CODES, needs=("dns",))
def verify_arc_check(ctx: Context) -> Outcome:
    out = Outcome()
    msg = ctx.message
    if not (msg.get_all("ARC-Seal") or msg.get_all("ARC-Message-Signature")
            or msg.get_all("ARC-Authentication-Results")):
        return out
    res = verify_arc(ctx.message.raw, resolver=ctx.resolver, fetcher=KeyFetcher(ctx.resolver),
                     parsed=rfc822.shared(ctx.message))
    out.artifact = res
    ev = [Evidence(kind=EvidenceKind.HEADER, ref=f"ARC-Seal (i={i.instance})",
                   value=f"d={i.sealer_domain} s={i.sealer_selector} cv={i.cv}") for i in res.instances[:10]]
    sealers = ", ".join(f"{i.sealer_domain} (i={i.instance})" for i in res.instances[:10]) or "none"
    newest = res.instances[-1] if res.instances else None
    claims = ", ".join(f"{c.method}={c.result}" for c in newest.claims[:8]) if newest else ""
    facts: dict[str, Any] = {"n": len(res.instances), "sealers": sealers, "reason": res.reason, "cause": res.result.cause,
             "newest": newest.sealer_domain if newest else "", "claims": claims or "nothing"}
    if res.chain == "pass":
        out.findings.append(ctx.finding("ARC_CHAIN_PASS", ev, **facts))
    elif not res.complete:
        out.findings.append(ctx.finding("ARC_CHAIN_UNVERIFIED", ev, **facts))
        out.incomplete.append(f"ARC: {res.result.cause}")
    elif res.chain == "fail":
        out.findings.append(ctx.finding("ARC_CHAIN_FAIL", ev, **facts))
    if res.instances:
        out.findings.append(ctx.finding("ARC_SEALERS", ev, **facts))
    return out
