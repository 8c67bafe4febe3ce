"""The Authentication-Results fast path (one pattern per result in the plain shape) reads exactly what
the careful reader reads: same results, comments, properties and notes, on real headers, odd ones and
random token soup."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.parse import authres
from mailsleuth.parse.authres import AR_LIKE, parse_ar_value
from mailsleuth.parse.message import parse_message

PIECES = [";", " ", "  ", "\t", "\r\n ", "(", ")", '"', "\\", "=", ".", "/", "1", "2x", "²", "dkim", "spf", "Dmarc",
          "pass", "fail", "reason", "REASON", "none", "header.d", "Header.D", "smtp.mailfrom=a@example.com", "x", "mx.example.net",
          "(c)", "(a (b) c)", '"q"', '"(q)"', "a=b", "i=1", "policy.iprev=192.0.2.1", "action=none", "header.b=ab+/c"]

ODD = [
    "mx.example.net; dkim=pass (1024-bit key) header.d=example.com; spf=pass smtp.mailfrom=example.org",
    "mx.example.net 1; dkim=pass reason=\"good\" header.d=example.com header.b=\"ab(cd)\"",
    "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.org; dkim=none (message not signed) header.d=none;"
    "dmarc=none action=none header.from=example.org;compauth=pass reason=100",
    "mx.example.net; dkim=pass header.d=example.com spf=pass smtp.mailfrom=example.org",  # missing ';'
    "mx.example.net; dkim=pass header.d=example.com header.s=; spf=pass",
    "mx.example.net; dkim/1=pass (a (nested) comment) header.d=example.com",
    "mx.example.net; dkim=pass (unclosed header.d=example.com",
    "mx.example.net; dkim=pass header.i=\"a\\\"b\"; none",
    "mx.example.net;; dkim=pass;",
    "mx.example.net (c) 2 (d) ; dkim = pass ( c1 ) header . d = example.com ( c2 ) ;",
    "mx.example.net 1x; dkim=pass",
    "mx.example.net; dkim=pass " + " ".join(f"p.k{i}=v" for i in range(60)),
    "mx.example.net; dkim=pass " + " ".join(f"p.k{i}=v" for i in range(49)) + "; spf=pass",
    "mx.example.net; dkim=pass " + " ".join(f"p.k{i}=v" for i in range(50)) + " (c); spf=pass",
    "mx.example.net; dkim=pass reason=r " + " ".join(f"p.k{i}=a=b" for i in range(30)),
    "mx.example.net; dkim=pass reason=a reason=b x=y spf=z",
    "i=1; mx.example.net; arc=pass (i=1 spf=pass)",
    "mx.example.net; dkim==pass",
    "",
    ";",
]


def _same(value: str, arc: bool = False) -> None:
    assert parse_ar_value(value, arc=arc) == parse_ar_value(value, arc=arc, fast=False), value


@pytest.mark.parametrize("value", ODD)
def test_fast_path_reads_odd_headers_like_the_careful_reader(value: str) -> None:
    _same(value)
    _same(value, arc=True)


def test_fast_path_is_taken_for_the_plain_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    def careful_only(*_a: object, **_k: object) -> None:
        raise AssertionError("the careful reader was used")

    monkeypatch.setattr(authres, "_read_resinfo", careful_only)
    monkeypatch.setattr(authres, "_looks_like_resinfo", careful_only)
    authserv, version, _, results, errors, _ = parse_ar_value(ODD[1])
    assert (authserv, version, errors) == ("mx.example.net", "1", ())
    assert results[0].reason == "good"
    assert results[0].prop("header.b") == "ab(cd)"
    assert results[0].comments == ()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.booleans())
def test_fast_path_equals_careful_reader_on_token_soup(pieces: list[str], arc: bool) -> None:
    _same("".join(pieces), arc)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=0x7f), max_size=120))
def test_fast_path_equals_careful_reader_on_any_ascii(value: str) -> None:
    _same(value)


def test_fast_path_equals_careful_reader_on_the_corpus(corpus_dir: Path) -> None:
    values = []
    for p in sorted(corpus_dir.glob("*/*.eml"))[:400]:
        msg = parse_message(p.read_bytes())
        values += [h.value for h in msg.headers if h.lname in AR_LIKE]
    if not values:
        pytest.skip("no corpus")
    rnd = random.Random(7)
    for v in values:
        _same(v)
        chars = list(v)  # and a damaged copy: pieces inserted, characters removed
        for _ in range(3):
            k = rnd.randrange(len(chars) + 1)
            if rnd.random() < 0.5:
                chars.insert(k, rnd.choice(PIECES))
            elif k < len(chars):
                del chars[k]
        _same("".join(chars))
