"""Findings -> verdict. Weights, composites, thresholds and narrative words are data
(``data/scoring/*.toml``); this module only adds them up and explains the sum.

Three axes: ``phish`` (deception aimed at the reader), ``spam`` (unwanted bulk), ``trust``
(evidence that the sender is who it says). A finding contributes its weights once per code
(repeats add ``repeat`` times the weight, capped). Composites are named combinations of codes that
add their own weights, like rspamd's composites.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from operator import attrgetter, itemgetter
from typing import Any

from mailsleuth.catalogue import fill
from mailsleuth.errors import DataError
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Finding
from mailsleuth.model.verdict import Contribution, Label, SkippedCheck, Verdict

AXES = ("phish", "spam", "trust")


@dataclass(frozen=True, slots=True)
class Weight:
    phish: float = 0.0
    spam: float = 0.0
    trust: float = 0.0
    repeat: float = 0.0  # share of the weight added by each further finding of the same code
    changes: str = ""  # what would change this finding's effect (for "what would change the verdict")


@dataclass(frozen=True, slots=True)
class Composite:
    id: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    none: tuple[str, ...]
    weight: Weight
    note: str


@dataclass(frozen=True, slots=True)
class ScoringData:
    weights: dict[str, Weight]
    composites: tuple[Composite, ...]
    thresholds: dict[str, float]
    narrative: dict[str, str] = field(default_factory=dict)


def _weight(body: dict[str, Any], where: str) -> Weight:
    unknown = set(body) - {"phish", "spam", "trust", "repeat", "changes"}
    if unknown:
        raise DataError(f"scoring {where}: unknown keys {sorted(unknown)}")
    try:
        return Weight(phish=float(body.get("phish", 0.0)), spam=float(body.get("spam", 0.0)),
                      trust=float(body.get("trust", 0.0)), repeat=float(body.get("repeat", 0.0)),
                      changes=str(body.get("changes", "")))
    except (TypeError, ValueError) as exc:
        raise DataError(f"scoring {where}: {exc}") from None


@cache
def load_scoring() -> ScoringData:
    weights: dict[str, Weight] = {}
    composites: list[Composite] = []
    thresholds: dict[str, float] = {}
    narrative: dict[str, str] = {}
    root = resources.files("mailsleuth") / "data" / "scoring"
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        try:
            data = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"scoring/{item.name}: {exc}") from None
        for code, body in data.get("weights", {}).items():
            if code in weights:
                raise DataError(f"scoring/{item.name}: weight for {code} defined twice")
            weights[code] = _weight(body, f"{item.name}:{code}")
        for comp in data.get("composites", []):
            composites.append(Composite(
                id=comp["id"], all=tuple(comp.get("all", ())), any=tuple(comp.get("any", ())),
                none=tuple(comp.get("none", ())), note=comp.get("note", ""),
                weight=_weight({k: comp[k] for k in AXES if k in comp}, f"{item.name}:{comp['id']}"),
            ))
        thresholds.update({k: float(v) for k, v in data.get("thresholds", {}).items()})
        narrative.update({k: str(v) for k, v in data.get("narrative", {}).items()})
    for key in ("phishing", "spam", "suspicious", "legitimate"):
        thresholds.setdefault(key, {"phishing": 6.0, "spam": 5.0, "suspicious": 3.0, "legitimate": 2.0}[key])
    return ScoringData(weights=weights, composites=tuple(composites), thresholds=thresholds, narrative=narrative)


_CODE = attrgetter("code")
_TITLE = attrgetter("title")
_FIRST = itemgetter(0)
_new_contribution = factory(Contribution)


def _magnitude(c: Contribution) -> float:
    return abs(c.phish) + abs(c.spam) + abs(c.trust)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def score(findings: list[Finding], skipped: list[SkippedCheck], ran: list[str],
          data: ScoringData | None = None) -> Verdict:
    data = data or load_scoring()
    weights = data.weights
    # Findings per code, in order of first appearance (a Counter keeps it); the first one's title is
    # the note (reading the findings backwards, the first one's title is written last).
    codes = list(map(_CODE, findings))
    counts = Counter(codes)
    first_title = dict(zip(reversed(codes), map(_TITLE, reversed(findings)), strict=True))
    phish = spam = trust = 0.0
    contributions: list[Contribution] = []
    for code, n in counts.items():
        w = weights.get(code)
        if w is None:
            continue
        if n == 1:  # the common case: the weights as they are (the multiplier would be 1.0)
            cp, cs, ct = w.phish, w.spam, w.trust
        else:
            mult = 1.0 + min(n - 1, 5) * w.repeat
            cp, cs, ct = w.phish * mult, w.spam * mult, w.trust * mult
        if cp or cs or ct:
            contributions.append(_new_contribution(code=code, phish=cp, spam=cs, trust=ct, note=first_title[code]))
            phish += cp
            spam += cs
            trust += ct
    fired: list[str] = []
    present = counts.__contains__
    for comp in data.composites:
        if comp.all and not all(map(present, comp.all)):
            continue
        if comp.any and not any(map(present, comp.any)):
            continue
        if any(map(present, comp.none)):
            continue
        fired.append(comp.id)
        cw = comp.weight
        contributions.append(_new_contribution(code=comp.id, phish=cw.phish, spam=cw.spam, trust=cw.trust, note=comp.note))
        phish += cw.phish
        spam += cw.spam
        trust += cw.trust
    th = data.thresholds
    # Trust offsets suspicion: strong, verified identity evidence lowers phish/spam weight.
    eff_phish = phish - max(0.0, trust) * th.get("trust_offsets_phish", 0.5)
    eff_spam = spam - max(0.0, trust) * th.get("trust_offsets_spam", 0.2)
    if eff_phish >= th["phishing"]:
        label, margin = Label.PHISHING, eff_phish - th["phishing"]
    elif eff_spam >= th["spam"] and eff_spam >= eff_phish:
        label, margin = Label.SPAM, eff_spam - th["spam"]
    elif eff_phish >= th["suspicious"]:
        label, margin = Label.SUSPICIOUS, eff_phish - th["suspicious"]
    elif eff_spam >= th["spam"]:
        label, margin = Label.SPAM, eff_spam - th["spam"]
    elif (trust >= th["legitimate"] and eff_phish < th.get("legitimate_max_phish", th["suspicious"])
          and eff_spam < th.get("legitimate_max_spam", th["spam"])):
        label, margin = Label.LEGITIMATE, trust - th["legitimate"]
    else:
        label, margin = Label.UNKNOWN, 0.0
    ran_set = set(ran)
    total_checks = len(ran) + len({s.check for s in skipped if s.check not in ran_set})
    completeness = (len(ran) / total_checks) if total_checks else 0.0
    # Partial runs (ran, but noted what they could not do) count half.
    partial = {s.check for s in skipped if s.check in ran_set}
    if total_checks:
        completeness = max(0.0, (len(ran) - 0.5 * len(partial)) / total_checks)
    base = 0.5 if label is Label.UNKNOWN else _sigmoid(0.8 * margin + 0.6)
    confidence = round(max(0.05, min(0.99, base * (0.6 + 0.4 * completeness))), 2)
    contributions.sort(key=_magnitude, reverse=True)  # stable: ties keep their order
    facts = {
        "label": label.value, "phish": round(phish, 2), "spam": round(spam, 2), "trust": round(trust, 2),
        "top": contributions[0].note if contributions else "",
    }
    summary = fill(data.narrative.get(f"summary_{label.value}", "{label}"), facts)
    narrative = _narrative(label, contributions, findings, data, facts)
    would = _would_change(label, contributions, skipped, data)
    return Verdict(
        label=label, confidence=confidence, summary=summary, narrative=tuple(narrative),
        would_change=tuple(would), completeness=round(completeness, 2), skipped=tuple(skipped),
        scores={"phish": round(phish, 3), "spam": round(spam, 3), "trust": round(trust, 3)}, contributions=tuple(contributions),
        composites=tuple(fired),
    )


@lru_cache(maxsize=1024)  # the same skip reasons and many of the same titles come back every message
def _clip(text: str, limit: int = 170) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + " …"


def _narrative(label: Label, contributions: list[Contribution], findings: list[Finding], data: ScoringData,
               facts: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    intro = data.narrative.get(f"intro_{label.value}")
    if intro:
        lines.append(fill(intro, facts))
    # How much each item speaks for and against the message; an item is told on the side it weighs
    # more on (a bulk platform, as reassuring as it is bulk-like, is on neither).
    favour: list[tuple[float, Contribution]] = []
    disfavour: list[tuple[float, Contribution]] = []
    for c in contributions:
        good = max(c.trust, 0.0) - min(c.phish, 0.0) - min(c.spam, 0.0)
        bad = max(c.phish, 0.0) + max(c.spam, 0.0) - min(c.trust, 0.0)
        if good > bad:
            favour.append((good, c))
        elif bad > good:
            disfavour.append((bad, c))
    # Strongest first; the sorts are stable, so equal weights keep their order.
    for_ = [c for _w, c in sorted(favour, key=_FIRST, reverse=True)[:3]]
    against = [c for _w, c in sorted(disfavour, key=_FIRST, reverse=True)[:3]]
    if for_:
        lines.append(fill(data.narrative.get("for", "In its favour: {items}."),
                          {"items": "; ".join(_clip(c.note, 420 if i == 0 else 170) for i, c in enumerate(for_))}))
    if against:
        lines.append(fill(data.narrative.get("against", "Against it: {items}."),
                          {"items": "; ".join(_clip(c.note, 420 if i == 0 else 170)
                                              for i, c in enumerate(against))}))
    return lines


def _would_change(label: Label, contributions: list[Contribution], skipped: list[SkippedCheck],
                  data: ScoringData) -> list[str]:
    out: list[str] = []
    for c in contributions[:6]:
        w = data.weights.get(c.code)
        if w and w.changes and w.changes not in out:
            out.append(w.changes)
    reasons = list(dict.fromkeys(_clip(s.reason, 120) for s in skipped))
    if reasons:
        shown = "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")
        out.append(fill(data.narrative.get("skipped", "A check that did not run ({reason}) could add evidence."),
                        {"reason": shown}))
    return out[:7]
