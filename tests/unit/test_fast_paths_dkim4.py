"""Fourth performance pass on DKIM re-verification: each shortcut against the code it stands in for.

- the bare-LF search of :func:`rfc822.crlf_lines` against the one-pass CRLF pattern it replaced
  (and against the regex definition of the whole function), on generated texts and corpus-like bodies.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.auth import rfc822

# The one-pass "CRLF throughout" pattern that the bare-LF search replaced: text whose every LF
# follows a CR (lines ending CRLF, then a last line without LF).
_CRLF_THROUGHOUT = re.compile(rb"(?:[^\n]*+(?<=\r)\n)*+[^\n]*+")


def _crlf_lines_before(text: bytes) -> bytes:
    """:func:`rfc822.crlf_lines` before the bare-LF search."""
    if b"\n" not in text:
        return text
    if b"\r" not in text:
        return text.replace(b"\n", b"\r\n")
    if _CRLF_THROUGHOUT.fullmatch(text) is not None:
        return text
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# -- CRLF test -------------------------------------------------------------------------------------------

@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n", b"\n\n", b"\xff"]),
                max_size=40))
def test_bare_lf_search_agrees_with_the_crlf_pattern(pieces: list[bytes]) -> None:
    text = b"".join(pieces)
    assert (rfc822._BARE_LF.search(text) is None) == (_CRLF_THROUGHOUT.fullmatch(text) is not None)
    assert rfc822.crlf_lines(text) == _crlf_lines_before(text) == b"\r\n".join(re.split(b"\r?\n", text))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_crlf_lines_on_any_bytes(text: bytes) -> None:
    assert rfc822.crlf_lines(text) == _crlf_lines_before(text)


def test_crlf_lines_on_message_like_bodies() -> None:
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n"
    for body in (line * 400, line * 400 + b"tail", b"\n" + line * 3, line * 200 + b"bare\n" + line * 200,
                 line.replace(b"\r\n", b"\n") * 50, b"\r\n" * 100, line * 10 + b"\r", b"\r\n\n", b"x\n"):
        assert rfc822.crlf_lines(body) == _crlf_lines_before(body)
        # A body already CRLF throughout comes back as the same object (no copy).
        if _CRLF_THROUGHOUT.fullmatch(body) is not None:
            assert rfc822.crlf_lines(body) is body
