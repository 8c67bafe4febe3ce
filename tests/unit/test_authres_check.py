"""The auth.reported check: trust marking, findings and the per-method summary (stand-in chain)."""

from __future__ import annotations

from mailsleuth.model.auth import ReportedAuthReport
from tests.unit.test_authres_support import StandInChain, header_index, run_check

BASE = (
    b"Authentication-Results: mx.example.net; dkim=pass (2048-bit key) header.d=mail.example.com; "
    b"spf=pass smtp.mailfrom=bounce@mail.example.com; dmarc=pass (p=REJECT) header.from=example.com\n"
    b"Received: from out.example.com (out.example.com [192.0.2.5]) by mx.example.net with ESMTPS; "
    b"Mon, 6 Jan 2025 10:00:00 +0000\n"
    b"Authentication-Results: relay.example.org; dkim=fail header.d=mail.example.com; arc=none\n"
    b"Received: from a.example.com by out.example.com; Mon, 6 Jan 2025 09:59:59 +0000\n"
    b"From: Example <news@example.com>\nSubject: hi\n\nbody\n"
)


def _run(raw: bytes, ids: tuple[str, ...] = ("mx.example.net",)):
    chain = StandInChain(header_index(raw, "Received", 0), ids)
    out, _ctx = run_check("auth.reported", raw, chain=chain)
    return out, chain


def test_trusted_passes_become_positive_findings_with_reported_by() -> None:
    out, chain = _run(BASE)
    codes = {f.code: f for f in out.findings}
    dkim = codes["AUTH_REPORTED_DKIM_PASS"]
    assert dkim.title == "dkim=pass for d=mail.example.com reported by mx.example.net, the recipient's own server"
    assert "reported by" in codes["AUTH_REPORTED_SPF_PASS"].title
    assert codes["AUTH_REPORTED_DMARC_PASS"].facts["domain"] == "example.com"
    assert dkim.evidence[0].ref == "Authentication-Results[0]"
    assert (0, "mx.example.net") in chain.calls  # the chain's trust decision was asked


def test_untrusted_claims_are_info_and_conflict_is_reported() -> None:
    out, _ = _run(BASE)
    codes = {f.code: f for f in out.findings}
    claim = codes["AUTH_REPORTED_UNTRUSTED_CLAIM"]
    assert claim.facts["by"] == "relay.example.org"
    assert "dkim=fail" in claim.facts["results"]
    assert "AUTH_REPORTED_DKIM_FAIL" not in codes  # an untrusted fail is not weighed
    conflict = codes["AUTH_REPORTED_CONFLICT"]
    assert conflict.facts["domain"] == "mail.example.com"
    assert "relay.example.org (untrusted)" in conflict.facts["failed_by"]


def test_artifact_summarises_per_method_trusted_vs_untrusted() -> None:
    out, _ = _run(BASE)
    art = out.artifact
    assert isinstance(art, ReportedAuthReport)
    by = {m.method: m for m in art.methods}
    assert by["dkim"].trusted == ("pass header.d=mail.example.com (by mx.example.net, Authentication-Results[0])",)
    assert by["dkim"].untrusted == ("fail header.d=mail.example.com (by relay.example.org, Authentication-Results[1])",)
    assert [h.trusted for h in art.headers] == [True, False]
    assert {c.domain for c in art.trusted_claims("spf")} == {"mail.example.com"}


def test_recipient_authserv_id_below_the_boundary_is_forged() -> None:
    raw = BASE + b""
    raw = raw.replace(b"From: Example", b"Authentication-Results: mx.example.net; dmarc=pass header.from=example.com\n"
                      b"From: Example")
    out, _ = _run(raw)
    codes = [f.code for f in out.findings]
    assert "AUTH_REPORTED_FORGED_HEADER" in codes
    assert out.artifact.forged == ("Authentication-Results[2]",)
    assert "AUTH_REPORTED_DMARC_PASS" in codes  # only the trusted header's pass counts ...
    assert not any(c.header == "Authentication-Results[2]" and c.trusted for c in out.artifact.claims)


def test_own_id_in_the_boundary_hops_block_is_not_called_forged() -> None:
    # A milter of the boundary hop writes its header just below that hop's Received line.
    raw = BASE.replace(b"Authentication-Results: relay.example.org;", b"Authentication-Results: mx.example.net;")
    out, _ = _run(raw)
    assert out.artifact.forged == ()
    assert "AUTH_REPORTED_FORGED_HEADER" not in [f.code for f in out.findings]


