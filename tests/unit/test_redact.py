"""--redact: no recipient address or recipient-organisation host name survives in any output
(JSON, terminal, HTML, Markdown), and the analysis itself is unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailsleuth.api import analyze
from mailsleuth.cli import main
from mailsleuth.config import Config
from mailsleuth.model.report import Report
from mailsleuth.redact import redact_report
from mailsleuth.render.html import render_html
from mailsleuth.render.jsonout import render_json
from mailsleuth.render.markdown import render_markdown
from mailsleuth.render.terminal import render_terminal
from tests.web.factory import RECIPIENT, sample_report

CRAFTED = b"""Delivered-To: bob@recipient-org.test
X-Original-To: bob+tag@recipient-org.test
Received: from relay2.recipient-org.test (relay2.recipient-org.test [192.0.2.20])
\tby mx.recipient-org.test (Postfix) with ESMTPS id 4AA1 for <bob@recipient-org.test>;
\tWed, 1 May 2024 10:00:42 +0000
Received: from out.sender.example.net (out.sender.example.net [198.51.100.7])
\tby relay2.recipient-org.test with ESMTP id 4AA0 for <bob+tag@recipient-org.test>;
\tWed, 1 May 2024 10:00:30 +0000
Authentication-Results: mx.recipient-org.test; spf=pass smtp.mailfrom=sender.example.net;
\tdkim=none
From: Newsletter <news@sender.example.net>
To: Bob Example <bob@recipient-org.test>
Cc: dave@recipient-org.test, "Carol" <carol@recipient-org.test>
Subject: Hello bob@recipient-org.test
Date: Wed, 1 May 2024 09:59:00 +0000
Message-ID: <n1@sender.example.net>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hi Bob, <a href="https://track.sender.example.net/c?e=bob%40recipient-org.test">unsubscribe</a>
or write to carol@recipient-org.test via https://portal.recipient-org.test/login</p>
"""
CRAFTED_SECRETS = ["bob@recipient-org.test", "bob+tag@recipient-org.test", "dave@recipient-org.test",
                   "carol@recipient-org.test", "bob%40recipient-org.test", "recipient-org.test",
                   "alias-org.example.org"]


def _outputs(report: Report) -> dict[str, str]:
    return {
        "json": render_json(report),
        "terminal": render_terminal(report, width=200, verbose=True),
        "html": render_html(report),
        "md": render_markdown(report),
    }


def _assert_clean(report: Report, secrets: list[str]) -> None:
    for fmt, text in _outputs(report).items():
        low = text.lower()
        for s in secrets:
            assert s.lower() not in low, f"{s!r} survives in the {fmt} output"


def _analysis(r: Report) -> tuple[object, ...]:
    return (r.verdict.label, r.verdict.scores, r.verdict.confidence, len(r.verdict.contributions),
            [(f.code, f.severity, len(f.evidence)) for f in r.findings], len(r.dns), sorted(r.sections),
            [c.code for c in r.verdict.contributions])


@pytest.mark.parametrize("own", [(), ("alias-org.example.org",)])
def test_crafted_message_nothing_survives(own: tuple[str, ...]) -> None:
    cfg = Config(dns_mode="off", own_domains=("recipient-org.test", *own))
    report = analyze(CRAFTED, config=cfg)
    before = render_json(report)
    assert "bob@recipient-org.test" in before  # the test would notice a leak
    red = redact_report(report)
    _assert_clean(red, CRAFTED_SECRETS)
    assert _analysis(red) == _analysis(report)
    assert "[recipient-" in render_json(red)
    assert json.loads(render_json(red))["config"]["redact"] is True


def test_own_domain_from_config_is_masked_even_when_unseen_in_headers() -> None:
    r = sample_report("mail from partner.alias-org.example.org")
    r2 = redact_report(r, own_domains=("alias-org.example.org",))
    assert "alias-org.example.org" not in render_json(r2)
    assert "partner.[recipient-domain" in render_json(r2)


def test_sample_report_every_section_and_format() -> None:
    r = sample_report()
    red = redact_report(r)
    _assert_clean(red, [RECIPIENT, "recipient-org.test", "alice.recipient"])
    assert _analysis(red) == _analysis(r)
    text = render_json(red)
    # consistent: one address, one mask; host names keep their own labels
    assert set(re.findall(r"\[recipient-\d+\]@[^\s\"<>]+", text)) == {"[recipient-1]@mail.[recipient-domain]"}
    assert "mx.[recipient-domain]" in text and "relay.[recipient-domain]" in text
    # the sender side is left alone
    assert "out.sender.example.net" in text and "198.51.100.7" in text


def test_enums_and_numbers_keep_their_types() -> None:
    red = redact_report(sample_report())
    assert type(red.verdict.label).__name__ == "Label"
    assert type(red.findings[0].severity).__name__ == "Severity"
    assert red.verdict.scores == {"phish": 4.0, "spam": 1.0, "trust": 0.5}


def test_similar_names_are_not_masked() -> None:
    r = sample_report("notrecipient-org.test and recipient-org.test.example.net")
    text = render_json(redact_report(r))
    assert "notrecipient-org.test" in text
    assert "recipient-org.test.example.net" in text


def test_example_nothing_survives(example_eml: bytes, example_dns_path: Path) -> None:
    cfg = Config(dns_mode="snapshot", dns_snapshot=str(example_dns_path))
    report = analyze(example_eml, config=cfg)
    red = redact_report(report)
    _assert_clean(red, ["hoge@example.com", "hoge", "mx.example.com", "example.com"])
    assert _analysis(red) == _analysis(report)
    # the sending side stays readable: only the recipient's names are masked
    text = render_json(red)
    assert "onedrive@microsoftemails.com" in text and "mta31.microsoftemails.com" in text
    assert "[recipient-domain-2]" not in text and "[recipient-2]" not in text


def test_prose_mentioning_for_is_not_a_recipient() -> None:
    r = sample_report("spf=pass for smtp.mailfrom=bounce@sender.example.net; delivered for <x@other.example.org>")
    text = render_json(redact_report(r))
    assert "smtp.mailfrom=bounce@sender.example.net" in text
    assert "x@other.example.org" not in text  # the Received-style "for <...>" clause is a recipient


def test_cli_redact_all_formats(tmp_path: Path, example_eml: bytes, example_dns_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.eml"
    src.write_bytes(example_eml)
    for fmt in ("json", "text", "html", "md"):
        assert main(["analyze", str(src), "--dns-snapshot", str(example_dns_path), "--format", fmt, "--redact"]) == 0
        out = capsys.readouterr().out.lower()
        assert "hoge" not in out and "example.com" not in out, fmt
        assert "[recipient" in out, fmt
