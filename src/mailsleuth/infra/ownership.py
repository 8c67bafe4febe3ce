"""Who operates the sending domain and on whose behalf: the evidence tied together in words.

Inputs are the message view, the DNS enrichment, the platform matches and the registration
records; every statement carries the evidence it rests on. Nothing here knows any brand or
platform by name: names come from the data files and from the message itself.
"""

from __future__ import annotations

from mailsleuth.domains import org_domain, same_org
from mailsleuth.infra.platforms import platform_by_id, platform_for_domain
from mailsleuth.infra.view import MessageView
from mailsleuth.model.infra import (
    AbuseContact,
    AbuseReport,
    DomainInfo,
    Enrichment,
    Ownership,
    PlatformMatch,
    Platforms,
    RdapRecord,
    SignalHit,
    Statement,
)

_KIND_WORDS = {"esp": "sending platform", "mailbox": "mailbox provider", "gateway": "mail security gateway"}


def _mark(hit: SignalHit) -> str:
    """A signal in words: what it is, with the observed value."""
    if hit.kind == "header":
        name = hit.ref.split("[", 1)[0]
        return f"the {name} header"
    if hit.kind == "message_id":
        host = hit.detail.strip().strip("<>").rpartition("@")[2]
        return f"the Message-ID host pattern ({host})"
    if hit.kind == "return_path":
        return f"the bounce address ({hit.detail})"
    if hit.kind == "dkim":
        return f"the signing domain ({hit.detail})"
    if hit.kind == "host":
        return f"the relay host {hit.detail} ({hit.ref})"
    if hit.kind == "ns":
        return f"the name servers ({hit.detail})"
    if hit.kind == "mx":
        return f"the mail exchangers ({hit.detail})"
    if hit.kind == "spf":
        return f"the SPF include {hit.detail}"
    if hit.kind == "asn":
        return f"the network {hit.detail}"
    return hit.detail


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ev(hit: SignalHit) -> str:
    return f"{hit.ref}: {hit.detail}"


