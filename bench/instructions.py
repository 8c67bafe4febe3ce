"""Instructions per message under valgrind (not a test): a measure that other load cannot disturb.

    python bench/instructions.py --corpus ../shared/corpus --mode analyze
    python bench/instructions.py --corpus ../shared/corpus --mode baseline

Runs the mode twice under ``valgrind --tool=cachegrind --cache-sim=no``, once with the warm-up
only and once with one more pass over the corpus; the difference divided by the number of
messages is the cost of one message without start-up. Instructions are not time (memory stalls,
the garbage collector's pointer chasing and branch misses cost time and few instructions), so use
it to compare two versions of the code, and bench/run.py for the speed itself. Needs valgrind.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _work(mode: str, corpus: Path, passes: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import _files, bare_parse  # the same files and yardstick as the speed benchmark

    blobs = [p.read_bytes() for p in _files(corpus)]
    work: Callable[[bytes], None]
    if mode == "baseline":
        work = bare_parse
    else:
        from mailsleuth.api import analyze, prepare_for_many
        from mailsleuth.config import Config
        from mailsleuth.dns.off import OfflineResolver

        cfg = Config(dns_mode="off")
        prepare_for_many(cfg)  # as bench/run.py: a full collection landing in one run would move the count

        def work(raw: bytes) -> None:
            analyze(raw, config=cfg, resolver=OfflineResolver())
    for raw in blobs[:5]:
        work(raw)
    for _ in range(passes):
        for raw in blobs:
            work(raw)


def _count(mode: str, corpus: Path, passes: int) -> int:
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, __file__, "--corpus", str(corpus), "--mode", mode, "--work", str(passes)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    m = _REFS.search(proc.stderr)
    if proc.returncode != 0 or not m:
        raise SystemExit(f"instructions: valgrind run failed:\n{proc.stderr[-1500:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))
    ap.add_argument("--mode", choices=("baseline", "analyze"), default="analyze")
    ap.add_argument("--work", type=int, default=None, help=argparse.SUPPRESS)  # the child's side
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if args.work is not None:
        _work(args.mode, corpus, args.work)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("instructions: valgrind is not installed (apt-get install valgrind)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import _files

    n = len(_files(corpus))
    start, one = _count(args.mode, corpus, 0), _count(args.mode, corpus, 1)
    print(json.dumps({"mode": args.mode, "messages": n, "instructions_per_message": round((one - start) / n)}))


if __name__ == "__main__":
    main()
