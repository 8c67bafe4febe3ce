"""Regression guard for optimisation work (not a test): every report must stay the same.

    python bench/golden.py --write /tmp/golden        # before a change
    python bench/golden.py --check /tmp/golden        # after it: lists every report that differs

Reports of every corpus message offline, plus the bundled example with its snapshot, as canonical
JSON without the fields that change from run to run (analysis time, per-check timings, elapsed_ms).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cases(corpus: Path) -> list[tuple[str, Path, Path | None]]:
    out: list[tuple[str, Path, Path | None]] = []
    for label in ("phish", "legit", "spam"):
        d = corpus / label
        if d.is_dir():
            out.extend((f"{label}/{p.name}", p, None) for p in sorted(d.glob("*.eml")))
    for eml in sorted((ROOT / "examples").glob("*.eml")):
        dns = eml.with_suffix(".dns")
        out.append((f"examples/{eml.name}", eml, dns if dns.exists() else None))
    return out


def _report(path: Path, snapshot: Path | None) -> str:
    from mailsleuth.api import analyze
    from mailsleuth.config import Config
    from mailsleuth.dns.off import OfflineResolver
    from mailsleuth.dns.snapshot import SnapshotResolver
    from mailsleuth.render.jsonout import report_dict

    if snapshot is None:
        report = analyze(path.read_bytes(), config=Config(dns_mode="off"), resolver=OfflineResolver())
    else:
        report = analyze(path.read_bytes(), config=Config(dns_mode="snapshot"),
                         resolver=SnapshotResolver.from_file(snapshot))
    data = report_dict(report)
    data.pop("analysed_at", None)
    sections = data.get("sections") or {}
    if isinstance(sections, dict):
        sections.pop("_engine", None)
    return json.dumps(_drop_timings(data), sort_keys=True, indent=1, ensure_ascii=False)


def _drop_timings(obj: object) -> object:
    """The value without its ``elapsed_ms`` fields (wall-clock, different on every run)."""
    if isinstance(obj, dict):
        return {k: _drop_timings(v) for k, v in obj.items() if k != "elapsed_ms"}
    if isinstance(obj, list):
        return [_drop_timings(v) for v in obj]
    return obj


def main() -> int:
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="DIR")
    g.add_argument("--check", metavar="DIR")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    args = ap.parse_args()
    target = Path(args.write or args.check)
    differ = 0
    for name, path, snap in _cases(Path(args.corpus)):
        text = _report(path, snap)
        out = target / (name.replace("/", "__") + ".json")
        if args.write:
            target.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        elif not out.exists() or out.read_text(encoding="utf-8") != text:
            differ += 1
            print(f"differs: {name}")
    print(f"{'written' if args.write else 'checked'}: {len(_cases(Path(args.corpus)))} reports, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
