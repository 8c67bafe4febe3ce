"""The spam.stamps check: trusted verdicts, notable rule categories, claims from outside the boundary."""

from __future__ import annotations

from mailsleuth.config import Config
from mailsleuth.model.spam import SpamStampsReport
from tests.unit.test_authres_support import StandInChain, run_check

STAMP = (b"X-Spam-Flag: {flag}\n"
         b"X-Spam-Status: {verdict}, score={score} required=5.0 tests=[BAYES_99=3.5, URIBL_DBL_SPAM=2.5,\n"
         b"\tRCVD_IN_SBL=2.6, URIBL_BLOCKED=0.001, RAZOR2_CHECK=1.9, SITE_LOCAL_RULE=0.3] autolearn=no\n")
TAIL = (b"Received: from out.example.com ([192.0.2.5]) by mx.example.net; Mon, 6 Jan 2025 10:00:00 +0000\n"
        b"From: a@example.com\nSubject: s\n\nb\n")
NO_LOCAL = Config(dns_mode="off", spamassassin_rules_dir=None)


def _msg(flag: bytes = b"YES", verdict: bytes = b"Yes", score: bytes = b"10.8") -> bytes:
    return STAMP.replace(b"{flag}", flag).replace(b"{verdict}", verdict).replace(b"{score}", score) + TAIL


def test_trusted_spam_verdict_and_notable_categories() -> None:
    out, _ = run_check("spam.stamps", _msg(), chain=StandInChain(10), config=NO_LOCAL)
    codes = {f.code: f for f in out.findings}
    assert codes["SPAM_FILTER_SAYS_SPAM"].facts["score"] == "10.8"
    assert codes["SPAM_FILTER_SAYS_SPAM"].facts["threshold"] == "5"
    assert "URIBL_DBL_SPAM" in codes["SPAM_FILTER_URIBL"].facts["rules"]
    assert "URIBL_BLOCKED" not in codes["SPAM_FILTER_URIBL"].facts["rules"]  # a refused lookup is no hit
    assert "BAYES_99" in codes["SPAM_FILTER_BAYES_HIGH"].facts["rules"]
    assert "RCVD_IN_SBL" in codes["SPAM_FILTER_IP_BLOCKLIST"].facts["rules"]
    assert "RAZOR2_CHECK" in codes["SPAM_FILTER_CHECKSUM"].facts["rules"]
    assert codes["SPAM_STAMP_UNKNOWN_RULES"].facts["names"] == "SITE_LOCAL_RULE"
    art = out.artifact
    assert isinstance(art, SpamStampsReport)
    assert art.stamps[0].trusted is True
    assert art.meaning_sources == {"mailsleuth": 5, "unknown rule": 1}
    assert art.rules_dir is None


def test_low_score_is_a_small_reassurance_and_middle_score_is_info() -> None:
    low, _ = run_check("spam.stamps", _msg(b"NO", b"No", b"1.0"), chain=StandInChain(10), config=NO_LOCAL)
    assert "SPAM_FILTER_LOW_SCORE" in [f.code for f in low.findings]
    mid, _ = run_check("spam.stamps", _msg(b"NO", b"No", b"4.0"), chain=StandInChain(10), config=NO_LOCAL)
    codes = [f.code for f in mid.findings]
    assert "SPAM_FILTER_NOT_SPAM" in codes and "SPAM_FILTER_LOW_SCORE" not in codes


def test_stamp_below_the_boundary_is_only_a_claim() -> None:
    raw = TAIL.replace(b"From: a@example.com\n", b"From: a@example.com\n" + STAMP.replace(b"{flag}", b"NO")
                       .replace(b"{verdict}", b"No").replace(b"{score}", b"-5"))
    out, _ = run_check("spam.stamps", raw, chain=StandInChain(0), config=NO_LOCAL)
    codes = [f.code for f in out.findings]
    assert codes == ["SPAM_STAMP_UNTRUSTED"]
    assert out.findings[0].facts["verdict"] == "not spam"
    assert out.artifact.stamps[0].trusted is False


def test_microsoft_phish_category_and_explained_fields() -> None:
    raw = (b"X-Forefront-Antispam-Report: CIP:192.0.2.1;SCL:5;SFV:SPM;CAT:SPOOF;DIR:INB;\n"
           b"X-MS-Exchange-Organization-SCL: 5\n" + TAIL)
    out, _ = run_check("spam.stamps", raw, chain=StandInChain(10), config=NO_LOCAL)
    codes = {f.code: f for f in out.findings}
    assert codes["SPAM_FILTER_PHISH_CATEGORY"].facts["category"] == "SPOOF"
    assert "SPAM_FILTER_SAYS_SPAM" in codes
    assert out.artifact.stamps[0].explained["SFV"].startswith("Spam filtering marked")


def test_without_chain_nothing_is_trusted() -> None:
    out, _ = run_check("spam.stamps", _msg(), config=NO_LOCAL)
    assert [f.code for f in out.findings] == ["SPAM_STAMP_UNTRUSTED"]
