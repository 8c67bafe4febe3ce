"""Terminal section: spam-filter stamps with every rule explained."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.terminal import safe, section

_VERDICT = {True: "spam", False: "not spam", None: "no verdict"}


def _num(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"


@section("spam.stamps", title="Spam-filter stamps", order=40)
def render_spam(art: Any, console: Console) -> None:
    stamps = getattr(art, "stamps", ())
    if not stamps:
        console.print("No spam-filter or virus-scan stamps.")
        return
    for s in stamps:
        head = Text(f"{s.vendor}: ", style="bold")
        head.append_text(safe(f"{_VERDICT[s.is_spam]}, score {_num(s.score)} of {_num(s.threshold)}"
                              if s.score is not None or s.is_spam is not None else ", ".join(
                                  f"{k}={v}" for k, v in list(s.fields.items())[:4]), 300))
        head.append("  ")
        head.append("trusted (recipient's own filter)" if s.trusted else "a claim from outside the trust boundary",
                    style="green" if s.trusted else "yellow")
        head.append_text(safe(f"  [{', '.join(s.headers)}]", 200))
        console.print(head)
        for k, meaning in list(s.explained.items())[:8]:
            console.print(Text("    ") + safe(f"{k}={s.fields.get(k, '')}: {meaning}", 300))
        if s.rules:
            t = Table("rule", "score", "category", "meaning", "source", show_lines=False)
            for r in s.rules[:120]:
                meaning = safe(r.meaning or "(no description known)", 300)
                if r.local_description and r.local_description != r.meaning:
                    meaning.append("\nrule file: ", style="dim")
                    meaning.append_text(safe(r.local_description, 200))
                t.add_row(safe(r.name, 40), _num(r.score), safe(r.category, 30), meaning, safe(r.source.value, 40))
            console.print(t)
    if getattr(art, "rules_dir", None):
        console.print(Text("Rule descriptions also read from ", style="dim") +
                      safe(f"{art.rules_dir} ({art.local_descriptions} rules)"))
