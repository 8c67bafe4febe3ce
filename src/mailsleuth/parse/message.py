"""Bytes in, one immutable Message out. Reads .eml, pasted header blocks, mbox, and Outlook .msg.

Never raises on damaged mail: problems become ``Message.defects``. Only input that cannot be
read as mail at all (empty, binary, no header field) raises InputError with a one-line reason.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, cast

from mailsleuth.errors import InputError
from mailsleuth.model.message import Header, InputKind, Message
from mailsleuth.parse.mime import MimeLimits, parse_mime
from mailsleuth.parse.rfc2047 import decode_header_value, decode_raw_header_bytes

_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]{1,200})[ \t]*:")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MBOX_FROM = re.compile(rb"^From \S*.*$", re.M)
# C0 controls other than TAB (a header value never keeps them).
_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f]")
# Bytes that count as "control" when sniffing for binary input: < 9 or 14..31.
_NOT_BIN_CTRL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_input_bytes: int = 64 * 1024 * 1024
    max_headers: int = 20_000
    max_header_block: int = 8 * 1024 * 1024
    mime: MimeLimits = field(default_factory=MimeLimits)


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    ctrl = len(sample.translate(None, _NOT_BIN_CTRL))
    return ctrl > len(sample) * 0.05


def _from_msg(data: bytes) -> tuple[bytes, list[str]]:
    """Outlook .msg to RFC 5322 bytes: its transport headers plus a text body."""
    try:
        import extract_msg
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError("cannot read .msg files: extract-msg is not installed") from None
    try:
        msg: Any = extract_msg.openMsg(data)
    except Exception as exc:
        raise InputError(f"unreadable Outlook .msg file: {type(exc).__name__}") from None
    try:
        notes = ["read from an Outlook .msg file"]
        header_text = ""
        try:
            header_text = msg.headerText or ""
        except Exception:
            header_text = ""
        if not header_text.strip():
            notes.append("the .msg carries no transport headers; headers were rebuilt from its properties")
            parts = []
            for name, attr in (("From", "sender"), ("To", "to"), ("Cc", "cc"), ("Subject", "subject"),
                               ("Date", "date"), ("Message-ID", "messageId")):
                try:
                    val = getattr(msg, attr)
                except Exception:
                    val = None
                if val:
                    parts.append(f"{name}: {val}")
            header_text = "\r\n".join(parts)
        header_text = header_text.replace("\r\n", "\n").strip("\n")
        # Transport headers of a .msg describe the original MIME body, which is not stored;
        # drop MIME framing fields and describe the body we rebuild instead.
        kept = []
        skip = False
        for line in header_text.split("\n"):
            if line[:1] in (" ", "\t"):
                if not skip:
                    kept.append(line)
                continue
            lname = line.split(":", 1)[0].strip().lower()
            skip = lname in ("content-type", "content-transfer-encoding", "mime-version")
            if not skip:
                kept.append(line)
        body_text = ""
        html: bytes | None = None
        try:
            body_text = msg.body or ""
        except Exception:
            body_text = ""
        try:
            h = msg.htmlBody
            html = h if isinstance(h, bytes) else (h.encode("utf-8") if h else None)
        except Exception:
            html = None
        boundary = "mailsleuth-msg-boundary"
        out = "\n".join(kept) + "\nMIME-Version: 1.0\n"
        out += f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        out += f'--{boundary}\nContent-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'
        result = out.encode("utf-8") + body_text.encode("utf-8") + b"\n"
        if html:
            result += f'--{boundary}\nContent-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n'.encode()
            result += html + b"\n"
        try:
            attachments = list(msg.attachments)[:200]
        except Exception:
            attachments = []
        import base64

        for att in attachments:
            att = cast(Any, att)
            try:
                name = att.longFilename or att.shortFilename or "attachment"
                payload = att.data if isinstance(att.data, bytes) else b""
            except Exception:
                continue
            enc = base64.encodebytes(payload).decode("ascii")
            safe = str(name).replace('"', "'").replace("\n", " ")
            result += (f'--{boundary}\nContent-Type: application/octet-stream\n'
                       f'Content-Disposition: attachment; filename="{safe}"\n'
                       f"Content-Transfer-Encoding: base64\n\n{enc}\n").encode()
        result += f"--{boundary}--\n".encode()
        return result, notes
    finally:
        with contextlib.suppress(Exception):
            msg.close()


def _first_mbox_message(data: bytes) -> tuple[bytes, list[str]]:
    starts = [m.start() for m in _MBOX_FROM.finditer(data)]
    notes = []
    end = starts[1] if len(starts) > 1 else len(data)
    first_line_end = data.find(b"\n")
    body = data[first_line_end + 1 : end]
    if len(starts) > 1:
        notes.append(f"mbox with {len(starts)} messages: the first was analysed")
    else:
        notes.append("read from a one-message mbox")
    # Undo mboxrd quoting of body lines that begin with From.
    body = re.sub(rb"(?m)^>(>*From )", rb"\1", body)
    return body, notes


# Field boundaries: a line break not followed by a continuation line.
_FIELD_BREAK = re.compile(rb"\n(?![ \t])")


def split_headers(block: bytes, limits: ParseLimits, defects: list[str]) -> list[tuple[str, bytes]]:
    """Header block -> [(name, raw value bytes with folding kept)].

    Fast path: a block made only of well-formed fields is cut at its field boundaries; anything
    else (stray lines, a leading continuation, too many fields) is read line by line."""
    chunks = _FIELD_BREAK.split(block)
    if len(chunks) >= limits.max_headers:
        return _split_headers_lines(block, limits, defects)
    fields: list[tuple[str, bytes]] = []
    match = _FIELD.match
    for chunk in chunks:
        m = match(chunk)
        if m is None:
            return _split_headers_lines(block, limits, defects)
        v = chunk[m.end():].lstrip(b" \t")
        if b"\r" in v:
            v = v.replace(b"\r\n", b"\n")
            if v.endswith(b"\r"):
                v = v[:-1]
        fields.append((m.group(1).decode("ascii"), v))
    return fields


def _split_headers_lines(block: bytes, limits: ParseLimits, defects: list[str]) -> list[tuple[str, bytes]]:
    fields: list[tuple[str, bytes]] = []
    cur_name: str | None = None
    cur_val: list[bytes] = []
    lines = block.split(b"\n")
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line[:1] in (b" ", b"\t"):
            if cur_name is None:
                defects.append("the header block starts with a continuation line")
                continue
            cur_val.append(line)
            continue
        m = _FIELD.match(line)
        if m is None:
            if line.strip() and len(defects) < 50:
                shown = line[:60].decode("latin-1").encode("unicode_escape").decode("ascii")
                defects.append(f"a header line without a field name was skipped: {shown!r}")
            continue
        if cur_name is not None:
            fields.append((cur_name, b"\n".join(cur_val)))
            if len(fields) >= limits.max_headers:
                defects.append(f"more than {limits.max_headers} header fields: the rest were not read")
                cur_name = None
                break
        cur_name = m.group(1).decode("ascii")
        cur_val = [line[m.end() :].lstrip(b" \t")]
    if cur_name is not None:
        fields.append((cur_name, b"\n".join(cur_val)))
    return fields


def _find_header_end(data: bytes) -> tuple[int, int]:
    """(end of headers, start of body) or (-1, -1) when there is no blank line."""
    best = -1
    sep_len = 0
    # The earliest separator (no two can start at the same offset). Once one is found, the others
    # are only looked for before it, so a large body is not scanned for a separator it lacks.
    crlf_first = data.find(b"\r\n", 0, 4096) != -1
    for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n") if crlf_first else (b"\n\n", b"\r\n\r\n", b"\n\r\n"):
        i = data.find(sep, 0, len(data) if best == -1 else best + len(sep) - 1)
        if i != -1 and (best == -1 or i < best):
            best, sep_len = i, len(sep)
    if best == -1:
        return -1, -1
    return best, best + sep_len


def parse_message(data: bytes, *, limits: ParseLimits | None = None, filename: str | None = None) -> Message:
    limits = limits or ParseLimits()
    notes: list[str] = []
    defects: list[str] = []
    if not data or not data.strip():
        raise InputError("the input is empty")
    if data.startswith(_OLE_MAGIC):
        data, more = _from_msg(data)
        notes.extend(more)
        kind = InputKind.MSG
    else:
        kind = InputKind.EML
    if len(data) > limits.max_input_bytes:
        defects.append(f"the message is larger than {limits.max_input_bytes} bytes: the rest was not read")
        data = data[: limits.max_input_bytes]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Pasted headers often arrive with leading blank lines or indentation from a web form.
    stripped = data.lstrip(b"\r\n")
    if stripped.startswith(b"From ") and kind is InputKind.EML:
        stripped, more = _first_mbox_message(stripped)
        notes.extend(more)
        kind = InputKind.MBOX
    if _looks_binary(stripped):
        raise InputError("the input is binary data, not an email message")
    crlf = b"\r\n" in stripped[:4096]
    hend, bstart = _find_header_end(stripped)
    if hend == -1:
        header_block, body = stripped, b""
    else:
        header_block, body = stripped[:hend], stripped[bstart:]
    if len(header_block) > limits.max_header_block:
        defects.append(f"the header block is larger than {limits.max_header_block} bytes: the rest was not read")
        header_block = header_block[: limits.max_header_block]
    raw_fields = split_headers(header_block, limits, defects)
    if not raw_fields:
        raise InputError("the input does not look like an email: no header fields were found")
    headers: list[Header] = []
    by_name: dict[str, list[Header]] = {}
    for idx, (name, raw_bytes) in enumerate(raw_fields):
        raw = decode_raw_header_bytes(raw_bytes)
        hdefects: list[str] = []
        unfolded = raw.replace("\r\n", "\n").replace("\n", "")
        value = decode_header_value(unfolded, hdefects).strip() if "=?" in unfolded else unfolded.strip()
        if _CTRL.search(value) is not None:
            value = _CTRL.sub(" ", value)
            hdefects.append("control characters in the value")
        lname = name.lower()
        same = by_name.setdefault(lname, [])
        h = Header(name=name, raw=raw, value=value, index=idx, occurrence=len(same), defects=tuple(hdefects))
        same.append(h)
        headers.append(h)
    known = sum(len(same) for lname, same in by_name.items() if lname in _COMMON)
    if known == 0 and len(headers) < 3:
        raise InputError("the input does not look like an email: none of the usual header fields were found")
    has_body = bool(body.strip())
    if not has_body:
        kind = InputKind.HEADERS_ONLY if kind is InputKind.EML else kind
    mime = None
    if has_body:
        mime = parse_mime(header_block, body, limits.mime)
    return Message(
        kind=kind,
        raw=stripped,
        headers=tuple(headers),
        header_bytes=header_block,
        body_bytes=body,
        has_body=has_body,
        crlf=crlf,
        mime=mime,
        defects=tuple(defects),
        notes=tuple(notes),
        _by_name={k: tuple(v) for k, v in by_name.items()},
    )


_COMMON = frozenset({
    "from", "to", "subject", "date", "received", "message-id", "return-path", "mime-version",
    "content-type", "authentication-results", "dkim-signature", "reply-to", "sender", "cc",
    "x-mailer", "delivered-to", "received-spf", "arc-seal", "list-unsubscribe", "x-spam-status",
})
