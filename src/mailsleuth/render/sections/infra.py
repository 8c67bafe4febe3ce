"""Terminal rendering of the infrastructure sections: DNS enrichment, registration data, the
ownership narrative and abuse contacts. Reads the JSON form of the artifacts, so a report loaded
back from JSON renders the same."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import safe, section


def _list(v: Any, n: int = 4) -> str:
    if not v:
        return ""
    items = [str(x) for x in list(v)[:n]]
    more = len(v) - n if isinstance(v, list | tuple) and len(v) > n else 0
    return ", ".join(items) + (f" (+{more})" if more else "")


def _fcrdns(v: Any) -> str:
    return "confirmed" if v is True else "does not match" if v is False else "unknown"


@section("infra.dns", title="Sending hosts and identity domains in DNS", order=60)
def render_dns(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    ips = data.get("ips") or []
    if ips:
        t = Table("address", "seen as", "reverse DNS (PTR)", "FCrDNS", "network (origin AS)")
        for ip in ips[:30]:
            net = ip.get("network") or {}
            if net.get("asn") is not None:
                netw = f"AS{net.get('asn')} {net.get('owner') or ''} {net.get('prefix') or ''} {net.get('country') or ''}"
            else:
                netw = f"unknown ({net.get('status', '?')})"
            t.add_row(safe(ip.get("ip"), 45), safe(_list(ip.get("roles"), 3), 60),
                      safe(_list(ip.get("ptr"), 2) or ip.get("ptr_status", ""), 80), _fcrdns(ip.get("fcrdns")),
                      safe(netw.strip(), 90))
        console.print(t)
    doms = data.get("domains") or []
    if doms:
        t = Table("domain", "role", "exists", "name servers (operator)", "MX", "SPF includes")
        for d in doms[:30]:
            ex = {True: "yes", False: "NO (NXDOMAIN)"}.get(d.get("exists"), "unknown")
            ns = _list(d.get("ns"), 2)
            if d.get("ns_operators"):
                ns += f" ({_list(d.get('ns_operators'), 2)})"
            if not ns:
                ns = (d.get("status") or {}).get("NS", "")
            mx = _list([m.split()[-1] for m in d.get("mx") or [] if m.split()], 2) or (d.get("status") or {}).get("MX", "")
            spf = d.get("spf") or {}
            t.add_row(safe(d.get("domain"), 60), safe(_list(d.get("roles"), 3), 40), ex, safe(ns, 120),
                      safe(mx, 80), safe(_list(spf.get("includes"), 4) or ("no SPF" if spf.get("status") == "NOERROR" else
                                                                         spf.get("status", "")), 120))
        console.print(t)
    console.print(Text(f"{data.get('queries', 0)} questions in {data.get('waves', 0)} concurrent waves, "
                       f"{data.get('elapsed_ms', 0):.0f} ms (budget {data.get('budget_s', 0):g} s, DNS mode "
                       f"{data.get('mode', '?')}). 'unknown' means not learned (e.g. not in the snapshot), not absent."))


@section("infra.rdap", title="Registration data (RDAP)", order=61)
def render_rdap(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    seen: set[str] = set()
    t = Table("asked", "registrar / network", "registered", "expires", "registrant", "abuse contact", "source")
    for group in ("domains", "ips"):
        for name, rec in list((data.get(group) or {}).items())[:40]:
            if not isinstance(rec, dict) or rec.get("query") in seen:
                continue
            seen.add(str(rec.get("query")))
            if not rec.get("ok"):
                t.add_row(safe(rec.get("query") or name, 60), safe(f"not available: {rec.get('error')}", 80), "", "", "",
                          "", "")
                continue
            age = rec.get("age_days")
            created = (rec.get("created") or "")[:10] + (f" ({age:g} days before the message)" if isinstance(age, int | float) else "")
            t.add_row(safe(rec.get("query"), 60), safe(rec.get("registrar") or rec.get("network_name") or "", 60),
                      safe(created, 50), safe((rec.get("expires") or "")[:10], 12),
                      safe(rec.get("registrant_org") or "not public", 60), safe(rec.get("abuse_email") or "", 60),
                      "cache" if rec.get("from_cache") else "RDAP")
    console.print(t)


@section("infra.ownership", title="Who operates the sending domain", order=62)
def render_ownership(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    if data.get("summary"):
        console.print(Text("In short: ", style="bold") + safe(data["summary"], 600))
    for st in (data.get("statements") or [])[:20]:
        console.print(Text("  • ") + safe(st.get("text", ""), 800))
        for ev in (st.get("evidence") or [])[:4]:
            console.print(Text("      evidence: ", style="dim") + safe(ev, 300))


@section("infra.abuse", title="Where to report it", order=63)
def render_abuse(artifact: Any, console: Console) -> None:
    data = to_jsonable(artifact)
    if not isinstance(data, dict):
        console.print(safe(data))
        return
    contacts = data.get("contacts") or []
    if contacts:
        t = Table("who", "responsible for", "contact", "known from")
        for c in contacts[:20]:
            t.add_row(safe(f"{c.get('party')}: {c.get('name')}", 80), safe(c.get("about", ""), 60),
                      safe(c.get("contact", ""), 120), safe(c.get("source", ""), 80))
        console.print(t)
    else:
        console.print("No abuse contact is known for this message.")
    if data.get("note"):
        console.print(safe(data["note"], 400))
