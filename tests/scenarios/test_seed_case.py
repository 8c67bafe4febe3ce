"""The case that started the project, end to end through the CLI, as issue 2 and 3 describe it.

Every value asserted here is read off the message and its DNS snapshot by the analysis; nothing in
mailsleuth's code or data names this message's domains.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report() -> dict:
    p = subprocess.run(
        [sys.executable, "-m", "mailsleuth.cli", "analyze", "examples/onedrive-microsoftemails.eml",
         "--dns-snapshot", "examples/onedrive-microsoftemails.dns", "--json"],
        capture_output=True, cwd=ROOT, timeout=120, check=False)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def _finding(report: dict, code: str) -> dict:
    found = [f for f in report["findings"] if f["code"] == code]
    assert found, f"{code} not in {[f['code'] for f in report['findings']]}"
    return found[0]


def test_hops_transit_and_harmless_skew(report):
    hops = report["hops"]
    assert len(hops["hops"]) == 2 and hops["total_transit_s"] == 3.0
    assert hops["client_ip"] == "136.147.186.31"
    skew = _finding(report, "RCVD_DATE_SKEW")
    assert skew["severity"] == "info" and skew["facts"]["seconds"] == 1
    assert skew["evidence"]


def test_dkim_pass_reported_by_the_recipients_own_server(report):
    f = _finding(report, "AUTH_REPORTED_DKIM_PASS")
    assert f["facts"]["domain"] == "email2.microsoft.com" and "mx.example.com" in f["title"]
    assert "reported" in f["title"]
    headers = report["authentication"]["headers"]
    ar = [h for h in headers if h["header_name"] == "Authentication-Results"]
    assert ar and ar[0]["trusted"] is True


def test_signer_org_differs_from_from_org(report):
    f = _finding(report, "ID_DKIM_OTHER_ORG")
    assert "microsoft.com" in f["title"] and "microsoftemails.com" in f["title"]
    vouch = _finding(report, "BRAND_COUSIN_VOUCHED_REPORTED")
    assert "brand's own domain" in vouch["title"] and "behalf" in vouch["title"]


def test_spamassassin_stamp_explained(report):
    stamps = [s for s in report["spam_filters"]["stamps"] if s["vendor"] == "spamassassin"]
    assert stamps and stamps[0]["score"] == 3.727 and stamps[0]["threshold"] == 6.2
    rules = stamps[0]["rules"]
    assert len(rules) == 14 and all(r["meaning"] and r["category"] for r in rules)
    dob = next(r for r in rules if r["name"] == "URIBL_RHS_DOB")
    assert "URI" in dob["category"] and "regist" in dob["meaning"].lower()


def test_dns_operator_and_platform(report):
    f = next(f for f in report["findings"] if f["code"] == "INFRA_DNS_OPERATOR"
             and "microsoftemails.com" in f["title"])
    assert "exacttarget.com" in f["title"]
    assert any(e["kind"] == "dns" and "NS microsoftemails.com" in e["ref"] for e in f["evidence"])
    platform = _finding(report, "PLATFORM_MATCH")
    assert "ExactTarget" in platform["title"]


def test_reverification_says_changed_after_delivery(report):
    _finding(report, "DKIM_HEADER_SIG_FAIL")
    edited = _finding(report, "AUTH_MISMATCH_EDITED_AFTER_DELIVERY")
    assert "To address" in edited["title"] and "documentation domain" in edited["title"]


def test_verdict_legitimate_with_caveats(report):
    v = report["verdict"]
    assert v["label"] == "legitimate"
    text = " ".join(v["narrative"])
    assert "behalf" in text
    assert v["would_change"] and v["skipped"]  # SPF/DMARC could not run from this snapshot: said so
    assert v["completeness"] < 1.0
