"""Link extraction (HTML, text, calendar, defanged forms), unwrapping and the body.links findings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import mailsleuth.checks.attachments
import mailsleuth.checks.body  # noqa: F401 - registers the checks
from mailsleuth.body.wrappers import unwrap
from mailsleuth.config import Config, Limits
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, CheckSpec, Context, Outcome, run_checks
from mailsleuth.parse.links import links_from_calendar, links_from_text, refang, scan_html, split_host
from mailsleuth.parse.message import parse_message

HEAD = b"From: Sender <a@example.com>\nTo: b@example.org\nSubject: s\nMIME-Version: 1.0\n"


def run(raw: bytes, *, ids=("body.links",), config: Config | None = None, extra=None):
    msg = parse_message(raw)
    ctx = Context(msg, config or Config(dns_mode="off"), CachingResolver(MemoryResolver({})),
                  clock=lambda: datetime(2024, 1, 10, tzinfo=UTC))
    specs = {k: REGISTRY[k] for k in ids}
    if extra:
        specs.update(extra)
    return run_checks(ctx, specs)


def html_msg(html: str) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\n\n" + html.encode() + b"\n"


def codes(res) -> set[str]:
    return {f.code for f in res.findings}


def test_html_sources_all_found():
    scan = scan_html(
        '<base href="https://base.example.com/dir/"><a href="rel/page">Rel</a>'
        '<area href="https://area.example.com/" alt="map"><img src="https://img.example.com/i.png">'
        '<form action="/post"></form><div style="background:url(\'https://css.example.com/bg.png\')"></div>'
        '<style>p { background: url(https://style.example.com/s.png) }</style>'
        '<meta http-equiv="Refresh" content="0;URL=https://refresh.example.com/">'
        '<iframe src="https://frame.example.com/"></iframe>')
    got = {(lk.tag, lk.attr): lk.url for lk in scan.links}
    assert got[("a", "href")] == "https://base.example.com/dir/rel/page"
    assert got[("area", "href")] == "https://area.example.com/"
    assert got[("img", "src")] == "https://img.example.com/i.png"
    assert got[("form", "action")] == "/post" or scan.forms[0].action == "https://base.example.com/post"
    css = {lk.url for lk in scan.links if lk.tag == "css"}
    assert css == {"https://css.example.com/bg.png", "https://style.example.com/s.png"}
    assert got[("meta", "refresh")] == "https://refresh.example.com/"
    assert got[("iframe", "src")] == "https://frame.example.com/"
    assert scan.meta_refresh == "https://refresh.example.com/"


def test_anchor_text_and_entities():
    scan = scan_html('<a href="https://x.example.com/?a=1&amp;b=2">Sign <b>in</b> &amp; pay</a>')
    assert scan.links[0].url == "https://x.example.com/?a=1&b=2"
    assert scan.links[0].text == "Sign in & pay"


def test_text_urls_and_defanged_forms():
    links, dropped = links_from_text("Visit hxxps://evil[.]example[.]com/login, www.example.org/x) and "
                                     "bad(.)example(.)net/path or (https://paren.example.com/a).")
    urls = [lk.url for lk in links]
    assert "https://evil.example.com/login" in urls
    assert "http://www.example.org/x" in urls
    assert "https://paren.example.com/a" in urls
    assert "http://bad.example.net/path" in urls
    assert dropped == 0
    assert refang("hxxp://a[.]example[:]80/") == ("http://a.example:80/", True)
    assert refang("https://plain.example/") == ("https://plain.example/", False)


def test_calendar_links_unfolded():
    ics = "BEGIN:VCALENDAR\r\nDESCRIPTION:Join at https://meet.exam\r\n ple.com/room\\nthanks\r\nEND:VCALENDAR\r\n"
    links, _ = links_from_calendar(ics)
    assert [lk.url for lk in links] == ["https://meet.example.com/room"]


def test_split_host():
    assert split_host("https://User@WWW.Example.COM:8443/x") == ("https", "www.example.com")
    assert split_host("http://[2001:db8::1]:80/") == ("http", "2001:db8::1")
    assert split_host("mailto:someone@Example.org?subject=x") == ("mailto", "example.org")
    assert split_host("no scheme here") == ("", "")


@pytest.mark.parametrize("url, target, wrapper", [
    ("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.example.com%2F&data=x",
     "https://www.example.com/", "microsoft-safelinks"),
    ("https://urldefense.proofpoint.com/v2/url?u=https-3A__a.example.com_b&d=x", "https://a.example.com/b",
     "proofpoint-v2"),
    ("https://urldefense.com/v3/__https://a.example.com/x__;!!abc!def$", "https://a.example.com/x", "proofpoint-v3"),
    ("https://www.google.com/url?q=https://a.example.net/&sa=D", "https://a.example.net/", "google-redirect"),
    ("https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fa.example.org%2f&c=E", "https://a.example.org/",
     "barracuda-linkprotect"),
    ("https://protect-us.mimecast.com/s/abcdef?domain=example.com", None, "mimecast"),
    # nested: Safe Links around a click tracker around the target
    ("https://nam01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fclick.example.net%2Fc%3Furl%3Dhttps%253A%252F%252Fend.example.com%252F",
     "https://end.example.com/", "microsoft-safelinks"),
])
def test_unwrap(url, target, wrapper):
    got = unwrap(url)
    assert got is not None
    assert got.target == target
    assert got.wrapper == wrapper
    if target is None:
        assert got.note and "example.com" in got.note


def test_click_tracker_without_target_is_not_guessed():
    assert unwrap("https://click.example.net/ls/click?upn=AbCdEf123") is None
    assert unwrap("https://click.example.net/c?url=notaurl") is None


def test_phishing_html_findings():
    res = run(html_msg(
        '<a href="https://login.example.net/verify">https://www.example.com/account</a>'
        '<a href="http://198.51.100.7/x">x</a><a href="https://xn--exmple-cua.com/">y</a>'
        '<a href="https://bit.ly/abc">short</a><a href="javascript:alert(1)">js</a>'
        '<img src="https://t.example.net/o.gif" width="1" height="1">'
        '<form method="post" action="https://collect.example.net/p"><input type="password" name="p"></form>'))
    c = codes(res)
    assert {"LINK_TEXT_DOMAIN_MISMATCH", "LINK_IP_LITERAL", "LINK_PUNYCODE", "LINK_SHORTENER", "LINK_SCRIPT_URL",
            "LINK_FORM_EXTERNAL", "LINK_PASSWORD_FIELD", "LINK_TRACKING_PIXEL", "LINK_REMOTE_IMAGES"} <= c
    mismatch = next(f for f in res.findings if f.code == "LINK_TEXT_DOMAIN_MISMATCH")
    assert mismatch.facts["shown"] == "example.com" and mismatch.facts["actual"] == "example.net"
    art = res.artifacts["body.links"]
    link = art.links[0]
    assert (link.url, link.host, link.domain, link.text) == ("https://login.example.net/verify", "login.example.net",
                                                             "example.net", "https://www.example.com/account")
    assert link.where == "part body <a href>"


def test_same_organisation_text_is_not_a_mismatch():
    res = run(html_msg('<a href="https://links.example.com/x">www.example.com</a>'
                       '<a href="https://a.example.org/">Read the report.pdf now</a>'
                       '<a href="https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.example.com%2F">'
                       'https://www.example.com/</a>'))
    assert "LINK_TEXT_DOMAIN_MISMATCH" not in codes(res)
    assert "LINK_WRAPPED" in codes(res)


def test_data_images_are_not_script_urls():
    res = run(html_msg('<img src="data:image/png;base64,iVBORw0KGgo=">'))
    assert "LINK_SCRIPT_URL" not in codes(res)
    res = run(html_msg('<a href="data:text/html;base64,PGgxPg==">open</a>'))
    assert "LINK_SCRIPT_URL" in codes(res)


def test_link_limit_reported():
    html = "".join(f'<a href="https://h{i}.example.com/">{i}</a>' for i in range(50))
    res = run(html_msg(html), config=Config(dns_mode="off", limits=Limits(max_links=10)))
    assert len(res.artifacts["body.links"].links) == 10
    assert "BODY_LINK_LIMIT" in codes(res)


def test_new_domain_from_registration_data():
    rdap = {"domains": {"example.net": {"registered": "2024-01-07T00:00:00Z"}, "example.com": {"registered": "1995-08-14"}}}
    stub = CheckSpec(id="infra.rdap", title="stub", func=lambda ctx: Outcome(artifact=rdap), codes=frozenset())
    res = run(html_msg('<a href="https://new.example.net/">a</a><a href="https://old.example.com/">b</a>'),
              extra={"infra.rdap": stub})
    new = [f for f in res.findings if f.code == "LINK_NEW_DOMAIN"]
    assert [(f.facts["domain"], f.facts["days"]) for f in new] == [("example.net", 3)]


def test_plain_text_and_calendar_parts():
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
           b"See https://docs.example.com/a\n--b\nContent-Type: text/calendar; method=REQUEST\n\n"
           b"BEGIN:VCALENDAR\nDESCRIPTION:https://meet.example.net/j/1\nEND:VCALENDAR\n--b--\n")
    res = run(raw, ids=("body.links", "body.attachments"))
    art = res.artifacts["body.links"]
    assert [(lk.url, lk.where) for lk in art.links] == [("https://docs.example.com/a", "part 1 text"),
                                                       ("https://meet.example.net/j/1", "part 2 calendar")]
    assert "ATTACH_CALENDAR_LINKS" in codes(res)


def test_free_hosting_open_redirect_and_integer_ip():
    res = run(html_msg('<a href="https://bucket.s3.us-east-1.amazonaws.com/recover.html">Verify</a>'
                       '<img src="https://img.storage.googleapis.com/logo.png">'
                       '<a href="https://www.google.co.uk/amp/s/landing.example.net/x">Offer</a>'
                       '<a href="http://3232235777/claim">Claim</a>'))
    found = {f.code: f for f in res.findings}
    assert found["LINK_FREE_HOSTING"].facts["service"] == "cloud-storage"
    assert sum(1 for f in res.findings if f.code == "LINK_FREE_HOSTING") == 1  # the image does not count
    assert found["LINK_OPEN_REDIRECT"].facts["target"] == "https://landing.example.net/x"
    assert found["LINK_IP_LITERAL"].facts["obfuscated"] is True
    assert "192.168.1.1" in found["LINK_IP_LITERAL"].title


def test_click_tracker_and_sender_links_are_not_mismatches():
    tracked = html_msg('<a href="https://click.mailer.example.net/?qs=0123456789abcdef0123456789">www.example.org</a>')
    assert "LINK_TEXT_DOMAIN_MISMATCH" not in codes(run(tracked))
    own = (b"From: News <news@example.net>\nTo: b@example.org\nSubject: s\nContent-Type: text/html\n\n"
           b'<a href="https://www.example.net/r/1">https://partner.example.com/</a>\n')
    assert "LINK_TEXT_DOMAIN_MISMATCH" not in codes(run(own))
    plain = html_msg('<a href="https://www.example.net/account">www.example.org</a>')
    assert "LINK_TEXT_DOMAIN_MISMATCH" in codes(run(plain))


def test_background_attributes_and_uninteresting_tags():
    scan = scan_html('<table background="https://bg.example.com/t.png"><tr><td style="x" background=\'https://bg.example.com/c.png\'>'
                     '<span title="<a href=https://no.example.com>">text</span></td></tr></table>')
    assert sorted(lk.url for lk in scan.links if lk.attr == "background") == ["https://bg.example.com/c.png",
                                                                            "https://bg.example.com/t.png"]


@pytest.mark.parametrize("host, dotted", [("3232235777", "192.168.1.1"), ("0xc0a80101", "192.168.1.1"),
                                          ("0300.0250.1.1", "192.168.1.1"), ("192.168.1.1", None),
                                          ("www.example.com", None), ("99999999999", None)])
def test_integer_ip(host, dotted):
    from mailsleuth.checks.body import integer_ip

    assert integer_ip(host) == dotted


def test_new_domain_from_attribute_shaped_registrations():
    from types import SimpleNamespace

    rdap = SimpleNamespace(domains={"example.net": SimpleNamespace(age_days=2.5, created="2024-01-07"),
                                    "example.org": SimpleNamespace(age_days=None, created=None)})
    stub = CheckSpec(id="infra.rdap", title="stub", func=lambda ctx: Outcome(artifact=rdap), codes=frozenset())
    res = run(html_msg('<a href="https://x.example.net/">a</a><a href="https://y.example.org/">b</a>'),
              extra={"infra.rdap": stub})
    assert [(f.facts["domain"], f.facts["days"]) for f in res.findings if f.code == "LINK_NEW_DOMAIN"] == \
        [("example.net", 2)]


def test_sections_render_attacker_text_as_text():
    from mailsleuth.api import analyze
    from mailsleuth.render.terminal import render_terminal

    raw = html_msg('<a href="https://x.example.net/[b]">[red]Pay[/red] \x1b[31mnow</a>'
                   '<form action="https://collect.example.net/p"><input type=password></form>')
    out = render_terminal(analyze(raw, config=Config(dns_mode="off")), width=160)
    assert "[red]Pay[/red]" in out and "\x1b" not in out and "\\x1b" in out
    assert "posts to https://collect.example.net/p" in out
