"""Every shortcut of the re-verification speed work, compared with the path it replaces.

dkimpy's own functions are the reference wherever we stand in for one (its message parser, its tag
parser, its b= pattern, its canonicalisation helpers, its ARC validation); for our own functions
the reference is the former implementation, kept here.
"""

from __future__ import annotations

import re
from pathlib import Path

import dkim
import pytest
from dkim.canonicalization import CanonicalizationPolicy
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth import dkim as ours
from mailsleuth.auth import dmarc, rfc822, spf
from mailsleuth.auth.arc import verify_arc
from mailsleuth.auth.dkim import KeyFetcher
from mailsleuth.checks import auth_spf
from mailsleuth.dns.memory import MemoryResolver

_PIECES = [b"a", b"B", b"From ", b"x-h", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b"=",
           b";", b"\xc3\xa9", b"\x00", b"  "]


def _outcome(f, *args):  # type: ignore[no-untyped-def]
    try:
        return ("ok", f(*args))
    except Exception as exc:  # compare the exception dkimpy would raise, class and text
        return ("error", type(exc), str(exc))


# -- the message parser ---------------------------------------------------------------------------

@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_parse_matches_dkimpy_rfc822_parse(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    assert _outcome(rfc822.parse, raw) == _outcome(dkim.rfc822_parse, raw)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from([b"X-A: 1", b"Subject:", b" more", b"\tmore", b"From x", b"bad line", b"\r", b"\n",
                                 b"\r\n", b"a:b"]), max_size=30))
def test_fast_header_reading_agrees_with_the_line_by_line_one(pieces: list[bytes]) -> None:
    block = b"".join(pieces)
    fast = rfc822._parse_headers_fast(block)
    if fast is not None:  # when the fast path answers, it answers what the line-by-line reading does
        assert [[n, v] for n, v in fast] == rfc822.parse_headers_by_line(block)
    assert _outcome(rfc822.parse_headers, block) == _outcome(rfc822.parse_headers_by_line, block)


def test_parse_matches_dkimpy_on_the_corpus(corpus_dir: Path) -> None:
    files = sorted(corpus_dir.glob("*/*.eml"))
    if not files:
        pytest.skip("no corpus")
    for path in files:
        raw = path.read_bytes()
        for variant in (raw, raw.replace(b"\r\n", b"\n"), raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")):
            assert _outcome(rfc822.parse, variant) == _outcome(dkim.rfc822_parse, variant), path.name


def test_parse_stays_linear_on_hostile_headers() -> None:
    import time

    for block in (b"X: y\n" + b" \n" * 100_000 + b"Z", b"a" * 300_000, b"X: y\r\n" + b"b" * 300_000):
        t = time.perf_counter()
        _outcome(rfc822.parse, block + b"\r\n\r\nbody")
        assert time.perf_counter() - t < 2.0


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([b"a", b":", b" ", b"\r", b"\n", b"\r\n", b"\n\n", b"\n\r\n"]), max_size=25))
def test_header_end_and_crlf_lines_match_their_regexes(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    m = re.search(rb"(?:^|\r?\n)\r?\n", raw)
    assert rfc822.header_end(raw) == ((m.start(), m.end()) if m else None)
    assert rfc822.crlf_lines(raw) == b"\r\n".join(re.split(b"\r?\n", raw))


def test_rfc822_object_shares_one_reading() -> None:
    raw = b"From: a@example.com\r\nDKIM-Signature: v=1;\r\n b=x\r\nSubject: s\r\n\r\nline\nline2\r\n"
    src = rfc822.Rfc822(raw)
    headers, body = dkim.rfc822_parse(raw)
    assert [list(h) for h in src.headers()] == headers and src.body == body
    assert src.headers() is not src.headers()  # each user gets its own list
    assert src.names() == [n.decode().lower() for n, _v in headers]
    for c in (b"simple/simple", b"relaxed/relaxed"):
        policy = CanonicalizationPolicy.from_c_value(c)
        assert src.canonical_body(policy) == policy.canonicalize_body(body)
    bad = rfc822.Rfc822(b"\tleading continuation\r\n\r\n")
    assert isinstance(bad.error, IndexError)
    with pytest.raises(IndexError):
        bad.headers()


# -- dkimpy helpers we stand in for -------------------------------------------------------------------

_B64 = st.sampled_from([b"A", b"z", b"0", b"+", b"/", b"=", b" ", b"\t", b"\r\n", b"\n", b"\r\n ", b";", b"b", b"b=",
                        b" b=", b";b =", b"bh=", b"\r\n\t"])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_B64, max_size=40))
