"""Links from text and HTML, bounded, without a browser.

HTML is read by a linear tag scanner (regular expressions whose repetitions stop at '<' or '>'
and never backtrack) up to ``MAX_HTML_CHARS``; past that a linear scan picks up the remaining
``href``/``src``/``action`` values so that padding cannot hide a link. The stdlib's html.parser was
measured at about 0.7 µs per byte on tag-dense mail (40 ms for a 60 KB newsletter), far over the
per-message budget; this scanner reads the same tags (a, area, img, form, input, base, meta,
link, iframe, CSS url(), ...) at a small fraction of that. Plain text yields URLs, ``www.`` names
and defanged forms (``hxxp://``, ``[.]``, ``(.)``, ``[dot]``, ``[:]``). Every function stops at
``max_links``. Nothing here raises on any input.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from html.entities import html5
from typing import Any
from urllib.parse import urljoin

MAX_HTML_CHARS = 2_000_000
MAX_TEXT_CHARS = 5_000_000
_MAX_ANCHOR_TEXT = 300
_MAX_URL = 8192
_MAX_CANDIDATES = 30_000  # places in a text where a URL could start that are examined

_URL_ATTR_PAIRS = (
    ("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("img", "lowsrc"),
    ("image", "href"), ("iframe", "src"), ("frame", "src"), ("embed", "src"), ("script", "src"),
    ("source", "src"), ("video", "poster"), ("video", "src"), ("audio", "src"), ("object", "data"),
    ("form", "action"), ("button", "formaction"), ("input", "formaction"), ("input", "src"),
    ("body", "background"), ("table", "background"), ("td", "background"), ("th", "background"),
    ("a", "xlink:href"), ("v:imagedata", "src"), ("v:fill", "src"),
)
_URL_ATTRS: dict[str, frozenset[str]] = {
    t: frozenset(a for tt, a in _URL_ATTR_PAIRS if tt == t) for t, _ in _URL_ATTR_PAIRS}  # tag -> URL attributes
_CSS_URL = re.compile(r"""url\(\s*+["']?([^"')\s]{1,8192}+)["']?\s*+\)""", re.I)
_REFRESH = re.compile(r"""^\s*\d*\s*[;,]?\s*url\s*=\s*["']?([^"']+)""", re.I)
_TRAILING = ".,;:!?'\"*>"

# Plain text: a scheme (also defanged) or www., then non-space characters.
_TEXT_URL = re.compile(
    r"(?i)(?<![\w@.-])((?:h(?:tt|xx|\*\*)ps?|ftp|fxp)(?:\[?:\]?|\(:\))//[^\s<>\"'`{}|\\^]{1,8192}"
    r"|www(?:\.|\[\.\]|\(\.\))[a-z0-9-]{1,63}(?:\.|\[\.\]|\(\.\)|\[dot\])[^\s<>\"'`{}|\\^]{1,8192})"
)
# Defanged bare names: at least one [.] / (.) / [dot] between labels.
_DEFANGED_NAME = re.compile(
    r"(?i)(?<![\w.-])([a-z0-9][a-z0-9-]{0,62}(?:(?:\[\.\]|\(\.\)|\[dot\]|\.)[a-z0-9-]{1,63}){1,10}"
    r"(?:/[^\s<>\"'`]{0,2000})?)"
)
_DEFANG_MARKS = re.compile(r"(?i)\[\.\]|\(\.\)|\[dot\]|\{\.\}")


@dataclass(slots=True)
class RawLink:
    url: str
    tag: str
    attr: str
    text: str = ""
    defanged: bool = False


@dataclass(slots=True)
class RawForm:
    action: str
    method: str
    inputs: list[str] = field(default_factory=list)
    password_fields: int = 0


@dataclass(slots=True)
class HtmlScan:
    links: list[RawLink] = field(default_factory=list)
    forms: list[RawForm] = field(default_factory=list)
    scripts: int = 0
    password_fields: int = 0
    remote_images: int = 0
    tracking_pixels: int = 0
    meta_refresh: str | None = None
    base_href: str | None = None
    truncated: bool = False
    dropped: int = 0  # links beyond max_links (at least this many)
    text_chars: int = 0


_SCHEME_HOST = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]{0,30}+):(?://([^/?#\\]{0,1024}+))?")


def split_host(url: str) -> tuple[str, str]:
    """(scheme, host) of a URL, fast and lenient: lower-case, no user info, port or brackets;
    for mailto: the domain of the address. ('', '') when the URL has no scheme."""
    m = _SCHEME_HOST.match(url)
    if m is None:
        return "", ""
    scheme = m.group(1).lower()
    netloc = m.group(2)
    if scheme == "mailto":
        addr = url[m.end() :].split("?", 1)[0]
        return scheme, addr.rsplit("@", 1)[-1].lower().strip(" >") if "@" in addr else ""
    if not netloc:
        return scheme, ""
    hostport = netloc.rpartition("@")[2]
    host = hostport[1:].partition("]")[0] if hostport.startswith("[") else hostport.partition(":")[0]
    return scheme, host.lower().rstrip(".")


def refang(url: str) -> tuple[str, bool]:
    """('hxxp://evil[.]example', ...) -> ('http://evil.example', True)."""
    if url[:4].lower() == "http" and "[" not in url and "(" not in url and "{" not in url:
        return url, False  # the usual URL: no defanged scheme, and each mark opens with one of [ ( {
    out = url
    changed = False
    low = out[:8].lower()
    if low.startswith(("hxxp", "h**p", "fxp")):
        out = ("http" if low.startswith(("hxxp", "h**p")) else "ftp") + out[4 if low[0] == "h" else 3 :]
        changed = True
    if "[:]" in out or "(:)" in out:
        out = out.replace("[:]", ":").replace("(:)", ":")
        changed = True
    if ("[" in out or "(" in out or "{" in out) and _DEFANG_MARKS.search(out):  # every mark opens with one
        out = _DEFANG_MARKS.sub(".", out)
        changed = True
    return out, changed


def _trim(url: str) -> str:
    url = url.rstrip(_TRAILING)
    # Drop a closing bracket the URL did not open (text like "(see https://x.example/a)").
    for close, open_ in ((")", "("), ("]", "["), ("}", "{")):
        while url.endswith(close) and url.count(close) > url.count(open_):
            url = url[:-1].rstrip(_TRAILING)
    return url


def _url_matches(text: str, low: bytes) -> Iterator[re.Match[str]]:
    """Matches of _TEXT_URL, found by jumping (C-speed find in ``low``, _fold(text)'s bytes) to
    the places a URL can be: a '//' (the scheme starts at most 8 characters before it) or 'www'.
    The regex only runs there, so long text without URLs costs a plain scan."""
    n = len(text)
    pos = 0
    next_slash = low.find(b"//")
    next_www = low.find(b"www")
    budget = _MAX_CANDIDATES
    while pos < n and budget > 0:
        budget -= 1
        if next_slash != -1 and next_slash < pos:
            next_slash = low.find(b"//", pos)
        if next_www != -1 and next_www < pos:
            next_www = low.find(b"www", pos)
        if next_slash == -1 and next_www == -1:
            return
        if next_www == -1 or (next_slash != -1 and next_slash < next_www):
            c = next_slash
            m = None
            for s in range(max(0, c - 8), c):
                if low[s] in b"hf":
                    m = _TEXT_URL.match(text, s)
                    if m is not None and m.end() > c:
                        break
                    m = None
            pos = c + 2
        else:
            c = next_www
            m = _TEXT_URL.match(text, c)
            pos = c + 3
        if m is not None:
            yield m
            pos = max(pos, m.end())


def links_from_text(text: str, *, max_links: int = 5000, tag: str = "text") -> tuple[list[RawLink], int]:
    """URLs in plain text -> (links, dropped). ``dropped`` counts matches beyond ``max_links``."""
    out: list[RawLink] = []
    dropped = 0
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    spans: list[tuple[int, int]] = []
    low, _ = _fold(text)
    for m in _url_matches(text, low):
        if len(out) >= max_links:
            dropped += 1
            if dropped > 1000:
                break
            continue
        raw = _trim(m.group(1))[:_MAX_URL]
        url, defanged = refang(raw)
        if url.lower().startswith("www."):
            url = "http://" + url
        out.append(RawLink(url=url, tag=tag, attr="url", defanged=defanged))
        spans.append((m.start(), m.end()))
    markers = 0
    k = 0
    taken_until = -1
    marked = b"[." in low or b"(." in low or b"{." in low or b"[dot]" in low  # what _DEFANG_MARKS needs
    for mark in _DEFANG_MARKS.finditer(text) if marked else ():
        markers += 1
        if markers > 500 or len(out) >= max_links:
            break
        at = mark.start()
        if at < taken_until:
            continue
        while k < len(spans) and spans[k][1] <= at:
            k += 1
        if k < len(spans) and spans[k][0] <= at:
            continue  # inside a URL already taken
        dm = _DEFANGED_NAME.search(text, max(0, at - 260), min(len(text), at + 1200))
        while dm is not None and dm.end() <= at:
            dm = _DEFANGED_NAME.search(text, dm.end(), min(len(text), at + 1200))
        if dm is None or dm.start() > at:
            continue
        taken_until = dm.end()
        raw = _trim(dm.group(1))
        if not _DEFANG_MARKS.search(raw):
            continue
        url, _ = refang(raw)
        out.append(RawLink(url="http://" + url, tag=tag, attr="defanged name", defanged=True))
    return out, dropped


# Only the tags that carry links or forms are matched; the regex engine skips the rest (td, div,
# span... the bulk of mail HTML) without a Python step. CSS url() and background= attributes,
# which any tag may carry, are found by two whole-document passes instead.
# The look-ahead on the first letter rejects most other tags with one test instead of one per name.
# The regex finds a tag's start and name; its end is found with str.find (a tag is complete when a
# '>' follows within _MAX_TAG characters, before any '<').
_TAG_NAMES = ("a|area|img|image|link|iframe|frame|embed|script|source|video|audio|object|form|button|input|base|meta|"
              "style|v:imagedata|v:fill")
_ALWAYS_NAMES = "form|input|meta|base|script|style"
_TAG_PATTERN = r"<(?=/?[{first}])(/?)({names})(?![\w:.-])"
_MAX_TAG = 8192  # characters of attributes
_TAG = re.compile("(?i)" + _TAG_PATTERN.format(first="abefilmosv", names=_TAG_NAMES))
_ALWAYS_TAG = re.compile("(?i)" + _TAG_PATTERN.format(first="bfims", names=_ALWAYS_NAMES))
# The same over a folded document (see _fold): bytes, lower-case already, so case-sensitive.
_TAG_FOLDED = re.compile(_TAG_PATTERN.format(first="abefilmosv", names=_TAG_NAMES).encode())
_ALWAYS_TAG_FOLDED = re.compile(_TAG_PATTERN.format(first="bfims", names=_ALWAYS_NAMES).encode())
_NAME_CHAR = re.compile(r"[\w:.-]")
# Characters that case-insensitive matching pairs with an ASCII letter although lower() does not
# (or, for 'İ', gives two characters): 'İ' and 'ı' match i, 'ſ' matches s, 'K' (Kelvin) matches k.
_ODD_CASE = ("\u0130", "\u0131", "\u017f", "\u212a")
_BACKGROUND = re.compile(r"""(?i)(?<![\w-])background\s*+=\s*+["']?([^"'\s<>]{1,8192}+)""")  # matched at a position
_ATTR = re.compile(r"""([^\s"'<>/=]{1,100})(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_ALWAYS = frozenset({"form", "input", "meta", "base", "script", "style"})  # read even when links are full
_ANY_URL_ATTR = re.compile(r"(?i)(?:href|src|action)\s*=")
_RAW_TEXT_END = {"script": re.compile(r"(?i)</script\s*>"), "style": re.compile(r"(?i)</style\s*>")}


# html.unescape reads a reference without ';' only for the legacy names (amp, lt, para, copy...).
_LEGACY_REF = re.compile("&(?:" + "|".join(sorted((re.escape(k) for k in html5 if not k.endswith(";")),
                                                     key=len, reverse=True)) + ")")


def _unescape(val: str) -> str:
    """html.unescape, with fast paths for URLs (same results): when every '&' starts "&amp;" (each
    becomes '&'), and when there is no ';', no '&#' and no legacy name after a '&' (nothing changes:
    raw query strings such as ?a=1&pid=2)."""
    if val.count("&") == val.count("&amp;"):
        return val.replace("&amp;", "&")
    if ";" not in val and "&#" not in val and _LEGACY_REF.search(val) is None:
        return val
    return unescape(val)


def _attrs(text: str) -> dict[str, str]:
    """Attributes of a tag, names lower-cased, the first of a repeated name kept (at most 100)."""
    out: dict[str, str] = {}
    for key, dq, sq, bare in _ATTR.findall(text):  # at most 8192 characters: bounded
        key = key.lower()
        if key in out:
            continue
        val = dq or sq or bare  # one of the three matched; the others are ""
        out[key] = _unescape(val) if "&" in val else val
        if len(out) >= 100:
            break
    return out


def strip_tags(html: str, max_tag: int) -> str:
    """``html`` with each tag (a '<', at most ``max_tag`` characters other than '<' and '>', a '>')
    replaced by a space. Split at '<': every chunk after the first starts inside a possible tag,
    which ends at the chunk's first '>'. (Faster than a regular expression substitution, whose
    engine tests the tag's characters one at a time.)"""
    if "<" not in html:
        return html
    chunks = html.split("<")
    out = [chunks[0]]
    add = out.append
    for chunk in itertools.islice(chunks, 1, None):
        end = chunk.find(">")
        if 0 <= end <= max_tag:
            add(" ")
            add(chunk[end + 1 :])
        else:
            add("<")
            add(chunk)
    return "".join(out)


def _visible(fragment: str) -> str:
    text = strip_tags(fragment[:4000], _MAX_TAG)
    if "&" in text:
        text = _unescape(text)
    return " ".join(text.split())[:_MAX_ANCHOR_TEXT]


class _Scanner:
    """A linear tag scanner (regular expressions that cannot backtrack: every repetition stops at
    '<' or '>'), tolerant like a browser's tokenizer for the parts that matter here."""

    def __init__(self, max_links: int):
        self.scan = HtmlScan()
        self.max_links = max_links
        self._form: RawForm | None = None

    def _add(self, url: str | None, tag: str, attr: str, text: str = "") -> RawLink | None:
        if url is None:
            return None
        url = url.strip()[:_MAX_URL]
        if not url or url.startswith("#"):
            return None
        if len(self.scan.links) >= self.max_links:
            self.scan.dropped += 1
            return None
        url, defanged = refang(url)
        link = RawLink(url, tag, attr, text, defanged)  # positional: the hot path
        self.scan.links.append(link)
        return link

    def feed(self, html: str, folded: bytes | None) -> None:
        """Read the tags of ``html``; ``folded``, when not None, is _fold(html)'s bytes (plain), searched instead."""
        pos = 0
        n = len(html)
        anchor: RawLink | None = None
        anchor_start = 0
        full = False
        haystack: str | bytes = html if folded is None else folded
        tag_rx: re.Pattern[Any] = _TAG if folded is None else _TAG_FOLDED
        while pos < n:
            m = tag_rx.search(haystack, pos)
            if m is None:
                break
            name_end = m.end()
            limit = name_end + _MAX_TAG + 1
            after = html.find("<", name_end, limit)
            close = html.find(">", name_end, limit if after == -1 else after)
            if close == -1 or (folded is not None and folded[name_end] == 63 and _NAME_CHAR.match(html, name_end)):
                # Not a tag: incomplete, or (folded) the '?' stands for a letter that continues the name.
                pos = m.start() + 1
                continue
            pos = close + 1
            closing = m.end(1) > m.start(1)
            tag = html[m.start(2) : name_end].lower()
            rest = html[name_end:close]
            if tag == "a" and anchor is not None:
                anchor.text = _visible(html[anchor_start : m.start()])
                anchor = None
            if closing:
                if tag == "form":
                    self._form = None
                continue
            if full and tag not in _ALWAYS:
                self.scan.dropped += 1
                continue
            link = self._start(tag, _attrs(rest) if rest else {})
            if not full and len(self.scan.links) >= self.max_links:
                full = True
                tag_rx = _ALWAYS_TAG if folded is None else _ALWAYS_TAG_FOLDED
                if _ANY_URL_ATTR.search(html, pos):
                    self.scan.dropped += 1  # at least one more link that will not be examined
            if tag == "a" and link is not None and not rest.rstrip().endswith("/"):
                anchor, anchor_start = link, pos
            if tag in _RAW_TEXT_END:
                end = _RAW_TEXT_END[tag].search(html, pos)
                pos = end.end() if end else n
        if anchor is not None:
            anchor.text = _visible(html[anchor_start : anchor_start + 4000])

    def _start(self, tag: str, a: dict[str, str]) -> RawLink | None:
        anchor_link: RawLink | None = None
        url_attrs = _URL_ATTRS.get(tag)
        if tag == "base" and a.get("href") and self.scan.base_href is None:
            self.scan.base_href = a["href"].strip()[:_MAX_URL]
            self._add(self.scan.base_href, "base", "href")
            return None
        if tag == "meta":
            if a.get("http-equiv", "").strip().lower() == "refresh":
                rm = _REFRESH.match(a.get("content", "")[:_MAX_URL])
                if rm:
                    self.scan.meta_refresh = rm.group(1).strip()[:_MAX_URL]
                    self._add(self.scan.meta_refresh, "meta", "refresh")
            return None
        if tag == "script":
            self.scan.scripts += 1
        elif tag == "form":
            self._form = RawForm(action=a.get("action", "").strip()[:_MAX_URL], method=a.get("method", "get").lower()[:10])
            if len(self.scan.forms) < 200:
                self.scan.forms.append(self._form)
        elif tag == "input":
            if self._form is not None and len(self._form.inputs) < 50:
                self._form.inputs.append(a.get("name", a.get("type", ""))[:60])
            if a.get("type", "").strip().lower() == "password":
                self.scan.password_fields += 1
                if self._form is not None:
                    self._form.password_fields += 1
        if url_attrs:
            for attr, value in a.items():
                if attr in url_attrs:
                    text = a.get("alt", "") if tag in ("img", "area") else ""
                    link = self._add(value, tag, attr, text[:_MAX_ANCHOR_TEXT])
                    if tag == "a" and attr == "href" and link is not None:
                        anchor_link = link
                    if tag == "img" and attr == "src" and link is not None:
                        self._image(link.url, a)
        if tag == "img" and "src" not in a and "data-src" in a:
            self._add(a["data-src"], tag, "data-src")
        return anchor_link

    def _image(self, url: str, a: dict[str, str]) -> None:
        if not url.lower().startswith(("http://", "https://", "//")):
            return
        self.scan.remote_images += 1
        w, h = a.get("width", "").strip().removesuffix("px"), a.get("height", "").strip().removesuffix("px")
        style = a.get("style", "")[:300].replace(" ", "").lower()
        tiny = (w in ("0", "1", "2") and h in ("0", "1", "2", "")) or (h in ("0", "1", "2") and w == "")
        if tiny or "display:none" in style or "width:1px" in style or "visibility:hidden" in style:
            self.scan.tracking_pixels += 1


def _fold(text: str) -> tuple[bytes, bool]:
    """(``text.lower()`` as ASCII bytes, one byte per character (any other becomes '?'), plain).
    Searches for ASCII words run there with bytes.find, on a byte per character, at the positions
    they would have in ``text.lower()``. ``plain``: the text has no character of _ODD_CASE, so
    the positions are those of ``text`` too, and a case-sensitive search of these bytes finds
    what a case-insensitive one finds in ``text``; then the bytes are made without lower-casing
    the text (slow for non-ASCII text)."""
    if not text.isascii() and any(c in text for c in _ODD_CASE):
        return text.lower().encode("ascii", "replace"), False
    return text.encode("ascii", "replace").lower(), True


def scan_html(html: str, *, max_links: int = 5000) -> HtmlScan:
    """Links, forms, scripts and images of an HTML document (bounded; never raises)."""
    scanner = _Scanner(max_links)
    head = html[:MAX_HTML_CHARS]
    low, plain = _fold(head)
    try:
        scanner.feed(head, low if plain else None)
    except (RecursionError, MemoryError, ValueError):  # a last guard; the scanner has no recursion
        scanner.scan.truncated = True
    scan = scanner.scan
    # Jump with find (C speed) to each "url(" and "background" of the lower-cased text, then match there.
    # The positions must be those of ``head``: when lower-casing changed lengths ('İ' becomes two
    # characters), fold ASCII letters only, one byte per character.
    if not plain:
        low = head.encode("ascii", "replace").lower()
    for needle, rx, tag, attr in ((b"url(", _CSS_URL, "css", "url()"), (b"background", _BACKGROUND, "html", "background")):
        i = low.find(needle)
        seen = 0
        while i != -1 and seen < 20_000:
            seen += 1
            m = rx.match(head, i)
            if m is not None:
                if scanner._add(m.group(1), tag, attr) is None and len(scan.links) >= max_links:
                    break
                i = low.find(needle, m.end())
            else:
                i = low.find(needle, i + len(needle))
    scan.text_chars = len(head)
    if len(html) > MAX_HTML_CHARS:
        scan.truncated = True
        for fm in _TAIL_FORM.finditer(html, MAX_HTML_CHARS):
            a = _attrs(fm.group(2))
            if fm.group(1).lower() == "form":
                if len(scan.forms) < 200:
                    scan.forms.append(RawForm(action=a.get("action", "").strip()[:_MAX_URL],
                                              method=a.get("method", "get").lower()[:10]))
            elif a.get("type", "").strip().lower() == "password":
                scan.password_fields += 1
                if scan.forms:
                    scan.forms[-1].password_fields += 1
        for m in _TAIL_ATTR.finditer(html, MAX_HTML_CHARS):
            if len(scan.links) >= max_links:
                scan.dropped += 1
                break
            url, defanged = refang(m.group(2))
            scan.links.append(RawLink(url=url, tag="html", attr=m.group(1).lower(), defanged=defanged))
    # Resolve relative URLs against <base href> when there is one (what a mail client would open).
    if scan.base_href and scan.base_href.lower().startswith(("http://", "https://")):
        for link in scan.links:
            if link.tag != "base" and "://" not in link.url[:12] and not link.url.lower().startswith(
                    ("mailto:", "tel:", "javascript:", "data:", "cid:", "sms:")):
                with contextlib.suppress(ValueError):
                    link.url = urljoin(scan.base_href, link.url)[:_MAX_URL]
        for form in scan.forms:
            if form.action and "://" not in form.action[:12]:
                with contextlib.suppress(ValueError):
                    form.action = urljoin(scan.base_href, form.action)[:_MAX_URL]
    return scan


_TAIL_FORM = re.compile(r"(?i)<(form|input)\b([^<>]{0,8192}+)>")
_TAIL_ATTR = re.compile(r"""(?i)\b(href|src|action)\s*=\s*["']?([^"'\s>]{1,8192})""")


def links_from_calendar(text: str, *, max_links: int = 5000) -> tuple[list[RawLink], int]:
    """URLs in an iCalendar body (unfolded first: RFC 5545 folds lines at 75 octets)."""
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "")
    unfolded = unfolded.replace("\\n", " ").replace("\\,", ",").replace("\\;", ";")
    return links_from_text(unfolded, max_links=max_links, tag="calendar")
