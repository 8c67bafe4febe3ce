"""Property tests (Hypothesis): the parsers of attacker-controlled input never raise anything but
InputError, whatever bytes or text they are given, and their limits hold."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsleuth.body.attachments import ArchiveLimits, list_zip, name_info, scan_pdf, sniff
from mailsleuth.body.wrappers import unwrap
from mailsleuth.errors import InputError
from mailsleuth.model.text import decode_bytes
from mailsleuth.parse.addresses import parse_addresses
from mailsleuth.parse.links import links_from_calendar, links_from_text, scan_html, split_host
from mailsleuth.parse.message import ParseLimits, parse_message
from mailsleuth.parse.mime import MimeLimits, parse_content_type, parse_mime
from mailsleuth.parse.rfc2047 import decode_header_value, decode_raw_header_bytes
from mailsleuth.parse.tnef import build_tnef, read_tnef

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = MimeLimits(max_depth=5, max_parts=20, max_part_bytes=4096, max_total_bytes=16384)

# Text that looks like mail often enough to reach deep code paths.
_TOKENS = st.sampled_from([
    "From: ", "To: ", "Subject: ", "Content-Type: ", "multipart/mixed; boundary=", '"b"', "--b", "--b--",
    "message/rfc822", "text/html", "Content-Transfer-Encoding: ", "base64", "quoted-printable", "=?utf-8?B?",
    "=?iso-2022-jp?Q?", "?=", "\n", "\r\n", "\n\n", " ", "\t", ";", "=", "<a href='", "http://", "hxxp://",
    "[.]", "example.com", "charset=", "shift_jis", "name*0*=utf-8''", "%E6", "\x1b$B", "<form action=",
    "<input type=password>", "</a>", "@", "<", ">", '"', "\\", "\x00", "\xff", "日本",
])
MAILISH = st.lists(st.one_of(_TOKENS, st.text(max_size=8)), max_size=60).map("".join)


@SETTINGS
@given(st.binary(max_size=4000))
def test_parse_message_bytes(data: bytes) -> None:
    try:
        msg = parse_message(data, limits=ParseLimits(mime=SMALL))
    except InputError:
        return
    if msg.mime is not None:
        assert sum(1 for _ in msg.mime.walk()) <= SMALL.max_parts + 1


@SETTINGS
@given(MAILISH)
def test_parse_message_mailish(text: str) -> None:
    try:
        msg = parse_message(text.encode("utf-8", "surrogatepass"), limits=ParseLimits(mime=SMALL))
    except InputError:
        return
    if msg.mime is not None:
        for part in msg.mime.walk():
            assert len(part.payload) <= SMALL.max_part_bytes
            part.text()


@SETTINGS
@given(st.binary(max_size=2000), st.binary(max_size=4000))
def test_parse_mime(header: bytes, body: bytes) -> None:
    root = parse_mime(header, body, SMALL)
    depth = max(len(p.path.split(".")) if p.path else 0 for p in root.walk())
    assert depth <= SMALL.max_depth + 2


@SETTINGS
@given(st.text(max_size=500))
def test_content_type_and_headers(text: str) -> None:
    parse_content_type(text)
    decode_header_value(text)
    parse_addresses(text)


@SETTINGS
@given(MAILISH)
def test_rfc2047_and_addresses_mailish(text: str) -> None:
    decode_header_value(text, [])
    parse_addresses(text)
    decode_raw_header_bytes(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=2000), st.one_of(st.none(), st.text(max_size=20)))
def test_decode_bytes(data: bytes, charset: str | None) -> None:
    assert isinstance(decode_bytes(data, charset), str)


@SETTINGS
@given(MAILISH, st.integers(min_value=0, max_value=50))
def test_link_extractors(text: str, cap: int) -> None:
    links, _ = links_from_text(text, max_links=cap)
    assert len(links) <= cap
    scan = scan_html(text, max_links=cap)
    assert len(scan.links) <= cap
    links_from_calendar(text, max_links=cap)
    for link in [*links, *scan.links]:
        split_host(link.url)
        unwrap(link.url)


@SETTINGS
@given(st.text(max_size=300))
def test_url_helpers(text: str) -> None:
    split_host(text)
    unwrap("https://www.google.com/url?q=" + text)
    unwrap("https://urldefense.com/v3/__" + text + "__;" + text + "!!")
    unwrap("https://urldefense.proofpoint.com/v2/url?u=" + text)
    name_info(text)


@SETTINGS
@given(st.binary(max_size=3000))
def test_attachment_readers(data: bytes) -> None:
    sniff(data)
    scan_pdf(data)
    list_zip(b"PK\x03\x04" + data, ArchiveLimits(max_members=10))
    read_tnef(data)
    read_tnef(build_tnef([("a.txt", b"x")])[:20] + data)
