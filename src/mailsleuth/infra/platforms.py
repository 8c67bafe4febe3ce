"""Sending-platform fingerprints: loading the data files and matching a message against them.

One file per platform in ``data/platforms/<id>.toml`` (see docs/platforms.md). Each signal is one
mark a platform leaves: a header (name, optional value pattern), the Message-ID shape, the bounce
(Return-Path) shape, DKIM d= domains, host-name suffixes of HELO/reverse-DNS/by names, the name
servers, MX or SPF includes of the sender's domain, or an origin AS number. A match adds the
weights of the distinct signals that fired; the confidence is ``1 - exp(-sum)``.

Sides: marks the sending platform writes (Message-ID, bounce address, signature, its own headers,
the sending host) count for the *origin*; hosts above the hop where the recipient's side took the
mail, and headers a receiving filter adds, count for a *relay*. The sender's domain set-up (NS,
MX, SPF) supports an origin match but never names one alone. Patterns are compiled once.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from mailsleuth.errors import DataError
from mailsleuth.model.infra import Enrichment, PlatformMatch, Platforms, SignalHit

KINDS = ("esp", "mailbox", "gateway")
SIGNAL_KINDS = ("header", "message_id", "return_path", "dkim", "host", "ns", "mx", "spf", "asn")
DOMAIN_SIDE = ("ns", "mx", "spf")
NAME_THRESHOLD = 1.0  # summed weight at which a platform is named (confidence ~0.63)
_MAX_VALUE = 600


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    weight: float
    name: str = ""  # header name, lower-case
    pattern: re.Pattern[str] | None = None
    domains: tuple[str, ...] = ()
    numbers: tuple[int, ...] = ()
    side: str = ""  # "" = decided by position; origin | relay forces it
    label: str = ""


@dataclass(frozen=True, slots=True)
class Example:
    expect: str  # origin | relay | none
    headers: str
    from_ns: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str
    kind: str
    operator: str
    description: str
    abuse: tuple[str, ...]
    references: tuple[str, ...]
    source: str
    signals: tuple[Signal, ...]
    examples: tuple[Example, ...] = field(default=())
    yields_to: tuple[str, ...] = ()  # a closer match by one of these wins over this one
    freemail: bool = False  # free consumer mailboxes anyone can sign up for


def _str(body: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    v = body.get(key, default)
    if not isinstance(v, str) or (default is None and not v.strip()):
        raise DataError(f"platforms/{where}: '{key}' must be a non-empty string")
    return v


def _strs(body: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    v = body.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise DataError(f"platforms/{where}: '{key}' must be a list of strings")
    return tuple(v)


def _signal(body: dict[str, Any], where: str) -> Signal:
    kind = body.get("kind")
    if kind not in SIGNAL_KINDS:
        raise DataError(f"platforms/{where}: signal kind {kind!r} is not one of {SIGNAL_KINDS}")
    unknown = set(body) - {"kind", "weight", "name", "pattern", "domains", "asns", "side", "label"}
    if unknown:
        raise DataError(f"platforms/{where}: unknown signal keys {sorted(unknown)}")
    weight = body.get("weight", 0.5)
    if not isinstance(weight, int | float) or not 0 < weight <= 2:
        raise DataError(f"platforms/{where}: weight must be in (0, 2]")
    pat = None
    if "pattern" in body:
        try:
            pat = re.compile(_str(body, "pattern", where), re.I)
        except re.error as exc:
            raise DataError(f"platforms/{where}: bad pattern: {exc}") from None
    domains = tuple(d.lower().strip(".") for d in _strs(body, "domains", where))
    asns = body.get("asns", [])
    if not isinstance(asns, list) or not all(isinstance(a, int) for a in asns):
        raise DataError(f"platforms/{where}: asns must be a list of integers")
    side = body.get("side", "")
    if side not in ("", "origin", "relay"):
        raise DataError(f"platforms/{where}: side must be origin or relay")
    name = str(body.get("name", "")).lower()
    if kind == "header" and not name:
        raise DataError(f"platforms/{where}: a header signal needs a name")
    if kind in ("message_id", "return_path") and pat is None and not domains:
        raise DataError(f"platforms/{where}: a {kind} signal needs a pattern or domains")
    if kind in ("dkim", "host", "ns", "mx", "spf") and not domains:
        raise DataError(f"platforms/{where}: a {kind} signal needs domains")
    if kind == "asn" and not asns:
        raise DataError(f"platforms/{where}: an asn signal needs asns")
    return Signal(kind=kind, weight=float(weight), name=name, pattern=pat, domains=domains,
                  numbers=tuple(asns), side=side, label=str(body.get("label", "")))


def parse_platform(text: str, where: str) -> Platform:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"platforms/{where}: {exc}") from None
    pid = _str(data, "id", where)
    if where.endswith(".toml") and where[:-5] != pid:
        raise DataError(f"platforms/{where}: id {pid!r} must match the file name")
    kind = _str(data, "kind", where)
    if kind not in KINDS:
        raise DataError(f"platforms/{where}: kind must be one of {KINDS}")
    sigs = data.get("signal", [])
    if not isinstance(sigs, list) or not sigs:
        raise DataError(f"platforms/{where}: at least one [[signal]] is needed")
    examples = []
    for ex in data.get("example", []):
        exp = ex.get("expect")
        if exp not in ("origin", "relay", "none"):
            raise DataError(f"platforms/{where}: example expect must be origin, relay or none")
        examples.append(Example(expect=exp, headers=_str(ex, "headers", where), note=str(ex.get("note", "")),
                                from_ns=_strs(ex, "from_ns", where)))
    return Platform(
        id=pid, name=_str(data, "name", where), kind=kind, operator=_str(data, "operator", where),
        description=_str(data, "description", where), abuse=_strs(data, "abuse", where),
        references=_strs(data, "references", where), source=_str(data, "source", where),
        signals=tuple(_signal(s, where) for s in sigs), examples=tuple(examples),
        yields_to=_strs(data, "yields_to", where), freemail=bool(data.get("freemail", False)),
    )


@cache
def load_platforms() -> tuple[Platform, ...]:
    root = resources.files("mailsleuth") / "data" / "platforms"
    out = []
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            out.append(parse_platform(item.read_text(encoding="utf-8"), item.name))
    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise DataError("platforms: duplicate ids")
    return tuple(out)


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity (a key of _suffix_hits' cache)
class _Index:
    platforms: tuple[Platform, ...]
    by_header: dict[str, tuple[tuple[int, Signal], ...]]
    by_suffix: dict[str, dict[str, tuple[tuple[int, Signal], ...]]]  # kind -> suffix -> signals
    by_asn: dict[int, tuple[tuple[int, Signal], ...]]
    patterned: dict[str, tuple[tuple[int, Signal], ...]]  # kind (message_id / return_path) -> patterned signals
    position: dict[str, int]  # platform id -> index in platforms


@cache
def index(platforms: tuple[Platform, ...] | None = None) -> _Index:
    plats = platforms if platforms is not None else load_platforms()
    by_header: dict[str, list[tuple[int, Signal]]] = {}
    by_suffix: dict[str, dict[str, list[tuple[int, Signal]]]] = {}
    by_asn: dict[int, list[tuple[int, Signal]]] = {}
    patterned: dict[str, list[tuple[int, Signal]]] = {}
    for i, p in enumerate(plats):
        for s in p.signals:
            if s.kind == "header":
                by_header.setdefault(s.name, []).append((i, s))
            elif s.kind == "asn":
                for n in s.numbers:
                    by_asn.setdefault(n, []).append((i, s))
            elif s.kind in ("message_id", "return_path") and s.pattern is not None:
                patterned.setdefault(s.kind, []).append((i, s))
            if s.kind in ("message_id", "return_path", "dkim", "host", "ns", "mx", "spf") and s.domains:
                for d in s.domains:
                    by_suffix.setdefault(s.kind, {}).setdefault(d, []).append((i, s))
    return _Index(
        platforms=plats,
        by_header={k: tuple(v) for k, v in by_header.items()},
        by_suffix={k: {d: tuple(v) for d, v in m.items()} for k, m in by_suffix.items()},
        by_asn={k: tuple(v) for k, v in by_asn.items()},
        patterned={k: tuple(v) for k, v in patterned.items()},
        position={p.id: i for i, p in reversed(list(enumerate(plats)))},  # the first of a duplicated id
    )


def _suffix_hits(idx: _Index, kind: str, name: str) -> tuple[tuple[int, Signal, str], ...]:
    """(platform index, signal, suffix) for the ``kind`` signals whose domains ``name`` lies under
    (the name itself or a parent, of its last 12 labels, not the last label alone), longest suffix
    first, one hit per signal."""
    if not name or kind not in idx.by_suffix:
        return ()
    return _suffix_hits_cached(idx, kind, name)


@lru_cache(maxsize=8192)
def _suffix_hits_cached(idx: _Index, kind: str, name: str) -> tuple[tuple[int, Signal, str], ...]:
    table = idx.by_suffix[kind]
    n = name.lower().strip(".")
    if n.count(".") >= 12:
        n = n[len(n.rsplit(".", 12)[0]) + 1 :]  # the last 12 labels
    out = []
    seen: set[int] = set()
    pos = 0
    while (dot := n.find(".", pos)) >= 0:  # each suffix of two labels or more, longest first
        suffix = n[pos:]
        for i, s in table.get(suffix, ()):
            if id(s) not in seen:
                seen.add(id(s))
                out.append((i, s, suffix))
        pos = dot + 1
    return tuple(out)


@dataclass(slots=True)
class Observed:
    """What the matcher looks at, gathered from the message (and DNS answers when available)."""

    headers: list[tuple[str, str, str]] = field(default_factory=list)  # lname, value, ref
    message_id: tuple[str, str] | None = None  # value, ref
    return_path: tuple[str, str] | None = None  # address, ref
    dkim: list[tuple[str, str]] = field(default_factory=list)  # domain, ref
    hosts: list[tuple[str, str, str]] = field(default_factory=list)  # host, side, ref
    ns: list[tuple[str, str]] = field(default_factory=list)  # name server, ref
    mx: list[tuple[str, str]] = field(default_factory=list)
    spf: list[tuple[str, str]] = field(default_factory=list)
    asns: list[tuple[int, str, str]] = field(default_factory=list)  # asn, side, ref


def marks(obs: Observed, platforms: tuple[Platform, ...] | None = None) -> dict[str, list[SignalHit]]:
    """Every signal that fired, by platform id, before any threshold (for evaluation)."""
    idx = index(platforms)
    out: dict[str, list[SignalHit]] = {}
    for (i, _side), bucket in _collect(obs, idx).items():
        out.setdefault(idx.platforms[i].id, []).extend(bucket.values())
    return out


def match(obs: Observed, platforms: tuple[Platform, ...] | None = None, *, used_dns: bool = False) -> Platforms:
    idx = index(platforms)
    hits = _collect(obs, idx)
    return _decide(idx, hits, used_dns)


def _collect(obs: Observed, idx: _Index) -> dict[tuple[int, str], dict[tuple[str, str], SignalHit]]:
    hits: dict[tuple[int, str], dict[tuple[str, str], SignalHit]] = {}

    def add(i: int, s: Signal, detail: str, ref: str, side: str, key_hint: str = "") -> None:
        side = s.side or side
        bucket = hits.setdefault((i, side), {})
        key = (s.kind, s.label or s.name or key_hint or detail)
        if key not in bucket or bucket[key].weight < s.weight:
            bucket[key] = SignalHit(kind=s.kind, detail=detail[:200], ref=ref, weight=s.weight, side=side)

    for lname, value, ref in obs.headers:
        for i, s in idx.by_header.get(lname, ()):
            if s.pattern is None or s.pattern.search(value[:_MAX_VALUE]):
                add(i, s, value[:120] if s.pattern else "(present)", ref, "origin")
    if obs.message_id:
        value, ref = obs.message_id
        host = value.strip().strip("<>").rpartition("@")[2]
        for i, s in idx.patterned.get("message_id", ()):
            if s.pattern is not None and s.pattern.search(value[:_MAX_VALUE]):
                add(i, s, value[:200], ref, "origin")
        for i, s, suf in _suffix_hits(idx, "message_id", host):
            add(i, s, value[:200], ref, "origin", suf)
    if obs.return_path:
        value, ref = obs.return_path
        for i, s in idx.patterned.get("return_path", ()):
            if s.pattern is not None and s.pattern.search(value[:_MAX_VALUE]):
                add(i, s, value[:200], ref, "origin")
        for i, s, suf in _suffix_hits(idx, "return_path", value.rpartition("@")[2]):
            add(i, s, value[:200], ref, "origin", suf)
    for dom, ref in obs.dkim:
        for i, s, suf in _suffix_hits(idx, "dkim", dom):
            add(i, s, f"d={dom}", ref, "origin", suf)
    for host, side, ref in obs.hosts:
        for i, s, suf in _suffix_hits(idx, "host", host):
            add(i, s, host, ref, side, suf)
    for kind, items in (("ns", obs.ns), ("mx", obs.mx), ("spf", obs.spf)):
        for name, ref in items:
            for i, s, suf in _suffix_hits(idx, kind, name):
                add(i, s, name, ref, "domain", suf)
    for asn, side, ref in obs.asns:
        for i, s in idx.by_asn.get(asn, ()):
            add(i, s, f"AS{asn}", ref, side)
    return hits


def _decide(idx: _Index, hits: dict[tuple[int, str], dict[tuple[str, str], SignalHit]],
            used_dns: bool = False) -> Platforms:
    matches: list[PlatformMatch] = []
    for pi in sorted({pi for pi, _side in hits}):  # platforms without any signal reach no threshold
        p = idx.platforms[pi]
        origin = hits.get((pi, "origin"), {})
        domain = hits.get((pi, "domain"), {})
        relay = hits.get((pi, "relay"), {})
        o_score = sum(h.weight for h in origin.values())
        if origin and o_score + sum(h.weight for h in domain.values()) >= NAME_THRESHOLD and o_score >= 0.5:
            sigs = (*origin.values(), *domain.values())
            total = sum(h.weight for h in sigs)
            role = "origin"
            if p.kind == "gateway" and not any(h.kind in ("message_id", "return_path", "dkim") for h in sigs):
                role = "relay"  # a filter's marks say it handled the mail, not that it wrote it
            matches.append(_mk(p, role, total, sigs))
        r_score = sum(h.weight for h in relay.values())
        if r_score >= NAME_THRESHOLD and not any(m.id == p.id for m in matches):
            matches.append(_mk(p, "relay", r_score, tuple(relay.values())))
    by_key = {(m.id, m.role): m for m in matches}
    matches = [m for m in matches
               if not any((y, m.role) in by_key and by_key[(y, m.role)].confidence >= m.confidence
                          for y in idx.platforms[idx.position.get(m.id, 0)].yields_to)]
    kind_rank = {"esp": 0, "mailbox": 1, "gateway": 2}
    matches.sort(key=lambda m: (m.role != "origin", -m.confidence, kind_rank.get(m.kind, 3), m.id))
    origins = [m for m in matches if m.role == "origin"]
    return Platforms(matches=tuple(matches), origin=origins[0].id if origins else None,
                     platform=origins[0].name if origins else None,
                     relays=tuple(m.id for m in matches if m.role == "relay"), used_dns=used_dns)


def _mk(p: Platform, role: str, score: float, sigs: tuple[SignalHit, ...]) -> PlatformMatch:
    return PlatformMatch(id=p.id, name=p.name, kind=p.kind, operator=p.operator, role=role,
                         confidence=round(1 - math.exp(-score), 3),
                         signals=tuple(sorted(sigs, key=lambda h: -h.weight)), abuse=p.abuse)


def platform_by_id(pid: str) -> Platform | None:
    idx = index()
    pos = idx.position.get(pid)
    return idx.platforms[pos] if pos is not None else None


def platform_for_domain(kind: str, name: str) -> Platform | None:
    """The platform whose ``kind`` (ns, mx, spf, host) signals cover ``name``, if any."""
    idx = index()
    hits = _suffix_hits(idx, kind, name)
    return idx.platforms[hits[0][0]] if hits else None


_ENVELOPE_FROM = re.compile(r"envelope-from\s*<?([^\s<>@]+@[^\s<>;)]+)", re.I)
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.I)


def observe(view: Any, msg: Any, enrichment: Enrichment | None = None,
            platforms: tuple[Platform, ...] | None = None) -> Observed:
    """Build the matcher's input from a message view (mailsleuth.infra.view) and DNS answers.
    Of the headers, only those some signal of ``platforms`` (default: all) names are kept: no
    other can fire."""
    obs = Observed()
    named = index(platforms).by_header
    obs.headers = [(h.lname, h.value[:_MAX_VALUE], h.ref) for h in msg.headers[:400] if h.name.lower() in named]
    mid = msg.get("Message-ID")
    if mid is not None and mid.value.strip():
        obs.message_id = (mid.value.strip()[:300], mid.ref)
    rp = msg.get("Return-Path")
    if rp is not None and "@" in rp.value:
        obs.return_path = (rp.value.strip().strip("<>").strip()[:300], rp.ref)
    else:
        for h in msg.get_all("Received")[:10]:
            m = _ENVELOPE_FROM.search(h.value)
            if m:
                obs.return_path = (m.group(1), h.ref)
                break
    for i, h in enumerate(msg.get_all("DKIM-Signature")[:10]):
        m = _DKIM_D.search(h.value)
        if m:
            obs.dkim.append((m.group(1).lower(), f"DKIM-Signature[{i}]"))
    for hop in getattr(view, "hops", ())[:60]:
        ref = f"hop {hop.pos + 1}"
        for label, host in (("helo", hop.helo), ("rdns", hop.rdns)):
            if host:
                obs.hosts.append((host.lower(), "origin" if hop.side == "origin" else "relay", f"{ref} {label}"))
        if hop.by:
            # a hop's by-host is on the sender's side only below the hop where the recipient took it
            by_side = "origin" if hop.side == "origin" and not hop.client else "relay"
            obs.hosts.append((hop.by.lower(), by_side, f"{ref} by"))
    if enrichment is not None:
        sender_domains = {d for d in (getattr(view, "from_domain", None), getattr(view, "return_path_domain", None)) if d}
        for d in enrichment.domains:
            if d.domain not in sender_domains:
                continue
            for n in d.ns:
                obs.ns.append((n, f"NS {d.ns_zone or d.domain}"))
            for mx in d.mx:
                obs.mx.append((mx.split()[-1].rstrip(".").lower(), f"MX {d.domain}"))
            for inc in d.spf.includes:
                obs.spf.append((inc, f"SPF {d.domain}"))
        client_ip = getattr(getattr(view, "client", None), "ip", None)
        for ip in enrichment.ips:
            if ip.network.asn is not None:
                side = "origin" if ip.ip == client_ip or any("client" in r for r in ip.roles) else "relay"
                obs.asns.append((ip.network.asn, side, f"origin AS of {ip.ip}"))
    return obs
