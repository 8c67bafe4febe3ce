"""Spam-filter stamp parsing and the rule-meaning data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.model.message import Header
from mailsleuth.model.spam import MeaningSource
from mailsleuth.parse.message import parse_message
from mailsleuth.parse.spamstamps import (
    load_field_meanings,
    load_local_descriptions,
    load_rule_data,
    load_rulebook,
    parse_report,
    parse_stamps,
    parse_tests,
)

DATA = resources.files("mailsleuth") / "data" / "spam_stamps"


def stamps(raw: bytes, rules_dir: str | None = None):
    book = load_rulebook(rules_dir)
    rsp = load_rulebook(None, "rspamd")
    return parse_stamps(parse_message(raw).headers, explain=book.explain, explainers={"rspamd": rsp.explain})


def test_amavis_bracket_form_with_scores() -> None:
    rules, errs = parse_tests("No, score=1.2 required=5 tests=[BAYES_00=-1.9, URIBL_DBL_SPAM=2.5,\n\tT_X=0.01] "
                              "autolearn=no")
    assert rules == [("BAYES_00", -1.9), ("URIBL_DBL_SPAM", 2.5), ("T_X", 0.01)]
    assert errs == []


def test_spamassassin_plain_form_without_scores_and_none() -> None:
    rules, _ = parse_tests("No, hits=-2.5 required=7.0 tests=FORGED_RCVD_TRAIL,IN_REP_TO, KNOWN_MAILING_LIST "
                           "version=2.50-cvs")
    assert rules == [("FORGED_RCVD_TRAIL", None), ("IN_REP_TO", None), ("KNOWN_MAILING_LIST", None)]
    assert parse_tests("No, hits=0.0 required=5.0 tests=none version=2.50")[0] == []


def test_full_spamassassin_stamp_grouped() -> None:
    raw = (b"X-Spam-Checker-Version: SpamAssassin 3.4.6 (2021-04-09) on filter.example.net\n"
           b"X-Spam-Flag: YES\nX-Spam-Level: *******\n"
           b"X-Spam-Status: Yes, score=7.1 required=5.0 tests=BAYES_99,URIBL_BLACK\n\tautolearn=spam version=3.4.6\n"
           b"X-Spam-Report: \n\t*  3.5 BAYES_99 BODY: Bayes spam probability is 99 to 100%\n"
           b"\t*      [score: 1.0000]\n\t*  3.6 URIBL_BLACK Contains an URL listed in the URIBL blacklist\n"
           b"\t*      [URIs: example.com]\n"
           b"Subject: s\n\nb\n")
    (s,) = stamps(raw)
    assert s.vendor == "spamassassin"
    assert s.is_spam is True
    assert (s.score, s.threshold, s.autolearn) == (7.1, 5.0, "spam")
    assert s.host == "filter.example.net"
    assert s.version == "SpamAssassin 3.4.6"
    assert s.fields["level"] == "7"
    assert [(r.name, r.score) for r in s.rules] == [("BAYES_99", 3.5), ("URIBL_BLACK", 3.6)]
    assert len(s.headers) == 5


def test_report_table_continuations() -> None:
    rep = parse_report(" pts rule name              description\n---- ---------------------- ------\n"
                       " 3.50 BARRACUDA_HEADER_FP20  RBL: Barracuda Reputation\n"
                       "                     [<http://example.com/rep?ip=192.0.2.1>]\n"
                       " 0.01 X_MAILER_PRESENT       exists:X-Mailer\n")
    assert rep["BARRACUDA_HEADER_FP20"][0] == 3.5
    assert rep["BARRACUDA_HEADER_FP20"][1].endswith("[<http://example.com/rep?ip=192.0.2.1>]")
    assert rep["X_MAILER_PRESENT"] == (0.01, "exists:X-Mailer")


def test_two_stamps_when_a_field_repeats() -> None:
    raw = b"X-Spam-Flag: YES\nX-Spam-Score: 9\nX-Spam-Flag: NO\nX-Spam-Score: 1\nSubject: s\n\nb\n"
    a, b = stamps(raw)
    assert (a.is_spam, a.score, b.is_spam, b.score) == (True, 9.0, False, 1.0)


def test_barracuda_rspamd_microsoft_proofpoint_antivirus() -> None:
    raw = (b"X-Barracuda-Spam-Status: No, SCORE=3.69 using per-user scores of TAG_LEVEL=5.0 QUARANTINE_LEVEL=8.0 "
           b"KILL_LEVEL=9.0 tests=BSF_SC0_SA148a, HTML_MESSAGE\n"
           b"X-Spamd-Result: default: False [-1.66 / 15.00]; ARC_ALLOW(-1.00)[example.net:s=arc:i=1]; "
           b"RCPT_COUNT_TWO(0.00)[2]; ZZ_LOCAL(0.5)[]\n"
           b"X-Rspamd-Action: no action\n"
           b"X-Forefront-Antispam-Report: CIP:192.0.2.1;CTRY:;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;H:mx.example.com;"
           b"PTR:;CAT:PHSH;SFS:(1)(2);DIR:INB;\nX-MS-Exchange-Organization-SCL: 5\nX-Microsoft-Antispam: BCL:0;\n"
           b"X-Proofpoint-Spam-Details: rule=notspam policy=default score=0 phishscore=0\n"
           b"X-Virus-Scanned: amavisd-new at example.org\nSubject: s\n\nb\n")
    by = {s.vendor: s for s in stamps(raw)}
    bar = by["barracuda"]
    assert (bar.is_spam, bar.score, bar.threshold) == (False, 3.69, 5.0)
    assert bar.rules[0].category == "vendor-specific"
    assert bar.rules[0].name == "BSF_SC0_SA148a"  # shown as the stamp wrote it
    rsp = by["rspamd"]
    assert (rsp.is_spam, rsp.score, rsp.threshold) == (False, -1.66, 15.0)
    assert rsp.rules[0].name == "ARC_ALLOW" and rsp.rules[0].source is MeaningSource.MAILSLEUTH
    assert rsp.rules[0].detail == "example.net:s=arc:i=1"
    assert rsp.rules[1].category == "header"  # by prefix RCPT_COUNT_
    assert rsp.rules[2].source is MeaningSource.UNKNOWN
    ms = by["microsoft"]
    assert ms.is_spam is True and ms.score == 5.0 and ms.fields["CAT"] == "PHSH" and ms.fields["BCL"] == "0"
    assert "SFS" not in ms.fields
    assert by["proofpoint"].is_spam is False
    assert by["antivirus"].host == "example.org"


def test_microsoft_untrusted_variant_is_outbound() -> None:
    raw = b"X-Forefront-Antispam-Report-Untrusted: CIP:192.0.2.1;SCL:1;SFV:NSPM;CAT:NONE;DIR:OUT;\nSubject: s\n\nb\n"
    (s,) = stamps(raw)
    assert s.outbound is True and s.is_spam is False


def test_meaning_sources_in_order(tmp_path: Path) -> None:
    (tmp_path / "50_local.cf").write_text(
        "describe LOCAL_ONLY_RULE   A rule only the local files describe\n"
        "describe BAYES_50  local words for bayes\n"
        "lang de describe LOCAL_ONLY_RULE  Deutsch\n")
    book = load_rulebook(str(tmp_path))
    mine = book.explain("BAYES_50", 0.8)
    assert mine.source is MeaningSource.MAILSLEUTH and mine.local_description == "local words for bayes"
    local = book.explain("LOCAL_ONLY_RULE", 1.0)
    assert (local.source, local.meaning) == (MeaningSource.LOCAL_RULES, "A rule only the local files describe")
    stamp = book.explain("NOBODY_KNOWS_THIS", 1.0, "BODY: written in the stamp")
    assert stamp.source is MeaningSource.STAMP and stamp.meaning == "BODY: written in the stamp"
    assert book.explain("NOBODY_KNOWS_THIS", 1.0).source is MeaningSource.UNKNOWN
    tested = book.explain("T_URIBL_BLACK", 1.0)
    assert tested.source is MeaningSource.MAILSLEUTH and "under test" in tested.meaning
    assert load_local_descriptions(None) == {}
    assert load_local_descriptions(str(tmp_path / "missing")) == {}


def test_installed_spamassassin_rules_are_read_when_present() -> None:
    root = Path("/usr/share/spamassassin")
    if not root.is_dir():
        pytest.skip("SpamAssassin rules are not installed here")
    local = load_local_descriptions(str(root))
    assert len(local) > 500
    assert all(" " not in k for k in local)


def _data_files() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if p.name.endswith(".toml"))


@pytest.mark.parametrize("name", [n for n in _data_files() if n.endswith(("_rules.toml", "_symbols.toml"))])
def test_rule_data_files_are_complete(name: str) -> None:
    data = tomllib.loads((DATA / name).read_text(encoding="utf-8"))
    meta = data["meta"]
    for key in ("id", "description", "source", "licence"):
        assert meta[key]
    cats = set(data["categories"])
    assert data["rules"], "no rules"
    for rule, body in data["rules"].items():
        assert rule == rule.upper() or rule.startswith("BSF_"), rule
        assert body["category"] in cats, rule
        assert len(body["meaning"]) > 20, rule
    vendor = str(meta.get("vendor", ""))
    book = load_rulebook(None, vendor)
    for p in data.get("prefix", []):
        assert p["category"] in cats
        for ex in p["examples"]:
            assert ex.upper().startswith(p["prefix"].upper()), (p["prefix"], ex)
            assert book.explain(ex, None).category != "unknown", ex
        for ex in p["not"]:
            assert not ex.upper().startswith(p["prefix"].upper()), (p["prefix"], ex)
    for ex in data.get("examples", []):
        rules, _ = parse_tests(ex["status"])
        names = [n for n, _s in rules]
        assert names == ex["expect"]
        assert all(book.explain(n, None).source is MeaningSource.MAILSLEUTH for n in names)


def test_rule_data_size_and_the_day_old_bread_rule() -> None:
    rules, _prefixes, _cats = load_rule_data("")
    assert len(rules) >= 150
    book = load_rulebook(None)
    dob = book.explain("URIBL_RHS_DOB", 1.5)
    assert dob.category == "URI blocklist"
    assert "registered very recently" in dob.meaning


def test_microsoft_field_meanings_with_examples() -> None:
    meanings = load_field_meanings()
    data = tomllib.loads((DATA / "microsoft_fields.toml").read_text(encoding="utf-8"))
    for ex in data["examples"]:
        raw = f"X-Forefront-Antispam-Report: {ex['header']}\nSubject: s\n\nb\n".encode()
        (s,) = parse_stamps(parse_message(raw).headers)
        for fld, meaning in ex["expect"].items():
            assert meanings[fld][s.fields[fld].upper()] == meaning


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_stamp_parsers_never_raise(text: str) -> None:
    names = ("X-Spam-Status", "X-Spam-Report", "X-AmavisStatus", "X-Barracuda-Spam-Status", "X-Spamd-Result",
             "X-Forefront-Antispam-Report", "X-Proofpoint-Spam-Details", "X-Spam-Checker-Version", "X-Spam-Score")
    headers = [Header(name=n, raw=text, value=text, index=i, occurrence=0) for i, n in enumerate(names)]
    book = load_rulebook(None)
    for s in parse_stamps(headers, explain=book.explain):
        assert len(s.rules) <= 300


def test_microsoft_mailbox_delivery_to_junk_and_authas() -> None:
    raw = (b"X-MS-Exchange-Organization-SCL: 1\nX-MS-Exchange-Organization-AuthAs: Anonymous\n"
           b"X-Microsoft-Antispam-Mailbox-Delivery: ucf:0;jmr:0;auth:0;dest:J;ENG:(910001)(944506478);\n"
           b"Subject: s\n\nb\n")
    (s,) = stamps(raw)
    assert s.fields["DEST"] == "J" and s.fields["AUTHAS"] == "Anonymous"
    assert s.is_spam is True
    meanings = load_field_meanings()
    assert "Junk" in meanings["DEST"]["J"] and "internet" in meanings["AUTHAS"]["ANONYMOUS"]


def test_installed_descriptions_are_kept_beside_our_meaning() -> None:
    root = Path("/usr/share/spamassassin")
    if not (root / "23_bayes.cf").is_file():
        pytest.skip("SpamAssassin rules are not installed here")
    r = load_rulebook(str(root)).explain("BAYES_50", 0.8)
    assert r.source is MeaningSource.MAILSLEUTH
    assert r.local_description and "Bayes" in r.local_description
