"""DKIM conformance: dkimpy's fixtures, stalwart's dkim/*.txt, mailauth's RFC 8463 message.

Every case runs through ``mailsleuth.auth.dkim.verify_message`` with our ``KeyFetcher`` over a
``MemoryResolver`` holding the fixture's key records (anything else is NXDOMAIN), with the clock
pinned where the README says so. Run:
``.venv/bin/python -m pytest -q tests/conformance/test_dkim_fixtures.py -s``; the summary test prints
the pass count per suite and every skipped case with its reason.

dkimpy's fixtures are files, not a suite (its expectations live in its Python tests, not copied):
the cases below publish the README's records and state the outcome RFC 6376/8463 gives. Unsigned
fixture messages are signed here with the fixture keys (dkimpy signs, our code verifies), then
verified untouched and after a header and a body edit.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dkim
import nacl.signing
import pytest

from mailsleuth.auth.dkim import DkimVerification, verify_message
from mailsleuth.dns.memory import MemoryResolver
from tests.conformance.test_arc_suite import split_stalwart
from tests.conftest import CONFORMANCE

DKIMPY = CONFORMANCE / "dkimpy-testdata" / "data"
STALWART = CONFORMANCE / "stalwart-mail-auth" / "dkim"
MAILAUTH = CONFORMANCE / "mailauth-fixtures" / "dkim-ec"
STALWART_CLOCK = 1667843664
MAILAUTH_CLOCK = 1528637909


@dataclass(frozen=True)
class Case:
    suite: str
    id: str
    build: Callable[[], tuple[bytes, dict[str, str]]]  # -> (message, {name: TXT})
    expect: tuple[str, ...]  # expected result per signature (top first); "*" = any
    clock: int | None = None
    skip: str = ""


def _read(name: str) -> bytes:
    return (DKIMPY / name).read_bytes()


def _txt(name: str) -> str:
    return _read(name).decode("ascii").strip()


def _ed25519_pub_from_seed_file(name: str) -> str:
    seed = base64.b64decode(_read(name).strip())
    return base64.b64encode(bytes(nacl.signing.SigningKey(seed).verify_key)).decode("ascii")


FOOTBALL = "football.example.com"


def _rfc8463_keys() -> dict[str, str]:
    return {f"brisbane._domainkey.{FOOTBALL}": f"v=DKIM1; k=ed25519; p={_ed25519_pub_from_seed_file('rfc8032_7_1.key')}",
            f"test._domainkey.{FOOTBALL}": _txt("test.txt")}


def _fixed(msg: str, keys: Callable[[], dict[str, str]]) -> Callable[[], tuple[bytes, dict[str, str]]]:
    return lambda: (_read(msg), keys())


def _signed(msg: str, key: str, pub: str | Callable[[], str], *, alg: bytes = b"rsa-sha256",
            edit: Callable[[bytes], bytes] | None = None) -> Callable[[], tuple[bytes, dict[str, str]]]:
    """Sign fixture ``msg`` with fixture ``key`` (selector 'test', domain example.com), publish ``pub``."""

    def build() -> tuple[bytes, dict[str, str]]:
        raw = _read(msg).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        sig = dkim.sign(raw, b"test", b"example.com", _read(key), signature_algorithm=alg,
                        include_headers=[b"from", b"to", b"subject", b"date", b"from"])
        signed = sig + raw
        if edit is not None:
            signed = edit(signed)
        record = pub() if callable(pub) else _txt(pub)
        return signed, {"test._domainkey.example.com": record}

    return build


def _edit_subject(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for i, line in enumerate(lines):
        if line.lower().startswith(b"subject:"):
            lines[i] = line + b" (edited)"
            break
    return b"\r\n".join(lines) + sep + body


def _edit_body(raw: bytes) -> bytes:
    return raw + b"An added line.\r\n"


def _ed25519_dns() -> str:
    return "v=DKIM1; " + _txt("ed25519test.dns")


def _dkimpy_cases() -> list[Case]:
    s = "dkimpy-testdata"
    return [
        Case(s, "rfc6376.signed.msg (ed25519 + rsa)", _fixed("rfc6376.signed.msg", _rfc8463_keys), ("pass", "pass")),
        Case(s, "rfc6376.signed.rsa.msg", _fixed("rfc6376.signed.rsa.msg", _rfc8463_keys), ("pass",)),
        # Re-signed without t= but the b= does not verify against test.txt (dkimpy agrees: cross-checked below).
        Case(s, "rfc6376.signed.no_t.msg (x= far future, b= not by test.txt)",
             _fixed("rfc6376.signed.no_t.msg", _rfc8463_keys), ("fail",)),
        Case(s, "ed25519test2.msg (exim interop)",
             _fixed("ed25519test2.msg", lambda: {"sed._domainkey.test.ex": _txt("eximtest.dns")}), ("pass",)),
        Case(s, "test.message.baddomain (illegal d=)",
             _fixed("test.message.baddomain", lambda: {"test._domainkey.legitimate.com(.attacker.com": _txt("test.txt")}),
             ("permerror",)),
        Case(s, "test2.message (gmail.com 20120113)", _fixed("test2.message", lambda: {}), ("*",),
             skip="the fixtures hold no key for s=20120113 d=gmail.com (test2.txt is not that key)"),
        Case(s, "message.mbox (kitterman.com 2007-00)", _fixed("message.mbox", lambda: {}), ("*",),
             skip="the fixtures hold no key for s=2007-00 d=kitterman.com; dkimpy uses this file for mbox parsing"),
        Case(s, "test_nofrom.message", _fixed("test_nofrom.message", lambda: {}), ("*",),
             skip="unsigned and has no From: dkimpy refuses to sign it (From must be signed); our "
                  "'From not signed' rule is covered in tests/unit/test_dkim.py"),
        Case(s, "sign test.message with test.private", _signed("test.message", "test.private", "test.txt"), ("pass",)),
        Case(s, "sign test_extra.message", _signed("test_extra.message", "test.private", "test.txt"), ("pass",)),
        Case(s, "sign rfc6376.msg", _signed("rfc6376.msg", "test.private", "test.txt"), ("pass",)),
        Case(s, "sign rfc6376.w1258.msg (non-UTF-8 body)", _signed("rfc6376.w1258.msg", "test.private", "test.txt"),
             ("pass",)),
        Case(s, "sign with test2.private (key without k=)", _signed("test.message", "test2.private", "test2.txt"),
             ("pass",)),
        Case(s, "1024-bit key, SPKI record", _signed("test.message", "1024_testkey.key", "1024_testkey_wo_markers.pub.txt"),
             ("pass",)),
        Case(s, "1024-bit key, PKCS#1 record",
             _signed("test.message", "1024_testkey.key", "1024_testkey_wo_markers.pub.rsa.txt"), ("pass",)),
        Case(s, "2048-bit key, SPKI record", _signed("test.message", "2048_testkey.key", "2048_testkey_wo_markers.pub.txt"),
             ("pass",)),
        Case(s, "2048-bit key, PKCS#1 record",
             _signed("test.message", "2048_testkey.key", "2048_testkey_wo_markers.pub.rsa.txt"), ("pass",)),
        Case(s, "2048-bit PKCS#8 private key", _signed("test.message", "2048_testkey_PKCS8.key",
                                                        "2048_testkey_PKCS8.key.pub.txt"), ("pass",)),
        Case(s, "ed25519 key (ed25519test.key)", _signed("ed25519test.msg", "ed25519test.key", _ed25519_dns,
                                                          alg=b"ed25519-sha256"), ("pass",)),
        Case(s, "rsa-sha1 signature", _signed("test.message", "test.private", "test.txt", alg=b"rsa-sha1"), ("pass",)),
        Case(s, "signed Subject edited", _signed("test.message", "test.private", "test.txt", edit=_edit_subject),
             ("fail",)),
        Case(s, "body edited", _signed("test.message", "test.private", "test.txt", edit=_edit_body), ("fail",)),
        Case(s, "ed25519 signed Subject edited", _signed("ed25519test.msg", "ed25519test.key", _ed25519_dns,
                                                          alg=b"ed25519-sha256", edit=_edit_subject), ("fail",)),
        Case(s, "damaged key published (test_bad.txt)", _signed("test.message", "test.private", "test_bad.txt"),
             ("permerror",)),
        Case(s, "another key published (test.txt for a 2048-bit signature)",
             _signed("test.message", "2048_testkey.key", "test.txt"), ("fail",)),
        Case(s, "key v= not DKIM1 (badversion.txt)", _signed("test.message", "test.private", "badversion.txt"),
             ("permerror",)),
        Case(s, "unknown key type (badk.txt)", _signed("test.message", "test.private", "badk.txt"), ("permerror",)),
        Case(s, "key for tlsrpt only (test_tlsrpt.txt)", _signed("test.message", "test.private", "test_tlsrpt.txt"),
             ("permerror",)),
        Case(s, "no key published", _signed("test.message", "test.private", lambda: ""), ("permerror",)),
    ]


def _stalwart_cases() -> list[Case]:
    if not STALWART.exists():
        return []
    out = []
    for p in sorted(STALWART.glob("*.txt")):
        def build(p: Path = p) -> tuple[bytes, dict[str, str]]:
            return split_stalwart(p)

        out.append(Case("stalwart dkim", p.name, build, ("last:pass",), clock=STALWART_CLOCK))
    return out


def _mailauth_cases() -> list[Case]:
    if not MAILAUTH.exists():
        return []

    def build() -> tuple[bytes, dict[str, str]]:
        zone = json.loads((MAILAUTH / "dns.json").read_text(encoding="utf-8"))
        records = {name: "".join(types["TXT"][0]) for name, types in zone.items() if "TXT" in types}
        return (MAILAUTH / "signed.eml").read_bytes(), records

    return [Case("mailauth dkim-ec", "signed.eml (ed25519 + rsa)", build, ("pass", "pass"), clock=MAILAUTH_CLOCK)]


CASES = (_dkimpy_cases() if DKIMPY.exists() else []) + _stalwart_cases() + _mailauth_cases()


def run(case: Case) -> DkimVerification:
    raw, records = case.build()
    resolver = MemoryResolver({name: {"TXT": [v]} for name, v in records.items() if v})
    now = datetime.fromtimestamp(case.clock, UTC) if case.clock else datetime.now(UTC)
    return verify_message(raw, has_body=True, resolver=resolver, now=now)


def dkimpy_says(case: Case) -> tuple[bool, ...]:
    """dkimpy's own verdict per signature, with the same records (a cross-check of our pass/no-pass)."""
    raw, records = case.build()
    n = sum(1 for line in raw.split(b"\n") if line.lower().startswith(b"dkim-signature:"))
    out = []
    for i in range(n):
        try:
            ok = dkim.DKIM(raw).verify(idx=i, dnsfunc=lambda name, timeout=5: (
                records.get(name.decode().rstrip("."), "").encode() or None))
        except dkim.DKIMException:
            ok = False
        out.append(bool(ok))
    return tuple(out)


