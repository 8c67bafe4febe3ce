"""The bounded MIME parser: nesting, attached messages, encodings, charsets, limits, TNEF."""

from __future__ import annotations

import base64

import pytest

from mailsleuth.model.text import decode_bytes, guess_codec
from mailsleuth.parse.message import ParseLimits, parse_message
from mailsleuth.parse.mime import MimeLimits, parse_content_type
from mailsleuth.parse.rfc2047 import decode_header_value
from mailsleuth.parse.tnef import build_tnef, is_tnef, read_tnef

HEAD = b"From: a@example.com\nTo: b@example.org\nSubject: s\nMIME-Version: 1.0\n"


def nested(levels: int) -> bytes:
    out = [HEAD + b'Content-Type: multipart/mixed; boundary="b0"\n\n']
    for i in range(1, levels):
        out.append(f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n'.encode())
    out.append(f"--b{levels - 1}\nContent-Type: text/plain\n\ndeep\n".encode())
    out.extend(f"--b{i}--\n".encode() for i in range(levels - 1, -1, -1))
    return b"".join(out)


def test_nested_multiparts_and_paths():
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="outer"\n\n--outer\n'
           b'Content-Type: multipart/alternative; boundary="inner"\n\n--inner\nContent-Type: text/plain\n\nplain\n'
           b"--inner\nContent-Type: text/html\n\n<p>html</p>\n--inner--\n--outer\n"
           b'Content-Type: application/octet-stream; name="a.bin"\nContent-Transfer-Encoding: base64\n\n'
           + base64.encodebytes(b"\x00\x01binary") + b"--outer--\n")
    root = parse_message(raw).mime
    leaves = [(p.path, p.content_type, p.payload) for p in root.walk() if not p.children]
    assert leaves == [("1.1", "text/plain", b"plain"), ("1.2", "text/html", b"<p>html</p>"),
                      ("2", "application/octet-stream", b"\x00\x01binary")]
    assert next(p for p in root.walk() if p.path == "2").filename == "a.bin"


def test_boundary_prefix_of_another_is_not_a_delimiter():
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
           b'Content-Type: multipart/alternative; boundary="bb"\n\n--bb\nContent-Type: text/plain\n\none\n--bb--\n'
           b"--b\nContent-Type: text/plain\n\ntwo\n--b--\n")
    root = parse_message(raw).mime
    assert [p.payload for p in root.walk() if not p.children] == [b"one", b"two"]


def test_attached_message_parsed_as_child_even_when_base64():
    inner = b"From: c@example.net\nSubject: inner\nContent-Type: text/plain\n\ninner body\n"
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: message/rfc822\n'
           b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(inner) + b"--b--\n")
    root = parse_message(raw).mime
    rfc = next(p for p in root.walk() if p.content_type == "message/rfc822")
    assert rfc.children[0].payload.startswith(b"inner body")
    assert any("not allowed" in d for d in rfc.defects)


def test_quoted_printable_and_charset():
    raw = (HEAD + b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
           b"caf=E9 cr=E8me=\n suite\n")
    part = parse_message(raw).mime
    assert part.text() == "café crème suite\n"


@pytest.mark.parametrize("text, codec", [
    ("パスワードの有効期限が切れます。こちらから更新してください。", "shift_jis"),
    ("パスワードの有効期限が切れます。こちらから更新してください。", "euc_jp"),
    ("パスワードの有効期限が切れます。こちらから更新してください。", "iso2022_jp"),
    ("귀하의 계정이 일시 정지되었습니다. 아래 링크를 클릭하여 확인하십시오.", "euc_kr"),
    ("您的账户已被暂停，请点击下面的链接进行验证以恢复正常使用。", "gb2312"),
    ("Votre compte a été suspendu, vérifiez vos données à côté.", "cp1252"),
])
def test_undeclared_charsets_guessed(text, codec):
    assert decode_bytes(text.encode(codec), None) == text


def test_wrong_declaration_falls_back():
    text = "会議の資料を添付します。ご確認ください。"
    assert decode_bytes(text.encode("shift_jis"), "utf-8") == text
    assert decode_bytes(text.encode("euc_jp"), "us-ascii") == text
    assert decode_bytes("naïve".encode(), "x-no-such-charset") == "naïve"
    assert guess_codec(b"plain ascii") == "utf-8"


def test_rfc2047_split_multibyte_words():
    word = "テスト".encode()
    a, b = base64.b64encode(word[:4]).decode(), base64.b64encode(word[4:]).decode()
    assert decode_header_value(f"=?utf-8?B?{a}?= =?utf-8?B?{b}?=") == "テスト"


def test_rfc2231_parameters():
    ctype, params = parse_content_type("application/pdf; name*0*=utf-8''%E6%9C%AC; name*1=.pdf")
    assert ctype == "application/pdf" and dict(params)["name"] == "本.pdf"


def test_depth_limit_is_a_defect():
    msg = parse_message(nested(1000))
    defects = [d for p in msg.mime.walk() for d in p.defects]
    assert any("deeper than 30" in d for d in defects)
    assert max(len(p.path.split(".")) for p in msg.mime.walk()) <= 31


def test_part_count_limit():
    parts = b"".join(b"--b\nContent-Type: text/plain\n\nx\n" for _ in range(50))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n' + parts + b"--b--\n"
    msg = parse_message(raw, limits=ParseLimits(mime=MimeLimits(max_parts=10)))
    assert sum(1 for _ in msg.mime.walk()) == 10
    assert any("more than 10 MIME parts" in d for d in msg.mime.defects)


def test_decoded_size_limit_truncates():
    raw = HEAD + b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + \
        base64.encodebytes(b"A" * 100_000)
    part = parse_message(raw, limits=ParseLimits(mime=MimeLimits(max_part_bytes=1000))).mime
    assert part.truncated and len(part.payload) == 1000
    assert any("larger than the limit" in d for d in part.defects)


def test_truncated_multipart_reported():
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\ncut he'
    msg = parse_message(raw)
    assert any("no closing boundary" in d for d in msg.mime.defects)


def test_tnef_round_trip_and_damage():
    data = build_tnef([("invoice.exe", b"MZ\x90\x00payload"), ("notes.txt", b"hello")])
    assert is_tnef(data)
    res = read_tnef(data)
    assert [(a.name, a.data) for a in res.attachments] == [("invoice.exe", b"MZ\x90\x00payload"),
                                                           ("notes.txt", b"hello")]
    assert res.defects == []
    cut = read_tnef(data[:-10])
    assert cut.defects and cut.attachments[0].name == "invoice.exe"
    assert read_tnef(b"not tnef at all").defects
