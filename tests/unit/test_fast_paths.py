"""The fast paths added for speed give the same answers as the general code they short-cut, and the
per-message caches are per message."""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import string
import unicodedata
from html import unescape

import pytest

from mailsleuth.brands.confusables import fold
from mailsleuth.brands.names import _words
from mailsleuth.catalogue import _FORMATTER, _Facts, fill, load_catalogue
from mailsleuth.domains import is_ip
from mailsleuth.model.message import MimePart
from mailsleuth.parse.addresses import message_addresses
from mailsleuth.parse.authres import parse_ar_value
from mailsleuth.parse.links import _unescape
from mailsleuth.parse.message import _find_header_end, _looks_binary, parse_message


def _vformat(template: str, facts: dict[str, object]) -> str:
    try:
        return _FORMATTER.vformat(template, (), _Facts(facts))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return template


FACTS: list[dict[str, object]] = [
    {},
    {"hop": 3, "seconds": 1.5, "domain": "a{b}.example", "x": None},
    {"hop": "x", "seconds": "s", "n": 2**70, "items": [1, 2]},
]
ODD_TEMPLATES = ["{", "}", "{}", "{0}", "{hop!r}", "{hop!x}", "{hop:>5}", "{seconds:.1f}", "{hop.real}",
                 "{items[0]}", "a}}b{{c", "{hop:{seconds}}", "{ hop }", "{hop!s:>3}", "plain", "{n:,}", "{x:d}",
                 "a}b", "{hop}{missing}"]


@pytest.mark.parametrize("facts", FACTS)
def test_fill_matches_the_general_formatter(facts: dict[str, object]) -> None:
    templates = [t for e in load_catalogue().values() for t in (e.title, e.explanation)] + ODD_TEMPLATES
    for t in templates:
        assert fill(t, facts) == _vformat(t, facts), t


def test_fill_missing_fact_is_a_question_mark() -> None:
    assert fill("hop {hop} of {hops}", {"hop": 2}) == "hop 2 of ?"


def test_unescape_fast_path_matches_html_unescape() -> None:
    rnd = random.Random(7)
    toks = ["&amp;", "&", "amp;", "&amp", "&lt;", "&#38;", "a", ";", "&amp;amp;", "&AMP;", " ", "x=1", "&amp;lt;",
            "&para", "&copy=", "&not", "&pid=", "&configId", "&AMP", "&lt", "&#", "&#x41", "&p", "&Aacute", "="]
    for _ in range(40000):
        v = "".join(rnd.choice(toks) for _ in range(rnd.randint(0, 8)))
        assert _unescape(v) == unescape(v), v


def _words_by_char(text: str) -> list[str]:
    """The character loop _words replaced: runs of isalnum() characters and + & '."""
    s = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    cur: list[str] = []
    for c in s:
        if c.isalnum() or c in "+&'":
            cur.append(c)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return [fold(w).replace("'", "") for w in out[:60]]


def test_words_match_the_character_loop() -> None:
    for cp in [*range(0x300), 0x301, 0x410, 0x663, 0xB2, 0xBC, 0x2460, 0x4E2D, 0x1D400, 0xFF21, 0x200B, 0x5F]:
        text = "ab" + chr(cp) + "cd"
        assert _words(text) == _words_by_char(text), hex(cp)
    rnd = random.Random(3)
    alpha = "ab1_+&' .-\u00e9\u0301\u0410\u4e2d\u0663\u00b2\u2460!?"
    for _ in range(3000):
        text = "".join(rnd.choice(alpha) for _ in range(rnd.randint(0, 30)))
        assert _words(text) == _words_by_char(text), text


def test_is_ip_fast_path_agrees_with_ipaddress() -> None:
    samples = ["192.0.2.1", "[192.0.2.1]", " 2001:db8::1 ", "example.com", "1.2.3", "1.2.3.4.5", "", "::",
               "0300.0250.1.1", "١٢.٣.٤.٥", "192.0.2.1x", "fe80::1%eth0", "mail.example.net.", "10.0.0.256"]
    for s in samples:
        try:
            ipaddress.ip_address(s.strip().strip("[]"))
            want = True
        except ValueError:
            want = False
        assert is_ip(s) is want, s


def test_header_end_is_the_earliest_separator() -> None:
    rnd = random.Random(2)
    for _ in range(5000):
        d = bytes(rnd.choice(b"\r\n\r\n\nab: ") for _ in range(rnd.randint(0, 30)))
        found = [(d.find(sep), len(sep)) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n") if d.find(sep) != -1]
        if not found:
            assert _find_header_end(d) == (-1, -1)
        else:
            i, n = min(found)
            assert _find_header_end(d) == (i, i + n), d


def test_binary_sniff_counts_control_bytes() -> None:
    text = b"Subject: x\n" + b"a" * 100
    assert not _looks_binary(text)
    assert _looks_binary(b"\x01" * 10 + b"a" * 100)
    assert not _looks_binary(b"\x01" * 5 + b"a" * 100)  # under 5%


def test_control_characters_in_header_values_become_spaces() -> None:
    msg = parse_message(b"From: a@example.com\nSubject: a\x01b\x7fc\td\n\nbody\n")
    h = msg.get("Subject")
    assert h is not None
    assert h.value == "a b\x7fc\td"
    assert "control characters in the value" in h.defects


def test_authres_reader_handles_comments_quotes_and_escapes() -> None:
    v = ('mx.example.net (a (nested) \\) comment); spf=pass (sender "ok") smtp.mailfrom="a\\"b@example.com"; '
         'dkim=fail reason="bad \\"sig\\"" header.d=example.org (unclosed')
    authserv, _version, _, results, errors, _ = parse_ar_value(v)
    assert authserv == "mx.example.net"
    assert [r.method for r in results] == ["spf", "dkim"]
    assert results[0].prop("smtp.mailfrom") == 'a"b@example.com'
    assert results[0].comments == ('sender "ok"',)
    assert results[1].reason == 'bad "sig"'
    assert results[1].comments == ("unclosed",)
    assert errors == ("unclosed comment at offset 149",)


def test_message_memo_computes_once_per_message() -> None:
    raw = b"From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: hi\n\nbody\n"
    msg = parse_message(raw)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert msg.memo("k", compute) == 42
    assert msg.memo("k", compute) == 42
    assert len(calls) == 1
    first = message_addresses(msg, msg.value("From"))
    assert message_addresses(msg, msg.value("From")) is first
    assert first[0].domain == "example.com"
    # a new message (or a modified copy) starts with an empty memo
    assert parse_message(raw).memo("k", lambda: 7) == 7
    assert dataclasses.replace(msg, notes=("x",)).memo("k", lambda: 8) == 8


def test_part_text_is_decoded_once_and_not_copied() -> None:
    part = MimePart(path="1", content_type="text/plain", payload="héllo".encode(), charset="utf-8")
    assert part.text() == "héllo"
    assert part.text() is part.text()
    other = dataclasses.replace(part, payload=b"bye")
    assert other.text() == "bye"
    assert part == MimePart(path="1", content_type="text/plain", payload="héllo".encode(), charset="utf-8")


def test_printable_letters_are_one_word() -> None:
    assert len(_words(string.ascii_letters + string.digits)) == 1
