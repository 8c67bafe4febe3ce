"""Domain-name helpers shared by every check: organizational domains (PSL), IP literals, IDNA.

The Public Suffix List comes from the publicsuffixlist package, which ships the list: nothing is
downloaded at run time. (RFC 9989's DNS tree walk lives in mailsleuth.auth.dmarc.)
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

_PSL = PublicSuffixList(only_icann=False)
_PSL_ICANN = PublicSuffixList(only_icann=True)


def normalize(name: str) -> str:
    """Lower-case, strip dots and brackets; U-labels for IDNs (xn-- decoded)."""
    n = name.strip().strip("[]").rstrip(".").lower()
    if "xn--" in n:
        out = []
        for label in n.split("."):
            if label.startswith("xn--"):
                try:
                    out.append(label.encode("ascii").decode("idna"))
                    continue
                except (UnicodeError, ValueError):
                    pass
            out.append(label)
        n = ".".join(out)
    return n


def to_ascii(name: str) -> str:
    """A-label form for DNS queries; returns the input lower-cased when it cannot be encoded."""
    n = name.strip().rstrip(".").lower()
    try:
        n.encode("ascii")
        return n
    except UnicodeEncodeError:
        pass
    try:
        return ".".join(lab.encode("idna").decode("ascii") if lab else lab for lab in n.split("."))
    except UnicodeError:
        return n


@lru_cache(maxsize=8192)
def ip_address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``ipaddress.ip_address(text)``, or None when ``text`` is not an address (no stripping);
    parsed once per distinct string."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def is_ip(text: str) -> bool:
    t = text.strip().strip("[]")
    if ":" not in t and t.strip("0123456789."):
        return False  # neither IPv6 (has ':') nor dotted IPv4 (ASCII digits and dots only): most names
    return ip_address_of(t) is not None


@lru_cache(maxsize=65536)
def org_domain(name: str, *, icann_only: bool = False) -> str | None:
    """The organizational (registrable) domain by the PSL (RFC 7489 section 3.2), or None for a
    public suffix, an IP literal or an empty name."""
    n = normalize(name)
    if not n or is_ip(n) or ("." not in n and not n):
        return None
    psl = _PSL_ICANN if icann_only else _PSL
    try:
        result = psl.privatesuffix(n)
    except Exception:
        return None
    return result


@lru_cache(maxsize=65536)
def public_suffix(name: str) -> str | None:
    n = normalize(name)
    if not n or is_ip(n):
        return None
    try:
        return _PSL.publicsuffix(n)
    except Exception:
        return None


def same_org(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    oa, ob = org_domain(a), org_domain(b)
    return oa is not None and oa == ob


def is_subdomain(name: str, parent: str) -> bool:
    n, p = normalize(name), normalize(parent)
    return n == p or n.endswith("." + p)


# Every special-purpose block of the IANA registries (RFC 6890 and later: private, shared, loopback,
# link-local, documentation, benchmarking, multicast, reserved, IPv4-mapped ...) lies under one of
# these: IPv4 first octets, and outside 2000::/3 less 2001::/16 (protocol assignments, documentation),
# 2002::/16 (6to4) and 3fff::/16 (documentation) for IPv6. An address elsewhere is global.
_V4_SPECIAL_FIRST_OCTETS = frozenset({0, 10, 100, 127, 169, 172, 192, 198, 203, *range(224, 256)})
_V6_SPECIAL_IN_GLOBAL = frozenset({0x2001, 0x2002, 0x3FFF})  # first 16 bits


def plainly_global(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True when ``addr`` lies outside every block that ip_category names (most addresses in mail
    headers): no need to test it against each block."""
    if isinstance(addr, ipaddress.IPv4Address):
        return (int(addr) >> 24) not in _V4_SPECIAL_FIRST_OCTETS
    top = int(addr) >> 112
    return 0x2000 <= top <= 0x3FFF and top not in _V6_SPECIAL_IN_GLOBAL


@lru_cache(maxsize=8192)
def ip_category(ip: str) -> str | None:
    """'private', 'loopback', 'link-local', 'reserved', 'multicast', 'unspecified', 'cgnat',
    'documentation' or None for a global address (or something that is not an IP)."""
    addr = ip_address_of(ip.strip().strip("[]"))
    if addr is None or plainly_global(addr):
        return None
    return category_of(addr)


def category_of(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """ip_category for a parsed address, testing it against every block."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_multicast:
        return "multicast"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _CGNAT:
        return "cgnat"
    for net in _DOC_NETS:
        if addr.version == net.version and addr in net:
            return "documentation"
    if addr.is_private:
        return "private"
    if addr.is_reserved:
        return "reserved"
    return None


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_DOC_NETS = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def has_known_suffix(name: str) -> bool:
    """True when the name ends in a suffix listed in the PSL's ICANN section (so 'report.pdf'
    is not taken for a domain just because it has a dot)."""
    n = normalize(name)
    if not n or "." not in n or is_ip(n):
        return False
    try:
        return _PSL_ICANN.publicsuffix(n, accept_unknown=False) is not None
    except Exception:
        return False
