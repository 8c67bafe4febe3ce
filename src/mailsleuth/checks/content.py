"""What the message wants and how its sender presents itself (``content.lures``).

Authentication proves only that the From domain is genuine; phishers authenticate their own throwaway
domains. This check reads the Subject, the From display name and the decoded body text (text/plain
and HTML without tags, first 64 KB) for lure phrases by category (data/content/lures.toml), styled
Unicode and emoji used to evade filters, the recipient's address in the Subject, and sender hygiene:
a domain in the display name, random-looking names, abused TLDs, free hosting platforms, and
organisation-sounding names on free mailboxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailsleuth.body.data import hosting_for
from mailsleuth.content.lexicon import abused_suffix, fold, lures, org_words
from mailsleuth.content.signals import (
    body_text,
    emoji_count,
    freemail,
    mixed_script_words,
    random_looking,
    styled_chars,
)
from mailsleuth.domains import has_known_suffix, org_domain
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.parse.addresses import message_addresses

CODES = (
    "CONTENT_LURE_CREDENTIAL", "CONTENT_LURE_PAYMENT", "CONTENT_LURE_DELIVERY", "CONTENT_LURE_PRIZE",
    "CONTENT_LURE_CRYPTO", "CONTENT_LURE_ADVANCE_FEE", "CONTENT_SPAM_CASINO", "CONTENT_SPAM_PHARMA",
    "CONTENT_SPAM_WEIGHT_LOSS", "CONTENT_SPAM_ADULT", "CONTENT_SPAM_LOANS",
    "CONTENT_STYLED_UNICODE", "CONTENT_EMOJI_HEAVY", "CONTENT_RECIPIENT_IN_SUBJECT",
    "SENDER_DISPLAY_NAME_DOMAIN", "SENDER_RANDOM_NAME", "SENDER_ABUSED_TLD", "SENDER_FREE_HOSTING",
    "SENDER_FREEMAIL_ORG_NAME",
)
EMOJI_MIN = 3  # emoji in Subject + display name before it counts as emoji-heavy
STYLED_MIN = 2
_EMAIL = re.compile(r"[^\s<>\"'(),;:@]{1,64}@[^\s<>\"'(),;:@]{1,253}")
_DOMAIN = re.compile(
    r"(?i)(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,63})(?![a-z0-9.-]*@)")


@dataclass(frozen=True, slots=True, kw_only=True)
class LureHit:
    category: str
    code: str
    phrases: tuple[str, ...]
    where: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentReport:
    lures: tuple[LureHit, ...] = ()
    body_chars: int = 0
    body_truncated: bool = False
    styled: tuple[str, ...] = ()
    mixed_script: tuple[str, ...] = ()
    emoji: int = 0
    sender_notes: tuple[str, ...] = ()


def _hdr(ref: str, value: str) -> Evidence:
    return Evidence(kind=EvidenceKind.HEADER, ref=ref, value=" ".join(value.split())[:300])


def _recipients(ctx: Context) -> list[str]:
    out: list[str] = []
    for name in ("To", "Delivered-To", "X-Original-To"):
        for h in ctx.message.get_all(name)[:5]:
            for a in message_addresses(ctx.message, h.value)[:20]:
                if a.addr and "@" in a.addr and a.addr.lower() not in out:
                    out.append(a.addr.lower())
    return out[:20]


def _recipient_shown(addr: str, subject: str, display: str) -> tuple[str, str] | None:
    """(where, shown) when the recipient address, or a handle-like local part (with a digit or a
    separator, so a bare first name does not count), appears in the Subject or display name."""
    local = addr.rpartition("@")[0]
    handle = len(local) >= 3 and bool(re.search(r"[0-9._-]", local)) and bool(re.search(r"[a-z]", local))
    for where, text in (("Subject", subject), ("From display name", display)):
        low = text.lower()
        if addr in low:
            return where, addr
        if handle:
            for m in re.finditer(re.escape(local), low):
                before = low[m.start() - 1] if m.start() else " "
                after = low[m.end()] if m.end() < len(low) else " "
                if not (before.isalnum() or after.isalnum() or after == "@"):
                    return where, local
    return None


def _name_like(written: str, dom: str) -> bool:
    """'R.Hughes', 'J.Smith': an initial and a surname that happens to be a long generic TLD."""
    labels = dom.split(".")
    return (len(labels) == 2 and len(labels[0]) == 1 and len(labels[1]) > 4
            and not written.lower().startswith(("http", "www.")))


def _is_list_mail(ctx: Context) -> bool:
    return any(ctx.message.get(n) is not None for n in ("List-Id", "List-Post", "Mailing-List"))


@check("content.lures", title="Lures and sender presentation", codes=CODES,
       after=("identity.alignment", "body.links", "brand.impersonation", "received.chain"))
def content_lures(ctx: Context) -> Outcome:
    msg = ctx.message
    out = Outcome()
    subject_h = msg.get("Subject")
    subject = (subject_h.value if subject_h else "")[:2000]
    from_h = msg.get("From")
    addrs = message_addresses(msg, from_h.value) if from_h else ()
    sender = addrs[0] if addrs else None
    display = (sender.display_name if sender else "")[:500]
    from_domain = (sender.domain if sender else "") or ""
    body, cut = body_text(msg)

    # 1. lure phrases, once per category, with the places they were seen.
    lex = lures()
    found: dict[str, tuple[list[str], list[str]]] = {}
    for where, text in (("Subject", subject), ("From display name", display), ("body", body)):
        if not text:
            continue
        for cat, phrases in lex.match(fold(text)).items():
            ph, wh = found.setdefault(cat, ([], []))
            ph.extend(p for p in phrases if p not in ph)
            wh.append(where)
    hits: list[LureHit] = []
    by_id = {c.id: c for c in lex.categories}
    for cat_id, (ph, wh) in found.items():
        lc = by_id[cat_id]
        hits.append(LureHit(category=cat_id, code=lc.code, phrases=tuple(ph[:8]), where=tuple(wh)))
        ev = []
        if "Subject" in wh and subject_h is not None:
            ev.append(_hdr(subject_h.ref, subject))
        if "From display name" in wh and from_h is not None:
            ev.append(_hdr(from_h.ref, from_h.value))
        if "body" in wh:
            ev.append(Evidence(kind=EvidenceKind.BODY, ref="body text", value="; ".join(ph[:8])[:300]))
        out.findings.append(ctx.finding(lc.code, ev, category=lc.description, phrases=", ".join(ph[:8]),
                                        where=", ".join(wh)))

    # 2. styled Unicode and emoji in the Subject or display name.
    shown = f"{subject}\n{display}"
    styled = styled_chars(shown)
    mixed = mixed_script_words(shown)
    if len(styled) >= STYLED_MIN or mixed:
        ev = [_hdr(h.ref, h.value) for h in (subject_h, from_h) if h is not None]
        what = []
        if styled:
            what.append(f"{len(styled)} styled letter(s) ({''.join(styled[:12])})")
        if mixed:
            what.append("words mixing Latin with Cyrillic/Greek letters: " + ", ".join(mixed))
        out.findings.append(ctx.finding("CONTENT_STYLED_UNICODE", ev, what="; ".join(what)))
    emoji = emoji_count(shown)
    if emoji >= EMOJI_MIN:
        ev = [_hdr(h.ref, h.value) for h in (subject_h, from_h) if h is not None]
        out.findings.append(ctx.finding("CONTENT_EMOJI_HEAVY", ev, count=emoji))

    # 3. the recipient's address in the Subject or display name.
    # (a mailing list's address in its own subject tag is the list's convention, not a lure)
    for rcpt in [] if _is_list_mail(ctx) else _recipients(ctx):
        got = _recipient_shown(rcpt, subject, display)
        if got:
            where, text = got
            h = subject_h if where == "Subject" else from_h
            ev = [_hdr(h.ref, h.value)] if h is not None else []
            out.findings.append(ctx.finding("CONTENT_RECIPIENT_IN_SUBJECT", ev, recipient=rcpt, shown=text,
                                            where=where))
            break

    # 4. sender hygiene.
    notes: list[str] = []
    if sender is not None and from_h is not None and from_domain:
        ev_from = [_hdr(from_h.ref, from_h.value)]
        from_org = org_domain(from_domain) or from_domain
        ident = ctx.artifact("identity.alignment")
        sender_orgs = {from_org}
        for g in getattr(ident, "groups", ()) or ():  # organisations the message's own identities name
            if set(getattr(g, "roles", ())) - {"message-id"}:
                sender_orgs.add(g.org)
        name_wo_addr = _EMAIL.sub(" ", display)  # addresses are identity.alignment's (ID_DISPLAY_NAME_ADDRESS)
        for m in _DOMAIN.finditer(name_wo_addr):
            dom = m.group(1).lower().rstrip(".")
            if not has_known_suffix(dom) or dom.count(".") > 4 or _name_like(m.group(0), dom):
                continue
            shown_org = org_domain(dom)
            if shown_org and shown_org not in sender_orgs:
                out.findings.append(ctx.finding("SENDER_DISPLAY_NAME_DOMAIN", ev_from, shown=dom,
                                                shown_org=shown_org, domain=from_domain, org=from_org))
                notes.append(f"display name shows {dom}")
                break
        why = random_looking(sender.local)
        part = f"local part {sender.local}"
        if why is None:
            sub = from_domain[: -len(from_org)].rstrip(".") if from_domain.endswith(from_org) else ""
            for label in sub.split(".") if sub else []:
                why = random_looking(label)
                if why:
                    part = f"sender subdomain label {label}"
                    break
        if why:
            out.findings.append(ctx.finding("SENDER_RANDOM_NAME", ev_from, part=part, why=why))
            notes.append(f"{part}: {why}")
        ab = abused_suffix(from_domain)
        if ab:
            out.findings.append(ctx.finding("SENDER_ABUSED_TLD", ev_from, domain=from_domain, suffix=ab[1],
                                            group=ab[0]))
            notes.append(f".{ab[1]} is often abused")
        host_svc = hosting_for(from_domain)
        if host_svc:
            out.findings.append(ctx.finding("SENDER_FREE_HOSTING", ev_from, domain=from_domain, service=host_svc))
            notes.append(f"{from_domain} is on free hosting ({host_svc})")
        if from_domain in freemail() and display:
            words = org_words().find(display)
            if words:
                out.findings.append(ctx.finding("SENDER_FREEMAIL_ORG_NAME", ev_from, display=display[:200],
                                                words=", ".join(words[:4]), domain=from_domain))
                notes.append(f"organisation-like name on free mailbox {from_domain}")
    out.artifact = ContentReport(lures=tuple(hits), body_chars=len(body), body_truncated=cut,
                                 styled=tuple(styled[:20]), mixed_script=tuple(mixed), emoji=emoji,
                                 sender_notes=tuple(notes))
    if msg.mime is None and msg.has_body is False:
        out.incomplete.append("no body: lure phrases were looked for in the Subject and display name only")
    return out
