"""Terminal section for ``received.chain``: the hop table (origin first) and the boundary decision.

Every host name, address and protocol string comes from the message, so all of it goes through
``safe()``. Hops below the trust boundary are marked as claims: others wrote them and they may be
forged.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section

_MARK = {"recipient": "recipient", "boundary": "boundary", "claim": "claim?"}
_MAX_ROWS = 60


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _from(h: dict[str, Any]) -> str:
    helo, rdns, ip = h.get("from_helo"), h.get("from_rdns"), h.get("from_ip")
    parts = []
    if helo:
        parts.append(_s(helo))
    if rdns and rdns != helo:
        parts.append(f"rDNS {rdns}")
    if ip:
        parts.append(f"[{ip}]")
    if h.get("may_be_forged"):
        parts.append("(may be forged)")
    return " ".join(parts) or "-"


def _with(h: dict[str, Any]) -> str:
    proto = _s(h.get("protocol"))
    tls = h.get("tls_version") or ""
    cipher = h.get("tls_cipher") or ""
    if tls or cipher:
        return f"{proto} {tls} {cipher}".strip()
    if h.get("tls"):
        return f"{proto} (TLS)".strip()
    return proto or "-"


def _time(h: dict[str, Any]) -> str:
    ts = h.get("timestamp")
    if not ts:
        return "no time" if h.get("parsed", True) else "unreadable"
    return _s(ts).replace("T", " ").replace("+00:00", "Z")


def _delay(d: Any) -> str:
    if d is None:
        return ""
    try:
        x = float(d)
    except (TypeError, ValueError):
        return ""
    sign = "-" if x < 0 else "+"
    a = abs(x)
    if a < 120:
        return f"{sign}{a:.0f}s"
    if a < 7200:
        return f"{sign}{a / 60:.0f}m"
    if a < 172800:
        return f"{sign}{a / 3600:.1f}h"
    return f"{sign}{a / 86400:.1f}d"


def _transit(s: Any) -> str:
    if s is None:
        return "unknown"
    return _delay(s).lstrip("+")


@section("received.chain", title="Received chain (origin first)", order=20)
def render_chain(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data, 500))
        return
    hops = data.get("hops") or []
    if not hops:
        console.print(safe(data.get("method") or "No Received headers."))
        return
    table = Table(Column("#", justify="right"), Column("from (HELO / rDNS / IP)", overflow="fold", ratio=3),
                  Column("by", overflow="fold", ratio=2), Column("with / TLS", overflow="fold", ratio=2),
                  Column("time (UTC)", no_wrap=True), Column("delay", justify="right", no_wrap=True),
                  Column("written by", no_wrap=True), show_lines=False)
    shown = hops if len(hops) <= _MAX_ROWS else hops[: _MAX_ROWS // 2] + hops[-_MAX_ROWS // 2:]
    for i, v in enumerate(shown):
        if len(hops) > _MAX_ROWS and i == _MAX_ROWS // 2:
            table.add_row("…", Text(f"{len(hops) - _MAX_ROWS} hops not shown"), "", "", "", "", "")
        h = v.get("hop") or {}
        side = _s(v.get("side"))
        mark = Text(_MARK.get(side, side), style="bold" if side == "boundary" else ("dim" if side == "claim" else ""))
        from_text = safe(_from(h), 200) if h.get("parsed", True) else safe(f"unreadable: {h.get('raw', '')}", 90)
        table.add_row(_s(v.get("number")), from_text, safe(_s(h.get("by_host")) or "-", 120),
                      safe(_with(h), 120), safe(_time(h), 25), _delay(v.get("delay_s")), mark)
    console.print(table)
    line = Text("Total transit: ")
    line.append(_transit(data.get("total_transit_s")))
    count = data.get("received_count") or len(hops)
    line.append(f" over {count} hop{'s' if count != 1 else ''}")
    if data.get("omitted"):
        line.append(f" ({data['omitted']} oldest not analysed)")
    console.print(line)
    b = data.get("boundary") or {}
    if b:
        bl = Text("Boundary: hop ")
        bl.append(_s(b.get("number")))
        bl.append(", client ")
        bl.append_text(safe(_from(b.get("hop") or {}), 160))
        console.print(bl)
    console.print(Text("How decided: ") + safe(data.get("method") or "", 600))
    ids = data.get("trusted_authserv_ids") or []
    if ids:
        console.print(Text("Trusted authserv-ids: ") + safe(", ".join(_s(x) for x in ids[:12]), 400))
    console.print(Text("Hops marked claim? were written before the message reached the recipient's side "
                       "and may be forged.", style="dim"))
