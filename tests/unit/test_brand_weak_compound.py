"""A brand word that is also an ordinary word does not make a hyphenated sender a lookalike by itself."""

from __future__ import annotations

import pytest

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver

MSG = ("Received: from out.{d} (out.{d} [198.51.100.7]) by mx.example.com with ESMTPS id 1;"
       " Mon, 1 Jan 2024 10:00:02 +0000\nFrom: {name} <news@{d}>\nTo: u@example.com\n"
       "Subject: Our monthly newsletter\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nHello\n")


def _brand_codes(domain: str, name: str = "Newsletter") -> set[str]:
    r = analyze(MSG.format(d=domain, name=name).encode(), config=Config(dns_mode="off"), resolver=OfflineResolver())
    return {f.code for f in r.findings if f.code.startswith("BRAND")}


@pytest.mark.parametrize("domain", ["max-planck.de", "sky-high.com", "target-market.com"])
def test_ordinary_word_compounds_are_not_flagged(domain):
    assert "BRAND_COMPOUND_SENDER" not in _brand_codes(domain)


def test_strong_brand_compound_is_flagged():
    assert "BRAND_COMPOUND_SENDER" in _brand_codes("paypal-secure-login.com")
