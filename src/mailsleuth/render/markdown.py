"""The Markdown report, for pasting into tickets (GitHub/GitLab/Jira-flavoured Markdown).

Every value taken from the message is escaped: Markdown punctuation is backslash-escaped, ``<``,
``>`` and ``&`` become entities (so no raw HTML passes through), line breaks are flattened in
table cells, and URLs are defanged (``hxxps://``, ``[.]``) so that a pasted report carries no
clickable phishing link and no auto-linked address. Structure follows the HTML report and is
built from the same view (:func:`mailsleuth.render.html.build_view`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from mailsleuth.model.report import Report
from mailsleuth.render.html import DNS_MODE_WORDS, build_view, duration

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~@])")
_URL = re.compile(r"\b([a-z][a-z0-9+.-]{1,15})://([^\s/?#<>\"']+)", re.IGNORECASE)
_WWW = re.compile(r"\bwww\.", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

MAX_CELL = 300
MAX_ROWS = 200


def defang(text: str) -> str:
    """``https://evil.example/x`` -> ``hxxps://evil[.]example/x``; ``www.`` -> ``www[.]``."""
    def url(m: re.Match[str]) -> str:
        scheme = m.group(1)
        if scheme.lower().startswith("http"):
            scheme = "hxxp" + scheme[4:]
        return f"{scheme}://{m.group(2).replace('.', '[.]')}"

    return _WWW.sub("www[.]", _URL.sub(url, text))


