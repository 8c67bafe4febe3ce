"""Attachments (``body.attachments``): names, types, hashes, archives, macros, PDF actions, attached
web pages, calendar invitations and winmail.dat contents, examined without opening anything."""

from __future__ import annotations

from typing import Any

from mailsleuth.body.attachments import (
    ArchiveLimits,
    clean_name,
    hashes,
    is_ooxml,
    list_zip,
    name_info,
    office_encrypted,
    office_macros,
    scan_pdf,
    sniff,
)
from mailsleuth.body.data import claimed_families
from mailsleuth.checks.body import _host_of, is_attachment
from mailsleuth.engine import Context, Outcome, check
from mailsleuth.model.body import Attachment, AttachmentsArtifact, HtmlSummary, LinksArtifact
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding
from mailsleuth.model.message import MimePart
from mailsleuth.parse.links import scan_html
from mailsleuth.parse.tnef import is_tnef, read_tnef

MAX_ATTACHMENTS = 200
MAX_QR_IMAGES = 4  # images searched for QR codes per message (decoding costs milliseconds each)
_RISKY_GROUPS = ("executable", "script", "shortcut", "disk-image", "onenote")
_INLINE_TEXT = ("text/plain", "text/html", "text/enriched", "text/richtext")


def _is_candidate(part: MimePart) -> bool:
    if part.children or part.is_multipart or part.content_type.startswith("message/"):
        return False
    return not (part.content_type in _INLINE_TEXT and not is_attachment(part))


