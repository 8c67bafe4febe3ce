"""Who runs the sending infrastructure: DNS enrichment, network owners, registration data,
sending platforms, the ownership narrative and where to report abuse.

Every value carries its source; ``status`` fields hold the DNS status (``NOERROR``, ``NXDOMAIN``,
``UNKNOWN`` for "not in the snapshot" ...) so that "we did not learn it" is never shown as "it is
not there".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailsleuth.model.fastinit import fast_init


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """IP -> origin AS through the public origin-ASN zones."""

    asn: int | None = None
    prefix: str | None = None
    country: str | None = None
    registry: str | None = None
    allocated: str | None = None
    owner: str | None = None  # AS name as the AS zone describes it
    status: str = "UNKNOWN"  # status of the origin lookup


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IpInfo:
    ip: str
    roles: tuple[str, ...] = ()  # "hop 1 client", "A of mta.example.com", ...
    category: str | None = None  # private/reserved/... (None = public)
    ptr: tuple[str, ...] = ()
    ptr_status: str = "UNKNOWN"
    fcrdns: bool | None = None  # None: could not tell
    fcrdns_name: str | None = None  # the PTR name that resolves back to the IP
    network: Network = field(default_factory=Network)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpfChain:
    record: str | None = None
    status: str = "UNKNOWN"  # status of the TXT lookup of the domain
    includes: tuple[str, ...] = ()  # every include:/redirect= name met, in order, bounded depth
    incomplete: tuple[str, ...] = ()  # names whose TXT we could not read


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DomainInfo:
    domain: str
    roles: tuple[str, ...] = ()  # from, return-path, reply-to, dkim, message-id, helo, link, ...
    org_domain: str | None = None
    exists: bool | None = None  # False: NXDOMAIN; None: could not tell
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    ns: tuple[str, ...] = ()
    ns_zone: str | None = None  # the name whose NS records were found (the domain or a parent)
    ns_operators: tuple[str, ...] = ()  # organisational domains of the name servers
    soa: str | None = None
    mx: tuple[str, ...] = ()
    spf: SpfChain = field(default_factory=SpfChain)
    status: dict[str, str] = field(default_factory=dict)  # rdtype -> status


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Enrichment:
    ips: tuple[IpInfo, ...] = ()
    domains: tuple[DomainInfo, ...] = ()
    queries: int = 0  # distinct queries asked (sent or cached)
    waves: int = 0
    elapsed_ms: float = 0.0
    budget_s: float = 0.0
    mode: str = ""

    def domain(self, name: str) -> DomainInfo | None:
        for d in self.domains:
            if d.domain == name:
                return d
        return None

    def ip(self, addr: str) -> IpInfo | None:
        for i in self.ips:
            if i.ip == addr:
                return i
        return None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RdapRecord:
    query: str
    kind: str  # "domain" | "ip"
    roles: tuple[str, ...] = ()
    ok: bool = False
    error: str | None = None
    url: str | None = None
    handle: str | None = None
    registrar: str | None = None
    registrant_org: str | None = None
    network_name: str | None = None
    created: str | None = None  # ISO 8601
    expires: str | None = None
    updated: str | None = None
    abuse_email: str | None = None
    abuse_phone: str | None = None
    age_days: float | None = None  # at the message's delivery date
    from_cache: bool = False


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Registrations:
    """The RDAP artifact: records by the name asked about (identity and link host names map to
    the record of their registrable domain) and by IP."""

    domains: dict[str, RdapRecord] = field(default_factory=dict)
    ips: dict[str, RdapRecord] = field(default_factory=dict)

    @property
    def records(self) -> tuple[RdapRecord, ...]:
        seen: dict[int, RdapRecord] = {}
        for r in (*self.domains.values(), *self.ips.values()):
            seen.setdefault(id(r), r)
        return tuple(seen.values())


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SignalHit:
    kind: str  # header, message_id, return_path, dkim, host, ns, mx, spf, asn, received
    detail: str  # what matched, e.g. "X-SG-EID" or "ns1.example.net"
    ref: str  # where: "Message-ID[0]", "hop 1 helo", "NS example.com"
    weight: float
    side: str = "origin"  # origin | relay


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformMatch:
    id: str
    name: str
    kind: str  # esp | mailbox | gateway
    operator: str
    role: str  # origin (sent it) | relay (passed it on / received it)
    confidence: float  # 0..1
    signals: tuple[SignalHit, ...] = ()
    abuse: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Platforms:
    matches: tuple[PlatformMatch, ...] = ()
    origin: str | None = None  # id of the platform that sent it, when one is named
    platform: str | None = None  # that platform's name
    relays: tuple[str, ...] = ()
    used_dns: bool = False


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    text: str
    evidence: tuple[str, ...] = ()  # "ref: value" lines


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Ownership:
    sending_domain: str | None = None  # the From domain
    dns_operator: str | None = None  # organisational domain of its name servers
    dns_operator_platform: str | None = None  # a platform whose name servers those are
    platform: str | None = None  # name of the platform that sent it
    signer: str | None = None  # DKIM d= (first)
    signer_org: str | None = None
    on_behalf_of: str | None = None  # organisation the mail is sent for, when the evidence says so
    network_owner: str | None = None
    registrant: str | None = None
    statements: tuple[Statement, ...] = ()
    summary: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AbuseContact:
    party: str  # platform | network | registrar | signer
    name: str
    contact: str  # e-mail address or URL
    source: str  # where we know it from (data file, RDAP URL, ...)
    about: str = ""  # what it is responsible for (domain, IP, platform)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AbuseReport:
    contacts: tuple[AbuseContact, ...] = ()
    note: str = ""
