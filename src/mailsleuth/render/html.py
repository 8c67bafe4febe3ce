"""The HTML report: one standalone page, no external resources, readable without JavaScript.

The page is built from the JSON form of the report (:func:`mailsleuth.render.jsonout.report_dict`),
so every section a check adds appears without template work: key sections have their own
templates (verdict and narrative, hop timeline, authentication reported against re-verified,
findings with evidence, DNS evidence); any other section falls back to a generic, nested
rendering of its JSON. Templates are Jinja2 with autoescaping always on: every attacker-controlled
string is escaped by the template engine; nothing is marked safe except our own stylesheet.

The standalone file carries a Content-Security-Policy ``<meta>`` that forbids scripts and any
network access, with the inline stylesheet allowed by its hash (defence in depth: escaping alone
already keeps markup in header values inert, and the tests check both layers separately).

The web app (mailsleuth.web) renders the same templates with the stylesheet served as a file.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import ChainableUndefined, Environment, FunctionLoader, Template
from markupsafe import Markup

from mailsleuth.model.report import Report
from mailsleuth.render.jsonout import report_dict, to_jsonable

TEMPLATE_PACKAGE = "mailsleuth.render"
TEMPLATE_DIR = "templates"

# Sections shown in named groups, in this order; anything else lands in "Other checks".
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("route", "Route", ("received.chain",)),
    ("auth", "Authentication and identity",
     ("auth.reported", "auth.verify.dkim", "auth.verify.spf", "auth.verify.dmarc", "auth.verify.arc",
      "auth.compare", "identity.alignment", "spam.stamps")),
    ("sender", "Sending platform and ownership",
     ("infra.platform", "infra.ownership", "infra.abuse", "infra.rdap", "infra.dns", "brand.impersonation")),
    ("content", "Links and attachments", ("body.links", "body.attachments", "body.follow")),
)
# Rendered by dedicated parts of the page, not as generic sections.
DEDICATED = frozenset({"received.chain", "auth.reported", "auth.verify.dkim", "auth.verify.spf",
                       "auth.verify.dmarc", "auth.verify.arc"})
HIDDEN = frozenset({"_engine"})

MAX_ITEMS = 200  # list items shown per level of the generic rendering
MAX_DEPTH = 6
MAX_STRING = 4000

_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info", "positive")


# --------------------------------------------------------------------------------------------- env

def _load_template(name: str) -> str | None:
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_DIR, name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


@cache
def stylesheet() -> str:
    """The report stylesheet (also served by the web app as /static/report.css)."""
    return _load_template("report.css") or ""


def style_hash() -> str:
    """CSP source expression for the inline stylesheet of the standalone file."""
    digest = hashlib.sha256(stylesheet().encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def visible(value: object) -> object:
    """Jinja2 ``finalize``: control characters in any printed string are shown as ``\\xNN``;
    ``None`` prints as nothing. Markup (our own macros and stylesheet) passes unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup) and _CONTROL.search(value):
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def configure(env: Environment) -> Environment:
    """Register the filters and globals the report templates use (the web app calls this too)."""
    env.finalize = visible
    env.filters.update({
        "label": humanize, "short": shorten, "duration": duration, "scalar": is_scalar,
        "columns": table_columns, "hop_dur": duration,
    })
    env.tests.update({"scalar": is_scalar, "table": is_table, "records": is_records, "compact": is_compact})
    env.globals.update({"MAX_ITEMS": MAX_ITEMS, "MAX_DEPTH": MAX_DEPTH})
    return env


@cache
def environment() -> Environment:
    env = Environment(loader=FunctionLoader(_load_template), autoescape=True, undefined=ChainableUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    return configure(env)


def template(name: str) -> Template:
    return environment().get_template(name)


# ----------------------------------------------------------------------------------------- filters

def humanize(key: object) -> str:
    s = str(key).replace("_", " ").strip()
    return s[:1].upper() + s[1:] if s else s


def shorten(value: object, limit: int = MAX_STRING) -> str:
    s = "" if value is None else str(value)
    if _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def is_scalar(v: object) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _flat(x: object) -> bool:
    return is_scalar(x) or (isinstance(x, list) and len(x) <= 8 and all(is_scalar(i) for i in x)) or \
        (isinstance(x, dict) and is_compact(x))


def is_table(v: object) -> bool:
    """A list of flat records (scalars, short lists of scalars): shown as a grid. Records holding
    nested structures are shown one below the other instead (grids inside grids are unreadable)."""
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) and all(_flat(i) for i in x.values()) for x in v)


