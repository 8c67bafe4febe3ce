"""Identities and alignment: every name the message gives for its sender, with its organisation.

From, Sender, Reply-To, Return-Path, the envelope-from recorded in Received, the Message-ID domain,
List-Unsubscribe and List-Id, each DKIM-Signature d= (as written: verification is another check's
job), and the domains a trusted receiver reported in Authentication-Results. Each identity gets its
organizational domain from the Public Suffix List, and identities are grouped by organisation.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from mailsleuth.domains import has_known_suffix, is_ip, normalize, org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.identity import Identity, IdentityReport, OrgGroup
from mailsleuth.model.message import Header, Message
from mailsleuth.parse.addresses import domain_of, message_addresses

CODES = (
    "ID_FROM_MISSING", "ID_FROM_MULTIPLE", "ID_REPLY_TO_OTHER_ORG", "ID_REPLY_TO_SENDER_INFRA",
    "ID_RETURN_PATH_OTHER_ORG", "ID_DKIM_OTHER_ORG", "ID_DISPLAY_NAME_ADDRESS", "ID_DISPLAY_NAME_ADDRESS_SAME_ORG",
    "ID_MESSAGE_ID_UNRELATED", "ID_SENDER_DIFFERS",
)

MAX_IDENTITIES = 200
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}")
_ENVFROM = re.compile(r"envelope-from\s*<?([^\s<>;()]*)>?", re.I)
_ANGLE = re.compile(r"<([^<>]{1,2000})>")
_DKIM_D = re.compile(r";\s*d\s*=\s*([^;\s]+)", re.I)  # searched in ";" + the value: a literal start is found fast
_HOSTLIKE = re.compile(r"^[a-z0-9._-]+\.[a-z0-9-]{2,}$", re.I)


_new_identity = factory(Identity)  # ten-odd identities a message: the cheaper way to build them


@lru_cache(maxsize=8192)
def _org(domain: str | None) -> str | None:
    if not domain or is_ip(domain) or not has_known_suffix(domain):
        return None  # IP literals and private names (host.local) belong to no public organisation
    return org_domain(domain)


def _ident(role: str, value: str, domain: str | None, source: str, display: str = "",
           trusted: bool | None = None) -> Identity:
    dom = normalize(domain) if domain else None
    return _new_identity(role=role, value=value[:500], domain=dom or None, org=_org(dom), source=source,
                    display_name=display[:300], trusted=trusted)


def _may_name_envelope_from(raw: str) -> bool:
    """False when _ENVFROM cannot match the unfolded ``raw``: unfolding only removes CR and LF
    characters, so the word must be there once they are gone (most Received lines lack it)."""
    low = raw.lower()
    if "envelope-from" in low:
        return True
    return ("\n" in low or "\r" in low) and "envelope-from" in low.replace("\r", "").replace("\n", "")


def _hop_trust(chain: Any, header: Header) -> bool | None:
    if chain is None:
        return None
    try:
        return bool(chain.is_trusted_header(header.index, None))
    except Exception:
        return None


def collect_identities(msg: Message, chain: Any = None, auth: Any = None) -> list[Identity]:
    out: list[Identity] = []
    for h in msg.get_all("From"):
        for a in message_addresses(msg, h.value):
            out.append(_ident("from", a.addr, a.domain, h.ref, a.display_name))
    for role, name in (("sender", "Sender"), ("reply-to", "Reply-To")):
        for h in msg.get_all(name):
            for a in message_addresses(msg, h.value):
                out.append(_ident(role, a.addr, a.domain, h.ref, a.display_name))
    for h in msg.get_all("Return-Path"):
        v = h.value.strip()
        m = _ANGLE.search(v)
        addr = (m.group(1) if m else v).strip()
        out.append(_ident("return-path", addr or "<>", domain_of(addr) or None, h.ref))
    for h in msg.get_all("Received"):
        if not _may_name_envelope_from(h.raw):
            continue
        for m in _ENVFROM.finditer(h.unfolded[:4000]):
            addr = m.group(1).strip()
            if addr:
                out.append(_ident("envelope-from", addr, domain_of(addr) or None, h.ref,
                                  trusted=_hop_trust(chain, h)))
    for h in msg.get_all("Message-ID")[:1]:
        m = _ANGLE.search(h.value) or re.search(r"\S+@\S+", h.value)
        mid = (m.group(1) if m and m.groups() else (m.group(0) if m else "")).strip()
        if "@" in mid:
            out.append(_ident("message-id", mid, mid.rpartition("@")[2].strip("[]>") or None, h.ref))
    for h in msg.get_all("List-Unsubscribe"):
        for m in list(_ANGLE.finditer(h.value))[:10]:
            url = m.group(1).strip()
            low = url.lower()
            if low.startswith("mailto:"):
                addr = url[7:].split("?", 1)[0]
                out.append(_ident("list-unsubscribe", url, domain_of(addr) or None, h.ref))
            elif low.startswith(("http://", "https://")):
                try:
                    host = urlsplit(url).hostname
                except ValueError:
                    host = None
                out.append(_ident("list-unsubscribe", url, host, h.ref))
    for h in msg.get_all("List-Id")[:1]:
        m = _ANGLE.search(h.value)
        lid = (m.group(1) if m else h.value).strip().lower()
        if _HOSTLIKE.match(lid):
            out.append(_ident("list-id", lid, lid, h.ref))
    for h in msg.get_all("DKIM-Signature"):
        m = _DKIM_D.search(";" + h.unfolded[:4000])
        if m:
            sig_d = m.group(1).strip().strip('"').lower()
            out.append(_ident("dkim-d", sig_d, sig_d, h.ref))
    if auth is not None:
        seen: set[tuple[str, str]] = set()
        for c in getattr(auth, "claims", ()):
            if not c.trusted or not c.domain:
                continue
            auth_role = {"dkim": "auth-dkim-d", "spf": "auth-mailfrom"}.get(c.method)
            if auth_role and (auth_role, c.domain) not in seen:
                seen.add((auth_role, c.domain))
                out.append(_ident(auth_role, c.subject or c.domain, c.domain, c.header, trusted=True))
    return out[:MAX_IDENTITIES]


def group_orgs(identities: list[Identity]) -> tuple[OrgGroup, ...]:
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for i in identities:
        if not i.org:
            continue
        roles, doms = groups.setdefault(i.org, ([], []))
        if i.role not in roles:
            roles.append(i.role)
        if i.domain and i.domain not in doms:
            doms.append(i.domain)
    return tuple(OrgGroup(org=o, roles=tuple(r), domains=tuple(d), includes_from="from" in r)
                 for o, (r, d) in groups.items())


def by_role(identities: list[Identity]) -> dict[str, list[Identity]]:
    """The identities of each role, in their order (one pass instead of one per role asked about)."""
    roles: dict[str, list[Identity]] = {}
    for i in identities:
        found = roles.get(i.role)
        if found is None:
            roles[i.role] = [i]
        else:
            found.append(i)
    return roles


def build_report(identities: list[Identity], roles: dict[str, list[Identity]] | None = None) -> IdentityReport:
    """``roles``: by_role(identities) when the caller has it."""
    if roles is None:
        roles = by_role(identities)
    froms = roles.get("from", ())
    f = froms[0] if froms else None
    from_org = f.org if f else None
    aligned: dict[str, bool] = {}
    if f is not None:
        for i in identities:
            if i.role == "from" or not i.org:
                continue
            key = f"{i.role}:{i.domain}"
            aligned[key] = i.org == from_org
    rps = roles.get("return-path")
    rp = rps[0] if rps else None
    return IdentityReport(
        identities=tuple(identities), groups=group_orgs(identities),
        from_address=f.value if f else None, from_display_name=f.display_name if f else "",
        from_domain=f.domain if f else None, from_org=from_org,
        dkim_domains=tuple(dict.fromkeys(i.domain for i in roles.get("dkim-d", ()) if i.domain)),
        return_path_domain=rp.domain if rp else None, aligned=aligned,
    )


def _header_by_ref(msg: Message, ref: str) -> Header | None:
    """The header a ref like ``From[0]`` names (refs are ``name[occurrence]``, unique per message)."""
    name, sep, occ = ref.rpartition("[")
    if sep and occ.endswith("]") and 0 < len(occ) <= 10 and occ[:-1].isdecimal():
        same = msg.get_all(name)
        i = int(occ[:-1])
        if i < len(same) and same[i].ref == ref:
            return same[i]
    return next((h for h in msg.headers if h.ref == ref), None)  # not in that form: look at every header


def _ev(msg: Message, ref: str) -> Evidence:
    h = _header_by_ref(msg, ref)
    if h is not None:
        return Evidence(kind=EvidenceKind.HEADER, ref=ref, value=" ".join(h.value.split())[:300])
    return Evidence(kind=EvidenceKind.HEADER, ref=ref)


def _org_of(d: str | None) -> str:
    return _org(d) or (d or "?")


@check("identity.alignment", title="Identities and alignment", codes=CODES,
       after=("received.chain", "auth.reported"))
def identity_alignment(ctx: Context) -> Outcome:
    msg = ctx.message
    out = Outcome()
    ids = collect_identities(msg, ctx.artifact("received.chain"), ctx.artifact("auth.reported"))
    roles = by_role(ids)
    out.artifact = rep = build_report(ids, roles)
    froms = roles.get("from")
    if not froms:
        out.findings.append(ctx.finding("ID_FROM_MISSING", [Evidence(kind=EvidenceKind.HEADER, ref="From",
                                                                       value=msg.value("From")[:200])]))
        return out
    from_headers = msg.get_all("From")
    if len(froms) > 1 or len(from_headers) > 1:
        out.findings.append(ctx.finding(
            "ID_FROM_MULTIPLE", [_ev(msg, h.ref) for h in from_headers[:4]], count=len(froms),
            headers=len(from_headers), addresses=", ".join(i.value for i in froms[:5])))
    f = froms[0]
    from_org = f.org or f.domain
    infra_orgs = {i.org for role in ("return-path", "envelope-from", "dkim-d") for i in roles.get(role, ()) if i.org}

    # A display name that shows an address other than the real one.
    for m in _EMAIL.finditer(f.display_name or ""):
        shown = m.group(0)
        if shown.lower() == f.value.lower():
            continue
        shown_dom = shown.rpartition("@")[2].lower()
        same = _org(shown_dom) is not None and _org(shown_dom) == f.org
        out.findings.append(ctx.finding(
            "ID_DISPLAY_NAME_ADDRESS_SAME_ORG" if same else "ID_DISPLAY_NAME_ADDRESS", [_ev(msg, f.source)],
            shown=shown, real=f.value, display=f.display_name))
        break
    for i in roles.get("reply-to", ()):
        if i.org and from_org and i.org != from_org:
            code = "ID_REPLY_TO_SENDER_INFRA" if i.org in infra_orgs else "ID_REPLY_TO_OTHER_ORG"
            out.findings.append(ctx.finding(code, [_ev(msg, i.source), _ev(msg, f.source)], reply_to=i.value,
                                            reply_org=i.org, from_domain=f.domain, from_org=from_org))
    rp = next((i for i in roles.get("return-path", ()) if i.domain), None)
    if rp and rp.org and from_org and rp.org != from_org:
        out.findings.append(ctx.finding("ID_RETURN_PATH_OTHER_ORG", [_ev(msg, rp.source)], return_path=rp.value,
                                        rp_domain=rp.domain, rp_org=rp.org, from_domain=f.domain, from_org=from_org))
    dkims = [i for i in roles.get("dkim-d", ()) if i.domain]
    any_aligned = any(i.org == from_org for i in dkims)
    for i in dkims:
        if i.org != from_org:
            out.findings.append(ctx.finding(
                "ID_DKIM_OTHER_ORG", [_ev(msg, i.source), _ev(msg, f.source)], d=i.domain, d_org=_org_of(i.domain),
                from_domain=f.domain, from_org=from_org,
                also=" Another signature is aligned with From." if any_aligned else ""))
    mids = roles.get("message-id")
    mid = mids[0] if mids else None
    if mid and mid.domain:
        # The organisations of the other identities: the groups (by organisation, roles listed once)
        # with some role besides message-id.
        known = {g.org for g in rep.groups if g.roles != ("message-id",)}
        if mid.org is None or mid.org not in known:
            out.findings.append(ctx.finding(
                "ID_MESSAGE_ID_UNRELATED", [_ev(msg, mid.source)], domain=mid.domain,
                org=mid.org or "not a public domain", from_org=from_org))
    for i in roles.get("sender", ()):
        if i.value.lower() != f.value.lower():
            out.findings.append(ctx.finding(
                "ID_SENDER_DIFFERS", [_ev(msg, i.source), _ev(msg, f.source)], sender=i.value, from_address=f.value,
                same_org="the same organisation" if i.org == f.org else "a different organisation"))
            break
    return out
