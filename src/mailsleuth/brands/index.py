"""The brand index: which brand, if any, a domain name belongs to or imitates.

Built once per registry (cached). Checking a name never loops over the registry:

- ``owner``: exact map of every brand domain (official and user) -> brand;
- ``keys``: the folded key (UTS #39 skeleton, lower case, no accents, ASCII look-alikes folded) of
  every brand label -> brand domains: homoglyphs, TLD swaps and hyphenation in one lookup;
- ``by_len`` / ``raw_by_len``: folded and plain brand labels bucketed by length; a name is compared
  (rapidfuzz OSA distance) with the buckets of similar length only (typos, keyboard slips, bit
  flips, swaps), and for one edit only with the labels a deletion index (_Near) finds;
- ``tokens``: folded distinctive tokens, all in one Aho-Corasick automaton: a label is scanned once
  for every token in it (the brand with extra words, in a subdomain or a local part).

``match(name)`` returns a DomainMatch for an imitation, or None for unrelated names and for a
brand's own names (``owned(name)`` tells those). Results are cached per name.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import ahocorasick_rs
from rapidfuzz import process
from rapidfuzz.distance import OSA

from mailsleuth.brands.confusables import fold, is_mixed_script, lexicon
from mailsleuth.domains import is_ip, org_domain, public_suffix
from mailsleuth.model.brand import Brand, DomainMatch, Technique

MIN_TYPO_LEN = 4  # brand labels shorter than this are never matched by edit distance
FREE_TYPO_LEN = 7  # from this length any single edit counts; below it only plausible slips
TWO_TYPO_LEN = 11  # from this length two edits count
MIN_STRONG_TOKEN = 5  # shorter tokens only count as a whole part of a name
FREE_CONTAIN_LEN = 8  # tokens this long count inside any label; shorter ones need filler words around
_MAX_NAME = 253
_MAX_LABELS = 20
_GENERIC_TLDS = frozenset({"com", "net", "org"})


@dataclass(frozen=True, slots=True)
class _Entry:
    brand_id: str
    domain: str  # the brand domain the key comes from
    label: str  # its label (domain without the public suffix), or the token
    weak: bool = False  # an ordinary word: only as a whole hyphen part or a subdomain


@dataclass(frozen=True, slots=True)
class Owned:
    brand_id: str
    domain: str  # the brand domain the name falls under
    user: bool  # a user domain (free mail, user content): the brand's, but anyone can use it


def _label_of(domain: str) -> tuple[str, str]:
    """(label, suffix) of a registrable domain: amazon.co.jp -> ("amazon", "co.jp")."""
    suffix = public_suffix(domain) or domain.rsplit(".", 1)[-1]
    if domain.endswith("." + suffix):
        return domain[: -len(suffix) - 1], suffix
    return domain, ""


def unicode_name(name: str) -> str:
    """Lower-case U-label form of a domain name; A-labels (xn--) decoded with punycode directly
    (the stdlib IDNA codec's nameprep is slow and refuses some look-alikes we want to see)."""
    n = name.strip().strip("[]").rstrip(".").lower()
    if "xn--" not in n:
        return n
    out = []
    for label in n.split(".")[:_MAX_LABELS * 2]:
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError, ValueError):
                label = label[4:].encode("ascii").decode("punycode")
        out.append(label)
    return ".".join(out)


