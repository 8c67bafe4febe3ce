"""Unwrap rewritten links (Safe Links, URL Defense, Google, Barracuda, click trackers) from the
URL alone. Nothing is fetched; when the target is not in the URL (Mimecast) we say so instead of
guessing. Wrapper definitions are data (data/body/wrappers.toml)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

from mailsleuth.body.data import WrapperDef, wrappers
from mailsleuth.parse.links import split_host

_MAX_LEVELS = 5
_RUN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_PP3 = re.compile(r"^/v3/__(.{1,8192}?)__;([A-Za-z0-9_-]*)!")
_PP3_TOKEN = re.compile(r"\*(\*.)?")


@dataclass(frozen=True, slots=True)
class Unwrapped:
    target: str | None  # None when the wrapper keeps the target to itself
    wrapper: str
    note: str | None = None
    kind: str = "tracker"


def _is_http(value: str) -> bool:
    v = value[:8].lower()
    return v.startswith(("http://", "https://"))


def _b64_url(value: str) -> str | None:
    """A URL carried in base64 (standard or URL-safe, padding optional, maybe percent-encoded)."""
    v = value.strip()
    if len(v) < 12 or len(v) > 8192:
        return None
    try:
        raw = base64.b64decode(v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4), validate=False)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if text[:12].lower().startswith(("http%3a", "https%3a")):
        text = unquote(text)
    return text if _is_http(text) and text.isprintable() else None


def _query_target(parts_query: str, params: tuple[str, ...], try_base64: bool = False) -> str | None:
    try:
        pairs = parse_qsl(parts_query, keep_blank_values=False, max_num_fields=200)
    except ValueError:
        return None
    values: dict[str, str] = {}
    for k, v in pairs:
        values.setdefault(k.lower(), v)
    for p in params:
        v = values.get(p, "")
        if v and _is_http(v.strip()):
            return v.strip()
        if v and v[:12].lower().startswith(("http%3a", "https%3a")):
            return unquote(v).strip()
        if v and try_base64:
            decoded = _b64_url(v)
            if decoded:
                return decoded
    return None


def _proofpoint_v2(query: str) -> str | None:
    try:
        pairs = dict(parse_qsl(query, max_num_fields=200))
    except ValueError:
        return None
    u = pairs.get("u")
    if not u:
        return None
    target = unquote(u.replace("-", "%").replace("_", "/"))
    return target if _is_http(target) else None


def _proofpoint_v3(path: str) -> str | None:
    m = _PP3.match(path)
    if not m:
        return None
    encoded, tail = m.group(1), m.group(2)
    try:
        replacement = base64.urlsafe_b64decode(tail + "=" * (-len(tail) % 4)).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        replacement = ""
    pos = 0
    out: list[str] = []
    last = 0
    for tok in _PP3_TOKEN.finditer(encoded):
        out.append(encoded[last : tok.start()])
        if tok.group(1):
            run = _RUN_ALPHABET.find(tok.group(1)[1]) + 2
            if run < 2:
                return None
            out.append(replacement[pos : pos + run])
            pos += run
        else:
            out.append(replacement[pos : pos + 1])
            pos += 1
        last = tok.end()
    out.append(encoded[last:])
    target = "".join(out)
    return target if _is_http(target) else None


@lru_cache(maxsize=64)
def _param_start(params: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("[?&](?:" + "|".join(re.escape(p) for p in params) + ")=")


def _may_name_param(url: str, params: tuple[str, ...]) -> bool:
    """Whether a query parameter of ``url`` can be one of ``params`` (compared lower-case, which
    also covers the exact comparison): a quick look that spares urlsplit and parse_qsl for most
    URLs. A name starts the query ('?') or follows '&' and is followed by '='. parse_qsl decodes
    percent-escapes in names: a name's escapes decode alike in the whole URL (they cannot run past
    the literal '&', '?' or '=' around it), so with a '%' the decoded URL is searched (decoding
    elsewhere can only add places to look). A tab or line break (urlsplit removes them) could
    hide one, so those URLs are parsed."""
    if "=" not in url:
        return False
    if "\t" in url or "\r" in url or "\n" in url:
        return True
    return _param_start(params).search((unquote(url) if "%" in url else url).lower()) is not None


def _apply(w: WrapperDef, url: str, host: str | None = None) -> Unwrapped | None:
    if host is None:
        host = split_host(url)[1]
    if not host or not w.matches_host(host):
        return None
    return _apply_to_host(w, url, host)


def _apply_to_host(w: WrapperDef, url: str, host: str) -> Unwrapped | None:
    """_apply for a ``host`` known to match ``w`` (one of _candidates(host))."""
    if w.method in ("query", "query-base64") and not _may_name_param(url, w.params):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if w.paths and not any(parts.path.startswith(p) for p in w.paths):
        return None
    if w.method == "query":
        target = _query_target(parts.query, w.params, w.base64)
        return Unwrapped(target, w.id, kind=w.kind) if target else None
    if w.method == "query-base64":
        try:
            values = dict(parse_qsl(parts.query, max_num_fields=200))
        except ValueError:
            return None
        for p in w.params:
            v = values.get(p, "")
            if v.startswith(w.prefix):
                target = _b64_url(v[len(w.prefix) :])
                if target:
                    return Unwrapped(target, w.id, kind=w.kind)
        return None
    if w.method in ("path-prefix", "path-segment"):
        path = url.split(host, 1)[-1] if host in url.lower() else parts.path
        for prefix in w.paths:
            i = path.find(prefix)
            if i == -1:
                continue
            rest = path[i + len(prefix) :]
            if w.method == "path-segment":
                rest = unquote(rest.split("/", 1)[0])
            target = "https://" + rest
            if rest and split_host(target)[1] and "." in split_host(target)[1]:
                return Unwrapped(target, w.id, kind=w.kind)
        return None
    if w.method == "proofpoint-v2":
        target = _proofpoint_v2(parts.query)
        return Unwrapped(target, w.id, kind=w.kind) if target else None
    if w.method == "proofpoint-v3":
        raw_path = url.split(host, 1)[-1] if host in url.lower() else parts.path
        raw_path = raw_path[raw_path.find("/v3/"):] if "/v3/" in raw_path else parts.path
        target = _proofpoint_v3(raw_path)
        return Unwrapped(target, w.id, kind=w.kind) if target else None
    if w.method == "opaque":
        note = "the target is kept by the wrapping service and cannot be read from the URL"
        if w.note_param:
            try:
                hint = dict(parse_qsl(parts.query, max_num_fields=200)).get(w.note_param)
            except ValueError:
                hint = None
            if hint:
                note += f" (the URL names the domain {hint[:100]!r})"
        return Unwrapped(None, w.id, note, kind=w.kind)
    return None


@lru_cache(maxsize=4096)
def _candidates(host: str) -> tuple[WrapperDef, ...]:
    return tuple(w for w in wrappers() if w.matches_host(host))


def unwrap_once(url: str, host: str | None = None) -> Unwrapped | None:
    if host is None:
        host = split_host(url)[1]
    if not host:
        return None
    for w in _candidates(host):
        got = _apply_to_host(w, url, host)
        if got is not None:
            return got
    return None


def unwrap(url: str, host: str | None = None) -> Unwrapped | None:
    """The innermost target of nested wrappers, or None when ``url`` is not a known wrapper.
    The wrapper id is the outermost one; an opaque wrapper stops the unwrapping."""
    first: Unwrapped | None = None
    current = url
    for _ in range(_MAX_LEVELS):
        got = unwrap_once(current, host if current == url else None)
        if got is None:
            break
        if first is None:
            first = got
        if got.target is None:
            return Unwrapped(None if current == url else current, first.wrapper, got.note, first.kind)
        if got.target == current:
            break
        current = got.target
    if first is None:
        return None
    return Unwrapped(current, first.wrapper, first.note, first.kind)
