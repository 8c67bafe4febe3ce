"""Who runs the sending infrastructure: DNS enrichment, registration data, the ownership narrative
and where to report abuse. (Platform fingerprints: mailsleuth.checks.platform.)"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mailsleuth.domains import org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.infra.enrich import enrich
from mailsleuth.infra.ownership import abuse_contacts, build_ownership
from mailsleuth.infra.platforms import platform_for_domain
from mailsleuth.infra.rdap import RdapCache, RdapClient, default_cache_dir
from mailsleuth.infra.view import valid_host, view_for
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.infra import Enrichment, Platforms, RdapRecord, Registrations

_IDENTITY_ROLES = ("from", "return-path", "reply-to", "sender", "dkim")
_AFTER = ("received.chain", "identity.alignment", "auth.reported", "auth.verify.dkim")
NEW_DOMAIN_DAYS = 30
MAX_RDAP_DOMAINS = 8


def _dns_ev(ctx: Context, name: str | None, rdtype: str) -> Evidence:
    a = ctx.resolver.peek(name, rdtype) if name else None
    return Evidence(kind=EvidenceKind.DNS, ref=f"{rdtype} {name}",
                    value=a.summary() if a is not None else "no answer within the time budget")


@check("infra.dns", title="DNS of the sending hosts and identity domains", needs=("dns",), after=_AFTER,
       codes=("INFRA_DNS_OPERATOR", "INFRA_SPF_PROVIDERS", "INFRA_NETWORK_OWNER", "INFRA_NO_PTR",
              "INFRA_FCRDNS_MISMATCH", "INFRA_DOMAIN_NXDOMAIN", "INFRA_HELO_NXDOMAIN", "INFRA_NO_MX"))
def infra_dns(ctx: Context) -> Outcome:
    view = view_for(ctx)
    art, notes = enrich(view, ctx.resolver, budget_s=ctx.config.limits.dns_budget_seconds)
    out = Outcome(artifact=art, incomplete=notes)
    f = out.findings
    zones_told: set[str] = set()
    for d in sorted(art.domains, key=lambda d: "from" not in d.roles):
        roles = [r for r in d.roles if r in _IDENTITY_ROLES]
        if d.exists is False and roles:
            f.append(ctx.finding("INFRA_DOMAIN_NXDOMAIN", [_dns_ev(ctx, d.domain, "A")], domain=d.domain,
                                 role=", ".join(roles)))
            continue
        if d.exists is False and "helo" in d.roles:
            f.append(ctx.finding("INFRA_HELO_NXDOMAIN", [_dns_ev(ctx, d.domain, "A")], helo=d.domain))
            continue
        if roles and d.ns and d.ns_operators and (d.ns_zone or d.domain) not in zones_told:
            own = d.org_domain in d.ns_operators
            if not own or "from" in roles:
                zones_told.add(d.ns_zone or d.domain)
                plat = platform_for_domain("ns", d.ns[0])
                f.append(ctx.finding(
                    "INFRA_DNS_OPERATOR", [_dns_ev(ctx, d.ns_zone, "NS")], domain=d.domain,
                    operator=", ".join(d.ns_operators), ns=", ".join(d.ns[:4]), role=", ".join(roles),
                    platform=plat.name if plat else "", own=own,
                    platform_note=f" ({plat.name})" if plat else (" (its own)" if own else "")))
        if "from" in roles and d.spf.includes:
            named = []
            for inc in d.spf.includes[:10]:
                plat = platform_for_domain("spf", inc)
                named.append(f"{inc} ({plat.name})" if plat else inc)
            f.append(ctx.finding("INFRA_SPF_PROVIDERS", [_dns_ev(ctx, d.domain, "TXT")], domain=d.domain,
                                 providers=", ".join(named), includes=list(d.spf.includes)))
        null_mx = bool(d.mx) and all(m.strip() in ("0 .", "0") for m in d.mx)
        if "from" in roles and d.exists and (d.status.get("MX") == "NODATA" or null_mx):
            f.append(ctx.finding("INFRA_NO_MX", [_dns_ev(ctx, d.domain, "MX"), _dns_ev(ctx, d.domain, "A")],
                                 domain=d.domain, has_a=bool(d.a or d.aaaa),
                                 a_note=" (it has an address record, so mail to it may still be delivered)"
                                 if d.a or d.aaaa else ""))
    client = view.client
    if client is not None and client.ip:
        ip = art.ip(client.ip)
        if ip is not None:
            from mailsleuth.infra.asn import origin_name, reverse_name

            hop_ev = Evidence(kind=EvidenceKind.HOP, ref=f"hop {client.pos + 1}",
                              value=f"from {client.helo or '?'} ({client.rdns or '?'} [{client.ip}])")
            if ip.ptr_status in ("NXDOMAIN", "NODATA"):
                f.append(ctx.finding("INFRA_NO_PTR", [hop_ev, _dns_ev(ctx, reverse_name(ip.ip), "PTR")], ip=ip.ip))
            elif ip.fcrdns is False:
                fam = "AAAA" if ":" in ip.ip else "A"
                f.append(ctx.finding("INFRA_FCRDNS_MISMATCH",
                                     [hop_ev, _dns_ev(ctx, reverse_name(ip.ip), "PTR"), _dns_ev(ctx, ip.ptr[0], fam)],
                                     ip=ip.ip, ptr=ip.ptr[0]))
            if ip.network.asn is not None:
                f.append(ctx.finding("INFRA_NETWORK_OWNER", [_dns_ev(ctx, origin_name(ip.ip), "TXT")], ip=ip.ip,
                                     asn=ip.network.asn, owner=ip.network.owner or "owner unknown",
                                     prefix=ip.network.prefix or "?", country=ip.network.country or "?"))
    return out


def _rdap_client(ctx: Context) -> RdapClient | None:
    if ctx.http is None:
        return None
    cfg = ctx.config
    cache_dir = Path(cfg.rdap_cache_dir) if cfg.rdap_cache_dir else default_cache_dir()
    return RdapClient(ctx.http, base_url=cfg.rdap_bootstrap_url, cache=RdapCache(cache_dir),
                      timeout=cfg.http_timeout)


_URL_HOST = re.compile(r"""https?://([A-Za-z0-9._-]{1,253})[/:?#"'\s<>]""", re.I)
_MAX_SCAN = 2_000_000


