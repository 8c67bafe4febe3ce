"""The JSON report (schema ``mailsleuth.report/1``, documented in docs/report-schema.md).

Top level: ``schema``, ``tool``, ``analysed_at``, ``message``, ``hops``, ``authentication``,
``spam_filters``, ``identities``, ``dns``, ``findings``, ``verdict``, plus ``sections`` with every
check's artifact by check id. Keys are sorted; values are plain JSON.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from mailsleuth.model.report import Report

_MAX_DEPTH = 40


def to_jsonable(obj: Any, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        return "…"
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return obj[:2000].decode("utf-8", errors="replace")
    if isinstance(obj, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            if f.name.startswith("_") or f.metadata.get("json") is False:
                continue
            out[f.name] = to_jsonable(getattr(obj, f.name), depth + 1)
        return out
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = list(obj)
        if isinstance(obj, set | frozenset):
            items = sorted(items, key=str)
        return [to_jsonable(v, depth + 1) for v in items]
    if hasattr(obj, "to_json"):
        return to_jsonable(obj.to_json(), depth + 1)
    return str(obj)


# Sections promoted to the top level under stable names (check id -> top-level key).
TOP_LEVEL = {
    "hops": "received.chain",
    "authentication": "auth.reported",
    "spam_filters": "spam.stamps",
    "identities": "identity.alignment",
}


def report_dict(report: Report) -> dict[str, Any]:
    sections = to_jsonable(report.sections)
    out: dict[str, Any] = {
        "schema": report.schema,
        "tool": {"name": "mailsleuth", "version": report.tool_version},
        "analysed_at": report.analysed_at,
        "message": to_jsonable(report.message),
        "dns": {"mode": report.dns_mode, "queries": to_jsonable(report.dns)},
        "findings": to_jsonable(report.findings),
        "verdict": to_jsonable(report.verdict),
        "sections": sections,
        "config": to_jsonable(report.config),
    }
    for key, sid in TOP_LEVEL.items():
        out[key] = sections.get(sid)
    verified = {k: v for k, v in sections.items() if k.startswith("auth.verify")}
    if isinstance(out.get("authentication"), dict) and verified:
        out["authentication"] = {**out["authentication"], "verified": verified}
    elif verified:
        out["authentication"] = {"verified": verified}
    return out


def render_json(report: Report, *, indent: int | None = 2) -> str:
    return json.dumps(report_dict(report), indent=indent, sort_keys=True, ensure_ascii=False)
