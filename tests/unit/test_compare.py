"""auth.compare: reported against re-verified, every disagreement with an actionable reason.

Runs the DKIM, ARC and compare checks through the engine (only these checks, so the tests do not
depend on other areas' work), with keys in a MemoryResolver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import mailsleuth.checks.auth_arc
import mailsleuth.checks.auth_compare
import mailsleuth.checks.auth_dkim  # noqa: F401  (registers the checks)
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.engine import REGISTRY, Context, run_checks
from mailsleuth.model.auth import AuthClaim, AuthResultValue, ReportedAuthReport, VerifiedResult
from mailsleuth.parse.message import parse_message
from tests.unit.test_dkim import edit_header, sign, zone

NOW = datetime(2024, 5, 2, tzinfo=UTC)
IDS = ("auth.verify.dkim", "auth.verify.arc", "auth.compare")
TRUSTED_AR = b"Authentication-Results: mx.example.org; dkim=pass header.d=example.net; spf=pass smtp.mailfrom=example.net\r\n"
TOP_RECEIVED = (b"Received: from mail.example.net (mail.example.net [192.0.2.10]) by mx.example.org with ESMTPS;"
                b" Wed, 1 May 2024 09:00:07 +0000\r\n")
UNTRUSTED_AR = b"Authentication-Results: relay.example.com; dkim=pass header.d=example.net\r\n"


def run(raw: bytes, z: dict | None = None, *, resolver: Any = None, artifacts: dict | None = None):
    msg = parse_message(raw)
    res = CachingResolver(resolver if resolver is not None else MemoryResolver(z if z is not None else zone()))
    ctx = Context(msg, Config(), res, clock=lambda: NOW)
    ctx.artifacts.update(artifacts or {})
    result = run_checks(ctx, {k: REGISTRY[k] for k in IDS})
    codes = [f.code for f in result.findings]
    return result, codes, result.artifacts.get("auth.compare")


def delivered(signed: bytes, *, ar: bytes = TRUSTED_AR) -> bytes:
    """The signed message as the recipient's server stored it: its Received on top, its A-R above."""
    return ar + TOP_RECEIVED + signed


def dkim_row(cmp: Any) -> Any:
    return next(t for t in cmp.tables if t.method == "dkim").rows[0]


def test_agreement_and_aligned_pass() -> None:
    _res, codes, cmp = run(delivered(sign()))
    assert "DKIM_PASS_ALIGNED" in codes
    assert not [c for c in codes if c.startswith("AUTH_MISMATCH") or c.endswith("_CHANGED")]
    row = dkim_row(cmp)
    assert row.agree is True and row.verified == "pass" and "mx.example.org (trusted)" in row.reported


def test_redacted_to_under_trusted_pass_is_explained_and_weighs_nothing() -> None:
    raw = delivered(edit_header(sign(), b"To", b"Bob <****@example.org>"))
    res, codes, cmp = run(raw)
    assert "DKIM_HEADER_SIG_FAIL" in codes and "AUTH_MISMATCH_EDITED_AFTER_DELIVERY" in codes
    assert "DKIM_HEADERS_CHANGED" not in codes
    row = dkim_row(cmp)
    assert row.agree is False and row.code == "AUTH_MISMATCH_EDITED_AFTER_DELIVERY"
    assert "changed after delivery" in row.reason and "To header looks redacted" in row.reason
    assert "mx.example.org" in row.reason
    f = next(f for f in res.findings if f.code == "AUTH_MISMATCH_EDITED_AFTER_DELIVERY")
    assert any(e.ref == "To[0]" for e in f.evidence)
    assert cmp.edits is not None and cmp.edits.likely_edited


def test_unexplained_header_change_under_trusted_pass() -> None:
    _res, codes, cmp = run(delivered(edit_header(sign(), b"Subject", b"Invoice overdue")))
    assert "AUTH_MISMATCH_CHANGED_AFTER_DELIVERY" in codes
    assert "a signed header of this copy was changed after delivery" in dkim_row(cmp).reason


