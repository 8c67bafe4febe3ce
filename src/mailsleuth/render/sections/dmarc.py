"""Terminal rendering of ``auth.verify.dmarc``: result, policy record and tags, alignment, what the
policy asks, the RFC 9989 trace, and where RFC 7489 would differ."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.sections.spf import RESULT_STYLE, render_trace
from mailsleuth.render.terminal import safe, section

_TAGS = ("p", "sp", "np", "adkim", "aspf", "t", "psd", "pct", "rua", "ruf", "fo")


@section("auth.verify.dmarc", title="DMARC, evaluated (RFC 9989; RFC 7489 beside it)", order=32)
def render_dmarc(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    results = data.get("results") or []
    if not results:
        console.print("Nothing was evaluated.")
        return
    r = results[0]
    det = r.get("details") or {}
    res = str(r.get("result", "?"))
    head = Text("From domain: ") + safe(data.get("from_domain") or "?", 200) + Text("  → DMARC ")
    head.append(res.upper(), style=RESULT_STYLE.get(res, "bold"))
    if not r.get("complete", True):
        head.append(" (incomplete)", style="yellow")
    console.print(head)
    console.print(Text("  why: ") + safe(r.get("cause", ""), 300))
    console.print(Text("  inputs: ") + safe(data.get("spf_input", ""), 200) + Text("; ")
                  + safe(data.get("dkim_input", ""), 300))
    if det.get("record_domain"):
        console.print(Text("  policy record: _dmarc.") + safe(det["record_domain"], 200) + Text("  ")
                      + safe(det.get("record") or "", 400))
        tags = det.get("tags") or {}
        t = Table(*_TAGS, title=None)
        t.add_row(*(safe(tags.get(k, "-"), 60) for k in _TAGS))
        console.print(t)
    if det.get("org_domain"):
        console.print(Text("  organizational domain: ") + safe(det["org_domain"], 200) + Text(" (")
                      + safe(det.get("org_reason", ""), 200) + Text(")"))
    if det.get("policy"):
        ask = det.get("requested")
        line = Text("  policy: ") + safe(f"{det.get('policy_tag')}={det.get('policy')}", 40)
        line.append_text(Text("; asks the receiver to: ") + safe(ask, 40) if ask else Text("; nothing asked (pass)"))
        if det.get("requested_note"):
            line.append_text(Text(" — ") + safe(det["requested_note"], 200))
        console.print(line)
    render_trace(r.get("trace") or [], console)
    diffs = det.get("differences") or []
    if diffs:
        console.print(Text("RFC 7489 (Public Suffix List) would differ:", style="bold"))
        for d in diffs[:10]:
            console.print(Text("  • ") + safe(d, 300))
    else:
        console.print(Text("RFC 7489 (Public Suffix List) agrees: ") + safe(det.get("rfc7489_result", "?"), 20))
