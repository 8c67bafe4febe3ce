"""DKIM re-verification (mailsleuth.auth.dkim): each step reported apart, DNS statuses kept apart.

Messages are signed here with fresh keys (dkimpy signs; our code verifies) and published in a
MemoryResolver. Also holds the signing helpers the other DKIM/ARC/compare tests import.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime, timedelta
from functools import cache

import dkim
import nacl.encoding
import nacl.signing
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.canonicalization import CanonicalizationPolicy
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth.dkim import KeyFetcher, parse_key_record, signed_header_refs, verify_message
from mailsleuth.dns.base import Status
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.model.auth import AuthResultValue

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SIGNED_AT = int(datetime(2024, 5, 1, 9, 0, tzinfo=UTC).timestamp())

MESSAGE = (
    b"Received: from mail.example.net (mail.example.net [192.0.2.10])\r\n"
    b"\tby mx.example.org (Postfix) with ESMTPS id 4ABC\r\n"
    b"\tfor <bob@example.org>; Wed, 1 May 2024 09:00:05 +0000\r\n"
    b"From: Alice <alice@example.net>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: Quarterly report\r\n"
    b"Date: Wed, 1 May 2024 08:59:58 +0000\r\n"
    b"Message-ID: <msg-1@example.net>\r\n"
    b"\r\n"
    b"Hello Bob,\r\nthe report is attached.\r\n"
)


# ----------------------------------------------------------------------------------------- helpers

@cache
def rsa_key(bits: int = 2048) -> tuple[bytes, str]:
    """(PEM private key, DKIM key record) for a fresh RSA key."""
    key = _small_rsa(bits) if bits < 1024 else rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def _is_prime(n: int, rnd: random.Random) -> bool:
    if n < 4:
        return n in (2, 3)
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(30):
        x = pow(rnd.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _small_rsa(bits: int) -> rsa.RSAPrivateKey:
    """A deliberately weak RSA key (cryptography refuses to generate one under 1024 bits)."""
    rnd = random.Random(bits)
    e = 65537

    def prime() -> int:
        while True:
            c = rnd.getrandbits(bits // 2) | (1 << (bits // 2 - 1)) | 1
            if _is_prime(c, rnd) and (c - 1) % e:
                return c

    p, q = prime(), prime()
    d = pow(e, -1, (p - 1) * (q - 1))
    nums = rsa.RSAPrivateNumbers(p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p),
                                 public_numbers=rsa.RSAPublicNumbers(e=e, n=p * q))
    return nums.private_key(unsafe_skip_rsa_key_validation=True)


@cache
def ed25519_key() -> tuple[bytes, str]:
    """(base64 private seed as dkimpy wants it, DKIM key record)."""
    sk = nacl.signing.SigningKey(bytes(range(32)))
    seed = sk.encode(encoder=nacl.encoding.Base64Encoder)
    pub = sk.verify_key.encode(encoder=nacl.encoding.Base64Encoder).decode()
    return seed, f"v=DKIM1; k=ed25519; p={pub}"


def sign(msg: bytes = MESSAGE, *, domain: str = "example.net", selector: str = "sel", alg: str = "rsa-sha256",
         headers: tuple[str, ...] = ("from", "to", "subject", "date", "message-id", "from"),
         extra: tuple[tuple[str, str], ...] = (), key: bytes | None = None, identity: str | None = None,
         length: bool = False, canon: str = "relaxed/relaxed") -> bytes:
    """Sign ``msg`` with tags we choose (t=, x=, l=...), using dkimpy's own header generation."""
    if key is None:
        key = ed25519_key()[0] if alg.startswith("ed25519") else rsa_key()[0]
    dk = dkim.DKIM(msg, signature_algorithm=alg.encode())
    policy = CanonicalizationPolicy.from_c_value(canon.encode())
    body = policy.canonicalize_body(dk.body)
    hasher = hashlib.sha1 if alg == "rsa-sha1" else hashlib.sha256
    dk.hasher = hasher
    fields = [(b"v", b"1"), (b"a", alg.encode()), (b"c", canon.encode()), (b"d", domain.encode()),
              (b"i", (identity or "@" + domain).encode()), (b"s", selector.encode()), (b"t", str(SIGNED_AT).encode())]
    if length:
        fields.append((b"l", str(len(body)).encode()))
    fields += [(k.encode(), v.encode()) for k, v in extra]
    fields += [(b"h", b":".join(h.encode() for h in headers)),
               (b"bh", base64.b64encode(hasher(body).digest())), (b"b", b"0" * 60)]
    if alg.startswith("ed25519"):
        pk = nacl.signing.SigningKey(key, encoder=nacl.encoding.Base64Encoder)
    else:
        pk = dkim.crypto.parse_pem_private_key(key)
    value = dk.gen_header(fields, [h.encode() for h in headers], policy, b"DKIM-Signature", pk)
    return b"DKIM-Signature: " + value + msg