def test_fast_btag_pattern_matches_dkimpy(pieces: list[bytes]) -> None:
    value = b"".join(pieces)
    assert ours._FAST_RE_BTAG.sub(b"\\1", value) == ours._DKIMPY_RE_BTAG.sub(b"\\1", value)


def test_dkimpy_uses_the_fast_helpers() -> None:
    from dkim import canonicalization

    assert dkim.RE_BTAG is ours._FAST_RE_BTAG and dkim.parse_tag_value is ours.fast_parse_tag_value
    assert canonicalization.compress_whitespace is ours.fast_compress_whitespace
    assert canonicalization.unfold_header_value is ours.fast_unfold_header_value


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([b"v", b"a", b"=", b";", b" ", b"1", b"_", b"\t", b"\r\n", b"\xc3\xa9", b"b=x",
                                 b"v=1", b"9", b"-"]), max_size=25))
def test_fast_tag_parser_matches_dkimpy(pieces: list[bytes]) -> None:
    value = b"".join(pieces)
    a, b = _outcome(ours.fast_parse_tag_value, value), _outcome(ours._DKIMPY_PARSE_TAG_VALUE, value)
    assert a == b


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"  ", b"\t", b"\r\n", b"\n", b"\r"]), max_size=25))
def test_fast_canonicalisation_helpers_match_dkimpy(pieces: list[bytes]) -> None:
    value = b"".join(pieces)
    assert ours.fast_compress_whitespace(value) == ours._DKIMPY_COMPRESS_WHITESPACE(value)
    assert ours.fast_unfold_header_value(value) == ours._DKIMPY_UNFOLD_HEADER_VALUE(value)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=40), st.text(max_size=30))
def test_white_space_removal_matches_the_regexes(value: bytes, text: str) -> None:
    assert ours.without_wsp(value) == re.sub(rb"\s+", b"", value)
    for t in (text, text + " x", "A\x1cB", "a\u00a0b", "AAAA=", "ab\tcd"):
        assert ours._text_without_wsp(t) == re.sub(r"\s+", "", t)


_TAG_VALUES = {
    b"v": [b"1", b"2", b""], b"a": [b"rsa-sha256", b"rsa-sha1", b"ed25519-sha256", b"RSA-SHA256", b"hmac"],
    b"b": [b"AAAA", b"AAA=", b"AA AA", b"AAAAA", b"A!AA", b"====", b"", b"AAAA\r\n "],
    b"bh": [b"AAAA", b"AA=", b"AAAA AAAA", b"", b"A A"], b"d": [b"example.com", b"Example.COM", b"ex;ample", b"", b"\xc3\xa9.test"],
    b"h": [b"from", b""], b"s": [b"sel", b""], b"i": [b"@example.com", b"a@EXAMPLE.com", b"a@sub.example.com",
                                                   b"example.com", b"@other.org", b"xexample.com", b"m"],
    b"l": [b"12", b"", b"1x", b"9" * 80], b"q": [b"dns/txt", b"dns"], b"cv": [b"pass", b"nope"],
    b"t": [b"1", b"x"], b"x": [b"2", b"y"],
}


@settings(max_examples=3000, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(_TAG_VALUES)), st.integers(0, 10)))
def test_signature_field_checks_match_dkimpy(picks: dict[bytes, int]) -> None:
    tags = {k: _TAG_VALUES[k][n % len(_TAG_VALUES[k])] for k, n in picks.items()}
    for k in (b"v", b"a", b"b", b"bh", b"d", b"h", b"s"):  # mostly complete signatures
        if k not in picks and picks.get(b"t") != 1:
            tags[k] = _TAG_VALUES[k][0]
    without_times = {k: v for k, v in tags.items() if k not in (b"t", b"x")}
    expected = _outcome(dkim.validate_signature_fields, without_times)
    assert _outcome(ours.validate_signature_fields, tags) == expected
    if ours.dkimpy_accepts_fields(tags):
        assert expected == ("ok", None)


def _header_signature_both_ways(raw: bytes, record: str) -> tuple[object, object]:
    """(ours, dkimpy's verify_sig_process) for the first DKIM-Signature of ``raw``."""
    src = rfc822.Rfc822(raw)
    fields = src.fields()
    sigheader = next(f for f in fields if f[0].lower() == b"dkim-signature")
    tags = ours.parse_tag_value(sigheader[1])
    sig = {k: v for k, v in tags.items() if k != b"bh"}
    names = [h.strip().lower().encode() for h in tags[b"h"].decode().split(":")]
    policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
    key = ours._load_key(record)
    assert not isinstance(key, str)
    wanted = set(names)
    signed = [(x, y) for x, y in fields if x.lower() in wanted]
    mine = _outcome(ours.verify_header_signature, dict(sig), list(names), sigheader, signed, key, policy)
    dk = dkim.DKIM(None, minkey=0)
    dk.headers = list(fields)
    dk.pk, dk.keysize, dk.ktag = key
    return mine, _outcome(dk.verify_sig_process, dict(sig), list(names), sigheader, None)


