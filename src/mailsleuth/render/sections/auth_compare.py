"""Terminal rendering of ``auth.compare``: one table per method, reported against re-verified."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section


@section("auth.compare", title="Reported against re-verified", order=35)
def render_compare(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    for table in (data.get("tables") or [])[:8]:
        t = Table("subject", "reported", "re-verified", "agree", "why they differ",
                  title=str(table.get("method", "?")).upper())
        for row in (table.get("rows") or [])[:30]:
            agree = row.get("agree")
            mark = Text("yes", style="green") if agree is True else Text("NO", style="red") if agree is False \
                else Text("—")
            t.add_row(safe(row.get("subject", ""), 80), safe(row.get("reported", ""), 200),
                      safe(row.get("verified", ""), 80), mark, safe(row.get("reason", ""), 400))
        console.print(t)
    edits = data.get("edits") or {}
    if edits.get("likely_edited"):
        console.print(Text("Signs that this copy was edited: ") + safe(edits.get("summary", ""), 400))
    if data.get("reported_source") and data.get("reported_source") != "auth.reported":
        console.print(Text("Reported results read from: ") + safe(data.get("reported_source"), 200))
