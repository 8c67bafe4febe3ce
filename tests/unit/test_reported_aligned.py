"""A reported DKIM pass counts more when the signer is the From address's own organisation."""

from __future__ import annotations

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver

TEMPLATE = (
    "Received: from out.sender.example.net (out.sender.example.net [198.51.100.7])\n"
    "\tby mx.example.com (Postfix) with ESMTPS id A1; Mon, 1 Jan 2024 10:00:02 +0000\n"
    "Authentication-Results: mx.example.com; dkim=pass header.d={d}\n"
    "From: News <news@{frm}>\nTo: user@example.com\nSubject: Monthly notes\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <1@{frm}>\n"
)


def _codes(d: str, frm: str) -> set[str]:
    raw = TEMPLATE.format(d=d, frm=frm).encode()
    report = analyze(raw, config=Config(dns_mode="off"), resolver=OfflineResolver())
    return {f.code for f in report.findings}


def test_aligned_signer():
    codes = _codes("mail.sender.example.net", "sender.example.net")
    assert {"AUTH_REPORTED_DKIM_PASS", "AUTH_REPORTED_DKIM_ALIGNED"} <= codes


def test_unaligned_signer():
    codes = _codes("esp.example.org", "sender.example.net")
    assert "AUTH_REPORTED_DKIM_PASS" in codes and "AUTH_REPORTED_DKIM_ALIGNED" not in codes