@pytest.mark.parametrize("alg", ["rsa-sha256", "rsa-sha1", "ed25519-sha256"])
@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple", "relaxed/simple"])
def test_header_signature_matches_dkimpy(alg: str, canon: str) -> None:
    from tests.unit.test_dkim import ed25519_key, rsa_key, sign

    record = ed25519_key()[1] if alg.startswith("ed25519") else rsa_key()[1]
    raw = sign(alg=alg, canon=canon)
    edited = raw.replace(b"Subject: Quarterly", b"Subject:  Quarterly\r\n\t")
    for variant in (raw, edited, raw.replace(b"Subject: Quarterly", b"Subject: Monthly"),
                    raw.replace(b"From: Alice", b"From: Mallory <m@example.org>\r\nFrom: Alice"),
                    sign(alg=alg, canon=canon, headers=("from", "to", "x-absent"))):
        mine, theirs = _header_signature_both_ways(variant, record)
        assert mine == theirs
    assert _header_signature_both_ways(raw, record)[0] == ("ok", True)
    if not alg.startswith("ed25519"):  # another (small) key: the signature does not verify, for both
        mine, theirs = _header_signature_both_ways(raw, rsa_key(512)[1])
        assert mine == theirs == ("ok", False)


# -- our own shortcuts ---------------------------------------------------------------------------------

def _signed_header_refs_before(names: list[str], headers: list[tuple[str, int]]) -> list[tuple[str, int | None]]:
    """The implementation before the per-name index (a scan up from the bottom for each entry)."""
    lastindex: dict[str, int] = {}
    out: list[tuple[str, int | None]] = []
    for n in names:
        i = lastindex.get(n, len(headers))
        found: int | None = None
        while i > 0:
            i -= 1
            if headers[i][0] == n:
                found = i
                break
        lastindex[n] = i if found is not None else 0
        out.append((n, headers[found][1] if found is not None else None))
    return out


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["from", "to", "subject", "date"]), max_size=12),
       st.lists(st.sampled_from(["from", "to", "subject", "received"]), max_size=15))
def test_signed_header_refs_matches_the_former_scan(names: list[str], present: list[str]) -> None:
    headers = [(n, i * 3) for i, n in enumerate(present)]
    assert ours.signed_header_refs(names, headers) == _signed_header_refs_before(names, headers)
    assert ours.signed_header_refs(names, headers, ours.header_index(headers)) == _signed_header_refs_before(names, headers)


_SPF_RECORDS = ["v=spf1 -all", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com ~all", "v=spf1 a/24//64 mx:mx.example.com/28 ?ip6:2001:db8::/32 exp=e.%{d} -all",
                "v=spf1 redirect=_spf.example.net", "v=spf1 ip4:300.1.1.1 -all", "v=spf1 foo -all", "v=spf1 exp=a exp=b",
                "v=spf1 include:%{z}.example.com", "v=spf1 +all", "v=spf1 ip4:10.0.0.0/8 ip6:2001:db8::/15"]


def test_cached_spf_parse_matches_the_parser() -> None:
    for text in _SPF_RECORDS * 2:  # the second round comes from the cache
        assert _outcome(spf.parse_record_cached, text) == _outcome(spf.parse_record, text)
        try:
            spf.parse_record_cached(text)
        except spf._Stop as e:
            with pytest.raises(spf._Stop) as again:
                spf.parse_record(text)
            assert (e.result, e.cause, e.incomplete) == (again.value.result, again.value.cause, again.value.incomplete)
    for text in _SPF_RECORDS:
        assert auth_spf.broad_terms(text) == list(auth_spf._broad_terms.__wrapped__(text))
    for ip in ("192.0.2.1", "[192.0.2.1]", "::ffff:192.0.2.1", "2001:DB8::1", "nope", " 203.0.113.9 "):
        assert spf.parse_ip(ip) == spf.parse_ip.__wrapped__(ip)


