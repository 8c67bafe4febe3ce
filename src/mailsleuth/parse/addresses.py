"""Address-list parsing for From, Sender, Reply-To, To, Return-Path: tolerant, bounded."""

from __future__ import annotations

import re
from email.utils import getaddresses

from mailsleuth.model.message import Address, Message

_ANGLE = re.compile(r"<\s*([^<>]*?)\s*>")
_MAX_ADDRESSES = 200
_MAX_PIECE = 1000


def _split_list(value: str) -> list[str]:
    """Split an address list at commas outside quotes, angle brackets and comments."""
    pieces: list[str] = []
    depth_paren = 0
    in_quote = in_angle = escaped = False
    start = 0
    for i, c in enumerate(value):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_quote:
            in_quote = c != '"'
        elif c == '"':
            in_quote = True
        elif c == "(":
            depth_paren += 1
        elif c == ")" and depth_paren:
            depth_paren -= 1
        elif depth_paren:
            continue
        elif c == "<":
            in_angle = True
        elif c == ">":
            in_angle = False
        elif c == "," and not in_angle:
            pieces.append(value[start:i])
            start = i + 1
    pieces.append(value[start:])
    return [p for p in pieces if p.strip()]


# The common shapes of one address -- "a@b.example", "<a@b.example>", "Name Surname <a@b.example>",
# "\"Surname, Name\" <a@b.example>" -- read without the stdlib parser (same result; anything else
# goes to it).
_FAST_ADDR = r"[A-Za-z0-9_%+=-]+(?:\.[A-Za-z0-9_%+=-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_FAST_BARE = re.compile(rf"[ \t]*(?:<({_FAST_ADDR})>|({_FAST_ADDR}))[ \t]*")
_FAST_NAMED = re.compile(
    rf"[ \t]*(?:([^\s\"(),.:;<>@\[\]\\]+(?: [^\s\"(),.:;<>@\[\]\\]+)*)|\"([^\"\\\r\n]+)\")[ \t]*<({_FAST_ADDR})>[ \t]*")


def _pairs(piece: str) -> list[tuple[str, str]]:
    """getaddresses([piece]), with a fast path for the common shapes."""
    m = _FAST_BARE.fullmatch(piece)
    if m is not None:
        return [("", m.group(1) or m.group(2))]
    m = _FAST_NAMED.fullmatch(piece)
    if m is not None:
        return [(m.group(1) or m.group(2), m.group(3))]
    return getaddresses([piece])


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
    pairs: list[tuple[str, str]] = []
    # The stdlib parser is quadratic on long tokens: split the list ourselves (bounded, linear) and
    # give it one address of at most _MAX_PIECE characters at a time.
    orphan = ""  # text before an unquoted comma that holds no address: "Bank Support, Team <x@y>"
    for piece in _split_list(value[:50_000])[:_MAX_ADDRESSES]:
        try:
            got = _pairs(piece[:_MAX_PIECE])
        except Exception:  # the stdlib parser has raised on hostile input in past releases
            continue
        if not any(a and "@" in a for _d, a in got):
            orphan = (orphan + "," + piece if orphan else piece)[:_MAX_PIECE]
            continue
        if orphan:
            # An unquoted comma split the display name from its address: join them back, so the
            # name a reader sees is the name we judge.
            got = [(f"{orphan.strip().strip(chr(34))}, {d}".strip(" ,") if i == 0 else d, a)
                   for i, (d, a) in enumerate(got)]
            orphan = ""
        pairs.extend(got)
    result = [make_address(d, a) for d, a in pairs[:_MAX_ADDRESSES] if a and "@" in a]
    if result:
        return tuple(result)
    # Fallback: take what is inside angle brackets, the rest as display name (bounded input: the
    # patterns below would be quadratic on a long run without '@').
    value = value[:_MAX_PIECE]
    m = _ANGLE.search(value)
    if m and "@" in m.group(1):
        return (make_address(value[: m.start()], m.group(1)),)
    m2 = re.search(r"[^\s<>\"@]+@[^\s<>\"@,;]+", value)
    if m2:
        return (make_address("", m2.group(0)),)
    return ()


def message_addresses(msg: Message, value: str) -> tuple[Address, ...]:
    """parse_addresses(value), computed once per message: several checks read the same From,
    Sender, Reply-To and Return-Path values."""
    return msg.memo(("addresses", value), lambda: parse_addresses(value))


def first_address(value: str) -> Address | None:
    found = parse_addresses(value)
    return found[0] if found else None


def domain_of(addr: str) -> str:
    """The domain of an address-like string (``<a@b>``, ``a@b``), lower-case, or ''."""
    a = addr.strip().strip("<>").strip()
    if "@" not in a:
        return ""
    return _idna_to_unicode(a.rpartition("@")[2].strip().rstrip(">"))
