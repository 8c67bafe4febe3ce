"""Brand impersonation: lookalike domains, brand names in display names and subjects, the
recipient's own organisation imitated, and the brand's own domains vouching for a cousin domain.

Everywhere a sender names itself is examined: the From display name and address, Sender,
Reply-To, Return-Path, the envelope senders and HELO/PTR names of the Received chain, the subject,
and the link hosts the body checks found. A lookalike is not the same as an attacker: when one of
the brand's own domains signed the message (DKIM covering From), authorised its IP (SPF), passed
DMARC, or runs the lookalike's DNS, the finding says the brand vouches for it and the verdict
weighs that as trust. Where nothing vouches, a lookalike sender is the strongest phishing signal.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from mailsleuth.brands import vouch
from mailsleuth.brands.confusables import is_mixed_script
from mailsleuth.brands.index import BrandIndex
from mailsleuth.brands.names import NameIndex
from mailsleuth.brands.registry import load_registry, load_user_brands, own_brand
from mailsleuth.domains import normalize, org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.brand import (
    TECHNIQUE_WORDS,
    Brand,
    BrandReport,
    DomainMatch,
    IdentityCheck,
    NameClaim,
    Technique,
    Voucher,
)
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding
from mailsleuth.parse.addresses import message_addresses

CODES = (
    "BRAND_LOOKALIKE_SENDER", "BRAND_COMPOUND_SENDER", "BRAND_LOOKALIKE_REPLY_TO", "BRAND_LOOKALIKE_INFRA", "BRAND_LOOKALIKE_LINK",
    "BRAND_DISPLAY_NAME_CLAIM", "BRAND_SUBJECT_CLAIM", "BRAND_LOCAL_PART_CLAIM", "BRAND_MIXED_SCRIPT_DOMAIN",
    "BRAND_OWN_LOOKALIKE_SENDER", "BRAND_OWN_LOOKALIKE_OTHER", "BRAND_OWN_NAME_CLAIM",
    "BRAND_COUSIN_VOUCHED", "BRAND_COUSIN_VOUCHED_REPORTED", "BRAND_COUSIN_VOUCHED_DNS", "BRAND_SENDER_IS_BRAND",
)

_MAX_HOPS = 30
_MAX_LINK_HOSTS = 200
_RCVD_FROM = re.compile(r"^\s*from\s+([^\s()]+)(?:\s+\(([^)]{0,300})\))?", re.IGNORECASE)
_PAREN_HOST = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?\.[A-Za-z]{2,63})")
_FOR = re.compile(r"\bfor\s+<?([^\s<>;@]{1,64}@[^\s<>;]{1,253})>?", re.IGNORECASE)


# -- indexes (built once per process and per configuration) ----------------------------------------

@cache
def _registry_index(brand_files: tuple[str, ...]) -> tuple[BrandIndex, NameIndex]:
    brands = (*load_registry(), *load_user_brands(brand_files))
    return BrandIndex(brands), NameIndex(brands)


@cache
def _own_index(domains: tuple[str, ...], source: str) -> tuple[BrandIndex, NameIndex, Brand] | None:
    brand = own_brand(domains, source)
    if brand is None:
        return None
    return BrandIndex([brand]), NameIndex([brand]), brand


# -- what the sender calls itself --------------------------------------------------------------------

@dataclass(slots=True)
class _Name:
    field: str
    ref: str
    name: str
    local: str = ""
    display: str = ""


@dataclass(slots=True)
class _State:
    idx: BrandIndex
    names: NameIndex
    own: tuple[BrandIndex, NameIndex, Brand] | None
    identities: list[IdentityCheck] = field(default_factory=list)
    claims: list[NameClaim] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _sender_names(ctx: Context) -> list[_Name]:
    msg = ctx.message
    out: list[_Name] = []
    for fname in ("From", "Sender", "Reply-To"):
        for h in msg.get_all(fname)[:3]:
            for a in message_addresses(msg, h.value)[:5]:
                if a.domain:
                    out.append(_Name(fname, h.ref, a.domain, a.local, a.display_name))
                elif a.display_name:
                    out.append(_Name(fname, h.ref, "", "", a.display_name))
    for h in msg.get_all("Return-Path")[:2]:
        for a in message_addresses(msg, h.value)[:1]:
            if a.domain:
                out.append(_Name("Return-Path", h.ref, a.domain, a.local))
    return out


def _hop_names(ctx: Context) -> list[_Name]:
    """HELO and reverse-DNS names and envelope senders, from the chain analysis or raw headers."""
    out: list[_Name] = []
    chain = ctx.artifact("received.chain")
    # The chain's hops are views (origin first) that keep the parsed Received header under ``hop``;
    # read them top first, as the headers stand.
    hops = [vouch._get(h, "hop", h) for h in vouch._items(chain, "hops")][::-1] if chain is not None else []
    if hops and any(hasattr(h, "from_helo") or (isinstance(h, dict) and "from_helo" in h) for h in hops):
        for hop in hops[:_MAX_HOPS]:
            idx = vouch._get(hop, "header_index", "?")
            for fname, attr in (("HELO", "from_helo"), ("PTR", "from_rdns")):
                v = vouch._get(hop, attr)
                if isinstance(v, str) and v:
                    out.append(_Name(fname, f"Received[{idx}]", v))
            env = vouch._get(hop, "envelope_from")
            if isinstance(env, str) and "@" in env:
                out.append(_Name("envelope-from", f"Received[{idx}]", env.rsplit("@", 1)[1].strip("<> ")))
        return out
    for h in ctx.message.get_all("Received")[:_MAX_HOPS]:
        m = _RCVD_FROM.match(h.value[:1000])
        if not m:
            continue
        out.append(_Name("HELO", h.ref, m.group(1)))
        if m.group(2):
            hm = _PAREN_HOST.search(m.group(2))
            if hm:
                out.append(_Name("PTR", h.ref, hm.group(1)))
    return out


def _link_names(ctx: Context) -> list[_Name]:
    art = ctx.artifact("body.links")
    if art is None:
        return []
    out: list[_Name] = []
    seen: set[str] = set()
    links = vouch._get(art, "links")
    if not isinstance(links, list | tuple):
        return []
    for i, link in enumerate(list(links)[:5000]):
        hosts = [vouch._get(link, "host")]
        unwrapped = vouch._get(link, "unwrapped")
        if isinstance(unwrapped, str) and unwrapped:
            with contextlib.suppress(ValueError):
                hosts.append(urlsplit(unwrapped[:2000]).hostname)
        for host in hosts:
            if not isinstance(host, str) or not host or host in seen:
                continue
            seen.add(host)
            where = vouch._get(link, "where", "") or f"link {i + 1}"
            out.append(_Name("link", str(where), host, display=str(vouch._get(link, "url", ""))[:300]))
            if len(seen) >= _MAX_LINK_HOSTS:
                return out
    return out


def _recipient_domains(ctx: Context, idx: BrandIndex) -> tuple[str, ...]:
    """The recipient organisation as the Received chain shows it: the address the top hops were
    delivered for, when that organisation is not a free-mail or other brand's domain."""
    found: list[str] = []
    chain = ctx.artifact("received.chain")
    for view in (vouch._items(chain, "hops") if chain is not None else [])[::-1][:5]:  # top first
        v = vouch._get(vouch._get(view, "hop", view), "for_addr")
        if isinstance(v, str) and "@" in v:
            found.append(v.rsplit("@", 1)[1].strip("<> "))
    if not found:
        for h in ctx.message.get_all("Received")[:5]:
            v = h.value[:1000]
            m = _FOR.search(v) if "@" in v else None  # (the pattern needs an @)
            if m:
                found.append(m.group(1).rsplit("@", 1)[1])
    out = []
    for d in found:
        od = org_domain(d)
        if od and idx.owned(od) is None:
            out.append(od)
    return tuple(dict.fromkeys(out))[:3]


