"""Where the time of an offline analysis goes (not a test): per stage and per check, CPU ms/message.

    python bench/breakdown.py --corpus ../shared/corpus --repeat 3

Stages: parse (bytes -> Message), each check (the engine's own timings, which include whatever lazy
parsing that check triggers first), scoring + report assembly (the rest). CPU time (process_time), so
other load on the machine disturbs it less than wall time; compare runs made under similar load.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    from mailsleuth.api import analyze_message, parse_limits
    from mailsleuth.config import Config
    from mailsleuth.dns.off import OfflineResolver
    from mailsleuth.parse.message import parse_message

    files = [p for label in ("phish", "legit", "spam") for p in sorted((Path(args.corpus) / label).glob("*.eml"))]
    blobs = [p.read_bytes() for p in files]
    cfg = Config(dns_mode="off")
    limits = parse_limits(cfg)
    for raw in blobs[:5]:
        analyze_message(parse_message(raw, limits=limits), config=cfg, resolver=OfflineResolver())
    checks: collections.Counter[str] = collections.Counter()
    parse_t = total_t = 0.0
    n = 0
    for _ in range(args.repeat):
        for raw in blobs:
            t0 = time.process_time()
            msg = parse_message(raw, limits=limits)
            t1 = time.process_time()
            report = analyze_message(msg, config=cfg, resolver=OfflineResolver())
            t2 = time.process_time()
            parse_t += t1 - t0
            total_t += t2 - t0
            n += 1
            for k, v in report.sections["_engine"]["timings_ms"].items():
                checks[k] += v
    in_checks = sum(checks.values()) / n
    print(f"messages {n}  total {total_t * 1000 / n:.3f} ms/msg (CPU)")
    print(f"  parse_message          {parse_t * 1000 / n:7.3f}")
    print(f"  checks (sum)           {in_checks:7.3f}")
    print(f"  scoring+report (rest)  {(total_t - parse_t) * 1000 / n - in_checks:7.3f}")
    for k, v in checks.most_common(args.top):
        print(f"    {k:22s} {v / n:7.3f}")


if __name__ == "__main__":
    main()
