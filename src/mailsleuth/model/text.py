"""Byte-to-text decoding shared by the model and the parsers (no project imports)."""

from __future__ import annotations

import codecs

# Charset labels seen mislabelled or aliased in real mail, mapped to the codec that decodes them.
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-2022-jp-2": "iso2022_jp_2",
    "euc-jp": "euc_jis_2004",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "tis-620": "cp874",
}


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes by the declared charset; when that fails or is absent, try UTF-8, then
    Japanese encodings (ISO-2022-JP escapes, CP932), then CP1252. Never raises."""
    if not data:
        return ""
    tried: list[str] = []
    declared = codec_for(charset)
    if declared:
        tried.append(declared)
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    if b"\x1b$" in data or b"\x1b(" in data:
        try:
            return data.decode("iso2022_jp_ext")
        except UnicodeDecodeError:
            pass
    for codec in ("utf-8", "cp932", "euc_jis_2004"):
        if codec in tried:
            continue
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode(declared or "cp1252", errors="replace")