# -- the check ---------------------------------------------------------------------------------------

@check("brand.impersonation", title="Brand impersonation and lookalike domains", codes=CODES,
       after=("identity.alignment", "auth.reported", "auth.verify.dkim", "auth.verify.spf", "auth.verify.dmarc",
              "infra.platform", "infra.dns", "body.links", "received.chain"))
def brand_impersonation(ctx: Context) -> Outcome:
    cfg = ctx.config
    idx, names = _registry_index(tuple(getattr(cfg, "brand_files", ()) or ()))
    own_domains = tuple(cfg.own_domains)
    own_source = "config" if own_domains else ""
    if not own_domains:
        own_domains = _recipient_domains(ctx, idx)
        own_source = "recipient (from the Received chain)" if own_domains else ""
    st = _State(idx=idx, names=names, own=_own_index(own_domains, own_source) if own_domains else None)
    out = Outcome()
    senders = _sender_names(ctx)
    examined = [*senders, *_hop_names(ctx), *_link_names(ctx)]

    # 1. every name against the registry and the recipient's own domains
    matches: list[tuple[_Name, DomainMatch]] = []
    from_owner: dict[str, str] = {}  # From domain -> owning brand id
    seen: set[tuple[str, str]] = set()
    for item in examined:
        if not item.name or (item.field, item.name) in seen:
            continue
        seen.add((item.field, item.name))
        owned = idx.owned(item.name)
        own_owned = st.own[0].owned(item.name) if st.own else None
        m: DomainMatch | None = None
        if owned is None and own_owned is None:
            m = idx.match(item.name)
            if st.own is not None:
                om = st.own[0].match(item.name, own=True)
                if om is not None and om.technique is Technique.TLD_SWAP and own_source != "config":
                    om = None  # a guessed organisation: its name under other TLDs is often a sister or stranger
                if om is not None and (m is None or om.technique is not Technique.BRAND_AS_SUBDOMAIN):
                    m = om
        owner = owned.brand_id if owned else (st.own[2].id if own_owned and st.own else None)
        if item.field == "From" and owner:
            from_owner[normalize(item.name)] = owner
        st.identities.append(IdentityCheck(field=item.field, ref=item.ref, name=normalize(item.name)[:253],
                                           owner=owner, match=m))
        if m is not None:
            matches.append((item, m))

    from_items = [s for s in senders if s.field == "From"]
    from_domains = {normalize(s.name) for s in from_items if s.name}

    # 2. brand names in display names, the subject and local parts
    for s in senders:
        if s.field in ("From", "Sender", "Reply-To") and s.display:
            for hit in names.find(s.display):
                st.claims.append(NameClaim(brand_id=hit.brand_id, brand=idx.brands[hit.brand_id].name,
                                           matched=hit.alias, where=f"{s.field} display name", text=s.display[:200]))
            if st.own is not None:
                for hit in st.own[1].find(s.display, allow_weak=False):
                    st.claims.append(NameClaim(brand_id=hit.brand_id, brand=st.own[2].name, matched=hit.alias,
                                               where=f"{s.field} display name", text=s.display[:200], own=True))
        if s.field == "From" and s.local and s.name and idx.owned(s.name) is None:
            entry = idx.match_local(s.local)
            if entry is not None:
                st.claims.append(NameClaim(brand_id=entry.brand_id, brand=idx.brands[entry.brand_id].name,
                                           matched=entry.label, where="From local part", text=s.local[:64]))
    subject = ctx.message.value("Subject")
    for hit in names.find(subject, allow_weak=False):
        st.claims.append(NameClaim(brand_id=hit.brand_id, brand=idx.brands[hit.brand_id].name, matched=hit.alias,
                                   where="Subject", text=subject[:200]))

    # 3. who vouches (asked only when a brand is in play: most messages name none)
    platform = _platform_name(ctx.artifact("infra.platform"))
    brands_in_play = {m.brand_id for _, m in matches if not m.own} | {c.brand_id for c in st.claims if not c.own}
    attest = ([*vouch.from_verified(ctx.artifact), *vouch.from_reported(ctx.artifact("auth.reported"))]
              if brands_in_play else [])
    vouchers: dict[str, list[Voucher]] = {}
    for bid in sorted(brands_in_play):
        brand = idx.brands[bid]
        vs = _vouchers_for(ctx, brand, attest, [m.name for i, m in matches if m.brand_id == bid
                                               and i.field in ("From", "Return-Path", "Sender")])
        if vs:
            vouchers[bid] = vs

    failures = vouch.verified_failures(ctx.artifact) if vouchers else {}
    _emit(ctx, st, matches, from_domains, from_owner, vouchers, platform, failures)
    out.findings = st.findings
    out.artifact = BrandReport(
        registry_size=len(idx.brands), own_domains=own_domains, own_source=own_source,
        identities=tuple(st.identities), claims=tuple(st.claims),
        vouchers=tuple(v for vs in vouchers.values() for v in vs), platform=platform,
    )
    return out


