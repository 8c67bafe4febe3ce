"""Authentication-Results / ARC-Authentication-Results / Received-SPF parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.model.auth import AuthResultValue
from mailsleuth.parse.authres import (
    NO_AUTHSERV_ID,
    is_copy,
    parse_auth_header,
    parse_authentication_results,
    parse_received_spf,
)
from mailsleuth.parse.message import parse_message


def ar(value: str, name: str = "Authentication-Results"):
    return parse_authentication_results(value, header_name=name)


def test_several_results_with_comments_reasons_and_properties() -> None:
    ra = ar('mx.example.net 1; dkim=pass (2048-bit key; unprotected) header.d=example.com header.i=@example.com '
            'header.b="ab/cd+ef"; spf=softfail reason="not designated" smtp.mailfrom=bounce@mail.example.org; '
            'dmarc=fail (p=REJECT sp=NONE dis=NONE) header.from=example.com')
    assert ra.authserv_id == "mx.example.net"
    assert ra.version == "1"
    assert [(r.method, r.result) for r in ra.results] == [
        ("dkim", AuthResultValue.PASS), ("spf", AuthResultValue.SOFTFAIL), ("dmarc", AuthResultValue.FAIL)]
    dkim, spf, dmarc = ra.results
    assert dkim.comments == ("2048-bit key; unprotected",)
    assert dkim.prop("header.d") == "example.com"
    assert dkim.prop("header.b") == "ab/cd+ef"  # quoted value unquoted
    assert spf.reason == "not designated"
    assert spf.prop("smtp.mailfrom") == "bounce@mail.example.org"
    assert dmarc.comments == ("p=REJECT sp=NONE dis=NONE",)
    assert ra.parse_errors == ()


def test_comment_after_authserv_id_is_not_a_result_comment() -> None:
    ra = ar("mx.example.com (amavisd-new); dkim=pass (1024-bit key)\n\theader.d=mail.example.net")
    assert ra.authserv_id == "mx.example.com"
    assert ra.results[0].comments == ("1024-bit key",)
    assert ra.results[0].prop("header.d") == "mail.example.net"


def test_microsoft_form_without_authserv_id() -> None:
    ra = ar("spf=pass (sender IP is 192.0.2.10) smtp.mailfrom=mail.example.org; dkim=none (message not signed) "
            "header.d=none;dmarc=fail action=oreject header.from=example.org;compauth=fail reason=001")
    assert ra.authserv_id is None
    assert any(e.startswith(NO_AUTHSERV_ID) for e in ra.parse_errors)
    methods = [r.method for r in ra.results]
    assert methods == ["spf", "dkim", "dmarc", "compauth"]
    assert ra.results[0].comments == ("sender IP is 192.0.2.10",)
    assert ra.results[2].prop("action") == "oreject"  # ptype-less vendor property kept
    assert ra.results[2].prop("header.from") == "example.org"
    assert ra.results[3].reason == "001"


def test_arc_instance_and_version() -> None:
    ra = ar("i=2; mx.example.net 1; spf=none; dmarc=none; dkim=none; arc=none", name="ARC-Authentication-Results")
    assert ra.arc_instance == 2
    assert ra.authserv_id == "mx.example.net"
    assert ra.version == "1"
    assert len(ra.results) == 4


def test_none_result_and_trailing_semicolons_and_unknown_methods() -> None:
    assert ar("mx.example.net; none").results == ()
    assert ar("mx.example.net; none").parse_errors == ()
    ra = ar("mx.example.net; x-custom/2=weird header.x=1;;  ;")
    assert ra.results[0].method == "x-custom"
    assert ra.results[0].method_version == "2"
    assert ra.results[0].result is AuthResultValue.UNKNOWN
    assert ra.results[0].result_raw == "weird"


def test_result_glued_to_comment_and_duplicate_keys() -> None:
    ra = ar("mx.example.net; dmarc=pass(p=QUARANTINE) header.from=example.com header.from=example.org "
            "arc_overridden_status=NOT_OVERRIDDEN;")
    r = ra.results[0]
    assert r.result is AuthResultValue.PASS
    assert r.comments == ("p=QUARANTINE",)
    assert [p.value for p in r.properties if p.key == "header.from"] == ["example.com", "example.org"]
    assert r.prop("header.from") == "example.com"  # the first one wins for lookups
    assert r.prop("arc_overridden_status") == "NOT_OVERRIDDEN"


def test_missing_semicolon_between_results_is_repaired_with_a_note() -> None:
    ra = ar("mx.example.net; dkim=pass header.d=example.com spf=pass smtp.mailfrom=example.com")
    assert [r.method for r in ra.results] == ["dkim", "spf"]
    assert any("missing ';'" in e for e in ra.parse_errors)


def test_cfws_everywhere_and_nested_comments() -> None:
    ra = ar("(c1) mx.example.net (c2) ; (c3) dkim (c4) = (c5) pass (c6 (nested)) header (c7) . (c8) d (c9) = "
            "example.com (c10)")
    assert ra.authserv_id == "mx.example.net"
    r = ra.results[0]
    assert (r.method, r.result) == ("dkim", AuthResultValue.PASS)
    assert r.prop("header.d") == "example.com"
    assert "c6 (nested)" in r.comments


def test_stray_token_is_skipped() -> None:
    ra = ar("dkim=none (message not signed) header.d=none;example.net; dmarc=none action=none header.from=example.com;")
    assert [r.method for r in ra.results] == ["dkim", "dmarc"]
    assert any("stray text 'example.net'" in e for e in ra.parse_errors)


@pytest.mark.parametrize("value,result,receiver,mailfrom", [
    ("spf-pass", AuthResultValue.PASS, None, None),
    ("Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=a.example.net; envelope-from=x@example.com; "
     "receiver=<UNKNOWN>", AuthResultValue.PASS, None, "x@example.com"),
    ("Softfail (domain of transitioning example.org does not designate 192.0.2.1 as permitted sender)",
     AuthResultValue.SOFTFAIL, None, "example.org"),
    ("Pass (mx.example.net: domain of bounce@example.com designates 192.0.2.1 as permitted sender) "
     "receiver=mx.example.net; client-ip=192.0.2.1; helo=out.example.com;", AuthResultValue.PASS, "mx.example.net",
     "bounce@example.com"),
    ('pass (mybox.example.org: domain of me@example.com designates 192.0.2.1 as permitted sender) '
     'receiver=mybox.example.org; client-ip=192.0.2.1; envelope-from="me@example.com"; helo=foo.example.com;',
     AuthResultValue.PASS, "mybox.example.org", "me@example.com"),
    ("TempError (mx.example.net: error in processing during lookup of example.com: DNS Timeout)",
     AuthResultValue.TEMPERROR, "mx.example.net", None),
    ("None (mx.example.net: example.com does not designate permitted sender hosts)", AuthResultValue.NONE,
     "mx.example.net", None),
])
def test_received_spf_forms(value: str, result: AuthResultValue, receiver: str | None, mailfrom: str | None) -> None:
    ra = parse_received_spf(value)
    r = ra.results[0]
    assert r.method == "spf"
    assert r.result is result
    assert ra.authserv_id == receiver
    assert r.prop("smtp.mailfrom") == mailfrom


def test_received_spf_key_values_kept() -> None:
    ra = parse_received_spf("fail (c) client-ip=192.0.2.9; helo=h.example.net; identity=helo")
    r = ra.results[0]
    assert r.prop("client-ip") == "192.0.2.9"
    assert r.prop("smtp.helo") == "h.example.net"
    assert r.prop("smtp.mailfrom") is None  # identity=helo: no mailfrom claim


def test_received_spf_garbage_is_recorded() -> None:
    ra = parse_received_spf("")
    assert ra.results[0].result is AuthResultValue.UNKNOWN
    assert ra.parse_errors


def test_dispatch_by_header_name_and_copies() -> None:
    raw = (b"Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=example.com\n"
           b"Authentication-Results-Original: mx.example.org; dkim=pass header.d=example.com\n"
           b"Received-SPF: pass\nX-MS-Exchange-Authentication-Results: spf=fail (sender IP is 192.0.2.1) "
           b"smtp.mailfrom=example.com\nSubject: x\n\nbody\n")
    msg = parse_message(raw)
    parsed = [parse_auth_header(h) for h in msg.headers]
    assert [p.header_name if p else None for p in parsed] == [
        "Authentication-Results", "Authentication-Results-Original", "Received-SPF",
        "X-MS-Exchange-Authentication-Results", None]
    assert is_copy("Authentication-Results-Original") and not is_copy("Authentication-Results")
    assert parsed[0] is not None and parsed[0].header_index == 0


def test_long_and_hostile_values_are_bounded() -> None:
    ra = ar("mx.example.net; " + "dkim=pass header.d=example.com; " * 5000)
    assert len(ra.results) == 200
    assert any("more than 200" in e for e in ra.parse_errors)
    deep = ar("mx.example.net; dkim=pass " + "(" * 5000 + "x")
    assert deep.parse_errors


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(' \t\n();=."\\/@abcdkimpsfx0123')), max_size=300))
def test_ar_parser_never_raises(text: str) -> None:
    ra = ar(text)
    assert isinstance(ra.results, tuple)
    arc = ar(text, name="ARC-Authentication-Results")
    assert isinstance(arc.parse_errors, tuple)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_received_spf_never_raises(text: str) -> None:
    assert len(parse_received_spf(text).results) == 1
