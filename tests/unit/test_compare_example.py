"""The example (examples/onedrive-microsoftemails.eml with its DNS snapshot), through mailsleuth.api.analyze.

The DKIM header signature, re-checked against the key in the snapshot, does not verify; the report
says that this copy was probably changed after delivery (its To address looks redacted to a
documentation domain) while the recipient's own server reported a pass. Nothing here tells the code
about this message: it reaches that by looking at the signed headers.
"""

from __future__ import annotations

from pathlib import Path

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.model.auth import AuthResultValue
from mailsleuth.render.jsonout import render_json
from mailsleuth.render.terminal import render_terminal


def _report(example_eml: bytes, example_dns_path: Path):
    return analyze(example_eml, config=Config(dns_mode="snapshot", now="2026-01-01T00:00:00+00:00"),
                   resolver=SnapshotResolver.from_file(example_dns_path))


def test_dkim_header_signature_fails_against_snapshot_key(example_eml: bytes, example_dns_path: Path) -> None:
    rep = _report(example_eml, example_dns_path)
    (sig,) = rep.sections["auth.verify.dkim"].signatures
    d = sig.details
    assert sig.result is AuthResultValue.FAIL
    assert d["header_ok"] is False and d["body_ok"] is None  # headers only: body not checked
    assert d["key_status"] == "NOERROR" and d["key_bits"] == 1024 and d["algorithm"] == "rsa-sha1"
    assert d["from_signed"] is True and "to" in d["signed_headers"]
    # judged at the delivery time of the recipient's server (2016), not at the pinned "now"
    assert rep.sections["auth.verify.dkim"].evaluated_at.startswith("2016-04-21")


def test_report_says_changed_after_delivery(example_eml: bytes, example_dns_path: Path) -> None:
    rep = _report(example_eml, example_dns_path)
    codes = {f.code for f in rep.findings}
    assert "AUTH_MISMATCH_EDITED_AFTER_DELIVERY" in codes
    assert "DKIM_HEADERS_CHANGED" not in codes  # explained, so not weighed against the message
    f = next(f for f in rep.findings if f.code == "AUTH_MISMATCH_EDITED_AFTER_DELIVERY")
    assert "probably changed after delivery" in f.title
    assert "To address looks redacted to a documentation domain" in f.title
    assert "recipient's own server" in f.explanation and "reported a pass" in f.explanation
    assert {e.ref for e in f.evidence} >= {"To[0]", "Authentication-Results[0]"}
    assert not any(c.code == "AUTH_MISMATCH_EDITED_AFTER_DELIVERY" and c.phish > 0 for c in rep.verdict.contributions)
    row = next(t for t in rep.sections["auth.compare"].tables if t.method == "dkim").rows[0]
    assert row.agree is False and "(trusted)" in row.reported
    text = render_terminal(rep, width=120)
    assert "Reported against re-verified" in text and "changed after delivery" in text
    assert "AUTH_MISMATCH_EDITED_AFTER_DELIVERY" in render_json(rep)