def link_domains(ctx: Context) -> list[str]:
    """Host names of http(s) links in the text parts, bounded. (body.links, the links check, runs
    after this one because it reads the registration data.)"""
    msg = ctx.message
    if msg.mime is None:
        return []
    hosts: dict[str, None] = {}
    scanned = 0
    for part in msg.mime.walk():
        if not part.content_type.startswith("text/") or not part.payload:
            continue
        text = part.payload[: _MAX_SCAN - scanned].decode("latin-1")
        scanned += len(text)
        for m in _URL_HOST.finditer(text):
            h = valid_host(m.group(1))
            if h:
                hosts[h] = None
                if len(hosts) >= 200:
                    return list(hosts)
        if scanned >= _MAX_SCAN:
            break
    return list(hosts)


@check("infra.rdap", title="Registration data (RDAP)", needs=("rdap",),
       after=(*_AFTER, "infra.dns"),
       codes=("INFRA_DOMAIN_NEWLY_REGISTERED",))
def infra_rdap(ctx: Context) -> Outcome:
    client = _rdap_client(ctx)
    out = Outcome()
    if client is None:
        out.incomplete.append("registration lookups: no HTTP client")
        return out
    view = view_for(ctx)
    targets: dict[str, list[str]] = {}  # registrable domain -> roles
    asked: dict[str, str] = {}  # host name -> registrable domain
    for dom, roles in view.domains.items():
        org = org_domain(dom)
        if org and any(r in _IDENTITY_ROLES or r == "message-id" for r in roles):
            have = targets.setdefault(org, [])
            have.extend(r for r in roles if r not in have)
            asked[dom] = org
    for dom in (view.link_domains or link_domains(ctx)):
        org = org_domain(dom)
        if org:
            have = targets.setdefault(org, [])
            if "link" not in have:
                have.append("link")
            asked.setdefault(dom, org)
    names = list(targets)[:MAX_RDAP_DOMAINS]
    at = view.delivered
    jobs = [("domain", n) for n in names]
    if view.client is not None and view.client.ip:
        jobs.append(("ip", view.client.ip))
    with ThreadPoolExecutor(max_workers=min(6, max(1, len(jobs)))) as pool:
        futs = [pool.submit(client.domain, n, roles=tuple(targets[n]), at=at) if kind == "domain"
                else pool.submit(client.ip, n, roles=("client",)) for kind, n in jobs]
        records: list[RdapRecord] = [fu.result() for fu in futs]
    by_org = {r.query: r for r in records if r.kind == "domain"}
    domains = dict(by_org)
    for host, org in asked.items():
        if org in by_org:
            domains.setdefault(host, by_org[org])
    out.artifact = Registrations(domains=domains, ips={r.query: r for r in records if r.kind == "ip"})
    failed = [r for r in records if not r.ok and r.error != "not found"]
    if failed:
        out.incomplete.append("registration lookups failed for " + ", ".join(f"{r.query} ({r.error})" for r in failed[:5]))
    if len(targets) > MAX_RDAP_DOMAINS:
        out.incomplete.append(f"registration lookups limited to {MAX_RDAP_DOMAINS} domains of {len(targets)}")
    for r in records:
        identity = [x for x in r.roles if x != "link"]
        # young link domains are the links check's finding (LINK_NEW_DOMAIN); this one is for identities
        if r.kind == "domain" and identity and r.age_days is not None and 0 <= r.age_days < NEW_DOMAIN_DAYS:
            out.findings.append(ctx.finding(
                "INFRA_DOMAIN_NEWLY_REGISTERED",
                [Evidence(kind=EvidenceKind.HTTP, ref=f"RDAP {r.url or r.query}", value=f"registration {r.created}")],
                domain=r.query, days=int(r.age_days), created=(r.created or "")[:10], role=", ".join(identity),
                registrar=r.registrar or "unknown registrar"))
    return out


