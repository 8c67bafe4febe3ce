"""Opt-in, safe following of a link's redirect chain.

At every hop: the host is resolved by us (A, then AAAA, through the injected resolver), every
address is vetted (no private, loopback, link-local, CGNAT, multicast, reserved or cloud-metadata
address; no internal names), and the connection goes to the vetted address with the Host header
and TLS SNI set to the name: a DNS answer that changes between the check and the connection
(rebinding) cannot redirect us. HEAD first, GET only when HEAD fails or is refused (405/501);
no cookies, no JavaScript, bounded reads, at most ``MAX_HOPS`` hops.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from mailsleuth.dns.base import Status
from mailsleuth.domains import ip_category, is_ip
from mailsleuth.http import HttpResponse
from mailsleuth.model.body import Chain, Hop

MAX_HOPS = 10
_REDIRECTS = {301, 302, 303, 307, 308}
_FORBIDDEN = {"private", "loopback", "link-local", "unspecified", "multicast", "reserved", "cgnat"}
# Cloud metadata services (also covered by the categories above, listed so that no table change
# in the ipaddress module can let one through).
_METADATA_IPS = frozenset({"169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254",
                           "fd00:ec2::23"})
_INTERNAL_NAMES = ("metadata.google.internal", "metadata", "localhost", "instance-data")
_INTERNAL_SUFFIXES = (".internal", ".localhost", ".local", ".localdomain", ".intranet", ".corp", ".home.arpa",
                      ".lan")


class PinnedHttp(Protocol):
    def request_pinned(self, method: str, url: str, ip: str, *, headers: dict[str, str] | None = None,
                       timeout: float | None = None, max_bytes: int = 65536) -> HttpResponse: ...


class _Resolver(Protocol):
    def query(self, name: str, rdtype: str) -> object: ...


def address_refusal(ip: str, *, allow_loopback: bool = False) -> str | None:
    """Why we must not connect to ``ip`` (None when it is a public address we may use)."""
    try:
        addr = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return "not an IP address"
    text = str(addr)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        text = str(addr.ipv4_mapped)
    if text in _METADATA_IPS or str(addr) in _METADATA_IPS:
        return f"{text} is a cloud metadata address"
    cat = ip_category(text)
    if cat == "loopback" and allow_loopback:
        return None
    if cat in _FORBIDDEN:
        return f"{text} is a {cat} address"
    return None


def name_refusal(host: str) -> str | None:
    h = host.lower().rstrip(".")
    if h in _INTERNAL_NAMES or h.endswith(_INTERNAL_SUFFIXES) or "." not in h:
        return f"{h} is an internal or single-label name"
    return None


def resolve_vetted(host: str, resolver: _Resolver, *, allow_loopback: bool) -> tuple[str | None, str | None]:
    """(address to connect to, None) or (None, why not)."""
    if is_ip(host):
        why = address_refusal(host, allow_loopback=allow_loopback)
        return (None, why) if why else (host.strip("[]"), None)
    why = name_refusal(host)
    if why and not (allow_loopback and host.lower() == "localhost"):
        return None, why
    addresses: list[str] = []
    statuses = []
    for rdtype in ("A", "AAAA"):
        ans = resolver.query(host, rdtype)
        status = getattr(ans, "status", None)
        statuses.append(str(getattr(status, "value", status)))
        if status is Status.NOERROR:
            addresses.extend(str(r) for r in getattr(ans, "records", ()))
    if not addresses:
        return None, f"{host} did not resolve ({'/'.join(statuses)})"
    refusals = [address_refusal(a, allow_loopback=allow_loopback) for a in addresses]
    bad = [r for r in refusals if r]
    if bad:
        # A name that answers with any forbidden address is refused outright: picking the public
        # one would still let the owner of the name probe which internal addresses we reach.
        return None, f"{host} resolves to a forbidden address: {bad[0]}"
    return addresses[0], None


def follow(url: str, *, http: PinnedHttp, resolver: _Resolver, allow_loopback: bool = False,
           timeout: float = 5.0, deadline: float | None = None,
           clock: Callable[[], float] = time.monotonic) -> Chain:
    hops: list[Hop] = []
    seen: set[str] = set()
    current = url
    for _ in range(MAX_HOPS):
        if deadline is not None and clock() > deadline:
            return Chain(start=url, hops=tuple(hops), final=hops[-1].url if hops else None, outcome="timeout")
        try:
            parts = urlsplit(current)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            hops.append(Hop(url=current, error="invalid URL"))
            return Chain(start=url, hops=tuple(hops), final=None, outcome="error")
        if parts.scheme not in ("http", "https") or not host:
            hops.append(Hop(url=current, error=f"not followed: scheme {parts.scheme or '?'}"))
            return Chain(start=url, hops=tuple(hops), final=current if hops[:-1] else None, outcome="stopped")
        ip, why = resolve_vetted(host, resolver, allow_loopback=allow_loopback)
        if ip is None:
            if why and " did not resolve " in why:
                hops.append(Hop(url=current, error=why))
                return Chain(start=url, hops=tuple(hops), final=None, outcome="error")
            hops.append(Hop(url=current, error=f"refused: {why}"))
            return Chain(start=url, hops=tuple(hops), final=None, outcome="refused")
        resp = http.request_pinned("HEAD", current, ip, timeout=timeout, max_bytes=0)
        method = "HEAD"
        if resp.error or resp.status in (0, 403, 405, 501):
            resp = http.request_pinned("GET", current, ip, timeout=timeout, max_bytes=65536)
            method = "GET"
        location = resp.headers.get("location") or resp.headers.get("Location")
        hops.append(Hop(url=current, method=method, status=resp.status, ip=ip,
                        location=location[:2048] if location else None, error=resp.error))
        if resp.error:
            return Chain(start=url, hops=tuple(hops), final=None, outcome="error")
        if resp.status in _REDIRECTS and location:
            nxt = urljoin(current, location.strip())[:8192]
            if nxt in seen or nxt == current:
                return Chain(start=url, hops=tuple(hops), final=current, outcome="loop")
            seen.add(current)
            current = nxt
            continue
        return Chain(start=url, hops=tuple(hops), final=current, outcome="ok")
    return Chain(start=url, hops=tuple(hops), final=current, outcome="too-many-hops")
