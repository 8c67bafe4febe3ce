"""What the infrastructure checks look at, gathered once per message: the hops (origin first, with
which side of the trust boundary each host is on) and the identity domains.

The Received chain and identity checks are other engineers' work; their artifacts are used when
present. When one is missing this module reads the raw headers itself with a small tolerant
parser, so the infrastructure checks never depend on another check having run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, NamedTuple

from mailsleuth.domains import ip_category, is_ip, normalize, org_domain, to_ascii
from mailsleuth.parse.addresses import message_addresses

_MAX_HOPS = 60
_MAX_DOMAINS = 24

_FROM = re.compile(r"^\s*from\s+(\S+)", re.I)
_BY = re.compile(r"\bby\s+([^\s;()]+)", re.I)
_IP = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]{3,45})\]")
_BARE_IP = re.compile(r"\(\s*(?:[^\s()\[\]]+\s+)?([0-9A-Fa-f:.]{3,45})\s*\)")
_RDNS = re.compile(r"\(\s*([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})\s*\[")
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.I)
_MSGID_HOST = re.compile(r"@([^>\s]+)>?\s*$")
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$", re.I)
_ENVELOPE_FROM = re.compile(r"envelope-from\s*<?([^\s<>@]+@[^\s<>;)]+)", re.I)


@dataclass(frozen=True, slots=True, kw_only=True)
class HopView:
    """One hop, origin first (``pos`` 0 = oldest). ``side`` is ``origin`` for hops the sender's
    systems wrote or handed over from, ``recipient`` above the client hop."""

    pos: int
    header_index: int  # among Received headers, top first
    helo: str | None = None
    rdns: str | None = None
    ip: str | None = None
    by: str | None = None
    timestamp: datetime | None = None
    client: bool = False  # the hop at which the recipient's side took the mail
    side: str = "origin"  # side of the from-part: origin | recipient


@dataclass(slots=True)
class MessageView:
    hops: list[HopView] = field(default_factory=list)
    client: HopView | None = None
    domains: dict[str, list[str]] = field(default_factory=dict)  # domain -> roles
    dkim_domains: list[str] = field(default_factory=list)
    from_domain: str | None = None
    return_path_domain: str | None = None
    message_id_host: str | None = None
    delivered: datetime | None = None  # when the recipient's side received it (else the Date header)
    link_domains: list[str] = field(default_factory=list)
    used_artifacts: list[str] = field(default_factory=list)

    def add_domain(self, name: str | None, role: str) -> None:
        d = valid_host(name)
        if d is None or d.endswith(".local"):
            return
        roles = self.domains.get(d)
        if roles is None:
            if len(self.domains) >= _MAX_DOMAINS:
                return
            roles = self.domains[d] = []
        if role not in roles:
            roles.append(role)


def valid_host(name: str | None) -> str | None:
    """The normalised host name, or None when ``name`` is not one (an address, no dot ...)."""
    return _valid_host(name) if name else None


@lru_cache(maxsize=8192)
def _valid_host(name: str) -> str | None:
    n = normalize(name)
    if not n or is_ip(n) or "." not in n:
        return None
    # IDNs come back from normalize() as U-labels: the syntax is that of their A-label form, and
    # the name must be that form's own reading (not one that IDNA mapping changes, as it maps
    # styled letters such as '𝗞' to plain ones: that would look up another domain).
    a = n if n.isascii() else to_ascii(n)
    if not _HOSTNAME.match(a) or len(a) > 253 or (a is not n and normalize(a) != n):
        return None
    return n


class _Hop(NamedTuple):
    """What the view keeps of a hop (top first) until the client hop is known."""

    header_index: int
    helo: str | None
    rdns: str | None
    ip: str | None
    by: str | None
    timestamp: datetime | None


def _parse_received(value: str, index: int) -> _Hop:
    text = " ".join(value.split())[:2000]
    by_m = _BY.search(text)
    from_part = text[: by_m.start()] if by_m else text
    helo = rdns = ip = None
    m = _FROM.match(from_part)
    if m:
        helo = m.group(1).strip("[]()")
        if is_ip(helo):
            helo = None
    ipm = _IP.search(from_part) or _BARE_IP.search(from_part)
    if ipm:
        ip = ipm.group(1)
        if not is_ip(ip):
            ip = None
    rm = _RDNS.search(from_part)
    if rm:
        rdns = rm.group(1)
    ts = None
    if ";" in text:
        try:
            ts = parsedate_to_datetime(text.rsplit(";", 1)[1].strip())
            ts = ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            ts = None
    return _Hop(index, helo, rdns, ip, by_m.group(1).strip("[]") if by_m else None, ts)


def _hops_from_artifact(chain: Any) -> list[_Hop] | None:
    views = getattr(chain, "hops", None)
    if not views:
        return None
    out = []
    try:
        for v in list(views)[:_MAX_HOPS]:
            hop = getattr(v, "hop", v)
            out.append(_Hop(int(getattr(hop, "header_index", 0)), getattr(hop, "from_helo", None),
                            getattr(hop, "from_rdns", None), getattr(hop, "from_ip", None),
                            getattr(hop, "by_host", None), getattr(hop, "timestamp", None)))
    except (TypeError, ValueError):
        return None
    return out


def _org(name: str | None) -> str | None:
    h = valid_host(name)
    return org_domain(h) if h else None


def _side_key(name: str | None) -> str | None:
    """The organisation a host belongs to for the trust walk: a known platform's hosts (which
    span several registered domains) count as one organisation, else the organisational domain."""
    h = valid_host(name)
    if not h:
        return None
    from mailsleuth.infra.platforms import platform_for_domain

    p = platform_for_domain("host", h)
    return f"platform:{p.id}" if p is not None else org_domain(h)


def _find_client(top_first: list[_Hop], client_ip: str | None) -> int | None:
    """Index (top first) of the hop at which the recipient's side took the mail."""
    if client_ip:
        for i, h in enumerate(top_first):
            if h.ip == client_ip:
                return i
    if not top_first:
        return None
    own = {o for o in (_side_key(top_first[0].by),) if o}
    for i, h in enumerate(top_first):
        by_org = _side_key(h.by)
        if i > 0 and own and by_org and by_org not in own:
            return max(0, i - 1)
        if by_org:
            own.add(by_org)
        from_org = _side_key(h.rdns) or _side_key(h.helo)
        cat = ip_category(h.ip) if h.ip else "none"
        internal = cat not in (None, "documentation")
        if from_org and from_org in own:
            continue
        if internal:
            continue
        return i
    return len(top_first) - 1


