"""Reported authentication: what the receivers on the path *said* about SPF, DKIM, DMARC, ARC, ...

Every Authentication-Results, ARC-Authentication-Results, Received-SPF and vendor copy is parsed and
marked trusted or not by the Received chain's trust decision. A trusted receiver's statement is
evidence (modest weight: it is a claim we did not verify ourselves); statements from outside the
boundary are shown as claims and weigh nothing, except when one imitates the recipient's own
server from below the boundary, which is a forgery.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Any

from mailsleuth.domains import org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.auth import (
    AuthClaim,
    AuthResultValue,
    MethodSummary,
    ReportedAuth,
    ReportedAuthReport,
    ReportedResult,
)
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.message import Header, Message
from mailsleuth.parse.addresses import domain_of, message_addresses
from mailsleuth.parse.authres import AUTH_HEADER_NAMES, NO_AUTHSERV_ID, TrustTest, is_copy, parse_auth_header

CODES = (
    "AUTH_REPORTED_DKIM_PASS", "AUTH_REPORTED_SPF_PASS", "AUTH_REPORTED_DMARC_PASS", "AUTH_REPORTED_ARC_PASS",
    "AUTH_REPORTED_COMPAUTH_PASS", "AUTH_REPORTED_OTHER_PASS",
    "AUTH_REPORTED_DKIM_FAIL", "AUTH_REPORTED_SPF_FAIL", "AUTH_REPORTED_SPF_SOFTFAIL", "AUTH_REPORTED_DMARC_FAIL",
    "AUTH_REPORTED_COMPAUTH_FAIL", "AUTH_REPORTED_OTHER_FAIL", "AUTH_REPORTED_NONE", "AUTH_REPORTED_ERROR",
    "AUTH_REPORTED_UNTRUSTED_CLAIM", "AUTH_REPORTED_FORGED_HEADER", "AUTH_REPORTED_CONFLICT",
    "AUTH_REPORTED_PARSE_ERROR", "AUTH_REPORTED_NO_TRUSTED", "AUTH_REPORTED_DKIM_ALIGNED",
)

_PASS_CODES = {"dkim": "AUTH_REPORTED_DKIM_PASS", "spf": "AUTH_REPORTED_SPF_PASS", "dmarc": "AUTH_REPORTED_DMARC_PASS",
               "arc": "AUTH_REPORTED_ARC_PASS", "compauth": "AUTH_REPORTED_COMPAUTH_PASS"}
_FAIL_CODES = {"dkim": "AUTH_REPORTED_DKIM_FAIL", "spf": "AUTH_REPORTED_SPF_FAIL", "dmarc": "AUTH_REPORTED_DMARC_FAIL",
               "compauth": "AUTH_REPORTED_COMPAUTH_FAIL"}
_POLICY = re.compile(r"\bp=([A-Za-z]+)")
MAX_FINDINGS_PER_KIND = 8


def _clean_domain(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().strip("<>").strip()
    if "@" in v:
        v = domain_of(v)
    v = v.strip(".").lower()
    if not v or v == "none" or " " in v:
        return None
    return v[:253]


# The properties that name what a method's result is about, most telling first.
_SUBJECT_KEYS: dict[str, tuple[str, ...]] = {
    "dkim": ("header.d", "header.i"),
    "spf": ("smtp.mailfrom", "smtp.mail", "envelope-from", "smtp.helo"),
    "dmarc": ("header.from",), "dkim-adsp": ("header.from",), "sender-id": ("header.from",), "bimi": ("header.from",),
    "iprev": ("policy.iprev", "smtp.remote-ip"),
    "auth": ("smtp.auth", "smtp.mailfrom"),
}


def claim_subject(method: str, r: ReportedResult) -> tuple[str | None, str]:
    """The domain a result is about and the property it came from."""
    for k in _SUBJECT_KEYS.get(method, ()):
        v = r.prop(k)
        if v:
            dom = v if method == "iprev" else _clean_domain(v)
            return dom, f"{k}={v}"
    return None, ""


def _policy(r: ReportedResult) -> str | None:
    for c in r.comments:
        m = _POLICY.search(c)
        if m:
            return m.group(1).lower()
    action = r.prop("action") or r.prop("policy.dmarc")
    return action.lower() if action else None


def _trust_test(chain: Any, header_index: int) -> TrustTest | None:
    """Whether the chain puts the header at ``header_index`` with a given authserv-id on the
    recipient's side (None without a chain: nothing is trusted)."""
    if chain is None:
        return None

    def trusted(authserv_id: str | None) -> bool:
        try:
            return bool(chain.is_trusted_header(header_index, authserv_id))
        except Exception:
            return False

    return trusted


