"""Who vouches for a message: authenticated domains gathered from other checks' artifacts.

A brand vouches for an odd-looking sender when one of its own (official, not user) domains
- signed the message with DKIM, covering From (verified by us: ``auth.verify.dkim``; or, when we
  could not verify, a dkim=pass reported by a receiver inside the trust boundary: ``auth.reported``);
- authorised the sending IP by SPF as the envelope sender (``auth.verify.spf`` / trusted reports);
- passed DMARC (``auth.verify.dmarc`` / trusted reports);
- runs the sender domain's DNS or mail exchangers (``infra.dns``, or an NS/MX lookup of our own).

Artifacts belong to colleagues' checks and may be absent or shaped differently over time: every
read here is defensive and never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mailsleuth.domains import org_domain

_MAX_ITEMS = 50


@dataclass(frozen=True, slots=True)
class Attestation:
    kind: str  # dkim | spf | dmarc | dns
    domain: str  # the authenticated domain (signer, SPF domain, DMARC domain, NS/MX operator)
    verified: bool  # True: our own verification or DNS; False: reported by a trusted receiver
    ref: str
    detail: str = ""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _items(obj: Any, *names: str) -> list[Any]:
    """The list inside an artifact: one of the named attributes, or the artifact itself if a list."""
    if obj is None:
        return []
    for n in names:
        inner = _get(obj, n)
        if isinstance(inner, list | tuple):
            return list(inner)[:_MAX_ITEMS]
    if isinstance(obj, list | tuple):
        return list(obj)[:_MAX_ITEMS]
    return [obj]


def _is_pass(result: Any) -> bool:
    value = _get(result, "value", result)
    return str(value).strip().lower() == "pass"


def _domain_from(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    t = text.strip().strip("<>").lower()
    if "@" in t:
        t = t.rsplit("@", 1)[1]
    if "=" in t:
        t = t.split("=", 1)[1].split()[0] if t.split("=", 1)[1].split() else ""
    t = t.strip(".; ")
    return t or None


def from_verified(artifacts: Any) -> list[Attestation]:
    """Attestations from our own verifications (DKIM, SPF, DMARC checks)."""
    out: list[Attestation] = []
    for sig in _items(artifacts("auth.verify.dkim"), "signatures", "results"):
        details = _get(sig, "details", {}) or {}
        d = _domain_from(_get(details, "d")) or _domain_from(_get(sig, "domain"))
        if not d or not _is_pass(_get(sig, "result")):
            continue
        if _get(details, "from_signed", True) is False:
            continue
        out.append(Attestation("dkim", d, True, "auth.verify.dkim", "a verified DKIM signature covering From"))
    for res in _items(artifacts("auth.verify.spf"), "results", "checks"):
        if not _is_pass(_get(res, "result")):
            continue
        details = _get(res, "details", {}) or {}
        d = (_domain_from(_get(details, "domain")) or _domain_from(_get(res, "domain"))
             or _domain_from(_get(res, "subject")))
        if d:
            out.append(Attestation("spf", d, True, "auth.verify.spf", "SPF authorises the sending IP"))
    for res in _items(artifacts("auth.verify.dmarc"), "results"):
        if not _is_pass(_get(res, "result")):
            continue
        details = _get(res, "details", {}) or {}
        d = (_domain_from(_get(details, "from_domain")) or _domain_from(_get(details, "domain"))
             or _domain_from(_get(res, "subject")))
        if d:
            out.append(Attestation("dmarc", d, True, "auth.verify.dmarc", "DMARC passes"))
    return out


def verified_failures(artifacts: Any) -> dict[str, str]:
    """Signer domain -> cause, for DKIM signatures our own verification found broken."""
    out: dict[str, str] = {}
    for sig in _items(artifacts("auth.verify.dkim"), "signatures", "results"):
        details = _get(sig, "details", {}) or {}
        d = _domain_from(_get(details, "d"))
        if d and str(_get(_get(sig, "result"), "value", _get(sig, "result"))).lower() == "fail":
            out[d] = str(_get(sig, "cause", "") or "the signature did not verify")[:160]
    return out


def from_reported(artifact: Any) -> list[Attestation]:
    """dkim/spf/dmarc=pass statements by receivers inside the trust boundary (claims we trust)."""
    out: list[Attestation] = []
    for rep in _items(artifact, "reports", "headers", "results", "items"):
        if _get(rep, "trusted") is not True:
            continue
        ref = _get(rep, "ref", "") or _get(rep, "header_name", "")
        for res in list(_get(rep, "results", ()) or ())[:_MAX_ITEMS]:
            method = str(_get(res, "method", "")).lower()
            if not _is_pass(_get(res, "result")):
                continue
            prop = getattr(res, "prop", None)

            def p(key: str, _prop: Any = prop, _res: Any = res) -> str | None:
                if callable(_prop):
                    try:
                        v = _prop(key)
                        return v if isinstance(v, str) else None
                    except Exception:
                        return None
                props = _get(_res, "properties", {})
                return props.get(key) if isinstance(props, dict) else None

            if method == "dkim":
                d = _domain_from(p("header.d")) or _domain_from(p("header.i"))
                if d:
                    out.append(Attestation("dkim", d, False, str(ref), "dkim=pass reported by a trusted receiver"))
            elif method == "spf":
                d = _domain_from(p("smtp.mailfrom")) or _domain_from(p("smtp.helo"))
                if d:
                    out.append(Attestation("spf", d, False, str(ref), "spf=pass reported by a trusted receiver"))
            elif method == "dmarc":
                d = _domain_from(p("header.from"))
                if d:
                    out.append(Attestation("dmarc", d, False, str(ref), "dmarc=pass reported by a trusted receiver"))
    return out


def dns_operators(infra: Any, domain: str) -> list[tuple[str, str]]:
    """(kind, operator org domain) of the name servers and mail exchangers of ``domain`` as the
    infrastructure check recorded them."""
    out: list[tuple[str, str]] = []
    reg = org_domain(domain) or domain
    for info in _items(infra, "domains"):
        name = str(_get(info, "domain", "")).lower().rstrip(".")
        if name not in (domain, reg):
            continue
        for op in list(_get(info, "ns_operators", ()) or ())[:20]:
            od = org_domain(str(op))
            if od:
                out.append(("NS", od))
        for mx in list(_get(info, "mx", ()) or ())[:20]:
            host = str(mx).split()[-1] if str(mx).split() else ""
            od = org_domain(host)
            if od:
                out.append(("MX", od))
    return out


def vouching(attestations: Iterable[Attestation], brand_domains: frozenset[str]) -> list[Attestation]:
    """The attestations made by one of the brand's own domains (or subdomains of them)."""
    out = []
    for a in attestations:
        od = org_domain(a.domain) or a.domain
        if od in brand_domains:
            out.append(a)
    return out
