"""Shortcuts in the spam-stamp reader: stamp headers found by name, rule meanings remembered per book."""

from __future__ import annotations

import pytest

from mailsleuth.model.spam import MeaningSource
from mailsleuth.parse import spamstamps
from mailsleuth.parse.message import parse_message
from mailsleuth.parse.spamstamps import FAMILIES, group_stamp_headers, load_rulebook, stamp_headers

RAW = (b"X-Spam-Status: No, score=1.0 required=5.0 tests=BAYES_50,URIBL_BLACK\n"
       b"Received: from a.example.net by b.example.net; Mon, 2 Jan 2026 10:00:00 +0000\n"
       b"x-spam-FLAG: NO\n"
       b"X-Forefront-Antispam-Report: CIP:192.0.2.1;SFV:NSPM;SCL:1\n"
       b"X-Spam-Status: Yes, score=9 required=5 tests=T_URIBL_BLACK\n"
       b"From: a@example.com\nSubject: s\n\nbody\n")


def test_stamp_headers_are_the_family_headers_in_order() -> None:
    msg = parse_message(RAW)
    expected = [h for h in msg.headers if h.lname in FAMILIES]
    assert stamp_headers(msg) == expected
    assert [[h.ref for h in g.headers] for g in group_stamp_headers(stamp_headers(msg))] == \
        [[h.ref for h in g.headers] for g in group_stamp_headers(msg.headers)]
    assert [g.family for g in group_stamp_headers(msg.headers)] == ["spamassassin", "microsoft", "spamassassin"]


def test_remembered_meanings_equal_fresh_ones() -> None:
    book = load_rulebook(None)
    names = ["BAYES_50", "bayes_50", "T_URIBL_BLACK", "URIBL_SOMETHING_NEW", "NOBODY_KNOWS_THIS"]
    first = [book.explain(n, 1.0, "the stamp's words") for n in names]
    again = [book.explain(n, 1.0, "the stamp's words") for n in names]
    assert first == again
    assert first[0].name == "BAYES_50" and first[1].name == "bayes_50"  # shown as written
    assert first[0].meaning == first[1].meaning and first[0].source is MeaningSource.MAILSLEUTH
    assert first[-1].source is MeaningSource.STAMP and first[-1].meaning == "the stamp's words"
    assert book.explain("NOBODY_KNOWS_THIS", 2.0).source is MeaningSource.UNKNOWN  # remembered, stamp words not


def test_remembered_meanings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spamstamps, "MAX_REMEMBERED_MEANINGS", 3)
    book = spamstamps.RuleBook(rules={}, prefixes=(), categories={}, local={})
    for i in range(10):
        assert book.explain(f"RULE_{i}", None).source is MeaningSource.UNKNOWN
    assert len(book._meanings) == 3
