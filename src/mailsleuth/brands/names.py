"""Brand names in free text: display names, subjects.

Names are compared word by word after NFKC, case folding and the confusables fold (so ``PayPaI``
with a capital I reads as PayPal). Latin-script names are looked up as phrases of one to five
words (also with the spaces removed: "One Drive" reads as OneDrive); names written in other
scripts (三菱UFJ銀行, アマゾン) are searched as substrings, since those scripts do not separate
words. A brand name that is also an ordinary word ("Apple", "Chase") counts only when every other
word of the text is a service word ("Apple Support"); in a subject it never counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import ahocorasick_rs

from mailsleuth.brands.confusables import fold, lexicon
from mailsleuth.model.brand import Brand

_MAX_TEXT = 300
_MAX_WORDS = 5


@dataclass(frozen=True, slots=True)
class NameHit:
    brand_id: str
    alias: str  # the registry name that matched
    weak: bool


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text[:_MAX_TEXT]).casefold()


# A word: a run of characters that are alphanumeric (str.isalnum: \w without '_') or one of + & '.
_WORD = re.compile(r"(?:[^\W_]|[+&'])+")


def _words(text: str) -> list[str]:
    return _words_of(unicodedata.normalize("NFKC", text[:_MAX_TEXT]))


def _words_of(nfkc: str) -> list[str]:
    return [fold(w).replace("'", "") for w in _WORD.findall(nfkc)[:60]]


@cache
def service_words() -> frozenset[str]:
    claims = lexicon().get("claims", {})
    words = claims.get("service_words", []) if isinstance(claims, dict) else []
    return frozenset(fold(str(w)) for w in words) | frozenset(_norm(str(w)) for w in words)


class NameIndex:
    def __init__(self, brands: Sequence[Brand]):
        self.phrases: dict[str, list[NameHit]] = {}
        self.scripts: list[tuple[str, NameHit]] = []  # non-Latin names searched as substrings
        for b in brands:
            weak_cf = {w.casefold() for w in b.weak_names}
            main = () if b.name.casefold() in weak_cf else ((b.name, False),)
            for alias, weak in (*main, *((n, False) for n in b.names), *((p, False) for p in b.products),
                                *((n, True) for n in b.weak_names)):
                hit = NameHit(b.id, alias, weak)
                if not alias.isascii():
                    norm = _norm(alias)
                    if len(norm) >= 2 and all(h.brand_id != b.id for a, h in self.scripts if a == norm):
                        self.scripts.append((norm, hit))
                    continue
                words = _words(alias)
                if not words:
                    continue
                for key in {" ".join(words), "".join(words)}:
                    bucket = self.phrases.setdefault(key, [])
                    if all(h.brand_id != b.id for h in bucket):
                        bucket.append(hit)
        self.scripts.sort(key=lambda x: -len(x[0]))
        self._scripts_ac = ahocorasick_rs.AhoCorasick([a for a, _ in self.scripts]) if self.scripts else None
        # every beginning of every key: a run of words that is none cannot grow into a name
        self.prefixes = frozenset(k[:i] for k in self.phrases for i in range(len(k) + 1))

    def _spans(self, words: list[str]) -> list[tuple[int, int, str]]:
        """(size, start, key) of every run of up to _MAX_WORDS words that names something, as the
        words joined with spaces or without; in the order find() weighs them: longest first, then
        leftmost, the spaced form before the joined one."""
        out: list[tuple[int, int, int, str]] = []
        phrases, prefixes = self.phrases, self.prefixes
        for i in range(len(words)):
            spaced = joined = ""
            for size in range(1, min(_MAX_WORDS, len(words) - i) + 1):
                w = words[i + size - 1]
                if size == 1:
                    spaced = joined = w
                    if w in phrases:
                        out.append((-1, i, 0, w))
                else:
                    spaced, joined = f"{spaced} {w}", joined + w
                    if spaced in phrases:
                        out.append((-size, i, 0, spaced))
                    if joined in phrases and joined != spaced:
                        out.append((-size, i, 1, joined))
                if spaced not in prefixes and joined not in prefixes:
                    break
        out.sort()
        return [(-neg, i, key) for neg, i, _, key in out]

    def find(self, text: str, *, allow_weak: bool = True) -> list[NameHit]:
        """Brands named in ``text``, strongest (longest) names first, one hit per brand (cached per text)."""
        if not text:
            return []
        return list(_find_cached(self, text[:_MAX_TEXT], allow_weak))

    def _find(self, text: str, allow_weak: bool) -> tuple[NameHit, ...]:
        found: dict[str, NameHit] = {}
        nfkc = unicodedata.normalize("NFKC", text)
        words = _words_of(nfkc)
        service = service_words()
        for size, i, key in self._spans(words):
            for hit in self.phrases[key]:
                if hit.brand_id in found:
                    continue
                if hit.weak:
                    if not allow_weak:
                        continue
                    others = [w for j, w in enumerate(words) if not i <= j < i + size]
                    if any(w not in service and not w.isdigit() for w in others):
                        continue
                found[hit.brand_id] = hit
        norm = nfkc.casefold()  # _norm(text)
        if not norm.isascii() and self._scripts_ac is not None:
            # the non-Latin names the text contains, in self.scripts order (longest first)
            present = sorted({k for k, _, _ in self._scripts_ac.find_matches_as_indexes(norm, overlapping=True)})
            for k in present:
                hit = self.scripts[k][1]
                if hit.brand_id not in found:
                    found[hit.brand_id] = hit
        return tuple(found.values())


@lru_cache(maxsize=4096)
def _find_cached(index: NameIndex, text: str, allow_weak: bool) -> tuple[NameHit, ...]:
    return index._find(text, allow_weak)