def outcome(case: Case) -> tuple[bool, str]:
    v = run(case)
    got = tuple(s.result.value for s in v.signatures)
    if case.suite == "dkimpy-testdata":
        ours = tuple(g == "pass" for g in got)
        theirs = dkimpy_says(case)
        if ours != theirs:
            return False, f"got {got}, dkimpy's own verify says {theirs}"
    if case.expect == ("last:pass",):
        ok = bool(got) and got[-1] == "pass"
    else:
        ok = len(got) == len(case.expect) and all(e in ("*", g) for e, g in zip(case.expect, got, strict=True))
    return ok, f"got {got} ({'; '.join(s.cause for s in v.signatures)}), want {case.expect}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.suite}:{c.id}" for c in CASES])
def test_dkim_fixture(case: Case) -> None:
    if case.skip:
        pytest.skip(case.skip)
    ok, why = outcome(case)
    assert ok, why


def test_edited_copies_fail_for_the_right_reason() -> None:
    if not DKIMPY.exists():
        pytest.skip("../shared/conformance is not available")
    by_id = {c.id: c for c in CASES}
    header = run(by_id["signed Subject edited"]).signatures[0].details
    assert header["header_ok"] is False and header["body_ok"] is True
    body = run(by_id["body edited"]).signatures[0].details
    assert body["body_ok"] is False and body["header_ok"] is True
    missing = run(by_id["no key published"]).signatures[0]
    assert missing.details["key_status"] == "NXDOMAIN" and "rotated" in missing.cause


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    if not CASES:
        pytest.skip("../shared/conformance is not available")
    suites: dict[str, list[Case]] = {}
    for c in CASES:
        suites.setdefault(c.suite, []).append(c)
    all_failed = []
    with capsys.disabled():
        print()
        for suite, cases in suites.items():
            passed, skipped, failed = 0, [], []
            for c in cases:
                if c.skip:
                    skipped.append((c.id, c.skip))
                    continue
                ok, why = outcome(c)
                passed += ok
                if not ok:
                    failed.append((c.id, why))
            print(f"DKIM suite {suite}: {passed}/{len(cases)} passed, {len(skipped)} skipped, {len(failed)} failed")
            for cid, reason in skipped:
                print(f"  skipped {cid}: {reason}")
            for cid, why in failed:
                print(f"  FAILED {cid}: {why}")
            all_failed.extend(failed)
    assert not all_failed
    assert {"dkimpy-testdata", "stalwart dkim", "mailauth dkim-ec"} <= set(suites)
    assert len(suites["stalwart dkim"]) == 6
