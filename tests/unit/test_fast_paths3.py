"""Third performance pass (parse, model, engine core): every shortcut against the code it stands in for."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import importlib
import pkgutil
import re
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailsleuth.model as model_pkg
from mailsleuth.model.fastinit import fast_init
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding, Severity
from mailsleuth.model.message import Header, Message, MimePart
from mailsleuth.model.text import decode_bytes
from mailsleuth.parse import message, mime
from mailsleuth.parse.message import ParseLimits, parse_message
from mailsleuth.parse.mime import MimeLimits, parse_mime
from mailsleuth.parse.rfc2047 import decode_header_value, decode_raw_header_bytes

# ---- model.fastinit: the generated __init__ vs the one dataclasses writes -------------------------


def _model_classes() -> list[type]:
    out = []
    for info in pkgutil.iter_modules(model_pkg.__path__):
        mod = importlib.import_module(f"mailsleuth.model.{info.name}")
        out.extend(obj for obj in vars(mod).values()
                   if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == mod.__name__)
    return out


MODEL_CLASSES = _model_classes()


def test_every_model_dataclass_has_the_fast_init() -> None:
    assert len(MODEL_CLASSES) > 40
    for cls in MODEL_CLASSES:
        assert cls.__init__.__code__.co_filename.startswith("<fast_init"), cls


def _twin(cls: type) -> type:
    """The same fields in a plain frozen dataclass (its __init__ written by dataclasses)."""
    fields = [(f.name, typing.Any, dataclasses.field(default=f.default, default_factory=f.default_factory,
                                                     init=f.init, compare=f.compare))
              for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(f"Ref{cls.__name__}", fields, frozen=True, slots=True, kw_only=True)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_fast_init_sets_what_the_dataclass_init_sets(cls: type) -> None:
    ref = _twin(cls)
    required = {f.name: object() for f in dataclasses.fields(cls)
                if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    for kwargs in (required, {**required, **{f.name: f"v-{f.name}" for f in dataclasses.fields(cls) if f.init}}):
        a, b = cls(**kwargs), ref(**kwargs)
        assert type(a) is cls
        for f in dataclasses.fields(cls):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            assert va == vb and type(va) is type(vb), f.name
            if f.default_factory is not dataclasses.MISSING and f.name not in kwargs:
                assert va is not getattr(cls(**kwargs), f.name)  # a fresh value each time
        name = dataclasses.fields(cls)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, name, 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(a, name)
    with pytest.raises(TypeError):
        cls(**required, no_such_field=1)
    if required:
        with pytest.raises(TypeError):
            cls()


def test_fast_init_objects_compare_hash_replace_and_repr_as_before() -> None:
    e = Evidence(kind=EvidenceKind.HEADER, ref="From[0]", value="x")
    assert e == Evidence(kind=EvidenceKind.HEADER, ref="From[0]", value="x")
    assert hash(e) == hash(Evidence(kind=EvidenceKind.HEADER, ref="From[0]", value="x"))
    assert repr(e) == "Evidence(kind=<EvidenceKind.HEADER: 'header'>, ref='From[0]', value='x')"
    assert dataclasses.replace(e, value="y").value == "y"
    f = Finding(code="X", severity=Severity.LOW, title="t", explanation="e", check="c", evidence=(e,))
    assert f.facts == {} and f.area == ""
    assert Finding(code="X", severity=Severity.LOW, title="t", explanation="e", check="c").facts is not f.facts
    part = MimePart(path="", content_type="text/plain", payload=b"abc", charset="utf-8")
    assert part.text() == "abc" and part._text == ["abc"]
    msg = Message(kind=message.InputKind.EML, raw=b"", headers=(), header_bytes=b"", body_bytes=b"", has_body=False,
                  crlf=False)
    assert msg.memo("k", lambda: 1) == 1 and msg._by_name == {}


def test_fast_init_on_a_subclass_stores_the_slow_way() -> None:
    class Tagged(Header):
        __slots__ = ("tag",)

    h = Tagged(name="A", raw="b", value="b", index=0, occurrence=0)
    assert type(h) is Tagged and h.name == "A" and h.defects == ()


def test_fast_init_refuses_other_shapes() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True, kw_only=True)
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Positional:
        a: int

    for cls in (NoSlots, NotFrozen, Positional, int):
        with pytest.raises(TypeError):
            fast_init(cls)


# ---- parse.rfc2047.decode_header_value: one split vs the word-by-word loop ----------------------

_EW = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")


def _decode_reference(value: str, defects: list[str] | None = None, max_words: int = 2000) -> str:
    """The former decoder: walk the encoded words, joining the bytes of adjacent words in one charset."""
    out: list[str] = []
    pos = 0
    charset: str | None = None
    pending = b""
    for count, m in enumerate(_EW.finditer(value), 1):
        if count > max_words:
            if defects is not None:
                defects.append("too many encoded words; the rest left encoded")
            break
        between = value[pos:m.start()]
        if between and not (re.fullmatch(r"[ \t\r\n]+", between) and charset is not None):
            if charset is not None:
                out.append(decode_bytes(pending, charset))
                charset, pending = None, b""
            out.append(between)
        data = m.group(3)
        if m.group(2) in "bB":
            try:
                raw = base64.b64decode(data.strip() + "=" * (-len(data.strip()) % 4), validate=False)
            except (binascii.Error, ValueError):
                raw = b""
        else:
            raw = binascii.a2b_qp(data.encode("latin-1", errors="replace"), header=True)
        cs = m.group(1).lower()
        if charset is not None and charset != cs:
            out.append(decode_bytes(pending, charset))
            pending = b""
        charset = cs
        pending += raw
        pos = m.end()
    if charset is not None:
        out.append(decode_bytes(pending, charset))
    out.append(value[pos:])
    return "".join(out)


_WORDS = ["=?utf-8?B?w6k=?=", "=?UTF-8?q?caf=C3=A9?=", "=?utf-8?b?4oKs?=", "=?utf-8?B?4o?=", "=?utf-8?B?Kr?=",
          "=?iso-8859-1?Q?=E9t=E9?=", "=?us-ascii?Q?a_b?=", "=?utf-8*en?Q?x?=", "=?utf-8?B?w6?=", "=?utf-8?B??=",
          "=?utf-8?Q?=?=", "=?utf-8?B?\u00e9?=", "=?shift_jis?B?g2WDWINn?=", "=?bogus?Q?z?=", "=?x?Y?z?=", "=?"]
_BETWEEN = ["", " ", "\t", "  ", " x ", "\r", "x", "\u00e9", "?=", "\u3000"]


@st.composite
def _encoded_values(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 7))):
        parts.append(draw(st.sampled_from(_BETWEEN)))
        parts.append(draw(st.sampled_from(_WORDS)))
    parts.append(draw(st.sampled_from(_BETWEEN)))
    return "".join(parts)


@settings(max_examples=1500)
@given(_encoded_values())
def test_decode_header_value_equals_the_word_loop(value: str) -> None:
    d1: list[str] = []
    d2: list[str] = []
    assert decode_header_value(value, d1) == _decode_reference(value, d2)
    assert d1 == d2


@given(st.text(max_size=60))
def test_decode_header_value_equals_the_word_loop_any_text(value: str) -> None:
    assert decode_header_value(value) == _decode_reference(value)


def test_decode_header_value_word_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from mailsleuth.parse import rfc2047

    monkeypatch.setattr(rfc2047, "_MAX_WORDS", 3)
    for n in (2, 3, 4, 6):
        value = " ".join(["=?utf-8?q?a?="] * n) + " tail"
        d1: list[str] = []
        d2: list[str] = []
        assert decode_header_value(value, d1) == _decode_reference(value, d2, max_words=3)
        assert d1 == d2 == (["too many encoded words; the rest left encoded"] if n > 3 else [])


# ---- parse.message: the one-pass header reader vs split_headers, the values, the MIME root -------

_FIELD_NAMES = (b"From", b"Subject", b"Content-Type", b"content-transfer-encoding", b"Content-ID", b"X-A", b"B c",
                b"Content-Disposition", b"")
_VALUE_BITS = (b"a", b" ", b"\t", b"=?utf-8?q?=01x?=", b"=?utf-8?b?w6k=?=", b"\x01", b"\x0b", b"\x1c", b"\r",
               b"\xe9", b"\xc3\xa9", b"multipart/mixed; boundary=\"b\"", b"text/plain", b"base64", b";", b"\x00")


@st.composite
def _header_blocks(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.integers(0, 6))
        body = b"".join(draw(st.lists(st.sampled_from(_VALUE_BITS), max_size=5)))
        if kind <= 3:
            name = draw(st.sampled_from(_FIELD_NAMES))
            lines.append(name + draw(st.sampled_from((b":", b" :", b"\t: ", b":  "))) + body)
        elif kind <= 5:
            lines.append(draw(st.sampled_from((b" ", b"\t"))) + body)
        else:
            lines.append(body)
    sep = draw(st.sampled_from((b"\n", b"\r\n")))
    return sep.join(lines) + draw(st.sampled_from((b"", b"\r")))


@settings(max_examples=1500)
@given(_header_blocks())
def test_read_fields_equals_split_headers(block: bytes) -> None:
    limits = ParseLimits()
    d1: list[str] = []
    d2: list[str] = []
    fast, text = message._read_fields(block, limits, d1)
    slow = [(name, decode_raw_header_bytes(v)) for name, v in message.split_headers(block, limits, d2)]
    assert fast == slow and d1 == d2
    if text is not None:  # the one-pass reader took it: every line is a field or a continuation
        assert message._split_text(text, limits) is not None


@given(st.binary(max_size=80))
def test_read_fields_equals_split_headers_any_bytes(block: bytes) -> None:
    limits = ParseLimits(max_headers=4)
    fast, _text = message._read_fields(block, limits, [])
    assert fast == [(name, decode_raw_header_bytes(v)) for name, v in message.split_headers(block, limits, [])]


_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f]")


def _value_reference(raw: str) -> tuple[str, tuple[str, ...]]:
    """A header's value and defects as read before: unfold, decode, always look for controls."""
    defects: list[str] = []
    unfolded = raw.replace("\r\n", "\n").replace("\n", "")
    value = decode_header_value(unfolded, defects).strip() if "=?" in unfolded else unfolded.strip()
    if _CTRL.search(value):
        value = _CTRL.sub(" ", value)
        defects.append("control characters in the value")
    return value, tuple(defects)


