"""The auth.verify.dkim check: findings per signature property, weights, and the terminal renderers."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

import mailsleuth.checks.auth_arc
import mailsleuth.checks.auth_compare
import mailsleuth.checks.auth_dkim  # noqa: F401  (registers the checks)
from mailsleuth.catalogue import load_catalogue
from mailsleuth.checks.auth_dkim import CODES, aligned
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, Context, run_checks
from mailsleuth.parse.message import parse_message
from mailsleuth.render.sections.arc import render_arc
from mailsleuth.render.sections.auth_compare import render_compare
from mailsleuth.render.sections.dkim import render_dkim
from mailsleuth.scoring import load_scoring
from tests.unit.test_dkim import SIGNED_AT, rsa_key, sign, zone

NOW = datetime(2024, 5, 2, tzinfo=UTC)
MY_CODES = {
    *CODES, *REGISTRY["auth.verify.arc"].codes, *REGISTRY["auth.compare"].codes,
}


def findings(raw: bytes, z: dict | None = None):
    ctx = Context(parse_message(raw), Config(), CachingResolver(MemoryResolver(z if z is not None else zone())),
                  clock=lambda: NOW)
    res = run_checks(ctx, {k: REGISTRY[k] for k in ("auth.verify.dkim", "auth.verify.arc", "auth.compare")})
    return res


def codes(raw: bytes, z: dict | None = None) -> list[str]:
    return [f.code for f in findings(raw, z).findings]


def test_every_code_has_words_and_a_weight() -> None:
    cat, weights = load_catalogue(), load_scoring().weights
    for code in MY_CODES:
        assert code in cat and code in weights, code
    assert weights["DKIM_PASS_ALIGNED"].trust == pytest.approx(2.0)
    assert weights["DKIM_PASS_UNALIGNED"].trust == pytest.approx(0.5)
    assert weights["AUTH_MISMATCH_EDITED_AFTER_DELIVERY"].phish == 0
    assert weights["DKIM_BODY_CHANGED"].phish == pytest.approx(1.0)
    assert 0 < weights["DKIM_WEAK_KEY"].phish < 1 and 0 < weights["DKIM_SHA1"].phish < 1


def test_alignment_is_relaxed() -> None:
    assert aligned("mail.example.net", "example.net") and aligned("example.net", "news.example.net")
    assert not aligned("example.com", "example.net") and not aligned("", "example.net")


def test_aligned_and_unaligned_pass() -> None:
    assert "DKIM_PASS_ALIGNED" in codes(sign())
    other = sign(domain="example.com")
    assert "DKIM_PASS_UNALIGNED" in codes(other, zone(name="sel._domainkey.example.com"))


def test_property_findings() -> None:
    assert "DKIM_SHA1" in codes(sign(alg="rsa-sha1"))
    weak_pem, weak_rec = rsa_key(512)
    c = codes(sign(key=weak_pem), zone(weak_rec))
    assert "DKIM_WEAK_KEY" in c and "DKIM_PASS_ALIGNED" not in c
    assert "DKIM_TESTING_KEY" in codes(sign(), zone(rsa_key()[1].replace("k=rsa;", "k=rsa; t=y;")))
    assert "DKIM_BODY_LENGTH_LIMIT" in codes(sign(length=True))
    assert "DKIM_UNSIGNED_BODY_APPENDED" in codes(sign(length=True) + b"Click http://phish.example.com/\r\n")
    assert "DKIM_EXTRA_FROM" in codes(b"From: ceo@example.com\r\n" + sign(headers=("from", "to", "subject")))
    assert "DKIM_KEY_MISSING" in codes(sign(), {})
    assert "DKIM_KEY_UNUSABLE" in codes(sign(), zone("v=DKIM1; k=rsa; p="))
    # the top Received (the delivery) is stamped 09:00:05, SIGNED_AT is 09:00:00
    assert "DKIM_EXPIRED" in codes(sign(extra=(("x", str(SIGNED_AT + 1)),)))
    since = codes(sign(extra=(("x", str(SIGNED_AT + 60)),)))
    assert "DKIM_EXPIRED_SINCE" in since and "DKIM_PASS_ALIGNED" in since


def test_unsigned_message_has_no_dkim_findings_and_an_empty_artifact() -> None:
    res = findings(b"From: a@example.net\r\nTo: b@example.org\r\n\r\nhello\r\n")
    assert not [f for f in res.findings if f.code.startswith("DKIM_")]
    assert res.artifacts["auth.verify.dkim"].signatures == ()


def _render(func, artifact) -> str:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    func(artifact, Console(file=buf, width=140, no_color=True, markup=False, highlight=False))
    return buf.getvalue()


def test_renderers_show_the_steps_and_escape_hostile_text() -> None:
    raw = sign(domain="[bold]evil[/bold].example.com")
    res = findings(b"Authentication-Results: mx.example.org; dkim=pass header.d=x\x1b[31m.example.com\r\n" + raw,
                   zone(name="sel._domainkey.[bold]evil[/bold].example.com"))
    text = _render(render_dkim, res.artifacts["auth.verify.dkim"])
    assert "d=[bold]evil[/bold].example.com" in text and "PERMERROR" in text  # shown literally, not as markup
    bell = findings(sign(domain="ev\x07il.example.com"), zone(name="sel._domainkey.ev\x07il.example.com"))
    for out in (_render(render_dkim, bell.artifacts["auth.verify.dkim"]),
                _render(render_compare, res.artifacts["auth.compare"])):
        assert "\x07" not in out and "\x1b" not in out
    assert "ev\\x07il.example.com" in _render(render_dkim, bell.artifacts["auth.verify.dkim"])
    good = findings(sign())
    t2 = _render(render_dkim, good.artifacts["auth.verify.dkim"])
    assert "PASS" in t2 and "header signature" in t2 and "body hash" in t2 and "from:to:subject" in t2
    cmp_text = _render(render_compare, findings(b"Authentication-Results: mx.example.org; dkim=fail header.d=example.net\r\n"
                                                b"Received: from a by mx.example.org; Wed, 1 May 2024 09:00:07 +0000\r\n"
                                                + sign()).artifacts["auth.compare"])
    assert "DKIM" in cmp_text and "NO" in cmp_text and "verifies now" in cmp_text
    assert "Chain" in _render(render_arc, {"chain": "none", "reason": "x", "instances": []})
