"""Terminal sections for the links (body.links) and followed redirect chains (body.follow)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.terminal import safe, section

_SHOWN = 40


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


@section("body.links", title="Links", order=60)
def render_links(art: Any, console: Console) -> None:
    links = list(_get(art, "links", ()) or ())
    counts = _get(art, "counts", {}) or {}
    head = Text(f"{counts.get('total', len(links))} link(s) to {counts.get('domains', 0)} domain(s)")
    if counts.get("dropped"):
        head.append(f"; {counts['dropped']} more not examined")
    console.print(head)
    if links:
        table = Table("where", "domain", "url / target", "text")
        seen: set[tuple[str, str]] = set()
        shown = 0
        for link in links:
            url = _get(link, "url", "")
            key = (url, _get(link, "where", ""))
            if key in seen:
                continue
            seen.add(key)
            target = _get(link, "unwrapped")
            cell = safe(url, 90)
            wrapper = _get(link, "wrapper")
            if wrapper:
                cell.append("\n  ↳ ")
                cell.append_text(safe(target, 90) if target else Text(f"({wrapper}: target not in the URL)"))
            table.add_row(safe(_get(link, "where", ""), 40), safe(_get(link, "domain") or _get(link, "host", ""), 40),
                          cell, safe(_get(link, "text", ""), 40))
            shown += 1
            if shown >= _SHOWN:
                break
        console.print(table)
        if len(seen) >= _SHOWN and len(links) > _SHOWN:
            console.print(Text(f"… {len(links) - _SHOWN} more in the JSON report"))
    for form in list(_get(art, "forms", ()) or ())[:10]:
        line = Text("Form in part ")
        line.append_text(safe(_get(form, "part", "") or "body", 20))
        line.append(f" ({_get(form, 'method', '')}) posts to ")
        line.append_text(safe(_get(form, "action", "") or "(nowhere)", 200))
        if _get(form, "password_fields", 0):
            line.append(f" — {_get(form, 'password_fields')} password field(s)")
        console.print(line)


@section("body.follow", title="Where the links lead (followed)", order=61)
def render_follow(art: Any, console: Console) -> None:
    for chain in list(_get(art, "chains", ()) or ())[:20]:
        head = Text("• ")
        head.append_text(safe(_get(chain, "start", ""), 200))
        head.append(f"  [{_get(chain, 'outcome', '')}]")
        console.print(head)
        for i, hop in enumerate(list(_get(chain, "hops", ()) or ())[:12], 1):
            line = Text(f"    {i}. {_get(hop, 'method', '') or '-'} ")
            line.append_text(safe(_get(hop, "url", ""), 160))
            line.append(" → ")
            line.append_text(safe(_get(hop, "status") or _get(hop, "error") or "", 120))
            ip = _get(hop, "ip")
            if ip:
                line.append(f" ({ip})")
            console.print(line)
        final = _get(chain, "final")
        if final:
            console.print(Text("    ends at ") + safe(final, 200))
