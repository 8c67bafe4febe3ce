"""Terminal rendering of ``infra.platform``: the platforms named, their role and the marks."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section

_ROLE = {"origin": "sent it", "relay": "relayed / received it"}


@section("infra.platform", title="Sending platform", order=59)
def render_platform(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    matches = data.get("matches") or []
    if not matches:
        console.print("No known sending platform, mailbox provider or gateway left its marks on this message.")
        return
    t = Table("platform", "kind", "role", "confidence", "marks (where)")
    for m in matches[:12]:
        marks = "; ".join(f"{s.get('kind')}: {s.get('detail')} ({s.get('ref')})" for s in (m.get("signals") or [])[:5])
        conf = m.get("confidence")
        t.add_row(safe(f"{m.get('name')} ({m.get('operator')})", 70), safe(m.get("kind"), 10),
                  _ROLE.get(str(m.get("role")), str(m.get("role"))),
                  f"{conf:.0%}" if isinstance(conf, int | float) else "?", safe(marks, 400))
    console.print(t)
    if not data.get("used_dns"):
        console.print(Text("Matched from the headers alone (no DNS): the sender domain's name servers, MX, SPF "
                           "and network were not consulted.", style="dim"))