def build_ownership(view: MessageView, enrichment: Enrichment | None, platforms: Platforms | None,
                    rdap: tuple[RdapRecord, ...] = ()) -> Ownership:
    stmts: list[Statement] = []
    from_dom = view.from_domain
    from_org = org_domain(from_dom) if from_dom else None
    dinfo: DomainInfo | None = enrichment.domain(from_dom) if enrichment is not None and from_dom else None
    origin: PlatformMatch | None = None
    if platforms is not None and platforms.origin:
        origin = next((m for m in platforms.matches if m.id == platforms.origin and m.role == "origin"), None)

    # 1. who runs the From domain's DNS
    dns_operator = dns_platform = None
    if dinfo is not None and dinfo.ns:
        ops = list(dinfo.ns_operators)
        dns_operator = ops[0] if ops else None
        plat = platform_for_domain("ns", dinfo.ns[0])
        dns_platform = plat.name if plat else None
        own = [o for o in ops if from_org and o == from_org]
        zone = dinfo.ns_zone or from_dom
        if dns_operator and not own:
            text = f"{from_dom} has its DNS at {_join(ops)} (name servers {', '.join(dinfo.ns[:4])})"
            if plat is not None:
                text += (f", the name servers of {plat.name}, a {_KIND_WORDS.get(plat.kind, plat.kind)} run by "
                         f"{plat.operator.rstrip('.')}")
            stmts.append(Statement(text=text + ".", evidence=(f"NS {zone}: {'; '.join(dinfo.ns[:6])}",)))
        elif own:
            stmts.append(Statement(text=f"{from_dom} runs its own DNS (name servers under {from_org}).",
                                   evidence=(f"NS {zone}: {'; '.join(dinfo.ns[:6])}",)))

    # 2. the platform that sent it, by its marks
    platform_name = None
    if origin is not None:
        platform_name = origin.name
        direct = [h for h in origin.signals if h.side != "domain"]
        marks = _join([_mark(h) for h in direct[:4]])
        word = _KIND_WORDS.get(origin.kind, origin.kind)
        is_are = "is" if len(direct) == 1 else "are"
        text = (f"{marks[0].upper() + marks[1:]} {is_are} {origin.name}'s marks: sent through {origin.name} "
                f"({word}, operated by {origin.operator}; confidence {origin.confidence:.0%}).")
        if dns_platform and dns_platform == origin.name:
            text = (f"{marks[0].upper() + marks[1:]} {is_are} that platform's marks: sent through {origin.name} "
                    f"({word}, operated by {origin.operator}; confidence {origin.confidence:.0%}).")
        stmts.append(Statement(text=text, evidence=tuple(_ev(h) for h in origin.signals[:8])))
    if platforms is not None:
        for m in platforms.matches:
            if m.role == "origin" and origin is not None and m.id != origin.id:
                stmts.append(Statement(
                    text=f"It also carries marks of {m.name} ({_KIND_WORDS.get(m.kind, m.kind)}, confidence "
                         f"{m.confidence:.0%}): one platform often delivers through another.",
                    evidence=tuple(_ev(h) for h in m.signals[:4])))
            if m.role == "relay":
                stmts.append(Statement(
                    text=f"{m.name} ({_KIND_WORDS.get(m.kind, m.kind)}) handled it on the way, but did not originate it.",
                    evidence=tuple(_ev(h) for h in m.signals[:4])))

    # 3. who signed it, and what that says about on whose behalf it was sent
    signer = view.dkim_domains[0] if view.dkim_domains else None
    signer_org = org_domain(signer) if signer else None
    on_behalf = None
    if view.dkim_domains:
        parts = []
        signer_platform = None
        for i, d in enumerate(view.dkim_domains[:3]):
            plat = platform_for_domain("dkim", d)
            if i == 0:
                signer_platform = plat  # d is the signer
            if plat is not None:
                parts.append(f"{d} (the platform {plat.name}'s own signing domain)")
            elif from_dom and same_org(d, from_dom):
                parts.append(f"{d} (the sender's own organisation)")
            else:
                parts.append(f"{d} (organisation {org_domain(d) or d})")
                if on_behalf is None:
                    on_behalf = org_domain(d) or d
        stmts.append(Statement(text=f"The signature is by {_join(parts)}.",
                               evidence=tuple(f"DKIM-Signature d={d}" for d in view.dkim_domains[:3])))
        signer_is_platform = signer_platform is not None
        if on_behalf is None and from_org and not signer_is_platform and signer_org == from_org:
            on_behalf = from_org
    # 4. bounces
    rp = view.return_path_domain
    if rp:
        plat = platform_for_domain("return_path", rp)
        if plat is not None:
            stmts.append(Statement(text=f"Bounces go to {rp}, a domain of {plat.name}.", evidence=(f"Return-Path: {rp}",)))
        elif from_dom and same_org(rp, from_dom):
            stmts.append(Statement(text=f"Bounces go to {rp}, within the sender's own organisation.",
                                   evidence=(f"Return-Path: {rp}",)))
        else:
            stmts.append(Statement(text=f"Bounces go to {rp} (organisation {org_domain(rp) or rp}), not the From domain's organisation.",
                                   evidence=(f"Return-Path: {rp}",)))
    # 5. the sending host and its network
    network_owner = None
    if enrichment is not None and view.client is not None and view.client.ip:
        ip = enrichment.ip(view.client.ip)
        if ip is not None:
            bits = [f"The sending host {ip.ip}"]
            if ip.ptr:
                bits.append(f"({ip.ptr[0]}{', forward-confirmed' if ip.fcrdns else ''})")
            if ip.network.asn is not None:
                network_owner = ip.network.owner or f"AS{ip.network.asn}"
                bits.append(f"is in AS{ip.network.asn}" + (f" ({ip.network.owner})" if ip.network.owner else ""))
            else:
                why = "not in the DNS snapshot" if ip.network.status == "UNKNOWN" else ip.network.status
                bits.append(f"has an unknown network owner (origin AS lookup: {why})")
            ev = [f"PTR {ip.ip}: {'; '.join(ip.ptr) or ip.ptr_status}"]
            if ip.network.asn is not None:
                ev.append(f"origin AS of {ip.ip}: AS{ip.network.asn} {ip.network.prefix or ''}".strip())
            stmts.append(Statement(text=" ".join(bits) + ".", evidence=tuple(ev)))
    # 6. who the domain authorises, and where its mail goes
    if dinfo is not None and dinfo.spf.includes:
        named = []
        for inc in dinfo.spf.includes[:8]:
            plat = platform_for_domain("spf", inc)
            named.append(f"{inc} ({plat.name})" if plat else inc)
        stmts.append(Statement(text=f"{from_dom}'s SPF record authorises {_join(named)} to send for it.",
                               evidence=(f"TXT {from_dom}: {dinfo.spf.record or ''}"[:300],)))
    if dinfo is not None and dinfo.mx:
        hosts = [m.split()[-1].rstrip(".") for m in dinfo.mx[:4]]
        plat = platform_for_domain("mx", hosts[0]) if hosts else None
        text = f"Mail to {from_dom} is received by {', '.join(hosts)}"
        stmts.append(Statement(text=text + (f" ({plat.name})." if plat else "."),
                               evidence=(f"MX {from_dom}: {'; '.join(dinfo.mx[:4])}",)))
    # 7. registration
    registrant = None
    for rec in rdap:
        if rec.kind == "domain" and rec.ok and from_org and rec.query == from_org:
            registrant = rec.registrant_org
            bits = [f"{rec.query} is registered"]
            if rec.registrar:
                bits.append(f"through {rec.registrar}")
            if rec.created:
                bits.append(f"since {rec.created[:10]}")
            if rec.registrant_org:
                bits.append(f"to {rec.registrant_org}")
            stmts.append(Statement(text=" ".join(bits) + ".", evidence=(f"RDAP {rec.url or rec.query}",)))

    # summary
    summary_bits = []
    if from_dom:
        if origin is not None:
            s = f"{from_dom} mail is sent through {origin.name}"
            if dns_operator and dns_platform == origin.name:
                s += f", which also runs {from_dom}'s DNS"
            summary_bits.append(s)
        elif dns_operator and dns_operator != from_org:
            summary_bits.append(f"{from_dom}'s DNS is run by {dns_operator}" + (f" ({dns_platform})" if dns_platform else ""))
        if on_behalf and not (from_org and on_behalf == from_org and origin is None):
            summary_bits.append(f"on behalf of {on_behalf} (the signer)")
        elif on_behalf:
            summary_bits.append(f"signed by its own organisation {on_behalf}")
    summary = "; ".join(summary_bits) + ("." if summary_bits else "")
    return Ownership(sending_domain=from_dom, dns_operator=dns_operator, dns_operator_platform=dns_platform,
                     platform=platform_name, signer=signer, signer_org=signer_org, on_behalf_of=on_behalf,
                     network_owner=network_owner, registrant=registrant, statements=tuple(stmts), summary=summary)


