"""The terminal report (rich): verdict and narrative first, then the sections, DNS evidence and
findings. Readable without a TTY or colour (``no_color=True`` and a fixed width for golden tests).

Everything shown comes from the report; attacker-controlled strings are printed as text, never as
rich markup (``Text`` objects or ``markup=False``), and control characters are made visible.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.model.findings import Severity
from mailsleuth.model.report import Report
from mailsleuth.render.jsonout import to_jsonable

SectionFunc = Callable[[Any, Console], None]


@dataclass(frozen=True, slots=True)
class SectionRenderer:
    id: str
    title: str
    order: int
    func: SectionFunc


SECTIONS: dict[str, SectionRenderer] = {}


def section(section_id: str, *, title: str, order: int = 50) -> Callable[[SectionFunc], SectionFunc]:
    def deco(func: SectionFunc) -> SectionFunc:
        SECTIONS[section_id] = SectionRenderer(section_id, title, order, func)
        return func

    return deco


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    import mailsleuth.render.sections as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"mailsleuth.render.sections.{mod.name}")
    _loaded = True


def safe(text: object, limit: int = 400) -> Text:
    """Attacker-controlled text as a rich Text: no markup, control characters made visible."""
    s = str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = "".join(c if (c >= " " or c == "\n") and c != "\x7f" else f"\\x{ord(c):02x}" for c in s)
    return Text(s)


_SEV_STYLE = {
    Severity.POSITIVE: "green", Severity.INFO: "dim", Severity.LOW: "cyan", Severity.MEDIUM: "yellow",
    Severity.HIGH: "red", Severity.CRITICAL: "bold red",
}
_LABEL_STYLE = {"legitimate": "bold green", "suspicious": "bold yellow", "phishing": "bold red",
                "spam": "bold magenta", "unknown": "bold"}


def generic(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        cols = list(dict.fromkeys(k for r in data[:50] for k in r))[:8]
        table = Table(*cols, show_lines=False)
        for row in data[:100]:
            table.add_row(*(safe(_short(row.get(c)), 80) for c in cols))
        console.print(table)
    elif isinstance(data, dict):
        table = Table("key", "value", show_header=False)
        for k, v in list(data.items())[:60]:
            table.add_row(safe(k), safe(_short(v), 300))
        console.print(table)
    else:
        console.print(safe(_short(data), 2000))


def _short(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | dict):
        import json

        s = json.dumps(v, ensure_ascii=False, sort_keys=True)
        return s if len(s) < 300 else s[:299] + "…"
    return str(v)


def print_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    _load()
    v = report.verdict
    console.rule(Text("mailsleuth report"))
    head = Text("Verdict: ")
    head.append(v.label.value.upper(), style=_LABEL_STYLE.get(v.label.value, "bold"))
    head.append(f"  (confidence {v.confidence:.0%}, completeness {v.completeness:.0%})")
    console.print(head)
    console.print(safe(v.summary))
    for line in v.narrative:
        console.print(safe(line, 1200))
    if v.would_change:
        console.print(Text("What would change this verdict:", style="bold"))
        for w in v.would_change:
            console.print(Text("  • ") + safe(w, 600))
    msg = report.message
    console.print()
    t = Table("field", "value", show_header=False, title="Message")
    for key in ("subject", "from", "to", "date", "message_id", "kind", "size"):
        t.add_row(key, safe(msg.get(key, ""), 200))
    console.print(t)
    order = sorted(
        (k for k in report.sections if not k.startswith("_")),
        key=lambda k: (SECTIONS[k].order if k in SECTIONS else 90, k),
    )
    for sid in order:
        art = report.sections[sid]
        renderer = SECTIONS.get(sid)
        title = renderer.title if renderer else sid
        console.print()
        console.rule(Text(title), align="left")
        (renderer.func if renderer else generic)(art, console)
    console.print()
    console.rule(Text("Findings"), align="left")
    for f in report.findings:
        if f.severity is Severity.INFO and not verbose and len(report.findings) > 30:
            continue
        ftext = Text(f"[{f.severity.value}] ", style=_SEV_STYLE.get(f.severity, ""))
        ftext.append(f.code + ": ", style="bold")
        ftext.append_text(safe(f.title, 500))
        console.print(ftext)
        console.print(Text("    ") + safe(f.explanation, 1000), style="dim")
        for ev in f.evidence[:6]:
            console.print(Text(f"    evidence ({ev.kind.value}) ") + safe(ev.ref, 120) + Text(": ") + safe(ev.value, 300))
    console.print()
    console.rule(Text(f"DNS evidence (mode: {report.dns_mode})"), align="left")
    if not report.dns:
        console.print("No DNS queries were made.")
    else:
        dt = Table("query", "status", "answer", "source")
        for d in report.dns[:200]:
            dt.add_row(safe(f"{d.rdtype} {d.name}"), d.status, safe("; ".join(d.records)[:300]), d.source)
        console.print(dt)
    if v.skipped:
        console.print()
        console.rule(Text("Not checked"), align="left")
        for s in v.skipped:
            console.print(Text("  • ") + safe(f"{s.check}: {s.reason}"))
    contrib = Table("contribution", "phish", "spam", "trust", title="How the verdict was weighed")
    for c in v.contributions[:25]:
        contrib.add_row(safe(c.code), f"{c.phish:+.1f}", f"{c.spam:+.1f}", f"{c.trust:+.1f}")
    console.print()
    console.print(contrib)


def render_terminal(report: Report, *, width: int = 100, color: bool = False, verbose: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, no_color=not color, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, emoji=False, markup=False, soft_wrap=False)
    print_report(report, console, verbose=verbose)
    return buf.getvalue()
