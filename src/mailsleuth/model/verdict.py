"""The verdict and the itemised contributions behind it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mailsleuth.model.fastinit import fast_init


class Label(StrEnum):
    LEGITIMATE = "legitimate"
    SUSPICIOUS = "suspicious"
    PHISHING = "phishing"
    SPAM = "spam"
    UNKNOWN = "unknown"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Contribution:
    """One weighed item: a finding code (or a named composite) and what it added per axis."""

    code: str
    phish: float
    spam: float
    trust: float
    note: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedCheck:
    check: str
    reason: str


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    label: Label
    confidence: float  # 0..1
    summary: str  # one line
    narrative: tuple[str, ...]  # a few sentences in a postmaster's words
    would_change: tuple[str, ...]  # what evidence would change the verdict
    completeness: float  # share of checks that ran, 0..1
    skipped: tuple[SkippedCheck, ...]
    scores: dict[str, float]
    contributions: tuple[Contribution, ...]
    composites: tuple[str, ...] = ()