def plain(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped): the unfolded comparison form."""
    if text.isascii():
        return text.lower()
    s = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in s if not unicodedata.combining(c))


@cache
def _fillers() -> frozenset[str]:
    sec = lexicon().get("lookalike", {})
    words = sec.get("filler_words", []) if isinstance(sec, dict) else []
    return frozenset(str(w) for w in words)


@cache
def _keyboard() -> dict[str, frozenset[str]]:
    sec = lexicon().get("keyboard", {})
    rows = [str(r) for r in (sec.get("rows", []) if isinstance(sec, dict) else [])]
    near: dict[str, set[str]] = {}
    for r, row in enumerate(rows):
        for i, c in enumerate(row):
            n = near.setdefault(c, set())
            for rr in (r - 1, r, r + 1):
                if 0 <= rr < len(rows):
                    for j in (i - 1, i, i + 1):
                        if 0 <= j < len(rows[rr]) and rows[rr][j] != c:
                            n.add(rows[rr][j])
    return {k: frozenset(v) for k, v in near.items()}


@cache
def _visual() -> frozenset[frozenset[str]]:
    sec = lexicon().get("visual_pairs", {})
    pairs = sec.get("pairs", []) if isinstance(sec, dict) else []
    return frozenset(frozenset(str(p)) for p in pairs if len(str(p)) == 2)


def _near_keys(a: str, b: str) -> bool:
    return b in _keyboard().get(a, frozenset())


def plausible_slip(name: str, brand: str, *, weak: bool = False) -> bool:
    """Is ``name`` one slip away from ``brand``? Swapped neighbours, a doubled or dropped double
    letter, a neighbouring key, a look-alike letter, a flipped bit, an inserted hyphen, or a key
    pressed next to the right one. Used for short names, where any single edit would match words."""
    la, lb = len(name), len(brand)
    if la < MIN_TYPO_LEN:
        return False
    if la == lb:
        diff = [i for i in range(la) if name[i] != brand[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            i = diff[0]
            return name[i] == brand[i + 1] and name[i + 1] == brand[i]
        if len(diff) != 1:
            return False
        x, y = name[diff[0]], brand[diff[0]]
        return bool(_near_keys(x, y) or frozenset((x, y)) in _visual())
    if la == lb + 1:  # one character added: any from five letters on, else a doubled or near key
        for i in range(la):
            if name[:i] + name[i + 1 :] == brand:
                c = name[i]
                if c == "-" or c.isdigit() or (not weak and lb - brand.count("rn") >= 5):
                    return True
                if weak and i in (0, la - 1):
                    return False  # an ordinary word grown at an end is another word (chaser, pledger)
                neighbours = [brand[j] for j in (i - 1, i) if 0 <= j < lb]
                return any(c == n or _near_keys(c, n) for n in neighbours)
        return False
    if la + 1 == lb:  # one character dropped: any from five letters on, a doubled one below
        for i in range(lb):
            if brand[:i] + brand[i + 1 :] == name:
                if i in (0, lb - 1):
                    return False  # a shorter word (emirate, online), not a slip
                return lb >= FREE_TYPO_LEN or (i > 0 and brand[i - 1] == brand[i]) or (i + 1 < lb and brand[i + 1] == brand[i])
        return False
    return False


@lru_cache(maxsize=16384)
def segments_into_fillers(rest: str, limit: int = 4) -> bool:
    """Can ``rest`` be cut into at most ``limit`` filler words and digit runs?"""
    if not rest:
        return True
    if limit <= 0:
        return False
    if rest[0].isdigit():
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        return segments_into_fillers(rest[i:], limit - 1)
    fillers = _fillers()
    for j in range(min(len(rest), 14), 0, -1):
        if rest[:j] in fillers and segments_into_fillers(rest[j:], limit - 1):
            return True
    return False


@lru_cache(maxsize=8192)
def _deletions(word: str) -> tuple[str, ...]:
    """``word`` and every string left by deleting one of its characters."""
    return (word, *(word[:i] + word[i + 1 :] for i in range(len(word))))


class _Near:
    """Brand labels bucketed by length, and the few labels near a name.

    Every label is filed under itself and each string left by deleting one of its characters; a
    name one edit away (an insertion, deletion, substitution or swap of neighbours: OSA distance 1)
    shares one of those strings with it.

    For two edits, each label of ``two_from`` characters or more is cut into three pieces with a
    character between them. One edit changes at most one piece (a swap of neighbours cannot reach
    two pieces over the character between them), so after two edits one piece is still whole in the
    name, moved by at most two places (the insertions and deletions before it). ``pieces[n]`` lists,
    for a name of n characters, every (start, size) where a label within two characters of that
    length could have left a piece, with the labels by piece.

    ``candidates(key)`` is every label either index files under what ``key`` has: a superset of the
    labels ``nearest`` can return. ``nearest`` gives what ``process.extract`` over the bucket gives:
    the three nearest within the limit, ties in bucket order; given the candidates, it compares
    only those (most names are near no brand: nothing to compare)."""

    def __init__(self, buckets: dict[int, list[str]], two_from: int = TWO_TYPO_LEN):
        self.buckets = buckets
        self.pos: dict[str, int] = {}
        filed: dict[str, list[str]] = {}
        for bucket in buckets.values():
            for i, key in enumerate(bucket):
                self.pos[key] = i
                for d in _deletions(key):
                    filed.setdefault(d, []).append(key)
        self.by_deletion = {d: tuple(keys) for d, keys in filed.items()}  # tuples: no work for the GC
        self.two_from = max(two_from, 5)  # (five characters give pieces of one)
        placed: dict[int, dict[tuple[int, int], dict[str, list[str]]]] = {}  # name length -> where -> piece -> labels
        for length, bucket in buckets.items():
            if length < self.two_from:
                continue
            size = (length - 2) // 3
            for label in bucket:
                for at in (0, size + 1, 2 * size + 2):
                    piece = label[at : at + size]
                    for n in range(length - 2, length + 3):
                        for start in range(max(0, at - 2), min(at + 2, n - size) + 1):
                            filed_here = placed.setdefault(n, {}).setdefault((start, size), {}).setdefault(piece, [])
                            if label not in filed_here:
                                filed_here.append(label)
        self.pieces: dict[int, tuple[tuple[int, int, dict[str, tuple[str, ...]]], ...]] = {
            n: tuple((start, size, {p: tuple(labels) for p, labels in by_piece.items()})
                     for (start, size), by_piece in sorted(where.items()))
            for n, where in placed.items()}

    def candidates(self, key: str) -> set[str]:
        """Every label one edit from ``key`` and every label of ``two_from`` characters or more two
        edits from it, and perhaps a few more."""
        found = {c for d in _deletions(key) for c in self.by_deletion.get(d, ())}
        for start, size, by_piece in self.pieces.get(len(key), ()):
            labels = by_piece.get(key[start : start + size])
            if labels:
                found.update(labels)
        return found

    def nearest(self, key: str, length: int, limit: int, among: set[str] | None = None) -> list[tuple[str, int]]:
        """(label, distance) for the three labels of ``length`` nearest to ``key``, at most ``limit``
        away; ``among``: ``candidates(key)``, when the limit is one edit or the length ``two_from`` or more."""
        if among is None:
            if limit > 1:
                return [(c, int(d)) for c, d, _ in process.extract(key, self.buckets[length], scorer=OSA.distance,
                                                                     score_cutoff=limit, limit=3)]
            among = {c for d in _deletions(key) for c in self.by_deletion.get(d, ())}
        scored = sorted((OSA.distance(key, c, score_cutoff=limit), self.pos[c], c) for c in among if len(c) == length)
        return [(c, dist) for dist, _, c in scored if dist <= limit][:3]


class BrandIndex:
    def __init__(self, brands: Sequence[Brand]):
        self.brands: dict[str, Brand] = {b.id: b for b in brands}
        self.owner: dict[str, Owned] = {}
        self.keys: dict[str, list[_Entry]] = {}
        self.raw: dict[str, list[_Entry]] = {}
        self.tokens: dict[str, list[_Entry]] = {}
        self.weak_tokens: dict[str, list[_Entry]] = {}
        self.short_tokens: dict[str, list[_Entry]] = {}  # 4-letter distinctive tokens (hsbc, usps)
        self.official_domains: dict[str, list[_Entry]] = {}
        # a group's head (id == group) indexes shared domains first; generic TLDs before ccTLDs
        ordered = sorted(brands, key=lambda b: (bool(b.group) and b.group != b.id,))
        for b in ordered:
            for d in b.domains:
                self.owner.setdefault(d, Owned(b.id, d, False))
            for d in b.user_domains:
                self.owner.setdefault(d, Owned(b.id, d, True))
        indexed: set[str] = set()
        for b in ordered:
            weak_set = {plain(t) for t in b.weak_tokens}
            doms = sorted((*b.domains, *b.user_domains), key=lambda d: d.rsplit(".", 1)[-1] not in _GENERIC_TLDS)
            for d in doms:
                if public_suffix(d) == d or d in indexed:
                    continue  # a suffix of the brand's (github.io), or a domain a sibling indexed
                indexed.add(d)
                label, _ = _label_of(d)
                if not label:
                    continue
                flat = plain(label).replace("-", "")
                weak = flat in weak_set or plain(label) in weak_set
                entry = _Entry(b.id, d, label, weak)
                for key in {fold(label), fold(label.replace("-", ""))}:
                    self._add(self.keys, key, entry)
                self._add(self.raw, flat, entry)
                self._add(self.official_domains, d, entry)
                self._add_token(flat, entry, weak)
            for t in b.tokens:
                flat = plain(t).replace("-", "")
                self._add_token(flat, _Entry(b.id, (b.domains or b.user_domains)[0], t, flat in weak_set),
                                flat in weak_set)
        self.by_len: dict[int, list[str]] = {}
        for table in (self.keys, self.raw, self.tokens, self.weak_tokens, self.short_tokens, self.official_domains):
            for bucket in table.values():
                bucket.sort(key=self._preference)
        for key, _entries in self.keys.items():
            if len(key) >= MIN_TYPO_LEN:
                self.by_len.setdefault(len(key), []).append(key)
        self.raw_by_len: dict[int, list[str]] = {}
        for key, _entries in self.raw.items():
            if len(key) >= MIN_TYPO_LEN:
                self.raw_by_len.setdefault(len(key), []).append(key)
        self._near_keys = _Near(self.by_len)
        self._near_raw = _Near(self.raw_by_len)
        self._token_list = list(self.tokens)
        self._token_ac = ahocorasick_rs.AhoCorasick(self._token_list) if self._token_list else None

    def _preference(self, e: _Entry) -> tuple[bool, bool]:
        """Among brands sharing a key: a group's head first, then brands on a generic TLD."""
        b = self.brands[e.brand_id]
        return (bool(b.group) and b.group != b.id, e.domain.rsplit(".", 1)[-1] not in _GENERIC_TLDS)

    def _add_token(self, flat: str, entry: _Entry, weak: bool) -> None:
        if not flat or (len(flat) < 3 and weak):
            return  # two letters that are also a word (go) are parts of too many names
        if weak or len(flat) < MIN_STRONG_TOKEN:
            self._add(self.weak_tokens, flat, entry)
            if not weak and len(flat) in (3, 4) and flat.isalpha():
                self._add(self.short_tokens, flat, entry)
        else:
            self._add(self.tokens, flat, entry)
            fk = fold(flat)
            if fk != flat:
                self._add(self.tokens, fk, entry)

    @staticmethod
    def _add(table: dict[str, list[_Entry]], key: str, entry: _Entry) -> None:
        bucket = table.setdefault(key, [])
        if all(e.brand_id != entry.brand_id for e in bucket):
            bucket.append(entry)

    # -- ownership -------------------------------------------------------------------------------

    def owned(self, name: str) -> Owned | None:
        """The brand whose own domain ``name`` is or lies under (cached per name)."""
        return _owned_cached(self, name[:_MAX_NAME])

    def _owned(self, name: str) -> Owned | None:
        n = unicode_name(name)
        od = org_domain(n)
        if od and od in self.owner:
            return self.owner[od]
        return self.owner.get(n)

    # -- imitation -------------------------------------------------------------------------------

    def match(self, name: str, *, own: bool = False) -> DomainMatch | None:
        """The brand this name imitates, if any (None for unrelated names and for a brand's own)."""
        return _match_cached(self, name[:_MAX_NAME], own)

    def _result(self, n: str, entry: _Entry, technique: Technique, own: bool, distance: int = 0,
                detail: str = "") -> DomainMatch:
        b = self.brands[entry.brand_id]
        return DomainMatch(name=n, brand_id=b.id, brand=b.name, brand_domain=entry.domain, technique=technique,
                           distance=distance, detail=detail[:200], own=own, weak=entry.weak)

    def _match(self, name: str, own: bool) -> DomainMatch | None:
        n = unicode_name(name)
        if not n or is_ip(n) or "." not in n or self.owned(n) is not None:
            return None
        reg = org_domain(n)
        if not reg:
            return None
        label, suffix = _label_of(reg)
        if not label:
            return None
        subs = n[: -len(reg) - 1].split(".")[-_MAX_LABELS:] if n != reg else []
        non_ascii = not label.isascii()
        flat = plain(label).replace("-", "")
        # 1. same folded key: TLD swap, hyphenation or homoglyphs
        for key in (fold(label), fold(label.replace("-", ""))):
            for entry in self.keys.get(key, ()):
                if label == entry.label:
                    if entry.weak or len(label) < 3:
                        continue  # an ordinary word or a two-letter name under another TLD is someone else's
                    tech = Technique.TLD_SWAP
                elif flat == plain(entry.label).replace("-", ""):
                    tech = Technique.HYPHENATION
                else:
                    tech = Technique.IDN_HOMOGLYPH if non_ascii else Technique.HOMOGLYPH
                return self._result(n, entry, tech, own, detail=f"{label}.{suffix} vs {entry.domain}")
        # 2. a brand's own domain inside the subdomain part: brand.com.example.net
        for i in range(len(subs)):
            for j in range(i + 2, min(len(subs), i + 4) + 1):
                cand = ".".join(subs[i:j])
                for entry in self.official_domains.get(cand, ()):
                    return self._result(n, entry, Technique.BRAND_DOMAIN_AS_SUBDOMAIN, own,
                                        detail=f"{cand} sits under {reg}")
        # 4. the brand's name with extra words
        found = self._find_token(flat) or (self._find_token(fold(flat)) if fold(flat) != flat else None)
        if found is not None:
            return self._result(n, found, Technique.EXTRA_WORDS, own, detail=f"'{found.label}' in {label}")
        # 3. typos: edit distance to brand labels of similar length (a few buckets only)
        typo = self._typo(label)
        if typo is not None:
            entry, dist = typo
            tech = Technique.IDN_HOMOGLYPH if non_ascii else Technique.TYPO
            return self._result(n, entry, tech, own, distance=dist, detail=f"{label} vs {entry.label}")
        parts = [p for p in label.split("-") if p]
        if len(parts) > 1:
            for k, p in enumerate(parts):
                pp = plain(p)
                if len(pp) < 3 and k:
                    continue  # two-letter brands (bt, o2, au) only lead a name: bt-billing, not x-bt
                entries = self.weak_tokens.get(pp) or self.tokens.get(pp) or self.tokens.get(fold(pp))
                if entries:
                    return self._result(n, entries[0], Technique.EXTRA_WORDS, own, detail=f"'{p}' in {label}")
            for p in parts:
                if len(p) >= FREE_TYPO_LEN:
                    typo = self._typo(p)
                    if typo is not None:
                        return self._result(n, typo[0], Technique.EXTRA_WORDS, own, distance=typo[1],
                                            detail=f"'{p}' in {label}")
        short = self._find_short(parts or [label])
        if short is not None:
            return self._result(n, short, Technique.EXTRA_WORDS, own, detail=f"'{short.label}' in {label}")
        # 5. the brand's name as a label under someone else's domain, or cut by a dot
        if subs:
            for s in subs:
                sp = plain(s).replace("-", "")
                entries = self.tokens.get(sp) or self.tokens.get(fold(sp))
                found = entries[0] if entries else (self._find_token(sp) if len(sp) > MIN_STRONG_TOKEN else None)
                if found is not None:
                    return self._result(n, found, Technique.BRAND_AS_SUBDOMAIN, own, detail=f"{s} under {reg}")
            for joined in (plain(subs[-1] + label), plain("".join(subs[-2:]) + label)):
                for entry in self.keys.get(fold(joined), ()):
                    if len(joined) >= MIN_STRONG_TOKEN:
                        return self._result(n, entry, Technique.SPLIT_LABELS, own, detail=n)
        if non_ascii and is_mixed_script(label):
            typo = self._typo(label, loose=True)
            if typo is not None:
                return self._result(n, typo[0], Technique.IDN_HOMOGLYPH, own, distance=typo[1])
        return None

    def _typo(self, label: str, *, loose: bool = False) -> tuple[_Entry, int] | None:
        return _typo_cached(self, label, loose)

    def _typo_uncached(self, label: str, loose: bool) -> tuple[_Entry, int] | None:
        """The nearest brand label within a typo's reach of ``label``, compared both folded (so
        look-alike letters count as equal) and plain (so rn for m counts as one slip)."""
        best: tuple[_Entry, int] | None = None
        flat = plain(label).replace("-", "")
        for key, table, near in ((fold(label.replace("-", "")), self.keys, self._near_keys),
                                 (flat, self.raw, self._near_raw)):
            n = len(key)
            if n < MIN_TYPO_LEN - 1:
                continue
            # ``loose`` takes two edits at every length: compared with the whole buckets then
            among = None if loose else near.candidates(key)
            if among is not None and not among:
                continue  # (most names: near no brand label)
            for length in range(max(MIN_TYPO_LEN, n - 2), n + 3):
                if not near.buckets.get(length):
                    continue
                limit = 2 if (length >= TWO_TYPO_LEN or loose) else 1
                if abs(length - n) > limit:
                    continue
                for cand, dist in near.nearest(key, length, limit, among):
                    if dist == 0 or (best is not None and dist >= best[1]):
                        continue
                    entries = table[cand]
                    weak = all(e.weak for e in entries)
                    strict = length < FREE_TYPO_LEN or weak or all("-" in e.label for e in entries)
                    if strict and not loose and not plausible_slip(key, cand, weak=weak):
                        continue
                    best = (entries[0], dist)
        return best

    def _find_token(self, flat: str) -> _Entry | None:
        """The longest strong brand token inside a label (brandemails, securebrand, mybrandlogin).
        Tokens shorter than FREE_CONTAIN_LEN count only when filler words make up the rest."""
        if self._token_ac is None or not flat:
            return None
        # every token occurrence, longest first, then leftmost
        hits = sorted((start - end, start, k) for k, start, end in self._token_ac.find_matches_as_indexes(
            flat, overlapping=True))
        for neg_len, i, k in hits:
            length = -neg_len
            if length >= FREE_CONTAIN_LEN or (segments_into_fillers(flat[:i]) and
                                              segments_into_fillers(flat[i + length :])):
                return self.tokens[self._token_list[k]][0]
        return None

    def _find_short(self, parts: Iterable[str]) -> _Entry | None:
        """A four-letter distinctive token (hsbc, usps) at the start or end of a part, the rest
        filler words: hsbcuk-online, uspstracking."""
        for p in parts:
            pp = plain(p)
            if len(pp) <= 3:
                continue
            for size in (4, 3):
                for cand, rest in ((pp[:size], pp[size:]), (pp[-size:], pp[:-size])):
                    entries = self.short_tokens.get(cand)
                    if entries and segments_into_fillers(rest, 2):
                        return entries[0]
        return None

    # -- local parts -----------------------------------------------------------------------------

    def match_local(self, local: str) -> _Entry | None:
        """A brand named in the local part of an address (paypal-security@..., microsoft.com@...)."""
        lp = plain(local[:64])
        for sep in ("@", "%", "_", "+"):
            lp = lp.replace(sep, "-")
        for part in lp.split("."):
            for piece in (part, *part.split("-")):
                if len(piece) >= MIN_STRONG_TOKEN:
                    entries = self.tokens.get(piece) or self.tokens.get(fold(piece))
                    if entries:
                        return entries[0]
        flat = lp.replace(".", "").replace("-", "")
        return self._find_token(flat) if len(flat) > MIN_STRONG_TOKEN else None

    def names(self) -> Iterable[Brand]:
        return self.brands.values()


@lru_cache(maxsize=32768)
def _match_cached(index: BrandIndex, name: str, own: bool) -> DomainMatch | None:
    return index._match(name, own)


@lru_cache(maxsize=16384)
def _typo_cached(index: BrandIndex, label: str, loose: bool) -> tuple[_Entry, int] | None:
    return index._typo_uncached(label, loose)


@lru_cache(maxsize=32768)
def _owned_cached(index: BrandIndex, name: str) -> Owned | None:
    return index._owned(name)