def zone(record: str | None = None, *, name: str = "sel._domainkey.example.net", alg: str = "rsa-sha256") -> dict:
    if record is None:
        record = ed25519_key()[1] if alg.startswith("ed25519") else rsa_key()[1]
    return {name: {"TXT": [record]}}


def verify(raw: bytes, z: dict | None = None, *, has_body: bool = True, delivered: datetime | None = None,
           now: datetime = NOW, resolver: object | None = None):
    res = resolver if resolver is not None else MemoryResolver(z if z is not None else zone())
    return verify_message(raw, has_body=has_body, resolver=res, now=now, delivered_at=delivered)  # type: ignore[arg-type]


def edit_header(raw: bytes, name: bytes, new_value: bytes) -> bytes:
    lines = raw.split(b"\r\n")
    for i, line in enumerate(lines):
        if line.lower().startswith(name.lower() + b":"):
            lines[i] = name + b": " + new_value
            break
    return b"\r\n".join(lines)


# ----------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize("alg", ["rsa-sha256", "ed25519-sha256", "rsa-sha1"])
def test_pass_reports_every_property(alg: str) -> None:
    v = verify(sign(alg=alg), zone(alg=alg))
    (sig,) = v.signatures
    d = sig.details
    assert sig.result is AuthResultValue.PASS and sig.complete, sig.cause
    assert d["header_ok"] is True and d["body_ok"] is True
    assert (d["d"], d["s"], d["algorithm"]) == ("example.net", "sel", alg)
    assert d["key_type"] == ("ed25519" if alg.startswith("ed") else "rsa")
    assert d["key_bits"] == (256 if alg.startswith("ed") else 2048)
    assert d["signed_headers"] == ["from", "to", "subject", "date", "message-id", "from"]
    assert d["from_signed"] is True and d["from_oversigned"] is True
    assert d["canonicalization"] == "relaxed/relaxed" and d["l"] is None and d["t"] == SIGNED_AT
    assert d["expired_now"] is False and d["testing"] is False
    assert [s.what for s in sig.trace][-1] == "header signature (b=)"


def test_headers_only_checks_header_signature_alone() -> None:
    raw = sign()
    headers_only = raw.partition(b"\r\n\r\n")[0] + b"\r\n"
    (sig,) = verify(headers_only, has_body=False).signatures
    assert sig.result is AuthResultValue.PASS and not sig.complete
    assert sig.details["header_ok"] is True and sig.details["body_ok"] is None
    assert "body could not be checked" in sig.cause
    assert not verify(headers_only, has_body=False).body_checked


def test_body_and_header_results_are_separate() -> None:
    raw = sign()
    (body_edit,) = verify(raw + b"P.S. an added line\r\n").signatures
    assert body_edit.result is AuthResultValue.FAIL
    assert body_edit.details["body_ok"] is False and body_edit.details["header_ok"] is True
    assert "body hash" in body_edit.cause
    (header_edit,) = verify(edit_header(raw, b"Subject", b"Urgent: wire transfer")).signatures
    assert header_edit.result is AuthResultValue.FAIL
    assert header_edit.details["header_ok"] is False and header_edit.details["body_ok"] is True
    assert "header signature" in header_edit.cause


