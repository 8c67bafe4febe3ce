"""Spam-filter stamps: what the filters on the path said, every rule explained.

A stamp written inside the recipient's trust boundary is the recipient's own filter speaking; a stamp
from outside it (the sender's side, a relay, a forger) is a claim and weighs nothing.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any

from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind
from mailsleuth.model.message import Header
from mailsleuth.model.spam import MeaningSource, SpamRule, SpamStamp, SpamStampsReport
from mailsleuth.parse.spamstamps import load_field_meanings, load_rulebook, parse_stamps, stamp_headers

CODES = (
    "SPAM_FILTER_SAYS_SPAM", "SPAM_FILTER_NOT_SPAM", "SPAM_FILTER_LOW_SCORE", "SPAM_FILTER_URIBL",
    "SPAM_FILTER_BAYES_HIGH", "SPAM_FILTER_IP_BLOCKLIST", "SPAM_FILTER_CHECKSUM", "SPAM_FILTER_PHISH_CATEGORY",
    "SPAM_STAMP_UNTRUSTED", "SPAM_STAMP_UNKNOWN_RULES",
)

_VENDOR_NAMES = {"spamassassin": "SpamAssassin", "amavis": "Amavis (SpamAssassin)", "barracuda": "Barracuda",
                 "rspamd": "rspamd", "microsoft": "Microsoft 365", "proofpoint": "Proofpoint", "antivirus": "virus scanner"}
_BAYES_HIGH = {"BAYES_80", "BAYES_95", "BAYES_99", "BAYES_999"}
_PHISH_CATS = {"PHSH", "HPHSH", "SPOOF", "DIMP", "UIMP", "GIMP", "INTOS", "MALW"}
_LOW_SCORE_SHARE = 0.5  # a score at or below half the threshold is "well under" it


_STAMP_FIELDS = tuple(f.name for f in dataclasses.fields(SpamStamp))
_stamp_values = attrgetter(*_STAMP_FIELDS)
_new_stamp = factory(SpamStamp)


def _replace(stamp: SpamStamp, changes: dict[str, Any]) -> SpamStamp:
    """``dataclasses.replace(stamp, **changes)`` (every SpamStamp field is an init field), with the
    field values read in C."""
    values = dict(zip(_STAMP_FIELDS, _stamp_values(stamp), strict=True))
    values.update(changes)
    return _new_stamp(**values)


def _trusted(chain: Any, stamp: SpamStamp) -> bool:
    if chain is None or stamp.outbound:
        return False
    try:
        # A stamp names no authserv-id: its position above the boundary decides (the host a filter
        # names is not an authserv-id and would be judged against the wrong list).
        return bool(chain.is_trusted_header(stamp.header_index, None))
    except Exception:
        return False


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:g}"


def _ev(stamp: SpamStamp, msg_headers: dict[str, str]) -> list[Evidence]:
    return [Evidence(kind=EvidenceKind.HEADER, ref=r, value=msg_headers.get(r, "")[:300]) for r in stamp.headers[:4]]


def _names(rules: list[SpamRule]) -> str:
    return ", ".join(f"{r.name}" + (f" ({_fmt(r.score)})" if r.score is not None else "") for r in rules[:8])


def _explained(stamp: SpamStamp) -> dict[str, str]:
    """Plain meanings of the stamp's field values that the data knows."""
    meanings = load_field_meanings()
    explained = {}
    for k, v in stamp.fields.items():
        table = meanings.get(k.upper())
        if table:
            value = v.strip().upper()
            if value in table:
                explained[k] = table[value]
    return explained


def explain_fields(stamp: SpamStamp) -> SpamStamp:
    explained = _explained(stamp)
    return dataclasses.replace(stamp, explained=explained) if explained else stamp


def analyse(ctx: Context, headers: list[Header] | None = None) -> SpamStampsReport:
    """``headers``: the message's stamp headers when the caller already has them (stamp_headers)."""
    rules_dir = ctx.config.spamassassin_rules_dir
    book = load_rulebook(rules_dir)
    chain = ctx.artifact("received.chain")
    stamps = []
    rspamd = load_rulebook(None, "rspamd")
    if headers is None:
        headers = stamp_headers(ctx.message)
    for s in parse_stamps(headers, explain=book.explain, explainers={"rspamd": rspamd.explain}):
        # One copy with the field meanings and the trust decision (none when both keep their defaults).
        changes: dict[str, Any] = {}
        explained = _explained(s)
        if explained:
            changes["explained"] = explained
        if _trusted(chain, s):
            changes["trusted"] = True
        stamps.append(_replace(s, changes) if changes else s)
    sources: dict[str, int] = {}
    for s in stamps:
        for r in s.rules:
            sources[r.source.value] = sources.get(r.source.value, 0) + 1
    return SpamStampsReport(stamps=tuple(stamps), rules_dir=rules_dir if book.local else None,
                            local_descriptions=len(book.local), meaning_sources=sources)


