"""What the body checks found: links, forms, attachments, followed redirect chains.

Other checks read these artifacts by attribute name (``links``, ``.url``, ``.host``, ``.domain``,
``.where``, ``.text``, ``.unwrapped``; ``final_urls``): those names are public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailsleuth.model.fastinit import fast_init


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One link as written in the message (refanged when it was defanged)."""

    url: str
    host: str  # lower-case; IDNs as written (A-label if the URL used punycode)
    domain: str | None  # registrable domain of the host (PSL); None for IP literals and odd hosts
    where: str  # "part 1.2 <a href>", "part 1 text", "part 2 calendar"
    text: str = ""  # visible text (anchor text, alt text) when there is any
    unwrapped: str | None = None  # the target inside a known wrapper (Safe Links, URL Defense...)
    scheme: str = ""
    part: str = ""  # MIME part path
    tag: str = ""  # "a", "img", "form", "area", "meta", "css", "text", ...
    attr: str = ""  # "href", "src", "action", "url()", "refresh", ...
    wrapper: str | None = None  # id of the wrapper recognised, if any
    wrapper_note: str | None = None  # e.g. "target not recoverable from the URL"
    wrapper_kind: str | None = None  # security, redirect, open-redirect, tracker (data/body/wrappers.toml)
    defanged: bool = False

    @property
    def target(self) -> str:
        """Where the link leads as far as the URL tells: the unwrapped target, else the URL."""
        return self.unwrapped or self.url


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    part: str
    action: str  # as written ("" when absent)
    method: str
    target_host: str | None  # host the form posts to; None when it posts nowhere/locally
    password_fields: int = 0
    inputs: tuple[str, ...] = ()  # input names (bounded)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class HtmlSummary:
    """What one HTML part contains (kept for the attachment check; not shown in the report)."""

    part: str
    forms: tuple[Form, ...] = ()
    scripts: int = 0
    password_fields: int = 0
    remote_images: int = 0
    tracking_pixels: int = 0
    meta_refresh: str | None = None
    base_href: str | None = None
    truncated: bool = False


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class LinksArtifact:
    links: tuple[Link, ...]
    forms: tuple[Form, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    domains: tuple[str, ...] = ()  # distinct registrable domains of the link targets, first seen first
    html: dict[str, HtmlSummary] = field(default_factory=dict, metadata={"json": False})


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    url: str
    method: str = ""
    status: int = 0
    ip: str | None = None
    location: str | None = None
    error: str | None = None  # timeout, refused (and why), ...


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Chain:
    start: str
    hops: tuple[Hop, ...]
    final: str | None  # the last URL reached (None when the first hop was refused or failed)
    outcome: str  # "ok", "refused", "error", "too-many-hops", "loop"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FollowArtifact:
    chains: tuple[Chain, ...]
    final_urls: dict[str, str] = field(default_factory=dict)  # original link url -> final url


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveMember:
    name: str
    size: int
    compressed: int
    encrypted: bool = False


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    kind: str  # "zip", ...
    members: tuple[ArchiveMember, ...] = ()
    member_count: int = 0
    total_size: int = 0
    encrypted: bool = False
    problems: tuple[str, ...] = ()  # limits exceeded, unreadable


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    name: str
    part: str
    declared_type: str
    sniffed_type: str | None
    size: int
    md5: str
    sha1: str
    sha256: str
    extension: str = ""
    risk_groups: tuple[str, ...] = ()  # ids from data/body/extensions.toml
    double_extension: bool = False
    inline: bool = False
    source: str = "mime"  # "mime", "tnef", "archive"
    archive: Archive | None = None
    details: dict[str, Any] = field(default_factory=dict)  # macros, pdf keywords, html forms, qr...


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentsArtifact:
    attachments: tuple[Attachment, ...]
    counts: dict[str, int] = field(default_factory=dict)
