"""``auth.verify.dkim``: every DKIM-Signature re-verified by us, each step explained.

Times (t=, x=) are judged at the delivery time of the trusted hop (from ``received.chain`` when that
check ran, else the date of the top Received header) and at the wall clock. The findings here state
what was verified; how a failure is explained (changed after delivery, key rotated...) and weighed
is decided by ``auth.compare``, which also sees what the receivers reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from mailsleuth.auth import rfc822
from mailsleuth.auth.dkim import KeyFetcher, verify_message
from mailsleuth.auth.memo import addresses
from mailsleuth.domains import org_domain, same_org
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.auth import AuthResultValue, VerifiedResult
from mailsleuth.model.findings import Evidence, EvidenceKind

_BY = re.compile(r"\bby\s+([^\s;()]+)", re.IGNORECASE)
_FOR = re.compile(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedDelivery:
    """What we know of the recipient's own server: when it received the message and its name."""

    delivered_at: datetime | None
    source: str  # "received.chain", "top Received header" or "unknown"
    by_host: str | None
    for_addr: str | None


def _aware(v: Any) -> datetime | None:
    if not isinstance(v, datetime):
        return None
    return v if v.tzinfo is not None else v.replace(tzinfo=UTC)


def trusted_delivery(ctx: Context) -> TrustedDelivery:
    """Delivery time and host of the trusted hop: from ``received.chain`` if present, else the top Received."""
    chain = ctx.artifact("received.chain")
    delivered = _aware(getattr(chain, "delivered_at", None)) if chain is not None else None
    by_host: str | None = None
    for_addr: str | None = None
    if chain is not None:
        # ChainAnalysis.boundary: the hop where the message entered the recipient's side (a HopView).
        view = getattr(chain, "boundary", None)
        hop = getattr(view, "hop", view)
        if hop is not None and getattr(hop, "by_host", None):
            by_host, for_addr = hop.by_host, getattr(hop, "for_addr", None)
    top = ctx.message.get("Received")
    if top is not None:
        val = top.value[:4000]
        if by_host is None:
            m = _BY.search(val.partition(";")[0])
            by_host = m.group(1).rstrip(".").lower() if m else None
        if for_addr is None:
            m2 = _FOR.search(val.partition(";")[0])
            for_addr = m2.group(1) if m2 else None
        if delivered is None and chain is None and ";" in val:
            try:
                delivered = _aware(parsedate_to_datetime(val.rpartition(";")[2].strip()))
            except (TypeError, ValueError, IndexError, OverflowError):
                delivered = None
            if delivered is not None:
                return TrustedDelivery(delivered_at=delivered.astimezone(UTC), source="top Received header",
                                       by_host=by_host, for_addr=for_addr)
    return TrustedDelivery(delivered_at=delivered.astimezone(UTC) if delivered else None,
                           source="received.chain" if delivered else "unknown", by_host=by_host, for_addr=for_addr)


def from_domain(ctx: Context) -> str:
    h = ctx.message.get("From")
    if h is None:
        return ""
    addrs = addresses(ctx.message, h.value)
    return addrs[0].domain if addrs else ""


def aligned(d: str, frm: str) -> bool:
    """Relaxed alignment (same organizational domain); exact match when no org domain is known."""
    d, frm = d.strip(".").lower(), frm.strip(".").lower()
    if not d or not frm:
        return False
    if d == frm:
        return True
    return org_domain(d) is not None and same_org(d, frm)


CODES = (
    "DKIM_PASS_ALIGNED", "DKIM_PASS_UNALIGNED", "DKIM_HEADER_SIG_FAIL", "DKIM_BODY_HASH_MISMATCH",
    "DKIM_KEY_MISSING", "DKIM_KEY_UNAVAILABLE", "DKIM_KEY_UNUSABLE", "DKIM_SIGNATURE_INVALID", "DKIM_WEAK_KEY",
    "DKIM_SHA1", "DKIM_EXPIRED", "DKIM_EXPIRED_SINCE", "DKIM_TESTING_KEY", "DKIM_BODY_LENGTH_LIMIT",
    "DKIM_UNSIGNED_BODY_APPENDED", "DKIM_EXTRA_FROM",
)


def _ev(sig: VerifiedResult) -> tuple[Evidence, ...]:
    det = sig.details
    header = Evidence(kind=EvidenceKind.HEADER, ref=str(det.get("header_ref", "DKIM-Signature")),
                      value=f"d={det.get('d')} s={det.get('s')} a={det.get('algorithm')}")
    key_name = det.get("key_name")
    if not key_name:
        return (header,)
    status, record = det.get("key_status", ""), det.get("key_record", "")
    if type(key_name) is str and type(status) is str and type(record) is str:  # exact types: hashable
        return (header, _key_evidence(key_name, status, record))
    return (header, _read_key_evidence(key_name, status, record))


def _read_key_evidence(key_name: object, status: object, record: object) -> Evidence:
    """The DNS evidence of a key lookup: the name, its status and (the start of) the record."""
    return Evidence(kind=EvidenceKind.DNS, ref=f"TXT {key_name}",
                    value=str(status) + (" " + str(record)[:300] if record else ""))