class _Run:
    def __init__(self, ctx: Context, links: LinksArtifact | None):
        self.ctx = ctx
        self.links = links
        lim = ctx.config.limits
        self.limits = ArchiveLimits(max_members=lim.archive_max_members, max_ratio=lim.archive_max_ratio,
                                    max_total=lim.archive_max_total)
        self.findings: list[Finding] = []
        self.attachments: list[Attachment] = []
        self.tnef_files = 0
        self.qr_budget = MAX_QR_IMAGES

    def ev(self, att: Attachment, value: str = "") -> Evidence:
        return Evidence(kind=EvidenceKind.ATTACHMENT, ref=f"part {att.part or 'body'}: {att.name[:120]}",
                        value=value or f"{att.declared_type}, {att.size} bytes, sha256 {att.sha256}")

    def add(self, code: str, att: Attachment, value: str = "", **facts: Any) -> None:
        if len(self.findings) < 100:
            self.findings.append(self.ctx.finding(code, [self.ev(att, value)], name=att.name[:120], **facts))

    def analyse(self, name: str, part: str, declared: str, data: bytes, *, inline: bool, source: str) -> None:
        md5, sha1, sha256 = hashes(data)
        sniffed = sniff(data)
        info = name_info(name)
        details: dict[str, object] = {}
        shown = clean_name(name) if name else f"(unnamed {declared})"
        att = Attachment(name=shown, part=part, declared_type=declared, sniffed_type=sniffed.mime if sniffed else None,
                         size=len(data), md5=md5, sha1=sha1, sha256=sha256, extension=info.extension,
                         risk_groups=info.groups, double_extension=info.double_extension, inline=inline,
                         source=source, details=details)
        for g in info.groups:
            if g in _RISKY_GROUPS:
                self.add("ATTACH_RISKY_TYPE", att, group=g, ext=info.extension)
                break
        if "html" in info.groups or (sniffed is not None and sniffed.id == "html" and not inline):
            self.add("ATTACH_HTML", att)
        if "macro-office" in info.groups:
            self.add("ATTACH_MACRO_FORMAT", att, ext=info.extension)
        if info.double_extension:
            self.add("ATTACH_DOUBLE_EXTENSION", att)
        if info.disguised:
            self.add("ATTACH_NAME_DISGUISED", att)
        if sniffed is not None and data:
            by_ext, by_mime = claimed_families(info.extension, declared)
            fam = "archive" if sniffed.family == "zip" and "archive" in (by_ext | by_mime) else sniffed.family
            if (by_ext and fam not in by_ext) or (by_mime and fam not in by_mime):
                self.add("ATTACH_TYPE_MISMATCH", att, declared=f"{declared} (.{info.extension})" if info.extension
                         else declared, sniffed=sniffed.description)
        family = sniffed.family if sniffed else ""
        if family == "zip":
            archive = list_zip(data, self.limits)
            att = _with_archive(att, archive)
            if archive.encrypted:
                self.add("ATTACH_ARCHIVE_ENCRYPTED", att)
            for problem in archive.problems[:2]:
                self.add("ATTACH_ARCHIVE_LIMIT", att, problem=problem)
            risky_members = 0
            for m in archive.members:
                mi = name_info(m.name)
                group = next((g for g in mi.groups if g in (*_RISKY_GROUPS, "html", "macro-office")), None)
                if group and risky_members < 3:
                    risky_members += 1
                    self.add("ATTACH_ARCHIVE_RISKY_MEMBER", att, value=m.name, member=m.name[:120], group=group)
            if is_ooxml(archive) and not archive.problems:
                self._office(att, data, name, details)
        elif family == "ole":
            self._office(att, data, name, details)
            if office_encrypted(data):
                self.add("ATTACH_OFFICE_ENCRYPTED", att)
                details["encrypted"] = True
        elif family == "pdf":
            pdf = scan_pdf(data)
            details["pdf_keywords"] = dict(pdf.keywords)
            if pdf.obfuscated_names:
                details["pdf_obfuscated_names"] = pdf.obfuscated_names
            active = [k for k in ("JS", "JavaScript", "SubmitForm", "RichMedia") if k in pdf.keywords]
            if active:
                auto = [k for k in ("OpenAction", "AA") if k in pdf.keywords]
                self.add("ATTACH_PDF_ACTIVE", att, value=", ".join(f"/{k}" for k in active + auto),
                         keywords=", ".join(f"/{k}" for k in active + auto))
            if "Launch" in pdf.keywords or ("EmbeddedFile" in pdf.keywords and
                                            ("OpenAction" in pdf.keywords or "AA" in pdf.keywords)):
                self.add("ATTACH_PDF_LAUNCH", att)
            if pdf.uris:
                details["pdf_uris"] = pdf.uris[:20]
        elif (family == "tnef" or declared in ("application/ms-tnef", "application/vnd.ms-tnef")) and \
                is_tnef(data) and source != "tnef":
            tnef = read_tnef(data)
            details["tnef_files"] = [a.name for a in tnef.attachments[:50]]
            self.tnef_files += len(tnef.attachments)
            self.add("ATTACH_TNEF", att, count=len(tnef.attachments))
            self.attachments.append(att)
            for i, inner in enumerate(tnef.attachments, 1):
                if len(self.attachments) >= MAX_ATTACHMENTS:
                    break
                self.analyse(inner.name, f"{part}/tnef{i}", "application/octet-stream", inner.data,
                             inline=False, source="tnef")
            return
        if family == "text" or declared.startswith("text/") or info.extension in ("htm", "html", "ics"):
            self._html_and_calendar(att, part, data, declared, info.extension, details)
        if (family == "image" or declared.startswith("image/")) and self.qr_budget > 0 and len(data) >= 200:
            self.qr_budget -= 1
            self._qr(att, data, details)
        self.attachments.append(att)

    def _office(self, att: Attachment, data: bytes, name: str, details: dict[str, object]) -> None:
        res = office_macros(data, name)
        details.update(res)
        if res.get("macros"):
            auto = res.get("autoexec") or []
            self.add("ATTACH_OFFICE_MACROS", att, value=", ".join(auto) if isinstance(auto, list) else "",
                     auto=f" that run automatically ({', '.join(auto[:3])})" if auto and isinstance(auto, list) else "")

    def _html_and_calendar(self, att: Attachment, part: str, data: bytes, declared: str, ext: str,
                           details: dict[str, object]) -> None:
        is_html = declared == "text/html" or ext in ("htm", "html", "xhtml", "shtml") or (att.sniffed_type == "text/html")
        if is_html:
            summary = self.links.html.get(part) if self.links is not None else None
            if summary is None:
                from mailsleuth.model.text import decode_bytes

                scan = scan_html(decode_bytes(data[:4_000_000], None), max_links=500)
                summary = HtmlSummary(part=part, scripts=scan.scripts, password_fields=scan.password_fields)
                forms = [(f.action, f.password_fields) for f in scan.forms]
            else:
                forms = [(f.action, f.password_fields) for f in summary.forms]
            details["scripts"] = summary.scripts
            details["forms"] = len(forms)
            for action, _pw in forms[:3]:
                scheme, host = _host_of(action) if action else ("", "")
                if scheme in ("http", "https") and host:
                    self.add("ATTACH_HTML_FORM", att, value=action[:300], host=host)
                    break
            if summary.scripts:
                self.add("ATTACH_HTML_SCRIPT", att, count=summary.scripts)
        if declared == "text/calendar" or ext == "ics":
            n = sum(1 for lk in self.links.links if lk.part == part) if self.links is not None else 0
            details["links"] = n
            if n:
                self.add("ATTACH_CALENDAR_LINKS", att, count=n)

    def _qr(self, att: Attachment, data: bytes, details: dict[str, object]) -> None:
        from mailsleuth.body.qr import decode_qr

        urls = decode_qr(data)
        if urls is None:
            return
        details["qr"] = urls[:5]
        for u in urls[:2]:
            if u.lower().startswith(("http://", "https://", "www.")):
                self.add("ATTACH_QR_CODE", att, value=u[:500], url=u[:200])


