"""Received header -> Hop (RFC 5321 section 4.4 and the shapes real MTAs write).

``parse_received(raw, header_index)`` never raises and never drops a line: what it cannot understand
is kept raw with ``parsed=False``. The grammar is read clause by clause (``from``, ``by``, ``via``,
``with``, ``id``, ``for``) after splitting the value into words and balanced comments, so the
order of clauses and the comments between them may vary freely. Shapes covered (each has a unit
test): Postfix, Sendmail, Exim (``helo=``, ``port=``, ``(TLS1.3) tls CIPHER``, ``X=``), qmail
(``(qmail 1234 invoked by uid 0)``, ``from unknown (HELO x) (user@ip)``), Microsoft 365 / Exchange
(``(10.0.0.1)`` addresses, ``with Microsoft SMTP Server (version=TLS1_2, cipher=...)``, ``mapi``,
``HTTPS``, ``via Frontend Transport``), Google (``by 2002:a05:...``, ``with SMTP id``), Yahoo
(``from 192.0.2.1 (EHLO x)``, ``pod-id``), Amazon SES, Proofpoint (``from pps.filterd``), SendGrid
(no ``;`` before a Go-style time stamp), fetchmail, amavis, Oracle, ecelerity.

Work is bounded: the value is cut at :data:`MAX_CHARS` before anything else, tokenising is one
regular-expression pass without backtracking hazards, and the number of tokens is capped.

What "the connecting client" means per shape (the receiving host records it; it may still be a lie
when the header sits below the trust boundary):

* ``from HELO (rdns [ip])`` (Postfix, Sendmail): HELO name first, then the TCP information;
  ``unknown`` as the name means no reverse DNS; ``(may be forged)`` means it did not confirm.
* ``from rdns ([ip] helo=HELO)`` / ``from [ip] (helo=HELO)`` (Exim), ``from ip (EHLO HELO)`` (Yahoo),
  ``from unknown (HELO x) (ip)`` (qmail): an explicit helo/HELO/EHLO marker names the HELO, and the
  word after ``from`` is the reverse-DNS name or the address.
* ``from HELO (ip)`` (Microsoft): no reverse DNS is written.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

from mailsleuth.domains import ip_address_of
from mailsleuth.model.fastinit import factory
from mailsleuth.model.hop import Hop

MAX_CHARS = 8192  # a Received value longer than this is analysed (and kept) only up to here
MAX_TOKENS = 400
MAX_DATE_CHARS = 300

_KEYWORDS = frozenset({"from", "by", "via", "with", "id", "for", "envelope-from"})
_TOK = re.compile(r"[()]|[^\s()]+")
_WS = re.compile(r"\s+")

# Protocol names written after "with": canonical spelling by lower-case key.
_PROTOCOLS = {p.lower(): p for p in (
    "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "LMTP", "LMTPS", "LMTPA", "LMTPSA",
    "UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA", "UTF8ESMTP", "UTF8ESMTPS", "UTF8ESMTPA", "UTF8ESMTPSA",
    "UTF8LMTP", "UTF8LMTPS", "UTF8LMTPA", "UTF8LMTPSA", "SMTPS", "SMTPSA", "SMTPA",
    "HTTP", "HTTPS", "IMAP", "IMAPS", "POP3", "POP3S", "POP", "QMQP", "MAPI", "local", "UUCP", "LMTPSA",
)}
_TLS_PROTOCOLS = frozenset(p for p in _PROTOCOLS.values() if p.endswith(("S", "SA")) and p not in ("MAPI",))
_AUTH_PROTOCOLS = frozenset(p for p in _PROTOCOLS.values() if p.endswith("A") and "MTP" in p)

_HELO_RE = re.compile(r"(?:^|[\s(,])(?:helo|ehlo)\s*[=\s]\s*\[?([^\s()\[\],;]+)", re.I)
_BRACKET_RE = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.%a-zA-Z]{2,64})\](?::\d{1,5})?")
_ENVFROM_RE = re.compile(r"envelope-from\s*[=:]?\s*<?([^<>\s)]*)>?", re.I)
_AUTH_RE = re.compile(r"authenticated\s+(?:sender|user|as|by)|\bauth=|\bauthid=|\bsmtp-auth\b", re.I)
_FORGED_RE = re.compile(r"may\s+be\s+forged", re.I)
# TLS details in the forms MTAs write them.
_TLS_KV = re.compile(r"\bversion=([A-Za-z0-9_.]+)", re.I)
_TLS_CIPHER_KV = re.compile(r"\bcipher=([A-Za-z0-9_\-]+)", re.I)
_TLS_BITS_KV = re.compile(r"\bbits=(\d{1,5})", re.I)
_TLS_POSTFIX = re.compile(r"\busing\s+((?:TLS|SSL)v?[0-9._]*)\s+with\s+cipher\s+([A-Za-z0-9_\-]+)(?:\s*\((\d{1,5})/\d{1,5}\s+bits\))?", re.I)
_TLS_EXIM = re.compile(r"^(?:cipher\s+|X=)?((?:TLS|SSL)v?[0-9._]*)(?::([A-Za-z0-9_\-]+))?(?::(\d{1,5}))?$", re.I)
_TLS_EXIM_X = re.compile(r"\bX=((?:TLS|SSL)v?[0-9._]*):([A-Za-z0-9_\-]+)(?::(\d{1,5}))?", re.I)
_TLS_HINT = re.compile(r"tls|ssl", re.I)
_QMAIL_RE = re.compile(r"^qmail\s+\d+\s+invoked\b", re.I)

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# Named zones: RFC 5322 obsolete zones plus the ones met in real Received lines. Ambiguous names
# (IST, CST in Asia, BST) take the meaning most common in mail headers; a numeric offset, when
# present, always wins.
_ZONES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 60, "IST": 60, "WEST": 60, "CET": 60, "MET": 60,
    "CEST": 120, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240,
    "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "AKST": -540,
    "AKDT": -480, "HST": -600, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "AWST": 480, "PHT": 480,
    "ICT": 420, "WIB": 420, "ACST": 570, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
    "COT": -300, "BRT": -180, "ART": -180,
}
_DATE_RFC = re.compile(
    r"(\d{1,2})[\s\-]*([A-Za-z]{3})[a-z]*\.?[\s\-,]*(\d{2,4})[\sT,]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:[.,]\d{1,9})?"
    r"\s*(?:([+-])\s?(\d{2}):?(\d{2})|\(?([A-Za-z]{1,5})\b)?")
_DATE_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T\s]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d{1,9})?"
    r"\s*(?:(Z)|([+-])(\d{2}):?(\d{2})|([A-Za-z]{1,5})\b)?")
_DATE_ASC = re.compile(
    r"([A-Za-z]{3})[a-z]*\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(?:([A-Za-z]{1,5}|[+-]\d{4})\s+)?(\d{4})")
_TRAILING_ZONE = re.compile(r"\d\s+[A-Za-z]{1,5}$")
_COMMENT_RE = re.compile(r"\([^()]{0,200}\)")


def _clean_host(word: str | None) -> str | None:
    if not word:
        return None
    w = word.strip().strip(",;").rstrip(".")
    if w.startswith("[") and w.endswith("]"):
        inner = w[1:-1]
        if inner.lower().startswith("ipv6:"):
            inner = inner[5:]
        return inner or None
    return w or None


_IPCHARS = frozenset("0123456789abcdefABCDEF:.[]%vVIPp")


def literal_ip(text: str | None) -> str | None:
    """The address in ``text`` (bracketed, with an IPv6: prefix, a port or a zone) or None."""
    if not text or len(text) > 80:
        return None
    return _literal_ip(text)


@lru_cache(maxsize=8192)
def _literal_ip(text: str) -> str | None:
    t = text.strip().strip(",;")
    if not t or not _IPCHARS.issuperset(t.split("%", 1)[0]):
        return None  # fast path: host names
    if t.startswith("["):
        end = t.find("]")
        if end < 0:
            return None
        t = t[1:end]
    if t.lower().startswith("ipv6:"):
        t = t[5:]
    if "%" in t:
        t = t.split("%", 1)[0]
    if len(t) > 64 or not t:
        return None
    addr = ip_address_of(t)
    if addr is not None:
        # ipaddress reads IPv4 only in its canonical dotted-decimal form: the text is its own str()
        return t if addr.version == 4 else str(addr)
    # a.b.c.d:port
    if t.count(":") == 1 and "." in t:
        head = t.split(":", 1)[0]
        try:
            return str(ipaddress.IPv4Address(head))
        except ValueError:
            return None
    return None


def is_ip_literal(word: str | None) -> bool:
    """True when ``word`` is an address as Received headers write one ([ip], IPv6:, port, zone)."""
    return literal_ip(word) is not None


# A comment nested at most two deep. Possessive quantifiers: a comment can only end where the
# greedy scan stops, so giving characters back never helps.
_COMMENT_TOK = re.compile(r"\((?:[^()]++|\([^()]*+\))*+\)")


def _tokenize(s: str) -> list[str]:
    """Words at depth 0 and balanced comments, the comments still in their outer parentheses
    (a word never starts with one; :func:`_comment_text` gives a comment's content). An
    unterminated comment runs to the end."""
    if "(" not in s and ")" not in s:
        return s.split()[:MAX_TOKENS]
    # Comments nested at most two deep: the comments found by one pass of the expression, the
    # words between them split at white space. A parenthesis left between comments (unbalanced,
    # or nested deeper) takes the character walk.
    toks: list[str] = []
    pos = 0
    for m in _COMMENT_TOK.finditer(s):
        gap = s[pos:m.start()]
        if "(" in gap or ")" in gap:
            break
        toks += gap.split()
        toks.append(m.group())
        pos = m.end()
    else:
        tail = s[pos:]
        if "(" not in tail and ")" not in tail:
            toks += tail.split()
            if len(toks) <= MAX_TOKENS:
                return toks
    return [f"({text})" if is_comment else text for is_comment, text in _tokenize_slow(s)]


def _comment_text(token: str) -> str:
    return token[1:-1].strip()


def _tokenize_slow(s: str) -> list[tuple[bool, str]]:
    """(is_comment, text) tokens for comments nested deeper than the regular expression reads."""
    toks: list[tuple[bool, str]] = []
    depth = 0
    start = 0
    for m in _TOK.finditer(s):
        t = m.group()
        if t == "(":
            if depth == 0:
                start = m.end()
            depth += 1
        elif t == ")":
            if depth > 0:
                depth -= 1
                if depth == 0:
                    toks.append((True, s[start:m.start()].strip()))
        elif depth == 0:
            toks.append((False, t))
        if len(toks) >= MAX_TOKENS:
            return toks
    if depth > 0:
        toks.append((True, s[start:].strip()))
    return toks


_TLS_VERSION = re.compile(r"^(TLS|SSL)V?(\d(?:\.\d)?)$")


@lru_cache(maxsize=256)
def _tls_version(v: str) -> str:
    t = v.strip().upper().replace("_", ".")
    m = _TLS_VERSION.match(t)
    if m:
        return f"{m.group(1)}v{m.group(2)}"
    return v.strip()


def _search_from(rx: re.Pattern[str], c: str, low: str, word: str) -> re.Match[str] | None:
    """``rx.search(c)`` for an expression that begins with ``\\b`` and ``word`` (case-insensitive):
    in ASCII text (``low`` is ``c`` lower-cased) a match starts where ``low`` holds ``word``, so the
    search starts at the first such place, or is skipped when there is none (``\\b`` still sees the
    character before the start)."""
    if not c.isascii():
        return rx.search(c)
    at = low.find(word)
    return rx.search(c, at) if at >= 0 else None


def _tls_from_comment(c: str) -> tuple[str | None, str | None, int | None]:
    low = c.lower()
    m = _TLS_POSTFIX.search(c) if "using" in low else None
    if m:
        return _tls_version(m.group(1)), m.group(2), int(m.group(3)) if m.group(3) else None
    mv = _TLS_KV.search(c) if "version=" in low else None
    if mv and mv.group(1).upper().startswith(("TLS", "SSL")):
        mc = _search_from(_TLS_CIPHER_KV, c, low, "cipher=")
        mb = _search_from(_TLS_BITS_KV, c, low, "bits=")
        return _tls_version(mv.group(1)), mc.group(1) if mc else None, int(mb.group(1)) if mb else None
    mx = _TLS_EXIM_X.search(c)
    if mx:
        return _tls_version(mx.group(1)), mx.group(2), int(mx.group(3)) if mx.group(3) else None
    me = _TLS_EXIM.match(c.strip())
    if me:
        return _tls_version(me.group(1)), me.group(2), int(me.group(3)) if me.group(3) else None
    return None, None, None


def _zone_minutes(sign: str | None, hh: str | None, mm: str | None, name: str | None) -> int | None:
    if sign and hh is not None and mm is not None:
        h, m = int(hh), int(mm)
        if h > 14 or m > 59:
            return None
        off = h * 60 + m
        return -off if sign == "-" else off
    if name:
        return _ZONES.get(name.upper())
    return None


def _build(year: int, month: int, day: int, hour: int, minute: int, sec: int, offset: int | None) -> datetime | None:
    if year < 100:
        year += 2000 if year < 50 else 1900
    elif year < 1000:
        year += 1900
    if not (1970 <= year <= 9998 and 1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59):
        return None
    sec = min(sec, 59)
    extra = 0
    if hour == 24:
        hour, extra = 0, 1
    try:
        tz = timezone(timedelta(minutes=offset)) if offset is not None else UTC
        dt = datetime(year, month, day, hour, minute, sec, tzinfo=tz) + timedelta(days=extra)
    except (ValueError, OverflowError):
        return None
    return dt.astimezone(UTC)


def _fallback_date(text: str) -> datetime | None:
    m = _DATE_RFC.search(text)
    if m and (m.group(7) or m.group(10)):  # without a zone (a truncated stamp) the hour means nothing
        month = _MONTHS.get(m.group(2).lower())
        if month:
            off = _zone_minutes(m.group(7), m.group(8), m.group(9), m.group(10))
            dt = _build(int(m.group(3)), month, int(m.group(1)), int(m.group(4)), int(m.group(5)),
                        int(m.group(6) or 0), off)
            if dt is not None:
                return dt
    m = _DATE_ISO.search(text)
    if m:
        off = 0 if m.group(7) else _zone_minutes(m.group(8), m.group(9), m.group(10), m.group(11))
        dt = _build(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)),
                    int(m.group(6) or 0), off)
        if dt is not None:
            return dt
    m = _DATE_ASC.search(text)
    if m:
        month = _MONTHS.get(m.group(1).lower())
        if month:
            z = m.group(6)
            off = None
            if z and z[0] in "+-":
                off = _zone_minutes(z[0], z[1:3], z[3:5], None)
            elif z:
                off = _zone_minutes(None, None, None, z)
            dt = _build(int(m.group(7)), month, int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5)), off)
            if dt is not None:
                return dt
    return None


# The common RFC 5322 shapes ("Mon, 2 Jan 2026 10:00:00 +0100 (CET)", "... 10:00:00 GMT (comment)"),
# read without the general parser; anything else (and "-0000", impossible dates, years out of range)
# takes the general path. The general path drops a comment of up to 200 characters without
# parentheses and reads GMT, UT and UTC as +0000, as here.
_DATE_FAST = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:([+-])([0-9]{2})([0-9]{2})|GMT|UTC|UT)(?: \([^()]{0,200}+\))?")
_FAST_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _fast_timestamp(text: str) -> datetime | None:
    m = _DATE_FAST.fullmatch(text)
    if m is None:
        return None
    day, mon, year, hh, mi, ss, sign, zh, zm = m.groups()
    y = int(year)
    if not 1970 <= y <= 9998:
        return None
    east = 0  # minutes east of UTC
    if sign is not None:
        east = int(zh) * 60 + int(zm)
        if east >= 1440 or (sign == "-" and east == 0):  # too far for a timezone / "-0000": the general path decides
            return None
        if sign == "-":
            east = -east
    try:  # the wall time must exist as written (same check as the general path)
        dt = datetime(y, _FAST_MONTHS[mon], int(day), int(hh), int(mi), int(ss), tzinfo=UTC)
    except ValueError:
        return None
    return dt - timedelta(minutes=east) if east else dt


def parse_timestamp(text: str | None) -> datetime | None:
    """A date as written in Received or Date headers -> aware UTC datetime, or None. Tolerates a
    missing weekday, 2-digit years, named zones, "-0000", fractional seconds, ISO and asctime forms,
    comments and trailing garbage. Never raises."""
    if not text:
        return None
    if len(text) <= MAX_DATE_CHARS:
        fast = _fast_timestamp(text)
        if fast is not None:
            return fast
    return _parse_timestamp_general(text)


def _parse_timestamp_general(text: str) -> datetime | None:
    if not text:
        return None
    try:
        t = _WS.sub(" ", text[:MAX_DATE_CHARS]).strip()
        bare = _COMMENT_RE.sub(" ", t).strip() if "(" in t else t
        if not bare:
            return None
        naive: datetime | None = None
        try:
            dt = parsedate_to_datetime(bare)
        except (TypeError, ValueError, IndexError, OverflowError):
            dt = None
        if dt is not None:
            if dt.tzinfo is not None:
                if 1970 <= dt.year <= 9998:
                    return dt.astimezone(UTC)
            else:
                naive = dt
        fb = _fallback_date(bare) or (_fallback_date(t) if t != bare else None)
        if fb is not None:
            return fb
        if naive is not None and 1970 <= naive.year <= 9998 and _TRAILING_ZONE.search(bare):
            return naive.replace(tzinfo=UTC)  # a zone name we do not know: read as UTC
    except Exception:  # a date must never break a report
        return None
    return None


def _split_date(s: str) -> tuple[str, str | None]:
    """(clauses, date text). The date follows the last ';'; without one (SendGrid and other
    careless writers) a trailing date-like text is looked for."""
    semi = s.rfind(";")
    if semi >= 0:
        return s[:semi], s[semi + 1:].strip() or None
    tail_start = max(0, len(s) - MAX_DATE_CHARS)
    tail = s[tail_start:]
    best = None
    for rx in (_DATE_RFC, _DATE_ISO, _DATE_ASC):
        m = rx.search(tail)
        if m and (best is None or m.start() < best):
            best = m.start()
    if best is None:
        return s, None
    # include a weekday written just before the day number
    cut = tail_start + best
    before = s[:cut].rstrip()
    wd = re.search(r"(?:\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?)$", before)
    if wd:
        cut = wd.start()
    return s[:cut], s[cut:].strip()


def _folded(text: str) -> str | None:
    """``text`` lower-cased when it is ASCII, else None: a cheap pre-check for the case-insensitive
    expressions, which look for ASCII words. In ASCII text they can only match where the
    lower-cased text holds those words, so ``folded is None or "word" in folded`` may skip them;
    in other text IGNORECASE also folds a few non-ASCII letters (U+017F, U+212A ...) onto ASCII
    ones, so only the expression itself can tell."""
    return text.lower() if text.isascii() else None


def _from_part(words: list[str], comments: list[str]) -> tuple[str | None, str | None, str | None, bool]:
    """(helo, rdns, ip, may_be_forged) from the words and comments of a ``from`` clause."""
    first = words[0] if words else None
    helo_c: str | None = None
    ip: str | None = None
    rdns: str | None = None
    forged = False
    for c in comments:
        folded = _folded(c)
        if helo_c is None and (folded is None or "helo" in folded or "ehlo" in folded):
            mh = _HELO_RE.search(c)
            if mh:
                helo_c = mh.group(1).rstrip(".")
        if not forged and (folded is None or "forged" in folded) and _FORGED_RE.search(c):
            forged = True
        if ip is None:
            ip, rdns_c = _tcp_info(c)
            if ip is not None:
                rdns = rdns_c
    for w in words[1:4]:  # "from phobos [127.0.0.1]": the address written as a word
        if ip is None and w.startswith("["):
            ip = literal_ip(w)
    first_ip = literal_ip(first) if first else None
    if helo_c is not None:
        helo: str | None = helo_c
        if first_ip is not None:
            ip = ip or first_ip
        elif first and first.lower() != "unknown" and rdns is None:
            rdns = _clean_host(first)
    else:
        helo = _clean_host(first) if first else None
        if first_ip is not None and ip is None:
            ip = first_ip
            if first is not None and not first.startswith("["):  # a bare address (Yahoo, Exchange): no HELO was written
                helo = None
    if rdns is not None and rdns.lower() == "unknown":
        rdns = None
    return helo, rdns, ip, forged


def _tcp_info(c: str) -> tuple[str | None, str | None]:
    """(ip, rdns) from a TCP-info comment such as ``rdns [ip]``, ``[ip]:port``, ``ip``, ``user@ip``."""
    m = _BRACKET_RE.search(c)
    if m:
        ip = literal_ip(m.group(1))
        if ip is not None:
            head = c[:m.start()].split()
            rdns = None
            if head:
                cand = head[-1]
                if "@" in cand:  # ident: user@host
                    cand = cand.rsplit("@", 1)[1]
                if "=" not in cand and cand.lower() not in ("unknown", "helo", "ehlo") and _HOSTLIKE.match(cand):
                    rdns = cand.rstrip(".")
            return ip, rdns
    for part in c.replace(",", " ").split()[:8]:
        cand = part.rsplit("@", 1)[1] if "@" in part else part
        ip = literal_ip(cand)
        if ip is not None:
            return ip, None
    return None, None


_HOSTLIKE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,252}$")


def _protocol(words: list[str]) -> tuple[str | None, list[str]]:
    if not words:
        return None, []
    if words[0].lower() == "microsoft":
        name = []
        for w in words[:4]:
            name.append(w)
        return " ".join(name), words[4:]
    canon = _PROTOCOLS.get(words[0].lower())
    if canon:
        return canon, words[1:]
    if len(words) >= 2 and words[0].lower() == "internet" and words[1].lower() == "mail":
        return " ".join(words[:3]), words[3:]
    return words[0], words[1:]


_new_hop = factory(Hop)  # one a Received header: the cheaper way to build it


def parse_received(raw: str, header_index: int) -> Hop:
    """One Received header value -> Hop. Never raises; what cannot be read stays raw."""
    kept = raw[:MAX_CHARS] if isinstance(raw, str) else ""
    try:
        return _parse(kept, header_index)
    except Exception:  # defensive: the line is kept, unparsed
        return Hop(header_index=header_index, raw=kept, parsed=False)


def _clauses(clauses_text: str, date_text: str | None) -> tuple[
        dict[str, list[str]], dict[str, list[str]], list[str]]:
    """(words per clause keyword, comments per clause keyword, all comments). Comments before the
    first keyword are filed under ``""``; comments after the date (time-zone names, Exim/Sendmail
    envelope-from) still count, filed under the last clause."""
    clauses: dict[str, list[str]] = {}
    words: list[str] = []  # words before the first keyword: not kept
    comments: list[str] = []
    current_comments: list[str] = []
    ccomments: dict[str, list[str]] = {"": current_comments}
    for tok in _tokenize(clauses_text):
        if tok[0] == "(":
            text = _comment_text(tok)
            comments.append(text)
            current_comments.append(text)
            continue
        low = tok.lower()
        if low in _KEYWORDS and low not in clauses:
            words = clauses[low] = []
            current_comments = ccomments[low] = []
        else:
            words.append(tok)
    if date_text and "(" in date_text:
        for tok in _tokenize(date_text):
            if tok[0] == "(":
                text = _comment_text(tok)
                comments.append(text)
                current_comments.append(text)
    return clauses, ccomments, comments


def _parse(kept: str, header_index: int) -> Hop:
    s = " ".join(kept.split())  # the same white space as re's \s, runs collapsed, ends stripped
    clauses_text, date_text = _split_date(s)
    clauses, ccomments, comments = _clauses(clauses_text, date_text)

    helo = rdns = ip = None
    forged = False
    if "from" in clauses:
        helo, rdns, ip, forged = _from_part(clauses["from"], ccomments.get("from", []))

    by_host = None
    by_ip = None
    if clauses.get("by"):
        by_host = _clean_host(clauses["by"][0])
        for c in ccomments.get("by", []):
            cand_ip, _ = _tcp_info(c)
            if cand_ip is not None:
                by_ip = cand_ip
                break
        if by_ip is None and by_host is not None:
            by_ip = literal_ip(by_host)

    protocol, extra = _protocol(clauses.get("with", []))
    tls_version = tls_cipher = None
    tls_bits = None
    for c in comments:
        folded = _folded(c)
        if (folded is not None and "tls" not in folded and "ssl" not in folded) or not _TLS_HINT.search(c):
            continue
        v, ci, b = _tls_from_comment(c)
        if v is not None or ci is not None:
            tls_version, tls_cipher, tls_bits = v, ci, b
            break
    if tls_cipher is None and len(extra) >= 2 and extra[0].lower() == "tls":  # Exim 4.9x: "(TLS1.3) tls CIPHER"
        tls_cipher = extra[1]

    all_comments = " ) ( ".join(comments)
    envelope_from = None
    if clauses.get("envelope-from"):
        envelope_from = clauses["envelope-from"][0].strip("<>,;")
    elif "nvelope-from" in all_comments or "NVELOPE-FROM" in all_comments:
        me = _ENVFROM_RE.search(all_comments)
        if me:
            envelope_from = me.group(1)

    for_words = clauses.get("for", [])
    for_addr = " ".join(for_words[:4]).strip("<>,;") if for_words else None
    if for_addr and for_words and for_words[0].startswith("<"):
        for_addr = for_words[0].strip("<>,;")

    hop_id = clauses["id"][0].strip("<>;,") if clauses.get("id") else None
    via = " ".join(clauses["via"][:4]) if clauses.get("via") else None

    folded_all = _folded(all_comments)
    authenticated = bool(protocol in _AUTH_PROTOCOLS or (
        all_comments and (folded_all is None or "auth" in folded_all) and _AUTH_RE.search(all_comments)))
    tls_summary = None
    if tls_version or tls_cipher:
        tls_summary = " ".join(x for x in (tls_version, tls_cipher, f"{tls_bits} bits" if tls_bits else None) if x)
    elif protocol in _TLS_PROTOCOLS:
        tls_summary = f"yes ({protocol})"

    preamble = ccomments.get("", [])
    recognised = ("by" in clauses or "from" in clauses
                  or any(_QMAIL_RE.match(c) or c.lower().startswith("from ") for c in preamble))
    timestamp = parse_timestamp(date_text)
    return _new_hop(
        header_index=header_index, raw=kept, parsed=recognised,
        from_helo=helo, from_rdns=rdns, from_ip=ip, by_host=by_host, via=via, protocol=protocol,
        tls=tls_summary, id=hop_id or None, for_addr=for_addr or None, envelope_from=envelope_from,
        timestamp=timestamp, timestamp_raw=date_text[:MAX_DATE_CHARS] if date_text else None,
        comments=tuple([c[:300] for c in comments[:20]]), authenticated=authenticated,
        by_ip=by_ip, tls_version=tls_version, tls_cipher=tls_cipher, tls_bits=tls_bits, may_be_forged=forged,
    )