# The same key lookups recur message after message (a frozen Evidence can be shared).
_key_evidence = lru_cache(maxsize=256)(_read_key_evidence)


@check("auth.verify.dkim", title="DKIM signatures, re-verified", codes=CODES, needs=("dns",),
       after=("received.chain",))
def verify_dkim(ctx: Context) -> Outcome:
    msg = ctx.message
    out = Outcome()
    td = trusted_delivery(ctx)
    now = ctx.clock()
    result = verify_message(msg.raw, has_body=msg.has_body, resolver=ctx.resolver, now=now,
                            delivered_at=td.delivered_at, delivered_at_source=td.source,
                            fetcher=KeyFetcher(ctx.resolver), parsed=rfc822.shared(msg),
                            presumed_signed=bool(msg.get_all("DKIM-Signature")))
    out.artifact = result
    out.incomplete.extend(result.notes)
    frm = from_domain(ctx)
    for sig in result.signatures:
        det = sig.details
        d = str(det.get("d", ""))
        ev = _ev(sig)
        facts: dict[str, Any] = {"d": d, "s": det.get("s", ""), "from_domain": frm or "(none)",
                                 "algorithm": det.get("algorithm", ""), "cause": sig.cause,
                                 "ref": det.get("header_ref", "")}
        r = sig.result
        if r is AuthResultValue.PASS:
            facts["body_note"] = ("and the body hash matches" if det.get("body_ok")
                                  else "; the body could not be checked (headers only)")
            code = "DKIM_PASS_ALIGNED" if aligned(d, frm) else "DKIM_PASS_UNALIGNED"
            out.findings.append(ctx.finding(code, ev, **facts))
            if not sig.complete:
                out.incomplete.append(f"DKIM d={d}: header signature verified, body not checked (headers only)")
        elif r is AuthResultValue.FAIL:
            if det.get("header_ok") is False:
                out.findings.append(ctx.finding("DKIM_HEADER_SIG_FAIL", ev, **facts))
            if det.get("body_ok") is False:
                out.findings.append(ctx.finding("DKIM_BODY_HASH_MISMATCH", ev, computed=det.get("computed_bh", ""),
                                                bh=det.get("bh", ""), **facts))
            if det.get("header_ok") and det.get("body_ok") is not False and "expired" in sig.cause:
                out.findings.append(ctx.finding("DKIM_EXPIRED", ev, x=det.get("x_iso"), **facts))
            elif det.get("header_ok") and det.get("body_ok") is not False:
                out.findings.append(ctx.finding("DKIM_SIGNATURE_INVALID", ev, **facts))
        elif r is AuthResultValue.POLICY:
            pass  # weak key: reported below
        elif r is AuthResultValue.PERMERROR:
            status = str(det.get("key_status", ""))
            if status in ("NXDOMAIN", "NODATA"):
                out.findings.append(ctx.finding("DKIM_KEY_MISSING", ev, status=status, **facts))
                out.incomplete.append(f"DKIM d={d} s={det.get('s')}: key not published any more ({status}); cannot re-verify")
            elif det.get("key_record"):
                out.findings.append(ctx.finding("DKIM_KEY_UNUSABLE", ev, **facts))
            else:
                out.findings.append(ctx.finding("DKIM_SIGNATURE_INVALID", ev, **facts))
        else:
            out.findings.append(ctx.finding("DKIM_KEY_UNAVAILABLE", ev, status=det.get("key_status", ""), **facts))
            out.incomplete.append(f"DKIM d={d} s={det.get('s')}: {sig.cause}")
        # Properties worth knowing whatever the result.
        bits = det.get("key_bits")
        if det.get("key_type") == "rsa" and isinstance(bits, int) and bits < 1024:
            out.findings.append(ctx.finding("DKIM_WEAK_KEY", ev, bits=bits, **facts))
        if det.get("algorithm") == "rsa-sha1":
            out.findings.append(ctx.finding("DKIM_SHA1", ev, **facts))
        if det.get("testing"):
            out.findings.append(ctx.finding("DKIM_TESTING_KEY", ev, **facts))
        if r is AuthResultValue.PASS and det.get("expired_now") and not det.get("expired_at_delivery"):
            out.findings.append(ctx.finding("DKIM_EXPIRED_SINCE", ev, x=det.get("x_iso"), **facts))
        if det.get("l") is not None:
            extra = det.get("unsigned_body_bytes")
            if isinstance(extra, int) and extra > 0:
                out.findings.append(ctx.finding("DKIM_UNSIGNED_BODY_APPENDED", ev, l=det.get("l"), extra=extra, **facts))
            else:
                out.findings.append(ctx.finding("DKIM_BODY_LENGTH_LIMIT", ev, l=det.get("l"), **facts))
        from_headers = det.get("from_headers")
        if isinstance(from_headers, int) and from_headers > 1 and not det.get("from_oversigned"):
            out.findings.append(ctx.finding("DKIM_EXTRA_FROM", ev, count=from_headers, **facts))
    return out
