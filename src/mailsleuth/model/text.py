"""Byte-to-text decoding shared by the model and the parsers (no project imports).

Mail declares its charset wrongly or not at all often enough that a declared label is a hint, not
a fact. :func:`decode_bytes` tries the declared charset strictly; when that fails or nothing is
declared it tries UTF-8, then scores the plausible legacy encodings (Japanese Shift_JIS/CP932,
EUC-JP, ISO-2022-JP; Korean EUC-KR/CP949; Chinese GB2312/GBK/GB18030; Western CP1252) by the
scripts the decoded text falls into, and keeps the most plausible. Never raises.
"""

from __future__ import annotations

import codecs

# Charset labels seen mislabelled or aliased in real mail, mapped to the codec that decodes them
# (a superset of the declared one where mail clients really write the superset).
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "csshiftjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-2022-jp-2": "iso2022_jp_2",
    "iso-2022-jp-3": "iso2022_jp_3",
    "csiso2022jp": "iso2022_jp_ext",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "cseucpkdfmtjapanese": "euc_jis_2004",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "x-euc-kr": "cp949",
    "cseuckr": "cp949",
    "iso-2022-kr": "iso2022_kr",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "x-user-defined": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "tis-620": "cp874",
}

_SAMPLE = 65536  # bytes scored when guessing; the winner decodes the whole input


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()[:64]
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _script_counts(text: str) -> tuple[int, int, int, int, int, int, float]:
    """(non-ASCII chars, kana, hangul, han, latin, bad, mean length of non-ASCII runs)."""
    n = kana = hangul = han = latin = bad = 0
    runs = 0
    in_run = False
    for ch in text:
        o = ord(ch)
        if o < 128:
            in_run = False
            continue
        if not in_run:
            runs += 1
            in_run = True
        n += 1
        if 0x3040 <= o <= 0x30FF:
            kana += 1
        elif 0xAC00 <= o <= 0xD7A3:
            hangul += 1
        elif 0x4E00 <= o <= 0x9FFF:
            han += 1
        elif 0xC0 <= o <= 0xFF or o in _CP1252_PUNCT:
            latin += 1
        elif 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or o in (0xA0, 0xA9, 0xAE, 0xB0, 0xB7):
            pass  # CJK punctuation, full-width forms, common symbols: neutral
        else:
            bad += 1  # replacement chars, half-width katakana, jamo, private use, box drawing...
    return n, kana, hangul, han, latin, bad, (n / runs if runs else 0.0)


_CP1252_PUNCT = frozenset(ord(c) for c in "‘’‚“”„–—…•€™‹›")


def _plausibility(codec: str, text: str) -> float:
    n, kana, hangul, han, latin, bad, mean_run = _script_counts(text)
    if n == 0:
        return 1.0
    if codec in ("cp932", "euc_jis_2004"):
        good = kana + han + (0.3 * n if kana > n * 0.05 else 0)
    elif codec == "cp949":
        good = hangul + 0.3 * han + (0.1 * n if hangul and mean_run <= 6 else 0)
    elif codec == "gb18030":
        good = han + (0.05 * n if mean_run > 6 else 0)
    elif codec == "utf-8":
        good = n - bad
    else:  # cp1252
        good = latin
    return (good - 2 * bad) / n


_GUESSES = ("utf-8", "cp932", "euc_jis_2004", "cp949", "gb18030", "cp1252")


def guess_codec(data: bytes) -> str:
    """The most plausible codec for undeclared 8-bit text (see the module docstring)."""
    sample = data[:_SAMPLE]
    if b"\x1b$" in sample or b"\x1b(" in sample:
        try:
            sample.decode("iso2022_jp_ext")
            return "iso2022_jp_ext"
        except UnicodeDecodeError:
            pass
    if sample.isascii():
        return "utf-8"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a character is still UTF-8.
        if exc.start >= len(sample) - 3 and len(data) > len(sample):
            return "utf-8"
    best, best_score = "cp1252", -10.0
    for codec in _GUESSES:
        text = sample.decode(codec, errors="replace")
        score = _plausibility(codec, text)
        if score > best_score + 1e-9:
            best, best_score = codec, score
    return best


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes by the declared charset; when that fails or is absent, guess (never raises)."""
    if not data:
        return ""
    declared = codec_for(charset)
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii")
    codec = guess_codec(data)
    if declared and codec == "cp1252" and declared != "utf-8":
        # Nothing reads better than the declared charset: keep it, with damage marked.
        codec = declared
    try:
        return data.decode(codec, errors="replace")
    except (LookupError, ValueError):  # pragma: no cover - every guess is a stdlib codec
        return data.decode("cp1252", errors="replace")