@check("spam.stamps", title="Spam-filter stamps", codes=CODES, depends=("received.chain",))
def spam_stamps(ctx: Context) -> Outcome:
    out = Outcome()
    headers = stamp_headers(ctx.message)
    report = analyse(ctx, headers)
    if not report.stamps:
        out.artifact = report
        return out
    refs = {r for s in report.stamps for r in s.headers}
    raw = {ref: " ".join(h.unfolded.split()) for h in headers if (ref := h.ref) in refs}
    for s in report.stamps:
        vendor = _VENDOR_NAMES.get(s.vendor, s.vendor)
        ev = _ev(s, raw)
        where = f" on {s.host}" if s.host else ""
        if s.vendor == "antivirus":
            continue
        if not s.trusted:
            verdict = {True: "spam", False: "not spam", None: "no verdict"}[s.is_spam]
            out.findings.append(ctx.finding(
                "SPAM_STAMP_UNTRUSTED", ev, vendor=vendor, header=s.ref, verdict=verdict, score=_fmt(s.score),
                threshold=_fmt(s.threshold),
                why="the sending side's own outbound scan" if s.outbound else "written outside the trust boundary"))
            continue
        facts: dict[str, Any] = dict(vendor=vendor, where=where, score=_fmt(s.score), threshold=_fmt(s.threshold), header=s.ref,
                     rules=len(s.rules))
        if s.is_spam:
            out.findings.append(ctx.finding("SPAM_FILTER_SAYS_SPAM", ev, **facts))
        elif s.is_spam is False:
            low = (s.score is not None and s.threshold is not None and s.threshold > 0
                   and s.score <= s.threshold * _LOW_SCORE_SHARE)
            out.findings.append(ctx.finding("SPAM_FILTER_LOW_SCORE" if low else "SPAM_FILTER_NOT_SPAM", ev, **facts))
        rules = list(s.rules)
        uribl = [r for r in rules if r.category == "URI blocklist" and not r.name.endswith("_BLOCKED")
                 and "BLOCKED_" not in r.name and (r.score is None or r.score > 0)]
        if uribl:
            out.findings.append(ctx.finding(
                "SPAM_FILTER_URIBL", ev, vendor=vendor, rules=_names(uribl),
                meanings=" ".join(dict.fromkeys(r.meaning for r in uribl[:3]))))
        bayes = [r for r in rules if r.name in _BAYES_HIGH]
        if bayes:
            out.findings.append(ctx.finding("SPAM_FILTER_BAYES_HIGH", ev, vendor=vendor, rules=_names(bayes)))
        iplist = [r for r in rules if r.category == "network reputation" and r.score is not None and r.score > 0.5
                  and "BLOCKED" not in r.name]
        if iplist:
            out.findings.append(ctx.finding("SPAM_FILTER_IP_BLOCKLIST", ev, vendor=vendor, rules=_names(iplist)))
        cks = [r for r in rules if r.category == "collaborative checksum" and (r.score is None or r.score > 0)]
        if cks:
            out.findings.append(ctx.finding("SPAM_FILTER_CHECKSUM", ev, vendor=vendor, rules=_names(cks)))
        cat = s.fields.get("CAT", "").upper()
        if cat in _PHISH_CATS:
            out.findings.append(ctx.finding("SPAM_FILTER_PHISH_CATEGORY", ev, vendor=vendor, category=cat,
                                            meaning=s.explained.get("CAT", cat)))
        unknown = [r.name for r in rules if r.source is MeaningSource.UNKNOWN]
        if unknown:
            out.findings.append(ctx.finding("SPAM_STAMP_UNKNOWN_RULES", ev, vendor=vendor, count=len(unknown),
                                            names=", ".join(unknown[:10])))
    out.artifact = report
    return out
