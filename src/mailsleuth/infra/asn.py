"""IP -> origin AS and network owner through the public origin-ASN TXT zones (Team Cymru).

``origin.asn.cymru.com`` (IPv4, reversed octets) and ``origin6.asn.cymru.com`` (IPv6, reversed
nibbles) answer ``"ASN | prefix | CC | registry | allocated"``; ``AS<n>.asn.cymru.com`` answers
``"ASN | CC | registry | allocated | AS name"``. Through the resolver, so offline or without the
names in a snapshot the network stays unknown.
"""

from __future__ import annotations

import ipaddress

ORIGIN4 = "origin.asn.cymru.com"
ORIGIN6 = "origin6.asn.cymru.com"
AS_ZONE = "asn.cymru.com"


def origin_name(ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv4Address):
        return ".".join(reversed(str(addr).split("."))) + "." + ORIGIN4
    nibbles = addr.exploded.replace(":", "")
    return ".".join(reversed(nibbles)) + "." + ORIGIN6


def reverse_name(ip: str) -> str | None:
    try:
        return ipaddress.ip_address(ip.strip().strip("[]")).reverse_pointer
    except ValueError:
        return None


def as_name(asn: int) -> str:
    return f"AS{asn}.{AS_ZONE}"


def _fields(txt: str) -> list[str]:
    return [f.strip() for f in txt.split("|")]


def parse_origin(records: tuple[str, ...]) -> tuple[int | None, str | None, str | None, str | None, str | None]:
    """(asn, prefix, country, registry, allocated) from the first usable origin record.
    A record may list several AS numbers separated by spaces (multi-origin); the first is taken."""
    for rec in records[:8]:
        f = _fields(rec)
        if not f or not f[0]:
            continue
        first = f[0].split()[0]
        if not first.isdigit():
            continue
        pad = [*f, "", "", "", ""]
        return int(first), pad[1] or None, pad[2] or None, pad[3] or None, pad[4] or None
    return None, None, None, None, None


def parse_as(records: tuple[str, ...]) -> str | None:
    """The AS name from an AS<n>.asn.cymru.com TXT record."""
    for rec in records[:4]:
        f = _fields(rec)
        if len(f) >= 5 and f[4]:
            return f[4][:200]
    return None