def _flat(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text[:200]).casefold() if c.isalnum())


def _names_itself(display: str, from_domains: set[str]) -> bool:
    """Is the display name just the From domain's own label ("Acme Mail" for acmemail.example)?"""
    flat = _flat(display)
    for d in from_domains:
        od = org_domain(d) or d
        label = od.split(".", 1)[0]
        if len(label) >= 6 and flat == _flat(label):
            return True
    return False


def _platform_name(art: Any) -> str | None:
    if art is None:
        return None
    for key in ("platform", "name", "provider"):
        v = vouch._get(art, key)
        if isinstance(v, str) and v:
            return v[:80]
        if v is not None and isinstance(vouch._get(v, "name"), str):
            return str(vouch._get(v, "name"))[:80]
    for item in vouch._items(art, "matches", "platforms"):
        v = vouch._get(item, "name")
        if isinstance(v, str) and v and item is not art:
            return v[:80]
    return None


def _vouchers_for(ctx: Context, brand: Brand, attest: list[vouch.Attestation], lookalikes: list[str]) -> list[Voucher]:
    official = frozenset(brand.domains)
    out = [Voucher(brand_id=brand.id, kind=a.kind, domain=a.domain, verified=a.verified, detail=a.detail, ref=a.ref)
           for a in vouch.vouching(attest, official)]
    if brand.dns_host or not lookalikes:
        return out
    infra = ctx.artifact("infra.dns")
    for name in dict.fromkeys(org_domain(n) or n for n in lookalikes):
        ops = vouch.dns_operators(infra, name) if infra is not None else _own_dns_lookup(ctx, name)
        for kind, op in ops:
            if op in official:
                out.append(Voucher(brand_id=brand.id, kind="dns", domain=op, verified=True,
                                   detail=f"the {kind} records of {name} point to {op}", ref=f"{kind} {name}"))
    return out


