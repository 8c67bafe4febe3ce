"""One Received header turned into a hop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailsleuth.model.fastinit import fast_init


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """A Received header as the receiving host wrote it.

    ``header_index`` is the 0-based position among Received headers, top (newest) first.
    Fields are None when the header did not say. ``parsed`` is False when the line could not be
    understood; it is kept raw all the same.
    """

    header_index: int
    raw: str
    parsed: bool = True
    from_helo: str | None = None
    from_rdns: str | None = None
    from_ip: str | None = None
    by_host: str | None = None
    via: str | None = None
    protocol: str | None = None
    tls: str | None = None
    id: str | None = None
    for_addr: str | None = None
    envelope_from: str | None = None
    timestamp: datetime | None = None  # normalised to UTC
    timestamp_raw: str | None = None
    comments: tuple[str, ...] = ()
    authenticated: bool = False  # SMTP AUTH (ESMTPA/ESMTPSA or an "authenticated" comment)
    # Added for the Received chain (mailsleuth.parse.received); all optional.
    by_ip: str | None = None  # the receiving host's own address when it wrote one, e.g. "by h (192.0.2.1)"
    tls_version: str | None = None  # normalised: "TLSv1.2", "TLSv1.3", "SSLv3" ...
    tls_cipher: str | None = None
    tls_bits: int | None = None
    may_be_forged: bool = False  # the receiver noted that the client's reverse DNS does not confirm
