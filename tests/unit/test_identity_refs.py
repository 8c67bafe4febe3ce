"""identity.alignment shortcuts: the header behind an evidence ref found by name and occurrence, as a scan
would; Received lines without envelope-from skipped before unfolding."""

from __future__ import annotations

import pytest

from mailsleuth.checks import identity
from mailsleuth.checks.identity import _ev, _header_by_ref, collect_identities
from mailsleuth.parse.message import parse_message

RAW = (b"From: a@example.com\nReceived: from x by y; Mon, 2 Jan 2026 10:00:00 +0000\n"
       b"REPLY-TO: b@example.org\nReply-To: c@example.net\nX-Odd[1]: v\nSubject: s\n\nbody\n")


def test_every_ref_finds_its_header() -> None:
    msg = parse_message(RAW)
    for h in msg.headers:
        assert _header_by_ref(msg, h.ref) is h
    assert _header_by_ref(msg, "Reply-To[1]") is msg.headers[3]


def test_refs_naming_no_header() -> None:
    msg = parse_message(RAW)
    for ref in ("From[1]", "Reply-To[0]", "From", "From[]", "From[x]", "From[²]", "From[" + "9" * 40 + "]", "", "["):
        assert _header_by_ref(msg, ref) is None, ref
        assert _ev(msg, ref).value == ""
    assert _ev(msg, "REPLY-TO[0]").value == "b@example.org"


@pytest.mark.parametrize("received", [
    "from a.example.net (a.example.net [192.0.2.1]) by mx.example.org (envelope-from <b@example.net>); "
    "Mon, 2 Jan 2026 10:00:00 +0000",
    "from a by b\r\n\t(ENVELOPE-FROM b@example.com) with SMTP; Mon, 2 Jan 2026 10:00:00 +0000",
    "from a by b (envelope-\r\n from <c@example.com>); Mon, 2 Jan 2026 10:00:00 +0000",
    "from a by b (envelope-sender <d@example.com>); Mon, 2 Jan 2026 10:00:00 +0000",
    "from a by b; Mon, 2 Jan 2026 10:00:00 +0000",
])
def test_envelope_from_precheck_changes_nothing(monkeypatch: pytest.MonkeyPatch, received: str) -> None:
    raw = f"Received: {received}\r\nFrom: a@example.com\r\nSubject: s\r\n\r\nbody\r\n".encode()
    msg = parse_message(raw)
    fast = collect_identities(msg)
    monkeypatch.setattr(identity, "_may_name_envelope_from", lambda raw: True)  # every header fully read
    assert collect_identities(msg) == fast


def test_envelope_from_precheck_sees_through_line_breaks() -> None:
    for text in ("envelope-from", "ENVELOPE-FROM", "enve\r\nlope-fr\nom", "Envelope-\rFrom"):
        assert identity._may_name_envelope_from(f"x {text} y")
    for text in ("envelope from", "envelope-\r\n from", "envelope-fro"):
        assert not identity._may_name_envelope_from(f"x {text} y")