def _own_dns_lookup(ctx: Context, name: str) -> list[tuple[str, str]]:
    if ctx.resolver.mode == "off":
        return []
    out: list[tuple[str, str]] = []
    for rdtype in ("NS", "MX"):
        ans = ctx.resolver.query(name, rdtype)
        if not ans.status.is_data:
            continue
        for rec in ans.records[:10]:
            host = rec.split()[-1] if rec.split() else ""
            od = org_domain(host)
            if od:
                out.append((rdtype, od))
    return out


_AMBIGUOUS_FOR_LINKS = frozenset({Technique.EXTRA_WORDS, Technique.TLD_SWAP, Technique.BRAND_AS_SUBDOMAIN})
_FIELD_CODE = {"From": "BRAND_LOOKALIKE_SENDER", "Sender": "BRAND_LOOKALIKE_SENDER",
               "Reply-To": "BRAND_LOOKALIKE_REPLY_TO", "link": "BRAND_LOOKALIKE_LINK"}


def _evidence(item: _Name) -> Evidence:
    if item.field == "link":
        return Evidence(kind=EvidenceKind.URL, ref=item.ref[:120], value=(item.display or item.name)[:300])
    if item.field in ("HELO", "PTR", "envelope-from"):
        return Evidence(kind=EvidenceKind.HOP, ref=item.ref, value=f"{item.field} {item.name}"[:300])
    return Evidence(kind=EvidenceKind.HEADER, ref=item.ref, value=item.name[:300])