def _with_archive(att: Attachment, archive: object) -> Attachment:
    from dataclasses import replace

    return replace(att, archive=archive)  # type: ignore[arg-type]


@check("body.attachments", title="Attachments", needs=("body",), after=("body.links",),
       codes=("ATTACH_RISKY_TYPE", "ATTACH_HTML", "ATTACH_MACRO_FORMAT", "ATTACH_DOUBLE_EXTENSION",
              "ATTACH_NAME_DISGUISED", "ATTACH_TYPE_MISMATCH", "ATTACH_ARCHIVE_ENCRYPTED",
              "ATTACH_ARCHIVE_RISKY_MEMBER", "ATTACH_ARCHIVE_LIMIT", "ATTACH_OFFICE_MACROS", "ATTACH_OFFICE_ENCRYPTED",
              "ATTACH_PDF_ACTIVE", "ATTACH_PDF_LAUNCH", "ATTACH_HTML_FORM", "ATTACH_HTML_SCRIPT",
              "ATTACH_CALENDAR_LINKS", "ATTACH_TNEF", "ATTACH_QR_CODE", "ATTACH_LIMIT"))
def body_attachments(ctx: Context) -> Outcome:
    msg = ctx.message
    run = _Run(ctx, ctx.artifact("body.links"))
    if msg.mime is None:
        return Outcome()
    over = 0
    for part in msg.mime.walk():
        if not _is_candidate(part):
            continue
        if len(run.attachments) >= MAX_ATTACHMENTS:
            over += 1
            continue
        inline = not is_attachment(part)
        run.analyse(part.filename or "", part.path, part.content_type, part.payload, inline=inline, source="mime")
    if over:
        run.findings.append(ctx.finding("ATTACH_LIMIT", [Evidence(kind=EvidenceKind.COMPUTED, ref="attachments",
                                                                  value=f"{over} more")], limit=MAX_ATTACHMENTS))
    counts = {"total": len(run.attachments), "from_tnef": run.tnef_files,
              "inline": sum(1 for a in run.attachments if a.inline)}
    if not run.attachments:
        return Outcome(findings=run.findings)
    return Outcome(findings=run.findings, artifact=AttachmentsArtifact(attachments=tuple(run.attachments),
                                                                      counts=counts))
