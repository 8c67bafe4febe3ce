"""The Received chain and the trust boundary (check ``received.chain``).

Received headers are prepended, so the top one is the newest. The hop table is shown origin first
(hop 1 = the oldest Received header) with each hop's delay and the total transit time. At most
``config.limits.max_received`` headers (the newest ones, nearest the recipient, where the boundary
lies) are analysed in detail; the rest are counted.

Trust boundary
--------------
Which hops did the recipient's own side write? Everything written there is a fact as far as the
recipient is concerned; everything below is a claim by others that may be forged.

*Configured* (``trusted_relays`` host names / ``*.suffix`` patterns, ``trusted_networks`` CIDRs):
walking down from the top, a hop's client is inside when its address is in a trusted network, its
reverse-DNS name (or, when no address was recorded, its HELO name) matches a trusted relay, it is
loopback, or the hop is a local hand-off (no sending host, LMTP, local delivery, IMAP/POP fetch). The
first hop whose client is not inside is the boundary.

*Default* (nothing configured; documented in docs/trust-boundary.md): the top Received was written by
the recipient's own server. Walk down while the receiving hosts belong to the recipient's
organisation. A hop's client counts as inside when

- the hop is a local hand-off: no sending host recorded (``by x with ...``), local delivery (LMTP,
  ``with local``), or a fetch from the recipient's own mailbox (IMAP/POP, as fetchmail writes);
- its address is internal (private, loopback, link-local, shared CGNAT space);
- its reverse-DNS name is in the organisation (organisational domain, PSL) of a receiving host
  already inside, or in the same *mailbox* relay family (data/relays: Microsoft 365, Google,
  Yahoo...) as one;
- no reverse DNS was recorded and its HELO name is in such a family and its address in that
  family's internal networks (Microsoft 365 writes no reverse DNS), or no address was recorded
  at all and its HELO name is in the organisation.

A client that a family's Internet-facing receiver (``inbound`` in the family file, e.g.
*.mail.protection.outlook.com or mx.google.com) received from a public address is outside even
when it looks like a member: another tenant or user of the same provider. Gateways used by senders
as well as recipients (Proofpoint, Mimecast) are never assumed inside; configure them. The first
hop whose client is outside is the boundary. When every hop is inside, the message originated there
and the lowest hop is the boundary.

Authentication-Results and spam stamps are trusted only when they sit above the boundary Received
header and, if they carry an authserv-id, it is trusted (see ``ChainAnalysis.is_trusted_header``).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import itertools
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from mailsleuth.domains import ip_address_of, ip_category, org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.errors import DataError
from mailsleuth.model.chain import ChainAnalysis, HopView, host_matches
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding, Severity
from mailsleuth.model.hop import Hop
from mailsleuth.model.message import Message
from mailsleuth.parse.received import is_ip_literal, literal_ip, parse_received, parse_timestamp

# Tuning (seconds). Clocks of different servers disagree by seconds to minutes; queues and
# greylisting delay legitimate mail by minutes to an hour.
REVERSE_TOLERANCE_S = 300
SLOW_HOP_S = 3600
DATE_SKEW_LARGE_S = 3600
DATE_FUTURE_TOLERANCE_S = 900
FUTURE_STAMP_TOLERANCE_S = 86400
EXCESSIVE_HOPS = 30
MAX_FINDINGS_PER_CODE = 5

_INTERNAL_CATS = frozenset({"private", "loopback", "link-local", "cgnat"})
_NONSENSE_CATS = frozenset({"reserved", "unspecified", "multicast"})
_LOCAL_PROTOCOLS = frozenset({"LMTP", "LMTPS", "LMTPA", "LMTPSA", "UTF8LMTP", "UTF8LMTPS", "UTF8LMTPA",
                              "UTF8LMTPSA", "local", "UUCP"})
_FETCH_PROTOCOLS = frozenset({"IMAP", "IMAPS", "POP3", "POP3S", "POP"})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "localhost6", "ip6-localhost", "loopback"})

CODES = (
    "RCVD_NONE", "RCVD_UNPARSEABLE", "RCVD_NO_TIMESTAMP", "RCVD_TIME_REVERSED", "RCVD_SLOW_HOP",
    "RCVD_DATE_SKEW", "RCVD_DATE_SKEW_LARGE", "RCVD_DATE_AFTER_DELIVERY", "RCVD_FUTURE_TIMESTAMP",
    "RCVD_PRIVATE_IP", "RCVD_HELO_IP_MISMATCH", "RCVD_HELO_CLAIMS_RECIPIENT", "RCVD_RDNS_MAY_BE_FORGED",
    "RCVD_CHAIN_GAP", "RCVD_DIRECT_DYNAMIC", "RCVD_BOUNDARY", "RCVD_EXCESSIVE_HOPS", "RCVD_COHERENT_TLS",
)


# --------------------------------------------------------------------------- knowledge (data files)

class HostPatterns:
    """``any(host_matches(name, p) for p in patterns)`` (mailsleuth.model.chain.host_matches, same
    rules), with the patterns sorted once into exact names, ``*.suffix`` endings and other
    shell-style patterns."""

    __slots__ = ("_exact", "_globs", "_suffixes")

    def __init__(self, patterns: Sequence[str]) -> None:
        exact: set[str] = set()
        suffixes: list[str] = []
        globs: list[Callable[[str], re.Match[str] | None]] = []
        for pattern in patterns:
            p = pattern.lower().rstrip(".")
            if p.startswith("*.") and "*" not in p[2:] and "?" not in p[2:]:
                suffixes.append(p[1:])
            elif "*" in p or "?" in p or "[" in p:
                globs.append(re.compile(fnmatch.translate(p)).match)  # what fnmatch.fnmatchcase runs
            else:
                exact.add(p)
        self._exact = frozenset(exact)
        self._suffixes = tuple(suffixes)
        self._globs = tuple(globs)

    def match(self, name: str | None) -> bool:
        if not name:
            return False
        n = name.lower().rstrip(".")
        return n in self._exact or n.endswith(self._suffixes) or any(g(n) is not None for g in self._globs)


@dataclass(frozen=True, slots=True)
class RelayFamily:
    id: str
    name: str
    role: str  # "mailbox" | "gateway"
    hosts: tuple[str, ...]
    inbound: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    authserv_ids: tuple[str, ...]
    examples: dict[str, tuple[str, ...]]
    _hosts: HostPatterns = field(init=False, repr=False, compare=False)
    _inbound: HostPatterns = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hosts", HostPatterns(self.hosts))
        object.__setattr__(self, "_inbound", HostPatterns(self.inbound))

    def member(self, name: str | None) -> bool:
        return self._hosts.match(name)

    def is_inbound(self, name: str | None) -> bool:
        return self._inbound.match(name)

    def owns_ip(self, ip: str | None) -> bool:
        addr = ip_address_of(ip) if ip else None
        return addr is not None and any(addr.version == n.version and addr in n for n in self.networks)


def _strs(body: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = body.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise DataError(f"relays/{where}: {key} must be a list of strings")
    return tuple(v)


@cache
def relay_families() -> tuple[RelayFamily, ...]:
    out = []
    root = resources.files("mailsleuth") / "data" / "relays"
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml") or item.name.startswith("_"):
            continue
        try:
            body = tomllib.loads(item.read_text(encoding="utf-8"))
            nets = tuple(ipaddress.ip_network(n) for n in _strs(body, "networks", item.name))
            ex = body.get("examples", {})
            out.append(RelayFamily(
                id=str(body["id"]), name=str(body["name"]), role=str(body["role"]),
                hosts=_strs(body, "hosts", item.name), inbound=_strs(body, "inbound", item.name),
                networks=nets, authserv_ids=_strs(body, "authserv_ids", item.name),
                examples={k: _strs(ex, k, item.name) for k in ("member", "not_member", "inbound", "not_inbound")},
            ))
        except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
            raise DataError(f"relays/{item.name}: {exc}") from None
        if out[-1].role not in ("mailbox", "gateway"):
            raise DataError(f"relays/{item.name}: role must be mailbox or gateway")
    return tuple(out)


def family_of(name: str | None) -> RelayFamily | None:
    """The relay family a host name belongs to."""
    if not name:
        return None
    return _family_of(name)


@lru_cache(maxsize=8192)
def _family_of(name: str) -> RelayFamily | None:
    if is_ip_literal(name):
        return None
    key = name.lower().rstrip(".")
    return next((f for f in relay_families() if f.member(key)), None)


@dataclass(frozen=True, slots=True)
class DynamicPattern:
    id: str
    kind: str
    regex: re.Pattern[str] | None
    positive: tuple[tuple[str, str], ...]
    negative: tuple[tuple[str, str], ...]


@cache
def dynamic_patterns() -> tuple[DynamicPattern, ...]:
    item = resources.files("mailsleuth") / "data" / "relays" / "_dynamic_rdns.toml"
    try:
        body = tomllib.loads(item.read_text(encoding="utf-8"))
        out = []
        for p in body.get("pattern", []):
            kind = p["kind"]
            if kind not in ("regex", "embeds_ip"):
                raise DataError(f"relays/_dynamic_rdns.toml: unknown kind {kind!r}")
            out.append(DynamicPattern(
                id=p["id"], kind=kind, regex=re.compile(p["regex"]) if kind == "regex" else None,
                positive=tuple((a, b) for a, b in p.get("positive", [])),
                negative=tuple((a, b) for a, b in p.get("negative", [])),
            ))
    except (tomllib.TOMLDecodeError, KeyError, ValueError, re.error) as exc:
        raise DataError(f"relays/_dynamic_rdns.toml: {exc}") from None
    return tuple(out)


_DIGITS = re.compile(r"\d{1,3}")


def _embeds_ip(name: str, ip: str | None) -> bool:
    addr = ip_address_of(ip) if ip else None
    if not isinstance(addr, ipaddress.IPv4Address):
        return False
    octets = [int(x) for x in str(addr).split(".")]
    n = name.lower()
    if "".join(f"{o:02x}" for o in octets) in n:
        return True
    nums = [int(d) for d in _DIGITS.findall(n)[:40]]
    for seq in (octets, octets[::-1]):
        for start in (0, 1):
            run = seq[start:start + 3]
            for i in range(len(nums) - 2):
                if nums[i:i + 3] == run:
                    return True
    return False


def dynamic_match(rdns: str | None, ip: str | None) -> str | None:
    """The id of the first dynamic-looking pattern the reverse-DNS name matches, or None."""
    if not rdns:
        return None
    name = rdns.lower()
    for p in dynamic_patterns():
        if p.kind == "embeds_ip" and _embeds_ip(name, ip):
            return p.id
        if p.kind == "regex" and p.regex is not None and p.regex.search(name):
            return p.id
    return None


# --------------------------------------------------------------------------- helpers

def _org(name: str | None) -> str | None:
    return _org_of(name) if name and "." in name else None


@lru_cache(maxsize=8192)
def _org_of(name: str) -> str | None:
    return None if is_ip_literal(name) else org_domain(name)


def _is_local_name(name: str | None) -> bool:
    return name is not None and name.lower().rstrip(".") in _LOCAL_NAMES


def _ip_cat(ip: str | None) -> str | None:
    return ip_category(ip) if ip else None


def _client(hop: Hop) -> str:
    parts = []
    if hop.from_helo:
        parts.append(hop.from_helo)
    if hop.from_rdns and hop.from_rdns != hop.from_helo:
        parts.append(f"rDNS {hop.from_rdns}")
    if hop.from_ip:
        parts.append(f"[{hop.from_ip}]")
    return " ".join(parts) if parts else "(no sending host recorded)"


def _stamp(ts: datetime) -> str:
    """``ts.strftime("%Y-%m-%d %H:%M:%S UTC")`` (the wall time as stored: UTC for parsed hops)."""
    if ts.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return ts.strftime("%Y-%m-%d %H:%M:%S UTC")
    return ts.isoformat(" ", "seconds")[:19] + " UTC"


def _hop_summary(v: HopView) -> str:
    h = v.hop
    ts = _stamp(h.timestamp) if h.timestamp else "no time"
    return f"from {_client(h)} by {h.by_host or '?'} at {ts}"[:300]


def _hop_evidence(v: HopView) -> tuple[Evidence, Evidence]:
    return (Evidence(kind=EvidenceKind.HEADER, ref=f"Received[{v.hop.header_index}]",
                     value=" ".join(v.hop.raw[:600].split())[:300]),
            Evidence(kind=EvidenceKind.HOP, ref=f"hop {v.number}", value=_hop_summary(v)))


def _duration(seconds: float) -> str:
    s = abs(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    if s < 2 * 365 * 86400:
        return f"{s / 86400:.1f} days"
    return f"{s / (365.25 * 86400):.0f} years"


def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for c in cidrs:
        try:
            out.append(ipaddress.ip_network(c.strip(), strict=False))
        except ValueError:
            continue
    return tuple(out)


def _in_networks(ip: str | None, nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    addr = ip_address_of(ip) if ip and nets else None
    if addr is None:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == n.version and addr in n for n in nets)


# --------------------------------------------------------------------------- the walk

class _Walk:
    """Mutable state of the top-down walk: what is known to be inside."""

    def __init__(self) -> None:
        self.orgs: list[str] = []
        self.own_orgs: list[str] = []  # organisations that are not a mailbox provider's own
        self.families: list[RelayFamily] = []
        self.by_hosts: list[str] = []

    def add_host(self, name: str | None) -> None:
        if not name or is_ip_literal(name) or "." not in name:
            return
        n = name.lower().rstrip(".")
        if n not in self.by_hosts:
            self.by_hosts.append(n)
        org = _org(n)
        fam = family_of(n)
        if org and org not in self.orgs:
            self.orgs.append(org)
        if org and fam is None and org not in self.own_orgs:
            self.own_orgs.append(org)
        if fam is not None and fam not in self.families:
            self.families.append(fam)

    def same_side(self, name: str | None) -> bool:
        if not name:
            return False
        org = _org(name)
        if org and org in self.orgs:
            return True
        fam = family_of(name)
        return fam is not None and fam.role == "mailbox" and fam in self.families


def _local_handoff(hop: Hop) -> str | None:
    if not (hop.from_helo or hop.from_ip or hop.from_rdns):
        return "handed on locally (no sending host recorded)"
    if hop.protocol in _LOCAL_PROTOCOLS:
        return f"local delivery ({hop.protocol})"
    if hop.protocol in _FETCH_PROTOCOLS:
        return f"fetched from the recipient's own mailbox ({hop.protocol})"
    return None


def _inside_default(hop: Hop, walk: _Walk) -> tuple[bool, str]:
    if not hop.parsed:
        return False, "its Received header could not be read"
    local = _local_handoff(hop)
    if local:
        return True, local
    cat = _ip_cat(hop.from_ip)
    if cat in _INTERNAL_CATS:
        return True, f"the client has an internal ({cat}) address"
    by_fam = family_of(hop.by_host)
    if by_fam is not None and by_fam.is_inbound(hop.by_host):
        return False, f"{hop.by_host} is {by_fam.name}'s Internet-facing receiver"
    if hop.from_rdns:
        if _is_local_name(hop.from_rdns) and hop.from_ip is None:
            return True, "the client is the local host"
        if walk.same_side(hop.from_rdns):
            return True, "the client's reverse DNS is in the recipient's organisation"
        return False, "the client's reverse DNS is in another organisation"
    if hop.from_ip is None:
        if _is_local_name(hop.from_helo):
            return True, "the client is the local host"
        if walk.same_side(hop.from_helo):
            return True, "the client (no address recorded) names itself in the recipient's organisation"
        return False, "the client (no address recorded) names itself in another organisation"
    fam = family_of(hop.from_helo)
    if fam is not None and fam.role == "mailbox" and fam in walk.families and fam.owns_ip(hop.from_ip):
        return True, f"the client is a {fam.name} machine by name and address"
    return False, "the client is outside the recipient's organisation"


def _inside_configured(hop: Hop, relays: tuple[str, ...],
                       nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> tuple[bool, str]:
    if not hop.parsed:
        return False, "its Received header could not be read"
    local = _local_handoff(hop)
    if local:
        return True, local
    if _in_networks(hop.from_ip, nets):
        return True, "the client's address is in trusted_networks"
    if _ip_cat(hop.from_ip) == "loopback":
        return True, "the client is the local host (loopback)"
    if hop.from_rdns and any(host_matches(hop.from_rdns, p) for p in relays):
        return True, "the client's reverse DNS matches trusted_relays"
    if hop.from_ip is None and hop.from_rdns is None and hop.from_helo and (
            _is_local_name(hop.from_helo) or any(host_matches(hop.from_helo, p) for p in relays)):
        return True, "the client (no address recorded) is a trusted relay by name"
    return False, "the client is not a configured trusted relay or network"


# --------------------------------------------------------------------------- the check

_new_view = factory(HopView)  # one a hop: the cheaper way to build it


@check("received.chain", title="Received chain and trust boundary", codes=CODES)
def received_chain(ctx: Context) -> Outcome:
    msg = ctx.message
    cfg = ctx.config
    out = Outcome()
    headers = msg.get_all("Received")
    total = len(headers)
    if total == 0:
        out.findings.append(ctx.finding("RCVD_NONE"))
        out.artifact = ChainAnalysis(method="no Received headers: nothing can be said about the route or the recipient's side")
        return out
    cap = max(1, cfg.limits.max_received)
    analysed = headers[:cap]
    omitted = total - len(analysed)
    hops_top = [parse_received(h.raw, h.occurrence) for h in analysed]

    # ---- trust boundary: walk down from the top
    relays = tuple(p.strip() for p in cfg.trusted_relays if p.strip())
    nets = _networks(cfg.trusted_networks)
    configured = bool(relays or nets)
    walk = _Walk()
    boundary_i: int | None = None
    reason = ""
    for i, hop in enumerate(hops_top):
        walk.add_host(hop.by_host)
        inside, reason = _inside_configured(hop, relays, nets) if configured else _inside_default(hop, walk)
        if not inside:
            boundary_i = i
            break
        if hop.protocol in _FETCH_PROTOCOLS:
            walk.add_host(hop.from_rdns or hop.from_helo)
    mode = "configured trusted relays/networks" if configured else "default (recipient's organisation)"
    if boundary_i is None:
        boundary_i = len(hops_top) - 1
        if omitted:
            method = (f"{mode}: every analysed hop is inside; the boundary is put at the oldest analysed hop "
                      f"({omitted} older Received headers were not analysed)")
        else:
            method = f"{mode}: every hop is inside the recipient's side, so the message originated there"
    else:
        bh = hops_top[boundary_i]
        method = (f"{mode}: the boundary is hop {total - boundary_i}, where {bh.by_host or 'the receiving host'} "
                  f"received from {_client(bh)}; it is outside because {reason}")

    # ---- views, origin first
    views: list[HopView] = []
    prev_ts: datetime | None = None
    for i in range(len(hops_top) - 1, -1, -1):
        hop = hops_top[i]
        delay = None
        if hop.timestamp is not None:
            if prev_ts is not None:
                delay = (hop.timestamp - prev_ts).total_seconds()
            prev_ts = hop.timestamp
        side = "recipient" if i < boundary_i else ("boundary" if i == boundary_i else "claim")
        views.append(_new_view(number=total - i, hop=hop, header_position=analysed[i].index, delay_s=delay,
                             trusted=i <= boundary_i, side=side))
    bview = next(v for v in views if v.side == "boundary")
    bhop = bview.hop
    stamps = [v.hop.timestamp for v in views if v.hop.timestamp is not None]
    transit = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) >= 2 else None

    # recipient organisation and the ids we trust
    recipient_org = walk.own_orgs[0] if walk.own_orgs else None
    if recipient_org is None:
        for v in reversed(views):
            if v.trusted and v.hop.for_addr and "@" in v.hop.for_addr:
                recipient_org = _org(v.hop.for_addr.rsplit("@", 1)[1].strip("<>"))
                if recipient_org:
                    break
    if recipient_org is None and walk.orgs:
        recipient_org = walk.orgs[0]
    ids: list[str] = []
    for x in (*(a.strip().lower() for a in cfg.trusted_authserv_ids if a.strip()), *walk.by_hosts):
        if x not in ids:
            ids.append(x)
    for fam in walk.families:
        for x in (*fam.authserv_ids, *fam.hosts):
            if x not in ids:
                ids.append(x)
    below = [v for v in views if v.side == "claim"]
    block_end = below[-1].header_position if below else len(msg.headers)
    block_first = _block_first_ids(msg, bview.header_position, block_end)

    # Date header against the first hop
    date_ts = parse_timestamp(msg.value("Date")) if msg.get("Date") is not None else None
    skew = (date_ts - stamps[0]).total_seconds() if (date_ts is not None and stamps) else None

    chain = ChainAnalysis(
        hops=tuple(views), received_count=total, omitted=omitted, boundary=bview,
        client_ip=bhop.from_ip, client_helo=bhop.from_helo, client_rdns=bhop.from_rdns,
        delivered_at=bhop.timestamp, total_transit_s=transit, boundary_header_index=bview.header_position,
        trusted_authserv_ids=tuple(ids), trusted_orgs=tuple(walk.orgs), recipient_org=recipient_org,
        method=method, configured=configured, date_skew_s=skew,
        _block_end=block_end, _configured_ids=tuple(a.strip().lower() for a in cfg.trusted_authserv_ids if a.strip()),
        _block_first=block_first, _boundary_by=(bhop.by_host or "").strip().lower().rstrip("."),
    )
    out.artifact = chain
    out.findings.extend(_findings(ctx, chain, views, bview, date_ts, walk))
    return out


_FLAT_COMMENT = re.compile(r"\([^()]*\)")


def _block_first_ids(msg: Message, start: int, end: int) -> tuple[tuple[str, int], ...]:
    """For the boundary hop's own block (the headers just below its Received header, down to the
    next Received), the first Authentication-Results per authserv-id: receivers such as Gmail and
    Sendmail's milters write theirs there, closest to their Received header."""
    def ident(value: str) -> str:
        head = _FLAT_COMMENT.sub(" ", value.split(";", 1)[0]).strip().split()
        return head[0].lower().rstrip(".") if head else ""

    # An id the receiver already used above its Received header is written there, not below.
    results = msg.get_all("Authentication-Results")  # top first; Header.index = position among all headers
    above = {ident(h.value) for h in results if h.index <= start}
    first: dict[str, int] = {}
    for h in results:
        if start < h.index < min(end, start + 60):
            a = ident(h.value)
            if a and a not in above:
                first.setdefault(a, h.index)
    return tuple(first.items())


