"""Address-list parsing for From, Sender, Reply-To, To, Return-Path: tolerant, bounded."""

from __future__ import annotations

import re
from email.utils import getaddresses

from mailsleuth.model.message import Address

_ANGLE = re.compile(r"<\s*([^<>]*?)\s*>")
_MAX_ADDRESSES = 200


def _idna_to_unicode(domain: str) -> str:
    d = domain.strip().strip(".").lower()
    if "xn--" not in d:
        return d
    labels = []
    for label in d.split("."):
        if label.startswith("xn--"):
            try:
                labels.append(label.encode("ascii").decode("idna"))
                continue
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def make_address(display: str, addr: str) -> Address:
    addr = addr.strip()
    local, sep, domain = addr.rpartition("@")
    if not sep:
        local, domain = addr, ""
    return Address(display_name=display.strip().strip('"').strip(), addr=addr, local=local,
                   domain=_idna_to_unicode(domain))


def parse_addresses(value: str) -> tuple[Address, ...]:
    """All addresses in a decoded header value. Never raises."""
    if not value.strip():
        return ()
    value = value[:20000]
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib parser has raised on hostile input in past releases
        pairs = []
    result = [make_address(d, a) for d, a in pairs[:_MAX_ADDRESSES] if a and "@" in a]
    if result:
        return tuple(result)
    # Fallback: take what is inside angle brackets, the rest as display name.
    m = _ANGLE.search(value)
    if m and "@" in m.group(1):
        return (make_address(value[: m.start()], m.group(1)),)
    m2 = re.search(r"[^\s<>\"@]+@[^\s<>\"@,;]+", value)
    if m2:
        return (make_address("", m2.group(0)),)
    return ()


def first_address(value: str) -> Address | None:
    found = parse_addresses(value)
    return found[0] if found else None


def domain_of(addr: str) -> str:
    """The domain of an address-like string (``<a@b>``, ``a@b``), lower-case, or ''."""
    a = addr.strip().strip("<>").strip()
    if "@" not in a:
        return ""
    return _idna_to_unicode(a.rpartition("@")[2].strip().rstrip(">"))
