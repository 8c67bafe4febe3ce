"""The brand.impersonation check: findings, vouching, the user's own organisation, the verdict
and the terminal section, on hand-made messages (documentation names only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mailsleuth.api import analyze
from mailsleuth.checks.brand import brand_impersonation
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import Context, load_checks
from mailsleuth.model.auth import AuthProperty, AuthResultValue, ReportedAuth, ReportedResult, VerifiedResult
from mailsleuth.model.brand import BrandReport
from mailsleuth.parse.message import parse_message
from mailsleuth.render.terminal import render_terminal


def _msg(from_: str, *, subject: str = "Hello", extra: str = "", received: str = "") -> bytes:
    rcvd = received or ("Received: from mta.example.net (mta.example.net [192.0.2.10])\n"
                        "\tby mx.example.com (Postfix) with ESMTP id ABC\n\tfor <user@example.com>; "
                        "Thu, 21 Apr 2016 09:35:20 +0900\n")
    return (f"{rcvd}From: {from_}\nTo: <user@example.com>\nSubject: {subject}\n"
            f"Date: Thu, 21 Apr 2016 09:35:18 +0900\nMessage-ID: <1@example.net>\n{extra}\nbody\n").encode()


def _run(raw: bytes, artifacts: dict[str, Any] | None = None, config: Config | None = None,
         resolver: Any = None) -> tuple[list[str], BrandReport, list[Any]]:
    spec = load_checks()["brand.impersonation"]
    ctx = Context(parse_message(raw), config or Config(dns_mode="off"),
                  CachingResolver(resolver or OfflineResolver()))
    ctx.artifacts.update(artifacts or {})
    ctx._current = spec
    out = brand_impersonation(ctx)
    assert isinstance(out.artifact, BrandReport)
    return [f.code for f in out.findings], out.artifact, out.findings


def _reported_dkim(d: str, trusted: bool = True) -> list[ReportedAuth]:
    res = ReportedResult(method="dkim", result=AuthResultValue.PASS, result_raw="pass",
                         properties=(AuthProperty(ptype="header", name="d", value=d),))
    return [ReportedAuth(header_name="Authentication-Results", header_index=0, occurrence=0,
                         authserv_id="mx.example.com", results=(res,), raw="", trusted=trusted)]


@dataclass
class _Dkim:
    signatures: list[VerifiedResult] = field(default_factory=list)


def _verified_dkim(d: str, result: AuthResultValue = AuthResultValue.PASS, from_signed: bool = True) -> _Dkim:
    return _Dkim([VerifiedResult(method="dkim", result=result, subject=f"d={d}",
                                 details={"d": d, "from_signed": from_signed})])


def test_lookalike_sender_with_brand_display_name() -> None:
    codes, art, findings = _run(_msg('"PayPal Service" <service@paypa1.com>'))
    assert "BRAND_LOOKALIKE_SENDER" in codes and "BRAND_DISPLAY_NAME_CLAIM" in codes
    f = next(f for f in findings if f.code == "BRAND_LOOKALIKE_SENDER")
    assert f.facts["brand"] == "PayPal" and f.facts["technique"] == "homoglyph"
    assert any(i.match is not None and i.field == "From" for i in art.identities)


def test_compound_domain_is_weighed_apart() -> None:
    codes, _, _ = _run(_msg('"Support" <help@paypal-secure-login.com>'))
    assert "BRAND_COMPOUND_SENDER" in codes and "BRAND_LOOKALIKE_SENDER" not in codes


def test_display_name_naming_the_domain_itself_is_not_a_claim() -> None:
    codes, _, _ = _run(_msg('"PayPal Secure Login" <x@paypalsecurelogin.example>'))
    assert "BRAND_DISPLAY_NAME_CLAIM" not in codes and "BRAND_COMPOUND_SENDER" in codes


def test_brand_display_name_from_unrelated_and_free_mail() -> None:
    codes, _, findings = _run(_msg('"Microsoft account team" <alerts@example.net>'))
    assert codes.count("BRAND_DISPLAY_NAME_CLAIM") == 1
    codes, _, findings = _run(_msg('"Apple Support" <apple.help.desk@gmail.com>'))
    claim = next(f for f in findings if f.code == "BRAND_DISPLAY_NAME_CLAIM")
    assert claim.facts["brand"] == "Apple" and "free-mail" in claim.title


def test_brand_sending_from_its_own_domain_is_not_a_claim() -> None:
    codes, art, _ = _run(_msg('"Amazon.co.jp" <store-news@amazon.co.jp>', subject="Amazonプライムのご案内"))
    assert codes == ["BRAND_SENDER_IS_BRAND"]
    assert next(i for i in art.identities if i.field == "From").owner == "amazon"


def test_subject_and_local_part_claims() -> None:
    codes, _, _ = _run(_msg('"Notice" <paypal-billing@example.net>', subject="Your PayPal account is limited"))
    assert "BRAND_SUBJECT_CLAIM" in codes and "BRAND_LOCAL_PART_CLAIM" in codes


def test_japanese_display_name() -> None:
    codes, art, _ = _run(_msg("=?UTF-8?B?5LiJ6I+xVUZK6YqA6KGM?= <info@mufg-jp.example>"))
    assert "BRAND_DISPLAY_NAME_CLAIM" in codes and "BRAND_COMPOUND_SENDER" in codes
    assert art.claims[0].brand_id == "mufg"


def test_reply_to_return_path_and_hop_names() -> None:
    raw = _msg('"Shop" <news@example.net>', extra="Reply-To: <x@rnicrosoft.com>\nReturn-Path: <b@amaz0n.example>\n",
               received="Received: from paypa1.com (paypa1.com [192.0.2.7])\n\tby mx.example.com with ESMTP; "
                        "Thu, 21 Apr 2016 09:35:20 +0900\n")
    codes, _, _ = _run(raw)
    assert "BRAND_LOOKALIKE_REPLY_TO" in codes and codes.count("BRAND_LOOKALIKE_INFRA") >= 2


@dataclass
class _Link:
    url: str
    host: str
    domain: str | None = None
    where: str = "part 1 <a href>"
    unwrapped: str | None = None


@dataclass
class _Links:
    links: list[_Link]


def test_link_hosts() -> None:
    links = _Links([_Link("https://login.microsoftonline.com.example.net/x", "login.microsoftonline.com.example.net"),
                    _Link("https://www.example.org/", "www.example.org"),
                    _Link("https://safe.example/?u=x", "safe.example", unwrapped="https://appleid-verify.com/")])
    codes, _, findings = _run(_msg('"Microsoft 365" <no-reply@example.net>'), {"body.links": links})
    # the brand's domain under someone else's is always counted; a brand-named host with extra
    # words only where the message claims that brand
    assert [f.facts["brand"] for f in findings if f.code == "BRAND_LOOKALIKE_LINK"] == ["Microsoft"]
    assert "BRAND_DISPLAY_NAME_CLAIM" in codes
    codes, _, findings = _run(_msg('"Apple Support" <no-reply@example.net>'), {"body.links": links})
    assert sorted(f.facts["brand"] for f in findings if f.code == "BRAND_LOOKALIKE_LINK") == ["Apple", "Microsoft"]


def test_vouched_by_trusted_reported_signature() -> None:
    raw = _msg('"Microsoft OneDrive" <onedrive@microsoftnews.example>')
    codes, art, findings = _run(raw, {"auth.reported": _reported_dkim("mail.microsoft.com")})
    assert codes == ["BRAND_COUSIN_VOUCHED_REPORTED"]
    assert "the brand's own domain" in findings[0].title and "reported" in findings[0].title
    assert art.vouchers[0].domain == "mail.microsoft.com" and not art.vouchers[0].verified


def test_untrusted_report_and_other_signers_do_not_vouch() -> None:
    raw = _msg('"Microsoft OneDrive" <onedrive@microsoftnews.example>')
    codes, _, _ = _run(raw, {"auth.reported": _reported_dkim("mail.microsoft.com", trusted=False)})
    assert "BRAND_COUSIN_VOUCHED_REPORTED" not in codes and "BRAND_COMPOUND_SENDER" in codes
    codes, _, _ = _run(raw, {"auth.reported": _reported_dkim("microsoftnews.example")})
    assert "BRAND_COUSIN_VOUCHED_REPORTED" not in codes
    # a user domain of the brand (free mail) signs for anyone: it never vouches
    codes, _, _ = _run(_msg('"Google Security" <alert@gmail.com>'), {"auth.reported": _reported_dkim("gmail.com")})
    assert "BRAND_DISPLAY_NAME_CLAIM" in codes


def test_vouched_by_our_own_verification() -> None:
    raw = _msg('"PayPal" <service@paypal-mail.example>')
    codes, art, _findings = _run(raw, {"auth.verify.dkim": _verified_dkim("e.paypal.com")})
    assert codes == ["BRAND_COUSIN_VOUCHED"] and art.vouchers[0].verified
    codes, _, _ = _run(raw, {"auth.verify.dkim": _verified_dkim("e.paypal.com", from_signed=False)})
    assert "BRAND_COUSIN_VOUCHED" not in codes
    codes, _, _ = _run(raw, {"auth.verify.dkim": _verified_dkim("e.paypal.com", AuthResultValue.FAIL)})
    assert "BRAND_COUSIN_VOUCHED" not in codes and "BRAND_COMPOUND_SENDER" in codes


def test_vouched_by_dns_run_by_the_brand() -> None:
    zone = {"paypal-mail.example": {"NS": ["ns1.paypal.com."], "MX": ["10 mx.example.net."]}}
    codes, art, _ = _run(_msg('"PayPal" <service@paypal-mail.example>'), config=Config(dns_mode="live"),
                         resolver=MemoryResolver(zone))
    assert codes == ["BRAND_COUSIN_VOUCHED_DNS"] and art.vouchers[0].kind == "dns"


def test_own_organisation_from_config_and_from_the_chain() -> None:
    cfg = Config(dns_mode="off", own_domains=("example-corp.example",))
    codes, art, _ = _run(_msg('"IT Helpdesk" <it@examp1e-corp.example>'), config=cfg)
    assert "BRAND_OWN_LOOKALIKE_SENDER" in codes and art.own_source == "config"
    codes, _, _ = _run(_msg('"Example Corp payroll" <hr@example.net>'), config=cfg)
    assert codes == ["BRAND_OWN_NAME_CLAIM"]
    codes, _, _ = _run(_msg('"Example Corp payroll" <hr@example-corp.example>'), config=cfg)
    assert codes == []
    raw = _msg('"CEO" <ceo@exarnple-corp.example>',
               received="Received: from a.example.net (a.example.net [192.0.2.9])\n\tby mx.example-corp.example "
                        "with ESMTP\n\tfor <user@example-corp.example>; Thu, 21 Apr 2016 09:35:20 +0900\n")
    codes, art, _ = _run(raw)
    assert "BRAND_OWN_LOOKALIKE_SENDER" in codes and art.own_domains == ("example-corp.example",)


def test_mixed_script_domain_without_brand() -> None:
    codes, _, _ = _run(_msg('"Shop" <a@sh\u043ep-online.example>'))  # shоp with a Cyrillic о
    assert "BRAND_MIXED_SCRIPT_DOMAIN" in codes


@pytest.mark.parametrize("raw", [
    b"", b"From: \n\n", b"From: =?utf-8?b?AAAA?= <@>\n\n", b"From: " + b"a" * 10000 + b"@x\n\n",
    "From: \"\u202eLaPyaP\" <x@\u0440\u0430\u0443\u0440\u0430l.com>\nSubject: ".encode() + b"\xff" * 500 + b"\n\n",
    b"Received: from " + b"x." * 3000 + b"\n\n",
])
def test_hostile_input_never_raises(raw: bytes) -> None:
    try:
        msg = parse_message(raw)
    except Exception:
        return  # the parser refused it: nothing for the check to see
    ctx = Context(msg, Config(dns_mode="off"), CachingResolver(OfflineResolver()))
    ctx.artifacts["body.links"] = _Links([_Link("x", "\x00" * 300)])
    ctx.artifacts["auth.reported"] = object()
    ctx.artifacts["received.chain"] = {"hops": "nonsense"}
    ctx._current = load_checks()["brand.impersonation"]
    brand_impersonation(ctx)


def test_verdict_and_terminal_section() -> None:
    report = analyze(_msg('"PayPal Service" <service@paypa1.com>', subject="Your PayPal account"),
                     config=Config(dns_mode="off"))
    assert report.verdict.label.value == "phishing"
    text = render_terminal(report, width=120)
    assert "Brands and lookalike domains" in text and "imitates PayPal" in text


def test_the_example_is_a_vouched_cousin(example_eml: bytes, example_dns_path: Path) -> None:
    report = analyze(example_eml, config=Config(dns_mode="snapshot", dns_snapshot=str(example_dns_path)))
    brand = [f for f in report.findings if f.check == "brand.impersonation"]
    assert [f.code for f in brand] in (["BRAND_COUSIN_VOUCHED"], ["BRAND_COUSIN_VOUCHED_REPORTED"])
    assert brand[0].facts["brand"] == "Microsoft" and brand[0].facts["kind"] == "dkim"
    assert report.verdict.label.value == "legitimate"
    art = report.sections["brand.impersonation"]
    assert any(i.field == "From" and i.match and i.match.brand_id == "microsoft" for i in art.identities)


def test_hop_names_come_from_the_parsed_chain() -> None:
    # The envelope sender a hop recorded is only known from the parsed Received header (the raw
    # fallback reads HELO and PTR alone): a lookalike there must be found through the chain.
    raw = _msg('"Shop" <news@example.net>',
               received="Received: from mta.example.net ([192.0.2.7] helo=mta.example.net)\n"
                        "\tby mx.example.com with esmtps (Exim 4.96)\n\t(envelope-from <b@paypa1.com>)\n"
                        "\tid 1abc-000; Thu, 21 Apr 2016 09:35:20 +0900\n")
    report = analyze(raw, config=Config(dns_mode="off"), resolver=OfflineResolver())
    art = report.sections["brand.impersonation"]
    assert any(n.field == "envelope-from" and n.name == "paypa1.com" for n in art.identities)
    infra = [f for f in report.findings if f.code == "BRAND_LOOKALIKE_INFRA"]
    assert infra and infra[0].facts["field"] == "envelope-from"