def _findings(ctx: Context, chain: ChainAnalysis, views: list[HopView], bview: HopView,
              date_ts: datetime | None, walk: _Walk) -> list[Finding]:
    f: list[Finding] = []
    counts: dict[str, int] = {}
    evidence: dict[int, tuple[Evidence, Evidence]] = {}

    def add(code: str, ev: Sequence[Evidence], severity: Severity | None = None, **facts: Any) -> None:
        if counts.get(code, 0) >= MAX_FINDINGS_PER_CODE:
            return
        counts[code] = counts.get(code, 0) + 1
        f.append(ctx.finding(code, ev, severity=severity, **facts))

    def _ev(v: HopView) -> tuple[Evidence, Evidence]:  # a hop's evidence, built once per message
        found = evidence.get(v.number)
        if found is None:
            found = evidence[v.number] = _hop_evidence(v)
        return found

    bhop = bview.hop
    transit = chain.total_transit_s
    add("RCVD_BOUNDARY", _ev(bview), hop=bview.number, hops=chain.received_count,
        client=_client(bhop), client_ip=bhop.from_ip or "unknown", by=bhop.by_host or "?",
        transit=_duration(transit) if transit is not None else "unknown", transit_s=transit, method=chain.method)

    if chain.received_count > EXCESSIVE_HOPS or chain.omitted:
        add("RCVD_EXCESSIVE_HOPS", [Evidence(kind=EvidenceKind.COMPUTED, ref="Received",
                                             value=f"{chain.received_count} headers")],
            count=chain.received_count, analysed=len(views), omitted=chain.omitted)

    now = ctx.clock()
    for v in views:
        h = v.hop
        if not h.parsed:
            add("RCVD_UNPARSEABLE", _ev(v), hop=v.number, index=h.header_index)
        elif h.timestamp is None:
            add("RCVD_NO_TIMESTAMP", _ev(v), hop=v.number, index=h.header_index,
                written=(h.timestamp_raw or "nothing")[:80])
        if v.delay_s is not None and v.delay_s < -REVERSE_TOLERANCE_S:
            add("RCVD_TIME_REVERSED", _ev(v), hop=v.number, seconds=round(-v.delay_s),
                duration=_duration(v.delay_s), side=v.side)
        elif v.delay_s is not None and v.delay_s > SLOW_HOP_S and h.protocol not in _FETCH_PROTOCOLS:
            add("RCVD_SLOW_HOP", _ev(v), hop=v.number, seconds=round(v.delay_s), duration=_duration(v.delay_s),
                side=v.side)
        if h.timestamp is not None:
            ahead = (h.timestamp - now).total_seconds()
            if ahead > FUTURE_STAMP_TOLERANCE_S:
                add("RCVD_FUTURE_TIMESTAMP", _ev(v), hop=v.number, duration=_duration(ahead),
                    timestamp=h.timestamp.isoformat())

    # Date header against the first hop and against delivery
    if date_ts is not None and chain.date_skew_s is not None:
        first = next(v for v in views if v.hop.timestamp is not None)
        skew = chain.date_skew_s
        direction = "after" if skew >= 0 else "before"
        ev = [Evidence(kind=EvidenceKind.HEADER, ref="Date[0]", value=ctx.message.value("Date")[:120]), *_ev(first)]
        facts: dict[str, Any] = {"seconds": round(skew), "abs_seconds": round(abs(skew)),
                                 "duration": _duration(skew), "direction": direction, "hop": first.number}
        add("RCVD_DATE_SKEW_LARGE" if abs(skew) > DATE_SKEW_LARGE_S else "RCVD_DATE_SKEW", ev, **facts)
        if chain.delivered_at is not None:
            late = (date_ts - chain.delivered_at).total_seconds()
            if late > DATE_FUTURE_TOLERANCE_S:
                add("RCVD_DATE_AFTER_DELIVERY", [ev[0], *_ev(bview)], seconds=round(late), duration=_duration(late))

    # addresses that make no sense where they stand
    lowest_with_client = next((v for v in views if v.hop.from_ip or v.hop.from_helo), None)
    for v in views:
        h = v.hop
        cat = _ip_cat(h.from_ip)
        if cat is None or cat == "documentation":
            continue
        if cat in _NONSENSE_CATS:
            add("RCVD_PRIVATE_IP", _ev(v), hop=v.number, ip=h.from_ip, category=cat)
            continue
        if v.side == "recipient" or v is lowest_with_client or cat == "loopback":
            continue  # the recipient's internal segment; a sender's own LAN at submission; a local process
        if v.side == "boundary" and chain.configured:
            add("RCVD_PRIVATE_IP", _ev(v), hop=v.number, ip=h.from_ip, category=cat)
            continue
        client_org = _org(h.from_rdns) or _org(h.from_helo)
        by_org = _org(h.by_host)
        if client_org and by_org and client_org != by_org and not _is_local_name(h.from_helo):
            add("RCVD_PRIVATE_IP", _ev(v), hop=v.number, ip=h.from_ip, category=cat)

    # the client at the boundary: the one fact about the sender the recipient's server recorded itself
    if bhop.parsed and bview.side == "boundary" and (bhop.from_ip or bhop.from_helo):
        helo = bhop.from_helo
        helo_ip = None
        if helo and is_ip_literal(helo):
            helo_ip = literal_ip(helo)
        if helo_ip and bhop.from_ip and helo_ip != bhop.from_ip and _ip_cat(helo_ip) in (None, "documentation"):
            add("RCVD_HELO_IP_MISMATCH", _ev(bview), hop=bview.number, helo=helo, ip=bhop.from_ip)
        own = [o for o in (*walk.own_orgs, *(_org(d) or d for d in ctx.config.own_domains)) if o]
        helo_org = _org(helo) if helo and not is_ip_literal(helo) else None
        if helo_org and helo_org in own and _ip_cat(bhop.from_ip) not in _INTERNAL_CATS:
            add("RCVD_HELO_CLAIMS_RECIPIENT", _ev(bview), hop=bview.number, helo=helo,
                ip=bhop.from_ip or "unknown", org=helo_org)
        if bhop.may_be_forged:
            add("RCVD_RDNS_MAY_BE_FORGED", _ev(bview), hop=bview.number, rdns=bhop.from_rdns or "?",
                ip=bhop.from_ip or "unknown")
        direct = not any(v.side == "claim" for v in views)
        pattern = dynamic_match(bhop.from_rdns, bhop.from_ip) if direct and chain.omitted == 0 else None
        if pattern:
            add("RCVD_DIRECT_DYNAMIC", _ev(bview), hop=bview.number, rdns=bhop.from_rdns, ip=bhop.from_ip or "?",
                pattern=pattern)

    # a chain broken by a gap (lenient, information only)
    for lower, upper in itertools.pairwise(views):
        if not _continues(lower.hop, upper.hop):
            add("RCVD_CHAIN_GAP", [*_ev(lower), *_ev(upper)], lower=lower.number, upper=upper.number,
                by=lower.hop.by_host or "?", client=_client(upper.hop))

    # a coherent, fully read chain that reached the recipient over TLS (tiny reassurance)
    if (views and not chain.omitted and all(v.hop.parsed and v.hop.timestamp is not None for v in views)
            and not any(c in counts for c in ("RCVD_TIME_REVERSED", "RCVD_CHAIN_GAP", "RCVD_PRIVATE_IP",
                                              "RCVD_HELO_IP_MISMATCH", "RCVD_FUTURE_TIMESTAMP"))
            and (bhop.tls_version or bhop.tls_cipher or (bhop.tls or "").startswith("yes"))):
        add("RCVD_COHERENT_TLS", _ev(bview), hops=len(views), tls=bhop.tls or "TLS")
    return f