def test_other_names_of_the_recipients_organisation_are_not_called_forged() -> None:
    raw = BASE.replace(b"From: Example", b"Authentication-Results: relay2.example.net; spf=pass smtp.mailfrom=x\n"
                       b"From: Example")
    out, _ = _run(raw)
    assert out.artifact.forged == ()


def test_trusted_failures_carry_policy_and_domain() -> None:
    raw = (b"Authentication-Results: spf=fail (sender IP is 192.0.2.7) smtp.mailfrom=example.com; dkim=none "
           b"(message not signed) header.d=none;dmarc=fail action=quarantine header.from=example.com;"
           b"compauth=fail reason=001\n"
           b"Received: from x.example.org ([192.0.2.7]) by mx.example.net; Mon, 6 Jan 2025 10:00:00 +0000\n"
           b"From: a@example.com\n\nb\n")
    out, _ = _run(raw)
    codes = {f.code: f for f in out.findings}
    assert codes["AUTH_REPORTED_DMARC_FAIL"].facts["policy"] == "quarantine"
    assert codes["AUTH_REPORTED_SPF_FAIL"].facts["domain"] == "example.com"
    assert "AUTH_REPORTED_COMPAUTH_FAIL" in codes
    assert codes["AUTH_REPORTED_NONE"].facts["method"] == "dkim"
    assert "AUTH_REPORTED_PARSE_ERROR" not in codes  # the missing authserv-id is routine for this vendor


def test_no_trusted_header() -> None:
    raw = BASE.replace(b"Authentication-Results: mx.example.net;", b"X-Other: x;")
    chain = StandInChain(-1, ())
    out, _ = run_check("auth.reported", raw, chain=chain)
    codes = [f.code for f in out.findings]
    assert "AUTH_REPORTED_NO_TRUSTED" in codes
    assert not any(c.endswith("_PASS") for c in codes)


def test_copies_are_never_trusted() -> None:
    raw = b"Authentication-Results-Original: mx.example.net; dkim=pass header.d=example.com\nFrom: a@example.com\n\nb\n"
    out, _ = run_check("auth.reported", raw, chain=StandInChain(10, ("mx.example.net",)))
    assert out.artifact.headers[0].trusted is False
    assert "AUTH_REPORTED_DKIM_PASS" not in [f.code for f in out.findings]
    assert "AUTH_REPORTED_FORGED_HEADER" not in [f.code for f in out.findings]


def test_renderers_print_attacker_text_literally() -> None:
    import io

    from rich.console import Console

    from mailsleuth.render.sections.auth_reported import render_auth_reported
    from mailsleuth.render.sections.identity import render_identity
    from mailsleuth.render.sections.spam import render_spam

    raw = (b"Authentication-Results: [bold]evil[/bold].example.net; dkim=pass header.d=[red]x[/red].example.com\n"
           b"X-Spam-Status: Yes, score=9 required=5 tests=[BAYES_99=3.5]\n"
           b"Received: from a.example.com by mx.example.net; Mon, 6 Jan 2025 10:00:00 +0000\n"
           b"From: \"[blink]Boss[/blink]\" <boss@example.com>\n\nb\n")
    chain = StandInChain(header_index(raw, "Received", 0))
    auth, _ = run_check("auth.reported", raw, chain=chain)
    spam, _ = run_check("spam.stamps", raw, chain=chain)
    ident, _ = run_check("identity.alignment", raw, chain=chain)
    buf = io.StringIO()
    console = Console(file=buf, width=200, no_color=True, markup=False, highlight=False)
    render_auth_reported(auth.artifact, console)
    render_spam(spam.artifact, console)
    render_identity(ident.artifact, console)
    text = buf.getvalue()
    assert "[bold]evil[/bold].example.net" in text
    assert "[red]x[/red].example.com" in text
    assert "[blink]Boss[/blink]" in text
    assert "BAYES_99" in text and "trusted (recipient's own filter)" in text


def test_provider_crossed_twice_is_not_called_forged() -> None:
    # The message went through the recipient's provider once before (another tenant): the provider's
    # own Received line sits right below its earlier Authentication-Results.
    raw = BASE.replace(b"From: Example", b"Authentication-Results: mx.example.net; spf=fail smtp.mailfrom=x.example.org\n"
                       b"Received: from x.example.org by mx.example.net; Mon, 6 Jan 2025 09:59:58 +0000\n"
                       b"From: Example")
    out, _ = _run(raw)
    assert out.artifact.forged == ()
