"""Knowledge-matching shortcuts (brand index, brand names, platform suffixes, confusables) against
the plain code they stand in for."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import OSA

from mailsleuth.brands import confusables
from mailsleuth.brands.index import FREE_CONTAIN_LEN, BrandIndex, _Near, segments_into_fillers
from mailsleuth.brands.names import _MAX_WORDS, NameIndex, _words
from mailsleuth.brands.registry import load_registry
from mailsleuth.content import lexicon
from mailsleuth.infra import platforms

BRANDS = load_registry()
IDX = BrandIndex(BRANDS)
NAMES = NameIndex(BRANDS)
_LABEL_CHARS = "abcdeilmnorstuy01-"


# ---- _Near: deletion index vs rapidfuzz over the whole bucket -------------------------------------

@settings(max_examples=400)
@given(st.lists(st.text(alphabet="abcdlmnor", min_size=4, max_size=7), min_size=1, max_size=40),
       st.text(alphabet="abcdlmnor", min_size=3, max_size=8))
def test_near_gives_what_extract_gives(labels: list[str], key: str) -> None:
    buckets: dict[int, list[str]] = {}
    for label in dict.fromkeys(labels):
        buckets.setdefault(len(label), []).append(label)
    near = _Near(buckets)
    for length, bucket in buckets.items():
        for limit in (1, 2):
            want = [(c, int(d)) for c, d, _ in process.extract(key, bucket, scorer=OSA.distance,
                                                                score_cutoff=limit, limit=3)]
            assert near.nearest(key, length, limit) == want


def test_near_finds_swaps_and_edits_of_brand_labels() -> None:
    near = IDX._near_raw
    for label in ("paypal", "microsoft", "amazon"):
        bucket = near.buckets[len(label)]
        for key in (label[1] + label[0] + label[2:], label[:-1] + "x", label[:3] + label[4:], label + "s"):
            length = len(label)
            want = [(c, int(d)) for c, d, _ in process.extract(key, bucket, scorer=OSA.distance,
                                                                score_cutoff=1, limit=3)]
            got = near.nearest(key, length, 1)
            assert got == want
            assert (label, 1) in got


# ---- _find_token: one Aho-Corasick scan vs slicing at every position ------------------------------

def _find_token_reference(flat: str) -> object:
    n = len(flat)
    for length in sorted({len(t) for t in IDX.tokens}, reverse=True):
        for i in range(n - length + 1):
            entries = IDX.tokens.get(flat[i : i + length])
            if entries and (length >= FREE_CONTAIN_LEN or (segments_into_fillers(flat[:i]) and
                                                           segments_into_fillers(flat[i + length :]))):
                return entries[0]
    return None


_TOKEN_PIECES = ["paypal", "amazon", "secure", "login", "microsoft", "account", "my", "x", "1", "bank", "apple"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_TOKEN_PIECES), max_size=5), st.text(alphabet=_LABEL_CHARS, max_size=6))
def test_find_token_equals_reference(pieces: list[str], noise: str) -> None:
    for flat in ("".join(pieces), noise + "".join(pieces), "".join(pieces) + noise):
        assert IDX._find_token(flat) == _find_token_reference(flat)


# ---- NameIndex._spans: pruned by key prefixes vs every run of words --------------------------------

def _spans_reference(words: list[str]) -> list[tuple[int, int, str]]:
    out = []
    for size in range(min(_MAX_WORDS, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            span = words[i : i + size]
            for key in (" ".join(span), "".join(span)) if size > 1 else (span[0],):
                if key in NAMES.phrases and (size, i, key) not in out:
                    out.append((size, i, key))
    return out


_NAME_PIECES = ["One", "Drive", "Pay", "Pal", "Apple", "Support", "Amazon", "Web", "Services", "the", "'", "2024",
                "Bank", "of", "America", "Microsoft", "365", "Team", "&", "Co"]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=9))
def test_spans_equal_reference(pieces: list[str]) -> None:
    words = _words(" ".join(pieces))
    assert NAMES._spans(words) == _spans_reference(words)


def test_spans_find_a_name_split_in_two_words() -> None:
    words = _words("Your One Drive file")
    assert any(key == "onedrive" for _size, _i, key in NAMES._spans(words))


# ---- platforms._suffix_hits: suffixes by str.find vs split and join --------------------------------

def _suffix_hits_reference(idx: platforms._Index, kind: str, name: str) -> list[tuple[int, str]]:
    table = idx.by_suffix.get(kind)
    if not table or not name:
        return []
    labels = name.lower().strip(".").split(".")[-12:]
    out: list[tuple[int, str]] = []
    seen: set[int] = set()
    for k in range(len(labels) - 1):
        for i, s in table.get(".".join(labels[k:]), ()):
            if id(s) not in seen:
                seen.add(id(s))
                out.append((i, ".".join(labels[k:])))
    return out


@settings(max_examples=400)
@given(st.sampled_from(("host", "dkim", "return_path", "message_id", "ns", "mx", "spf")),
       st.lists(st.sampled_from(("mail", "o1", "", "X", "out", "a")), max_size=14),
       st.sampled_from(("google.com", "sendgrid.net", "amazonses.com", "mailchimp.com", "example.com", "")),
       st.booleans())
def test_suffix_hits_equal_reference(kind: str, labels: list[str], domain: str, dotted: bool) -> None:
    idx = platforms.index()
    name = ".".join([*labels, domain]) + ("." if dotted else "")
    got = [(i, suf) for i, _s, suf in platforms._suffix_hits(idx, kind, name)]
    assert got == _suffix_hits_reference(idx, kind, name)


# ---- confusables: str.translate and ASCII shortcuts vs the per-character loops --------------------

def _skeleton_reference(text: str) -> str:
    table = confusables._table()
    s = unicodedata.normalize("NFD", text[:256])
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in s))


@settings(max_examples=500)
@given(st.text(max_size=20))
def test_skeleton_equals_reference(text: str) -> None:
    assert confusables.skeleton(text) == _skeleton_reference(text)


def _fold_reference(text: str) -> str:
    s = "".join(c if c.isascii() else confusables.latin_base(c) for c in text[:256])
    s = _skeleton_reference(s)
    s = _skeleton_reference(s.lower()).lower()
    s = "".join(c for c in s if not unicodedata.combining(c))
    for a, b in confusables._ascii_folds():
        if a in s:
            s = s.replace(a, b)
    return s


@settings(max_examples=500)
@given(st.text(alphabet=_LABEL_CHARS + "IO|\u0430\u0435\u043e\u00e9\u0301\u00df\u0131\u1d0d", max_size=20))
def test_fold_equals_reference(text: str) -> None:
    assert confusables.fold(text) == _fold_reference(text)


# ---- lexicon.fold: one byte table for Latin-1 text vs the general path -----------------------------

@settings(max_examples=600)
@given(st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40))
def test_latin1_fold_equals_general_path(text: str) -> None:
    assert lexicon.fold(text) == lexicon._fold_wide(text)


def test_latin1_fold_examples() -> None:
    assert lexicon.fold("Vérifiez  VOTRE\r\ncompte\xa0MAINTENANT") == "verifiez votre compte maintenant"
    assert lexicon.fold("Straße") == "strasse"
    assert lexicon.fold("\xbd price\xb2") == lexicon._fold_wide("\xbd price\xb2")  # NFKC changes these: general path
    for c in range(256):
        assert lexicon.fold(chr(c)) == lexicon._fold_wide(chr(c)), hex(c)