def build_view(ctx: Any) -> MessageView:
    """Gather hops and identity domains from the colleagues' artifacts or the raw headers."""
    view = MessageView()
    msg = ctx.message
    chain = ctx.artifact("received.chain")
    top_first: list[_Hop] | None = None
    client_ip = None
    if chain is not None:
        origin_first = _hops_from_artifact(chain)
        if origin_first:
            top_first = list(reversed(origin_first))
            view.used_artifacts.append("received.chain")
        client_ip = getattr(chain, "client_ip", None)
    if top_first is None:
        top_first = [_parse_received(h.value, h.occurrence) for h in msg.get_all("Received")[:_MAX_HOPS]]
    ci = _find_client(top_first, client_ip if isinstance(client_ip, str) else None)
    n = len(top_first)
    hops = []
    for i, h in enumerate(top_first):
        side = "recipient" if ci is not None and i < ci else "origin"
        hops.append(HopView(pos=n - 1 - i, header_index=h.header_index, helo=h.helo, rdns=h.rdns, ip=h.ip,
                            by=h.by, timestamp=h.timestamp, client=(i == ci), side=side))
    view.hops = list(reversed(hops))
    view.client = next((h for h in view.hops if h.client), None)
    stamps = [h.timestamp for h in hops if h.timestamp is not None]
    if stamps:
        view.delivered = stamps[0]  # the topmost stamped hop: the recipient's side
    else:
        date = msg.value("Date") if hasattr(msg, "value") else ""
        try:
            d = parsedate_to_datetime(date) if date else None
            view.delivered = (d.astimezone(UTC) if d.tzinfo else d.replace(tzinfo=UTC)) if d else None
        except (TypeError, ValueError, IndexError, OverflowError):
            view.delivered = None
    _identities(ctx, view)
    return view


