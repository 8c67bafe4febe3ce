"""The message model: headers in order, raw and decoded; input kinds; damage as defects."""

from __future__ import annotations

import pytest

from mailsleuth.errors import InputError
from mailsleuth.model.message import InputKind
from mailsleuth.parse.message import parse_message
from mailsleuth.parse.rfc2047 import decode_header_value

BASIC = (
    b"Received: from a.example.net (a.example.net [192.0.2.1])\n\tby mx.example.com; Mon, 1 Jan 2024 00:00:00 +0000\n"
    b"From: =?UTF-8?B?w4lsaXNl?= <elise@example.net>\n"
    b"To: bob@example.com\n"
    b"Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"\n"
    b"Hello\n"
)


def test_headers_in_order_raw_and_decoded():
    m = parse_message(BASIC)
    assert [h.name for h in m.headers] == ["Received", "From", "To", "Subject", "Content-Type"]
    assert m.get("from").value == "Élise <elise@example.net>"
    assert m.get("subject").value == "こんにちは"
    assert m.get("subject").raw.startswith("=?ISO-2022-JP?B?")
    assert "\n\tby mx.example.com" in m.get("received").raw
    assert m.kind is InputKind.EML and m.has_body and not m.crlf
    assert m.mime is not None and m.mime.payload == b"Hello\n"


def test_crlf_and_headers_only():
    m = parse_message(BASIC.split(b"\n\n")[0].replace(b"\n", b"\r\n"))
    assert m.crlf and m.kind is InputKind.HEADERS_ONLY and not m.has_body and m.mime is None
    assert m.get("to").value == "bob@example.com"


def test_pasted_headers_with_leading_blank_lines():
    m = parse_message(b"\n\n" + BASIC)
    assert m.get("from") is not None


def test_mbox_first_message():
    mbox = b"From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n" + BASIC + b"\n>From the start\n" + \
        b"From other@example.org Mon Jan  1 00:00:01 2024\nFrom: x@example.org\nSubject: two\n\nbody\n"
    m = parse_message(mbox)
    assert m.kind is InputKind.MBOX
    assert m.value("Subject") == "こんにちは"
    assert any("2 messages" in n for n in m.notes)
    assert b"From the start" in m.body_bytes


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"   \n\n ", "empty"),
    (bytes(range(256)) * 10, "binary"),
    (b"Dear diary, today nothing happened.\nThe end.\n", "does not look like an email"),
])
def test_unusable_input(data, words):
    with pytest.raises(InputError, match=words):
        parse_message(data)


def test_damage_is_collected_not_raised():
    m = parse_message(b" leading continuation\nFrom: a@example.com\nthis line has no colon\nSubject: x\n\nbody")
    assert any("continuation" in d for d in m.defects)
    assert any("without a field name" in d for d in m.defects)
    assert m.value("Subject") == "x"


@pytest.mark.parametrize("raw, expected", [
    ("=?utf-8?q?caf=C3=A9?=", "café"),
    ("=?UTF-8?B?5pel5pys?= =?UTF-8?B?6Kqe?=", "日本語"),  # adjacent words joined
    ("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp4=?=", "日本語"),  # a character split across words
    ("=?shift_jis?B?g2WDWINn?=", "テスト"),
    ("=?us-ascii?Q?=E3=83=86?=", "テ"),  # mislabelled: UTF-8 bytes declared as ASCII
    ("plain =?bogus-charset?Q?abc?= text", "plain abc text"),
    ("=?utf-8?b?5pel5pys6Kqe?=", "日本語"),  # lower-case encoding letter, missing padding
])
def test_rfc2047(raw, expected):
    assert decode_header_value(raw) == expected


def test_8bit_header_bytes():
    m = parse_message("Subject: naïve 日本\nFrom: a@example.com\n\nx".encode())
    assert m.value("Subject") == "naïve 日本"
    m2 = parse_message("Subject: テスト\nFrom: a@example.com\n\nx".encode("cp932"))
    assert m2.value("Subject") == "テスト"


@pytest.mark.parametrize("value", ["<" + "a" * 20000 + "@x.example>", '"' + "x" * 20000, "(" * 20000, "<" * 30000,
                                   ", ".join(f"u{i}@example.com" for i in range(5000))])
def test_address_parsing_is_bounded(value):
    import time

    from mailsleuth.parse.addresses import parse_addresses

    t0 = time.perf_counter()
    found = parse_addresses(value)
    assert time.perf_counter() - t0 < 1.0
    assert len(found) <= 200


def test_address_list_split_keeps_quoted_commas():
    from mailsleuth.parse.addresses import parse_addresses

    found = parse_addresses('"Doe, John" <j@example.com>, b@example.org (Bob, Jr), <c@example.net>')
    assert [(a.display_name, a.addr) for a in found] == [("Doe, John", "j@example.com"), ("Bob, Jr", "b@example.org"),
                                                          ("", "c@example.net")]


def test_unquoted_comma_keeps_the_display_name_with_its_address():
    from mailsleuth.parse.addresses import parse_addresses

    found = parse_addresses("Bank Support, Security Team <alerts@example.net>")
    assert [(a.display_name, a.addr) for a in found] == [("Bank Support, Security Team", "alerts@example.net")]
