"""Which signed headers look edited after delivery.

When a DKIM header signature fails on a copy whose recipient's own server reported ``dkim=pass``,
the usual reason is that the copy was changed after delivery: someone sharing it replaced their
address with a placeholder, or a client rewrote a header. This module looks at the headers the
failing signature covers and collects *structural* signs of such an edit, never knowledge of a
particular message:

- an address in a signed address header whose domain is reserved for documentation or testing
  (RFC 2606, RFC 6761) while the signer itself is a real domain: real mail is not delivered there;
- a signed header whose value matches a common redaction mask (``****``, ``[redacted]``, ``xxxx``);
- the same placeholder domain also standing in for the recipient's own server name (the trusted
  hop's ``by`` host), as when someone replaced their own domain everywhere;
- a From domain that differs from the ``header.from`` the recipient's server reported.

The placeholder lists are data (``data/redaction/placeholders.toml``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from mailsleuth.model.message import Header, Message
from mailsleuth.parse.addresses import parse_addresses

ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc",
                             "resent-sender", "disposition-notification-to", "return-receipt-to"})
_MAX_VALUE = 4000
_MAX_HEADERS = 60
_WORDS = {"from": "From", "to": "To", "cc": "Cc", "reply-to": "Reply-To", "sender": "Sender", "subject": "Subject",
          "message-id": "Message-ID", "date": "Date"}


@dataclass(frozen=True, slots=True)
class Placeholders:
    domains: frozenset[str]
    tlds: frozenset[str]
    masks: tuple[tuple[str, re.Pattern[str]], ...]


@cache
def placeholders() -> Placeholders:
    text = (resources.files("mailsleuth") / "data" / "redaction" / "placeholders.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    domains: set[str] = set()
    tlds: set[str] = set()
    for entry in data.get("reserved_domains", []):
        domains.update(d.lower() for d in entry.get("domains", []))
        tlds.update(t.lower() for t in entry.get("tlds", []))
    masks = tuple((m["id"], re.compile(m["pattern"])) for m in data.get("masks", []))
    return Placeholders(frozenset(domains), frozenset(tlds), masks)


def reserved_domain(domain: str, ph: Placeholders | None = None) -> str | None:
    """The reserved name ``domain`` falls under (``example.com``, ``.test``...), or None."""
    d = domain.strip().strip(".").lower()
    if not d:
        return None
    ph = ph or placeholders()
    labels = d.split(".")
    for i in range(len(labels) - 1):
        cand = ".".join(labels[i:])
        if cand in ph.domains:
            return cand
    if labels[-1] in ph.tlds:
        return "." + labels[-1] if len(labels) > 1 else labels[-1]
    return None


def mask_match(text: str, ph: Placeholders | None = None) -> str | None:
    """The id of the first redaction mask found in ``text``, or None."""
    t = text[:_MAX_VALUE]
    for mid, pat in (ph or placeholders()).masks:
        if pat.search(t):
            return mid
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class EditSign:
    header_ref: str  # e.g. "To[0]"
    kind: str  # reserved_domain | mask | recipient_server_placeholder | reported_from_differs
    value: str  # what was seen (a domain, the masked text)
    detail: str  # a phrase for the reader


@dataclass(frozen=True, slots=True, kw_only=True)
class EditAssessment:
    likely_edited: bool
    signs: tuple[EditSign, ...] = ()
    summary: str = ""  # one phrase: "the To address looks redacted to a documentation domain (example.com)"


def _signed_headers(msg: Message, hnames: Sequence[str]) -> list[Header]:
    """The header instances a signature with h=``hnames`` covers (bottom-up per name, RFC 6376 5.4.2)."""
    out: list[Header] = []
    for n in list(dict.fromkeys(h.lower() for h in hnames))[:_MAX_HEADERS]:
        wanted = sum(1 for x in hnames if x.lower() == n)
        instances = msg.get_all(n)
        take = instances[max(0, len(instances) - wanted):]
        out.extend(take)
    return out


def _host_domain(host: str | None) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


def assess_edits(msg: Message, hnames: Sequence[str], *, signer_domain: str, trusted_by_host: str | None = None,
                 reported_from: str | None = None, ph: Placeholders | None = None) -> EditAssessment:
    """Look at the headers a failing signature covers for signs that this copy was edited.

    ``hnames`` is the signature's h= list; ``signer_domain`` its d=; ``trusted_by_host`` the host name of
    the recipient's own server (the trusted hop's ``by``); ``reported_from`` the ``header.from`` that
    the recipient's server reported, when it did. ``ph`` replaces the shipped placeholder lists (tests).
    """
    ph = ph or placeholders()
    signs: list[EditSign] = []
    signer_reserved = reserved_domain(signer_domain, ph) is not None
    by_host = _host_domain(trusted_by_host)
    by_reserved = reserved_domain(by_host, ph) if by_host else None
    placeholder_domains: set[str] = set()
    for h in _signed_headers(msg, hnames):
        value = h.value[:_MAX_VALUE]
        word = _WORDS.get(h.lname, h.name)
        mid = mask_match(value, ph)
        if mid is not None:
            signs.append(EditSign(header_ref=h.ref, kind="mask", value=value[:200],
                                  detail=f"the {word} header looks redacted (it contains a redaction mask)"))
        if h.lname in ADDRESS_HEADERS and not signer_reserved:
            for addr in parse_addresses(value)[:20]:
                rd = reserved_domain(addr.domain, ph)
                if rd is None:
                    continue
                placeholder_domains.add(rd)
                signs.append(EditSign(
                    header_ref=h.ref, kind="reserved_domain", value=addr.domain,
                    detail=f"the {word} address looks redacted to a documentation domain ({addr.domain})"))
                break
    if by_reserved and placeholder_domains and by_reserved in placeholder_domains:
        signs.append(EditSign(header_ref="Received (trusted hop)", kind="recipient_server_placeholder", value=by_host,
                              detail=f"the same placeholder stands in for the recipient's own server name ({by_host})"))
    if reported_from:
        froms = [a.domain for h in msg.get_all("From") for a in parse_addresses(h.value)[:5]]
        rep = reported_from.strip().strip(".").lower()
        if froms and rep and rep not in froms:
            signs.append(EditSign(header_ref="From[0]", kind="reported_from_differs", value=", ".join(froms[:3]),
                                  detail=f"the From domain now differs from the one the recipient's server reported ({rep})"))
    primary = [s for s in signs if s.kind != "recipient_server_placeholder"]
    if not primary:
        return EditAssessment(likely_edited=False, signs=tuple(signs))
    phrases = list(dict.fromkeys(s.detail for s in signs))
    summary = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return EditAssessment(likely_edited=True, signs=tuple(signs[:20]), summary=summary)
