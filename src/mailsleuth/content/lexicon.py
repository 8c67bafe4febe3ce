"""Phrase lexicons for the content check: folding, loading and one-pass matching.

Text and phrases are folded the same way (NFKD, Latin combining marks removed, case-folded, white
space collapsed), so matching is case- and accent-insensitive and sees through styled Unicode
letters (mathematical bold, fullwidth). All phrases of a lexicon go into one Aho-Corasick automaton
(ahocorasick_rs, built once per process), so a message is scanned once whatever the lexicon size.
Word boundaries are checked on the few hits, in Python; scripts without spaces match as substrings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

import ahocorasick_rs

from mailsleuth.datafiles import load_data_toml
from mailsleuth.errors import DataError

_MARKS = re.compile("[\u0300-\u036f]+")
_COMMON_MARKS = ("\u0301", "\u0300", "\u0302", "\u0308", "\u0303", "\u0327", "\u030a", "\u030c")
_SPACES = ("\r", "\n", "\t", "\xa0", "\u3000", "\u200b", "\u2009", "\u202f")  # and " "
_EARLY_SPACES = ("\r", "\n", "\t", "\u3000")  # folded before NFKC (see _fold_wide; \xa0 and co. are in _PRE_NFKC)
MAX_TEXT = 65536
_PUNCT = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"), ("\u2014", "-"),
          ("\u20ac", " "), ("\u2026", "..."))


def _latin1_table() -> bytes:
    out = bytearray(range(256))
    for c in range(0xC0, 0x100):
        base = unicodedata.normalize("NFKD", chr(c))[0]
        if base.isascii():
            out[c] = ord(base)
    return bytes(out)


_LATIN1_FOLD = _latin1_table()
# UTF-8 lead bytes of U+00C0-U+024F (accented Latin) and U+0300-U+036F (combining marks)
_LATIN_LEADS = (b"\xc3", b"\xc4", b"\xc5", b"\xc6", b"\xc7", b"\xc8", b"\xc9", b"\xcc", b"\xcd")


def fold(text: str) -> str:
    """Case-, accent- and width-insensitive form of ``text`` with single spaces.

    NFKC first (styled and fullwidth letters become plain, kana stay composed). Latin-1 text loses
    its accents through one byte table; other text is decomposed, stripped of marks U+0300-U+036F
    and recomposed only when accented Latin letters or combining marks are present (seen cheaply in
    its UTF-8 bytes).

    Other text that is all Latin-1 without a character NFKC would change is done in one
    byte table (lower case, accents off, listed spaces to ' '), with the same result."""
    if text.isascii():
        return _spaces(text.lower())
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return _fold_wide(text)
    if any(c in raw for c in _LATIN1_COMPAT):
        return _fold_wide(text)
    s = raw.translate(_LATIN1_LOWER_FOLD).decode("latin-1")
    if "\u00df" in s:
        s = s.replace("\u00df", "ss")
    return _SPACE_RUN.sub(" ", s) if _DOUBLE_SPACE.search(s) else s


def _fold_wide(text: str) -> str:
    """fold() of text beyond Latin-1, or with Latin-1 characters that NFKC changes."""
    for a, z in _PRE_NFKC:  # common compatibility characters: NFKC then has nothing left to do
        if a in text:
            text = text.replace(a, z)
    # White space runs become one ' ' first, which halves the text of HTML parts for the steps below.
    # The same result: these characters never compose, decompose into marks or case-map, and
    # (unlike U+200B, left for the end) are not case-ignorable, so str.lower()'s final-sigma rule,
    # the only context-dependent step, sees the same neighbours; the end collapses runs anyway.
    for ch in _EARLY_SPACES:
        if ch in text:
            text = text.replace(ch, " ")
    if _DOUBLE_SPACE.search(text):
        text = _SPACE_RUN.sub(" ", text)
    s = unicodedata.normalize("NFKC", text).lower()
    for a, z in (*_PUNCT, ("\u00df", "ss")):
        if a in s:
            s = s.replace(a, z)
    try:  # Latin-1 text (most Western European mail): one byte table strips the accents
        return _spaces(s.encode("latin-1").translate(_LATIN1_FOLD).decode("latin-1"))
    except UnicodeEncodeError:
        pass
    b = s.encode("utf-8", "replace")
    if any(lead in b for lead in _LATIN_LEADS):
        s = unicodedata.normalize("NFKD", s)
        for m in _COMMON_MARKS:
            if m in s:
                s = s.replace(m, "")
        s = unicodedata.normalize("NFC", _MARKS.sub("", s))
    return _spaces(s)


def _pre_nfkc(chars: str) -> tuple[tuple[str, str], ...]:
    """(character, its NFKD form) for those of ``chars`` whose NFKD form holds no combining mark:
    replacing such a character before NFKC cannot change the result (NFKC = compose(NFKD), and the
    replacement neither reorders nor composes differently), and spares NFKC its slow path when it
    was the only character that was not already normalised (no-break and thin spaces in HTML)."""
    out = []
    for ch in chars:
        nfkd = unicodedata.normalize("NFKD", ch)
        if nfkd != ch and not any(unicodedata.combining(c) for c in nfkd):
            out.append((ch, nfkd))
    return tuple(out)


def _latin1_lower_fold() -> bytes:
    """Byte table for Latin-1 text: lower case, then _LATIN1_FOLD; _SPACES to ' '."""
    out = bytearray(_LATIN1_FOLD[ord(chr(c).lower())] for c in range(256))  # Latin-1 stays Latin-1 lowered
    for ch in _SPACES:
        if ord(ch) < 256:
            out[ord(ch)] = ord(" ")
    return bytes(out)


_LATIN1_LOWER_FOLD = _latin1_lower_fold()
# Latin-1 characters that NFKC changes (U+00A0, a space, is in the table): with one, the general path
_LATIN1_COMPAT = tuple(bytes([c]) for c in range(0x80, 0x100)
                       if c != 0xA0 and unicodedata.normalize("NFKC", chr(c)) != chr(c))
_PRE_NFKC = _pre_nfkc("\xa0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u2026\u2122")
_DOUBLE_SPACE = re.compile("  ")  # found faster than with str.find when the text has many single spaces
_SPACE_RUN = re.compile("  +")


def _spaces(s: str) -> str:
    """Every run of _SPACES characters and ' ' becomes one ' ' (ends kept as one ' ')."""
    for ch in _SPACES:
        if ch in s:
            s = s.replace(ch, " ")
    return _SPACE_RUN.sub(" ", s) if _DOUBLE_SPACE.search(s) else s


def _wordish(ch: str) -> bool:
    """A character that continues a word of a spaced script (letters, digits; not CJK)."""
    return ch.isalnum() and ord(ch) < 0x2E80


@dataclass(frozen=True, slots=True)
class _Pattern:
    group: int
    phrase: str  # as written in the data file
    left: bool  # check a word boundary before
    right: bool  # check a word boundary after


class Matcher:
    """Many phrases in groups; ``match(folded_text)`` -> {group index: [phrases]} (in text order)."""

    def __init__(self, groups: list[list[str]]):
        pats: list[_Pattern] = []
        keys: list[str] = []
        seen: set[tuple[int, str]] = set()
        for gi, phrases in enumerate(groups):
            for raw in phrases:
                prefix = raw.endswith("*")
                key = fold(raw.rstrip("*")).strip()
                if not key or (gi, key) in seen:
                    continue
                seen.add((gi, key))
                keys.append(key)
                pats.append(_Pattern(gi, raw.rstrip("*"), left=_wordish(key[0]),
                                     right=_wordish(key[-1]) and not prefix))
        self._pats = tuple(pats)
        self._ac = (ahocorasick_rs.AhoCorasick(keys, implementation=ahocorasick_rs.Implementation.DFA)
                    if keys else None)

    def match(self, folded: str, *, max_per_group: int = 8) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        if self._ac is None or not folded:
            return out
        n = len(folded)
        for idx, start, end in self._ac.find_matches_as_indexes(folded, overlapping=True):
            p = self._pats[idx]
            if p.left and start > 0 and _wordish(folded[start - 1]):
                continue
            if p.right and end < n and _wordish(folded[end]):
                continue
            got = out.setdefault(p.group, [])
            if p.phrase not in got and len(got) < max_per_group:
                got.append(p.phrase)
        return out


def _load(name: str) -> dict[str, Any]:
    return load_data_toml("content", name)


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    code: str
    description: str
    source: str
    phrases: dict[str, tuple[str, ...]]  # language -> phrases
    examples_positive: tuple[str, ...]
    examples_negative: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lures:
    categories: tuple[Category, ...]
    matcher: Matcher

    def match(self, folded: str) -> dict[str, list[str]]:
        """{category id: matched phrases} for already folded text."""
        return {self.categories[g].id: ph for g, ph in self.matcher.match(folded).items()}


@cache
def lures() -> Lures:
    cats: list[Category] = []
    for c in _load("lures.toml").get("category", []):
        try:
            phrases = {lang: tuple(v) for lang, v in c["phrases"].items()}
            cat = Category(id=c["id"], code=c["code"], description=c["description"], source=c["source"],
                           phrases=phrases, examples_positive=tuple(c.get("examples_positive", ())),
                           examples_negative=tuple(c.get("examples_negative", ())))
        except (KeyError, AttributeError, TypeError) as exc:
            raise DataError(f"data/content/lures.toml: bad category: {exc}") from None
        if not re.fullmatch(r"CONTENT_[A-Z_]+", cat.code):
            raise DataError(f"data/content/lures.toml: {cat.id}: bad code {cat.code!r}")
        cats.append(cat)
    groups = [[p for v in c.phrases.values() for p in v] for c in cats]
    return Lures(categories=tuple(cats), matcher=Matcher(groups))


@dataclass(frozen=True, slots=True)
class WordList:
    id: str
    description: str
    source: str
    matcher: Matcher
    examples_positive: tuple[str, ...]
    examples_negative: tuple[str, ...]

    def find(self, text: str) -> list[str]:
        return self.matcher.match(fold(text[:2000])).get(0, [])


@cache
def org_words() -> WordList:
    d = _load("org_words.toml")
    return WordList(id=d["id"], description=d["description"], source=d["source"],
                    matcher=Matcher([list(d["words"])]),
                    examples_positive=tuple(d.get("examples_positive", ())),
                    examples_negative=tuple(d.get("examples_negative", ())))


@dataclass(frozen=True, slots=True)
class TldGroup:
    id: str
    description: str
    source: str
    suffixes: frozenset[str]
    examples_positive: tuple[str, ...]
    examples_negative: tuple[str, ...]


@cache
def tld_groups() -> tuple[TldGroup, ...]:
    out = []
    for g in _load("tlds.toml").get("group", []):
        out.append(TldGroup(id=g["id"], description=g["description"], source=g["source"],
                            suffixes=frozenset(s.lower().strip(".") for s in g["suffixes"]),
                            examples_positive=tuple(g.get("examples_positive", ())),
                            examples_negative=tuple(g.get("examples_negative", ()))))
    return tuple(out)


def abused_suffix(domain: str) -> tuple[str, str] | None:
    """(group id, suffix) when ``domain`` lies under a listed TLD or third-level registry."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) < 2:
        return None
    for g in tld_groups():
        for n in (2, 1):  # the longer suffix first ("sa.com" before "com")
            if len(labels) > n:
                suf = ".".join(labels[-n:])
                if suf in g.suffixes:
                    return g.id, suf
    return None
