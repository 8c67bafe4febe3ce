"""Findings and their evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mailsleuth.model.fastinit import fast_init


class Severity(StrEnum):
    """How much a finding matters. ``positive`` findings reassure (they lower suspicion)."""

    POSITIVE = "positive"
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Severity.POSITIVE: 0,
    Severity.INFO: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}


class EvidenceKind(StrEnum):
    HEADER = "header"  # ref: "Received[2]" (field name and 0-based index among that name, top first)
    DNS = "dns"  # ref: "TXT example.com"; value: the answer or its status
    URL = "url"  # ref: where the URL appeared; value: the URL
    HOP = "hop"  # ref: "hop 1"; value: a summary of the hop
    ATTACHMENT = "attachment"
    HTTP = "http"  # an opt-in web lookup (RDAP, link following)
    BODY = "body"
    CONFIG = "config"
    COMPUTED = "computed"  # a value we derived (e.g. an organizational domain)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """One observed fact a finding rests on: where it was seen and what it was. Never prose."""

    kind: EvidenceKind
    ref: str
    value: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A coded observation. Words come from the findings catalogue, filled with ``facts``."""

    code: str
    severity: Severity
    title: str
    explanation: str
    check: str
    evidence: tuple[Evidence, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    area: str = ""
