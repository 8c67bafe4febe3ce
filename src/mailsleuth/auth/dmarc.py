"""DMARC of our own: RFC 9989 (DNS tree walk) with the RFC 7489 (Public Suffix List) mode beside it.

RFC 9989 4.10 (DNS tree walk): query ``_dmarc.<domain>``; records not starting with ``v=DMARC1``
are discarded and several valid records at one name are all discarded; then the walk goes up: with
8 or more labels it jumps to the last 7, otherwise drops one label, down to the single-label
name: at most 8 queries. Policy discovery takes the first valid record met. The organizational
domain is found by the same walk: a record with ``psd=n`` names itself; a record with ``psd=y``
(not at the starting name) makes the name one label below it the organizational domain; else the
name with the fewest labels that has a record; else the starting domain.

RFC 7489 6.6.3: query ``_dmarc.<From domain>``, and if no record there, ``_dmarc.<organizational
domain by the PSL>``; several records end discovery (no DMARC). ``np=``, ``psd=`` and ``t=`` are RFC
9989 tags; ``pct=`` is RFC 7489's.

``UNKNOWN`` (not in the snapshot) and ``OFFLINE`` make the evaluation incomplete (temperror,
``complete=False``), never "no record".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from mailsleuth.dns.base import Resolver, Status
from mailsleuth.domains import org_domain as psl_org_domain
from mailsleuth.model.auth import AuthResultValue, TraceStep
from mailsleuth.model.fastinit import fast_init

R = AuthResultValue
RFC9989 = "rfc9989"
RFC7489 = "rfc7489"
MAX_WALK_QUERIES = 8
_POLICIES = ("none", "quarantine", "reject")
_LOWER = {"reject": "quarantine", "quarantine": "none", "none": "none"}


@dataclass(frozen=True, slots=True, kw_only=True)
class DmarcRecord:
    domain: str  # where it was published (without the _dmarc. label)
    raw: str
    tags: dict[str, str] = field(default_factory=dict)
    p: str | None = None  # None: p missing/invalid (see ``policies``)
    sp: str | None = None
    np: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    t: bool = False  # RFC 9989 testing flag
    pct: int = 100  # RFC 7489 sampling rate
    psd: str = "u"  # y / n / u
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    fo: str = "0"
    problems: tuple[str, ...] = ()  # tags ignored or defaulted, and why


def _uris(value: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in value.split(",") if u.strip())[:20]


@lru_cache(maxsize=2048)
def parse_record(domain: str, text: str) -> DmarcRecord | None:
    """A DMARC record, or None when ``text`` is not one (does not start with v=DMARC1). Remembered
    per (domain, text): the same records come back message after message; the record is never
    changed once made (its ``tags`` are read, never written)."""
    parts = [p.strip() for p in text[:4096].split(";")]
    if not parts:
        return None
    k, eq, v = parts[0].partition("=")
    # ABNF: "v" *WSP "=" *WSP %x44.4d.41.52.43.31 — the tag name is case-blind, "DMARC1" exact.
    if not eq or k.strip().lower() != "v" or v.strip() != "DMARC1":
        return None
    tags: dict[str, str] = {}
    problems: list[str] = []
    for part in parts[1:60]:
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not eq or not name:
            problems.append(f"ignored malformed tag {part[:40]!r}")
            continue
        if name not in tags:
            tags[name] = value.strip()

    def pol(tag: str) -> str | None:
        val = tags.get(tag)
        if val is None:
            return None
        if val.lower() in _POLICIES:
            return val.lower()
        problems.append(f"{tag}={val[:20]!r} is not none/quarantine/reject")
        return None

    def align(tag: str) -> str:
        val = tags.get(tag, "r").lower()
        if val not in ("r", "s"):
            problems.append(f"{tag}={val[:20]!r} is not r or s: relaxed assumed")
            return "r"
        return val

    t_raw = tags.get("t", "n").lower()
    if t_raw not in ("y", "n"):
        problems.append(f"t={t_raw[:20]!r} is not y or n: n assumed")
    psd = tags.get("psd", "u").lower()
    if psd not in ("y", "n", "u"):
        problems.append(f"psd={psd[:20]!r} is not y, n or u: u assumed")
        psd = "u"
    pct = 100
    if "pct" in tags:
        try:
            pct = int(tags["pct"])
            if not 0 <= pct <= 100:
                raise ValueError
        except ValueError:
            problems.append(f"pct={tags['pct'][:20]!r} is not 0-100: 100 assumed")
            pct = 100
    return DmarcRecord(domain=domain, raw=text[:1000], tags=tags, p=pol("p"), sp=pol("sp"), np=pol("np"),
                       adkim=align("adkim"), aspf=align("aspf"), t=t_raw == "y", pct=pct, psd=psd,
                       rua=_uris(tags.get("rua", "")), ruf=_uris(tags.get("ruf", "")), fo=tags.get("fo", "0")[:20],
                       problems=tuple(problems))


def policies(rec: DmarcRecord, mode: str) -> tuple[str, str | None, str | None] | None:
    """(p, sp, np) to apply, or None when the record is unusable.

    RFC 7489 6.6.3 step 6 (kept by RFC 9989): a record without a valid p=, or with an sp= (RFC 9989:
    or np=) that is not valid, counts as p=none when it has a rua=, and is ignored otherwise. RFC 9989
    treats a record with no p= at all as p=none. np= exists only in RFC 9989.
    """
    np_tag = rec.np if mode == RFC9989 else None
    bad_sub = ("sp" in rec.tags and rec.sp is None) or (mode == RFC9989 and "np" in rec.tags and rec.np is None)
    if rec.p is not None and not bad_sub:
        return rec.p, rec.sp, np_tag
    if mode == RFC9989 and "p" not in rec.tags and not bad_sub:
        return "none", rec.sp, np_tag
    if rec.rua:
        return "none", None, None
    return None


def _walk_names(domain: str) -> tuple[str, ...]:
    """:meth:`Walker.walk_names`, remembered for names of a usable length (a pure function of the
    name; the same domains recur)."""
    return _walk_names_cached(domain) if len(domain) <= 254 else _walk(domain)


def _walk(domain: str) -> tuple[str, ...]:
    labels = [lab for lab in domain.split(".") if lab]
    names = [".".join(labels)]
    cur = labels[-7:] if len(labels) >= 8 else labels[1:]
    while cur and len(names) < MAX_WALK_QUERIES:
        names.append(".".join(cur))
        cur = cur[1:]
    return tuple(names)


_walk_names_cached = lru_cache(maxsize=4096)(_walk)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Lookup:
    name: str  # the domain (without _dmarc.)
    status: Status
    records: tuple[DmarcRecord, ...]  # valid DMARC records only
    dns: str  # the answer summary

    @property
    def single(self) -> DmarcRecord | None:
        return self.records[0] if len(self.records) == 1 else None


# ``str(status)`` is its value (a StrEnum), without the slow ``Enum.value`` descriptor.


# The trace lines below are pure functions of a few short strings that recur message after
# message (the same domains, records and answers): each is made once and shared (immutable).

@lru_cache(maxsize=4096)
def _lookup_step(why: str, domain: str, outcome: str, detail: str, line: str) -> TraceStep:
    return TraceStep(what=f"{why}: _dmarc.{domain}", outcome=outcome, detail=detail, dns=(line,))


@lru_cache(maxsize=4096)
def _org_step(name: str, org: str, why: str) -> TraceStep:
    return TraceStep(what=f"organizational domain of {name}", outcome=org, detail=why)


@lru_cache(maxsize=1024)
def _policy_step(tag: str, policy: str, record_domain: str, note: str) -> TraceStep:
    return TraceStep(what="policy", outcome=f"{tag}={policy}",
                     detail=f"record at _dmarc.{record_domain}" + (f"; {note}" if note else ""))


class _Incomplete(Exception):
    def __init__(self, result: AuthResultValue, cause: str, incomplete: bool):
        super().__init__(cause)
        self.result, self.cause, self.incomplete = result, cause, incomplete


class Walker:
    """DMARC DNS lookups of one evaluation, cached, with the trace."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.cache: dict[str, Lookup] = {}
        self.trace: list[TraceStep] = []
        self.queries: list[str] = []
        self.org_incomplete = False

    def lookup(self, domain: str, why: str, *, tolerant: bool = False) -> Lookup | None:
        """The DMARC records at ``_dmarc.<domain>``; None (tolerant) or _Incomplete when DNS said nothing."""
        if domain in self.cache:
            return self.cache[domain]
        ans = self.resolver.query(f"_dmarc.{domain}", "TXT")
        line = ans.summary()
        self.queries.append(line)
        st = ans.status
        if not st.is_definite:
            if tolerant:
                self.trace.append(_lookup_step(why, domain, "unavailable", str(st), line))
                return None
            if st is Status.UNKNOWN or st is Status.OFFLINE:
                self.trace.append(_lookup_step(why, domain, "unavailable", "not in the DNS snapshot"
                                               if st is Status.UNKNOWN else "DNS is offline", line))
                raise _Incomplete(R.TEMPERROR, f"could not evaluate: TXT _dmarc.{domain} is "
                                               f"{'not in the snapshot' if st is Status.UNKNOWN else 'offline'}",
                                  True)
            if st.is_temporary:
                self.trace.append(_lookup_step(why, domain, "temperror", "", line))
                raise _Incomplete(R.TEMPERROR, f"DNS error: TXT _dmarc.{domain} -> {st}", False)
        recs = tuple([r for t in ans.records if (r := parse_record(domain, t)) is not None])
        lk = Lookup(name=domain, status=st, records=recs, dns=line)
        if not recs:
            outcome, detail = "no record", str(st) if st is not Status.NOERROR else \
                "no TXT record starts with v=DMARC1"
        elif len(recs) > 1:
            outcome, detail = "discarded", f"{len(recs)} DMARC records: all discarded"
        else:
            outcome, detail = "record", recs[0].raw
        self.trace.append(_lookup_step(why, domain, outcome, detail, line))
        self.cache[domain] = lk
        return lk

    def walk_names(self, domain: str) -> list[str]:
        """The names an RFC 9989 tree walk queries, in order (at most 8)."""
        return list(_walk_names(domain))

    def policy_walk(self, domain: str) -> DmarcRecord | None:
        """RFC 9989 policy discovery: the first valid record met walking up from the Author Domain."""
        for name in _walk_names(domain):
            lk = self.lookup(name, "policy")
            if lk is not None and lk.single is not None:
                return lk.single
        return None

    def org_walk(self, domain: str) -> tuple[str, str]:
        """RFC 9989 4.10.2 organizational domain and how it was decided."""
        names = _walk_names(domain)
        found: list[str] = []
        for i, name in enumerate(names):
            lk = self.lookup(name, "org domain", tolerant=True)
            if lk is None:
                # DNS could not answer (not in the snapshot, offline, error): fall back to the PSL.
                self.org_incomplete = True
                psl = psl_org_domain(domain) or domain
                return psl, f"tree walk incomplete at _dmarc.{name}: Public Suffix List used ({psl})"
            rec = lk.single
            if rec is None:
                continue
            found.append(name)
            if rec.psd == "n":
                return name, f"_dmarc.{name} says psd=n"
            if rec.psd == "y" and i > 0:
                # the name one label below the public suffix operator's, on the path of the walk
                below = ".".join(domain.split(".")[-(name.count(".") + 2):])
                return below, f"_dmarc.{name} says psd=y (a public suffix operator): one label below it"
        if found:
            best = min(found, key=lambda n: n.count("."))
            return best, f"the highest name with a DMARC record is {best}"
        return domain, "no DMARC record on the way up: the domain itself"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Alignment:
    method: str  # "spf" or "dkim"
    domain: str
    result: str  # the authentication result of that identity
    mode: str  # "r" / "s"
    aligned: bool
    why: str


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DmarcResult:
    mode: str  # rfc9989 / rfc7489
    result: AuthResultValue
    from_domain: str
    record: DmarcRecord | None = None
    org_domain: str | None = None
    org_reason: str = ""
    policy_tag: str | None = None  # "p", "sp" or "np"
    policy: str | None = None  # none / quarantine / reject as published
    requested: str | None = None  # what the receiver is asked to do with a failing message
    requested_note: str = ""
    nonexistent: bool | None = None
    alignments: tuple[Alignment, ...] = ()
    cause: str = ""
    complete: bool = True
    trace: tuple[TraceStep, ...] = ()
    queries: tuple[str, ...] = ()

    @property
    def aligned_pass(self) -> tuple[Alignment, ...]:
        return tuple(a for a in self.alignments if a.aligned)


