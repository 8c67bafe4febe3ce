"""Terminal section for attachments (body.attachments)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.terminal import safe, section


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@section("body.attachments", title="Attachments", order=62)
def render_attachments(art: Any, console: Console) -> None:
    items = list(_get(art, "attachments", ()) or ())
    table = Table("part", "name", "declared / sniffed", "size", "notes")
    for att in items[:50]:
        notes: list[str] = []
        groups = _get(att, "risk_groups", ()) or ()
        if groups:
            notes.append("risky: " + ", ".join(groups))
        if _get(att, "double_extension"):
            notes.append("double extension")
        details = _get(att, "details", {}) or {}
        if details.get("macros"):
            notes.append("macros" + (" (auto-run)" if details.get("autoexec") else ""))
        if details.get("pdf_keywords"):
            notes.append("pdf: " + ", ".join(sorted(details["pdf_keywords"]))[:80])
        if details.get("forms"):
            notes.append(f"{details['forms']} form(s)")
        if details.get("tnef_files") is not None:
            notes.append(f"winmail.dat holding {len(details['tnef_files'])} file(s)")
        if details.get("qr"):
            notes.append("QR: " + str(details["qr"][0])[:80])
        archive = _get(att, "archive")
        if archive is not None:
            notes.append(f"{_get(archive, 'member_count', 0)} member(s)"
                         + (", encrypted" if _get(archive, "encrypted") else ""))
            notes.extend(str(p) for p in (_get(archive, "problems", ()) or ())[:2])
        src = _get(att, "source", "mime")
        name = safe(_get(att, "name", ""), 60)
        if src != "mime":
            name.append(f" (from {src})")
        table.add_row(safe(_get(att, "part", ""), 16), name,
                      safe(f"{_get(att, 'declared_type', '')} / {_get(att, 'sniffed_type') or '?'}", 50),
                      str(_get(att, "size", 0)), safe("; ".join(notes), 120))
    console.print(table)
    for att in items[:10]:
        console.print(Text("  sha256 ") + safe(_get(att, "sha256", ""), 64) + Text("  ") + safe(_get(att, "name", ""), 60))
    if len(items) > 50:
        console.print(Text(f"… {len(items) - 50} more in the JSON report"))