@settings(max_examples=1500)
@given(_header_blocks(), st.sampled_from((b"", b"body\n", b"--b\nContent-Type: text/html\n\n<p>x\n--b--\n")))
def test_parse_message_values_and_mime_root_as_before(block: bytes, body: bytes) -> None:
    data = block + b"\n\n" + body if body else block
    try:
        msg = parse_message(data)
    except Exception as exc:  # refusals (not mail) are InputError, as before
        assert type(exc).__name__ == "InputError"
        return
    for h in msg.headers:
        assert (h.value, h.defects) == _value_reference(h.raw), h
    if msg.mime is not None:
        # The root read from the fields parse_message has vs read again from the header block.
        assert msg.mime == parse_mime(msg.header_bytes, msg.body_bytes, MimeLimits())


def test_mime_root_fields_are_read_from_the_header_block_past_the_line_limit() -> None:
    head = b"".join(b"X-%d: v\n" % i for i in range(mime.MIME_HEAD_LINES)) + b"Content-Type: text/html\n"
    msg = parse_message(head + b"\n<p>hi\n")
    assert msg.mime is not None and msg.mime.content_type == "text/plain"  # the 501st line is not read
    msg = parse_message(head[-24:] + head[:-24] + b"\n<p>hi\n")
    assert msg.mime is not None and msg.mime.content_type == "text/html"


@given(st.lists(st.sampled_from(("text/plain;", " charset=x", "\t\x0bname=\"a b\"", "a\r", "\x1cz\x1c", "", " ")),
                min_size=1, max_size=4))
def test_entity_value_equals_split_part(lines: list[str]) -> None:
    raw = "\n".join(lines).lstrip(" \t")
    block = ("Content-Type: " + raw.replace("\n", "\r\n")).encode("ascii")
    if raw.startswith("\n") or any(line[:1] not in (" ", "\t") for line in raw.split("\n")[1:]):
        return  # not one field with its continuation lines
    fields, _body = mime._split_part(block + b"\n\n")
    assert fields == [("content-type", mime.entity_value(raw))]
