"""Links in the body (``body.links``) and the opt-in following of their redirects (``body.follow``).

Every text part is decoded once; HTML is read with the bounded scanner of mailsleuth.parse.links.
The artifact (mailsleuth.model.body.LinksArtifact) is read by the brand and infrastructure checks.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from mailsleuth.body.data import hosting_for, shortener_domains, trackers_file
from mailsleuth.body.wrappers import unwrap
from mailsleuth.domains import has_known_suffix, is_ip, normalize, org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.body import FollowArtifact, Form, HtmlSummary, Link, LinksArtifact
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.message import MimePart
from mailsleuth.parse.links import RawLink, links_from_calendar, links_from_text, scan_html, split_host

_SKIP_SCHEMES = ("cid:", "mid:", "#", "about:")
_SHOWN_DOMAIN = re.compile(
    r"(?i)(?:^|[\s(<\[\"'])(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,63})(?=$|[\s/:)>\]\"',;!?])")
_NAVIGATION_TAGS = frozenset({"a", "area", "form", "meta", "text", "calendar", "html", "button", "input", "iframe",
                              "frame", "base"})
_MAX_FOLLOW = 10
_FOLLOW_BUDGET_S = 40.0


def _ev(link: Link) -> Evidence:
    return Evidence(kind=EvidenceKind.URL, ref=link.where, value=link.url[:500])


def is_attachment(part: MimePart) -> bool:
    return part.disposition == "attachment" or bool(part.filename)


def _text_parts(root: MimePart) -> list[tuple[MimePart, str]]:
    """(part, kind) for parts whose links we read: html, text, calendar."""
    out: list[tuple[MimePart, str]] = []
    for part in root.walk():
        if part.children or part.is_multipart:
            continue
        ct = part.content_type
        name = (part.filename or "").lower()
        if ct == "text/html" or name.endswith((".htm", ".html", ".xhtml", ".shtml")):
            out.append((part, "html"))
        elif ct == "text/calendar" or name.endswith(".ics"):
            out.append((part, "calendar"))
        elif (ct == "text/plain" and not is_attachment(part)) or (ct in ("text/enriched", "text/richtext") and not is_attachment(part)):
            out.append((part, "text"))
    return out


def _host_of(url: str) -> tuple[str, str]:
    """(scheme, host) of a URL; host '' when there is none or the URL is malformed."""
    if url[:2] == "//":
        url = "https:" + url
    return split_host(url)


def _is_ip(host: str) -> bool:
    return (host[:1].isdigit() or ":" in host) and (is_ip(host) or integer_ip(host) is not None)


def integer_ip(host: str) -> str | None:
    """The dotted IPv4 address a browser reads in a host written as one number or in octal/hex
    parts ('3232235777', '0xc0a80101', '0300.0250.1.1'), else None."""
    if not host or len(host) > 40 or ":" in host:
        return None
    parts = host.split(".")
    if len(parts) > 4:
        return None
    nums: list[int] = []
    for p in parts:
        try:
            if p[:2].lower() == "0x":
                nums.append(int(p[2:] or "0", 16))
            elif len(p) > 1 and p.startswith("0"):
                nums.append(int(p, 8))
            else:
                nums.append(int(p, 10))
        except ValueError:
            return None
    if len(parts) == 4 and all(p.isdigit() and not (len(p) > 1 and p.startswith("0")) for p in parts):
        return None  # a plain dotted quad is an ordinary IP literal
    value = 0
    for i, n in enumerate(nums):
        width = 8 if i < len(nums) - 1 else 8 * (4 - i)
        if n >= 1 << width:
            return None
        value = (value << width) | n
    if value >= 1 << 32:
        return None
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def sender_orgs(ctx: Context) -> frozenset[str]:
    """Registrable domains the sender speaks for: From, Sender, Return-Path, DKIM d=."""
    msg = ctx.message
    out: set[str] = set()
    for name in ("From", "Sender", "Return-Path"):
        for m in _ADDR_DOMAIN.finditer(msg.value(name)[:1000]):
            d = org_domain(m.group(1))
            if d:
                out.add(d)
    for h in msg.get_all("DKIM-Signature")[:10]:
        dm = _DKIM_D.search(h.value[:4000])
        if dm:
            d = org_domain(dm.group(1))
            if d:
                out.add(d)
    return frozenset(out)


_ADDR_DOMAIN = re.compile(r"@([A-Za-z0-9.-]{1,253})")
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([A-Za-z0-9.-]{1,253})")
_TOKEN = re.compile(r"[A-Za-z0-9_~=%.-]{16,}")


def is_click_tracker(link: Link) -> bool:
    data = trackers_file()
    labels = link.host.split(".")[:-2]
    if not any(lab in data["labels"] or lab.rstrip("0123456789") in data["labels"] or
               (lab[:1] == "u" and lab[1:].isdigit()) for lab in labels):
        return False
    rest = link.url.split(link.host, 1)[-1]
    return bool(_TOKEN.search(rest[:2000]))


@lru_cache(maxsize=16384)
def _domain(host: str) -> str | None:
    if not host or _is_ip(host):
        return None
    return org_domain(host)


@lru_cache(maxsize=8192)
def url_facts(url: str) -> tuple[str, str, str | None, str | None, str | None, str | None, str | None] | None:
    """(scheme, host, domain, unwrapped, wrapper, note, kind) for a URL as written, or None for
    URLs that are not links (cid:, anchors). Pure, so cached: mail repeats the same URLs."""
    if url.startswith("//"):
        url = "https:" + url
    scheme, host = _host_of(url)
    if not scheme and not host:
        return None
    unwrapped = wrapper = note = kind = None
    if scheme in ("http", "https"):
        got = unwrap(url, host)
        if got is not None:
            unwrapped, wrapper, note, kind = got.target, got.wrapper, got.note, got.kind
    return scheme, host, _domain(host), unwrapped, wrapper, note, kind


_new_link = factory(Link)  # a link per URL of the body: the cheaper way to build them


def build_link(raw: RawLink, part: str) -> Link | None:
    url = raw.url.strip()
    if not url or url[:6].lower().startswith(_SKIP_SCHEMES):
        return None
    facts = url_facts(url)
    if facts is None:
        return None
    if url.startswith("//"):
        url = "https:" + url
    scheme, host, domain, unwrapped, wrapper, note, kind = facts
    tag = raw.tag
    where = f"part {part or 'body'} <{tag} {raw.attr}>" if tag != "text" and tag != "calendar" else \
        f"part {part or 'body'} {tag}"
    return _new_link(url=url, host=host, domain=domain, where=where, text=raw.text, unwrapped=unwrapped,
                     scheme=scheme, part=part, tag=tag, attr=raw.attr, wrapper=wrapper, wrapper_note=note,
                     wrapper_kind=kind, defanged=raw.defanged)


def _form(raw_action: str, method: str, part: str, password_fields: int, inputs: list[str]) -> Form:
    scheme, host = _host_of(raw_action) if raw_action else ("", "")
    target = host if scheme in ("http", "https") else None
    return Form(part=part, action=raw_action, method=method, target_host=target, password_fields=password_fields,
                inputs=tuple(inputs[:20]))


def collect(ctx: Context) -> tuple[LinksArtifact, list[str]]:
    """Read every text part once and build the artifact; also returns parts cut short."""
    msg = ctx.message
    max_links = ctx.config.limits.max_links
    links: list[Link] = []
    forms: list[Form] = []
    html: dict[str, HtmlSummary] = {}
    dropped = 0
    truncated: list[str] = []
    counts: Counter[str] = Counter()
    if msg.mime is None:
        return LinksArtifact(links=()), truncated
    for part, kind in _text_parts(msg.mime):
        room = max_links - len(links)
        text = part.text()
        raws: list[RawLink]
        if kind == "html":
            scan = scan_html(text, max_links=max(room, 0))
            raws = scan.links
            dropped += scan.dropped
            if scan.truncated:
                truncated.append(f"{part.path or 'body'}:{len(text)}")
            pform = [_form(f.action, f.method, part.path, f.password_fields, f.inputs) for f in scan.forms[:50]]
            forms.extend(pform)
            html[part.path] = HtmlSummary(part=part.path, forms=tuple(pform), scripts=scan.scripts,
                                          password_fields=scan.password_fields, remote_images=scan.remote_images,
                                          tracking_pixels=scan.tracking_pixels, meta_refresh=scan.meta_refresh,
                                          base_href=scan.base_href, truncated=scan.truncated)
            counts["remote_images"] += scan.remote_images
            counts["tracking_pixels"] += scan.tracking_pixels
        elif kind == "calendar":
            raws, more = links_from_calendar(text, max_links=max(room, 0))
            dropped += more
        else:
            raws, more = links_from_text(text, max_links=max(room, 0))
            dropped += more
        before = len(links)
        for raw in raws:
            link = build_link(raw, part.path)
            if link is not None:
                links.append(link)
        if len(links) > before:
            counts[f"from_{kind}"] += len(links) - before
    counts["total"] = len(links)
    counts["dropped"] = dropped
    counts["forms"] = len(forms)
    domains = list(dict.fromkeys(d for d in ((lk.domain if lk.unwrapped is None else _domain(_host_of(lk.unwrapped)[1]))
                                             for lk in links) if d))
    counts["domains"] = len(domains)
    return LinksArtifact(links=tuple(links), forms=tuple(forms), counts=dict(counts), domains=tuple(domains[:500]),
                         html=html), truncated


def shown_domain(text: str) -> str | None:
    """The registrable domain that link text displays, when it displays one."""
    if "." not in text:
        return None
    m = _SHOWN_DOMAIN.search(text[:300])
    if not m:
        return None
    name = m.group(1).lower()
    if not has_known_suffix(name):
        return None
    return org_domain(name)


def _registration_age(rdap: Any, domain: str, today: date) -> int | None:
    """Days since ``domain`` was registered, read defensively from the RDAP artifact (its shape
    belongs to the infrastructure check: a mapping or object with per-domain records)."""
    if rdap is None:
        return None
    table = rdap.get("domains") if isinstance(rdap, dict) else getattr(rdap, "domains", None)
    if table is None and isinstance(rdap, dict):
        table = rdap
    rec = None
    if isinstance(table, dict):
        rec = table.get(domain)
    elif isinstance(table, list | tuple):
        rec = next((r for r in table if (r.get("domain") if isinstance(r, dict) else getattr(r, "domain", None))
                    == domain), None)
    if rec is None:
        return None
    for key in ("age_days",):
        v = rec.get(key) if isinstance(rec, dict) else getattr(rec, key, None)
        if isinstance(v, int | float):
            return int(v)
    for key in ("registered", "registration", "created", "creation_date", "registration_date"):
        v = rec.get(key) if isinstance(rec, dict) else getattr(rec, key, None)
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(v, datetime):
            v = v.date()
        if isinstance(v, date):
            return (today - v).days
    return None


@check("body.links", title="Links", needs=("body",), after=("infra.rdap",),
       codes=("LINK_TEXT_DOMAIN_MISMATCH", "LINK_IP_LITERAL", "LINK_PUNYCODE", "LINK_SHORTENER", "LINK_SCRIPT_URL",
              "LINK_FORM_EXTERNAL", "LINK_PASSWORD_FIELD", "LINK_META_REFRESH", "LINK_REMOTE_IMAGES",
              "LINK_TRACKING_PIXEL", "LINK_NEW_DOMAIN", "LINK_WRAPPED", "LINK_WRAPPER_OPAQUE", "LINK_DEFANGED",
              "BODY_LINK_LIMIT", "BODY_HTML_TRUNCATED", "LINK_FREE_HOSTING", "LINK_OPEN_REDIRECT"))
def body_links(ctx: Context) -> Outcome:
    art, truncated = collect(ctx)
    out = Outcome(artifact=art)
    f = out.findings
    seen_mismatch: set[tuple[str, str]] = set()
    seen_host: set[tuple[str, str]] = set()
    shorteners = shortener_domains()
    senders = sender_orgs(ctx)
    hosted: dict[str, Link] = {}
    redirectors: dict[str, Link] = {}
    wrapped: Counter[str] = Counter()
    opaque: Counter[str] = Counter()
    defanged = 0
    for link in art.links:
        if link.wrapper:
            (opaque if link.unwrapped is None else wrapped)[link.wrapper] += 1
        defanged += link.defanged
        if link.unwrapped is None:
            tscheme, thost, tdomain = link.scheme, link.host, link.domain
        else:
            tscheme, thost = _host_of(link.unwrapped)
            tdomain = _domain(thost)
        if link.scheme == "javascript" and ("js", "") not in seen_host:
            seen_host.add(("js", ""))
            f.append(ctx.finding("LINK_SCRIPT_URL", [_ev(link)], scheme="javascript"))
        elif link.scheme == "data" and link.tag not in ("img", "style", "div", "td", "table", "body", "source") and \
                ("data", "") not in seen_host:
            seen_host.add(("data", ""))
            f.append(ctx.finding("LINK_SCRIPT_URL", [_ev(link)], scheme="data"))
        if tscheme not in ("http", "https", "ftp") or not thost:
            continue
        if link.wrapper_kind == "open-redirect" and link.wrapper not in redirectors:
            redirectors[link.wrapper or ""] = link
        if link.tag in _NAVIGATION_TAGS and len(hosted) < 5:
            svc = hosting_for(thost)
            if svc and thost not in hosted:
                hosted[thost] = link
        if link.text and link.tag in ("a", "area") and len(seen_mismatch) < 5:
            shown = shown_domain(link.text)
            if shown and link.domain != shown and tdomain != shown and shown not in shorteners and \
                    not (link.wrapper and link.unwrapped is None) and \
                    not (tdomain in senders or (link.unwrapped is None and is_click_tracker(link))):
                key = (shown, tdomain or thost)
                if key not in seen_mismatch:
                    seen_mismatch.add(key)
                    f.append(ctx.finding("LINK_TEXT_DOMAIN_MISMATCH",
                                         [_ev(link), Evidence(kind=EvidenceKind.BODY, ref=link.where,
                                                              value=link.text[:200])],
                                         shown=shown, actual=tdomain or thost, url=link.target[:300]))
        if _is_ip(thost) and ("ip", thost) not in seen_host and len(seen_host) < 40:
            seen_host.add(("ip", thost))
            dotted = integer_ip(thost)
            f.append(ctx.finding("LINK_IP_LITERAL", [_ev(link)], host=f"{thost} = {dotted}" if dotted else thost,
                                 obfuscated=bool(dotted)))
        elif "xn--" in thost and ("puny", thost) not in seen_host and len(seen_host) < 40:
            seen_host.add(("puny", thost))
            f.append(ctx.finding("LINK_PUNYCODE", [_ev(link)], host=thost, unicode=normalize(thost)))
        elif not thost.isascii() and ("puny", thost) not in seen_host and len(seen_host) < 40:
            seen_host.add(("puny", thost))
            f.append(ctx.finding("LINK_PUNYCODE", [_ev(link)], host=thost, unicode=thost))
        if tdomain in shorteners and ("short", tdomain) not in seen_host and len(seen_host) < 40:
            seen_host.add(("short", tdomain))
            f.append(ctx.finding("LINK_SHORTENER", [_ev(link)], domain=tdomain))
    for form in art.forms:
        html = art.html.get(form.part)
        attached = bool(html) and _part_is_attachment(ctx, form.part)
        if form.target_host and not attached and ("form", form.target_host) not in seen_host:
            seen_host.add(("form", form.target_host))
            f.append(ctx.finding("LINK_FORM_EXTERNAL", [Evidence(kind=EvidenceKind.URL,
                                                                 ref=f"part {form.part or 'body'} <form action>",
                                                                 value=form.action[:500])],
                                 host=form.target_host, domain=_domain(form.target_host), method=form.method))
    pw = sum(h.password_fields for h in art.html.values())
    if pw:
        parts = [p for p, h in art.html.items() if h.password_fields]
        f.append(ctx.finding("LINK_PASSWORD_FIELD", [Evidence(kind=EvidenceKind.BODY, ref=f"part {p or 'body'}",
                                                              value="<input type=password>") for p in parts[:5]],
                             count=pw))
    for p, h in art.html.items():
        if h.meta_refresh:
            f.append(ctx.finding("LINK_META_REFRESH", [Evidence(kind=EvidenceKind.URL, ref=f"part {p or 'body'} <meta refresh>",
                                                                value=h.meta_refresh[:500])], url=h.meta_refresh[:200]))
            break
    if art.counts.get("remote_images"):
        f.append(ctx.finding("LINK_REMOTE_IMAGES", count=art.counts["remote_images"]))
    if art.counts.get("tracking_pixels"):
        f.append(ctx.finding("LINK_TRACKING_PIXEL", count=art.counts["tracking_pixels"]))
    for host, link in hosted.items():
        f.append(ctx.finding("LINK_FREE_HOSTING", [_ev(link)], host=host, service=hosting_for(host)))
    for wrapper, link in redirectors.items():
        f.append(ctx.finding("LINK_OPEN_REDIRECT", [_ev(link)], wrapper=wrapper,
                             target=(link.unwrapped or "")[:200]))
    if wrapped:
        f.append(ctx.finding("LINK_WRAPPED", [Evidence(kind=EvidenceKind.COMPUTED, ref=w, value=str(n))
                                              for w, n in wrapped.items()],
                             count=sum(wrapped.values()), wrappers=", ".join(sorted(wrapped))))
    for w, n in opaque.items():
        note = next((lk.wrapper_note for lk in art.links if lk.wrapper == w and lk.wrapper_note), "")
        f.append(ctx.finding("LINK_WRAPPER_OPAQUE", [Evidence(kind=EvidenceKind.COMPUTED, ref=w, value=note or "")],
                             count=n, wrapper=w))
    if defanged:
        f.append(ctx.finding("LINK_DEFANGED", count=defanged))
    if art.counts.get("dropped"):
        f.append(ctx.finding("BODY_LINK_LIMIT", [Evidence(kind=EvidenceKind.COMPUTED, ref="links",
                                                          value=f"{art.counts['total']} examined")],
                             limit=ctx.config.limits.max_links))
    for t in truncated[:3]:
        path, _, size = t.rpartition(":")
        f.append(ctx.finding("BODY_HTML_TRUNCATED", [Evidence(kind=EvidenceKind.BODY, ref=f"part {path}", value=size)],
                             size=size))
    rdap = ctx.artifact("infra.rdap")
    if rdap is not None:
        today = ctx.clock().date()
        for domain in art.domains[:50]:
            try:
                age = _registration_age(rdap, domain, today)
            except Exception:
                age = None
            if age is not None and 0 <= age <= 30:
                f.append(ctx.finding("LINK_NEW_DOMAIN", [Evidence(kind=EvidenceKind.COMPUTED, ref="registration",
                                                                  value=f"{domain}: {age} days")],
                                     domain=domain, days=age))
    return out


def _part_is_attachment(ctx: Context, path: str) -> bool:
    if ctx.message.mime is None:
        return False
    for part in ctx.message.mime.walk():
        if part.path == path:
            return is_attachment(part)
    return False


@check("body.follow", title="Where the links lead (followed)", needs=("follow_links",), depends=("body.links",),
       codes=("LINK_FOLLOWED", "LINK_FOLLOW_REFUSED", "LINK_FOLLOW_FAILED"))
def body_follow(ctx: Context) -> Outcome:
    from mailsleuth.body.follow import follow

    art: LinksArtifact | None = ctx.artifact("body.links")
    out = Outcome()
    http = ctx.http
    if art is None or http is None:
        return out
    if not hasattr(http, "request_pinned"):
        out.incomplete.append("the HTTP client cannot connect to a vetted address, so links were not followed")
        return out
    todo: dict[str, str] = {}
    for link in art.links:
        if link.tag not in _NAVIGATION_TAGS:
            continue
        target = link.target
        if not target.lower().startswith(("http://", "https://")):
            continue
        todo.setdefault(target, link.url)
    if getattr(ctx.resolver, "mode", "") == "off":
        named = [t for t in todo if not _is_ip(_host_of(t)[1])]
        if named:
            out.incomplete.append(f"DNS is off: {len(named)} link(s) to named hosts could not be resolved and vetted, "
                                  "so they were not followed")
        todo = {t: o for t, o in todo.items() if t not in set(named)}
    if len(todo) > _MAX_FOLLOW:
        out.incomplete.append(f"only the first {_MAX_FOLLOW} of {len(todo)} distinct links were followed")
    chains = []
    final_urls: dict[str, str] = {}
    deadline = time.monotonic() + _FOLLOW_BUDGET_S
    timeout = min(ctx.config.http_timeout, 10.0)
    for target, original in list(todo.items())[:_MAX_FOLLOW]:
        chain = follow(target, http=http, resolver=ctx.resolver,  # type: ignore[arg-type]
                       allow_loopback=ctx.config.follow_allow_loopback, timeout=timeout, deadline=deadline)
        chains.append(chain)
        ev = [Evidence(kind=EvidenceKind.HTTP, ref=f"hop {i}",
                       value=f"{h.method or '-'} {h.url[:300]} -> {h.status or h.error} ({h.ip or 'no address'})"
                       + (f" Location: {h.location[:300]}" if h.location else ""))
              for i, h in enumerate(chain.hops, 1)]
        if chain.outcome == "ok" and chain.final:
            final_urls[original] = chain.final
            if target != original:
                final_urls.setdefault(target, chain.final)
            out.findings.append(ctx.finding("LINK_FOLLOWED", ev, start=target[:200], final=chain.final[:200],
                                            hops=len(chain.hops)))
        elif chain.outcome == "refused":
            reason = (chain.hops[-1].error or "").removeprefix("refused: ")
            out.findings.append(ctx.finding("LINK_FOLLOW_REFUSED", ev, url=chain.hops[-1].url[:200], reason=reason))
            if chain.hops[:-1]:
                final_urls[original] = chain.hops[-1].url
        else:
            reason = chain.outcome if not chain.hops or not chain.hops[-1].error else chain.hops[-1].error
            out.findings.append(ctx.finding("LINK_FOLLOW_FAILED", ev, url=target[:200], reason=reason))
            if chain.final:
                final_urls[original] = chain.final
    out.artifact = FollowArtifact(chains=tuple(chains), final_urls=final_urls)
    return out
