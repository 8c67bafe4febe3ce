"""Sending-platform fingerprints: which ESP, mailbox provider or gateway sent or relayed the
message, from its marks (data/platforms/*.toml). Works offline from the headers; uses the DNS
enrichment (NS/MX/SPF of the sender's domain, origin AS) when infra.dns ran."""

from __future__ import annotations

from mailsleuth.engine import Context, Outcome, check
from mailsleuth.infra.platforms import match, observe, platform_by_id
from mailsleuth.infra.view import view_for
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.infra import Enrichment, SignalHit

_KIND = {"header": EvidenceKind.HEADER, "message_id": EvidenceKind.HEADER, "return_path": EvidenceKind.HEADER,
         "dkim": EvidenceKind.HEADER, "host": EvidenceKind.HOP, "ns": EvidenceKind.DNS, "mx": EvidenceKind.DNS,
         "spf": EvidenceKind.DNS, "asn": EvidenceKind.DNS}


def _ev(h: SignalHit) -> Evidence:
    return Evidence(kind=_KIND.get(h.kind, EvidenceKind.COMPUTED), ref=h.ref, value=h.detail)


@check("infra.platform", title="Sending platform",
       after=("received.chain", "identity.alignment", "auth.verify.dkim", "infra.dns"),
       codes=("PLATFORM_MATCH", "PLATFORM_BULK_ESP", "PLATFORM_RELAY", "PLATFORM_FREEMAIL_ORIGIN"))
def infra_platform(ctx: Context) -> Outcome:
    view = view_for(ctx)
    enrichment = ctx.artifact("infra.dns")
    enriched = enrichment if isinstance(enrichment, Enrichment) else None
    result = match(observe(view, ctx.message, enriched), used_dns=enriched is not None)
    out = Outcome(artifact=result)
    for m in result.matches:
        ev = [_ev(h) for h in m.signals[:8]]
        marks = ", ".join(sorted({h.kind.replace("_", "-") for h in m.signals}))
        if m.role == "origin" and m.id == result.origin:
            out.findings.append(ctx.finding("PLATFORM_MATCH", ev, platform=m.name, platform_id=m.id, kind=m.kind,
                                            operator=m.operator, confidence=m.confidence,
                                            confidence_pct=f"{m.confidence:.0%}", marks=marks))
            if m.kind == "esp":
                out.findings.append(ctx.finding("PLATFORM_BULK_ESP", ev[:3], platform=m.name, operator=m.operator))
            p = platform_by_id(m.id)
            if p is not None and p.freemail:
                out.findings.append(ctx.finding("PLATFORM_FREEMAIL_ORIGIN", ev[:3], platform=m.name,
                                                domain=view.from_domain or "?"))
        elif m.role == "relay":
            out.findings.append(ctx.finding("PLATFORM_RELAY", ev[:4], platform=m.name, kind=m.kind,
                                            operator=m.operator, confidence_pct=f"{m.confidence:.0%}"))
    return out
