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
from mailsleuth.model.fastinit import factory
from mailsleuth.model.message import Header, InputKind, Message
from mailsleuth.parse.mime import ENTITY_FIELDS, MIME_HEAD_LINES, MimeLimits, entity_value, parse_mime
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


# At each line start: a field with its continuation lines (the grammar of _FIELD and _FIELD_BREAK
# in split_headers), or else any other line, which yields ("", "") (a field name is never empty).
_FIELD_TEXT = re.compile(r"^(?:([\x21-\x39\x3b-\x7e]{1,200})[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)|[^\n]*)", re.M)
# Controls that survive unfolding other than a stray CR (every LF goes, and the CR of a CRLF; TAB is
# allowed). When an ASCII block has none, no field value read from it needs the _CTRL check (a
# decoded encoded word still does).
_NOT_CTRL = bytes(b for b in range(256) if not (b < 9 or b in (11, 12) or 13 < b < 32))


def _split_text(text: str, limits: ParseLimits) -> list[tuple[str, str]] | None:
    """split_headers for a block (as text, CRLF already turned into LF) in which every line is a
    field or a continuation line, in one pass; None for any other block (split_headers reads it).
    The values are the same: line breaks as LF, leading blanks removed."""
    fields: list[tuple[str, str]] = _FIELD_TEXT.findall(text)
    if ("", "") in fields or len(fields) >= limits.max_headers:
        return None
    name, value = fields[-1]
    if value.endswith("\r"):  # the block's last line has no LF after its CR
        fields[-1] = (name, value[:-1])
    return fields


def _read_fields(block: bytes, limits: ParseLimits, defects: list[str]) -> tuple[list[tuple[str, str]], str | None]:
    """The header fields as (name, raw value text), and the block as text with LF line ends when
    it is made only of fields (the common case, read in one pass), else None."""
    # 8-bit bytes become lone surrogates here, and go back to bytes to be decoded field by field.
    # CRLF -> LF as split_headers does it per field: a field ends at an LF, so no CRLF spans two.
    text = block.decode("ascii", "surrogateescape").replace("\r\n", "\n")
    fields = _split_text(text, limits)
    if fields is None:
        return [(name, decode_raw_header_bytes(v)) for name, v in split_headers(block, limits, defects)], None
    if not text.isascii():
        fields = [(name, v if v.isascii() else decode_raw_header_bytes(v.encode("ascii", "surrogateescape")))
                  for name, v in fields]
    return fields, text


# The bytes _CTRL does not match: deleting them from an ASCII value leaves its control characters.
_NOT_CTRL_BYTES = bytes(b for b in range(256) if not (b < 9 or 9 < b < 32))


def _has_ctrl(value: str) -> bool:
    """``_CTRL.search(value) is not None``; an ASCII value (a long decoded one especially) is
    looked at as bytes, which is much cheaper than the expression."""
    if value.isascii():
        return bool(value.encode("ascii").translate(None, _NOT_CTRL_BYTES))
    return _CTRL.search(value) is not None


_new_header = factory(Header)  # 40-odd headers a message: the cheaper way to build them


def _header_value(raw: str, defects: list[str], check_ctrl: bool) -> str:
    """The unfolded, RFC 2047-decoded value of a field, without control characters."""
    if "\n" in raw:
        unfolded = raw.replace("\r\n", "\n").replace("\n", "") if "\r" in raw else raw.replace("\n", "")
    else:
        unfolded = raw
    if "=?" in unfolded:
        value = decode_header_value(unfolded, defects).strip()
        check_ctrl = True
    else:
        value = unfolded.strip()
    if check_ctrl and _has_ctrl(value):
        value = _CTRL.sub(" ", value)
        defects.append("control characters in the value")
    return value


def parse_message(data: bytes, *, limits: ParseLimits | None = None, filename: str | None = None) -> Message:
    limits = limits or ParseLimits()
    notes: list[str] = []
    defects: list[str] = []
    if not data or data.isspace():
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
    raw_fields, text = _read_fields(header_block, limits, defects)
    if not raw_fields:
        raise InputError("the input does not look like an email: no header fields were found")
    # Values read from a clean ASCII block need no control check (decoded words still do).
    check_ctrl = (text is None or not text.isascii() or "\r" in text
                  or bool(header_block.translate(None, _NOT_CTRL)))
    headers: list[Header] = []
    by_name: dict[str, list[Header]] = {}
    no_defects: tuple[str, ...] = ()
    for idx, (name, raw) in enumerate(raw_fields):
        hdefects: list[str] = []
        value = _header_value(raw, hdefects, check_ctrl)
        lname = name.lower()
        same = by_name.get(lname)
        if same is None:
            same = by_name[lname] = []
        h = _new_header(name=name, raw=raw, value=value, index=idx, occurrence=len(same),
                        defects=tuple(hdefects) if hdefects else no_defects)
        same.append(h)
        headers.append(h)
    if len(headers) < 3 and not any(lname in _COMMON for lname in by_name):
        raise InputError("the input does not look like an email: none of the usual header fields were found")
    has_body = bool(body) and not body.isspace()
    if not has_body:
        kind = InputKind.HEADERS_ONLY if kind is InputKind.EML else kind
    mime = None
    if has_body:
        root_fields = None
        if text is not None and text.count("\n") < MIME_HEAD_LINES:
            # The fields were read already: hand the MIME parser the Content-* fields it reads
            # (the first of each name), as it would read them from the block.
            firsts = [(lname, same[0].raw) for lname in ENTITY_FIELDS if (same := by_name.get(lname))]
            if all(raw.isascii() for _lname, raw in firsts):
                root_fields = [(lname, entity_value(raw)) for lname, raw in firsts]
        mime = parse_mime(header_block, body, limits.mime, root_fields=root_fields)
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