def test_body_change_without_any_report_counts_against() -> None:
    _res, codes, cmp = run(TOP_RECEIVED + sign() + b"extra\r\n")
    assert "DKIM_BODY_CHANGED" in codes and "DKIM_BODY_HASH_MISMATCH" in codes
    assert cmp is None or all(r.agree is None for t in cmp.tables for r in t.rows)


def test_pass_reported_only_outside_the_boundary() -> None:
    raw = TOP_RECEIVED + UNTRUSTED_AR + edit_header(sign(), b"Subject", b"Invoice overdue")
    _res, codes, cmp = run(raw)
    assert "AUTH_MISMATCH_UNTRUSTED_REPORT" in codes and "DKIM_HEADERS_CHANGED" in codes
    row = dkim_row(cmp)
    assert row.agree is False and "outside the trust boundary" in row.reason and "(untrusted)" in row.reported


def test_key_rotated_since() -> None:
    _res, codes, cmp = run(delivered(sign()), {})
    assert "DKIM_KEY_MISSING" in codes and "AUTH_MISMATCH_KEY_ROTATED" in codes
    assert "removed or rotated since delivery" in dkim_row(cmp).reason


def test_key_not_in_snapshot_lacks_data() -> None:
    _res, codes, cmp = run(delivered(sign()), resolver=SnapshotResolver.from_text(""))
    assert "AUTH_MISMATCH_LACKED_DATA" in codes and "DKIM_KEY_UNAVAILABLE" in codes
    row = dkim_row(cmp)
    assert row.agree is None and "snapshot" in row.reason


def test_signature_reported_but_gone_from_the_copy() -> None:
    raw = delivered(sign()).replace(b"DKIM-Signature:", b"X-Removed-Signature:")
    _res, codes, cmp = run(raw)
    assert "AUTH_MISMATCH_CHANGED_AFTER_DELIVERY" in codes
    assert "no longer in this copy" in dkim_row(cmp).reason


def test_spf_disagreement_is_dns_changed_and_reads_auth_reported() -> None:
    claim = AuthClaim(method="spf", result=AuthResultValue.PASS, result_raw="pass", domain="example.net",
                      subject="smtp.mailfrom=example.net", by="mx.example.org", header="Authentication-Results[0]",
                      header_index=0, trusted=True)
    reported = ReportedAuthReport(headers=(), claims=(claim,), methods=())
    spf = VerifiedResult(method="spf", result=AuthResultValue.FAIL, subject="mailfrom=example.net",
                         cause="-all matched")
    _res, codes, cmp = run(sign(), artifacts={"auth.reported": reported, "auth.verify.spf": spf})
    assert "AUTH_MISMATCH_DNS_CHANGED" in codes
    row = next(t for t in cmp.tables if t.method == "spf").rows[0]
    assert row.agree is False and "DNS changed since" in row.reason
    assert cmp.reported_source == "auth.reported"


@pytest.mark.parametrize("ar", [TRUSTED_AR, UNTRUSTED_AR, b""])
def test_compare_is_stable_for_unsigned_mail(ar: bytes) -> None:
    raw = ar + TOP_RECEIVED + b"From: a@example.net\r\nTo: b@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    res, codes, _cmp = run(raw)
    assert not [c for c in codes if c.startswith("DKIM_")]
    assert "auth.compare" in res.ran


def test_offline_says_the_evaluation_lacked_data() -> None:
    from mailsleuth.dns.off import OfflineResolver

    res, codes, cmp = run(delivered(sign()), resolver=OfflineResolver())
    assert "auth.verify.dkim" not in res.ran and not [c for c in codes if c.startswith("DKIM_")]
    row = dkim_row(cmp)
    assert row.verified == "not verified: DNS is off" and row.agree is None
    assert "lacked data" in row.reason and "(trusted)" in row.reported
