"""Unicode confusables (UTS #39 skeletons), the project's folding key for names, and scripts.

``skeleton(s)`` is the UTS #39 skeleton: NFD, every character replaced by its prototype from
``data/confusables.tsv`` (generated from Unicode's confusables.txt, see gen_confusables), NFD again.
``fold(s)`` is the key the brand index compares: the skeleton, lower-cased, accents removed, and a
few multi-letter look-alikes of ASCII folded (from ``data/brands/_lexicon.toml``), so that
``paypa1``, ``pаypal`` (Cyrillic a), ``rnicrosoft`` and ``micr0soft`` share a key with the real name.
"""

from __future__ import annotations

import tomllib
import unicodedata
from functools import cache, lru_cache
from importlib import resources

_MAX_LEN = 256  # names longer than this are cut before folding (DNS names are at most 253)


@cache
def _table() -> dict[str, str]:
    text = (resources.files("mailsleuth") / "data" / "confusables.tsv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        src, _, dst = line.partition("\t")
        try:
            table[chr(int(src, 16))] = "".join(chr(int(cp, 16)) for cp in dst.split())
        except ValueError:
            continue
    return table


@cache
def _translation() -> dict[int, str]:
    """_table() as a str.translate table (code point -> prototype)."""
    return {ord(k): v for k, v in _table().items()}


@cache
def lexicon() -> dict[str, object]:
    text = (resources.files("mailsleuth") / "data" / "brands" / "_lexicon.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def _ascii_folds() -> tuple[tuple[str, str], ...]:
    raw = lexicon().get("ascii_folds", {})
    pairs = [(str(k), str(v)) for k, v in raw.items()] if isinstance(raw, dict) else []
    return tuple(sorted(pairs, key=lambda kv: -len(kv[0])))


@cache
def _extra_letters() -> dict[str, str]:
    raw = lexicon().get("latin_extras", {})
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


@lru_cache(maxsize=8192)
def latin_base(ch: str) -> str:
    """The plain letter a decorated Latin letter is built on, from its Unicode name:
    LATIN SMALL LETTER C WITH HOOK -> c, LATIN LETTER SMALL CAPITAL M -> m. Other characters are
    returned unchanged (a few letters without a base in their name come from the lexicon)."""
    if ch.isascii():
        return ch
    extra = _extra_letters().get(ch)
    if extra is not None:
        return extra
    try:
        words = unicodedata.name(ch).split()
    except ValueError:
        return ch
    if not words or words[0] != "LATIN" or "LETTER" not in words:
        return ch
    for w in words[words.index("LETTER") + 1 :]:
        if len(w) == 1 and w.isalpha():
            return w.lower()
        if w in ("WITH", "AND"):
            break
    return ch


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text`` (case is kept, as the standard does)."""
    s = unicodedata.normalize("NFD", text[:_MAX_LEN]).translate(_translation())
    return unicodedata.normalize("NFD", s)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The comparison key: skeleton, lower case, no combining marks, ASCII look-alikes folded.

    The skeleton is taken twice around lower-casing so that a capital I (prototype l) and a
    lower-case one from a domain (already lower-cased) end the same way only where they look alike.
    """
    s = text[:_MAX_LEN]
    if not s.isascii():
        s = "".join(c if c.isascii() else latin_base(c) for c in s)
    s = skeleton(s)
    s = skeleton(s.lower()).lower()
    if not s.isascii():  # ASCII has no combining marks
        s = "".join(c for c in s if not unicodedata.combining(c))
    for a, b in _ascii_folds():
        if a in s:
            s = s.replace(a, b)
    return s


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str:
    """A coarse script name for one character ("Latin", "Cyrillic", "Han", ...; "Common" for digits,
    punctuation and symbols). Derived from Unicode character names: enough to tell mixed scripts."""
    if ch.isascii():
        return "Latin" if ch.isalpha() else "Common"
    if not ch.isalpha():
        return "Common"
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "Unknown"
    if name.startswith("CJK") or "IDEOGRAPH" in name:
        return "Han"
    if name.startswith(("HALFWIDTH KATAKANA", "KATAKANA")):
        return "Katakana"
    first = name.split(" ", 1)[0]
    return {"FULLWIDTH": "Latin", "MODIFIER": "Common"}.get(first, first.title())


# Combinations of scripts that ordinary text in one language uses (UTS #39 "highly restrictive").
_ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Hangul"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
)


def scripts(text: str) -> frozenset[str]:
    return frozenset(s for s in (script_of(c) for c in text[:_MAX_LEN]) if s != "Common")


def is_mixed_script(label: str) -> bool:
    """True when one label mixes scripts that no single writing system mixes (Latin with Cyrillic...)."""
    found = scripts(label)
    if len(found) <= 1:
        return False
    return not any(found <= allowed for allowed in _ALLOWED_MIXES)
