"""dkimpy's view of a message, computed once and shared by the DKIM and ARC verifications.

dkimpy reads a message with ``dkim.rfc822_parse``: a regex split of the *whole* message into lines,
then a regex match per header line (through ``re``'s pattern cache each time). For DKIM only the
header block matters, for ARC the body too; parsing once per message for both was a large part of
the cost of re-verification. :func:`parse` returns exactly what ``dkim.rfc822_parse`` returns (the
same ``[name, value]`` lists, the same CRLF-normalised body, the same exceptions with the same
messages), with C-speed splitting and one compiled pattern; :class:`Rfc822` keeps the result and
hands each consumer its own copy of the header list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import dkim
from dkim.canonicalization import correct_empty_body, strip_trailing_lines

from mailsleuth.model.message import Message

_NEWLINE_NL = re.compile(rb"\n\r?\n")  # a line end followed by an empty line
_HEADER_NAME = re.compile(rb"([\x21-\x7e]+?):")  # dkimpy's own pattern, compiled once
# A field with its continuation lines, each line ending CRLF (a line ending in a bare LF is not
# matched). The name is dkimpy's (printable ASCII up to the first colon); anchored at line starts
# and without backtracking, so that a search past a line that is not a field stays linear. (The
# CR is checked behind the line's last character: ``[^\n]`` is scanned far faster than ``[^\r\n]``.)
_FIELD = re.compile(rb"^([!-9;-~]++):([^\n]*+(?<=\r)\n(?:[ \t][^\n]*+(?<=\r)\n)*+)", re.MULTILINE)
# An LF without a CR before it: the text is CRLF throughout exactly when there is none. The pattern
# starts with a literal LF, so the search jumps from LF to LF (faster than a pattern that steps over
# every character; tests/unit/test_fast_paths_dkim4.py compares the two).
_BARE_LF = re.compile(rb"\n(?<!\r\n)")


def header_end(raw: bytes) -> tuple[int, int] | None:
    """(start, end) of the empty line after the header block (the line end before it included):
    where ``re.search(rb"(?:^|\\r?\\n)\\r?\\n", raw)`` matches, or None."""
    if raw.startswith(b"\n"):
        return (0, 1)
    if raw.startswith(b"\r\n"):
        return (0, 2)
    m = _NEWLINE_NL.search(raw)
    if m is None:
        return None
    pos = m.start()
    return (pos - 1 if pos > 0 and raw[pos - 1] == 13 else pos, m.end())


def crlf_lines(text: bytes) -> bytes:
    """Every line end as CRLF, as ``b"\\r\\n".join(re.split(b"\\r?\\n", text))`` gives."""
    if b"\n" not in text:
        return text
    if b"\r" not in text:  # LF throughout
        return text.replace(b"\n", b"\r\n")
    if _BARE_LF.search(text) is None:  # already CRLF throughout: no copy
        return text
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def parse_headers(block: bytes) -> list[list[bytes]]:
    """The header fields of ``block`` (the text before the empty line; no empty line inside except,
    possibly, as its last line) as dkimpy's ``rfc822_parse`` reads them."""
    fast = _parse_headers_fast(block)
    return [[n, v] for n, v in fast] if fast is not None else parse_headers_by_line(block)


def _parse_headers_fast(block: bytes) -> list[tuple[bytes, bytes]] | None:
    """The common case in one regex pass: every line a field or its continuation, line ends CRLF
    throughout or LF throughout. None when the block is anything else (then read line by line)."""
    # Each line, as dkimpy returns it, is followed by CRLF. A line ending in a bare LF (among CRLF
    # ones) is left unmatched, caught by the length test below.
    text = (block if b"\r" in block else block.replace(b"\n", b"\r\n")) + b"\r\n"
    fields: list[tuple[bytes, bytes]] = _FIELD.findall(text)
    # The matches do not overlap and come in order: they cover the whole text, with no line left out
    # (not a field, "From ", a leading continuation), exactly when their lengths add up to it.
    if sum(map(len, chain.from_iterable(fields))) + len(fields) != len(text):
        return None
    return fields


def parse_headers_by_line(block: bytes) -> list[list[bytes]]:
    """:func:`parse_headers` the way dkimpy does it, a line at a time (any block)."""
    lines = block.split(b"\n")
    last = len(lines) - 1
    names: list[bytes] = []
    parts: list[list[bytes]] = []  # each field's pieces, joined at the end (no quadratic appends)
    for n, line in enumerate(lines):
        if n != last and line.endswith(b"\r"):  # the \r of a CRLF; a \r before the block's end is content
            line = line[:-1]
        if not line:
            break
        if line[0] in (0x09, 0x20):
            parts[-1].append(line + b"\r\n")  # IndexError on a leading continuation line, as in dkimpy
            continue
        m = _HEADER_NAME.match(line)
        if m is not None:
            names.append(m.group(1))
            parts.append([line[m.end(0):] + b"\r\n"])
        elif not line.startswith(b"From "):
            raise dkim.MessageFormatError(f"Unexpected characters in RFC822 header: {line!r}")
    return [[name, b"".join(pieces)] for name, pieces in zip(names, parts, strict=True)]


