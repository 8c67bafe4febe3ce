"""Reported authentication: Authentication-Results (RFC 8601), ARC-Authentication-Results (RFC 8617),
Received-SPF (RFC 7208 section 9.1) and the vendor copies of them met in real mail.

Everything here is a *claim* by whoever wrote the header; nothing is verified. The parsers are
tolerant, bounded and never raise: damage is recorded in ``ReportedAuth.parse_errors`` and the
parser goes on with what it can still read.

Departures from a strict RFC 8601 reader, on purpose:

* comments are kept (``(1024-bit key)``, ``(sender IP is 192.0.2.1)``), per result;
* unknown methods, unknown ptypes and properties without a ptype (Microsoft's ``action=none``,
  Yahoo's ``arc_overridden_status=...``) are kept as they are;
* a missing authserv-id (Microsoft 365 writes ``spf=pass (sender IP is ...) smtp.mailfrom=...``),
  trailing or missing semicolons, stray tokens and unquoted values with ``:`` are read, with a note.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from mailsleuth.model.auth import AuthProperty, AuthResultValue, ReportedAuth, ReportedResult
from mailsleuth.model.fastinit import factory
from mailsleuth.model.message import Header

MAX_VALUE_CHARS = 32_000
MAX_RESULTS = 200
MAX_PROPERTIES = 50
MAX_COMMENT_DEPTH = 20

# Header fields with the Authentication-Results syntax. The value says whether the field is a copy
# of what an earlier system wrote (so it can never be the recipient's own statement).
AR_LIKE = {
    "authentication-results": False,
    "arc-authentication-results": False,
    "x-ms-exchange-authentication-results": False,
    "authentication-results-original": True,
    "x-original-authentication-results": True,
}
RECEIVED_SPF = "received-spf"
AUTH_HEADER_NAMES = frozenset((*AR_LIKE, RECEIVED_SPF))

# Method names we recognise when a semicolon between two results is missing.
KNOWN_METHODS = frozenset({
    "spf", "dkim", "dmarc", "arc", "iprev", "auth", "sender-id", "dkim-adsp", "vbr", "smime", "rrvs",
    "dnswl", "dkim-atps", "compauth", "bimi", "tls", "x-tls", "dara", "domainkeys", "x-dkim-adsp",
})

_new_property = factory(AuthProperty)  # a few per result: the cheaper way to build them
_new_result = factory(ReportedResult)

_WS = " \t\r\n"
NO_AUTHSERV_ID = "no authserv-id"

# Decides ``ReportedAuth.trusted`` from the authserv-id (or Received-SPF receiver) once it is read.
TrustTest = Callable[[str | None], bool]


_WS_RUN = re.compile(r"[ \t\r\n]*")
_COMMENT_SPECIAL = re.compile(r"[\\()]")
_QUOTED_SPECIAL = re.compile(r'[\\"]')
_WORD_RX: dict[str, re.Pattern[str]] = {}


def _word_rx(stops: str) -> re.Pattern[str]:
    """A pattern for a run of characters outside ``stops`` (a handful of constant stop sets)."""
    rx = _WORD_RX.get(stops)
    if rx is None:
        rx = re.compile("[^" + "".join("\\" + c if c in "\\]^-[" else c for c in stops) + "]*")
        if len(_WORD_RX) < 64:
            _WORD_RX[stops] = rx
    return rx


class _Reader:
    """A cursor over one header value with RFC 5322 CFWS handling."""

    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.i = 0
        self.comments: list[str] = []
        self.errors: list[str] = []

    def at_end(self) -> bool:
        return self.i >= self.n

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    def skip_cfws(self) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in _WS:
                self.i = _WS_RUN.match(self.s, self.i).end()  # type: ignore[union-attr]  # matches empty
            elif c == "(":
                self.comments.append(self._comment())
            else:
                return

    def _take_plain(self, c: str, specials: str, special_rx: re.Pattern[str], out: list[str]) -> bool:
        """Inside a comment or quoted-string: take a run of ordinary characters, or one quoted-pair,
        at once. False when ``c`` is a special character the caller handles."""
        if c not in specials:
            m = special_rx.search(self.s, self.i)
            end = m.start() if m is not None else self.n
            out.append(self.s[self.i : end])
            self.i = end
            return True
        if c == "\\" and self.i + 1 < self.n:
            out.append(self.s[self.i + 1])
            self.i += 2
            return True
        return False

    def _comment(self) -> str:
        # At "(": read a (possibly nested) comment; an unclosed one runs to the end of the value.
        depth = 0
        start = self.i
        out: list[str] = []
        while self.i < self.n:
            c = self.s[self.i]
            if self._take_plain(c, "\\()", _COMMENT_SPECIAL, out):
                continue
            if c == "(":
                depth += 1
                if depth > 1:
                    out.append(c)
                if depth > MAX_COMMENT_DEPTH:
                    self.errors.append("comments nested too deeply")
                    self.i = self.n
                    break
            elif c == ")":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return " ".join("".join(out).split())
                out.append(c)
            else:
                out.append(c)
            self.i += 1
        self.errors.append(f"unclosed comment at offset {start}")
        return " ".join("".join(out).split())

    def quoted(self) -> str:
        # At '"': read a quoted-string; an unclosed one runs to the end of the value.
        self.i += 1
        out: list[str] = []
        while self.i < self.n:
            c = self.s[self.i]
            if self._take_plain(c, '\\"', _QUOTED_SPECIAL, out):
                continue
            if c == '"':
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        self.errors.append("unclosed quoted string")
        return "".join(out)

    def word(self, stops: str) -> str:
        start = self.i
        if start >= self.n:
            return ""
        self.i = _word_rx(stops).match(self.s, start).end()  # type: ignore[union-attr]  # matches empty
        return self.s[start:self.i]

    def value(self, stops: str = _WS + ';()"') -> str:
        """A token or a quoted-string (quoted text may be followed by more token text)."""
        if self.peek() == '"':
            return self.quoted()
        return self.word(stops)

    def skip_to_semicolon(self) -> str:
        start = self.i
        while self.i < self.n and self.s[self.i] != ";":
            if self.s[self.i] == "(":
                self.comments.append(self._comment())
                continue
            if self.s[self.i] == '"':
                self.quoted()
                continue
            self.i += 1
        return self.s[start:self.i].strip()


_KEY_STOPS = _WS + ';()"=./'
_INSTANCE_START = re.compile(r"i\s*=\s*\d")
_INSTANCE = re.compile(r"i\s*=\s*(\d{1,4})\s*;?")
_RESULT_STOPS = _WS + ';()"='


def _looks_like_resinfo(r: _Reader) -> bool:
    """True when the cursor is at ``keyword [/version] =`` (a result rather than an authserv-id)."""
    save = r.i, len(r.comments), len(r.errors)
    key = r.word(_KEY_STOPS)
    r.skip_cfws()
    if r.peek() == "/":
        r.i += 1
        r.skip_cfws()
        r.word(_KEY_STOPS)
        r.skip_cfws()
    ok = bool(key) and r.peek() == "="
    r.i = save[0]
    del r.comments[save[1]:]
    del r.errors[save[2]:]
    return ok


# --- fast path -------------------------------------------------------------------------------
# Most results have the plain shape ``; method=result ptype.prop=value ...`` with simple comments and
# simple quoted values. One compiled pattern reads such a result whole; anything else (a nested
# comment, a quoted-pair, an unclosed quote, a missing value, a missing ';', ...) fails the pattern
# and the careful reader above takes that result instead. Every quantifier is possessive, so the
# pattern reads tokens exactly as _Reader.word does (longest run) and never re-splits them.
_CFWS = r"(?:[ \t\r\n]++|\([^()\\]*+\))*+"
_KEY = r'[^ \t\r\n;()"=./]++'
_VALUE = r'(?:"[^"\\]*+"|[^ \t\r\n;()"]*+)'
_PROP = rf"{_CFWS}(?P<key>{_KEY}){_CFWS}(?:\.{_CFWS}(?P<name>{_KEY}){_CFWS})?={_CFWS}(?P<value>{_VALUE})"
_FAST_RESINFO = re.compile(
    rf"{_CFWS}(?P<semi>;{_CFWS})?"
    rf"(?P<method>{_KEY}){_CFWS}(?:/{_CFWS}(?P<version>{_KEY})?{_CFWS})?={_CFWS}"
    rf'(?P<result>[^ \t\r\n;()"=]++)'
    rf"(?P<props>(?:{_PROP})*+){_CFWS}(?=;|\Z)"
)
_FAST_PROP = re.compile(_PROP)
# The authserv-id (no "=" in it, so it cannot be a result) and an optional version, up to the ';'.
_FAST_HEAD = re.compile(rf'(?P<id>[^ \t\r\n;()"=]++){_CFWS}(?:(?P<version>\d++){_CFWS})?(?=;)')
_COMMENT_OR_QUOTED = re.compile(r'("[^"]*+")|\(([^()]*+)\)')
_COMMENT = re.compile(r"\(([^()]*+)\)")


@functools.lru_cache(maxsize=256)
def _result_value(text: str) -> AuthResultValue:
    return AuthResultValue.parse(text)


def _fast_resinfo(r: _Reader, semicolon_optional: bool) -> ReportedResult | None:
    """The next ``[;] method=result props`` in the plain shape, read at once; None when the careful
    reader must take it (``r`` is then unchanged). Without ``semicolon_optional`` the ';' is required."""
    m = _FAST_RESINFO.match(r.s, r.i)
    if m is None or (m["semi"] is None and not semicolon_optional):
        return None
    props_start, props_end = m.span("props")
    if r.s.count("=", props_start, props_end) >= MAX_PROPERTIES:
        return None  # perhaps more properties than are kept: the careful reader stops at the limit
    method = m["method"].lower()
    reason: str | None = None
    props: list[AuthProperty] = []
    for key, name, value in _FAST_PROP.findall(r.s, props_start, props_end):
        if value.startswith('"'):
            value = value[1:-1]
        lkey = key.lower()
        if name:  # the name group never matches empty: "" means no ptype
            props.append(_new_property(ptype=lkey, name=name.lower(), value=value))
        elif lkey in KNOWN_METHODS and lkey != method:
            return None  # probably a missing ';': the careful reader notes it
        elif lkey == "reason" and reason is None:
            reason = value
        else:
            props.append(_new_property(ptype="", name=lkey, value=value))
    if len(props) >= MAX_PROPERTIES:
        return None
    start, end = m.start("method"), m.end()
    comments: tuple[str, ...] = ()
    if r.s.find("(", start, end) >= 0:
        comments = _comments_in(r.s, start, end)
    r.i = end
    result_raw = m["result"]
    return _new_result(
        method=method, method_version=m["version"], result=_result_value(result_raw), result_raw=result_raw,
        reason=reason, properties=tuple(props), comments=comments,
    )


def _comments_in(s: str, start: int, end: int) -> tuple[str, ...]:
    """The simple comments in a span already matched by _FAST_RESINFO, white space collapsed as
    _Reader._comment does (quoted values, which may hold parentheses, are stepped over)."""
    if s.find('"', start, end) < 0:
        return tuple(" ".join(c.split()) for c in _COMMENT.findall(s, start, end))
    return tuple(" ".join(c.split()) for quoted, c in _COMMENT_OR_QUOTED.findall(s, start, end) if not quoted)


def _read_resinfo(r: _Reader) -> ReportedResult | None:
    """At a method keyword: read ``method[/v]=result [reason=..] [ptype.prop=value ...]``."""
    first_comment = len(r.comments)
    method = r.word(_KEY_STOPS).lower()
    if not method:
        return None
    r.skip_cfws()
    version: str | None = None
    if r.peek() == "/":
        r.i += 1
        r.skip_cfws()
        version = r.word(_KEY_STOPS) or None
        r.skip_cfws()
    if r.peek() != "=":
        r.errors.append(f"method {method!r} without a result")
        r.skip_to_semicolon()
        return None
    r.i += 1
    r.skip_cfws()
    result_raw = r.value(_RESULT_STOPS)
    reason: str | None = None
    props: list[AuthProperty] = []
    while not r.at_end() and len(props) < MAX_PROPERTIES:
        r.skip_cfws()
        c = r.peek()
        if c in ("", ";"):
            break
        mark = r.i
        if _looks_like_resinfo(r):
            save = r.i
            key = r.word(_KEY_STOPS).lower()
            r.i = save
            if key in KNOWN_METHODS and key != method:
                r.errors.append(f"missing ';' before {key!r}")
                break
        key = r.word(_KEY_STOPS)
        r.skip_cfws()
        if r.peek() == ".":
            r.i += 1
            r.skip_cfws()
            name = r.word(_KEY_STOPS)
            r.skip_cfws()
            if r.peek() != "=":
                r.errors.append(f"property {key}.{name} without a value")
                continue
            r.i += 1
            r.skip_cfws()
            props.append(_new_property(ptype=key.lower(), name=name.lower(), value=r.value()))
        elif r.peek() == "=":
            r.i += 1
            r.skip_cfws()
            val = r.value()
            if key.lower() == "reason" and reason is None:
                reason = val
            else:
                props.append(_new_property(ptype="", name=key.lower(), value=val))
        else:
            stray = key or r.skip_to_semicolon()
            if not key and r.i == mark:
                r.i += 1  # always make progress
            r.errors.append(f"stray text {stray[:60]!r} after {method}={result_raw}")
    return ReportedResult(
        method=method, method_version=version, result=_result_value(result_raw), result_raw=result_raw,
        reason=reason, properties=tuple(props), comments=tuple(r.comments[first_comment:]),
    )


def parse_ar_value(value: str, *, arc: bool = False, fast: bool = True) -> tuple[
        str | None, str | None, int | None, tuple[ReportedResult, ...], tuple[str, ...], bool]:
    """Parse the value of an Authentication-Results-like field.

    Returns ``(authserv_id, version, arc_instance, results, errors, none_result)``. Never raises.
    ``fast=False`` reads every result with the careful reader only (the tests compare the two).
    """
    text = value[:MAX_VALUE_CHARS]
    r = _Reader(text)
    errors: list[str] = []
    if len(value) > MAX_VALUE_CHARS:
        errors.append(f"value longer than {MAX_VALUE_CHARS} characters was cut")
    instance: int | None = None
    r.skip_cfws()
    if arc or _INSTANCE_START.match(text, r.i, r.i + 20):
        m = _INSTANCE.match(text, r.i)
        if m:
            instance = int(m.group(1))
            r.i = m.end()
        elif arc:
            errors.append("no i= instance tag")
    r.skip_cfws()
    authserv_id: str | None = None
    version: str | None = None
    head = _FAST_HEAD.match(text, r.i) if fast else None
    if head is not None:
        authserv_id, version = head["id"], head["version"]
        r.i = head.end()
    elif _looks_like_resinfo(r):
        errors.append(NO_AUTHSERV_ID + " (the field starts with a result)")
    else:
        authserv_id = r.value() or None
        r.skip_cfws()
        v = r.word(_WS + ';()"')
        if v.isdigit():
            version = v
        elif v:
            errors.append(f"unexpected text {v[:60]!r} after the authserv-id")
        r.comments.clear()  # comments on the authserv-id are not about any result
    results: list[ReportedResult] = []
    none_result = False
    first = authserv_id is None
    guard = 0
    while not r.at_end() and len(results) < MAX_RESULTS and guard < 4 * MAX_RESULTS:
        guard += 1
        quick = _fast_resinfo(r, first or bool(results)) if fast else None
        if quick is not None:
            first = False
            results.append(quick)
            continue
        r.skip_cfws()
        if r.at_end():
            break
        if r.peek() == ";":
            r.i += 1
            r.skip_cfws()
            if r.at_end():
                break  # trailing semicolon
        elif not first and not results:
            errors.append("missing ';' after the authserv-id")
        first = False
        if r.peek() == ";":
            continue
        if not _looks_like_resinfo(r):
            save = r.i
            word = r.word(_WS + ";()")
            rest_i = r.i
            r.skip_cfws()
            if word.lower() == "none" and (r.at_end() or r.peek() == ";"):
                none_result = True
                continue
            r.i = rest_i if word else save
            stray = word or r.skip_to_semicolon()
            if r.i == save:
                r.i += 1
            errors.append(f"stray text {stray[:60]!r} where a result was expected")
            continue
        res = _read_resinfo(r)
        if res is not None:
            results.append(res)
    if len(results) >= MAX_RESULTS:
        errors.append(f"more than {MAX_RESULTS} results; the rest were ignored")
    errors.extend(r.errors)
    return authserv_id, version, instance, tuple(results), tuple(errors), none_result


def parse_authentication_results(value: str, *, header_name: str = "Authentication-Results", header_index: int = 0,
                                 occurrence: int = 0, raw: str | None = None,
                                 trust: TrustTest | None = None) -> ReportedAuth:
    """One A-R-like header (A-R, ARC-A-R, vendor copies) as a ReportedAuth, untrusted unless ``trust``
    says otherwise for its authserv-id."""
    arc = header_name.lower() == "arc-authentication-results"
    try:
        authserv_id, version, instance, results, errors, _none = parse_ar_value(value, arc=arc)
    except Exception as exc:  # pragma: no cover - defensive: the parser is written not to raise
        authserv_id, version, instance, results, errors = None, None, None, (), (f"parser error {type(exc).__name__}",)
    return ReportedAuth(
        header_name=header_name, header_index=header_index, occurrence=occurrence, authserv_id=authserv_id,
        results=results, raw=(raw if raw is not None else value)[:4000], arc_instance=instance, version=version,
        parse_errors=errors, trusted=trust is not None and trust(authserv_id),
    )


# --- Received-SPF -------------------------------------------------------------------------------

_SPF_RESULT = re.compile(r"\s*(?:spf[-_ ]?)?([A-Za-z]+)", re.I)
_SPF_KV = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;\s]*)")
_COMMENT_RECEIVER = re.compile(r"^\s*([A-Za-z0-9.-]+\.[A-Za-z]{2,}|[A-Za-z0-9.-]+):\s")
_DOMAIN_OF = re.compile(r"domain of (?:transitioning\s*)?(\S+?@)?([A-Za-z0-9._-]+\.[A-Za-z0-9-]+)\b", re.I)
_SPF_WORDS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "error", "hardfail"}


def parse_received_spf(value: str, *, header_index: int = 0, occurrence: int = 0,
                       raw: str | None = None, trust: TrustTest | None = None) -> ReportedAuth:
    """Received-SPF in the RFC 7208 form and the common variants (``spf-pass``, ``Pass (mailfrom)``,
    Microsoft's ``Pass (protection.outlook.com: domain of ...) receiver=...; client-ip=...``)."""
    text = value[:MAX_VALUE_CHARS]
    errors: list[str] = []
    r = _Reader(text)
    r.skip_cfws()
    m = _SPF_RESULT.match(text, r.i)
    result_raw = ""
    if m:
        result_raw = m.group(0).strip()
        word = m.group(1).lower()
        if word not in _SPF_WORDS:
            errors.append(f"unknown SPF result {result_raw[:40]!r}")
        r.i = m.end()
    else:
        errors.append("no SPF result")
    r.skip_cfws()
    comments = tuple(r.comments)
    rest = text[r.i:]
    props: list[AuthProperty] = []
    for km in _SPF_KV.finditer(rest):
        if len(props) >= MAX_PROPERTIES:
            break
        v = km.group(2)
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = v[1:-1]
        props.append(_new_property(ptype="", name=km.group(1).lower(), value=v))
    kv = {p.name: p.value for p in reversed(props)}
    receiver = kv.get("receiver")
    if receiver and receiver.startswith("<"):
        receiver = None  # "<UNKNOWN>"
    if not receiver and comments:
        cm = _COMMENT_RECEIVER.match(comments[0])
        if cm:
            receiver = cm.group(1)
    mailfrom = kv.get("envelope-from", "").strip("<>")
    if not mailfrom:
        for c in comments:
            dm = _DOMAIN_OF.search(c)
            if dm:
                mailfrom = (dm.group(1) or "") + dm.group(2)
                break
    identity = kv.get("identity", "").lower()
    if mailfrom and identity in ("", "mailfrom"):
        props.append(_new_property(ptype="smtp", name="mailfrom", value=mailfrom))
    if kv.get("helo"):
        props.append(_new_property(ptype="smtp", name="helo", value=kv["helo"]))
    res = ReportedResult(method="spf", result=_result_value(m.group(1) if m else ""), result_raw=result_raw,
                         properties=tuple(props), comments=comments)
    errors.extend(r.errors)
    return ReportedAuth(header_name="Received-SPF", header_index=header_index, occurrence=occurrence,
                        authserv_id=receiver, results=(res,), raw=(raw if raw is not None else value)[:4000],
                        parse_errors=tuple(errors), trusted=trust is not None and trust(receiver))


def parse_auth_header(h: Header, trust: TrustTest | None = None) -> ReportedAuth | None:
    """Parse any supported authentication header; None for other fields. ``trust`` (called with the
    authserv-id) sets ``ReportedAuth.trusted``; without it the header is untrusted."""
    name = h.lname
    value = h.value
    if name == RECEIVED_SPF:
        return parse_received_spf(value, header_index=h.index, occurrence=h.occurrence, raw=h.raw, trust=trust)
    if name in AR_LIKE:
        return parse_authentication_results(value, header_name=h.name, header_index=h.index,
                                            occurrence=h.occurrence, raw=h.raw, trust=trust)
    return None


def is_copy(header_name: str) -> bool:
    """True for fields that preserve what an earlier system wrote (never the recipient's own claim)."""
    return AR_LIKE.get(header_name.lower(), False)
