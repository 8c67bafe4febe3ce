"""The message model: headers in order, raw and decoded; addresses; the MIME tree."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, cast

from mailsleuth.model.fastinit import fast_init

T = TypeVar("T")


class InputKind(StrEnum):
    EML = "eml"
    HEADERS_ONLY = "headers"
    MBOX = "mbox"
    MSG = "msg"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """One header field. ``index`` is its position among all headers (0 = top);
    ``occurrence`` its 0-based position among headers of the same name (top first)."""

    name: str
    raw: str  # unfolded? no: exactly as in the message, folding kept, without the name and colon
    value: str  # unfolded and RFC 2047-decoded
    index: int
    occurrence: int
    defects: tuple[str, ...] = ()

    @property
    def lname(self) -> str:
        return self.name.lower()

    @property
    def ref(self) -> str:
        return f"{self.name}[{self.occurrence}]"

    @property
    def unfolded(self) -> str:
        """The raw value unfolded (CRLF/LF before white space removed), not decoded."""
        return self.raw.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", "\t").replace("\n", "").strip()


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    display_name: str
    addr: str  # local@domain as written (decoded)
    local: str
    domain: str  # lower-case; IDNs in Unicode form

    def __str__(self) -> str:
        if self.display_name:
            return f'"{self.display_name}" <{self.addr}>'
        return f"<{self.addr}>"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class MimePart:
    """A node in the MIME tree. ``payload`` is the decoded body of a leaf (bounded by the limits);
    ``truncated`` says when decoding stopped at a limit."""

    path: str  # "1", "1.2", ... (IMAP-style part numbers; "" for a single-part message)
    content_type: str
    params: tuple[tuple[str, str], ...] = ()
    disposition: str | None = None
    filename: str | None = None
    charset: str | None = None
    transfer_encoding: str | None = None
    content_id: str | None = None
    size: int = 0  # decoded size in bytes
    payload: bytes = b""
    truncated: bool = False
    children: tuple[MimePart, ...] = ()
    defects: tuple[str, ...] = ()
    _text: list[str] = field(default_factory=list, init=False, repr=False, compare=False)  # text(), once

    @property
    def is_multipart(self) -> bool:
        return self.content_type.startswith("multipart/")

    def walk(self) -> Iterator[MimePart]:
        stack = [self]
        while stack:
            part = stack.pop()
            yield part
            stack.extend(reversed(part.children))

    def param(self, name: str) -> str | None:
        for k, v in self.params:
            if k == name:
                return v
        return None

    def text(self) -> str:
        """The payload as text in its declared charset, with robust fallbacks."""
        if self._text:
            return self._text[0]  # several checks read the same part: decode it once
        from mailsleuth.model.text import decode_bytes  # local: model.text is a leaf module

        text = decode_bytes(self.payload, self.charset)
        self._text.append(text)
        return text


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One parsed message. Built once by mailsleuth.parse.message.parse_message; never mutated."""

    kind: InputKind
    raw: bytes  # the RFC 5322 bytes analysed (for .msg: the transport headers + reconstructed body)
    headers: tuple[Header, ...]
    header_bytes: bytes
    body_bytes: bytes  # bytes after the blank line (b"" for headers-only input)
    has_body: bool
    crlf: bool  # the input used CRLF line ends
    mime: MimePart | None = None
    defects: tuple[str, ...] = ()  # parse defects of the header block and framing
    notes: tuple[str, ...] = ()  # how the input was read (e.g. "first message of an mbox with 3")
    _by_name: dict[str, tuple[Header, ...]] = field(default_factory=dict, repr=False, compare=False)
    # Values derived from this message alone (e.g. parsed address lists), computed on
    # first use and shared by the checks; it lives and dies with the message.
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def get_all(self, name: str) -> tuple[Header, ...]:
        """All headers of this name, top first."""
        return self._by_name.get(name.lower(), ())

    def get(self, name: str) -> Header | None:
        found = self._by_name.get(name.lower(), ())
        return found[0] if found else None

    def value(self, name: str, default: str = "") -> str:
        h = self.get(name)
        return h.value if h is not None else default

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per message for ``key``; later calls return the stored value."""
        try:
            return cast(T, self._memo[key])
        except KeyError:
            value = self._memo[key] = compute()
            return value
