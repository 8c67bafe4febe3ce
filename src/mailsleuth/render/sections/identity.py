"""Terminal section: identities, their organisations, and which ones belong together."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.terminal import safe, section


@section("identity.alignment", title="Identities and organisations", order=50)
def render_identity(art: Any, console: Console) -> None:
    ids = getattr(art, "identities", ())
    if not ids:
        console.print("No sender identities found.")
        return
    from_org = getattr(art, "from_org", None)
    t = Table("role", "value", "domain", "organisation", "same org as From", "seen in")
    for i in ids[:80]:
        same = "" if i.role == "from" or not i.org else ("yes" if i.org == from_org else "no")
        value = f'"{i.display_name}" <{i.value}>' if i.display_name else i.value
        t.add_row(safe(i.role, 20), safe(value, 90), safe(i.domain or "", 60), safe(i.org or "(none)", 50),
                  Text(same, style="green" if same == "yes" else ("yellow" if same == "no" else "")),
                  safe(i.source, 40))
    console.print(t)
    groups = getattr(art, "groups", ())
    if groups:
        g = Table("organisation", "identities", "domains", title="Organisations")
        for grp in groups[:40]:
            g.add_row(safe(grp.org + (" (From)" if grp.includes_from else ""), 60), safe(", ".join(grp.roles), 120),
                      safe(", ".join(grp.domains), 200))
        console.print(g)
