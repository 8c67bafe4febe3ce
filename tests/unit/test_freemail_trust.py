"""Authentication of a free mailbox proves the account, not who holds it: never 'legitimate' on that alone."""

from __future__ import annotations

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver

MSG = (
    "Received: from mail-ed1-f43.google.com (mail-ed1-f43.google.com [209.85.208.43])\n"
    "\tby mx.example.com (Postfix) with ESMTPS id 4B2; Mon, 1 Jan 2024 10:00:02 +0000\n"
    "Authentication-Results: mx.example.com; dkim=pass header.d=gmail.com; spf=pass smtp.mailfrom=gmail.com;\n"
    "\tdmarc=pass header.from=gmail.com\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=gmail.com; s=20230601; h=from:to:subject;\n"
    "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\n"
    "Received: by mail-ed1-f43.google.com with SMTP id 4fb4d7f45d1cf-63c; Mon, 01 Jan 2024 02:00:01 -0800 (PST)\n"
    "From: Someone <someone.example@gmail.com>\nTo: user@example.com\nSubject: hello\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <CAF=abc@mail.gmail.com>\n\nhi\n"
)


def test_authenticated_freemail_is_not_legitimate_by_itself():
    report = analyze(MSG.encode(), config=Config(dns_mode="off"), resolver=OfflineResolver())
    codes = {f.code for f in report.findings}
    assert "PLATFORM_FREEMAIL_ORIGIN" in codes and "AUTH_REPORTED_DMARC_PASS" in codes
    assert "FREEMAIL_IDENTITY_UNPROVEN" in report.verdict.composites
    assert report.verdict.label.value != "legitimate"