@lru_cache(maxsize=4096)
def _alignment(method: str, domain: str, result: str, mode: str, dom: str, org: str | None,
               org_dom: str | None) -> tuple[Alignment, TraceStep]:
    """How the identity ``domain`` (``method`` result ``result``, organizational domain ``org``) aligns
    with the From domain ``dom`` (organizational domain ``org_dom``) in ``mode`` (r/s), and its trace
    line. Remembered: a pure function of short strings that recur (both objects are immutable)."""
    strict = domain == dom
    relaxed = strict or (org is not None and org == org_dom)
    ok = result == "pass" and (strict if mode == "s" else relaxed)
    why = ("identical to the From domain" if strict else
           f"same organizational domain {org}" if relaxed else
           f"organizational domains differ ({org} vs {org_dom})")
    if relaxed and not strict and mode == "s":
        why += f", but a{method}=s requires the exact domain"
    a = Alignment(method=method, domain=domain, result=result, mode=mode, aligned=ok, why=why)
    step = TraceStep(what=f"{method} {domain} ({result}) vs From {dom}, mode {mode}",
                     outcome="aligned" if ok else "not aligned", detail=why)
    return a, step


def _nonexistent(walker: Walker, domain: str) -> bool | None:
    """RFC 9989: a domain is non-existent when A, AAAA and MX give NXDOMAIN (or all three no data)."""
    statuses = []
    for rt in ("A", "AAAA", "MX"):
        ans = walker.resolver.query(domain, rt)
        walker.queries.append(ans.summary())
        if ans.status is Status.NXDOMAIN:
            walker.trace.append(TraceStep(what=f"does {domain} exist?", outcome="no", detail="NXDOMAIN",
                                          dns=(ans.summary(),)))
            return True
        if not ans.status.is_definite:
            walker.trace.append(TraceStep(what=f"does {domain} exist?", outcome="unknown",
                                          detail=str(ans.status), dns=(ans.summary(),)))
            return None
        statuses.append(ans.status)
    gone = all(s is Status.NODATA for s in statuses)
    walker.trace.append(TraceStep(what=f"does {domain} exist?", outcome="no" if gone else "yes",
                                  detail="no A, AAAA or MX records" if gone else "it has address or MX records"))
    return gone