def _trusted_ids(chain: Any) -> tuple[str, ...]:
    ids = getattr(chain, "trusted_authserv_ids", ()) or ()
    if type(ids) is tuple:
        try:
            return _lowered(ids)  # the same configured ids every message
        except TypeError:  # an unhashable member
            pass
    try:
        return tuple(str(i).lower() for i in ids)
    except TypeError:
        return ()


@lru_cache(maxsize=64)
def _lowered(ids: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(i).lower() for i in ids)


def _own_id(authserv_id: str, trusted_ids: set[str]) -> bool:
    """Is this exactly one of the recipient's own authserv-ids (``*.suffix`` patterns allowed)?

    Deliberately stricter than the chain's own test (which also accepts other names in the
    organisation of a trusted host): calling a header forged needs an exact imitation.
    """
    a = authserv_id.strip().lower().rstrip(".")
    for t in trusted_ids:
        if t.startswith("*."):
            if a.endswith(t[1:]):
                return True
        elif a == t:
            return True
    return False


_BY_HOST = re.compile(r"\bby\s+([A-Za-z0-9._-]+)", re.I)


def _looks_forged(ctx: Context, chain: Any, header_index: int, trusted_ids: set[str]) -> bool:
    """An own-id header is forged when it was already in the message before the boundary hop (below
    the first Received line under the boundary one; a milter of the boundary hop writes between the
    two) and no Received line next to it was written by one of the recipient's own hosts. The second
    condition keeps shared providers apart from forgers: a message that crossed the same provider
    twice (another tenant, a forwarding list) carries the provider's id lower down legitimately."""
    b = getattr(chain, "boundary_header_index", None)
    if not isinstance(b, int):
        return False
    received = ctx.message.get_all("Received")
    below = [h.index for h in received if h.index > b]
    if not below or header_index <= below[0]:
        return False
    above_h = [h for h in received if h.index < header_index][-1:]
    below_h = [h for h in received if h.index > header_index][:1]
    for h in above_h + below_h:
        m = _BY_HOST.search(h.unfolded[:2000])
        if m and _own_id(m.group(1), trusted_ids):
            return False
    return True


def _ev(ra: ReportedAuth, ref: str) -> Evidence:
    """The evidence of the header ``ra`` (whose ref is ``ref``)."""
    return Evidence(kind=EvidenceKind.HEADER, ref=ref, value=" ".join(ra.raw.split())[:300])


def _line(c: AuthClaim) -> str:
    what = f"{c.result_raw or c.result.value}"
    if c.subject:
        what += f" {c.subject}"
    return f"{what} (by {c.by or 'an unnamed receiver'}, {c.header})"


def _auth_headers(msg: Message) -> list[Header]:
    """The message's authentication headers (every name parse_auth_header reads), top first."""
    found = list(itertools.chain.from_iterable(map(msg.get_all, AUTH_HEADER_NAMES)))
    found.sort(key=_header_index)
    return found


def _header_index(h: Header) -> int:
    return h.index


