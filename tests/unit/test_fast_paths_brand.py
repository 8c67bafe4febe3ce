"""Brand and domain shortcuts (sprint 2) against the plain code they stand in for: the typo
candidates of the brand index, the global-address test before ip_category's block by block walk."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import OSA

from mailsleuth import domains
from mailsleuth.brands.confusables import fold
from mailsleuth.brands.index import (
    FREE_TYPO_LEN,
    MIN_TYPO_LEN,
    TWO_TYPO_LEN,
    BrandIndex,
    _Entry,
    _Near,
    plain,
    plausible_slip,
)
from mailsleuth.brands.registry import load_registry

IDX = BrandIndex(load_registry())
_ALPHA = "abcdeilmnorstu0-"


# ---- _Near.candidates: deletion and piece indexes vs rapidfuzz over the whole bucket ----------------

def _extract(key: str, bucket: list[str], limit: int) -> list[tuple[str, int]]:
    return [(c, int(d)) for c, d, _ in process.extract(key, bucket, scorer=OSA.distance, score_cutoff=limit, limit=3)]


@settings(max_examples=400)
@given(st.lists(st.text(alphabet="abcdlmnor", min_size=4, max_size=16), min_size=1, max_size=40),
       st.text(alphabet="abcdlmnor", min_size=3, max_size=18), st.sampled_from((5, 8, 11)))
def test_candidates_hold_every_label_within_reach(labels: list[str], key: str, two_from: int) -> None:
    buckets: dict[int, list[str]] = {}
    for label in dict.fromkeys(labels):
        buckets.setdefault(len(label), []).append(label)
    near = _Near(buckets, two_from)
    among = near.candidates(key)
    for length, bucket in buckets.items():
        for limit in ((1, 2) if length >= two_from else (1,)):
            assert near.nearest(key, length, limit, among) == _extract(key, bucket, limit)


def _edits(word: str, data: st.DataObject, count: int) -> str:
    for _ in range(count):
        i = data.draw(st.integers(0, max(len(word) - 1, 0)))
        c = data.draw(st.sampled_from(_ALPHA))
        kind = data.draw(st.sampled_from(("sub", "ins", "del", "swap")))
        if kind == "sub":
            word = word[:i] + c + word[i + 1 :]
        elif kind == "ins":
            word = word[:i] + c + word[i:]
        elif kind == "del" and len(word) > 1:
            word = word[:i] + word[i + 1 :]
        elif kind == "swap" and i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def _edit(word: str, kind: str, i: int) -> str:
    return {"sub": word[:i] + "#" + word[i + 1 :], "ins": word[:i] + "#" + word[i:], "del": word[:i] + word[i + 1 :],
            "swap": word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :]}[kind]


def test_candidates_of_brand_labels_two_edits_away() -> None:
    near = IDX._near_raw
    kinds = ("sub", "ins", "del", "swap")
    for length in range(TWO_TYPO_LEN, TWO_TYPO_LEN + 4):
        for label in near.buckets.get(length, [])[:2]:
            for i in range(length):
                for j in range(i, length + 1):
                    for k1 in kinds:
                        for k2 in kinds:
                            key = _edit(_edit(label, k2, j), k1, i)  # the later place first: i stays put
                            if OSA.distance(key, label) <= 2:
                                assert label in near.candidates(key), (label, key)


# ---- BrandIndex._typo_uncached vs the loop over whole buckets ----------------------------------------

def _typo_reference(idx: BrandIndex, label: str, loose: bool) -> tuple[_Entry, int] | None:
    best: tuple[_Entry, int] | None = None
    flat = plain(label).replace("-", "")
    for key, table, near in ((fold(label.replace("-", "")), idx.keys, idx._near_keys), (flat, idx.raw, idx._near_raw)):
        n = len(key)
        if n < MIN_TYPO_LEN - 1:
            continue
        for length in range(max(MIN_TYPO_LEN, n - 2), n + 3):
            bucket = near.buckets.get(length)
            if not bucket:
                continue
            limit = 2 if (length >= TWO_TYPO_LEN or loose) else 1
            if abs(length - n) > limit:
                continue
            for cand, dist in _extract(key, bucket, limit):
                if dist == 0 or (best is not None and dist >= best[1]):
                    continue
                entries = table[cand]
                weak = all(e.weak for e in entries)
                strict = length < FREE_TYPO_LEN or weak or all("-" in e.label for e in entries)
                if strict and not loose and not plausible_slip(key, cand, weak=weak):
                    continue
                best = (entries[0], dist)
    return best


_LABELS = sorted({e.label for entries in IDX.raw.values() for e in entries})


@settings(max_examples=500)
@given(st.data(), st.sampled_from(_LABELS), st.integers(0, 3), st.booleans())
def test_typo_equals_reference_near_brand_labels(data: st.DataObject, label: str, count: int, loose: bool) -> None:
    name = _edits(label, data, count)
    assert IDX._typo_uncached(name, loose) == _typo_reference(IDX, name, loose)


@settings(max_examples=300)
@given(st.text(alphabet=_ALPHA + "\u0430\u043e", min_size=1, max_size=24), st.booleans())
def test_typo_equals_reference_anywhere(name: str, loose: bool) -> None:
    assert IDX._typo_uncached(name, loose) == _typo_reference(IDX, name, loose)


# ---- domains.ip_category: plainly global addresses vs every block -----------------------------------

def _special_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Every block the standard library's address properties test (its private tables), and ours."""
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [domains._CGNAT, *domains._DOC_NETS]
    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        consts = cls._constants  # type: ignore[attr-defined]
        for name in dir(consts):
            value = getattr(consts, name)
            for net in value if isinstance(value, list) else [value]:
                if isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network):
                    nets.append(net)
    nets += [ipaddress.ip_network(n) for n in ("::/128", "::1/128", "127.0.0.0/8", "ff00::/8", "::ffff:0:0/96")]
    return nets


def test_no_special_block_is_plainly_global() -> None:
    nets = _special_networks()
    assert len(nets) > 20
    for net in nets:
        for addr in (net.network_address, net.broadcast_address, net.network_address + net.num_addresses // 2):
            assert not domains.plainly_global(addr), (net, addr)


def _addresses() -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    v4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
    v4_edges = st.tuples(st.integers(0, 255), st.sampled_from((0, 1, 2**24 - 1)), st.integers(0, 255)).map(
        lambda t: ipaddress.IPv4Address((t[0] << 24) | (t[1] ^ t[2])))
    v6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
    v6_near = st.tuples(st.integers(0x1FFF, 0x4000), st.integers(0, 2**112 - 1)).map(
        lambda t: ipaddress.IPv6Address((t[0] << 112) | t[1]))
    return st.one_of(v4, v4_edges, v6, v6_near)


@settings(max_examples=1500)
@given(_addresses())
def test_ip_category_equals_block_by_block(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    assert domains.ip_category(str(addr)) == domains.category_of(addr)
    if domains.plainly_global(addr):
        assert domains.category_of(addr) is None
