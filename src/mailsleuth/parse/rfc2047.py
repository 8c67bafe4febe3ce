"""RFC 2047 encoded-word decoding in any charset, tolerant of real-world damage.

Handles: adjacent encoded words separated by white space (joined), words split in the middle of a
multi-byte character (bytes of adjacent words with the same charset are joined before decoding),
ISO-2022-JP / Shift_JIS / mislabelled charsets (via mailsleuth.model.text.decode_bytes),
lower-case ``b``/``q``, missing padding, and raw 8-bit header bytes (UTF-8, else CP932, else CP1252).
"""

from __future__ import annotations

import base64
import binascii
import re

from mailsleuth.model.text import decode_bytes

_EW = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_WS_BETWEEN = re.compile(r"^[ \t\r\n]+$")
_MAX_WORDS = 2000


def _q_decode(data: str) -> bytes:
    """RFC 2047 'Q': '_' is a space, '=XX' a byte; anything else is kept (C speed via binascii)."""
    return binascii.a2b_qp(data.encode("latin-1", errors="replace"), header=True)


def _b_decode(data: str) -> bytes:
    data = data.strip()
    data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return b""


def decode_header_value(value: str, defects: list[str] | None = None) -> str:
    """Decode encoded words in an (unfolded) header value."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pos = 0
    pending_charset: str | None = None
    pending: bytearray = bytearray()

    def flush() -> None:
        nonlocal pending_charset, pending
        if pending_charset is not None:
            out.append(decode_bytes(bytes(pending), pending_charset))
        pending_charset = None
        pending = bytearray()

    for count, m in enumerate(_EW.finditer(value), 1):
        if count > _MAX_WORDS:
            if defects is not None:
                defects.append("too many encoded words; the rest left encoded")
            break
        between = value[pos : m.start()]
        if between and not (_WS_BETWEEN.match(between) and pending_charset is not None):
            flush()
            out.append(between)
        charset, enc, data = m.group(1), m.group(2).lower(), m.group(3)
        raw = _b_decode(data) if enc == "b" else _q_decode(data)
        cs = charset.lower()
        if pending_charset is not None and pending_charset != cs:
            flush()
        pending_charset = cs
        pending.extend(raw)
        pos = m.end()
    flush()
    out.append(value[pos:])
    return "".join(out)


def decode_raw_header_bytes(data: bytes) -> str:
    """Header bytes to str: ASCII fast path; 8-bit bytes as UTF-8, else CP932, else CP1252."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return decode_bytes(data, None)
