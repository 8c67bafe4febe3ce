"""Fourth performance pass (message parse, Received chain): every shortcut against the code it stands in for."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.model.text import decode_bytes
from mailsleuth.parse import message, rfc2047
from mailsleuth.parse.rfc2047 import decode_header_value

# ---- parse.rfc2047: the loose split and the one-run decoding vs _EW.split and the word loop -------

_EW = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")


def _decode_split_loop(value: str, defects: list[str] | None = None) -> str:
    """decode_header_value as it was: _EW.split, then word by word."""
    if "=?" not in value:
        return value
    pieces = _EW.split(value, maxsplit=rfc2047._MAX_WORDS)
    if defects is not None and len(pieces) > 4 * rfc2047._MAX_WORDS and _EW.search(pieces[-1]) is not None:
        defects.append("too many encoded words; the rest left encoded")
    out = [pieces[0]]
    run: list[bytes] = []
    run_charset = ""
    last = len(pieces) - 4
    for i in range(1, len(pieces), 4):
        charset = pieces[i].lower()
        data = pieces[i + 2]
        raw = rfc2047._b_decode(data) if pieces[i + 1] in "bB" else rfc2047._q_decode(data)
        if charset != run_charset and run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
        run_charset = charset
        run.append(raw)
        after = pieces[i + 3]
        if i == last or (after and after.strip(" \t\r\n")):
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
            out.append(after)
    return "".join(out)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# Words as machine-written long fields have them (whole groups of four letters), and the damage
# that must send the value back to the word loop: padding, junk, white space, odd lengths, 8-bit.
_DATA = [_b64("abc"), _b64("abcdef"), _b64("é€x"), _b64("ab"), "QUJD", "QUJDRA", "QUJDRA==", "QU JD", "QUJ*",
         "QUJ\u00e9", "", "Q", "QUJDR", "QU=D", "-_Q0", "QUJD\u3000", "w6", "qcOp"]
_CHARSETS = ["utf-8", "UTF-8", "iso-8859-1", "utf-8*en", "*x", "ut f-8", "us-ascii"]
_ENCS = ["B", "b", "B", "Q", "x"]
_GAPS = [" ", "  ", "\t", "\r\n ", "", " x ", "\u3000", "\x0c", "\u00a0"]
_EDGES = ["", " ", "\t", "Re: ", "x", " \u00e9 "]


@st.composite
def _word_runs(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(_EDGES))]
    for n in range(draw(st.integers(1, 8))):
        if n:
            parts.append(draw(st.sampled_from(_GAPS)) if draw(st.integers(0, 3)) else " ")
        charset = draw(st.sampled_from(_CHARSETS)) if draw(st.integers(0, 3)) == 0 else "utf-8"
        enc = draw(st.sampled_from(_ENCS)) if draw(st.integers(0, 3)) == 0 else "B"
        data = draw(st.sampled_from(_DATA)) if draw(st.integers(0, 2)) == 0 else "QUJDREVG"
        parts.append(f"=?{charset}?{enc}?{data}?=")
    parts.append(draw(st.sampled_from(_EDGES)))
    return "".join(parts)


@settings(max_examples=3000)
@given(_word_runs())
def test_decode_header_value_equals_the_split_loop_on_word_runs(value: str) -> None:
    d1: list[str] = []
    d2: list[str] = []
    assert decode_header_value(value, d1) == _decode_split_loop(value, d2)
    assert d1 == d2


@settings(max_examples=1500)
@given(st.text(alphabet=st.sampled_from("=?bBqQ*xé \t\r\n\u3000\u00a0AQ+/"), max_size=80))
def test_loose_split_equals_ew_split(value: str) -> None:
    assert rfc2047._split_words(value) == _EW.split(value, maxsplit=rfc2047._MAX_WORDS)
    assert decode_header_value(value) == _decode_split_loop(value)


def test_loose_split_word_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rfc2047, "_MAX_WORDS", 3)
    for n in (2, 3, 4, 6):
        value = " ".join(["=?utf-8?B?QUJD?="] * n) + " =?utf-8?b?a b?= tail"
        assert rfc2047._split_words(value) == _EW.split(value, maxsplit=3)
        d1: list[str] = []
        d2: list[str] = []
        assert decode_header_value(value, d1) == _decode_split_loop(value, d2)
        assert d1 == d2


def test_one_run_takes_the_long_machine_written_fields() -> None:
    words = [_b64("0123456789ab" * 3)[i:i + 16] for i in range(0, 48, 16)]
    value = "\t" + "\r\n ".join(f"=?utf-8?B?{w}?=" for w in words) + " "
    assert rfc2047._one_base64_run(rfc2047._split_words(value)) == "\t" + "0123456789ab" * 3 + " "
    assert decode_header_value(value) == _decode_split_loop(value)
    padded = value.replace(words[0], "QQ==")
    assert rfc2047._one_base64_run(rfc2047._split_words(padded)) is None  # padding: the word loop decides


def test_corpus_header_values_as_before(corpus_dir) -> None:
    seen = 0
    for path in sorted(corpus_dir.glob("*/*.eml"))[:200]:
        msg = message.parse_message(path.read_bytes())
        for h in msg.headers:
            unfolded = h.raw.replace("\r\n", "\n").replace("\n", "")
            if "=?" in unfolded:
                seen += 1
                assert decode_header_value(unfolded) == _decode_split_loop(unfolded), (path, h.name)
    assert seen > 50


# ---- parse.message: the control-character test --------------------------------------------------

_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f]")


@settings(max_examples=1500)
@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=40))
def test_has_ctrl_equals_the_expression(value: str) -> None:
    assert message._has_ctrl(value) == (_CTRL.search(value) is not None)
    ascii_value = value.encode("ascii", "ignore").decode("ascii")
    assert message._has_ctrl(ascii_value) == (_CTRL.search(ascii_value) is not None)


# ---- parse.received: TLS key=value searches started where the key is ------------------------------

@settings(max_examples=2000)
@given(st.lists(st.sampled_from(["cipher=", "CIPHER=", "bits=", "Bits=", "x", "_", " ", "1", "A", ",", "(",
                                  "\u017f", "\u212a", "é", "ci", "pher="]), max_size=12).map("".join))
def test_search_from_equals_the_search(comment: str) -> None:
    from mailsleuth.parse import received

    low = comment.lower()
    for rx, word in ((received._TLS_CIPHER_KV, "cipher="), (received._TLS_BITS_KV, "bits=")):
        got = received._search_from(rx, comment, low, word)
        want = rx.search(comment)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups())), comment
