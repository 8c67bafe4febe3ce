"""Second performance pass: every shortcut against the code it stands in for."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.content import lexicon
from mailsleuth.parse import addresses, message, received
from mailsleuth.parse.message import ParseLimits

# ---- lexicon._spaces: replace + one regex vs the replace loop; NFKC pre-replacements --------------

_SPACE_CHARS = " \r\n\t\xa0\u3000\u200b\u2009\u202f\x0b\x0c\x1c\x1f\x85\u1680\u2000\u2005\u200a\u2028\u205f"


def _spaces_reference(s: str) -> str:
    """The definition: every listed space becomes ' ', then runs of ' ' become one."""
    for ch in lexicon._SPACES:
        if ch in s:
            s = s.replace(ch, " ")
    while "  " in s:
        s = s.replace("  ", " ")
    return s


@settings(max_examples=600)
@given(st.text(alphabet=st.sampled_from(_SPACE_CHARS + "ab\u00e9\u4e2d.-"), max_size=60))
def test_spaces_equals_reference(text: str) -> None:
    assert lexicon._spaces(text) == _spaces_reference(text)


@given(st.text(max_size=80))
def test_spaces_equals_reference_any_text(text: str) -> None:
    assert lexicon._spaces(text) == _spaces_reference(text)


def test_spaces_examples() -> None:
    for text in ("", " ", "  ", "\n", "a", " a ", "a\r\n\tb", "a\u200bb", "\u200b", "a\x0cb  c", "a \u2028 b",
                 "a" + " " * 1000 + "b"):
        assert lexicon._spaces(text) == _spaces_reference(text)
    assert lexicon._spaces("  pay\n\n now ") == " pay now "
    assert lexicon._spaces("a\x0c\x0cb \u2028 c") == "a\x0c\x0cb \u2028 c"  # other white space is kept


def test_pre_nfkc_replacements_are_their_own_nfkd_without_marks() -> None:
    assert ("\xa0", " ") in lexicon._PRE_NFKC
    for ch, rep in lexicon._PRE_NFKC:
        assert unicodedata.normalize("NFKD", ch) == rep
        assert not any(unicodedata.combining(c) for c in rep)


_NFKC_ALPHABET = "".join(ch for ch, _ in lexicon._PRE_NFKC) + "a e\u0301\u0308\u0327\u1100\u1161\uac00\u00c5\u212b\uff21\U0001d400"


@settings(max_examples=600)
@given(st.text(alphabet=st.sampled_from(_NFKC_ALPHABET), max_size=30))
def test_pre_nfkc_replacements_do_not_change_nfkc(text: str) -> None:
    replaced = text
    for ch, rep in lexicon._PRE_NFKC:
        replaced = replaced.replace(ch, rep)
    assert unicodedata.normalize("NFKC", replaced) == unicodedata.normalize("NFKC", text)


# ---- received.parse_timestamp: RFC 5322 fast path vs the general reader ---------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "mon", "Xyz")
_MONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "jan", "Foo")


@st.composite
def _rfc_dates(draw: st.DrawFn) -> str:
    day = draw(st.integers(0, 33))
    lead0 = draw(st.booleans())
    dd = f"{day:02d}" if lead0 else str(day)
    year = draw(st.sampled_from((1969, 1970, 1999, 2026, 9998, 9999, 26, 126)))
    hh, mi, ss = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    sign = draw(st.sampled_from("+-"))
    zh, zm = draw(st.integers(0, 25)), draw(st.integers(0, 99))
    zone = draw(st.sampled_from((f"{sign}{zh:02d}{zm:02d}", "+0000", "-0000", "GMT", "UTC", "EST", "Z")))
    text = f"{dd} {draw(st.sampled_from(_MONS))} {year} {hh:02d}:{mi:02d}:{ss:02d} {zone}"
    if draw(st.booleans()):
        text = f"{draw(st.sampled_from(_DAYS))}, {text}"
    tail = draw(st.sampled_from(("", " (UTC)", " (CET)", " (Pacific Standard Time)", " (a(b))", " x", "  ")))
    return text + tail


@settings(max_examples=1500)
@given(_rfc_dates())
def test_fast_timestamp_equals_general(text: str) -> None:
    fast = received.parse_timestamp(text)
    slow = received._parse_timestamp_general(text)
    assert fast == slow
    if fast is not None:
        assert fast.tzinfo is UTC and slow is not None and slow.tzinfo is UTC


@given(st.text(max_size=60))
def test_fast_timestamp_equals_general_any_text(text: str) -> None:
    assert received.parse_timestamp(text) == received._parse_timestamp_general(text)


def test_fast_timestamp_examples() -> None:
    got = received._fast_timestamp("Mon, 2 Jan 2026 10:00:00 +0130 (CET)")
    assert got == datetime(2026, 1, 2, 8, 30, tzinfo=UTC)
    assert received._fast_timestamp("2 Jan 2026 10:00:00 -0000") is None  # unknown zone: general path
    assert received._fast_timestamp("31 Feb 2026 10:00:00 +0000") is None
    assert received.parse_timestamp("Tue, 3 Feb 2026 01:02:03 -0500") == datetime(2026, 2, 3, 6, 2, 3, tzinfo=UTC)
    assert received.parse_timestamp("Tue, 3 Feb 2026 01:02:03 -0500") - timedelta(hours=5) == datetime(
        2026, 2, 3, 1, 2, 3, tzinfo=UTC)


# ---- addresses._pairs: simple shapes vs email.utils.getaddresses ----------------------------------

_ADDR_ALPHABET = "aZ09._%+=-@<>\" ,.:;()[]\\\t\r\n'\u00fc\x0b\xa0/!"


@st.composite
def _address_like(draw: st.DrawFn) -> str:
    local = draw(st.text(alphabet="aZ09._%+=-!'", min_size=0, max_size=8))
    domain = draw(st.text(alphabet="aZ09.-_", min_size=0, max_size=8))
    addr = f"{local}@{domain}"
    shape = draw(st.integers(0, 3))
    name = draw(st.text(alphabet="aZ \u00fc\t.'\",\\()", max_size=10))
    pad = draw(st.sampled_from(("", " ", "\t", "  ", "\r\n ")))
    if shape == 0:
        return f"{pad}{addr}{pad}"
    if shape == 1:
        return f"{pad}<{addr}>{pad}"
    if shape == 2:
        return f"{pad}{name}{pad}<{addr}>{pad}"
    return f'{pad}"{name}"{pad}<{addr}>{pad}'


@settings(max_examples=2000)
@given(_address_like())
def test_address_fast_path_equals_getaddresses(piece: str) -> None:
    assert addresses._pairs(piece) == getaddresses([piece])


@settings(max_examples=600)
@given(st.text(alphabet=st.sampled_from(_ADDR_ALPHABET), max_size=40))
def test_address_fast_path_equals_getaddresses_any(piece: str) -> None:
    assert addresses._pairs(piece) == getaddresses([piece])


def test_address_fast_path_examples() -> None:
    for piece in ("a@b.example", " <a@b.example> ", "Bob Smith <bob@example.org>", '"Smith, Bob" <bob@example.org>',
                  "M\u00fcller J\u00f6rg <j@example.net>", "J. Smith <j@example.net>", "a@b.example (comment)"):
        assert addresses._pairs(piece) == getaddresses([piece]), piece
    assert addresses._FAST_NAMED.fullmatch('"Smith, Bob" <bob@example.org>') is not None
    assert addresses._FAST_BARE.fullmatch("<a.b+c=d@mail.example.com>") is not None


# ---- parse.message.split_headers: one match per field vs the line-by-line reader ----------------

_HDR_ALPHABET = "aZ-:; \t\r\n\x00\xff="


@st.composite
def _header_blocks(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 5))
        body = draw(st.text(alphabet=_HDR_ALPHABET, max_size=12)).encode("latin-1")
        if kind <= 2:
            name = draw(st.sampled_from((b"From", b"X-A", b"Subject", b"a" * 201, b"B c", b"")))
            lines.append(name + draw(st.sampled_from((b":", b" :", b"\t: ", b":  "))) + body)
        elif kind == 3:
            lines.append(draw(st.sampled_from((b" ", b"\t"))) + body)
        else:
            lines.append(body)
    sep = draw(st.sampled_from((b"\n", b"\r\n")))
    return sep.join(lines) + draw(st.sampled_from((b"", b"\n", b"\r", b"\r\n")))


def _split_both(block: bytes, max_headers: int = 20_000) -> tuple[object, object]:
    limits = ParseLimits(max_headers=max_headers)
    d1: list[str] = []
    d2: list[str] = []
    return (message.split_headers(block, limits, d1), d1), (message._split_headers_lines(block, limits, d2), d2)


@settings(max_examples=2000)
@given(_header_blocks())
def test_split_headers_fast_equals_lines(block: bytes) -> None:
    fast, slow = _split_both(block)
    assert fast == slow


@settings(max_examples=300)
@given(_header_blocks(), st.integers(1, 4))
def test_split_headers_fast_equals_lines_with_a_field_limit(block: bytes, limit: int) -> None:
    fast, slow = _split_both(block, limit)
    assert fast == slow


@given(st.binary(max_size=80))
def test_split_headers_fast_equals_lines_any_bytes(block: bytes) -> None:
    fast, slow = _split_both(block)
    assert fast == slow


def test_split_headers_examples() -> None:
    block = b"From: a@example.com\r\nSubject: hi\r\n there\r\n\tagain\r\nX-Empty:\r\nX-CR: a\r\r\nX-T:\t\r"
    fast, slow = _split_both(block)
    assert fast == slow
    assert fast[0][1] == ("Subject", b"hi\n there\n\tagain")
    assert _split_both(b" leading continuation\nA: b")[0] == _split_both(b" leading continuation\nA: b")[1]