def _names(h: Hop) -> list[str]:
    """The client's names for comparison (lower case, no trailing dot), addresses left out."""
    return [k for n in (h.from_helo, h.from_rdns) if n and (k := _name_key(n)) is not None]


@lru_cache(maxsize=8192)
def _name_key(name: str) -> str | None:
    return None if is_ip_literal(name) else name.lower().rstrip(".")


def _continues(lower: Hop, upper: Hop) -> bool:
    """Does ``upper`` (the next hop toward the recipient) plausibly receive from the host that wrote
    ``lower``? Lenient: unknown on either side, local names, internal addresses and relatives by
    organisation, relay family or first label all count as continuing."""
    by = (lower.by_host or "").lower().rstrip(".")
    if not by or not upper.parsed or not lower.parsed:
        return True
    if not (upper.from_helo or upper.from_ip or upper.from_rdns):
        return True
    names = _names(upper)
    if _is_local_name(by) or any(n in _LOCAL_NAMES for n in names):
        return True
    if _ip_cat(upper.from_ip) in _INTERNAL_CATS or _ip_cat(lower.by_ip) in _INTERNAL_CATS:
        return True
    by_ip = lower.by_ip
    if by_ip and upper.from_ip and by_ip == upper.from_ip:
        return True
    if not names:
        return True  # only an address on the upper side and no address for the lower host: unknown
    if is_ip_literal(by):
        return upper.from_ip is None or upper.from_ip == by_ip
    by_org, by_fam, by_first = _org(by), family_of(by), by.split(".", 1)[0]
    for n in names:
        if n == by or n.split(".", 1)[0] == by_first:
            return True
        if by_org and _org(n) == by_org:
            return True
        fam = family_of(n)
        if fam is not None and fam is by_fam:
            return True
    return "." not in by  # an unqualified receiving name cannot be compared