def test_cached_dmarc_parse_matches_the_parser() -> None:
    for text in ("v=DMARC1; p=reject", "v=DMARC1; p=Quarantine; sp=x; pct=50; rua=mailto:a@example.com",
                 "v=spf1 -all", "v = DMARC1 ; p=none", "v=DMARC1; p=none; psd=y; t=y"):
        for _ in range(2):
            assert dmarc.parse_record("example.com", text) == dmarc.parse_record.__wrapped__("example.com", text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"DKIM-Signature: v=1; d=example.com; s=s; h=from; b=AA; bh=AA",
                                 b"dkim-signature : v=1", b"X-Note: mentions dkim-signature:", b"From: a@example.com",
                                 b" folded", b"not a header", b"Subject: s", b"\r\n", b"\n"]), max_size=8))
def test_presumed_signed_changes_nothing(pieces: list[bytes]) -> None:
    from datetime import UTC, datetime

    raw = b"\r\n".join(pieces) + b"\r\n\r\nbody\r\n"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    res = MemoryResolver({})
    assert ours.verify_message(raw, has_body=True, resolver=res, now=now, presumed_signed=True) == \
        ours.verify_message(raw, has_body=True, resolver=res, now=now)


def test_remembered_helpers_answer_as_computed_and_skip_long_inputs() -> None:
    long = ".".join(["a"] * 300)
    for name in ("example.com", "a..example.com", "localhost", "x" * 64 + ".com", "[192.0.2.1]", long, long + "."):
        for multi in (True, False):
            assert spf.valid_domain(name, multi_label=multi) == spf._valid_domain(name, multi)
        assert dmarc._walk_names(name) == dmarc._walk(name)
    assert dmarc.Walker(MemoryResolver({})).walk_names("mail.example.com") == ["mail.example.com", "example.com", "com"]
    before = spf._valid_domain_cached.cache_info().currsize
    spf.valid_domain(long + ".example")  # too long to be remembered
    assert spf._valid_domain_cached.cache_info().currsize == before
    big = ("v=DKIM1; p=" + "A" * 9000, "v=spf1 -all", "p=x")
    assert ours._key_records(big) == ours._keyish(big) == (big[0], big[2])
    assert ours._key_records(big[1:]) == ("p=x",)


def test_remembered_key_reading_matches_dkimpy() -> None:
    from tests.unit.test_dkim import ed25519_key, rsa_key

    rsa_record, ed_record = rsa_key()[1].encode(), ed25519_key()[1].encode()
    records = [rsa_record, ed_record, rsa_record.replace(b"v=DKIM1", b"v=DKIM2"), b"v=DKIM1; k=rsa", b"v=DKIM1; p=!!!",
               b"v=DKIM1; k=dsa; p=AAAA", rsa_record + b"; s=tlsrpt", rsa_record + b"; s=other", b"=broken", b"", None,
               rsa_record.decode(), b"v=DKIM1; p=" + b"A" * 5000]
    for record in records * 2:  # the second round comes from the cache
        assert _outcome(ours.cached_evaluate_pk, b"s._domainkey.example.com.", record) == \
            _outcome(ours._DKIMPY_EVALUATE_PK, b"s._domainkey.example.com.", record)
    assert dkim.evaluate_pk is ours.cached_evaluate_pk


# -- whole paths: shared reading vs a reading of its own --------------------------------------------------

def test_dkim_and_arc_give_the_same_result_with_a_shared_reading() -> None:
    from datetime import UTC, datetime

    pytest.importorskip("authres")
    from tests.unit.test_arc import arc_seal, arc_zone
    from tests.unit.test_dkim import sign

    now = datetime(2026, 1, 1, tzinfo=UTC)
    for raw in (arc_seal(sign()), arc_seal(arc_seal(sign()), domain="example.org"), sign(),
                arc_seal(sign()).replace(b"Subject: ", b"Subject: edited "), arc_seal(sign()) + b"appended\r\n"):
        res = MemoryResolver(arc_zone())
        alone = ours.verify_message(raw, has_body=True, resolver=res, now=now)
        src = rfc822.Rfc822(raw)
        shared = ours.verify_message(raw, has_body=True, resolver=res, now=now, parsed=src)
        assert alone == shared
        a1, a2 = verify_arc(raw, resolver=res), verify_arc(raw, resolver=res, parsed=src)
        assert a1 == a2
        # and our ARC validation agrees with dkimpy's own, run on its own parse of the message
        if not a1.instances:  # unsealed: we answer "no ARC sets" before asking dkimpy
            continue
        cv, data, reason = dkim.ARC(raw).verify(dnsfunc=KeyFetcher(res))
        assert (a1.chain, a1.reason) == ({dkim.CV_Pass: "pass", dkim.CV_None: "none"}.get(cv, "fail"), reason)
        assert [(i.seal_valid, i.ams_valid) for i in a1.instances] == \
            [(r["as-valid"], r["ams-valid"]) for r in sorted(data, key=lambda r: r["instance"])]