def _first_addr_domain(msg: Any, name: str) -> str | None:
    h = msg.get(name)
    if h is None:
        return None
    addrs = message_addresses(msg, h.value[:2000])  # no real address list is longer; keeps the parser linear
    return addrs[0].domain if addrs and addrs[0].domain else None


def _identities(ctx: Any, view: MessageView) -> None:
    msg = ctx.message
    ident = ctx.artifact("identity.alignment")
    from_domain = getattr(ident, "from_domain", None) if ident is not None else None
    rp = getattr(ident, "return_path_domain", None) if ident is not None else None
    dkim = list(getattr(ident, "dkim_domains", None) or ()) if ident is not None else []
    if ident is not None:
        view.used_artifacts.append("identity.alignment")
    view.from_domain = valid_host(from_domain if isinstance(from_domain, str) else None) or valid_host(
        _first_addr_domain(msg, "From"))
    view.return_path_domain = valid_host(rp if isinstance(rp, str) else None) or valid_host(
        _first_addr_domain(msg, "Return-Path"))
    if not view.return_path_domain:
        # the envelope-from a receiving host wrote in its Received line
        for h in msg.get_all("Received")[:10]:
            m = _ENVELOPE_FROM.search(h.value)
            if m:
                view.return_path_domain = valid_host(m.group(1).rsplit("@", 1)[1])
                break
    verified = ctx.artifact("auth.verify.dkim")
    for sig in getattr(verified, "signatures", None) or ():
        details = getattr(sig, "details", None) or {}
        d = details.get("d") if isinstance(details, dict) else None
        if isinstance(d, str):
            dkim.append(d)
    for h in msg.get_all("DKIM-Signature")[:10]:
        m = _DKIM_D.search(h.value)
        if m:
            dkim.append(m.group(1))
    view.dkim_domains = list(dict.fromkeys(x for x in (valid_host(d) for d in dkim if isinstance(d, str)) if x))
    mid = msg.value("Message-ID") if hasattr(msg, "value") else ""
    m = _MSGID_HOST.search(mid.strip()) if mid else None
    view.message_id_host = normalize(m.group(1)) if m else None
    view.add_domain(view.from_domain, "from")
    view.add_domain(view.return_path_domain, "return-path")
    for name, role in (("Reply-To", "reply-to"), ("Sender", "sender")):
        view.add_domain(_first_addr_domain(msg, name), role)
    for d in view.dkim_domains:
        view.add_domain(d, "dkim")
    if view.message_id_host and not view.message_id_host.endswith(".local"):
        view.add_domain(view.message_id_host, "message-id")
    if view.client is not None:
        view.add_domain(view.client.helo, "helo")
    links = ctx.artifact("body.links")
    names: list[str] = []
    for attr in ("domains", "link_domains"):
        val = getattr(links, attr, None) if links is not None else None
        if val:
            names.extend(str(x) for x in list(val)[:50])
    if links is not None and not names:
        for link in list(getattr(links, "links", None) or ())[:200]:
            dom = getattr(link, "domain", None) or getattr(link, "host", None)
            if isinstance(dom, str):
                names.append(dom)
    view.link_domains = list(dict.fromkeys(x for x in (valid_host(n) for n in names) if x))[:20]


def view_for(ctx: Any) -> MessageView:
    """build_view, computed once per message for the several infrastructure checks."""
    return ctx.message.memo("infra.view", lambda: build_view(ctx))
