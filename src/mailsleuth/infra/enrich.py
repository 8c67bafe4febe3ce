"""DNS enrichment of one message's hosts, IPs and identity domains, in concurrent waves.

Wave 1 asks everything the message names (PTR and origin AS of each hop IP; A/AAAA of hop hosts;
A, AAAA, NS, SOA, MX and TXT of each identity domain, NS of its organisational domain). Later
waves ask what those answers point to (the PTR names back, for forward-confirmed reverse DNS; the
AS records; the SPF include:/redirect= names, a bounded depth). Each wave goes through
``CachingResolver.prefetch`` so the lookups overlap; the whole run stays inside one time budget,
and what did not come back in time is reported as such, never as absent.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Iterable

from mailsleuth.dns.base import Answer, Status
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.domains import ip_category, org_domain
from mailsleuth.infra.asn import as_name, origin_name, parse_as, parse_origin, reverse_name
from mailsleuth.infra.view import MessageView, valid_host
from mailsleuth.model.infra import DomainInfo, Enrichment, IpInfo, Network, SpfChain

MAX_IPS = 16
MAX_HOSTS = 16
MAX_SPF_DEPTH = 3
MAX_SPF_NAMES = 24
MAX_WAVES = 6
DOMAIN_TYPES = ("A", "AAAA", "NS", "SOA", "MX", "TXT")

_SPF_TERM = re.compile(r"^[+?~-]?(include:|redirect=)(\S+)$", re.I)


def spf_record(records: tuple[str, ...]) -> str | None:
    for r in records:
        s = r.strip()
        if s.lower() == "v=spf1" or s.lower().startswith("v=spf1 "):
            return s[:4096]
    return None


def spf_targets(record: str) -> list[str]:
    """The include: and redirect= names of an SPF record (macros skipped), in order."""
    out = []
    for term in record.split()[1:60]:
        m = _SPF_TERM.match(term)
        if m and "%" not in m.group(2):
            name = valid_host(m.group(2))
            if name:
                out.append(name)
    return out


def _usable_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    # documentation ranges stay usable so that tests can use them
    return str(addr) if ip_category(str(addr)) in (None, "documentation") else None


class _Waves:
    def __init__(self, resolver: CachingResolver, budget_s: float, clock: Callable[[], float]):
        self.r = resolver
        self.budget = budget_s
        self.clock = clock
        self.start = clock()
        self.asked: set[tuple[str, str]] = set()
        self.waves = 0
        self.out_of_time = False

    def remaining(self) -> float:
        return self.budget - (self.clock() - self.start)

    def run(self, queries: Iterable[tuple[str | None, str]]) -> None:
        todo = [(n, t) for n, t in dict.fromkeys(queries) if n and (n, t) not in self.asked]
        if not todo:
            return
        left = self.remaining()
        if left <= 0 or self.waves >= MAX_WAVES:
            self.out_of_time = True
            return
        self.asked.update((n, t) for n, t in todo if n)
        self.waves += 1
        self.r.prefetch([(n, t) for n, t in todo if n], workers=32, budget_s=left)
        if self.remaining() <= 0:
            self.out_of_time = True

    def get(self, name: str | None, rdtype: str) -> Answer | None:
        if not name or (name, rdtype) not in self.asked:
            return None
        return self.r.peek(name, rdtype)


def _status(a: Answer | None) -> str:
    return a.status.value if a is not None else "TIMEOUT"


def _recs(a: Answer | None) -> tuple[str, ...]:
    return a.records if a is not None and a.status is Status.NOERROR else ()


def enrich(view: MessageView, resolver: CachingResolver, *, budget_s: float,
           clock: Callable[[], float] = time.monotonic) -> tuple[Enrichment, list[str]]:
    """Enrich every hop IP/host and identity domain of ``view``. Returns the artifact and notes on
    what could not be learned (for ``Outcome.incomplete``)."""
    w = _Waves(resolver, budget_s, clock)
    ip_roles: dict[str, list[str]] = {}
    for h in view.hops:
        ip = _usable_ip(h.ip)
        if ip and (ip in ip_roles or len(ip_roles) < MAX_IPS):
            ip_roles.setdefault(ip, []).append(f"hop {h.pos + 1}" + (" client" if h.client else ""))
    hosts: list[str] = []
    for h in view.hops:
        if h.side != "origin":
            continue
        for name in (h.helo, h.rdns):
            v = valid_host(name)
            if v and v not in hosts and v not in view.domains and len(hosts) < MAX_HOSTS:
                hosts.append(v)
    domains = dict(view.domains)
    orgs = {d: org_domain(d) for d in domains}

    # wave 1: what the message names
    q1: list[tuple[str | None, str]] = []
    for ip in ip_roles:
        q1 += [(reverse_name(ip), "PTR"), (origin_name(ip), "TXT")]
    for host in hosts:
        q1 += [(host, "A"), (host, "AAAA")]
    for d, org in orgs.items():
        q1 += [(d, t) for t in DOMAIN_TYPES]
        if org and org != d:
            q1.append((org, "NS"))
    w.run(q1)

    # wave 2: PTR names back to addresses, AS names, first SPF includes
    ptrs: dict[str, tuple[str, ...]] = {}
    origins: dict[str, tuple[int | None, str | None, str | None, str | None, str | None]] = {}
    q2: list[tuple[str | None, str]] = []
    for ip in ip_roles:
        ptr_names = tuple(x for x in (valid_host(p) for p in _recs(w.get(reverse_name(ip), "PTR"))[:4]) if x)
        ptrs[ip] = ptr_names
        fam = "AAAA" if ":" in ip else "A"
        q2 += [(p, fam) for p in ptr_names]
        origins[ip] = parse_origin(_recs(w.get(origin_name(ip), "TXT")))
        if origins[ip][0] is not None:
            q2.append((as_name(origins[ip][0] or 0), "TXT"))
    spf_records: dict[str, str | None] = {}
    frontier: list[str] = []
    for d in domains:
        rec = spf_record(_recs(w.get(d, "TXT")))
        spf_records[d] = rec
        if rec:
            frontier += spf_targets(rec)
    frontier = list(dict.fromkeys(frontier))[:MAX_SPF_NAMES]
    q2 += [(n, "TXT") for n in frontier]
    w.run(q2)

    # later waves: deeper SPF includes
    include_records: dict[str, str | None] = {}
    seen = set(frontier)
    depth = 1
    while frontier and depth < MAX_SPF_DEPTH and not w.out_of_time:
        nxt: list[str] = []
        for n in frontier:
            rec = spf_record(_recs(w.get(n, "TXT")))
            include_records[n] = rec
            for t in spf_targets(rec) if rec else ():
                if t not in seen and len(seen) < MAX_SPF_NAMES:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
        depth += 1
        w.run((n, "TXT") for n in frontier)
    for n in frontier:
        include_records.setdefault(n, spf_record(_recs(w.get(n, "TXT"))))

    ip_infos = []
    for ip, roles in ip_roles.items():
        ptr_a = w.get(reverse_name(ip), "PTR")
        fam = "AAAA" if ":" in ip else "A"
        confirmed: str | None = None
        fcrdns: bool | None = None
        if ptrs[ip]:
            answers = [w.get(p, fam) for p in ptrs[ip]]
            norm = _norm_ip(ip)
            for p, a in zip(ptrs[ip], answers, strict=True):
                if norm in {_norm_ip(x) for x in _recs(a)}:
                    confirmed = p
                    break
            if confirmed:
                fcrdns = True
            elif all(a is not None and a.status.is_definite for a in answers):
                fcrdns = False
        asn, prefix, cc, reg, alloc = origins[ip]
        owner = parse_as(_recs(w.get(as_name(asn), "TXT"))) if asn is not None else None
        net = Network(asn=asn, prefix=prefix, country=cc, registry=reg, allocated=alloc, owner=owner,
                      status=_status(w.get(origin_name(ip), "TXT")))
        ip_infos.append(IpInfo(ip=ip, roles=tuple(roles), category=ip_category(ip), ptr=ptrs[ip],
                               ptr_status=_status(ptr_a), fcrdns=fcrdns, fcrdns_name=confirmed, network=net))

    dom_infos = []
    for d, roles in domains.items():
        st = {t: _status(w.get(d, t)) for t in DOMAIN_TYPES}
        ns = _recs(w.get(d, "NS"))
        zone = d if ns else None
        org = orgs[d]
        if not ns and org and org != d:
            ns = _recs(w.get(org, "NS"))
            zone = org if ns else None
            st["NS(org)"] = _status(w.get(org, "NS"))
        ns_hosts = tuple(sorted(x for x in (valid_host(n) for n in ns) if x))
        operators = tuple(sorted({o for o in (org_domain(n) for n in ns_hosts) if o}))
        a_st = w.get(d, "A")
        exists: bool | None = None
        if any(w.get(d, t) is not None and w.get(d, t).status in (Status.NOERROR, Status.NODATA)  # type: ignore[union-attr]
               for t in DOMAIN_TYPES):
            exists = True
        elif a_st is not None and a_st.status is Status.NXDOMAIN:
            exists = False
        rec = spf_records.get(d)
        chain: list[str] = []
        missing: list[str] = []
        _walk_spf(rec, include_records, chain, missing)
        soa = _recs(w.get(d, "SOA"))
        dom_infos.append(DomainInfo(
            domain=d, roles=tuple(roles), org_domain=org, exists=exists, a=_recs(w.get(d, "A")),
            aaaa=_recs(w.get(d, "AAAA")), ns=ns_hosts, ns_zone=zone, ns_operators=operators,
            soa=soa[0] if soa else None, mx=_recs(w.get(d, "MX")),
            spf=SpfChain(record=rec, status=st["TXT"], includes=tuple(chain), incomplete=tuple(missing)),
            status=st,
        ))

    notes = []
    asked = [w.get(n, t) for n, t in w.asked]
    unknown = sum(1 for a in asked if a is not None and a.status is Status.UNKNOWN)
    late = sum(1 for a in asked if a is None)
    failed = sum(1 for a in asked if a is not None and a.status.is_temporary)
    if unknown:
        notes.append(f"infrastructure DNS: {unknown} of {len(asked)} questions are not in the DNS snapshot "
                     "(unknown, not absent)")
    if late or w.out_of_time:
        notes.append(f"infrastructure DNS: the {budget_s:g}s time budget ran out ({late} answers missing)")
    if failed:
        notes.append(f"infrastructure DNS: {failed} lookups failed temporarily (SERVFAIL/timeout)")
    art = Enrichment(ips=tuple(ip_infos), domains=tuple(dom_infos), queries=len(w.asked), waves=w.waves,
                     elapsed_ms=round((clock() - w.start) * 1000, 2), budget_s=budget_s, mode=resolver.mode)
    return art, notes


def _norm_ip(s: str) -> str:
    try:
        return str(ipaddress.ip_address(s.strip()))
    except ValueError:
        return s


def _walk_spf(rec: str | None, records: dict[str, str | None], out: list[str], missing: list[str],
              depth: int = 0) -> None:
    if not rec or depth >= MAX_SPF_DEPTH:
        return
    for t in spf_targets(rec):
        if t in out or len(out) >= MAX_SPF_NAMES:
            continue
        out.append(t)
        if t not in records:
            missing.append(t)
            continue
        _walk_spf(records[t], records, out, missing, depth + 1)
