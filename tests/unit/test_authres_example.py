"""The bundled example through the real pipeline (mailsleuth.api.analyze): reported authentication,
SpamAssassin stamp with every rule explained, identities and organisations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.engine import load_checks
from mailsleuth.model.report import Report
from mailsleuth.render.jsonout import render_json
from mailsleuth.render.terminal import render_terminal


@pytest.fixture(scope="module")
def report(example_eml: bytes, example_dns_path: Path) -> Report:
    if "received.chain" not in load_checks():
        pytest.skip("received.chain is not available yet: the trust decision comes from it")
    return analyze(example_eml, config=Config(dns_mode="snapshot", dns_snapshot=str(example_dns_path)))


def test_dkim_pass_reported_by_the_recipients_server_and_trusted(report: Report) -> None:
    art = report.sections["auth.reported"]
    dkim = [c for c in art.claims if c.method == "dkim"]
    assert len(dkim) == 1
    assert (dkim[0].result.value, dkim[0].domain, dkim[0].by, dkim[0].trusted) == (
        "pass", "email2.microsoft.com", "mx.example.com", True)
    titles = [f.title for f in report.findings if f.code == "AUTH_REPORTED_DKIM_PASS"]
    assert titles == ["dkim=pass for d=email2.microsoft.com reported by mx.example.com, the recipient's own server"]
    assert dkim[0].comments == ("1024-bit key",)
    spf = [c for c in art.claims if c.method == "spf"]
    assert spf[0].result_raw == "spf-pass" and spf[0].result.value == "pass" and spf[0].trusted


def test_spamassassin_stamp_with_every_rule_explained(report: Report) -> None:
    stamps = [s for s in report.sections["spam.stamps"].stamps if s.vendor == "spamassassin"]
    assert len(stamps) == 1
    sa = stamps[0]
    assert (sa.score, sa.threshold, sa.is_spam, sa.trusted, sa.tagged_above) == (3.727, 6.2, False, True, -999.0)
    assert len(sa.rules) == 14
    for r in sa.rules:
        assert r.meaning.strip(), r.name
        assert r.category and r.category != "unknown", r.name
        assert r.source.value in ("mailsleuth", "spamassassin rules on this machine"), r.name
    dob = next(r for r in sa.rules if r.name == "URIBL_RHS_DOB")
    assert dob.category == "URI blocklist"
    assert "registered very recently" in dob.meaning
    assert dob.score == 1.514
    codes = {f.code for f in report.findings if f.code.startswith("SPAM_")}
    assert codes == {"SPAM_FILTER_URIBL", "SPAM_FILTER_NOT_SPAM"}


def test_identities_signer_org_differs_from_from_org(report: Report) -> None:
    art = report.sections["identity.alignment"]
    assert art.from_domain == "microsoftemails.com"
    assert art.from_org == "microsoftemails.com"
    assert art.dkim_domains == ("email2.microsoft.com",)
    signer = next(i for i in art.identities if i.role == "dkim-d")
    assert (signer.domain, signer.org) == ("email2.microsoft.com", "microsoft.com")
    assert art.aligned["dkim-d:email2.microsoft.com"] is False
    groups = {g.org: g for g in art.groups}
    assert groups["microsoftemails.com"].includes_from and not groups["microsoft.com"].includes_from
    f = next(f for f in report.findings if f.code == "ID_DKIM_OTHER_ORG")
    assert "email2.microsoft.com (organisation microsoft.com)" in f.title
    assert "microsoftemails.com (organisation microsoftemails.com)" in f.title


def test_sections_in_json_and_terminal(report: Report) -> None:
    data = json.loads(render_json(report))
    assert data["authentication"]["claims"][0]["method"] == "dkim"
    assert data["spam_filters"]["stamps"][1]["rules"][13]["name"] == "URIBL_RHS_DOB"
    assert data["identities"]["from_org"] == "microsoftemails.com"
    text = render_terminal(report, width=160)
    assert "Authentication reported by receivers" in text
    assert "URIBL_RHS_DOB" in text and "Day Old Bread" in text
    assert "Identities and organisations" in text
