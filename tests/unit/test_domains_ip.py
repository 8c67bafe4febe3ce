"""domains: address helpers (ip_address_of, is_ip, ip_category), cached per distinct string."""

from __future__ import annotations

import ipaddress

import pytest

from mailsleuth.domains import ip_address_of, ip_category, is_ip


@pytest.mark.parametrize(("text", "category"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("169.254.10.1", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.5", "multicast"), ("ff02::1", "multicast"),
    ("100.64.0.1", "cgnat"), ("100.127.255.255", "cgnat"), ("192.0.2.7", "documentation"),
    ("[198.51.100.1]", "documentation"), (" 203.0.113.9 ", "documentation"), ("2001:db8::25", "documentation"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("fc00::1", "private"), ("::ffff:10.0.0.1", "private"),
    ("not-an-address", None), ("", None), ("192.0.2.300", None),
])
def test_ip_category(text, category):
    assert ip_category(text) == category
    assert ip_category(text) == category  # the cached answer is the same


def test_ip_address_of_and_is_ip():
    assert ip_address_of("192.0.2.1") == ipaddress.IPv4Address("192.0.2.1")
    assert ip_address_of("2001:DB8::1") == ipaddress.IPv6Address("2001:db8::1")
    assert ip_address_of("[192.0.2.1]") is None and ip_address_of("mail.example.com") is None
    assert is_ip("[192.0.2.1]") and is_ip(" 2001:db8::1 ") and not is_ip("192.0.2") and not is_ip("example.com")
