"""Pure helpers of the content check: body text, styled Unicode, random-looking names, freemail."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from html import unescape

from mailsleuth.content.lexicon import MAX_TEXT
from mailsleuth.model.message import Message, MimePart
from mailsleuth.parse.links import strip_tags

MAX_HTML = 4 * MAX_TEXT  # HTML read per part before its tags are stripped
_MAX_TAG = 4000  # characters between '<' and '>' for a tag; a longer run is text
# HTML tag names are case-insensitive in ASCII only: (?a) keeps 'ſ', 'İ' and the Kelvin sign from
# matching s, i and k, as a browser would (and every matched name then lower-cases to a key below).
_RAW_OPEN = re.compile(r"(?ai)<(script|style)\b|<!--")
_RAW_CLOSE = {"script": re.compile(r"(?ai)</script\s*>"), "style": re.compile(r"(?ai)</style\s*>"),
              "!--": re.compile(r"-->")}


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (tags, scripts, styles, comments removed; entities decoded).
    Linear: every search moves forward."""
    html = html[:MAX_HTML]
    pieces: list[str] = []
    pos = 0
    for _ in range(10000):
        m = _RAW_OPEN.search(html, pos)
        if m is None:
            break
        pieces.append(html[pos:m.start()])
        kind = (m.group(1) or "!--").lower()
        end = _RAW_CLOSE[kind].search(html, m.end())
        if end is None:
            pos = len(html)
            break
        pos = end.end()
    pieces.append(html[pos:])
    text = strip_tags("".join(pieces), _MAX_TAG)
    return unescape(text) if "&" in text else text



def body_text(msg: Message, limit: int = MAX_TEXT) -> tuple[str, bool]:
    """Decoded text of the text/plain and text/html parts (not attachments), at most ``limit``
    characters; and whether it was cut."""
    if msg.mime is None:
        return "", False
    out: list[str] = []
    size = 0
    cut = False
    for part in msg.mime.walk():
        if size >= limit:
            cut = True
            break
        if part.children or part.is_multipart or _is_attachment(part):
            continue
        if part.content_type == "text/plain":
            text = part.text()[: limit - size + 1]
        elif part.content_type == "text/html":
            text = html_to_text(part.text())
        else:
            continue
        if len(text) > limit - size:
            text = text[: limit - size]
            cut = True
        out.append(text)
        size += len(text) + 1
    return "\n".join(out), cut


def _is_attachment(part: MimePart) -> bool:
    return part.disposition == "attachment" or bool(part.filename)


# Styled letters: Mathematical Alphanumeric Symbols, enclosed and fullwidth Latin, small capitals.
_STYLED = re.compile("[\U0001d400-\U0001d7ff\u24b6-\u24e9\U0001f130-\U0001f189\u1d00-\u1d22\uff21-\uff3a\uff41-\uff5a]")
_FULLWIDTH = re.compile("[\uff21-\uff3a\uff41-\uff5a]")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f02f\U0001f0a0-\U0001f0ff\U0001f1e6-\U0001f1ff\u2b50\u2b55\u231a\u231b\u23e9-\u23fa]")
_WORD = re.compile(r"\w+")


def styled_chars(text: str) -> list[str]:
    """Styled letters in ``text``. Fullwidth Latin is ordinary in CJK text and counts only without it."""
    found = _STYLED.findall(text[:2000])
    if found and _CJK.search(text[:2000]):
        found = [c for c in found if not _FULLWIDTH.match(c)]
    return found


def _script(ch: str) -> str | None:
    o = ord(ch)
    if ch.isascii() or 0xC0 <= o <= 0x24F:
        return "latin" if ch.isalpha() else None
    if 0x370 <= o <= 0x3FF:
        return "greek"
    if 0x400 <= o <= 0x52F:
        return "cyrillic"
    return None


def mixed_script_words(text: str) -> list[str]:
    """Words that mix Latin letters with Cyrillic or Greek look-alikes ("Pаypal" with a Cyrillic a)."""
    out = []
    for m in _WORD.finditer(text[:2000]):
        w = m.group(0)
        if w.isascii():
            continue
        scripts = {s for s in map(_script, w) if s}
        if "latin" in scripts and len(scripts) > 1:
            out.append(w)
            if len(out) >= 5:
                break
    return out


def emoji_count(text: str) -> int:
    return len(_EMOJI.findall(text[:2000]))


_VOWELS = frozenset("aeiouy")
_ALNUM_RUN = re.compile(r"[a-z0-9]+")


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if n else 0.0


def random_looking(name: str) -> str | None:
    """Why a local part or host label looks machine-generated, or None. Rules (any one):
    letters and digits interleaved (>= 3 switches); a run of >= 6 consonants; >= 12 characters of
    high entropy with digits and few vowels; name_Name_12345-style generated handles."""
    raw = name.split("+", 1)[0][:64]
    if re.fullmatch(r"[a-z]+[._][A-Z][a-z]+[._]?\d{4,}|[A-Z][a-z]+[._][a-z]+[._]?\d{4,}", raw):
        return "generated name pattern (words of mixed case and a long number)"
    low = raw.lower()
    for run in _ALNUM_RUN.findall(low):
        if len(run) >= 6:
            switches = sum(1 for a, b in itertools.pairwise(run) if a.isdigit() != b.isdigit())
            if switches >= 3:
                return "letters and digits interleaved"
        letters_run = 0
        for ch in run:
            letters_run = letters_run + 1 if (ch.isalpha() and ch not in _VOWELS) else 0
            if letters_run >= 6:
                return "long run of consonants"
        if len(run) >= 12 and any(c.isdigit() for c in run):
            vowels = sum(1 for c in run if c in _VOWELS)
            if vowels / len(run) < 0.2 and _entropy(run) > 3.2:
                return "long high-entropy string"
    return None


@dataclass(frozen=True, slots=True)
class Freemail:
    domains: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] = field(default=())

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        d = domain.lower()
        return d in self.domains or any(p.search("@" + d) for p in self.patterns)


@cache
def freemail() -> Freemail:
    """Free consumer mailbox domains, from the platform catalogue (platforms with ``freemail = true``:
    their DKIM domains and return-path patterns)."""
    from mailsleuth.infra.platforms import load_platforms

    doms: set[str] = set()
    pats: list[re.Pattern[str]] = []
    for p in load_platforms():
        if not p.freemail:
            continue
        for s in p.signals:
            if s.kind == "dkim":
                doms.update(s.domains)
            elif s.kind == "return_path" and s.pattern is not None:
                pats.append(s.pattern)
    return Freemail(domains=frozenset(doms), patterns=tuple(pats))
