"""ARC chain validation (mailsleuth.auth.arc) and the auth.verify.arc check."""

from __future__ import annotations

import dkim
import pytest

from mailsleuth.auth.arc import parse_aar, verify_arc
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.model.auth import AuthResultValue
from tests.unit.test_dkim import MESSAGE, rsa_key, sign, zone

pytest.importorskip("authres")  # dkimpy needs it to *sign* ARC sets

SEALER = "lists.example.org"


def arc_seal(msg: bytes, *, domain: str = "example.org", selector: str = "arc", srv_id: str = SEALER) -> bytes:
    """Add an Authentication-Results by ``srv_id`` and an ARC set sealed by ``domain``."""
    msg = f"Authentication-Results: {srv_id}; dkim=pass header.d=example.net; spf=pass smtp.mailfrom=example.net\r\n".encode() + msg
    sets = dkim.arc_sign(msg, selector.encode(), domain.encode(), rsa_key()[0], srv_id.encode(),
                         include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], timestamp=1714550400)
    return b"".join(sets) + msg


def arc_zone() -> dict:
    return {**zone(), **zone(name="arc._domainkey.example.org")}


def test_valid_chain_lists_sealer_and_claims() -> None:
    raw = arc_seal(sign())
    res = verify_arc(raw, resolver=MemoryResolver(arc_zone()))
    assert res.chain == "pass" and res.result.result is AuthResultValue.PASS and res.complete
    (inst,) = res.instances
    assert (inst.instance, inst.sealer_domain, inst.sealer_selector, inst.cv) == (1, "example.org", "arc", "none")
    assert inst.seal_valid is True and inst.ams_valid is True
    assert inst.authserv_id == SEALER
    assert {(c.method, c.result) for c in inst.claims} >= {("dkim", "pass"), ("spf", "pass")}
    assert res.sealers == ("i=1 d=example.org s=arc",)


def test_two_sets_and_a_break() -> None:
    first = arc_seal(sign())
    # The second sealer records arc=pass for the chain it received, then seals.
    ar = b"Authentication-Results: relay.example.org; arc=pass; dkim=pass header.d=example.net\r\n"
    sets = dkim.arc_sign(ar + first, b"arc", b"example.org", rsa_key()[0], b"relay.example.org",
                         include_headers=[b"from", b"to", b"subject"], timestamp=1714550500)
    two = b"".join(sets) + ar + first
    res = verify_arc(two, resolver=MemoryResolver(arc_zone()))
    assert res.chain == "pass" and [i.instance for i in res.instances] == [1, 2]
    assert res.instances[1].cv == "pass"
    broken = verify_arc(two.replace(b"Subject: Quarterly report", b"Subject: Changed"), resolver=MemoryResolver(arc_zone()))
    assert broken.chain == "fail" and broken.result.result is AuthResultValue.FAIL
    assert "did not validate" in broken.reason


def test_no_arc_is_none() -> None:
    res = verify_arc(MESSAGE, resolver=MemoryResolver({}))
    assert res.chain == "none" and res.result.result is AuthResultValue.NONE and not res.instances


def test_sealer_key_not_in_snapshot_is_not_a_failure() -> None:
    raw = arc_seal(sign())
    res = verify_arc(raw, resolver=SnapshotResolver.from_text(""))
    assert res.result.result is AuthResultValue.TEMPERROR and not res.complete
    assert "snapshot" in res.result.cause


def test_sealer_key_gone_is_a_failure() -> None:
    res = verify_arc(arc_seal(sign()), resolver=MemoryResolver(zone()))
    assert res.chain == "fail" and res.complete


def test_parse_aar() -> None:
    sid, claims = parse_aar("i=2; mx.example.org (comment (nested)); dkim=pass (2048-bit key) header.d=example.net;"
                            " spf=softfail smtp.mailfrom=a@example.net; arc=none")
    assert sid == "mx.example.org"
    assert [(c.method, c.result) for c in claims] == [("dkim", "pass"), ("spf", "softfail"), ("arc", "none")]
    assert claims[0].properties == "header.d=example.net"
    assert parse_aar("") == ("", ())


@pytest.mark.parametrize("junk", [b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=x; s=y; b=%%%\r\n",
                                  b"ARC-Seal: i=999\r\nARC-Message-Signature: i=999\r\n",
                                  b"ARC-Authentication-Results: i=1\r\n"])
def test_malformed_sets_never_raise(junk: bytes) -> None:
    res = verify_arc(junk + MESSAGE, resolver=MemoryResolver({}))
    assert res.chain in ("fail", "none")
