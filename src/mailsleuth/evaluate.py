"""The evaluation harness: run offline over a labelled folder and report the confusion matrix."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from mailsleuth.api import analyze_many
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.errors import InputError

TRUE_LABELS = ("phish", "legit", "spam")
PREDICTED = ("phishing", "suspicious", "spam", "legitimate", "unknown", "error")


@dataclass
class EvalResult:
    matrix: dict[str, dict[str, int]]
    per_file: list[tuple[str, str, str]] = field(default_factory=list)  # (path, truth, predicted)
    seconds: float = 0.0
    count: int = 0

    def rate(self, truth: str, predicted: tuple[str, ...]) -> float:
        row = self.matrix.get(truth, {})
        total = sum(row.values())
        return sum(row.get(p, 0) for p in predicted) / total if total else 0.0


def evaluate_dir(root: Path, *, config: Config | None = None, limit: int | None = None) -> EvalResult:
    cfg = (config or Config()).with_overrides(dns_mode="off")
    matrix = {t: dict.fromkeys(PREDICTED, 0) for t in TRUE_LABELS}
    result = EvalResult(matrix=matrix)
    if not root.is_dir():
        raise InputError(f"{root} is not a directory")
    files: list[tuple[str, Path]] = []
    for truth in TRUE_LABELS:
        sub = root / truth
        if sub.is_dir():
            found = sorted(p for p in sub.iterdir() if p.is_file() and not p.name.startswith("."))
            files.extend((truth, p) for p in found[:limit])
    if not files:
        raise InputError(f"{root} has no phish/, legit/ or spam/ folder with messages")
    t0 = time.perf_counter()
    # Many messages, check by check (api.analyze_many): each report is what analyze() gives alone.
    outcomes = analyze_many((path.read_bytes() for _truth, path in files), config=cfg, resolver=OfflineResolver)
    for (truth, path), outcome in zip(files, outcomes, strict=True):
        label = "error" if isinstance(outcome, InputError) else outcome.verdict.label.value
        matrix[truth][label] += 1
        result.per_file.append((str(path), truth, label))
    result.seconds = time.perf_counter() - t0
    result.count = len(files)
    return result


def format_eval(result: EvalResult, *, as_json: bool = False, show_errors: bool = False) -> str:
    flagged = ("phishing", "suspicious", "spam")
    summary = {
        "messages": result.count,
        "seconds": round(result.seconds, 3),
        "messages_per_second": round(result.count / result.seconds, 1) if result.seconds else None,
        "phish_detected": round(result.rate("phish", ("phishing", "suspicious")), 3),
        "phish_flagged_any": round(result.rate("phish", flagged), 3),
        "spam_flagged": round(result.rate("spam", flagged), 3),
        "legit_false_positive": round(result.rate("legit", flagged), 3),
        "legit_called_phishing": round(result.rate("legit", ("phishing",)), 3),
        "legit_called_legitimate": round(result.rate("legit", ("legitimate",)), 3),
        "matrix": result.matrix,
    }
    if as_json:
        return json.dumps(summary, indent=2, sort_keys=True) + "\n"
    lines = ["truth \\ verdict  " + " ".join(f"{p:>11}" for p in PREDICTED)]
    for t in TRUE_LABELS:
        lines.append(f"{t:<16} " + " ".join(f"{result.matrix[t][p]:>11}" for p in PREDICTED))
    lines.append("")
    lines.append(f"phish detected (phishing or suspicious): {summary['phish_detected']:.1%}")
    lines.append(f"phish flagged (any non-legitimate label): {summary['phish_flagged_any']:.1%}")
    lines.append(f"spam flagged: {summary['spam_flagged']:.1%}")
    lines.append(f"legit false positives (phishing/suspicious/spam): {summary['legit_false_positive']:.1%}")
    lines.append(f"legit called legitimate: {summary['legit_called_legitimate']:.1%}")
    lines.append(f"{result.count} messages in {result.seconds:.2f}s = {summary['messages_per_second']} msg/s")
    if show_errors:
        lines.append("")
        for path, truth, label in result.per_file:
            wrong = (truth == "legit" and label in flagged) or (truth == "phish" and label not in ("phishing", "suspicious"))
            if wrong:
                lines.append(f"{truth:>6} -> {label:<11} {path}")
    return "\n".join(lines) + "\n"
