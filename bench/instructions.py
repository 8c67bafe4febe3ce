"""Instructions per message under valgrind (not a test): a measure that other load cannot disturb.

    python bench/instructions.py --corpus ../shared/corpus --mode analyze
    python bench/instructions.py --corpus ../shared/corpus --mode baseline
    python bench/instructions.py --corpus ../shared/corpus --mode verify

``verify`` is the re-verification's own count: the corpus re-signed and analysed with DNS from a
snapshot as in bench/run.py, once with the DKIM, SPF, DMARC and ARC checks and once without them.

Runs the mode twice under ``valgrind --tool=cachegrind --cache-sim=no``, once with the warm-up
only and once with one more pass over the corpus; the difference divided by the number of
messages is the cost of one message without start-up. Instructions are not time (memory stalls,
the garbage collector's pointer chasing and branch misses cost time and few instructions), so use
it to compare two versions of the code, and bench/run.py for the speed itself. Needs valgrind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _work(mode: str, corpus: Path, passes: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import _files, bare_parse  # the same files and yardstick as the speed benchmark

    blobs = [p.read_bytes() for p in _files(corpus)]
    work: Callable[[bytes], None]
    if mode == "baseline":
        work = bare_parse
    elif mode in ("verify", "verify-without"):
        from run import _resign

        from mailsleuth.api import analyze, prepare_for_many
        from mailsleuth.config import Config
        from mailsleuth.dns.cache import CachingResolver
        from mailsleuth.engine import load_checks

        registry = load_checks()
        if mode == "verify-without":
            for cid in [c for c in registry if c.startswith("auth.verify.")]:
                del registry[cid]
        blobs, resolver = _resign(blobs, key_pem=os.environb[b"MAILSLEUTH_BENCH_KEY"])
        shared = CachingResolver(resolver, max_queries=10_000_000)
        vcfg = Config(dns_mode="snapshot", client_ip="192.0.2.25")
        prepare_for_many(vcfg)

        def work(raw: bytes) -> None:
            analyze(raw, config=vcfg, resolver=shared.fork())
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
    ap.add_argument("--mode", choices=("baseline", "analyze", "verify", "verify-without"), default="analyze")
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
    if args.mode == "verify":
        # One signing key for both runs (a fresh key per run would make them differ by its search).
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        os.environ["MAILSLEUTH_BENCH_KEY"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode("ascii")
        with_v = _per_message("verify", corpus, n)
        without = _per_message("verify-without", corpus, n)
        print(json.dumps({"mode": "verify", "messages": n, "analysis_with_dns_per_message": with_v,
                          "without_verification_checks": without,
                          "verification_instructions_per_message": with_v - without}))
        return
    print(json.dumps({"mode": args.mode, "messages": n,
                      "instructions_per_message": _per_message(args.mode, corpus, n)}))


def _per_message(mode: str, corpus: Path, n: int) -> int:
    # The two runs side by side (instruction counts do not depend on what else runs).
    with ThreadPoolExecutor(max_workers=2) as pool:
        start, one = pool.map(lambda passes: _count(mode, corpus, passes), (0, 1))
    return round((one - start) / n)


if __name__ == "__main__":
    main()