def collect(ctx: Context, trusted_ids: set[str] | None = None) -> tuple[list[ReportedAuth], list[AuthClaim], list[str]]:
    """``trusted_ids``: the chain's lower-case trusted authserv-ids when the caller has them."""
    chain = ctx.artifact("received.chain")
    if trusted_ids is None:
        trusted_ids = set(_trusted_ids(chain))
    headers: list[ReportedAuth] = []
    claims: list[AuthClaim] = []
    forged: list[str] = []
    for h in _auth_headers(ctx.message):
        copy = is_copy(h.name)
        ra = parse_auth_header(h, trust=None if copy else _trust_test(chain, h.index))
        if ra is None:
            continue
        trusted = ra.trusted
        ref = ra.ref
        headers.append(ra)
        if (not trusted and not copy and ra.authserv_id and _own_id(ra.authserv_id, trusted_ids)
                and _looks_forged(ctx, chain, ra.header_index, trusted_ids)):
            forged.append(ref)
        for r in ra.results:
            method = r.method
            dom, subject = claim_subject(method, r)
            claims.append(_new_claim(
                method=method, result=r.result, result_raw=r.result_raw, domain=dom, subject=subject,
                by=ra.authserv_id, header=ref, header_index=ra.header_index, trusted=trusted, reason=r.reason,
                comments=r.comments, policy=_policy(r) if method == "dmarc" else None,
            ))
    return headers, claims, forged


_new_claim = factory(AuthClaim)  # a few claims per header: the cheaper way to build them


def summarise(claims: list[AuthClaim]) -> tuple[MethodSummary, ...]:
    order: list[str] = []
    trusted: dict[str, list[str]] = {}
    untrusted: dict[str, list[str]] = {}
    for c in claims:
        if c.method not in order:
            order.append(c.method)
        target = trusted if c.trusted else untrusted
        lst = target.setdefault(c.method, [])
        line = _line(c)
        if line not in lst and len(lst) < 20:
            lst.append(line)
    return tuple(MethodSummary(method=m, trusted=tuple(trusted.get(m, ())), untrusted=tuple(untrusted.get(m, ())))
                 for m in order)


def _conflicts(claims: list[AuthClaim]) -> list[tuple[str, str, list[AuthClaim], list[AuthClaim]]]:
    """Same method and domain: somebody said pass, somebody said fail."""
    groups: dict[tuple[str, str], list[AuthClaim]] = {}
    for c in claims:
        if c.method in ("dkim", "spf", "dmarc", "arc") and c.domain:
            groups.setdefault((c.method, c.domain), []).append(c)
    out = []
    for (method, dom), group in groups.items():
        if len(group) < 2:
            continue  # one claim cannot disagree with itself
        passes = [c for c in group if c.result is AuthResultValue.PASS]
        fails = [c for c in group if c.result in (AuthResultValue.FAIL, AuthResultValue.SOFTFAIL)]
        if passes and fails and any(c.trusted for c in group):  # two outside claims disagreeing is noise
            out.append((method, dom, passes, fails))
    return out


@check("auth.reported", title="Authentication reported by the receivers", codes=CODES,
       depends=("received.chain",))
