"""identity.alignment finds the header behind an evidence ref by name and occurrence, as a scan would."""

from __future__ import annotations

from mailsleuth.checks.identity import _ev, _header_by_ref
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