def test_added_from_header_breaks_and_is_seen() -> None:
    raw = sign(headers=("from", "to", "subject", "date"))
    forged = b"From: Mallory <ceo@example.com>\r\n" + raw
    (sig,) = verify(forged).signatures
    assert sig.details["from_headers"] == 2 and sig.details["from_oversigned"] is False
    assert sig.details["header_ok"] is False


@pytest.mark.parametrize(("z", "status", "result", "words"), [
    ({}, "NXDOMAIN", AuthResultValue.PERMERROR, "rotated"),
    ({"sel._domainkey.example.net": {"A": ["192.0.2.1"]}}, "NODATA", AuthResultValue.PERMERROR, "rotated"),
    ({"sel._domainkey.example.net": {"TXT": ["TIMEOUT"]}}, "TIMEOUT", AuthResultValue.TEMPERROR, "cannot verify now"),
])
def test_key_lookup_statuses_stay_apart(z: dict, status: str, result: AuthResultValue, words: str) -> None:
    (sig,) = verify(sign(), z).signatures
    assert sig.details["key_status"] == status
    assert sig.result is result and not sig.complete and words in sig.cause
    assert sig.result is not AuthResultValue.FAIL


def test_key_not_in_snapshot_is_unknown_not_missing() -> None:
    snap = SnapshotResolver.from_text("other.example.net. 300 IN TXT \"x\"\n")
    (sig,) = verify(sign(), resolver=snap).signatures
    assert sig.details["key_status"] == "UNKNOWN"
    assert sig.result is AuthResultValue.TEMPERROR and "snapshot" in sig.cause and not sig.complete


def test_times_judged_at_delivery_and_now() -> None:
    x = SIGNED_AT + 3600
    raw = sign(extra=(("x", str(x)),))
    deliv_ok = datetime.fromtimestamp(SIGNED_AT + 60, UTC)
    (sig,) = verify(raw, delivered=deliv_ok, now=NOW + timedelta(days=30)).signatures
    assert sig.result is AuthResultValue.PASS
    assert sig.details["expired_at_delivery"] is False and sig.details["expired_now"] is True
    late = datetime.fromtimestamp(x + 60, UTC)
    (sig2,) = verify(raw, delivered=late).signatures
    assert sig2.result is AuthResultValue.FAIL and sig2.details["expired_at_delivery"] is True
    assert "expired" in sig2.cause and sig2.details["header_ok"] is True
    (sig3,) = verify(raw, delivered=None, now=NOW + timedelta(days=1)).signatures
    assert sig3.result is AuthResultValue.FAIL and not sig3.complete  # delivery time unknown


def test_x_before_t_is_malformed() -> None:
    (sig,) = verify(sign(extra=(("x", str(SIGNED_AT - 10)),))).signatures
    assert sig.result is AuthResultValue.PERMERROR and "x=" in sig.cause


def test_weak_key_is_policy_not_pass() -> None:
    pem, rec = rsa_key(512)
    (sig,) = verify(sign(key=pem), zone(rec)).signatures
    assert sig.details["header_ok"] is True and sig.details["key_bits"] == 512
    assert sig.result is AuthResultValue.POLICY and "1024" in sig.cause


def test_key_flags() -> None:
    rec = rsa_key()[1]
    (testing,) = verify(sign(), zone(rec.replace("k=rsa;", "k=rsa; t=y;"))).signatures
    assert testing.result is AuthResultValue.PASS and testing.details["testing"] is True
    (strict,) = verify(sign(identity="alice@mail.example.net"), zone(rec.replace("k=rsa;", "k=rsa; t=s;"))).signatures
    assert strict.result is AuthResultValue.PERMERROR and "t=s" in strict.cause
    (hashes,) = verify(sign(), zone(rec.replace("k=rsa;", "k=rsa; h=sha1;"))).signatures
    assert hashes.result is AuthResultValue.PERMERROR and "sha1" in hashes.cause
    (revoked,) = verify(sign(), zone("v=DKIM1; k=rsa; p=")).signatures
    assert revoked.result is AuthResultValue.PERMERROR and "revoked" in revoked.cause
    (wrongtype,) = verify(sign(), zone(ed25519_key()[1])).signatures
    assert wrongtype.result is AuthResultValue.PERMERROR and "ed25519" in wrongtype.cause


