"""Attachment analysis without opening anything: names, sniffed types, hashes, archives, Office
macros (oletools), PDF active content, HTML forms. Every read is bounded; nothing raises.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

from mailsleuth.body.data import MagicType, decoys, extension_index, magic_types
from mailsleuth.model.body import Archive, ArchiveMember

_MAX_ARCHIVE_LISTED = 200  # members kept in the artifact (all are counted)
_PDF_SCAN_BYTES = 8 * 1024 * 1024
_OFFICE_SCAN_BYTES = 20 * 1024 * 1024
_PDF_NAME = re.compile(rb"/(?:[A-Za-z]|#[0-9A-Fa-f]{2}){2,40}")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_KEYS = {b"/JS": "JS", b"/JavaScript": "JavaScript", b"/Launch": "Launch", b"/OpenAction": "OpenAction",
             b"/AA": "AA", b"/EmbeddedFile": "EmbeddedFile", b"/RichMedia": "RichMedia", b"/SubmitForm": "SubmitForm",
             b"/XFA": "XFA", b"/URI": "URI"}
_PDF_URI = re.compile(rb"/URI\s*\(([^)]{1,2048})\)")
_OOXML_DIRS = ("word/", "xl/", "ppt/")


def hashes(data: bytes) -> tuple[str, str, str]:
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> MagicType | None:
    """The type the content starts with (data/body/magic.toml), or None."""
    for t in magic_types():
        if t.magic:
            if data[t.offset : t.offset + len(t.magic)] == t.magic:
                return t
        elif t.text_prefixes:
            head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
            if any(head.startswith(p.encode()) for p in t.text_prefixes):
                return t
    return None


def clean_name(name: str) -> str:
    """A file name with bidirectional and invisible format characters made visible."""
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) == "Cf" else c for c in name)


@dataclass(frozen=True, slots=True)
class NameInfo:
    extension: str
    groups: tuple[str, ...]
    double_extension: bool
    disguised: bool  # bidi override or similar in the name


def name_info(name: str) -> NameInfo:
    disguised = any(unicodedata.category(c) == "Cf" for c in name)
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")
    base = visible.strip().rstrip(". ").lower()
    parts = [p.strip() for p in base.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].split(".")]
    ext = parts[-1] if len(parts) > 1 else ""
    groups = extension_index().get(ext, ()) if ext else ()
    double = False
    if len(parts) > 2 and groups:
        prev = parts[-2]
        double = prev in decoys()["extensions"]
    if disguised and not groups:
        # "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf": the real extension is still the last one.
        pass
    return NameInfo(extension=ext, groups=tuple(groups), double_extension=double, disguised=disguised)


@dataclass(slots=True)
class ArchiveLimits:
    max_members: int = 2000
    max_ratio: int = 100
    max_total: int = 200 * 1024 * 1024


def list_zip(data: bytes, limits: ArchiveLimits) -> Archive:
    """List a zip's members from its central directory; never decompress. Bombs are judged from
    the declared sizes (member count, total size, compression ratio)."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return Archive(kind="zip", problems=("unreadable zip archive",))
    members: list[ArchiveMember] = []
    total = 0
    compressed = 0
    count = 0
    encrypted = False
    try:
        for info in zf.infolist():
            count += 1
            if count > limits.max_members:
                problems.append(f"more than {limits.max_members} members (archive bomb?)")
                break
            enc = bool(info.flag_bits & 0x1)
            encrypted = encrypted or enc
            total += max(0, info.file_size)
            compressed += max(0, info.compress_size)
            if len(members) < _MAX_ARCHIVE_LISTED:
                members.append(ArchiveMember(name=clean_name(info.filename)[:300], size=info.file_size,
                                             compressed=info.compress_size, encrypted=enc))
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        problems.append("damaged zip directory")
    finally:
        zf.close()
    if total > limits.max_total:
        problems.append(f"declared uncompressed size {total} bytes exceeds {limits.max_total} (archive bomb?)")
    ratio = total / compressed if compressed else 0.0
    if compressed and ratio > limits.max_ratio and total > 1024 * 1024:
        problems.append(f"compression ratio {ratio:.0f}:1 exceeds {limits.max_ratio}:1 (archive bomb?)")
    return Archive(kind="zip", members=tuple(members), member_count=count, total_size=total, encrypted=encrypted,
                   problems=tuple(problems))


def zip_member(data: bytes, name: str, cap: int) -> bytes | None:
    """One member's bytes when it is small enough (declared and actual), else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo(name)
            if info.file_size > cap or info.flag_bits & 0x1:
                return None
            with zf.open(info) as fh:
                out = fh.read(cap + 1)
            return out if len(out) <= cap else None
    except Exception:
        return None


def is_ooxml(archive: Archive) -> bool:
    names = [m.name for m in archive.members]
    return "[Content_Types].xml" in names and any(n.startswith(_OOXML_DIRS) for n in names)


def office_macros(data: bytes, name: str) -> dict[str, Any]:
    """{"macros": bool, "autoexec": [...], "suspicious": [...]} by oletools' olevba (bounded)."""
    out: dict[str, Any] = {"macros": False}
    if len(data) > _OFFICE_SCAN_BYTES:
        out["error"] = "too large to scan for macros"
        return out
    logging.getLogger("olevba").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from oletools.olevba import VBA_Parser

        vba = VBA_Parser(name or "attachment", data=data, relaxed=True, disable_pcode=True)
    except Exception as exc:
        out["error"] = f"not an Office file olevba can read ({type(exc).__name__})"
        return out
    try:
        if vba.detect_vba_macros():
            out["macros"] = True
            auto: list[str] = []
            susp: list[str] = []
            try:
                for kind, keyword, _desc in vba.analyze_macros()[:200]:
                    if kind == "AutoExec" and keyword not in auto:
                        auto.append(str(keyword)[:60])
                    elif kind == "Suspicious" and keyword not in susp:
                        susp.append(str(keyword)[:60])
            except Exception:
                pass
            out["autoexec"] = auto[:20]
            out["suspicious"] = susp[:20]
    except Exception as exc:
        out["error"] = f"macro scan failed ({type(exc).__name__})"
    finally:
        with contextlib.suppress(Exception):
            vba.close()
    return out


def office_encrypted(data: bytes) -> bool:
    try:
        import msoffcrypto  # type: ignore[import-untyped]

        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:
        return False


@dataclass(slots=True)
class PdfScan:
    keywords: dict[str, int] = field(default_factory=dict)
    uris: list[str] = field(default_factory=list)
    obfuscated_names: int = 0


def scan_pdf(data: bytes) -> PdfScan:
    """Count active-content keywords (hex-escaped names decoded) in the first bytes of a PDF."""
    out = PdfScan()
    chunk = data[:_PDF_SCAN_BYTES]
    for m in _PDF_NAME.finditer(chunk):
        token = m.group(0)
        if b"#" in token:
            token = _PDF_HEX.sub(lambda h: bytes([int(h.group(1), 16)]), token)
            if token in _PDF_KEYS:
                out.obfuscated_names += 1
        key = _PDF_KEYS.get(token)
        if key:
            out.keywords[key] = out.keywords.get(key, 0) + 1
    if "URI" in out.keywords:
        for m in _PDF_URI.finditer(chunk):
            if len(out.uris) >= 200:
                break
            out.uris.append(m.group(1).decode("latin-1", errors="replace"))
    return out
