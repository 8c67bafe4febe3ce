"""Checks on how the input was read: headers only, parse damage, MIME limits."""

from __future__ import annotations

from operator import attrgetter

from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.message import InputKind

_DEFECTS = attrgetter("defects")
_LIMIT_WORDS = ("limit", "deeper than", "more than", "larger than")


@check("input.structure", title="How the input was read",
       codes=("INPUT_DEFECT", "INPUT_HEADERS_ONLY", "INPUT_MIME_LIMIT"))
def input_structure(ctx: Context) -> Outcome:
    msg = ctx.message
    out = Outcome()
    if msg.kind is InputKind.HEADERS_ONLY:
        out.findings.append(ctx.finding("INPUT_HEADERS_ONLY"))
    for d in msg.defects[:20]:
        code = "INPUT_MIME_LIMIT" if any(w in d for w in _LIMIT_WORDS) else "INPUT_DEFECT"
        out.findings.append(ctx.finding(code, [Evidence(kind=EvidenceKind.COMPUTED, ref="header block", value=d)],
                                        defect=d))
    for h in filter(_DEFECTS, msg.headers):  # the few headers with defects, picked out in C
        for d in h.defects[:3]:
            out.findings.append(ctx.finding("INPUT_DEFECT", [Evidence(kind=EvidenceKind.HEADER, ref=h.ref,
                                                                      value=h.raw[:200])], defect=f"{h.name}: {d}"))
            if len(out.findings) > 40:
                break
    if msg.mime is not None:
        seen = 0
        for part in msg.mime.walk():
            for d in part.defects:
                code = "INPUT_MIME_LIMIT" if any(w in d for w in _LIMIT_WORDS) else "INPUT_DEFECT"
                out.findings.append(ctx.finding(code, [Evidence(kind=EvidenceKind.BODY, ref=f"part {part.path or 'root'}",
                                                                value=part.content_type)], defect=d))
                seen += 1
            if seen >= 20:
                break
    out.artifact = {
        "kind": msg.kind.value,
        "has_body": msg.has_body,
        "line_ends": "CRLF" if msg.crlf else "LF",
        "header_count": len(msg.headers),
        "size": len(msg.raw),
        "notes": list(msg.notes),
    }
    return out
