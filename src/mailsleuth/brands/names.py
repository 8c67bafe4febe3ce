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
from functools import cache

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
    s = unicodedata.normalize("NFKC", text[:_MAX_TEXT])
    return [fold(w).replace("'", "") for w in _WORD.findall(s)[:60]]


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

    def find(self, text: str, *, allow_weak: bool = True) -> list[NameHit]:
        """Brands named in ``text``, strongest (longest) names first, one hit per brand."""
        if not text:
            return []
        found: dict[str, NameHit] = {}
        words = _words(text)
        service = service_words()
        covered: set[int] = set()
        for size in range(min(_MAX_WORDS, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                span = words[i : i + size]
                for key in (" ".join(span), "".join(span)) if size > 1 else (span[0],):
                    for hit in self.phrases.get(key, ()):
                        if hit.brand_id in found:
                            continue
                        if hit.weak:
                            if not allow_weak:
                                continue
                            others = [w for j, w in enumerate(words) if not i <= j < i + size]
                            if any(w not in service and not w.isdigit() for w in others):
                                continue
                        found[hit.brand_id] = hit
                        covered.update(range(i, i + size))
        norm = _norm(text)
        if not norm.isascii():
            for alias, hit in self.scripts:
                if hit.brand_id not in found and alias in norm:
                    found[hit.brand_id] = hit
        return list(found.values())