def is_records(v: object) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def is_compact(v: object) -> bool:
    """A small mapping of short scalars, shown inline as ``key value`` chips."""
    return isinstance(v, dict) and 0 < len(v) <= 8 and all(
        is_scalar(x) and len(str(k)) + len(str(x)) < 48 for k, x in v.items())


def table_columns(rows: list[dict[str, Any]], limit: int = 12) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows[:50]:
        for k, v in r.items():
            if v not in (None, "", [], {}):
                cols.setdefault(k, None)
    return list(cols)[:limit]


def duration(seconds: object) -> str:
    """A delay for people: ``0.4 s``, ``12 s``, ``2 min 30 s``, ``3 h 5 min``, ``2.5 days``."""
    if not isinstance(seconds, int | float) or seconds != seconds:
        return ""
    s = float(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s < 1:
        return f"{sign}{s:.1f} s" if s else "0 s"
    if s < 120:
        return f"{sign}{s:.0f} s"
    whole = round(s)
    if whole < 3600:
        m, sec = divmod(whole, 60)
        return f"{sign}{m} min" + (f" {sec} s" if sec else "")
    if whole < 172800:
        h, rest = divmod(whole, 3600)
        return f"{sign}{h} h" + (f" {rest // 60} min" if rest // 60 else "")
    return f"{sign}{s / 86400:.1f} days"


# -------------------------------------------------------------------------------------- view model

def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def _list_of_dicts(value: Any, keys: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """The first list of dicts found at ``value`` itself or under one of ``keys`` (one level)."""
    if is_records(value):
        return list(value)
    if isinstance(value, dict):
        for k in keys:
            if is_records(value.get(k)):
                return list(value[k])
    return None


def hop_view(chain: Any) -> dict[str, Any] | None:
    """Hops in the order the message travelled (origin first), with the delay at each hop and a bar
    proportional to it. Delays come from the hop's own fields when the chain check supplies them,
    otherwise from consecutive timestamps."""
    chain = to_jsonable(chain)
    hops = _list_of_dicts(chain, ("hops", "chain", "items", "received"))
    if hops is None:
        return None
    extras = {k: v for k, v in chain.items() if k not in ("hops", "chain", "items", "received", "boundary")} \
        if isinstance(chain, dict) else {}

    def inner(h: dict[str, Any]) -> dict[str, Any]:
        return h["hop"] if isinstance(h.get("hop"), dict) else h

    def index(h: dict[str, Any]) -> int:
        i = h.get("header_index", inner(h).get("header_index"))
        return i if isinstance(i, int) else 0

    if all(isinstance(h.get("number"), int) for h in hops):
        ordered = sorted(hops, key=lambda h: h["number"])  # the chain numbered them, origin first
    else:
        ordered = sorted(hops, key=index, reverse=True)  # bottom (oldest) header first
    rows: list[dict[str, Any]] = []
    prev: datetime | None = None
    first: datetime | None = None
    last: datetime | None = None
    for n, h in enumerate(ordered, 1):
        hop = inner(h)
        ts = _parse_time(hop.get("timestamp"))
        given = next((h[k] for k in ("delay_s", "delay_seconds", "delay") if isinstance(h.get(k), int | float)), None)
        if given is None and any(k in h for k in ("delay_s", "delay_seconds")):
            delay = None  # the chain says the delay is unknown here (e.g. no timestamp)
        else:
            delay = float(given) if given is not None else (
                (ts - prev).total_seconds() if ts is not None and prev is not None else None)
        if ts is not None:
            prev = ts
            first = first or ts
            last = ts
        sender = hop.get("from_rdns") or hop.get("from_helo") or ""
        rows.append({
            "n": h.get("number") if isinstance(h.get("number"), int) else n, "header_index": index(h),
            "raw": hop.get("raw", ""), "from": sender,
            "from_helo": hop.get("from_helo"), "from_ip": hop.get("from_ip"), "by": hop.get("by_host"),
            "protocol": hop.get("protocol"), "tls": hop.get("tls") or hop.get("tls_version"), "id": hop.get("id"),
            "for": hop.get("for_addr"), "time": ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if ts is not None
            else (hop.get("timestamp") or hop.get("timestamp_raw")),
            "delay": delay, "parsed": hop.get("parsed", True), "side": h.get("side"),
            "forged": bool(hop.get("may_be_forged") or h.get("may_be_forged")),
            "trusted": next((h[k] for k in ("trusted", "internal", "inside") if isinstance(h.get(k), bool)), None),
            "notes": [v for k, v in h.items() if k in ("note", "notes", "problems", "issues") and v],
            "extra": {k: v for k, v in h.items() if k not in _HOP_KNOWN and v not in (None, "", [], {})},
        })
    delays = [abs(r["delay"]) for r in rows if isinstance(r["delay"], float)]
    longest = max(delays, default=0.0)
    for r in rows:
        d = r["delay"]
        r["bar"] = round(min(100.0, abs(d) / longest * 100), 1) if isinstance(d, float) and longest > 0 else 0.0
        r["backwards"] = isinstance(d, float) and d < 0
    total = (last - first).total_seconds() if first is not None and last is not None else None
    return {"rows": rows, "total": total, "longest": longest, "extras": extras}


_HOP_KNOWN = frozenset({
    "header_index", "index", "raw", "parsed", "from_helo", "from_rdns", "from_ip", "by_host", "via",
    "protocol", "tls", "id", "for_addr", "envelope_from", "timestamp", "timestamp_raw", "comments",
    "authenticated", "hop", "delay_seconds", "delay_s", "delay", "trusted", "internal", "inside",
    "note", "notes", "problems", "issues", "number", "side", "header_position", "may_be_forged", "by_ip",
    "tls_bits", "tls_cipher", "tls_version",
})


def auth_view(d: dict[str, Any]) -> dict[str, Any]:
    """Authentication claims (per header) and our re-verification (per method), side by side."""
    auth: dict[str, Any] = d["authentication"] if isinstance(d.get("authentication"), dict) else {}
    sections = d.get("sections") or {}
    reported_raw = sections.get("auth.reported")
    headers = _list_of_dicts(reported_raw, ("headers", "reported", "results", "items")) or []
    claims: dict[str, list[dict[str, Any]]] = {}
    for h in headers:
        for res in h.get("results") or []:
            if not isinstance(res, dict):
                continue
            method = str(res.get("method") or "?").lower()
            claims.setdefault(method, []).append({
                "result": res.get("result") or res.get("result_raw"), "by": h.get("authserv_id"),
                "header": h.get("header_name"), "ref": _ref(h), "trusted": h.get("trusted"),
                "reason": res.get("reason"),
                "props": {p.get("name") if not p.get("ptype") else f"{p['ptype']}.{p.get('name')}": p.get("value")
                          for p in (res.get("properties") or []) if isinstance(p, dict)},
            })
    verified: dict[str, list[dict[str, Any]]] = {}
    context: list[tuple[str, Any]] = []
    list_keys = ("results", "signatures", "items", "verified")
    for sid, art in (auth.get("verified") or {}).items():
        items = art if isinstance(art, list) else [art]
        if isinstance(art, dict) and "method" not in art:
            found = _list_of_dicts(art, list_keys)
            items = found or [art]
            if found:
                rest = {k: v for k, v in art.items() if k not in list_keys and v not in (None, "", [], {})}
                if rest:
                    context.append((sid, rest))
        for it in items:
            if not isinstance(it, dict):
                continue
            method = str(it.get("method") or sid.rsplit(".", 1)[-1]).lower()
            verified.setdefault(method, []).append({**it, "section": sid})
    preferred = ["spf", "dkim", "dmarc", "arc"]
    methods = [m for m in preferred if m in claims or m in verified]
    methods += sorted(m for m in set(claims) | set(verified) if m not in preferred)
    rows = [{"method": m, "claims": claims.get(m, []), "verified": verified.get(m, [])} for m in methods]
    reported_extra = None
    if reported_raw is not None and not headers:
        reported_extra = reported_raw
    elif isinstance(reported_raw, dict):
        rest = {k: v for k, v in reported_raw.items()
                if k not in ("headers", "reported", "results", "items", "claims", "methods") and v not in (None, "", [], {})}
        if rest:
            context.append(("auth.reported", rest))
    return {"rows": rows, "headers": headers, "reported_generic": reported_extra, "context": context}


def _ref(h: dict[str, Any]) -> str:
    name, occ = h.get("header_name"), h.get("occurrence")
    return f"{name}[{occ}]" if name is not None and occ is not None else str(name or "")


def build_view(report: Report, *, data: dict[str, Any] | None = None) -> dict[str, Any]:
    d = data if data is not None else report_dict(report)
    sections: dict[str, Any] = d.get("sections") or {}
    findings = list(d.get("findings") or [])
    counts = {s: 0 for s in _SEVERITY_ORDER}
    for f in findings:
        sev = f.get("severity")
        if sev in counts:
            counts[sev] += 1
    groups = []
    placed: set[str] = set(DEDICATED) | set(HIDDEN)
    for gid, gtitle, ids in GROUPS:
        items = [(sid, sections[sid]) for sid in ids if sid in sections and sid not in DEDICATED]
        placed.update(ids)
        groups.append({"id": gid, "title": gtitle, "sections": items})
    others = sorted((sid, art) for sid, art in sections.items() if sid not in placed and not sid.startswith("_"))
    if others:
        groups.append({"id": "other", "title": "Other checks", "sections": others})
    verdict = d.get("verdict") or {}
    engine = sections.get("_engine") or {}
    hops = hop_view(sections.get("received.chain"))
    auth = auth_view(d)
    return {
        "glance": glance(sections, hops, auth),
        "d": d, "verdict": verdict, "message": d.get("message") or {}, "findings": findings,
        "severity_counts": counts, "hops": hops, "auth": auth,
        "groups": groups, "dns": (d.get("dns") or {}).get("queries") or [],
        "dns_mode": (d.get("dns") or {}).get("mode") or report.dns_mode, "skipped": verdict.get("skipped") or [],
        "engine": engine, "redacted": bool((d.get("config") or {}).get("redact")),
        "titles": section_titles(),
    }


def _first_text(*values: Any) -> str | None:
    for v in values:
        if isinstance(v, str) and v.strip():
            return v
        if isinstance(v, dict):
            for k in ("name", "title", "id"):
                if isinstance(v.get(k), str) and v[k].strip():
                    return str(v[k])
    return None


def glance(sections: dict[str, Any], hops: dict[str, Any] | None, auth: dict[str, Any]) -> dict[str, Any]:
    """The few facts shown right under the verdict: route, authentication, sender platform."""
    def best(items: list[dict[str, Any]], trusted_first: bool = False) -> str | None:
        if trusted_first:
            items = sorted(items, key=lambda c: c.get("trusted") is not True)
        for it in items:
            if it.get("result"):
                return str(it["result"])
        return None

    def section(sid: str) -> dict[str, Any]:
        v = sections.get(sid)
        return v if isinstance(v, dict) else {}

    platform, owner, chain = section("infra.platform"), section("infra.ownership"), section("received.chain")
    return {
        "hops": len(hops["rows"]) if hops else None,
        "transit": hops["total"] if hops else None,
        "client": _first_text(chain.get("client_rdns"), chain.get("client_helo")),
        "client_ip": _first_text(chain.get("client_ip")),
        "auth": [{"method": r["method"], "claimed": best(r["claims"], True), "verified": best(r["verified"])}
                 for r in auth["rows"] if r["method"] in ("spf", "dkim", "dmarc", "arc")],
        "platform": _first_text(platform.get("platform"), owner.get("platform")),
        "owner": _first_text(owner.get("summary")),
    }


@cache
def section_titles() -> dict[str, str]:
    """Check titles by id, from the engine's registry (empty if the checks cannot be loaded)."""
    try:
        from mailsleuth.engine import load_checks

        return {cid: spec.title for cid, spec in load_checks().items()}
    except Exception:  # a broken registry must not lose the report page
        return {}


DNS_MODE_WORDS = {
    "live": "live DNS (answers fetched now)",
    "snapshot": "DNS snapshot (recorded answers; names not in it are unknown)",
    "off": "offline (no DNS; checks that need it say so)",
    "memory": "in-memory test zone",
}


def render_html(report: Report, *, title: str | None = None) -> str:
    """The standalone HTML report (one file: inline CSS, no scripts, no external resources)."""
    view = build_view(report)
    page_title = title or f"mailsleuth report: {shorten(view['message'].get('subject'), 120) or '(no subject)'}"
    csp = f"default-src 'none'; style-src {style_hash()}; img-src data:; form-action 'none'; base-uri 'none'"
    html = template("standalone.html").render(
        **view, page_title=page_title, css=Markup(stylesheet()), csp=csp, dns_mode_words=DNS_MODE_WORDS,
    )
    return html