@check("infra.ownership", title="Who operates the sending domain",
       after=(*_AFTER, "infra.dns", "infra.platform", "infra.rdap"), codes=("INFRA_OWNERSHIP",))
def infra_ownership(ctx: Context) -> Outcome:
    view = view_for(ctx)
    enrichment = ctx.artifact("infra.dns")
    platforms = ctx.artifact("infra.platform")
    rdap = ctx.artifact("infra.rdap")
    records = rdap.records if isinstance(rdap, Registrations) else ()
    own = build_ownership(view, enrichment if isinstance(enrichment, Enrichment) else None,
                          platforms if isinstance(platforms, Platforms) else None, records)
    out = Outcome(artifact=own)
    if own.summary:
        ev = [Evidence(kind=EvidenceKind.COMPUTED, ref="ownership", value=s.text[:300]) for s in own.statements[:6]]
        out.findings.append(ctx.finding("INFRA_OWNERSHIP", ev, summary=own.summary, domain=own.sending_domain,
                                        platform=own.platform or "", signer=own.signer or "",
                                        dns_operator=own.dns_operator or ""))
    return out


@check("infra.abuse", title="Where to report it",
       after=(*_AFTER, "infra.dns", "infra.platform", "infra.rdap", "infra.ownership"))
def infra_abuse(ctx: Context) -> Outcome:
    view = view_for(ctx)
    enrichment = ctx.artifact("infra.dns")
    platforms = ctx.artifact("infra.platform")
    rdap = ctx.artifact("infra.rdap")
    records = rdap.records if isinstance(rdap, Registrations) else ()
    report = abuse_contacts(view, enrichment if isinstance(enrichment, Enrichment) else None,
                            platforms if isinstance(platforms, Platforms) else None, records)
    return Outcome(artifact=report)