def evaluate(from_domain: str, *, spf: tuple[str, str] | None, dkim: list[tuple[str, str]] | None,
             resolver: Resolver, mode: str = RFC9989, walker: Walker | None = None) -> DmarcResult:
    """DMARC for one From domain.

    ``spf``: (result, domain the SPF result is for) or None when SPF was not evaluated; ``dkim``:
    [(signing domain d=, result)] or None when DKIM was not evaluated (then the result is
    incomplete unless SPF alone aligns and passes).
    """
    return _evaluate_mode(from_domain.strip().rstrip(".").lower(), _Inputs(spf, dkim), walker or Walker(resolver),
                          mode)


class _Inputs:
    """The authenticated identities as alignment reads them, made once for both modes."""

    __slots__ = ("identities", "missing", "names")

    def __init__(self, spf: tuple[str, str] | None, dkim: list[tuple[str, str]] | None):
        names: list[str] = []  # whose organizational domains alignment needs (with the From domain's)
        ids: list[tuple[str, str, str]] = []  # (method, domain, result) to align, in order
        if spf is not None and spf[1]:
            sd = spf[1].lower().rstrip(".")
            names.append(sd)
            ids.append(("spf", sd, spf[0]))
        for d, res in dkim or []:
            if d:
                dd = d.lower().rstrip(".")
                names.append(dd)
                if dd:
                    ids.append(("dkim", dd, res))
        self.names = tuple(sorted(set(names)))  # sorted once for both modes
        self.identities = ids
        self.missing = [m for m, v in (("SPF", spf), ("DKIM", dkim)) if v is None]  # not evaluated


