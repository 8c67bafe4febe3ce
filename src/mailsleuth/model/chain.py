"""The Received chain as analysed: hops from origin to recipient and the trust boundary.

Built by the ``received.chain`` check (mailsleuth.checks.received); read by every check that must
know which headers the recipient's own side wrote (reported authentication, spam stamps, DKIM
timing, SPF client IP). The names here are relied upon by those checks: keep them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime

from mailsleuth.model.fastinit import fast_init
from mailsleuth.model.hop import Hop


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class HopView:
    """One hop in origin-first order.

    ``number`` counts from the origin (1) to the recipient, over the whole chain (hops beyond the
    analysis limit keep their place in the count). ``header_position`` is the index of this
    Received header among all headers (0 = top). ``trusted`` is True for hops written on the
    recipient's side of the boundary (the boundary hop included); ``side`` says the same in words:
    ``recipient`` (written inside), ``boundary`` (where the message entered; its from-part is the
    connecting client as the recipient's server saw it) or ``claim`` (written by others before the
    message reached the recipient: it may be forged).
    """

    number: int
    hop: Hop
    header_position: int
    delay_s: float | None = None  # this hop's timestamp minus the previous timestamped hop's
    trusted: bool = False
    side: str = "claim"


def host_matches(name: str | None, pattern: str) -> bool:
    """``pattern`` is a host name (exact, case-insensitive), ``*.suffix`` (any name below the
    suffix, not the suffix itself) or another shell-style pattern (``mx*.mail.example.com``)."""
    if not name:
        return False
    n = name.lower().rstrip(".")
    p = pattern.lower().rstrip(".")
    if p.startswith("*.") and "*" not in p[2:] and "?" not in p[2:]:
        return n.endswith(p[1:])
    if "*" in p or "?" in p or "[" in p:
        return fnmatch.fnmatchcase(n, p)
    return n == p


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ChainAnalysis:
    """The hop table and the trust boundary.

    ``boundary`` is the hop where the message entered the recipient's trusted side: its
    from_ip/from_helo/from_rdns (copied to ``client_ip``/``client_helo``/``client_rdns``) are the
    client that connected to the recipient's server. ``delivered_at`` is that hop's time stamp
    (UTC). ``boundary_header_index`` is the index among all headers of the boundary Received
    header; headers above it (and the header itself) were written on the recipient's side.
    ``method`` says in words how the boundary was decided.
    """

    hops: tuple[HopView, ...] = ()
    received_count: int = 0  # Received headers in the message
    omitted: int = 0  # Received headers beyond the analysis limit (counted, not analysed)
    boundary: HopView | None = None
    client_ip: str | None = None
    client_helo: str | None = None
    client_rdns: str | None = None
    delivered_at: datetime | None = None
    total_transit_s: float | None = None
    boundary_header_index: int | None = None
    trusted_authserv_ids: tuple[str, ...] = ()  # configured ones plus derived ones (may hold *.patterns)
    trusted_orgs: tuple[str, ...] = ()  # organisational domains of the trusted by-hosts
    recipient_org: str | None = None
    method: str = ""
    configured: bool = False  # True when trusted relays/networks from the configuration decided it
    date_skew_s: float | None = None  # Date header minus the first hop's time stamp
    # Private: the header index where the boundary hop's block ends (the next Received header below
    # it), and the authserv-ids the configuration vouches for.
    _block_end: int | None = field(default=None, repr=False)
    _configured_ids: tuple[str, ...] = field(default=(), repr=False)
    _block_first: tuple[tuple[str, int], ...] = field(default=(), repr=False)
    _boundary_by: str = field(default="", repr=False)

    def is_trusted_header(self, header_index: int, authserv_id: str | None) -> bool:
        """Was the header at ``header_index`` (among all headers) written by the recipient's side?

        True when it sits above the boundary Received header (or is that header) and, if it names
        an authserv-id, that id is trusted: a configured or derived trusted id, or a name in the
        organisation of a trusted by-host. A header without an authserv-id (Microsoft 365 writes
        Authentication-Results so) counts as the trusted hop's when it sits in the trusted region.
        With an authserv-id from the configuration, a header in the boundary hop's own block (just
        below its Received header, where milters insert theirs) is trusted too: the operator vouches
        that their server removes foreign headers carrying its id (RFC 8601 section 5).
        """
        b = self.boundary_header_index
        if b is None or header_index < 0:
            return False
        if header_index <= b:
            if authserv_id is None or not authserv_id.strip():
                return True
            return self.authserv_trusted(authserv_id)
        if not authserv_id or self._block_end is None or header_index >= self._block_end:
            return False
        a = authserv_id.strip().lower().rstrip(".")
        if self._configured_ids and any(host_matches(a, p) for p in self._configured_ids):
            return True
        # Unconfigured: the receiving server that names itself exactly (its by-host) and writes its
        # result just below its own Received header (Gmail, Sendmail milters). Only the first such
        # header of the block counts: a forged copy injected by the sender sits below the real one.
        return bool(self._boundary_by) and a == self._boundary_by and dict(self._block_first).get(a) == header_index

    def authserv_trusted(self, authserv_id: str) -> bool:
        """Is this authserv-id one of ours (ignoring where the header sits)?"""
        a = authserv_id.strip().lower().rstrip(".")
        if not a:
            return False
        if any(host_matches(a, p) for p in self.trusted_authserv_ids):
            return True
        return any(a == org or a.endswith("." + org) for org in self.trusted_orgs)

    @property
    def boundary_number(self) -> int | None:
        return self.boundary.number if self.boundary is not None else None

    @property
    def boundary_hop(self) -> Hop | None:
        """The boundary's Hop (its by_host is the recipient's receiving server)."""
        return self.boundary.hop if self.boundary is not None else None

    def hop_at(self, header_index: int) -> HopView | None:
        """The hop whose Received header is at ``header_index`` among all headers."""
        return next((v for v in self.hops if v.header_position == header_index), None)