def canonicalize_body(policy: Any, body: bytes) -> bytes:
    """dkimpy's body canonicalisation (``policy.canonicalize_body``), skipping its two whole-body
    regex passes when they cannot change anything (no tab, no double space, no space before a line
    end): same bytes, less work."""
    if getattr(policy.body_algorithm, "name", b"") == b"relaxed" and b"\t" not in body and b"  " not in body \
            and b" \r\n" not in body:
        return bytes(correct_empty_body(strip_trailing_lines(body)))
    return bytes(policy.canonicalize_body(body))


def parse(message: bytes) -> tuple[list[list[bytes]], bytes]:
    """``dkim.rfc822_parse(message)``, computed faster: (headers, CRLF body)."""
    end = header_end(message)
    if end is None:
        return parse_headers(message), b""
    return parse_headers(message[: end[0]]), crlf_lines(message[end[1]:])


def shared(message: Message) -> Rfc822:
    """The :class:`Rfc822` of a parsed :class:`~mailsleuth.model.message.Message`, made once per
    message and shared by the checks that hand the message to dkimpy (DKIM, ARC)."""
    return message.memo(MEMO_KEY, lambda: Rfc822(message.raw))


MEMO_KEY = "auth.rfc822"


@dataclass(slots=True)
class Rfc822:
    """One message as dkimpy sees it, read on first use. ``error`` is the exception dkimpy's own
    parser would have raised (then there are no headers)."""

    raw: bytes
    _fields: list[tuple[bytes, bytes]] | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)
    _error: Exception | None = field(default=None, repr=False)
    _body: bytes | None = field(default=None, repr=False)
    _canonical: dict[bytes, bytes] = field(default_factory=dict, repr=False)
    _end: tuple[int, int] | None = field(default=None, repr=False)
    _ended: bool = field(default=False, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def end(self) -> tuple[int, int] | None:
        """:func:`header_end` of the message."""
        if not self._ended:
            self._ended = True
            self._end = header_end(self.raw)
        return self._end

    @property
    def header_block(self) -> bytes:
        """The text before the empty line (all of it when there is none)."""
        end = self.end
        return self.raw if end is None else self.raw[: end[0]]

    def _parse(self) -> None:
        if self._parsed:
            return
        self._parsed = True
        block = self.header_block
        try:
            fast = _parse_headers_fast(block)
            self._fields = fast if fast is not None else [(n, v) for n, v in parse_headers_by_line(block)]
        except Exception as exc:  # what dkimpy's parser raises on a malformed header block
            self._error = exc

    @property
    def error(self) -> Exception | None:
        self._parse()
        return self._error

    def headers(self) -> list[tuple[bytes, bytes]]:
        """dkimpy's header list (each field a (name, value) pair where dkimpy has a two-item list:
        verification only reads them), a fresh list for each user; raises dkimpy's error."""
        self._parse()
        if self._error is not None:
            raise self._error
        return list(self._fields or ())

    def fields(self) -> list[tuple[bytes, bytes]]:
        """:meth:`headers` without the copy, for a reader that never changes the list; raises
        dkimpy's error."""
        self._parse()
        if self._error is not None:
            raise self._error
        return self._fields or []

    def names(self) -> list[str]:
        """The field names, lower-case, in order (as text: they are printable ASCII)."""
        if self._names is None:
            self._parse()
            fields = self._fields or ()
            # One decode for all (a name never holds a line end): same as name by name, cheaper.
            self._names = b"\n".join([n for n, _v in fields]).lower().decode("ascii", errors="replace").split("\n") \
                if fields else []
        return self._names

    @property
    def body_raw(self) -> bytes:
        """The bytes after the empty line, as they are (b"" when there is no empty line)."""
        end = self.end
        return b"" if end is None else self.raw[end[1]:]

    @property
    def body(self) -> bytes:
        """The body as dkimpy's parser returns it: every line end CRLF."""
        if self._body is None:
            self._body = crlf_lines(self.body_raw)
        return self._body

    def canonical_body(self, policy: Any) -> bytes:
        """``policy.canonicalize_body(self.body)``, once per body canonicalisation for the message
        (every DKIM signature and ARC message signature with the same c= body part shares it)."""
        name = getattr(policy.body_algorithm, "name", None)
        if not isinstance(name, bytes):
            return canonicalize_body(policy, self.body)
        hit = self._canonical.get(name)
        if hit is None:
            hit = self._canonical[name] = canonicalize_body(policy, self.body)
        return hit
