"""Terminal section for ``brand.impersonation``: which names the sender used, what brand each
belongs to or imitates, the brands named in display names and the subject, and who vouches."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section


@section("brand.impersonation", title="Brands and lookalike domains", order=45)
def render_brand(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data, 2000))
        return
    own = data.get("own_domains") or []
    head = Text(f"Registry: {data.get('registry_size', '?')} brands")
    if own:
        head.append("; your organisation: ")
        head.append_text(safe(", ".join(str(d) for d in own[:5]), 200))
        if data.get("own_source"):
            head.append(f" ({data['own_source']})")
    if data.get("platform"):
        head.append("; sending platform: ")
        head.append_text(safe(data["platform"], 80))
    console.print(head)
    vouched = {v.get("brand_id") for v in data.get("vouchers") or [] if isinstance(v, dict)}
    idents = [i for i in data.get("identities") or [] if isinstance(i, dict)]
    interesting = [i for i in idents if i.get("match") or i.get("owner") or i.get("field") != "link"]
    if interesting:
        t = Table("where", "name", "belongs to / imitates", "how")
        for i in interesting[:60]:
            m = i.get("match") or {}
            if m and m.get("brand_id") in vouched:
                who = Text("cousin of ", style="green")
                who.append_text(safe(f"{m.get('brand', '')} ({m.get('brand_domain', '')}), vouched by the brand", 120))
                how = safe(m.get("technique", ""), 80)
            elif m:
                who = Text("imitates ", style="red")
                who.append_text(safe(f"{m.get('brand', '')} ({m.get('brand_domain', '')})", 120))
                how = safe(f"{m.get('technique', '')}" + (f", distance {m['distance']}" if m.get("distance") else ""), 80)
            elif i.get("owner"):
                who, how = Text(f"{i['owner']} (its own)", style="green"), Text("")
            else:
                who, how = Text("-", style="dim"), Text("")
            t.add_row(safe(f"{i.get('field', '')} {i.get('ref', '')}", 60), safe(i.get("name", ""), 80), who, how)
        console.print(t)
    claims = [c for c in data.get("claims") or [] if isinstance(c, dict)]
    if claims:
        t = Table("named in", "brand", "as", "text")
        for c in claims[:30]:
            t.add_row(safe(c.get("where", ""), 40), safe(c.get("brand", ""), 60), safe(c.get("matched", ""), 60),
                      safe(c.get("text", ""), 100))
        console.print(t)
    vouchers = [v for v in data.get("vouchers") or [] if isinstance(v, dict)]
    if vouchers:
        t = Table("brand vouches", "by", "how", "seen")
        for v in vouchers[:20]:
            how = Text("verified", style="green") if v.get("verified") else Text("reported by a trusted server")
            t.add_row(safe(v.get("brand_id", ""), 40), safe(f"{v.get('kind', '')} {v.get('domain', '')}", 80), how,
                      safe(v.get("ref", ""), 60))
        console.print(t)
    if not interesting and not claims and not vouchers:
        console.print(Text("No brand named and no lookalike domain found.", style="dim"))