def _emit(ctx: Context, st: _State, matches: list[tuple[_Name, DomainMatch]], from_domains: set[str],
          from_owner: dict[str, str], vouchers: dict[str, list[Voucher]], platform: str | None,
          failures: dict[str, str]) -> None:
    idx = st.idx
    vouched_done: set[str] = set()

    def emit_vouched(bid: str, what: str, ev: list[Evidence]) -> None:
        if bid in vouched_done:
            return
        vouched_done.add(bid)
        vs = vouchers[bid]
        best = next((v for v in vs if v.verified and v.kind != "dns"), None)
        code = "BRAND_COUSIN_VOUCHED"
        if best is None:
            best = next((v for v in vs if v.kind != "dns"), None)
            code = "BRAND_COUSIN_VOUCHED_REPORTED"
        if best is None:
            best, code = vs[0], "BRAND_COUSIN_VOUCHED_DNS"
        proof = {
            "dkim": f"a signature by {best.domain}, the brand's own domain, covers the From header",
            "spf": f"{best.domain}, the brand's own domain, authorises the sending IP by SPF",
            "dmarc": f"DMARC passes under {best.domain}, the brand's own domain",
            "dns": best.detail or f"its DNS is run by {best.domain}, the brand's own domain",
        }[best.kind]
        if not best.verified:
            proof += f" (reported by the recipient's trusted server, {best.ref}"
            if best.kind == "dkim" and best.domain in failures:
                proof += f"; our own check of this copy failed: {failures[best.domain]}"
            proof += ")"
        via = f" through {platform}" if platform else ""
        ev = [*ev, *(Evidence(kind=EvidenceKind.COMPUTED if v.verified else EvidenceKind.HEADER, ref=v.ref[:120],
                              value=f"{v.kind} {v.domain}: {v.detail}"[:300]) for v in vs[:4])]
        st.findings.append(ctx.finding(code, ev, domain=what, brand=idx.brands[bid].name, brand_domain=best.domain,
                                       proof=proof, via=via, kind=best.kind, platform=platform or ""))

    reported: set[tuple[str, str, str]] = set()
    from_orgs = {org_domain(d) or d for d in from_domains}
    sender_flagged = {m.brand_id for i, m in matches if i.field in ("From", "Sender")}
    claimed = {c.brand_id for c in st.claims} | sender_flagged
    for item, m in matches:
        if item.field not in ("From", "Sender") and (org_domain(m.name) or m.name) in from_orgs and sender_flagged:
            continue  # the sender's own other names: already weighed with its From domain
        if item.field == "link" and m.technique in _AMBIGUOUS_FOR_LINKS and m.brand_id not in claimed:
            continue  # brand-named CDNs and campaign hosts are common; they count where the brand is claimed
        if m.own:
            code = "BRAND_OWN_LOOKALIKE_SENDER" if item.field in ("From", "Sender", "Reply-To") else "BRAND_OWN_LOOKALIKE_OTHER"
        elif m.brand_id in vouchers:
            emit_vouched(m.brand_id, m.name, [_evidence(item)])
            continue
        else:
            code = _FIELD_CODE.get(item.field, "BRAND_LOOKALIKE_INFRA")
            if code == "BRAND_LOOKALIKE_SENDER" and m.technique is Technique.EXTRA_WORDS:
                if m.weak and m.brand_id not in {c.brand_id for c in st.claims}:
                    continue  # an ordinary word in a hyphenated name (max-planck, sky-high): not a claim by itself
                code = "BRAND_COMPOUND_SENDER"  # brand + words: what brands' own cousin domains look like too
        key = (code, m.brand_id, m.name)
        if key in reported:
            continue
        reported.add(key)
        st.findings.append(ctx.finding(
            code, [_evidence(item), Evidence(kind=EvidenceKind.COMPUTED, ref="brand registry",
                                             value=f"{m.brand}: {m.brand_domain} ({m.technique.value})")],
            domain=m.name, brand=m.brand, brand_domain=m.brand_domain, technique=m.technique.value,
            how=TECHNIQUE_WORDS[m.technique], field=item.field, distance=m.distance))

    claimed_done: set[str] = set()  # brand ids, and "IS:<id>" / "OWN:<where>" markers
    from_text = ", ".join(sorted(from_domains)) or "(no address)"
    for c in st.claims:
        brand = st.own[2] if (c.own and st.own) else idx.brands[c.brand_id]
        official = set(brand.domains)
        from_is_brand = any((org_domain(d) or d) in official for d in from_domains)
        ev = [Evidence(kind=EvidenceKind.HEADER, ref=c.where, value=c.text[:300])]
        if from_is_brand:
            if c.where == "From display name" and not c.own and f"IS:{c.brand_id}" not in claimed_done:
                claimed_done.add(f"IS:{c.brand_id}")
                st.findings.append(ctx.finding("BRAND_SENDER_IS_BRAND", ev, brand=brand.name, domain=from_text))
            continue
        if c.own:
            if f"OWN:{c.where}" not in claimed_done:
                claimed_done.add(f"OWN:{c.where}")
                st.findings.append(ctx.finding("BRAND_OWN_NAME_CLAIM", ev, brand=brand.name, matched=c.matched,
                                               where=c.where, domain=from_text))
            continue
        if c.brand_id in vouchers:
            emit_vouched(c.brand_id, from_text, ev)
            continue
        other_owner = next((from_owner[d] for d in from_domains if d in from_owner), None)
        owned_from = [idx.owned(d) for d in from_domains]
        freemail = any(o is not None and o.user for o in owned_from)
        if c.where == "Subject":
            if any(x.brand_id == c.brand_id and x.where.endswith("display name") for x in st.claims) or other_owner:
                continue
            code = "BRAND_SUBJECT_CLAIM"
        elif c.where == "From local part":
            if any(x.brand_id == c.brand_id and x.where.endswith("display name") for x in st.claims):
                continue
            code = "BRAND_LOCAL_PART_CLAIM"
        else:
            if other_owner and not freemail and other_owner != c.brand_id:
                continue  # another registry brand's own address naming a partner ("X via DocuSign")
            if _names_itself(c.text, from_domains):
                continue  # "Brand Shopping" <x@brandshopping.example>: the domain's own name, weighed as a domain
            code = "BRAND_DISPLAY_NAME_CLAIM"
        if f"{code}:{c.brand_id}" in claimed_done:
            continue
        claimed_done.add(f"{code}:{c.brand_id}")
        st.findings.append(ctx.finding(code, ev, brand=brand.name, matched=c.matched, where=c.where, domain=from_text,
                                       brand_domains=", ".join(brand.domains[:3]),
                                       freemail=" (a free-mail address)" if freemail else ""))

    for ident in st.identities:
        if (ident.match is None and ident.owner is None and ident.field in ("From", "Reply-To", "link")
                and not ident.name.isascii()):  # (an ASCII name mixes no scripts)
            label = ident.name.split(".")
            if any(not lab.isascii() and is_mixed_script(lab) for lab in label):
                st.findings.append(ctx.finding("BRAND_MIXED_SCRIPT_DOMAIN",
                                               [Evidence(kind=EvidenceKind.HEADER if ident.field != "link" else EvidenceKind.URL,
                                                         ref=ident.ref[:120], value=ident.name)],
                                               domain=ident.name, field=ident.field))
