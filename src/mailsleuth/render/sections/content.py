"""Terminal rendering of ``content.lures``: lure categories found and the sender's presentation."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section


@section("content.lures", title="Lures and sender presentation", order=66)
def render_content(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    lures = data.get("lures") or []
    if lures:
        t = Table("category", "phrases", "where")
        for h in lures[:20]:
            t.add_row(safe(h.get("category"), 30), safe(", ".join(map(str, h.get("phrases") or [])), 300),
                      safe(", ".join(map(str, h.get("where") or [])), 80))
        console.print(t)
    else:
        console.print("No lure phrases of the known categories in the Subject, sender name or body text.")
    extra = []
    if data.get("styled"):
        extra.append("styled letters: " + "".join(map(str, data["styled"])))
    if data.get("mixed_script"):
        extra.append("mixed-script words: " + ", ".join(map(str, data["mixed_script"])))
    if data.get("emoji"):
        extra.append(f"emoji in Subject/sender name: {data['emoji']}")
    extra.extend(map(str, data.get("sender_notes") or []))
    for line in extra[:12]:
        console.print(safe(f"- {line}", 300))
    note = f"Read {data.get('body_chars', 0)} characters of body text"
    if data.get("body_truncated"):
        note += " (cut at the 64 KB bound)"
    console.print(Text(note + ".", style="dim"))
