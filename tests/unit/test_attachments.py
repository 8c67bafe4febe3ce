"""The attachment check: names, sniffed types, hashes, archives, macros, PDF actions, attached
pages, winmail.dat contents and QR codes."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

import pytest

import mailsleuth.checks.attachments as attachments_check
import mailsleuth.checks.body  # noqa: F401 - registers the checks
from mailsleuth.body.attachments import ArchiveLimits, list_zip, office_macros, scan_pdf
from mailsleuth.config import Config, Limits
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, Context, run_checks
from mailsleuth.parse.message import parse_message
from mailsleuth.parse.tnef import build_tnef

HEAD = b"From: a@example.com\nTo: b@example.org\nSubject: s\nMIME-Version: 1.0\n"


def with_attachment(name: str, ctype: str, data: bytes) -> bytes:
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee attached\n'
            + f'--b\nContent-Type: {ctype}; name="{name}"\nContent-Disposition: attachment; filename="{name}"\n'
              "Content-Transfer-Encoding: base64\n\n".encode() + base64.encodebytes(data) + b"--b--\n")


def run(raw: bytes, config: Config | None = None):
    ctx = Context(parse_message(raw), config or Config(dns_mode="off"), CachingResolver(MemoryResolver({})))
    return run_checks(ctx, {k: REGISTRY[k] for k in ("body.links", "body.attachments")})


def codes(res) -> set[str]:
    return {f.code for f in res.findings}


def make_zip(members: dict[str, bytes], encrypted: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = bytearray(buf.getvalue())
    if encrypted:  # set the "encrypted" flag bit in local and central headers
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            i = data.find(sig)
            while i != -1:
                data[i + off] |= 1
                i = data.find(sig, i + 4)
    return bytes(data)


def test_hashes_names_and_sniffed_type():
    payload = b"MZ\x90\x00" + b"\x00" * 60
    res = run(with_attachment("invoice.pdf.exe", "application/pdf", payload))
    att = res.artifacts["body.attachments"].attachments[0]
    assert att.name == "invoice.pdf.exe" and att.part == "2" and att.size == len(payload)
    assert att.sha256 == hashlib.sha256(payload).hexdigest() and att.md5 == hashlib.md5(payload).hexdigest()
    assert att.sha1 == hashlib.sha1(payload).hexdigest()
    assert att.sniffed_type == "application/x-msdownload"
    assert {"ATTACH_RISKY_TYPE", "ATTACH_DOUBLE_EXTENSION", "ATTACH_TYPE_MISMATCH"} <= codes(res)


def test_honest_pdf_is_quiet():
    res = run(with_attachment("report.pdf", "application/pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"))
    assert codes(res) == set()


def test_bidi_override_in_name():
    res = run(with_attachment("invoice\u202efdp.exe", "application/octet-stream", b"MZ\x00\x00"))
    assert "ATTACH_NAME_DISGUISED" in codes(res)
    assert "<U+202E>" in res.artifacts["body.attachments"].attachments[0].name


def test_zip_listing_encrypted_and_risky_member():
    data = make_zip({"docs/readme.txt": b"hello", "docs/payment.js": b"WScript.Echo(1)"}, encrypted=True)
    res = run(with_attachment("docs.zip", "application/zip", data))
    att = res.artifacts["body.attachments"].attachments[0]
    assert att.archive is not None and att.archive.member_count == 2 and att.archive.encrypted
    assert [m.name for m in att.archive.members] == ["docs/readme.txt", "docs/payment.js"]
    assert {"ATTACH_ARCHIVE_ENCRYPTED", "ATTACH_ARCHIVE_RISKY_MEMBER"} <= codes(res)


def test_zip_bomb_limits_without_extracting():
    bomb = make_zip({"zeros.bin": b"\0" * (4 * 1024 * 1024)})
    archive = list_zip(bomb, ArchiveLimits(max_members=10, max_ratio=100, max_total=1024 * 1024))
    assert any("ratio" in p for p in archive.problems)
    assert any("uncompressed size" in p for p in archive.problems)
    many = make_zip({f"f{i}.txt": b"" for i in range(30)})
    assert any("more than 10 members" in p for p in list_zip(many, ArchiveLimits(max_members=10)).problems)
    res = run(with_attachment("b.zip", "application/zip", bomb),
              Config(dns_mode="off", limits=Limits(archive_max_total=1024 * 1024)))
    assert "ATTACH_ARCHIVE_LIMIT" in codes(res)


def test_pdf_active_content_even_when_hex_escaped():
    pdf = (b"%PDF-1.4\n1 0 obj << /OpenAction << /S /J#61vaScript /JS (app.alert(1)) >> >> endobj\n"
           b"2 0 obj << /S /Launch /F (cmd.exe) >> endobj\n3 0 obj << /URI (https://pdf.example.net/x) >> endobj\n")
    scan = scan_pdf(pdf)
    assert scan.keywords["JavaScript"] == 1 and scan.keywords["JS"] == 1 and scan.keywords["Launch"] == 1
    assert scan.obfuscated_names == 1 and scan.uris == ["https://pdf.example.net/x"]
    res = run(with_attachment("doc.pdf", "application/pdf", pdf))
    assert {"ATTACH_PDF_ACTIVE", "ATTACH_PDF_LAUNCH"} <= codes(res)


def test_html_attachment_with_form_and_script():
    page = (b"<html><script>var x=1</script><form action='https://collect.example.net/p' method=post>"
            b"<input type=password name=pw></form></html>")
    res = run(with_attachment("Remittance.html", "text/html", page))
    assert {"ATTACH_HTML", "ATTACH_HTML_FORM", "ATTACH_HTML_SCRIPT", "LINK_PASSWORD_FIELD"} <= codes(res)
    assert "LINK_FORM_EXTERNAL" not in codes(res)  # attached page: reported as ATTACH_HTML_FORM only


def test_winmail_dat_contents_examined():
    tnef = build_tnef([("update.exe", b"MZ\x90\x00"), ("notes.txt", b"hi")])
    res = run(with_attachment("winmail.dat", "application/ms-tnef", tnef))
    atts = res.artifacts["body.attachments"].attachments
    assert [(a.name, a.source) for a in atts] == [("winmail.dat", "mime"), ("update.exe", "tnef"), ("notes.txt", "tnef")]
    assert {"ATTACH_TNEF", "ATTACH_RISKY_TYPE"} <= codes(res)


def test_office_macro_scan_wiring(monkeypatch):
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
    assert office_macros(ole, "a.doc")["macros"] is False  # olevba reads it and finds none
    monkeypatch.setattr(attachments_check, "office_macros",
                        lambda data, name: {"macros": True, "autoexec": ["AutoOpen"], "suspicious": ["Shell"]})
    res = run(with_attachment("a.doc", "application/msword", ole))
    found = [f for f in res.findings if f.code == "ATTACH_OFFICE_MACROS"]
    assert found and "AutoOpen" in found[0].title


def test_qr_code_in_image():
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    code = zxingcpp.create_barcode("https://qr.example.net/login", zxingcpp.BarcodeFormat.QRCode)
    view = memoryview(code.to_image(scale=4))
    pil = image.frombytes("L", (view.shape[1], view.shape[0]), bytes(view))
    buf = io.BytesIO()
    pil.save(buf, "PNG")
    res = run(with_attachment("scan.png", "image/png", buf.getvalue()))
    qr = [f for f in res.findings if f.code == "ATTACH_QR_CODE"]
    assert qr and qr[0].facts["url"] == "https://qr.example.net/login"
    plain = image.new("L", (64, 64), 255)
    buf = io.BytesIO()
    plain.save(buf, "PNG")
    assert "ATTACH_QR_CODE" not in codes(run(with_attachment("logo.png", "image/png", buf.getvalue())))
