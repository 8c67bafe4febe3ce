"""SPF macro strings (RFC 7208 section 7): syntax check and expansion.

A macro string is parsed into literal pieces and ``%{...}`` expansions once; expansion is a pure
function of the parsed pieces and a :class:`MacroContext`. Letters ``c``, ``r`` and ``t`` are only
allowed in explanation strings. An upper-case letter URL-escapes its value.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote

_EXPAND = re.compile(r"%\{([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)\}", re.ASCII)
_LETTERS = frozenset("slodiphv")
_EXP_LETTERS = _LETTERS | frozenset("crt")
MAX_EXPANDED = 4096  # bound on any single expansion result


class MacroError(ValueError):
    """The macro string is not valid RFC 7208 syntax (a permerror)."""


@dataclass(frozen=True, slots=True)
class _Expand:
    letter: str  # as written (case kept: upper = URL-escape)
    digits: int | None
    reverse: bool
    delimiters: str


Piece = str | _Expand


@dataclass(frozen=True, slots=True, kw_only=True)
class MacroContext:
    sender: str  # local@domain
    local: str
    sender_domain: str
    domain: str  # current <domain> of check_host
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    helo: str
    receiver: str = "unknown"
    timestamp: int = 0
    validated_ptr: str | None = None  # filled lazily by the caller for %{p}
    upper_hex: bool = False  # IPv6 nibbles in upper case (DNS is case-blind; keeps the client's spelling)


def parse(text: str, *, exp: bool = False) -> tuple[Piece, ...]:
    """Split a macro string into pieces; raise MacroError on any syntax error."""
    pieces: list[Piece] = []
    allowed = _EXP_LETTERS if exp else _LETTERS
    i, n = 0, len(text)
    lit: list[str] = []
    while i < n:
        c = text[i]
        if c != "%":
            o = ord(c)
            # macro-literal = %x21-24 / %x26-7E; explanation strings also allow SP.
            if not (0x21 <= o <= 0x7E or (exp and c == " ")):
                raise MacroError(f"character {c!r} is not allowed in a macro string")
            lit.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "%":
            lit.append("%")
            i += 2
        elif nxt == "_":
            lit.append(" ")
            i += 2
        elif nxt == "-":
            lit.append("%20")
            i += 2
        elif nxt == "{":
            m = _EXPAND.match(text, i)
            if m is None:
                raise MacroError(f"malformed macro at {text[i:i + 12]!r}")
            letter, digits, rev, delims = m.groups()
            if letter.lower() not in allowed:
                raise MacroError(f"macro letter {letter!r} is not allowed here")
            if digits and int(digits) == 0:
                raise MacroError("a macro digit transformer must be non-zero")
            if lit:
                pieces.append("".join(lit))
                lit = []
            pieces.append(_Expand(letter, int(digits) if digits else None, bool(rev), delims))
            i = m.end()
        else:
            raise MacroError(f"'%' must be followed by '{{', '%', '_' or '-' (got {nxt!r})")
    if lit:
        pieces.append("".join(lit))
    return tuple(pieces)


def has_letter(pieces: tuple[Piece, ...], letter: str) -> bool:
    return any(isinstance(p, _Expand) and p.letter.lower() == letter for p in pieces)


def ends_with_macro(pieces: tuple[Piece, ...]) -> bool:
    return bool(pieces) and isinstance(pieces[-1], _Expand)


def ip_dotted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, upper: bool = False) -> str:
    if ip.version == 4:
        return str(ip)
    nibbles = ip.exploded.replace(":", "")
    return ".".join(nibbles.upper() if upper else nibbles)


def _value(letter: str, ctx: MacroContext) -> str:
    ip = ctx.ip
    match letter:
        case "s":
            return ctx.sender
        case "l":
            return ctx.local
        case "o":
            return ctx.sender_domain
        case "d":
            return ctx.domain
        case "i":
            return ip_dotted(ip, upper=ctx.upper_hex)
        case "p":
            return ctx.validated_ptr or "unknown"
        case "v":
            return "in-addr" if ip.version == 4 else "ip6"
        case "h":
            return ctx.helo
        case "c":
            return str(ip)
        case "r":
            return ctx.receiver or "unknown"
        case "t":
            return str(ctx.timestamp)
    return ""  # pragma: no cover - parse() rejects other letters


def expand(pieces: tuple[Piece, ...], ctx: MacroContext) -> str:
    out: list[str] = []
    size = 0
    for p in pieces:
        if isinstance(p, str):
            s = p
        else:
            value = _value(p.letter.lower(), ctx)
            if p.digits is not None or p.reverse or p.delimiters:
                delims = p.delimiters or "."
                parts = re.split("[" + re.escape(delims) + "]", value)
                if p.reverse:
                    parts.reverse()
                if p.digits is not None:
                    parts = parts[-p.digits:]
                value = ".".join(parts)
            if p.letter.isupper():
                value = quote(value, safe="")
            s = value
        size += len(s)
        if size > MAX_EXPANDED:
            raise MacroError("macro expansion is too long")
        out.append(s)
    return "".join(out)
