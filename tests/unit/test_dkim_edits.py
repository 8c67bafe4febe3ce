"""mailsleuth.auth.edits: signs that a signed header was edited after delivery, found by structure."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from mailsleuth.auth.edits import Placeholders, assess_edits, mask_match, placeholders, reserved_domain
from mailsleuth.parse.message import parse_message

DATA = tomllib.loads((resources.files("mailsleuth") / "data" / "redaction" / "placeholders.toml").read_text())


def _msg(to: str, frm: str = "Alice <alice@mail.example.net>", subject: str = "Statement") -> bytes:
    return (f"Received: from out.example.net by mx.recipient.test; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n").encode()


H = ["from", "to", "subject"]


def ph() -> Placeholders:
    """The shipped masks, but only example.com/.org and .invalid reserved: so that example.net and .test
    can stand for real domains in these fixtures (which may only use documentation names)."""
    return Placeholders(domains=frozenset({"example.com", "example.org"}), tlds=frozenset({"invalid"}),
                        masks=placeholders().masks)


@pytest.mark.parametrize("entry", DATA["reserved_domains"], ids=lambda e: e["id"])
def test_reserved_domain_examples(entry: dict) -> None:
    for d in entry["positive"]:
        assert reserved_domain(d), d
    for d in entry["negative"]:
        assert reserved_domain(d) is None, d


@pytest.mark.parametrize("entry", DATA["masks"], ids=lambda e: e["id"])
def test_mask_examples(entry: dict) -> None:
    for text in entry["positive"]:
        assert mask_match(text) == entry["id"] or mask_match(text), text
    for text in entry["negative"]:
        assert mask_match(text) is None, text


def test_every_entry_has_id_description_source() -> None:
    for e in DATA["reserved_domains"] + DATA["masks"]:
        assert e["id"] and e["description"] and e["source"] and e["positive"] and e["negative"]
    assert placeholders().masks


def test_to_redacted_to_documentation_domain_with_real_signer() -> None:
    m = parse_message(_msg("<someone@example.com>"))
    a = assess_edits(m, H, ph=ph(), signer_domain="example.net", trusted_by_host="mx.recipient.test")
    assert a.likely_edited
    assert [s.kind for s in a.signs] == ["reserved_domain"]
    assert "To address looks redacted to a documentation domain (example.com)" in a.summary


def test_same_placeholder_as_recipient_server_is_noted() -> None:
    m = parse_message(_msg("<someone@example.org>"))
    a = assess_edits(m, H, ph=ph(), signer_domain="example.net", trusted_by_host="mx.example.org")
    assert {s.kind for s in a.signs} == {"reserved_domain", "recipient_server_placeholder"}
    assert "recipient's own server name (mx.example.org)" in a.summary


def test_test_data_signed_by_reserved_domain_is_not_called_redacted() -> None:
    m = parse_message(_msg("<bob@example.org>", frm="alice@example.com"))
    a = assess_edits(m, H, ph=ph(), signer_domain="example.com", trusted_by_host="mx.example.org")
    assert not a.likely_edited and a.summary == ""
    # the same message signed by a real domain is a redacted copy
    assert assess_edits(m, H, ph=ph(), signer_domain="example.net", trusted_by_host="mx.example.org").likely_edited


def test_unsigned_header_does_not_count() -> None:
    m = parse_message(_msg("<someone@example.com>"))
    a = assess_edits(m, ["from", "subject"], ph=ph(), signer_domain="example.net")
    assert not a.likely_edited


def test_mask_in_signed_header() -> None:
    m = parse_message(_msg("<****@gmail.com>"))
    a = assess_edits(m, H, ph=ph(), signer_domain="example.net")
    assert a.likely_edited and a.signs[0].kind == "mask" and "To header looks redacted" in a.summary


def test_reported_from_differs() -> None:
    m = parse_message(_msg("<bob@recipient.test>"))
    a = assess_edits(m, H, ph=ph(), signer_domain="example.net", reported_from="other.test")
    assert a.likely_edited and a.signs[0].kind == "reported_from_differs"
    b = assess_edits(m, H, ph=ph(), signer_domain="example.net", reported_from="mail.example.net")
    assert not b.likely_edited


def test_clean_copy_has_no_signs() -> None:
    m = parse_message(_msg("Bob <bob@recipient.test>"))
    assert not assess_edits(m, H, ph=ph(), signer_domain="example.net", trusted_by_host="mx.recipient.test").signs