def reported_auth(ctx: Context) -> Outcome:
    out = Outcome()
    chain = ctx.artifact("received.chain")
    trusted_ids = _trusted_ids(chain)
    headers, claims, forged = collect(ctx, set(trusted_ids))
    refs = [ra.ref for ra in headers]
    by_ref = dict(zip(refs, headers, strict=True))
    evidence: dict[str, Evidence] = {}  # one Evidence per header, however many findings cite it

    def ev_of(ref: str) -> Evidence:
        ev = evidence.get(ref)
        if ev is None:
            ev = evidence[ref] = _ev(by_ref[ref], ref)
        return ev

    seen: set[tuple[str, str, str | None]] = set()
    counts: dict[str, int] = {}
    from_addrs = message_addresses(ctx.message, ctx.message.value("From"))
    from_addr = from_addrs[0] if from_addrs else None
    from_domain = from_addr.domain if from_addr else ""
    from_org = org_domain(from_domain) if from_domain else None

    def emit(code: str, ev: list[Evidence], **facts: Any) -> None:
        counts[code] = counts.get(code, 0) + 1
        if counts[code] <= MAX_FINDINGS_PER_KIND:
            out.findings.append(ctx.finding(code, ev, **facts))

    for c in claims:
        if not c.trusted:
            continue
        key = (c.method, c.result.value, c.domain)
        if key in seen:
            continue
        seen.add(key)
        facts = dict(method=c.method, result=c.result_raw or c.result.value, domain=c.domain or "(no domain named)",
                     by=c.by or f"the receiver that wrote {c.header}", header=c.header, subject=c.subject,
                     reason=c.reason or "; ".join(c.comments)[:200])
        ev = [ev_of(c.header)]
        res = c.result
        if res is AuthResultValue.PASS:
            emit(_PASS_CODES.get(c.method, "AUTH_REPORTED_OTHER_PASS"), ev, **facts)
            if c.method == "dkim" and c.domain and from_org and org_domain(c.domain) == from_org \
                    and "AUTH_REPORTED_DKIM_ALIGNED" not in counts:
                emit("AUTH_REPORTED_DKIM_ALIGNED", ev, **facts, from_domain=from_domain, org=from_org)
        elif res is AuthResultValue.SOFTFAIL and c.method == "spf":
            emit("AUTH_REPORTED_SPF_SOFTFAIL", ev, **facts)
        elif res is AuthResultValue.FAIL or (res is AuthResultValue.SOFTFAIL):
            code = _FAIL_CODES.get(c.method, "AUTH_REPORTED_OTHER_FAIL")
            if code == "AUTH_REPORTED_DMARC_FAIL":
                facts["policy"] = c.policy or "unknown"
            emit(code, ev, **facts)
        elif res in (AuthResultValue.TEMPERROR, AuthResultValue.PERMERROR):
            emit("AUTH_REPORTED_ERROR", ev, **facts)
        elif c.method in ("spf", "dkim", "dmarc"):
            emit("AUTH_REPORTED_NONE", ev, **facts)

    untrusted_by: dict[str, list[tuple[str, ReportedAuth]]] = {}
    for ref, ra in zip(refs, headers, strict=True):
        if not ra.trusted and ref not in forged:
            untrusted_by.setdefault(ra.authserv_id or "(no authserv-id)", []).append((ref, ra))
    for who, group in list(untrusted_by.items())[:MAX_FINDINGS_PER_KIND]:
        results = []
        for _ref, ra in group:
            for r in ra.results:
                item = f"{r.method}={r.result_raw}"
                if item not in results:
                    results.append(item)
        copy = all(is_copy(ra.header_name) for _ref, ra in group)
        emit("AUTH_REPORTED_UNTRUSTED_CLAIM", [ev_of(ref) for ref, _ra in group[:4]], by=who, count=len(group),
             results=", ".join(results[:12]) or "no results",
             where="copies of an earlier system's results" if copy else "written outside the trust boundary")
    for ref in forged:
        ra = by_ref[ref]
        emit("AUTH_REPORTED_FORGED_HEADER", [ev_of(ref)], by=ra.authserv_id, header=ref,
             results=", ".join(f"{r.method}={r.result_raw}" for r in ra.results[:8]) or "no results")
    for method, dom, passes, fails in _conflicts(claims)[:MAX_FINDINGS_PER_KIND]:
        cited = sorted({c.header for c in passes + fails})
        emit("AUTH_REPORTED_CONFLICT", [ev_of(r) for r in cited[:4]], method=method, domain=dom,
             passed_by=", ".join(sorted({(c.by or c.header) + ("" if c.trusted else " (untrusted)") for c in passes})),
             failed_by=", ".join(sorted({(c.by or c.header) + ("" if c.trusted else " (untrusted)") for c in fails})),
             both_trusted=any(c.trusted for c in passes) and any(c.trusted for c in fails))
    for ref, ra in zip(refs, headers, strict=True):
        if not ra.parse_errors:
            continue
        # Microsoft 365 omits the authserv-id in every header it writes: routine, kept in the artifact only.
        errs = [e for e in ra.parse_errors if not e.startswith(NO_AUTHSERV_ID)]
        if errs:
            emit("AUTH_REPORTED_PARSE_ERROR", [ev_of(ref)], header=ref, error="; ".join(errs[:3])[:300])
    if not any(ra.trusted for ra in headers):
        out.findings.append(ctx.finding(
            "AUTH_REPORTED_NO_TRUSTED", [], count=len(headers),
            ids=", ".join(trusted_ids) or "none configured"))
    out.artifact = ReportedAuthReport(headers=tuple(headers), claims=tuple(claims), methods=summarise(claims),
                                      trusted_authserv_ids=trusted_ids, forged=tuple(forged))
    return out