def test_partial_body_length() -> None:
    raw = sign(length=True)
    (clean,) = verify(raw).signatures
    assert clean.result is AuthResultValue.PASS and clean.details["unsigned_body_bytes"] == 0
    (appended,) = verify(raw + b"Click here: http://phish.example.com/\r\n").signatures
    assert appended.result is AuthResultValue.PASS
    assert appended.details["unsigned_body_bytes"] > 0


def test_from_must_be_signed() -> None:
    (sig,) = verify(sign(headers=("to", "subject"))).signatures
    assert sig.result is AuthResultValue.PERMERROR and sig.details["from_signed"] is False


def test_several_signatures_each_verified() -> None:
    raw = sign(sign(), domain="example.com", selector="s2", alg="ed25519-sha256")
    z = {**zone(), **zone(name="s2._domainkey.example.com", alg="ed25519-sha256")}
    sigs = verify(raw, z).signatures
    assert [s.details["d"] for s in sigs] == ["example.com", "example.net"]
    assert all(s.result is AuthResultValue.PASS for s in sigs)


def test_key_fetcher_remembers_status_and_speaks_dnsfunc() -> None:
    f = KeyFetcher(MemoryResolver({"a.example.net": {"TXT": ["v=DKIM1; p=AAAA"]}, "t.example.net": "TIMEOUT"}))
    assert f(b"a.example.net.") == b"v=DKIM1; p=AAAA"
    assert f(b"missing.example.net.") is None
    with pytest.raises(dkim.DnsTimeoutError):
        f(b"t.example.net.")
    assert {k: a.status for k, a in f.answers.items()} == {
        "a.example.net": Status.NOERROR, "missing.example.net": Status.NXDOMAIN, "t.example.net": Status.TIMEOUT}


def test_parse_key_record_errors() -> None:
    assert parse_key_record("n", Status.NOERROR, "v=DKIM2; p=AAAA").error.startswith("the key record has v=")
    assert "not for e-mail" in parse_key_record("n", Status.NOERROR, f"{rsa_key()[1]}; s=tlsrpt").error
    assert parse_key_record("n", Status.NOERROR, rsa_key()[1]).bits == 2048


def test_signed_header_refs_bottom_up() -> None:
    hdrs = [("from", 0), ("to", 1), ("received", 2), ("to", 3)]
    assert signed_header_refs(["to", "to", "to", "from"], hdrs) == [("to", 3), ("to", 1), ("to", None), ("from", 0)]


@pytest.mark.parametrize("value", [
    b"v=1; a=rsa-sha256; d=example.net; s=sel; h=from; bh=; b=",
    b"garbage without tags",
    b"v=1; a=rsa-sha256; a=rsa-sha1",
    b"v=1; a=hmac-md5; d=example.net; s=sel; h=from; bh=AAAA; b=AAAA",
    b"v=1; a=rsa-sha256; d=exa(mple.net; s=sel; h=from; bh=AAAA; b=AAAA",
    b"v=1; a=rsa-sha256; d=example.net; s=sel; h=from; bh=AAAA; b=AAAA; l=99999999999999999999999",
])
def test_malformed_signatures_are_permerror(value: bytes) -> None:
    raw = b"DKIM-Signature: " + value + b"\r\nFrom: a@example.net\r\n\r\nbody\r\n"
    (sig,) = verify(raw).signatures
    assert sig.result in (AuthResultValue.PERMERROR, AuthResultValue.FAIL)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_hostile_signature_values_never_raise(junk: bytes) -> None:
    raw = b"DKIM-Signature: " + junk.replace(b"\n", b" ").replace(b"\r", b" ") + b"\r\nFrom: a@example.net\r\n\r\nx\r\n"
    v = verify(raw)
    assert len(v.signatures) <= 1
    assert all(s.result is not AuthResultValue.PASS for s in v.signatures)
