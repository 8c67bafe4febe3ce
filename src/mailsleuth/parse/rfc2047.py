"""RFC 2047 encoded-word decoding in any charset, tolerant of real-world damage.

Handles: adjacent encoded words separated by white space (joined), words split in the middle of a
multi-byte character (bytes of adjacent words with the same charset are joined before decoding),
ISO-2022-JP / Shift_JIS / mislabelled charsets (via mailsleuth.model.text.decode_bytes),
lower-case ``b``/``q``, missing padding, and raw 8-bit header bytes (UTF-8, else CP932, else CP1252).
"""

from __future__ import annotations

import binascii
import re

from mailsleuth.model.text import decode_bytes

_EW = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_MAX_WORDS = 2000


def _q_decode(data: str) -> bytes:
    """RFC 2047 'Q': '_' is a space, '=XX' a byte; anything else is kept (C speed via binascii)."""
    return binascii.a2b_qp(data.encode("latin-1", errors="replace"), header=True)


def _b_decode(data: str) -> bytes:
    # ``data`` holds no white space (see _EW); a2b_base64 ignores characters outside the alphabet and
    # refuses non-ASCII text, as base64.b64decode(validate=False) does.
    try:
        return binascii.a2b_base64(data + "=" * (-len(data) % 4))
    except ValueError:  # binascii.Error included
        return b""


def decode_header_value(value: str, defects: list[str] | None = None) -> str:
    """Decode encoded words in an (unfolded) header value.

    Adjacent encoded words (only white space between them) are joined; bytes of consecutive words
    in the same charset are decoded together, so a character split across two words survives."""
    if "=?" not in value:
        return value
    # [text, charset, encoding, data, text, charset, ...]: the text before each word, then its parts.
    pieces = _split_words(value)
    if defects is not None and len(pieces) > 4 * _MAX_WORDS and _EW.search(pieces[-1]) is not None:
        defects.append("too many encoded words; the rest left encoded")
    one_run = _one_base64_run(pieces)
    if one_run is not None:
        return one_run
    out = [pieces[0]]
    run: list[bytes] = []  # decoded bytes of the current run of words in one charset
    run_charset = ""
    last = len(pieces) - 4
    for i in range(1, len(pieces), 4):
        charset = pieces[i].lower()
        data = pieces[i + 2]
        raw = _b_decode(data) if pieces[i + 1] in "bB" else _q_decode(data)
        if charset != run_charset and run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
        run_charset = charset
        run.append(raw)
        after = pieces[i + 3]
        # White space between two words disappears; other text ends the run. The text after the
        # last word is kept as it is.
        if i == last or (after and after.strip(" \t\r\n")):
            out.append(decode_bytes(b"".join(run), run_charset))
            run = []
            out.append(after)
    return "".join(out)


# _EW without white space in its classes (each character is then a cheap test; long machine-written
# fields hold thousands). It matches where _EW does, with the same extent, and also where a word's
# charset or data holds white space or its charset a "*language": _split_words checks for those.
_EW_LOOSE = re.compile(r"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=")
# Bytes that are not white space for str.split() (nor re's \s) in ASCII text.
_NOT_SPACE = bytes(b for b in range(128) if not chr(b).isspace())


def _split_words(value: str) -> list[str]:
    """``_EW.split(value, maxsplit=_MAX_WORDS)``. The loose expression finds the same words when
    none of the ones it found holds white space or a ``*`` in its charset: each word _EW would find
    is found there by the loose one too, which therefore never skips one (it looks from the left);
    and where the words it found are all words for _EW, _EW finds them in the same places."""
    pieces = _EW_LOOSE.split(value, maxsplit=_MAX_WORDS)
    if len(pieces) > 1:
        charsets = "".join(pieces[1::4])
        inner = charsets + "".join(pieces[3::4])
        if "*" in charsets or not inner.isascii() or inner.encode("ascii").translate(None, _NOT_SPACE):
            return _EW.split(value, maxsplit=_MAX_WORDS)
    return pieces


def _one_base64_run(pieces: list[str]) -> str | None:
    """What decode_header_value makes of ``pieces`` when they are two or more base64 words in one
    charset with only white space between them, and every word but the last holds whole groups of
    four base64 letters (no padding, no other character: a strict decoder accepts them): then the
    bytes of those words decoded one by one, joined, are those of their data joined, decoded at
    once. None for other pieces."""
    if len(pieces) < 9:
        return None
    data = pieces[3::4]
    if ("".join(pieces[2::4]).strip("bB") or "".join(pieces[4:-1:4]).strip(" \t\r\n")
            or any(n % 4 for n in set(map(len, data[:-1])))):
        return None
    charsets = set(pieces[1::4])  # written alike (the loop compares them lower-cased)
    if len(charsets) != 1:
        return None
    try:
        raw = binascii.a2b_base64("".join(data[:-1]), strict_mode=True)
    except ValueError:  # binascii.Error included: a character outside the alphabet, padding
        return None
    return pieces[0] + decode_bytes(raw + _b_decode(data[-1]), charsets.pop().lower()) + pieces[-1]


def decode_raw_header_bytes(data: bytes) -> str:
    """Header bytes to str: ASCII fast path; 8-bit bytes as UTF-8, else CP932, else CP1252."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        return decode_bytes(data, None)