def _evaluate_mode(dom: str, inputs: _Inputs, w: Walker, mode: str) -> DmarcResult:
    start = len(w.trace)
    if not dom or "." not in dom:
        return DmarcResult(mode=mode, result=R.PERMERROR, from_domain=dom,
                           cause="no usable From domain (DMARC needs exactly one)")
    try:
        return _evaluate(dom, inputs, w, mode, start)
    except _Incomplete as e:
        return DmarcResult(mode=mode, result=e.result, from_domain=dom, cause=e.cause, complete=not e.incomplete,
                           trace=tuple(w.trace[start:]), queries=tuple(w.queries))


def _evaluate(dom: str, inputs: _Inputs, w: Walker, mode: str, start: int) -> DmarcResult:
    record: DmarcRecord | None
    if mode == RFC9989:
        record = w.policy_walk(dom)
        org, org_reason = w.org_walk(dom)
    else:
        org = psl_org_domain(dom) or dom
        org_reason = "registrable domain by the Public Suffix List"
        lk = w.lookup(dom, "policy (RFC 7489)")
        assert lk is not None
        if not lk.records and org != dom:
            lk = w.lookup(org, "policy (RFC 7489, organizational domain)")
            assert lk is not None
        record = lk.single
        if len(lk.records) > 1:
            w.trace.append(TraceStep(what="policy (RFC 7489)", outcome="none",
                                     detail=f"several DMARC records at _dmarc.{lk.name}: discovery ends"))
    w.trace.append(_org_step(dom, org, org_reason))
    if record is None:
        return DmarcResult(mode=mode, result=R.NONE, from_domain=dom, org_domain=org, org_reason=org_reason,
                           cause=f"no DMARC policy record for {dom}", trace=tuple(w.trace[start:]),
                           queries=tuple(w.queries))
    pols = policies(record, mode)
    if pols is None:
        w.trace.append(TraceStep(what=f"record at _dmarc.{record.domain}", outcome="unusable",
                                 detail="no valid p= (or an invalid sp=/np=) and no rua=: no DMARC processing"))
        return DmarcResult(mode=mode, result=R.NONE, from_domain=dom, record=record, org_domain=org,
                           org_reason=org_reason,
                           cause=f"the record at _dmarc.{record.domain} has no valid policy (p=, sp=, np=)",
                           trace=tuple(w.trace[start:]), queries=tuple(w.queries))
    p, sp, np_ = pols
    if (p, sp, np_) != (record.p, record.sp, record.np if mode == RFC9989 else None):
        w.trace.append(TraceStep(what=f"record at _dmarc.{record.domain}", outcome="p=none",
                                 detail="; ".join(record.problems) or "no p= tag: treated as p=none"))
    # Which policy applies.
    nonexistent: bool | None = None
    if record.domain == dom:
        tag, policy = "p", p
    else:
        if mode == RFC9989:
            nonexistent = _nonexistent(w, dom)
        if nonexistent and np_ is not None:
            tag, policy = "np", np_
        elif sp is not None:
            tag, policy = "sp", sp
        else:
            tag, policy = "p", p
    # Alignment.
    org_of: dict[str, str] = {dom: org}
    for n in inputs.names:
        if n == dom:
            continue
        if mode == RFC9989:
            org_of[n], why = w.org_walk(n)
        else:
            org_of[n], why = psl_org_domain(n) or n, "registrable domain by the Public Suffix List"
        w.trace.append(_org_step(n, org_of[n], why))
    aligns: list[Alignment] = []
    steps: list[TraceStep] = []
    for method, d, res in inputs.identities:
        a, step = _alignment(method, d, res, record.aspf if method == "spf" else record.adkim, dom, org_of.get(d),
                             org)
        aligns.append(a)
        steps.append(step)
    w.trace.extend(steps)
    passed = any(a.aligned for a in aligns)
    complete = True
    if passed:
        result, cause = R.PASS, "aligned " + " and ".join(sorted({a.method for a in aligns if a.aligned})) + " pass"
    else:
        missing = inputs.missing
        result = R.FAIL
        cause = "no authenticated identifier aligned with the From domain"
        if missing:
            complete = False
            cause += f" ({' and '.join(missing)} not evaluated)"
    requested: str | None = policy
    note = ""
    if result is R.FAIL:
        if mode == RFC9989 and record.t:
            requested = _LOWER[policy]
            note = f"t=y (testing): apply {requested} instead of {policy}"
        elif mode == RFC7489 and record.pct < 100:
            note = f"pct={record.pct}: apply {policy} to {record.pct}% of failing mail, the next lower " \
                   f"policy ({_LOWER[policy]}) to the rest"
    else:
        requested = None
    w.trace.append(_policy_step(tag, policy, record.domain, note))
    return DmarcResult(mode=mode, result=result, from_domain=dom, record=record, org_domain=org,
                       org_reason=org_reason, policy_tag=tag, policy=policy, requested=requested, requested_note=note,
                       nonexistent=nonexistent, alignments=tuple(aligns), cause=cause, complete=complete,
                       trace=tuple(w.trace[start:]), queries=tuple(w.queries))


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DmarcBoth:
    rfc9989: DmarcResult
    rfc7489: DmarcResult
    differences: tuple[str, ...]


