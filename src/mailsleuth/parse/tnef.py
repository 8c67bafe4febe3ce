"""A small, bounded reader of the attachment list inside a TNEF stream (winmail.dat).

Outlook wraps attachments into ``application/ms-tnef`` parts; phishing uses this to slip files
past filters that do not look inside. We read only what the analysis needs: each attachment's
title (file name) and its data. Format ([MS-OXTNEF] 2.1.3): a signature 0x223E9F78, a 16-bit
key, then attributes ``level(1) id(4) length(4) data(length) checksum(2)``, all little-endian.
``attAttachRendData`` starts a new attachment; ``attAttachTitle`` and ``attAttachData`` fill it.
Never raises; damage is reported in ``TnefResult.defects``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

TNEF_SIGNATURE = 0x223E9F78
_LVL_ATTACHMENT = 2
_ATT_ATTACH_REND_DATA = 0x9002
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_DATA = 0x800F
_MAX_ATTRIBUTES = 5000


@dataclass(slots=True)
class TnefAttachment:
    name: str = ""
    data: bytes = b""


@dataclass(slots=True)
class TnefResult:
    attachments: list[TnefAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data, 0)[0] == TNEF_SIGNATURE


def read_tnef(data: bytes, *, max_attachments: int = 200, max_bytes: int = 25 * 1024 * 1024) -> TnefResult:
    out = TnefResult()
    if not is_tnef(data):
        out.defects.append("not a TNEF stream (bad signature)")
        return out
    pos = 6
    n = len(data)
    current: TnefAttachment | None = None
    total = 0
    for _ in range(_MAX_ATTRIBUTES):
        if pos + 9 > n:
            if pos < n:
                out.defects.append("TNEF stream truncated inside an attribute header")
            break
        level = data[pos]
        attr_id, length = struct.unpack_from("<II", data, pos + 1)
        start = pos + 9
        end = start + length
        if end + 2 > n:
            out.defects.append("TNEF stream truncated inside an attribute")
            break
        pos = end + 2
        if level != _LVL_ATTACHMENT:
            continue
        kind = attr_id & 0xFFFF
        if kind == _ATT_ATTACH_REND_DATA:
            if len(out.attachments) >= max_attachments:
                out.defects.append(f"more than {max_attachments} attachments in the TNEF stream: the rest skipped")
                break
            current = TnefAttachment()
            out.attachments.append(current)
        elif current is not None and kind == _ATT_ATTACH_TITLE:
            current.name = data[start:end].split(b"\x00", 1)[0].decode("cp1252", errors="replace")[:512]
        elif current is not None and kind == _ATT_ATTACH_DATA:
            room = max(0, max_bytes - total)
            current.data = data[start : start + min(length, room)]
            total += len(current.data)
            if length > room:
                out.defects.append("TNEF attachment data larger than the limit: truncated")
    else:
        out.defects.append(f"more than {_MAX_ATTRIBUTES} TNEF attributes: the rest skipped")
    return out


def build_tnef(attachments: list[tuple[str, bytes]]) -> bytes:
    """A minimal TNEF stream holding these attachments (for tests and fixtures)."""

    def attr(level: int, attr_id: int, payload: bytes) -> bytes:
        checksum = sum(payload) & 0xFFFF
        return struct.pack("<BII", level, attr_id, len(payload)) + payload + struct.pack("<H", checksum)

    out = struct.pack("<IH", TNEF_SIGNATURE, 0x0001)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion-like message attribute
    for name, data in attachments:
        out += attr(2, 0x00069002, b"\x01\x00" + b"\x00" * 12)
        out += attr(2, 0x00018010, name.encode("cp1252", errors="replace") + b"\x00")
        out += attr(2, 0x0006800F, data)
    return out
