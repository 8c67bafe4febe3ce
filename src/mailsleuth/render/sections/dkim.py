"""Terminal rendering of ``auth.verify.dkim``: one block per signature, each step of its check."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section

_STYLE = {"pass": "green", "fail": "red", "permerror": "red", "policy": "yellow", "temperror": "yellow"}


def _yn(v: Any) -> str:
    return "yes" if v is True else "no" if v is False else "not checked"


@section("auth.verify.dkim", title="DKIM, re-verified", order=30)
def render_dkim(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    sigs = data.get("signatures") or []
    when = data.get("evaluated_at") or "?"
    src = data.get("delivered_at_source") or "unknown"
    console.print(safe(f"Times judged at {when} (delivery time from: {src})"
                       + ("" if data.get("body_checked") else "; headers only: body hashes not checked")))
    if not sigs:
        console.print("The message carries no DKIM-Signature.")
    for sig in sigs[:20]:
        det = sig.get("details") or {}
        res = str(sig.get("result", "?"))
        head = Text(f"{det.get('header_ref', 'DKIM-Signature')}: ")
        head.append(res.upper() + ("" if sig.get("complete", True) else " (incomplete)"), style=_STYLE.get(res, "bold"))
        head.append_text(Text(" — ") + safe(sig.get("cause", ""), 300))
        console.print(head)
        t = Table("property", "value", show_header=False)
        bits = det.get("key_bits")
        t.add_row("signer", safe(f"d={det.get('d')} s={det.get('s')} i={det.get('i')}", 200))
        t.add_row("algorithm", safe(f"{det.get('algorithm')} · key {det.get('key_type') or '?'} "
                                    f"{bits if bits else '?'} bits · c={det.get('canonicalization')}", 200))
        t.add_row("header signature", _yn(det.get("header_ok")))
        t.add_row("body hash", _yn(det.get("body_ok")))
        signed = det.get("signed_headers") or []
        t.add_row("signed headers", safe(":".join(str(h) for h in signed), 300))
        t.add_row("From signed", f"{_yn(det.get('from_signed'))}; over-signed against added From: "
                                 f"{_yn(det.get('from_oversigned'))}")
        if det.get("l") is not None:
            t.add_row("body length (l=)", safe(f"{det.get('l')} (unsigned bytes after it: "
                                               f"{det.get('unsigned_body_bytes', '?')})"))
        t.add_row("signed at / expires", safe(f"{det.get('t_iso') or 'no t='} / {det.get('x_iso') or 'no x='}"))
        t.add_row("expired at delivery / now", f"{_yn(det.get('expired_at_delivery'))} / {_yn(det.get('expired_now'))}")
        t.add_row("key", safe(f"{det.get('key_name', '')} -> {det.get('key_status', '')}"
                              + (" (testing, t=y)" if det.get("testing") else ""), 300))
        console.print(t)
        steps = Table("step", "outcome", "detail")
        for st in (sig.get("trace") or [])[:12]:
            steps.add_row(safe(st.get("what", ""), 60), safe(st.get("outcome", ""), 40), safe(st.get("detail", ""), 200))
        console.print(steps)
    for note in data.get("notes") or []:
        console.print(Text("note: ") + safe(note, 300))