def evaluate_both(from_domain: str, *, spf: tuple[str, str] | None, dkim: list[tuple[str, str]] | None,
                  resolver: Resolver) -> DmarcBoth:
    """Both modes over one cache of DMARC lookups, and how they differ."""
    w = Walker(resolver)
    dom = from_domain.strip().rstrip(".").lower()
    inputs = _Inputs(spf, dkim)
    new = _evaluate_mode(dom, inputs, w, RFC9989)
    old = _evaluate_mode(dom, inputs, w, RFC7489)
    diffs: list[str] = []
    if new.result is not old.result:
        diffs.append(f"result: RFC 9989 {new.result}, RFC 7489 {old.result}")
    if new.org_domain and old.org_domain and new.org_domain != old.org_domain:
        diffs.append(f"organizational domain: RFC 9989 {new.org_domain}, RFC 7489 {old.org_domain}")
    nd = new.record.domain if new.record else None
    od = old.record.domain if old.record else None
    if nd != od:
        diffs.append(f"policy record: RFC 9989 {'_dmarc.' + nd if nd else 'none'}, "
                     f"RFC 7489 {'_dmarc.' + od if od else 'none'}")
    if (new.policy_tag, new.policy) != (old.policy_tag, old.policy) and new.record and old.record:
        diffs.append(f"policy: RFC 9989 {new.policy_tag}={new.policy}, RFC 7489 {old.policy_tag}={old.policy}")
    if new.result is old.result is R.FAIL and new.requested != old.requested:
        diffs.append(f"requested handling: RFC 9989 {new.requested}, RFC 7489 {old.requested}")
    return DmarcBoth(rfc9989=new, rfc7489=old, differences=tuple(diffs))