def esc(value: object, limit: int = 2000) -> str:
    """An attacker-controlled value as inert Markdown text (one line)."""
    s = "" if value is None else str(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    s = defang(s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = re.sub(r"\s*[\r\n]+\s*", " ", s).strip()
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Block syntax only applies at the start of a line: escape a leading punctuation character
    # (list markers, ``1.``, setext ``===``, ``>``) so a value never starts a block of its own.
    s = re.sub(r"^(\d+)([.)])", r"\1\\\2", s)
    if s and s[0] in "-+=:.{}$%^'\"/;,?" and not s.startswith("\\"):
        s = "\\" + s
    return s


def code(value: object, *, table: bool = False, limit: int = 600) -> str:
    """A technical value (host, code, query, key) as an inline code span: no Markdown, no HTML and
    no links are interpreted inside it. In a table cell, ``|`` is escaped as GFM requires."""
    s = "" if value is None else str(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    s = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    s = defang(re.sub(r"\s*[\r\n]+\s*", " ", s).strip())
    if not s:
        return "—"
    if table:
        s = s.replace("|", "\\|")
    longest = max((len(r) for r in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def cell(value: object, limit: int = MAX_CELL) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return esc(value, limit)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        out.append(f"\n_{len(rows) - MAX_ROWS} more rows not shown._")
    return out


def _generic(value: Any, depth: int = 0) -> list[str]:
    """A section with no dedicated layout: a table of rows, or key/value lines, nested as JSON."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        cols: dict[str, None] = {}
        for r in value[:50]:
            for k, v in r.items():
                if v not in (None, "", [], {}):
                    cols.setdefault(k, None)
        keys = list(cols)[:10]
        return _table(keys, [[cell(r.get(k)) for k in keys] for r in value])
    if isinstance(value, dict):
        lines = []
        for k, v in list(value.items())[:MAX_ROWS]:
            if depth < 1 and isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
                lines += ["", code(k), "", *_generic(v, depth + 1), ""]
            else:
                lines.append(f"- {code(k)}: {cell(v, 600)}")
        return lines
    if isinstance(value, list):
        return [f"- {cell(v, 600)}" for v in value[:MAX_ROWS]]
    return [cell(value, 2000)]


def render_markdown(report: Report) -> str:
    view = build_view(report)
    v, msg = view["verdict"], view["message"]
    label = str(v.get("label") or "unknown").upper()
    mode = view["dns_mode"]
    out: list[str] = [f"## mailsleuth verdict: {esc(label)}", ""]
    out.append(f"Confidence {round((v.get('confidence') or 0) * 100)}%, completeness "
               f"{round((v.get('completeness') or 0) * 100)}%. DNS: {esc(DNS_MODE_WORDS.get(mode, mode))}."
               + (" Recipient details redacted." if view["redacted"] else ""))
    out.append("")
    if v.get("summary"):
        out += [f"**{esc(v['summary'])}**", ""]
    for line in v.get("narrative") or []:
        out += [esc(line, 4000), ""]
    if v.get("would_change"):
        out.append("What would change this verdict:")
        out += [f"- {esc(w)}" for w in v["would_change"]]
        out.append("")
    g = view["glance"]
    facts = []
    if g["hops"]:
        transit = f", {duration(g['transit'])} in transit" if isinstance(g["transit"], float) else ""
        client = f", entered from {code(g['client'])}" if g["client"] else ""
        facts.append(f"- Route: {g['hops']} hops{transit}{client}")
    if g["auth"]:
        facts.append("- Authentication (claimed → re-verified): " + "; ".join(
            f"{esc(a['method'].upper())} {esc(a['claimed'] or 'no claim')} → {esc(a['verified'] or '—')}" for a in g["auth"]))
    if g["platform"]:
        facts.append(f"- Sent through: {esc(g['platform'])}")
    if g["owner"]:
        facts.append(f"- Ownership: {esc(g['owner'], 600)}")
    if facts:
        out += [*facts, ""]
    out += ["### Message", ""]
    out += _table(["Field", "Value"], [[t, cell(msg.get(k))] for k, t in (
        ("subject", "Subject"), ("from", "From"), ("to", "To"), ("date", "Date"), ("message_id", "Message-ID"))])
    out.append("")
    findings = view["findings"]
    out += [f"### Findings ({len(findings)})", ""]
    for f in findings:
        out.append(f"- **{esc(str(f.get('severity', '')).upper())}** {code(f.get('code'))}: {esc(f.get('title'))}")
        if f.get("explanation"):
            out.append(f"  {esc(f['explanation'], 3000)}")
        for e in (f.get("evidence") or [])[:8]:
            out.append(f"  - {esc(e.get('kind'))} {code(e.get('ref'), limit=200)}: {code(e.get('value'), limit=400)}")
    if not findings:
        out.append("No findings.")
    out.append("")
    hops = view["hops"]
    if hops and hops["rows"]:
        total = f" Total in transit: {duration(hops['total'])}." if isinstance(hops["total"], float) else ""
        out += ["### Route (origin first)", "", f"{len(hops['rows'])} hops.{total}", ""]
        out += _table(["#", "From", "IP", "By", "Time (UTC)", "Delay"], [
            [str(h["n"]), code(h["from"], table=True), code(h["from_ip"], table=True), code(h["by"], table=True),
             cell(h["time"]),
             (duration(h["delay"]) + (" (backwards)" if h["backwards"] else "")) if isinstance(h["delay"], float) else "—"]
            for h in hops["rows"]])
        out.append("")
    auth = view["auth"]
    if auth["rows"]:
        out += ["### Authentication: claimed vs re-verified", ""]
        rows = []
        for r in auth["rows"]:
            claimed = "; ".join(f"{esc(c.get('result'))} by {esc(c.get('by'))}"
                                + (" (unverified claim)" if c.get("trusted") is False else "") for c in r["claims"]) or "—"
            verified = "; ".join(f"{esc(x.get('result'))} {esc(x.get('subject'))}"
                                 + (f" ({esc(x.get('cause'), 200)})" if x.get("cause") else "") for x in r["verified"]) or "—"
            rows.append([esc(r["method"].upper()), claimed, verified])
        out += _table(["Method", "Claimed", "Re-verified"], rows)
        out.append("")
    for g in view["groups"]:
        if not g["sections"]:
            continue
        out += [f"### {esc(g['title'])}", ""]
        for sid, art in g["sections"]:
            out += [f"#### {esc(view['titles'].get(sid) or sid)} ({code(sid)})", "", *_generic(art), ""]
    dns = view["dns"]
    out += [f"### DNS evidence ({len(dns)})", ""]
    if dns:
        out += _table(["Query", "Status", "Answer"], [
            [code(f"{q.get('rdtype')} {q.get('name')}", table=True), cell(q.get("status")),
             code("; ".join(q.get("records") or []), table=True, limit=MAX_CELL)]
            for q in dns])
    else:
        out.append("No DNS queries were made.")
    out.append("")
    if view["skipped"]:
        out += ["### Not checked", ""]
        out += [f"- {code(s.get('check'))}: {esc(s.get('reason'))}" for s in view["skipped"]]
        out.append("")
    d = view["d"]
    out.append(f"_mailsleuth {esc(d.get('tool', {}).get('version'))}, schema {esc(d.get('schema'))}, "
               f"analysed {esc(d.get('analysed_at'))}_")
    return "\n".join(out) + "\n"
