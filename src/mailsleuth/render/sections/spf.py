"""Terminal rendering of ``auth.verify.spf``: per identity the result, the counts against their
limits and the evaluation trace as an indented list (include/redirect depth), with DNS answers."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section

RESULT_STYLE = {"pass": "green", "fail": "red", "softfail": "yellow", "neutral": "", "none": "dim",
                "permerror": "magenta", "temperror": "magenta"}
MAX_STEPS = 120


def render_trace(trace: list[Any], console: Console, *, show_dns: bool = True) -> None:
    """A trace (TraceStep dicts) as a readable list; each DNS answer on its own line under its step."""
    for step in trace[:MAX_STEPS]:
        if not isinstance(step, dict):
            continue
        what = str(step.get("what", ""))
        pad = len(what) - len(what.lstrip(" "))
        line = Text("  " + " " * pad + "• ") + safe(what.strip(), 200) + Text(" → ")
        outcome = str(step.get("outcome", ""))
        line.append_text(safe(outcome, 60))
        if step.get("detail"):
            line.append_text(Text("  (") + safe(step["detail"], 300) + Text(")"))
        console.print(line)
        if show_dns:
            for d in (step.get("dns") or [])[:8]:
                console.print(Text("  " + " " * pad + "    dns: ") + safe(d, 300), style="dim")
    if len(trace) > MAX_STEPS:
        console.print(f"  … {len(trace) - MAX_STEPS} more steps")


@section("auth.verify.spf", title="SPF, re-evaluated (RFC 7208)", order=31)
def render_spf(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    head = Text("Client IP: ") + safe(data.get("ip") or "unknown", 60) + Text(f" (from the {data.get('ip_source')})")
    console.print(head)
    mf = data.get("mailfrom")
    console.print(Text("Envelope sender: ") + safe("<> (null sender)" if mf == "" else (mf or "unknown"), 200)
                  + Text("  [") + safe(data.get("mailfrom_source", ""), 80) + Text("]"))
    console.print(Text("HELO: ") + safe(data.get("helo") or "unknown", 200))
    results = data.get("results") or []
    if not results:
        console.print("Nothing was evaluated.")
    for r in results[:4]:
        det = r.get("details") or {}
        res = str(r.get("result", "?"))
        line = Text(f"\n{'MAIL FROM' if det.get('identity') == 'mailfrom' else 'HELO'} ", style="bold")
        line.append_text(safe(det.get("domain", ""), 200))
        line.append(": ")
        line.append(res.upper(), style=RESULT_STYLE.get(res, "bold"))
        if not r.get("complete", True):
            line.append(" (incomplete)", style="yellow")
        console.print(line)
        console.print(Text("  why: ") + safe(r.get("cause", ""), 300))
        if det.get("matched_mechanism"):
            console.print(Text("  matched: ") + safe(det["matched_mechanism"], 200) + Text(" in the record of ")
                          + safe(det.get("matched_in") or det.get("domain", ""), 200))
        console.print(f"  DNS lookups: {det.get('lookups', 0)} of {det.get('lookup_limit', 10)}; "
                      f"void lookups: {det.get('void_lookups', 0)} of {det.get('void_limit', 2)}")
        if det.get("explanation"):
            console.print(Text("  explanation (exp=): ") + safe(det["explanation"], 400))
        render_trace(r.get("trace") or [], console)
