"""Outlook .msg input: transport headers and a rebuilt body, through the real extract-msg reader."""

from __future__ import annotations

import pytest

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.errors import InputError
from mailsleuth.model.message import InputKind
from mailsleuth.parse.message import parse_message
from tests.support.msgfile import build_msg

HEADERS = (
    "Received: from a.example.net (a.example.net [192.0.2.1])\r\n\tby mx.example.com with ESMTP id 1;"
    " Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "From: Alice <alice@example.net>\r\nTo: bob@example.com\r\nSubject: Quarterly report\r\n"
    "Message-ID: <1@example.net>\r\nContent-Type: multipart/alternative; boundary=x\r\n"
)


def _msg(**kw) -> bytes:
    base = dict(subject="Quarterly report", sender="alice@example.net", body="See http://example.org/q3 now",
                transport_headers=HEADERS)
    base.update(kw)
    return build_msg(**base)


def test_msg_transport_headers_and_body():
    m = parse_message(_msg(attachments=[("q3.pdf", b"%PDF-1.4 test")]))
    assert m.kind is InputKind.MSG
    assert m.value("Subject") == "Quarterly report"
    assert len(m.get_all("Received")) == 1
    # The original Content-Type is replaced by the rebuilt body's.
    assert m.value("Content-Type").startswith("multipart/mixed")
    texts = [p for p in m.mime.walk() if p.content_type == "text/plain"]
    assert texts and b"http://example.org/q3" in texts[0].payload
    names = [p.filename for p in m.mime.walk() if p.filename]
    assert names == ["q3.pdf"]
    assert any(".msg" in n for n in m.notes)


def test_msg_without_transport_headers_is_rebuilt_from_properties():
    m = parse_message(_msg(transport_headers=""))
    assert m.value("Subject") == "Quarterly report"
    assert any("rebuilt" in n for n in m.notes)


def test_msg_analyses_end_to_end():
    report = analyze(_msg(), config=Config(dns_mode="off"), resolver=OfflineResolver())
    assert report.message["kind"] == "msg"


def test_corrupt_msg_is_a_clear_error():
    data = _msg()[:1500]
    with pytest.raises(InputError, match="Outlook"):
        parse_message(data)
