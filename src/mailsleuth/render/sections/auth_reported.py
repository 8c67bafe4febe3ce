"""Terminal section: authentication as the receivers reported it (claims, marked trusted or not)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.terminal import safe, section


@section("auth.reported", title="Authentication reported by receivers (claims, not verified by mailsleuth)", order=30)
def render_auth_reported(art: Any, console: Console) -> None:
    claims = getattr(art, "claims", ())
    if not claims and not getattr(art, "headers", ()):
        console.print("No Authentication-Results, ARC-Authentication-Results or Received-SPF headers.")
        return
    t = Table("method", "result", "about", "reported by", "header", "trusted")
    for c in claims[:80]:
        t.add_row(safe(c.method, 30), safe(c.result_raw or c.result.value, 30), safe(c.subject, 80),
                  safe(c.by or "(no authserv-id)", 60), safe(c.header, 50),
                  Text("yes (recipient's side)", style="green") if c.trusted else Text("no: a claim", style="yellow"))
    console.print(t)
    for ref in getattr(art, "forged", ()):
        console.print(Text("  forged? ", style="bold red") + safe(ref) +
                      Text(" uses the recipient's authserv-id below the trust boundary"))
    for ra in getattr(art, "headers", ())[:40]:
        for err in ra.parse_errors[:2]:
            console.print(Text("  note: ", style="dim") + safe(f"{ra.ref}: {err}", 300))