def abuse_contacts(view: MessageView, enrichment: Enrichment | None, platforms: Platforms | None,
                   rdap: tuple[RdapRecord, ...] = ()) -> AbuseReport:
    contacts: list[AbuseContact] = []
    seen: set[str] = set()

    def add(c: AbuseContact) -> None:
        if c.contact and c.contact.lower() not in seen:
            seen.add(c.contact.lower())
            contacts.append(c)

    if platforms is not None:
        for m in platforms.matches:
            if m.role != "origin":
                continue
            p = platform_by_id(m.id)
            for a in (p.abuse if p else m.abuse)[:3]:
                add(AbuseContact(party="platform", name=f"{m.name} ({m.operator})", contact=a,
                                 source=f"data/platforms/{m.id}.toml", about="the platform that sent it"))
    client_ip = view.client.ip if view.client is not None else None
    for rec in rdap:
        if rec.kind == "ip" and rec.ok and rec.abuse_email:
            add(AbuseContact(party="network", name=rec.network_name or rec.handle or rec.query,
                             contact=rec.abuse_email, source=f"RDAP {rec.url or rec.query}",
                             about=f"the network of {rec.query}"))
    for rec in rdap:
        if rec.kind == "domain" and rec.ok and rec.abuse_email:
            add(AbuseContact(party="registrar", name=rec.registrar or "registrar", contact=rec.abuse_email,
                             source=f"RDAP {rec.url or rec.query}", about=f"the registration of {rec.query}"))
    note = ""
    if not any(c.party == "network" for c in contacts) and client_ip:
        owner = None
        if enrichment is not None:
            ip = enrichment.ip(client_ip)
            if ip is not None and ip.network.asn is not None:
                owner = f"AS{ip.network.asn}" + (f" ({ip.network.owner})" if ip.network.owner else "")
        note = (f"The network owner of {client_ip}" + (f", {owner}," if owner else "")
                + " has no abuse contact here: registration lookups (RDAP) were not run or gave none.")
    return AbuseReport(contacts=tuple(contacts), note=note)
