"""The finished report: everything renderers may read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailsleuth.model.fastinit import fast_init
from mailsleuth.model.findings import Finding
from mailsleuth.model.verdict import Verdict


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DnsRecord:
    """One query and its answer as the report shows it."""

    name: str
    rdtype: str
    status: str
    records: tuple[str, ...]
    source: str
    elapsed_ms: float = 0.0


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    schema: str
    tool_version: str
    analysed_at: str
    message: dict[str, Any]
    sections: dict[str, Any]  # check id -> artifact (dataclasses, tuples, dicts)
    dns_mode: str
    dns: tuple[DnsRecord, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict
    config: dict[str, Any] = field(default_factory=dict)
