"""A bounded MIME parser: the tree of parts with decoded payloads.

Our own, not the stdlib's, for two reasons: every limit (depth, number of parts, decoded bytes)
must hold against hostile input, and the analysis must stay cheap (the stdlib builds header
objects we do not need). Nested message/rfc822 parts are parsed as children. Exceeding a limit is
recorded as a defect on the part where it happened; nothing raises.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from mailsleuth.model.message import MimePart
from mailsleuth.parse.rfc2047 import decode_header_value, decode_raw_header_bytes


@dataclass(frozen=True, slots=True)
class MimeLimits:
    max_depth: int = 30
    max_parts: int = 1000
    max_part_bytes: int = 25 * 1024 * 1024  # decoded size kept per part
    max_total_bytes: int = 100 * 1024 * 1024  # decoded size kept over the whole message


_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]{1,200})[ \t]*:")
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_content_type(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """'text/plain; charset="x"' -> ('text/plain', (('charset', 'x'),)). RFC 2231 parameters joined."""
    main, _, rest = value.partition(";")
    ctype = main.strip().lower() or "text/plain"
    if "/" not in ctype:
        ctype = "text/plain" if ctype in ("text", "") else ctype + "/unknown"
    params: dict[str, str] = {}
    continuations: dict[str, dict[int, str]] = {}
    charset_2231: dict[str, str] = {}
    for m in _PARAM.finditer(";" + rest):
        key = m.group(1).lower()
        val = m.group(2).strip()
        if val.startswith('"') and val.endswith('"') and len(val) >= 2:
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        cm = re.fullmatch(r"([^*]+)\*(\d+)?(\*)?", key)
        if cm:
            base, num, encoded = cm.group(1), cm.group(2), cm.group(3) or (cm.group(2) is None)
            if encoded and "'" in val and (num in (None, "0")):
                cs, _lang, val = val.split("'", 2) if val.count("'") >= 2 else ("", "", val)
                charset_2231[base] = cs
            if encoded:
                val = _pct_decode(val, charset_2231.get(base))
            continuations.setdefault(base, {})[int(num or 0)] = val
            continue
        params.setdefault(key, val)
    for base, pieces in continuations.items():
        params[base] = "".join(pieces[i] for i in sorted(pieces))
    return ctype, tuple(params.items())


def _pct_decode(val: str, charset: str | None) -> str:
    from urllib.parse import unquote_to_bytes

    from mailsleuth.model.text import decode_bytes

    return decode_bytes(unquote_to_bytes(val), charset or "utf-8")


# The only fields a MIME entity is read by (see _parse_entity); the others are not decoded.
ENTITY_FIELDS = ("content-type", "content-transfer-encoding", "content-disposition", "content-id")
_ENTITY_FIELDS = frozenset(ENTITY_FIELDS)
MIME_HEAD_LINES = 500  # lines of a part's header block that are read
_BYTES_WS = " \t\n\r\x0b\x0c"  # what bytes.strip() removes


def entity_value(raw: str) -> str:
    """A field value as _split_part reads it, from the raw value of an ASCII field (its lines joined
    by LF, leading blanks removed): the first line stripped, continuation lines without their
    trailing CRs, joined by a space."""
    first, sep, rest = raw.partition("\n")
    if not sep:
        return first.strip()
    return " ".join([first.strip(_BYTES_WS), *(line.rstrip("\r") for line in rest.split("\n"))]).strip()


def _split_part(data: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """Part bytes -> ([(lname, decoded value)] of the Content-* fields read here, body)."""
    if data.startswith(b"\r\n"):
        return [], data[2:]
    if data.startswith(b"\n"):
        return [], data[1:]
    i = -1
    body_start = 0
    # The earlier of the two separators; once one is found, the other is only looked for before it
    # (a part can be a large attachment: no need to scan all of it for a separator it lacks).
    for sep in (b"\r\n\r\n", b"\n\n") if data.find(b"\r\n", 0, 4096) != -1 else (b"\n\n", b"\r\n\r\n"):
        j = data.find(sep, 0, len(data) if i == -1 else i + len(sep) - 1)
        if j != -1 and (i == -1 or j < i):
            i, body_start = j, j + len(sep)
    if i == -1:
        head, body = data, b""
    else:
        head, body = data[:i], data[body_start:]
    fields: list[tuple[str, str]] = []
    cur: list[bytes] | None = None
    name = ""
    for line in head.split(b"\n")[:MIME_HEAD_LINES]:
        line = line.rstrip(b"\r")
        if line[:1] in (b" ", b"\t") and cur is not None:
            cur.append(line)
            continue
        m = _FIELD.match(line)
        if not m:
            continue
        if cur is not None and name in _ENTITY_FIELDS:
            fields.append((name, decode_raw_header_bytes(b" ".join(cur)).strip()))
        name = m.group(1).decode("ascii").lower()
        cur = [line[m.end() :].strip()]
    if cur is not None and name in _ENTITY_FIELDS:
        fields.append((name, decode_raw_header_bytes(b" ".join(cur)).strip()))
    return fields, body


_NOT_BASE64 = bytes(sorted(set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")))


def _decode_body(body: bytes, cte: str | None, cap: int) -> tuple[bytes, bool, list[str]]:
    defects: list[str] = []
    enc = (cte or "7bit").strip().lower()
    if enc == "base64":
        # Decode no more input than the cap needs (4 chars -> 3 bytes), ignoring junk characters.
        clean = body[: cap * 4 // 3 + 4096 + cap // 20].translate(None, _NOT_BASE64)
        clean = clean.split(b"=", 1)[0] if b"=" in clean[:-2] else clean
        clean = clean[: (len(clean) // 4) * 4 + (4 if len(clean) % 4 else 0)]
        clean += b"=" * (-len(clean) % 4)
        try:
            out = binascii.a2b_base64(clean)
        except (binascii.Error, ValueError):
            defects.append("invalid base64 content")
            out = b""
    elif enc == "quoted-printable":
        try:
            out = binascii.a2b_qp(body[: cap * 3 + 4096])
        except (binascii.Error, ValueError):
            defects.append("invalid quoted-printable content")
            out = body
    elif enc in ("7bit", "8bit", "binary", ""):
        out = body
    else:
        defects.append(f"unknown transfer encoding {enc!r}: content kept as it is")
        out = body
    truncated = len(out) > cap
    return out[:cap], truncated, defects


class _Budget:
    def __init__(self, limits: MimeLimits):
        self.parts = 0
        self.bytes = 0
        self.limits = limits
        self.part_limit_hit = False


def parse_mime(header_block: bytes, body: bytes, limits: MimeLimits,
               root_fields: list[tuple[str, str]] | None = None) -> MimePart:
    """The MIME tree of a message. ``root_fields``: the message's Content-* fields as _split_part
    would read them from ``header_block``, when the caller has them already."""
    fields = root_fields if root_fields is not None else _split_part(header_block + b"\n\n")[0]
    budget = _Budget(limits)
    return _parse_entity(fields, body, "", 0, budget, default_type="text/plain")


def _get(fields: list[tuple[str, str]], name: str) -> str | None:
    for k, v in fields:
        if k == name:
            return v
    return None


def _parse_entity(fields: list[tuple[str, str]], body: bytes, path: str, depth: int, budget: _Budget,
                  default_type: str) -> MimePart:
    # Iterative over siblings, recursive over depth (bounded by max_depth).
    budget.parts += 1
    defects: list[str] = []
    ct_raw = _get(fields, "content-type")
    ctype, params = parse_content_type(ct_raw) if ct_raw else (default_type, ())
    cte = _get(fields, "content-transfer-encoding")
    disp_raw = _get(fields, "content-disposition")
    disposition = None
    filename = None
    if disp_raw:
        disposition, dparams = parse_content_type(disp_raw)
        disposition = disposition.split("/")[0]
        filename = dict(dparams).get("filename")
    pdict = dict(params)
    if filename is None:
        filename = pdict.get("name")
    if filename:
        filename = decode_header_value(filename)[:1024]
    charset = pdict.get("charset")
    cid = _get(fields, "content-id")
    children: list[MimePart] = []
    payload = b""
    truncated = False
    size = 0
    if ctype.startswith("multipart/"):
        boundary = pdict.get("boundary")
        if not boundary:
            defects.append("multipart part without a boundary: treated as text")
            ctype = "text/plain"
        elif depth >= budget.limits.max_depth:
            defects.append(f"MIME nesting deeper than {budget.limits.max_depth} levels: the rest was not parsed")
        else:
            children = _parse_multipart(body, boundary.encode("utf-8", "replace"), path, depth, budget,
                                        ctype == "multipart/digest", defects)
    if ctype in _MESSAGE_TYPES and not children:
        inner = body
        if (cte or "").strip().lower() in ("base64", "quoted-printable"):
            # Not allowed by RFC 2046 but sent anyway: decode, then parse the message inside.
            room = max(0, min(budget.limits.max_part_bytes, budget.limits.max_total_bytes - budget.bytes))
            inner, _cut, more = _decode_body(body, cte, room)
            defects.extend(more)
            defects.append(f"attached message with transfer encoding {cte!r} (not allowed; decoded anyway)")
        if depth >= budget.limits.max_depth:
            defects.append(f"MIME nesting deeper than {budget.limits.max_depth} levels: the rest was not parsed")
        elif budget.parts < budget.limits.max_parts:
            inner_fields, inner_body = _split_part(inner)
            child = _parse_entity(inner_fields, inner_body, f"{path}.1" if path else "1", depth + 1, budget,
                                  "text/plain")
            children = [child]
        else:
            budget.part_limit_hit = True
            defects.append(f"more than {budget.limits.max_parts} MIME parts: the attached message was not parsed")
        payload = inner[: budget.limits.max_part_bytes]
        size = len(inner)
    elif not ctype.startswith("multipart/") or not children:
        room = max(0, min(budget.limits.max_part_bytes, budget.limits.max_total_bytes - budget.bytes))
        payload, truncated, more = _decode_body(body, cte, room)
        defects.extend(more)
        size = len(payload)
        budget.bytes += size
        if truncated:
            defects.append("decoded content larger than the limit: truncated")
    return MimePart(
        path=path, content_type=ctype, params=params, disposition=disposition, filename=filename,
        charset=charset, transfer_encoding=(cte or "").lower() or None, content_id=cid, size=size,
        payload=payload, truncated=truncated, children=tuple(children), defects=tuple(defects),
    )


def _parse_multipart(body: bytes, boundary: bytes, path: str, depth: int, budget: _Budget, digest: bool,
                     defects: list[str]) -> list[MimePart]:
    delim = b"--" + boundary
    pieces: list[bytes] = []
    pos = 0
    # Find delimiter lines: "--boundary" at the start of a line.
    starts: list[int] = []
    while True:
        i = body.find(delim, pos)
        if i == -1:
            break
        nxt = body[i + len(delim) : i + len(delim) + 1]
        # A delimiter starts a line and is followed by "--", white space or the line end: a
        # longer boundary that merely begins with this one is not a match (RFC 2046 5.1.1).
        if (i == 0 or body[i - 1 : i] == b"\n") and nxt in (b"", b"-", b"\r", b"\n", b" ", b"\t"):
            starts.append(i)
        pos = i + len(delim)
        if len(starts) > budget.limits.max_parts + 2:
            break
    if not starts:
        defects.append("multipart boundary never appears: the body was not split")
        return []
    closed = False
    for n, s in enumerate(starts):
        after = s + len(delim)
        if body[after : after + 2] == b"--":
            closed = True
            break
        line_end = body.find(b"\n", after)
        if line_end == -1:
            break
        end = starts[n + 1] if n + 1 < len(starts) else len(body)
        chunk = body[line_end + 1 : end]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        pieces.append(chunk)
    if not closed:
        defects.append("multipart has no closing boundary (truncated message?)")
    children: list[MimePart] = []
    for k, chunk in enumerate(pieces, 1):
        if budget.parts >= budget.limits.max_parts:
            budget.part_limit_hit = True
            defects.append(f"more than {budget.limits.max_parts} MIME parts: the rest were not parsed")
            break
        fields, sub_body = _split_part(chunk)
        child_path = f"{path}.{k}" if path else str(k)
        children.append(_parse_entity(fields, sub_body, child_path, depth + 1, budget,
                                      "message/rfc822" if digest else "text/plain"))
    return children
