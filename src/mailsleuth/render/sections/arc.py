"""Terminal rendering of ``auth.verify.arc``: the chain verdict and each sealer with its claims."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section


def _v(b: Any) -> str:
    return "valid" if b is True else "invalid" if b is False else "not checked"


@section("auth.verify.arc", title="ARC chain, re-validated", order=33)
def render_arc(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    head = Text("Chain: ")
    chain = str(data.get("chain", "?"))
    head.append(chain.upper(), style={"pass": "green", "fail": "red"}.get(chain, "bold"))
    head.append_text(Text(" — ") + safe(data.get("reason", ""), 300))
    console.print(head)
    t = Table("i", "sealer (d= s=)", "cv claimed", "seal", "message sig", "authserv-id", "claimed results")
    for inst in (data.get("instances") or [])[:50]:
        claims = ", ".join(f"{c.get('method')}={c.get('result')}" for c in (inst.get("claims") or [])[:8])
        t.add_row(str(inst.get("instance")), safe(f"{inst.get('sealer_domain')} {inst.get('sealer_selector')}", 80),
                  safe(inst.get("cv", ""), 10), _v(inst.get("seal_valid")), _v(inst.get("ams_valid")),
                  safe(inst.get("authserv_id", ""), 60), safe(claims, 200))
    console.print(t)
    console.print("A chain is only as trustworthy as its sealers: their claims count only if you trust them.")
