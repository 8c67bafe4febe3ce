"""SPF ``check_host()`` of our own (RFC 7208), with a structured trace.

Why not pyspf: the point of this evaluation is to *explain* the result — every term evaluated with
its outcome, every DNS query and answer, which mechanism matched, the lookup and void-lookup counts
against their limits. pyspf returns a result and a string; it stays a test-time cross-check.

DNS goes only through the resolver protocol (:mod:`mailsleuth.dns.base`). ``UNKNOWN`` (not in the
snapshot) and ``OFFLINE`` mean "could not evaluate": the result is ``temperror`` with
``complete=False`` and the trace says which query lacked data — never treated as NXDOMAIN.

Everything is bounded: the 10 DNS-mechanism limit also bounds include/redirect recursion (plus a
hard depth limit), MX and PTR name limits, record and expansion sizes.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

from mailsleuth.auth import macro
from mailsleuth.auth.macro import MacroContext, MacroError
from mailsleuth.dns.base import Answer, Resolver, Status
from mailsleuth.model.auth import AuthResultValue, TraceStep
from mailsleuth.model.fastinit import fast_init

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
R = AuthResultValue

MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
DNS_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
_QUALIFIERS = {"+": R.PASS, "-": R.FAIL, "~": R.SOFTFAIL, "?": R.NEUTRAL}
_MOD_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9\-_.]*)=(.*)\Z", re.ASCII | re.DOTALL)
_MECH_RE = re.compile(r"([+\-~?]?)([a-zA-Z][a-zA-Z0-9\-_.]*)(.*)\Z", re.ASCII | re.DOTALL)
_CIDR_RE = re.compile(r"(?:/(0|[1-9][0-9]{0,2}))?(?://(0|[1-9][0-9]{0,2}))?\Z", re.ASCII)
_TOPLABEL_RE = re.compile(r"(?=.*[a-zA-Z])[a-zA-Z0-9]+\Z|[a-zA-Z0-9][a-zA-Z0-9-]*-[a-zA-Z0-9-]*[a-zA-Z0-9]\Z"
                          r"|[a-zA-Z0-9]+-[a-zA-Z0-9]+\Z", re.ASCII)
_PREFIX_RE = re.compile(r"0|[1-9][0-9]{0,2}")
_VERSION_RE = re.compile(r"v=spf1(?: |\Z)", re.IGNORECASE | re.ASCII)
# ``str(status)`` is a Status' value (a StrEnum), without the slow ``Enum.value`` descriptor.


@dataclass(frozen=True, slots=True, kw_only=True)
class SpfLimits:
    dns_mechanisms: int = 10  # RFC 7208 4.6.4
    void_lookups: int = 2
    mx_names: int = 10
    ptr_names: int = 10
    max_depth: int = 12  # include/redirect nesting (the lookup limit already bounds it)
    max_record_len: int = 4096
    max_terms: int = 200
    max_explanation: int = 800


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpfStep:
    """One line of the trace: a term (or record lookup) evaluated at some include/redirect depth."""

    depth: int
    domain: str
    term: str  # "record", "ip4:192.0.2.0/24", "redirect=...", "exp=...", "limit", ...
    outcome: str  # "match", "no match", "pass", "none", "permerror", "error", "skipped", ...
    detail: str = ""
    dns: tuple[str, ...] = ()

    def as_trace(self) -> TraceStep:
        pad = "  " * self.depth
        return TraceStep(what=f"{pad}{self.domain}: {self.term}", outcome=self.outcome, detail=self.detail,
                         dns=self.dns)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SpfResult:
    result: AuthResultValue
    domain: str
    ip: str
    sender: str
    helo: str
    mechanism: str | None = None  # the term that decided (e.g. "-all", "include:_spf.example.com")
    matched_domain: str | None = None  # whose record held it
    record: str | None = None  # the top-level SPF record
    explanation: str | None = None
    cause: str = ""
    complete: bool = True
    lookups: int = 0
    void_lookups: int = 0
    limits: SpfLimits = field(default_factory=SpfLimits)
    steps: tuple[SpfStep, ...] = ()
    queries: tuple[str, ...] = ()  # every DNS answer summary, in order

    @property
    def trace(self) -> tuple[TraceStep, ...]:
        """The steps as trace lines (:meth:`SpfStep.as_trace`); each line is remembered and shared."""
        return tuple([_trace_line(s.depth, s.domain, s.term, s.outcome, s.detail, s.dns) for s in self.steps])


@lru_cache(maxsize=4096)
def _trace_line(depth: int, domain: str, term: str, outcome: str, detail: str, dns: tuple[str, ...]) -> TraceStep:
    """:meth:`SpfStep.as_trace` of a step with these fields. Remembered: the same steps (a provider's
    include, the sender's own record and its answers) recur message after message, and a TraceStep is
    immutable."""
    return TraceStep(what=f"{'  ' * depth}{domain}: {term}", outcome=outcome, detail=detail, dns=dns)


class _Stop(Exception):
    """Ends the evaluation with temperror/permerror (unwinds nested include/redirect)."""

    def __init__(self, result: AuthResultValue, cause: str, *, incomplete: bool = False):
        super().__init__(cause)
        self.result = result
        self.cause = cause
        self.incomplete = incomplete


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    qualifier: str  # "+", "-", "~", "?" (mechanisms); "" for modifiers
    name: str  # lower-case mechanism or modifier name
    spec: tuple[macro.Piece, ...] | None = None  # domain-spec / macro-string, parsed
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    cidr4: int = 32
    cidr6: int = 128
    network_text: str = ""  # str(network), made once with the (remembered) parse of the record


@dataclass(frozen=True, slots=True)
class _Record:
    mechanisms: tuple[_Term, ...]
    redirect: _Term | None
    exp: _Term | None


def _domain_spec(text: str, term: str) -> tuple[macro.Piece, ...]:
    """Parse and syntax-check a domain-spec (macro-string domain-end)."""
    if not text:
        raise _Stop(R.PERMERROR, f"'{term}': empty domain-spec")
    try:
        pieces = macro.parse(text)
    except MacroError as e:
        raise _Stop(R.PERMERROR, f"'{term}': {e}") from None
    if not macro.ends_with_macro(pieces):
        body = text[:-1] if text.endswith(".") else text
        if "." not in body:
            raise _Stop(R.PERMERROR, f"'{term}': the domain needs at least two labels")
        top = body.rsplit(".", 1)[1]
        if not _TOPLABEL_RE.match(top):
            raise _Stop(R.PERMERROR, f"'{term}': {top!r} is not a valid top label")
    return pieces


def parse_record(text: str, limits: SpfLimits = SpfLimits()) -> _Record:
    """Parse an SPF record; raise _Stop(permerror) on any syntax error anywhere in it."""
    if len(text) > limits.max_record_len:
        raise _Stop(R.PERMERROR, f"record longer than {limits.max_record_len} characters")
    tokens = text.split(" ")[1:]
    mechs: list[_Term] = []
    redirect: _Term | None = None
    exp: _Term | None = None
    count = 0
    for tok in tokens:
        if not tok:
            continue
        count += 1
        if count > limits.max_terms:
            raise _Stop(R.PERMERROR, f"more than {limits.max_terms} terms")
        if any(not (0x21 <= ord(c) <= 0x7E) for c in tok):
            raise _Stop(R.PERMERROR, f"term {tok[:60]!r} contains characters not allowed in SPF")
        mm = _MOD_RE.match(tok)
        if mm is not None:
            name, value = mm.group(1).lower(), mm.group(2)
            if name in ("redirect", "exp"):
                if (redirect if name == "redirect" else exp) is not None:
                    raise _Stop(R.PERMERROR, f"'{name}=' appears more than once")
                t = _Term(tok, "", name, spec=_domain_spec(value, tok))
                if name == "redirect":
                    redirect = t
                else:
                    exp = t
            else:
                try:
                    macro.parse(value)  # unknown modifiers are ignored but must be well-formed
                except MacroError as e:
                    raise _Stop(R.PERMERROR, f"modifier {tok[:60]!r}: {e}") from None
            continue
        m = _MECH_RE.match(tok)
        if m is None:
            raise _Stop(R.PERMERROR, f"term {tok[:60]!r} is neither a mechanism nor a modifier")
        q, name, rest = m.group(1) or "+", m.group(2).lower(), m.group(3)
        if name not in MECHANISMS:
            raise _Stop(R.PERMERROR, f"unknown mechanism {name!r}")
        mechs.append(_parse_mechanism(tok, q, name, rest))
    return _Record(tuple(mechs), redirect, exp)


@lru_cache(maxsize=2048)
def _parse_record_memo(text: str, limits: SpfLimits) -> _Record | tuple[AuthResultValue, str, bool]:
    try:
        return parse_record(text, limits)
    except _Stop as e:
        return (e.result, e.cause, e.incomplete)


def parse_record_cached(text: str, limits: SpfLimits = SpfLimits()) -> _Record:
    """:func:`parse_record`, remembered per record text: the same records (a provider's include, the
    sender's own) come back message after message. The parsed record is immutable; a syntax error
    is raised again as a fresh _Stop with the same result and cause."""
    got = _parse_record_memo(text, limits)
    if isinstance(got, tuple):
        raise _Stop(got[0], got[1], incomplete=got[2])
    return got


def _parse_mechanism(tok: str, q: str, name: str, rest: str) -> _Term:
    if name == "all":
        if rest:
            raise _Stop(R.PERMERROR, f"'{tok}': 'all' takes no argument")
        return _Term(tok, q, name)
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            raise _Stop(R.PERMERROR, f"'{tok}': '{name}' needs ':domain'")
        return _Term(tok, q, name, spec=_domain_spec(rest[1:], tok))
    if name == "ptr":
        if not rest:
            return _Term(tok, q, name)
        if not rest.startswith(":"):
            raise _Stop(R.PERMERROR, f"'{tok}': malformed ptr")
        return _Term(tok, q, name, spec=_domain_spec(rest[1:], tok))
    if name in ("a", "mx"):
        cidr4, cidr6 = 32, 128
        cm = _CIDR_RE.search(rest)
        body = rest
        if cm is not None and cm.group(0):
            body = rest[: cm.start()]
            if cm.group(1) is not None:
                cidr4 = int(cm.group(1))
            if cm.group(2) is not None:
                cidr6 = int(cm.group(2))
            if cidr4 > 32 or cidr6 > 128:
                raise _Stop(R.PERMERROR, f"'{tok}': CIDR length out of range")
        if "/" in body and not body.startswith(":"):
            raise _Stop(R.PERMERROR, f"'{tok}': malformed CIDR length")
        spec = None
        if body:
            if not body.startswith(":"):
                raise _Stop(R.PERMERROR, f"'{tok}': malformed '{name}'")
            spec = _domain_spec(body[1:], tok)
        return _Term(tok, q, name, spec=spec, cidr4=cidr4, cidr6=cidr6)
    # ip4 / ip6
    if not rest.startswith(":"):
        raise _Stop(R.PERMERROR, f"'{tok}': '{name}' needs ':address'")
    addr, _, length = rest[1:].partition("/")
    maxlen = 32 if name == "ip4" else 128
    if length:
        if not _PREFIX_RE.fullmatch(length) or int(length) > maxlen:
            raise _Stop(R.PERMERROR, f"'{tok}': invalid prefix length")
        plen = int(length)
    elif "/" in rest[1:]:
        raise _Stop(R.PERMERROR, f"'{tok}': empty prefix length")
    else:
        plen = maxlen
    try:
        ipobj: IP = ipaddress.IPv4Address(addr) if name == "ip4" else ipaddress.IPv6Address(addr)
    except ValueError:
        raise _Stop(R.PERMERROR, f"'{tok}': {addr!r} is not an {'IPv4' if name == 'ip4' else 'IPv6'} address") from None
    net = ipaddress.ip_network(f"{ipobj}/{plen}", strict=False)
    return _Term(tok, q, name, network=net, network_text=str(net))


def valid_domain(name: str, *, multi_label: bool = True) -> str | None:
    """Why ``name`` is not usable as a DNS name for SPF, or None when it is. Remembered for names
    of a usable length (a pure function of the name, and the same domains recur)."""
    if len(name) > 254:
        return _valid_domain(name, multi_label)
    return _valid_domain_cached(name, multi_label)


def _valid_domain(name: str, multi_label: bool) -> str | None:
    n = name[:-1] if name.endswith(".") else name
    if not n:
        return "empty name"
    if n.startswith("[") or n.replace(".", "").isdigit():
        return "not a domain name"
    labels = n.split(".")
    if any(not lab for lab in labels):
        return "empty label"
    if any(len(lab) > 63 for lab in labels):
        return "label longer than 63 characters"
    if multi_label and len(labels) < 2:
        return "not a multi-label domain name"
    if len(n) > 253:
        return "name longer than 253 characters"
    return None


_valid_domain_cached = lru_cache(maxsize=4096)(_valid_domain)


def _truncate(name: str) -> str:
    """RFC 7208 4.8: drop leading labels until the name fits in 253 characters."""
    n = name[:-1] if name.endswith(".") else name
    while len(n) > 253 and "." in n:
        n = n.split(".", 1)[1]
    return n


class _Evaluator:
    __slots__ = ("_ip_text", "_ptr_cache", "default_explanation", "helo", "ip", "limits", "local", "lookups", "now",
                 "queries", "receiver", "resolver", "sender", "sender_domain", "steps", "top_record", "upper_hex",
                 "void")

    def __init__(self, ip: IP, sender: str, local: str, sender_domain: str, helo: str, resolver: Resolver,
                 limits: SpfLimits, default_explanation: str | None, receiver: str, now: int):
        self.ip = ip
        self.sender, self.local, self.sender_domain, self.helo = sender, local, sender_domain, helo
        self.resolver = resolver
        self.limits = limits
        self.default_explanation = default_explanation
        self.receiver = receiver
        self.now = now
        self.lookups = 0
        self.void = 0
        self.steps: list[SpfStep] = []
        self.queries: list[str] = []
        self.top_record: str | None = None
        self._ptr_cache: dict[str, str | None] = {}
        self.upper_hex = False  # IPv6 nibbles in %{i}: keep the case the address was given in
        self._ip_text: str | None = None

    @property
    def ip_text(self) -> str:
        """``str(self.ip)``, made once (``ipaddress`` formats in Python, slowly)."""
        if self._ip_text is None:
            self._ip_text = str(self.ip)
        return self._ip_text

    # -- DNS -------------------------------------------------------------------------------------
    def _q(self, name: str, rdtype: str, dns: list[str], *, tolerant: bool = False) -> Answer:
        ans = self.resolver.query(name, rdtype)
        line = ans.summary()
        dns.append(line)
        self.queries.append(line)
        st = ans.status
        if tolerant or st.is_definite:
            return ans
        if st is Status.UNKNOWN or st is Status.OFFLINE:
            why = "not in the DNS snapshot" if st is Status.UNKNOWN else "DNS is offline"
            raise _Stop(R.TEMPERROR, f"could not evaluate: {rdtype} {ans.name} is {why}", incomplete=True)
        if st.is_temporary:
            raise _Stop(R.TEMPERROR, f"DNS error: {rdtype} {ans.name} -> {st}")
        return ans

    def _void(self, ans: Answer, depth: int, domain: str, term: str) -> None:
        if ans.status in (Status.NXDOMAIN, Status.NODATA):
            self.void += 1
            if self.void > self.limits.void_lookups:
                self.steps.append(SpfStep(depth=depth, domain=domain, term=term, outcome="permerror",
                                          detail=f"void lookup {self.void} exceeds the limit of "
                                                 f"{self.limits.void_lookups}"))
                raise _Stop(R.PERMERROR, f"too many void lookups ({self.void} > {self.limits.void_lookups})")

    def _count(self, depth: int, domain: str, term: str) -> None:
        self.lookups += 1
        if self.lookups > self.limits.dns_mechanisms:
            self.steps.append(SpfStep(depth=depth, domain=domain, term=term, outcome="permerror",
                                      detail=f"DNS lookup {self.lookups} exceeds the limit of "
                                             f"{self.limits.dns_mechanisms}"))
            raise _Stop(R.PERMERROR, f"DNS lookup limit exceeded ({self.lookups} > {self.limits.dns_mechanisms})")

    def _ctx(self, domain: str) -> MacroContext:
        return MacroContext(sender=self.sender, local=self.local, sender_domain=self.sender_domain, domain=domain,
                            ip=self.ip, helo=self.helo, receiver=self.receiver, timestamp=self.now,
                            upper_hex=self.upper_hex)

    def _expand(self, pieces: tuple[macro.Piece, ...], domain: str, term: str, dns: list[str]) -> str:
        ctx = self._ctx(domain)
        if macro.has_letter(pieces, "p"):
            ctx = replace(ctx, validated_ptr=self._validated_ptr(domain, dns))
        try:
            out = macro.expand(pieces, ctx)
        except MacroError as e:
            raise _Stop(R.PERMERROR, f"'{term}': {e}") from None
        return _truncate(out)

    # -- record selection ------------------------------------------------------------------------
    def _record(self, domain: str, depth: int) -> str | None:
        dns: list[str] = []
        try:
            ans = self._q(domain, "TXT", dns)
        except _Stop as e:
            self.steps.append(SpfStep(depth=depth, domain=domain, term="record", outcome=e.result.value,
                                      detail=e.cause, dns=tuple(dns)))
            raise
        if ans.status is not Status.NOERROR:
            self.steps.append(SpfStep(depth=depth, domain=domain, term="record", outcome="none",
                                      detail=f"no TXT records ({ans.status})", dns=tuple(dns)))
            return None
        spf = [r for r in ans.records if _VERSION_RE.match(r)]
        if not spf:
            self.steps.append(SpfStep(depth=depth, domain=domain, term="record", outcome="none",
                                      detail="no TXT record starts with v=spf1", dns=tuple(dns)))
            return None
        if len(spf) > 1:
            self.steps.append(SpfStep(depth=depth, domain=domain, term="record", outcome="permerror",
                                      detail=f"{len(spf)} SPF records published (exactly one is allowed)",
                                      dns=tuple(dns)))
            raise _Stop(R.PERMERROR, f"{domain} publishes {len(spf)} SPF records")
        self.steps.append(SpfStep(depth=depth, domain=domain, term="record", outcome="found", detail=spf[0],
                                  dns=tuple(dns)))
        return spf[0]

    # -- check_host ------------------------------------------------------------------------------
    def check(self, domain: str, depth: int) -> tuple[AuthResultValue, str | None, str | None, str | None]:
        """(result, deciding term, explanation, domain whose record decided). Raises _Stop."""
        if depth > self.limits.max_depth:
            raise _Stop(R.PERMERROR, f"include/redirect nesting deeper than {self.limits.max_depth}")
        text = self._record(domain, depth)
        if text is None:
            return R.NONE, None, None, domain
        if depth == 0:
            self.top_record = text
        try:
            rec = parse_record_cached(text, self.limits)
        except _Stop as e:
            self.steps.append(SpfStep(depth=depth, domain=domain, term="syntax", outcome="permerror",
                                      detail=e.cause))
            raise
        for term in rec.mechanisms:
            if self._match(term, domain, depth):
                result = _QUALIFIERS[term.qualifier]
                exp = self._explain(rec.exp, domain, depth) if result is R.FAIL else None
                return result, term.text, exp, domain
        if rec.redirect is not None:
            dns: list[str] = []
            self._count(depth, domain, rec.redirect.text)
            assert rec.redirect.spec is not None
            target = self._expand(rec.redirect.spec, domain, rec.redirect.text, dns)
            why = valid_domain(target)
            if why:
                self.steps.append(SpfStep(depth=depth, domain=domain, term=rec.redirect.text, outcome="permerror",
                                          detail=f"target {target!r}: {why}", dns=tuple(dns)))
                raise _Stop(R.PERMERROR, f"redirect target {target!r} is invalid ({why})")
            self.steps.append(SpfStep(depth=depth, domain=domain, term=rec.redirect.text, outcome="follow",
                                      detail=f"no mechanism matched: evaluating {target}", dns=tuple(dns)))
            result, mech, exp, where = self.check(target, depth + 1)
            if result is R.NONE:
                self.steps.append(SpfStep(depth=depth, domain=domain, term=rec.redirect.text, outcome="permerror",
                                          detail=f"{target} has no SPF record"))
                raise _Stop(R.PERMERROR, f"redirect target {target} has no SPF record")
            return result, mech, exp, where
        self.steps.append(SpfStep(depth=depth, domain=domain, term="(end of record)", outcome="neutral",
                                  detail="no mechanism matched and no redirect: default result neutral"))
        return R.NEUTRAL, None, None, domain

    def _match(self, term: _Term, domain: str, depth: int) -> bool:
        name = term.name
        if name == "all" or name == "ip4" or name == "ip6":  # no DNS, cannot fail: the line directly
            matched, detail = (True, "'all' always matches") if name == "all" else \
                _ip_match(term.network_text, self.ip_text)
            self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text,
                                      outcome="match" if matched else "no match", detail=detail))
            return matched
        dns: list[str] = []
        try:
            matched, detail = self._match_inner(term, domain, depth, dns)
        except _Stop as e:
            if not any(s.term == term.text and s.depth == depth and s.domain == domain for s in self.steps[-1:]):
                self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text, outcome=e.result.value,
                                          detail=e.cause, dns=tuple(dns)))
            raise
        if term.name != "include":
            self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text,
                                      outcome="match" if matched else "no match", detail=detail, dns=tuple(dns)))
        return matched

    def _target(self, term: _Term, domain: str, dns: list[str]) -> str:
        if term.spec is None:
            return domain
        return self._expand(term.spec, domain, term.text, dns)

    def _match_inner(self, term: _Term, domain: str, depth: int, dns: list[str]) -> tuple[bool, str]:
        ip = self.ip
        name = term.name  # not all, ip4 or ip6 (``_match`` answers those)
        if name in DNS_TERMS:
            self._count(depth, domain, term.text)
        target = self._target(term, domain, dns)
        why = valid_domain(target)
        if name == "include":
            if why:
                raise _Stop(R.PERMERROR, f"include target {target!r} is invalid ({why})")
            self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text, outcome="evaluate",
                                      detail=f"evaluating {target}", dns=tuple(dns)))
            result, mech, _exp, _where = self.check(target, depth + 1)
            if result is R.NONE:
                self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text, outcome="permerror",
                                          detail=f"{target} has no SPF record"))
                raise _Stop(R.PERMERROR, f"include target {target} has no SPF record")
            matched = result is R.PASS
            self.steps.append(SpfStep(depth=depth, domain=domain, term=term.text,
                                      outcome="match" if matched else "no match",
                                      detail=f"{target} returned {result.value}" + (f" via {mech}" if mech else "")))
            return matched, ""
        if why:
            # A name that cannot exist cannot match (RFC 7208 4.8 / 5).
            return False, f"{target!r} is not a valid domain name ({why})"
        if name == "exists":
            ans = self._q(target, "A", dns)
            self._void(ans, depth, domain, term.text)
            ok = ans.status is Status.NOERROR and bool(ans.records)
            return ok, f"{target} {'has' if ok else 'has no'} A record"
        rdtype = "A" if ip.version == 4 else "AAAA"
        plen = term.cidr4 if ip.version == 4 else term.cidr6
        if name == "a":
            ans = self._q(target, rdtype, dns)
            self._void(ans, depth, domain, term.text)
            hit = self._addr_match(ans.records, plen)
            return hit is not None, (f"{self.ip_text} matches {hit}/{plen}" if hit
                                     else f"{self.ip_text} not among {rdtype} of {target}")
        if name == "mx":
            ans = self._q(target, "MX", dns)
            self._void(ans, depth, domain, term.text)
            hosts = []
            for r in ans.records:
                parts = r.split()
                if len(parts) >= 2 and parts[1] not in (".", ""):
                    hosts.append(parts[1].rstrip(".").lower())
            for i, h in enumerate(hosts):
                if i >= self.limits.mx_names:
                    raise _Stop(R.PERMERROR, f"{target} has more than {self.limits.mx_names} MX names to look up "
                                             f"({len(hosts)})")
                a = self._q(h, rdtype, dns)
                hit = self._addr_match(a.records, plen)
                if hit is not None:
                    return True, f"{self.ip_text} matches MX {h} ({hit}/{plen})"
            return False, f"{self.ip_text} is not an address of the MX hosts of {target}" if hosts else f"{target} has no MX"
        if name == "ptr":
            names = self._ptr_names(dns, tolerant=True)
            target = target.lower()
            for n in names:
                if n == target or n.endswith("." + target):
                    return True, f"validated PTR name {n} is within {target}"
            shown = ", ".join(names) if names else "none"
            return False, f"validated PTR names ({shown}) not within {target}"
        raise _Stop(R.PERMERROR, f"unknown mechanism {name}")  # pragma: no cover

    def _addr_match(self, records: tuple[str, ...], plen: int) -> str | None:
        for r in records:
            try:
                a = ipaddress.ip_address(r.strip())
            except ValueError:
                continue
            if a.version != self.ip.version:
                continue
            if self.ip in ipaddress.ip_network(f"{a}/{plen}", strict=False):
                return str(a)
        return None

    def _ptr_names(self, dns: list[str], *, tolerant: bool) -> list[str]:
        """Validated names of the client IP (forward-confirmed), at most ``ptr_names`` PTR names tried."""
        rev = self.ip.reverse_pointer
        ans = self._q(rev, "PTR", dns, tolerant=True)
        if ans.status in (Status.UNKNOWN, Status.OFFLINE) and not tolerant:
            raise _Stop(R.TEMPERROR, f"could not evaluate: PTR {rev} unavailable", incomplete=True)
        if ans.status is not Status.NOERROR:
            return []
        rdtype = "A" if self.ip.version == 4 else "AAAA"
        out: list[str] = []
        for r in ans.records[: self.limits.ptr_names]:
            n = r.strip().rstrip(".").lower()
            if not n:
                continue
            a = self._q(n, rdtype, dns, tolerant=True)
            if a.status is Status.NOERROR and self._addr_match(a.records, 32 if self.ip.version == 4 else 128):
                out.append(n)
        return out

    def _validated_ptr(self, domain: str, dns: list[str]) -> str | None:
        if domain in self._ptr_cache:
            return self._ptr_cache[domain]
        names = self._ptr_names(dns, tolerant=True)
        best = next((n for n in names if n == domain), None) or next(
            (n for n in names if n.endswith("." + domain)), None) or (names[0] if names else None)
        self._ptr_cache[domain] = best
        return best

    def _explain(self, exp: _Term | None, domain: str, depth: int) -> str | None:
        if exp is None or exp.spec is None:
            return self.default_explanation
        dns: list[str] = []
        try:
            target = self._expand(exp.spec, domain, exp.text, dns)
        except _Stop as e:
            self.steps.append(SpfStep(depth=depth, domain=domain, term=exp.text, outcome="ignored", detail=e.cause))
            return self.default_explanation
        if valid_domain(target):
            self.steps.append(SpfStep(depth=depth, domain=domain, term=exp.text, outcome="ignored",
                                      detail=f"invalid explanation domain {target!r}", dns=tuple(dns)))
            return self.default_explanation
        ans = self._q(target, "TXT", dns, tolerant=True)
        if ans.status is not Status.NOERROR or len(ans.records) != 1:
            self.steps.append(SpfStep(depth=depth, domain=domain, term=exp.text, outcome="ignored",
                                      detail="the explanation domain does not have exactly one TXT record",
                                      dns=tuple(dns)))
            return self.default_explanation
        text = ans.records[0]
        try:
            pieces = macro.parse(text, exp=True)
            ctx = self._ctx(domain)
            if macro.has_letter(pieces, "p"):
                ctx = replace(ctx, validated_ptr=self._validated_ptr(domain, dns))
            out = macro.expand(pieces, ctx)
        except MacroError as e:
            self.steps.append(SpfStep(depth=depth, domain=domain, term=exp.text, outcome="ignored",
                                      detail=f"explanation text is not a valid macro string: {e}", dns=tuple(dns)))
            return self.default_explanation
        out = out[: self.limits.max_explanation]
        self.steps.append(SpfStep(depth=depth, domain=domain, term=exp.text, outcome="explanation", detail=out,
                                  dns=tuple(dns)))
        return out


@lru_cache(maxsize=4096)
def _ip_match(network_text: str, ip_text: str) -> tuple[bool, str]:
    """Whether the client ``ip_text`` is in the ip4/ip6 network ``network_text`` (both as ``str()`` of
    the parsed objects, so they parse back to the same), and the trace detail. Remembered: a pure
    function of two short strings, and the same relays meet the same records across a batch."""
    net = ipaddress.ip_network(network_text)
    ip = ipaddress.ip_address(ip_text)
    if net.version != ip.version:
        return False, f"client is IPv{ip.version}"
    inside = ip in net
    return inside, f"{ip_text} {'is' if inside else 'is not'} in {network_text}"


@lru_cache(maxsize=4096)
def _client(text: str) -> tuple[IP, str] | None:
    """:func:`parse_ip` and the address's ``str()``, remembered together (``ipaddress`` formats in
    Python, slowly)."""
    ip = parse_ip(text)
    return None if ip is None else (ip, str(ip))


@lru_cache(maxsize=4096)
def parse_ip(text: str) -> IP | None:
    """The client IP (an IPv4-mapped IPv6 address as IPv4), or None. Remembered: the same relays'
    addresses recur across a batch, and the address objects are immutable."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def check_host(ip: str, domain: str, sender: str, helo: str, resolver: Resolver, *,
               limits: SpfLimits = SpfLimits(), default_explanation: str | None = None,
               receiver: str = "unknown", now: int | None = None) -> SpfResult:
    """RFC 7208 check_host(). ``sender`` may be empty (then postmaster@helo); never raises."""
    helo = (helo or "").strip()
    sender = (sender or "").strip()
    if not sender:
        sender = f"postmaster@{helo}"
    local, at, sdomain = sender.rpartition("@")
    if not at:
        local, sdomain = "postmaster", sender
    if not local:
        local = "postmaster"
    sender = f"{local}@{sdomain}"
    domain = (domain or "").strip()
    dom = domain.rstrip(".").lower()
    client = _client(ip)
    addr = None if client is None else client[0]
    why = None if addr is None or not dom.isascii() else valid_domain(dom)
    if addr is None or why is not None or not dom.isascii():
        base = {"domain": dom, "ip": ip, "sender": sender, "helo": helo, "limits": limits}
        if addr is None:
            return SpfResult(result=R.PERMERROR if ip else R.NONE, cause=f"client IP {ip!r} is not an IP address",
                             complete=bool(ip), **base)  # type: ignore[arg-type]
        if not dom.isascii():
            return SpfResult(result=R.NONE, cause="the domain is not an ASCII (A-label) name", **base)  # type: ignore[arg-type]
        step = SpfStep(depth=0, domain=dom or "(empty)", term="initial processing", outcome="none",
                       detail=f"the domain is malformed: {why}")
        return SpfResult(result=R.NONE, cause=f"malformed domain ({why})", steps=(step,), **base)  # type: ignore[arg-type]
    ev = _Evaluator(addr, sender, local, sdomain, helo, resolver, limits, default_explanation, receiver,
                    int(time.time()) if now is None else now)
    assert client is not None  # addr is not None
    ev._ip_text = client[1]
    if ":" in ip:  # an IPv6 address (parse_ip gave IPv4 for a mapped one)
        ev.upper_hex = addr.version == 6 and any(c in "ABCDEF" for c in ip) and not any(c in "abcdef" for c in ip)
    complete = True
    mech = where = exp = None
    try:
        result, mech, exp, where = ev.check(dom, 0)
        if result is R.NONE:
            cause = f"{dom} publishes no SPF record"
        elif mech is None:
            cause = "no mechanism matched (default neutral)"
        else:
            cause = f"'{mech}' matched" + (f" in the record of {where}" if where and where != dom else "")
    except _Stop as e:
        result, cause, complete = e.result, e.cause, not e.incomplete
    return SpfResult(result=result, domain=dom, ip=ip, sender=sender, helo=helo, limits=limits, mechanism=mech,
                     matched_domain=where, record=ev.top_record, explanation=exp, cause=cause, complete=complete,
                     lookups=ev.lookups, void_lookups=ev.void, steps=tuple(ev.steps), queries=tuple(ev.queries))
