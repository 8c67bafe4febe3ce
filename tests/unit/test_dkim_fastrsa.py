"""Our RSA path for dkimpy agrees with dkimpy's pure-Python one, and falls back on odd keys."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mailsleuth.auth import dkim as ours


def _key(bits: int = 1024):
    k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    n = k.public_key().public_numbers()
    return k, {"modulus": n.n, "publicExponent": n.e}


def test_agrees_with_dkimpy_on_good_and_bad_signatures():
    for algo, h in ((hashes.SHA256(), hashlib.sha256), (hashes.SHA1(), hashlib.sha1)):
        k, pub = _key()
        sig = k.sign(b"signed header text", padding.PKCS1v15(), algo)
        good, bad = h(b"signed header text"), h(b"signed header text, edited")
        assert ours._fast_rsa_verify(good, sig, pub) is True
        assert ours._DKIMPY_RSA_VERIFY(h(b"signed header text"), sig, pub) is True
        assert ours._fast_rsa_verify(bad, sig, pub) is False
        assert ours._DKIMPY_RSA_VERIFY(h(b"signed header text, edited"), sig, pub) is False
        assert ours._fast_rsa_verify(good, sig[:-1] + bytes([sig[-1] ^ 1]), pub) is False


def test_dkimpy_uses_it():
    import dkim

    assert dkim.RSASSA_PKCS1_v1_5_verify is ours._fast_rsa_verify


def test_odd_key_falls_back_without_raising():
    # A modulus cryptography refuses (even) goes to dkimpy's own code, which simply says no.
    assert ours._fast_rsa_verify(hashlib.sha256(b"x"), b"\x01" * 128, {"modulus": 2**1023, "publicExponent": 3}) is False


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b" ", b"\t", b"\r\n", b"\r", b"\n", b"  "]), max_size=30))
def test_body_canonicalisation_shortcut_matches_dkimpy(pieces):
    from dkim.canonicalization import CanonicalizationPolicy

    body = b"".join(pieces)
    for c in (b"relaxed/relaxed", b"simple/simple", b"relaxed/simple", b"simple/relaxed"):
        policy = CanonicalizationPolicy.from_c_value(c)
        assert ours._canonicalize_body(policy, body) == policy.canonicalize_body(body)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([b"a", b":", b" ", b"\r", b"\n", b"\r\n", b"\n\n"]), max_size=25))
def test_header_end_matches_the_regex(pieces):
    raw = b"".join(pieces)
    m = ours._HEADER_END.search(raw)
    assert ours.header_end(raw) == ((m.start(), m.end()) if m else None)
