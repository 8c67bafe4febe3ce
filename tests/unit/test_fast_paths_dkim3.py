"""Third performance pass on DKIM re-verification: each shortcut against the code it stands in for.

- the signed-field positions from the per-message ``{name: last index}`` map (:func:`signed_refs`)
  against the per-name index and bisection (:func:`signed_indexes` over :func:`name_index`);
- the remembered reading of an h= list against the former list comprehension;
- the header hash over the fields picked by position (:func:`verify_rsa_header_signature`) against
  dkimpy's own selection and hashing (``verify_sig_process``), and a whole verification with the
  shortcut against one without it;
- the one-pass CRLF test of :func:`rfc822.crlf_lines` against its regex definition.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import dkim
import pytest
from dkim.canonicalization import CanonicalizationPolicy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsleuth.auth import dkim as ours
from mailsleuth.auth import rfc822
from mailsleuth.dns.memory import MemoryResolver
from tests.unit.test_dkim import rsa_key, sign, zone

_NAMES = ["from", "to", "subject", "date", "received", "x-a"]


def _outcome(f, *args):  # type: ignore[no-untyped-def]
    try:
        return ("ok", f(*args))
    except Exception as exc:  # the same exception, class and text
        return ("error", type(exc), str(exc))


# -- positions of the signed fields ----------------------------------------------------------------

@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([*_NAMES, "cc"]), max_size=16), st.lists(st.sampled_from(_NAMES), max_size=20))
def test_signed_refs_match_the_per_name_index(hnames: list[str], names: list[str]) -> None:
    last = ours.last_positions(names)
    assert last == {n: max(i for i, m in enumerate(names) if m == n) for n in names}
    expected = ours.signed_indexes(hnames, ours.name_index(names), len(names))
    assert ours.signed_refs(hnames, names, last) == expected
    assert ours.signed_refs(tuple(hnames), names, last) == expected
    for name in [*_NAMES, "cc"]:
        assert ours.indexes_of(names, name) == ours.name_index(names).get(name, [])


# -- the h= list -------------------------------------------------------------------------------------

def _signed_list_before(h: bytes | None) -> list[str]:
    """The reading before it was remembered."""
    return [x.strip().lower() for x in ours._s(h).split(":") if x.strip()]


_H_PIECES = [b"from", b"From", b"TO", b":", b"::", b" ", b"\t", b"\r\n ", b"subject", b"\xc3\xa9", b"\xe2\x84\xaa",
             b"\xff", b"\xc4\xb0", b"x-a"]


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.none(), st.lists(st.sampled_from(_H_PIECES), max_size=14).map(b"".join)))
def test_signed_list_reads_as_before(h: bytes | None) -> None:
    names = _signed_list_before(h)
    got = ours.signed_list(h)
    assert list(got.names) == names
    assert got.text == ":".join(names)
    assert got.from_count == names.count("from")
    # ascii: the names, encoded for dkimpy with "replace", are the names themselves
    assert got.ascii == all(n.encode("ascii", errors="replace").decode("ascii") == n for n in names)


def test_long_signed_lists_are_read_but_not_remembered() -> None:
    long = b":".join([b"x-header-%d" % i for i in range(600)])
    before = ours._read_signed_list_cached.cache_info().currsize
    assert ours.signed_list(long).names == tuple(_signed_list_before(long))
    assert ours._read_signed_list_cached.cache_info().currsize == before


# -- the header hash over fields picked by position ---------------------------------------------------

_FIELD_NAMES = [b"From", b"from", b"To", b"Subject", b"SUBJECT", b"Date", b"Received", b"X-A", b"Cc"]
_VALUES = [b" a@example.com", b"  spaced   out ", b"\tTab", b" folded\r\n\tline", b"", b" x \r\n  y  "]


def _block(fields: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(n + b":" + v + b"\r\n" for n, v in fields)


@st.composite
def _signed_messages(draw: st.DrawFn) -> tuple[bytes, str]:
    fields = draw(st.lists(st.tuples(st.sampled_from(_FIELD_NAMES), st.sampled_from(_VALUES)), min_size=1, max_size=10))
    fields.insert(draw(st.integers(0, len(fields))), (b"From", b" Alice <alice@example.net>"))
    include = draw(st.lists(st.sampled_from([b"from", b"to", b"subject", b"date", b"received", b"x-a", b"cc",
                                             b"x-absent"]), max_size=10))
    canon = draw(st.sampled_from([(b"relaxed", b"relaxed"), (b"simple", b"simple"), (b"relaxed", b"simple")]))
    alg = draw(st.sampled_from([b"rsa-sha256", b"rsa-sha1"]))
    pem, record = rsa_key(1024)
    raw = _block(fields) + b"\r\nbody\r\n"
    signer = dkim.DKIM(raw, signature_algorithm=alg)
    signer.should_not_sign = set()  # Received may be listed too
    sig = signer.sign(b"sel", b"example.net", pem, include_headers=[b"from", *include], canonicalize=canon)
    # After signing: a field added on top, a signed field changed, or nothing.
    edit = draw(st.sampled_from([b"", b"From: Mallory <m@example.org>\r\n", b"Subject: other\r\n", b"to:  x\r\n"]))
    return sig + edit + raw, record


def _rsa_both_ways(raw: bytes, record: str) -> tuple[object, object]:
    parsed = rfc822.Rfc822(raw)
    fields = parsed.fields()
    names = parsed.names()
    (sigheader,) = [f for n, f in zip(names, fields, strict=True) if n == "dkim-signature"]
    tags = ours.parse_tag_value(sigheader[1])
    policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
    key = ours._load_key(record)
    assert not isinstance(key, str)
    signed = ours.signed_list(tags[b"h"])
    hashed = ours.signed_refs((*signed.names, "from"), names, ours.last_positions(names))
    selected = [fields[k] for _n, k in hashed if k is not None]
    mine = _outcome(ours.verify_rsa_header_signature, tags[b"a"], tags[b"b"], selected, sigheader, key, policy)
    dk = dkim.DKIM(None, minkey=0)
    dk.headers = list(fields)
    dk.pk, dk.keysize, dk.ktag = key
    sig = {k: v for k, v in tags.items() if k != b"bh"}
    include = [h.encode("ascii") for h in signed.names]
    return mine, _outcome(dk.verify_sig_process, sig, include, sigheader, None)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_signed_messages())
def test_header_hash_by_position_matches_dkimpy(case: tuple[bytes, str]) -> None:
    raw, record = case
    mine, theirs = _rsa_both_ways(raw, record)
    assert mine == theirs


def test_header_hash_by_position_verifies_and_fails_as_dkimpy() -> None:
    record = rsa_key()[1]
    raw = sign(canon="simple/simple", headers=("from", "to", "subject", "x-absent", "from", "to"))
    assert _rsa_both_ways(raw, record) == (("ok", True), ("ok", True))
    changed = raw.replace(b"Subject: Quarterly", b"Subject: Monthly")
    assert _rsa_both_ways(changed, record) == (("ok", False), ("ok", False))
    assert _rsa_both_ways(raw, rsa_key(512)[1]) == (("ok", False), ("ok", False))  # another key


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_signed_messages())
def test_verification_is_the_same_without_the_position_shortcut(case: tuple[bytes, str]) -> None:
    raw, record = case
    res = MemoryResolver({"sel._domainkey.example.net": {"TXT": [record]}})
    fast = ours.verify_message(raw, has_body=True, resolver=res, now=NOW)
    with pytest.MonkeyPatch.context() as mp:  # every h= list read as non-ASCII: dkimpy selects the fields
        mp.setattr(ours, "signed_list", lambda h: _as_not_ascii(ours._read_signed_list(h)))
        slow = ours.verify_message(raw, has_body=True, resolver=res, now=NOW)
    assert fast == slow
    assert fast.signatures[0].details.get("header_ok") is not None


def _as_not_ascii(signed: ours.SignedList) -> ours.SignedList:
    return ours.SignedList(names=signed.names, text=signed.text, from_count=signed.from_count, ascii=False)


def test_non_ascii_signed_names_go_through_dkimpy() -> None:
    # A field named "fr?m" is what dkimpy compares a non-ASCII h= entry "fröm" with (encoded with
    # replacement): the result must stay dkimpy's, whatever it is.
    raw = sign(headers=("from", "to", "subject"))
    odd = raw.replace(b"h=from:to:subject", b"h=from:to:subject:fr\xc3\xb6m")
    res = MemoryResolver(zone(rsa_key()[1]))
    got = ours.verify_message(b"fr?m: x\r\n" + odd, has_body=True, resolver=res, now=NOW)
    assert got.signatures[0].details["signed_headers"][-1] == "fröm"
    assert got.signatures[0].details["header_ok"] is False  # b= was made over the list without it


# -- CRLF test -------------------------------------------------------------------------------------------

@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n"]), max_size=30))
def test_crlf_lines_matches_its_definition(pieces: list[bytes]) -> None:
    text = b"".join(pieces)
    assert rfc822.crlf_lines(text) == b"\r\n".join(re.split(b"\r?\n", text))
    assert (rfc822._BARE_LF.search(text) is None) == (text.count(b"\n") == text.count(b"\r\n"))


def test_crlf_test_stays_linear_on_long_bodies() -> None:
    import time

    for text in (b"\r\n" * 2_000_000, b"a" * 4_000_000 + b"\r\n", b"ab\r\n" * 1_000_000 + b"\n", b"\r" * 4_000_000):
        t0 = time.process_time()
        rfc822.crlf_lines(text)
        assert time.process_time() - t0 < 2.0


# -- b= blanking and unfolding ---------------------------------------------------------------------------

_BTAG_PIECES = [b"b", b"b=", b"bh=", b"B", b"=", b";", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\r\n ", b"AbC+/", b"0",
                b"x=", b"-", b"\xff"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_BTAG_PIECES), max_size=24))
def test_btag_pattern_matches_dkimpy(pieces: list[bytes]) -> None:
    value = b"".join(pieces)
    assert ours._FAST_RE_BTAG.sub(b"\\1", value) == ours._DKIMPY_RE_BTAG.sub(b"\\1", value)


def test_btag_pattern_matches_dkimpy_on_real_signatures() -> None:
    raw = sign(headers=("from", "to", "subject"))
    value = rfc822.Rfc822(raw).fields()[0][1]
    for v in (value, value.replace(b"; b=", b";\r\n\tb = "), value.replace(b"; b=", b"; x=a b=c; b=")):
        assert ours._FAST_RE_BTAG.sub(b"\\1", v) == ours._DKIMPY_RE_BTAG.sub(b"\\1", v)
        assert ours._FAST_RE_BTAG.sub(b"\\1", v) != v


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n\n"]), max_size=20))
def test_unfolding_matches_dkimpy(pieces: list[bytes]) -> None:
    value = b"".join(pieces)
    assert ours.fast_unfold_header_value(value) == ours._DKIMPY_UNFOLD_HEADER_VALUE(value) == re.sub(b"\r?\n", b"", value)


# -- remembered canonicalisation policies -----------------------------------------------------------------

def _policy_reading(c: bytes) -> object:
    def read(f):  # type: ignore[no-untyped-def]
        p = f(c)
        return (p.header_algorithm, p.body_algorithm)
    return read


@pytest.mark.parametrize("c", [b"simple/simple", b"relaxed/relaxed", b"relaxed/simple", b"relaxed", b"simple",
                               b"relaxed/", b"a/b/c", b"", b"Relaxed/relaxed", b"relaxed/relaxed" * 4, b"x" * 100])
def test_canonicalization_policy_reads_as_dkimpy(c: bytes) -> None:
    reading = _policy_reading(c)
    for _ in range(2):  # a second time from memory
        assert _outcome(reading, ours.canonicalization_policy) == _outcome(reading, CanonicalizationPolicy.from_c_value)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([b"v", b"a", b"b", b"bh", b"d", b"h", b"s", b"i", b"x"]), st.just(b"1")))
def test_mandatory_tag_test_is_the_former_loop(tags: dict[bytes, bytes]) -> None:
    assert (tags.keys() >= ours._MANDATORY_TAGS) == all(t in tags for t in (b"v", b"a", b"b", b"bh", b"d", b"h", b"s"))
