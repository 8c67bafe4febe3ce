"""Redaction: mask the recipient's addresses and the recipient organisation's own host names in a
finished Report, keeping the analysis intact (verdict, finding codes, counts and structure).

What is masked
  * recipient addresses: the To/Cc/Bcc/Delivered-To/X-Original-To/Envelope-To values wherever the
    report carries them (message summary, evidence refs such as ``To[0]``, dict keys of that name),
    and the ``for <...>`` address of every hop (parsed ``for_addr`` and raw Received text);
  * the recipient organisation's names: the receiving hosts of hops on the recipient's side
    (flagged trusted by the chain, else the top hop, which the recipient's own server wrote), the
    authserv-ids of trusted Authentication-Results, configured trusted relays and own domains, and
    the domains of the recipient addresses. Each becomes its organisational domain (PSL), and
    every name under it is masked.

Replacement is consistent across the whole report: ``alice@mail.corp.example`` becomes
``[recipient-1]@[recipient-domain]`` everywhere, and ``mx.corp.example`` becomes
``mx.[recipient-domain]``; percent-encoded forms (in tracking links) are masked too.
Enum values, numbers and booleans are never touched, so scores and codes stay exactly as they were.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from mailsleuth.domains import is_ip, org_domain
from mailsleuth.model.report import Report

RECIPIENT_FIELDS = frozenset({
    "to", "cc", "bcc", "delivered_to", "x_original_to", "envelope_to", "x_envelope_to", "original_recipient",
    "for_addr", "for", "recipient", "recipients", "rcpt_to", "x_rcpt_to", "resent_to", "resent_cc",
})
_ADDR = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uffff]+@[A-Za-z0-9\-\u0080-\uffff]+(?:\.[A-Za-z0-9\-\u0080-\uffff]+)+")
# The "for <mailbox>" clause of a Received header (RFC 5321 section 4.4), angle brackets required
# so that prose such as "pass for smtp.mailfrom=x@y" is not taken for a recipient.
_FOR = re.compile(r"\bfor\s+<\s*([^\s<>;@]+@[^\s<>;]+?)\s*>", re.IGNORECASE)
_HOST_RE = re.compile(r"^[A-Za-z0-9\-\u0080-\uffff]+(?:\.[A-Za-z0-9\-\u0080-\uffff]+)+\.?$")
_MAX_DEPTH = 60


def _norm_key(k: object) -> str:
    return str(k).strip().lower().replace("-", "_")


def _as_plain(obj: Any, depth: int = 0) -> Any:
    """A light JSON-like view for collecting (dataclasses become dicts)."""
    if depth > _MAX_DEPTH:
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _as_plain(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj)
                if not f.name.startswith("_")}
    if isinstance(obj, dict):
        return {str(k): _as_plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_as_plain(v, depth + 1) for v in obj]
    return obj


def _strings(obj: Any, depth: int = 0) -> Iterable[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _strings(v, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v, depth + 1)


_HEADER_REF = re.compile(r"^(to|cc|bcc|delivered-to|x-original-to|envelope-to|x-envelope-to|resent-to|resent-cc)"
                         r"(\[\d+\])?$", re.IGNORECASE)


class _Collector:
    def __init__(self) -> None:
        self.addresses: dict[str, None] = {}
        self.hosts: dict[str, None] = {}

    def add_addresses(self, text: str) -> None:
        for m in _ADDR.finditer(text):
            self.addresses.setdefault(m.group(0).strip(".").lower(), None)

    def add_host(self, name: object) -> None:
        if not isinstance(name, str):
            return
        n = name.strip().strip("[]").rstrip(".").lower().lstrip("*.")
        if n and not is_ip(n) and _HOST_RE.match(n):
            self.hosts.setdefault(n, None)

    def walk(self, obj: Any, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(obj, dict):
            # evidence / header records: {"ref": "To[0]", "value": ...} or {"name": "Cc", "value": ...}
            label = obj.get("ref") or obj.get("name") or obj.get("header") or obj.get("field")
            if isinstance(label, str) and _HEADER_REF.match(label.strip()):
                for s in _strings({k: v for k, v in obj.items() if k not in ("ref", "name", "header", "field")}):
                    self.add_addresses(s)
            for k, v in obj.items():
                if _norm_key(k) in RECIPIENT_FIELDS:
                    for s in _strings(v):
                        self.add_addresses(s)
                self.walk(v, depth + 1)
        elif isinstance(obj, list):
            for v in obj:
                self.walk(v, depth + 1)
        elif isinstance(obj, str):
            for m in _FOR.finditer(obj):
                self.add_addresses(m.group(1))


def _hops(chain: Any) -> list[dict[str, Any]]:
    if isinstance(chain, list):
        return [h for h in chain if isinstance(h, dict)]
    if isinstance(chain, dict):
        for key in ("hops", "chain", "items", "received"):
            if isinstance(chain.get(key), list):
                return [h for h in chain[key] if isinstance(h, dict)]
    return []


def _trusted_hosts(plain_sections: dict[str, Any], config: dict[str, Any]) -> list[str]:
    hosts: list[str] = []
    hops = _hops(plain_sections.get("received.chain"))
    flagged = False
    for h in hops:
        hop: dict[str, Any] = h["hop"] if isinstance(h.get("hop"), dict) else h
        trusted = next((h.get(k) for k in ("trusted", "internal", "inside") if isinstance(h.get(k), bool)), None)
        if trusted:
            flagged = True
            hosts.append(hop.get("by_host") or "")
    if not flagged and hops:
        def position(h: dict[str, Any]) -> int:
            inner = h["hop"] if isinstance(h.get("hop"), dict) else h
            i = inner.get("header_index")
            return i if isinstance(i, int) else 0

        top = min(hops, key=position)
        top_hop: dict[str, Any] = top["hop"] if isinstance(top.get("hop"), dict) else top
        hosts.append(top_hop.get("by_host") or "")
    reported = plain_sections.get("auth.reported")
    for r in reported if isinstance(reported, list) else _hops(reported):
        if isinstance(r, dict) and r.get("trusted") is True and isinstance(r.get("authserv_id"), str):
            hosts.append(r["authserv_id"])
    for key in ("trusted_authserv_ids", "trusted_relays"):
        v = config.get(key)
        if isinstance(v, list | tuple):
            hosts += [x for x in v if isinstance(x, str)]
    return hosts


class Redactor:
    """Consistent replacement of the collected recipient addresses and organisation names."""

    def __init__(self, addresses: Iterable[str], org_domains: Iterable[str]):
        self.domains: dict[str, str] = {}
        for d in org_domains:  # in order of importance: the first is "[recipient-domain]"
            if d not in self.domains:
                n = len(self.domains) + 1
                self.domains[d] = "[recipient-domain]" if n == 1 else f"[recipient-domain-{n}]"
        self.addresses: dict[str, str] = {}
        for i, a in enumerate(dict.fromkeys(addresses), 1):
            self.addresses[a] = f"[recipient-{i}]@{self._mask_domain(a.rsplit('@', 1)[1])}"
        pats = []
        for a in sorted(self.addresses, key=len, reverse=True):
            local, dom = a.rsplit("@", 1)
            pats.append(re.escape(a))
            pats.append(re.escape(quote(local, safe="") + "%40" + dom))
        self._addr_re = re.compile("|".join(pats), re.IGNORECASE) if pats else None
        self._addr_lookup = {k.lower(): v for k, v in self.addresses.items()}
        for a, v in list(self.addresses.items()):
            local, dom = a.rsplit("@", 1)
            self._addr_lookup[(quote(local, safe="") + "%40" + dom).lower()] = v
        names = sorted(self.domains, key=len, reverse=True)
        self._dom_re = re.compile(
            r"(?<![A-Za-z0-9\-])((?:[A-Za-z0-9\-]+\.)*)(" + "|".join(re.escape(d) for d in names) + r")(?![A-Za-z0-9\-]|\.[A-Za-z0-9])",
            re.IGNORECASE) if names else None

    def _mask_domain(self, domain: str) -> str:
        d = domain.lower().rstrip(".")
        for org, mask in self.domains.items():
            if d == org:
                return mask
            if d.endswith("." + org):
                return d[: -len(org)] + mask
        return d

    def text(self, s: str) -> str:
        if self._addr_re is not None:
            s = self._addr_re.sub(lambda m: self._addr_lookup.get(m.group(0).lower(), "[recipient]"), s)
        if self._dom_re is not None:
            s = self._dom_re.sub(lambda m: m.group(1) + self.domains.get(m.group(2).lower(), "[recipient-domain]"), s)
        return s

    def apply(self, obj: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            return obj
        if type(obj) is str:  # exact str: StrEnum values (results, severities, labels) stay as they are
            return self.text(obj)
        if isinstance(obj, dict):
            return {(self.apply(k, depth + 1) if type(k) is str else k): self.apply(v, depth + 1) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.apply(v, depth + 1) for v in obj]
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return tuple(self.apply(v, depth + 1) for v in obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes = {f.name: self.apply(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj) if f.init}
            try:
                return dataclasses.replace(obj, **changes)
            except (TypeError, ValueError):
                return obj
        return obj


def collect(report: Report, *, extra_addresses: Iterable[str] = (), own_domains: Iterable[str] = ()) -> Redactor:
    plain_sections = _as_plain(report.sections)
    col = _Collector()
    col.walk(_as_plain(report.message))
    col.walk(plain_sections)
    col.walk(_as_plain(report.findings))
    for a in extra_addresses:
        col.add_addresses(a)
    for a in col.addresses:
        col.add_host(a.rsplit("@", 1)[1])
    for h in _trusted_hosts(plain_sections, report.config):
        col.add_host(h)
    orgs = [org_domain(h) or h for h in col.hosts]
    # Configured own domains are taken as written (they may be below a registrable domain).
    explicit = _Collector()
    for d in (*own_domains, *(report.config.get("own_domains") or ())):
        explicit.add_host(d)
    return Redactor(col.addresses, [*orgs, *explicit.hosts])


def redact_report(report: Report, *, extra_addresses: Iterable[str] = (), own_domains: Iterable[str] = ()) -> Report:
    """A copy of ``report`` with the recipient's addresses and own host names masked everywhere."""
    r = collect(report, extra_addresses=extra_addresses, own_domains=own_domains)
    config = dict(r.apply(report.config))
    config["redact"] = True
    return dataclasses.replace(
        report, message=r.apply(report.message), sections=r.apply(report.sections), dns=r.apply(report.dns),
        findings=r.apply(report.findings), verdict=r.apply(report.verdict), config=config,
    )
