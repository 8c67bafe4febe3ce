"""Brand-index benchmark and detection figures (not a test).

    .venv/bin/python bench/brands.py                      # all three measurements
    .venv/bin/python bench/brands.py --only cost          # per-domain cost only
    .venv/bin/python bench/brands.py --corpus ../shared/corpus --only fp

- cost: one name checked against the whole registry (``BrandIndex.match`` with its cache cleared
  before every call, so each figure is a full uncached lookup), over dnstwist permutations and
  unrelated names; mean, p50, p99 in microseconds.
- detect: dnstwist's fuzzer (offline: generation only, no DNS) over the first official domain of
  every brand; the share of permutations detected as imitating that brand (and any brand).
  Permutations that are themselves a brand's own domain (a real ccTLD site) are left out.
- fp: the From and Return-Path domains of ``<corpus>/legit``: the share flagged as imitating a brand.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from mailsleuth.brands import index as index_mod
from mailsleuth.brands.index import BrandIndex
from mailsleuth.brands.registry import load_registry


def permutations(domain: str, cap: int | None = None) -> list[tuple[str, str]]:
    import dnstwist  # type: ignore[import-untyped]

    f = dnstwist.Fuzzer(domain)
    f.generate()
    out = [(p["domain"], p["fuzzer"]) for p in f.domains if p["fuzzer"] != "*original"]
    if cap and len(out) > cap:
        step = len(out) / cap
        out = [out[int(i * step)] for i in range(cap)]
    return out


def same_family(idx: BrandIndex, a: str, b: str) -> bool:
    if a == b:
        return True
    ga, gb = idx.brands[a].group, idx.brands[b].group
    return bool(ga) and ga == gb


def detect(cap: int | None, every: int = 1) -> dict[str, object]:
    brands = load_registry()
    idx = BrandIndex(brands)
    total = hit_same = hit_any = 0
    missed: collections.Counter[str] = collections.Counter()
    by_fuzzer: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = collections.defaultdict(list)
    for b in brands[::every]:
        dom = b.domains[0] if b.domains else b.user_domains[0]
        for name, fuzzer in permutations(dom, cap):
            if idx.owned(name) is not None:
                continue
            total += 1
            by_fuzzer[fuzzer] += 1
            m = idx.match(name)
            if m is not None:
                hit_any += 1
                if same_family(idx, m.brand_id, b.id):
                    hit_same += 1
                    continue
            missed[fuzzer] += 1
            if len(examples[fuzzer]) < 5:
                examples[fuzzer].append(f"{name} ({dom}{' -> ' + m.brand_id if m else ''})")
    return {"permutations": total, "detected_same_brand": hit_same, "detected_any_brand": hit_any,
            "rate_same_brand": hit_same / max(1, total), "rate_any_brand": hit_any / max(1, total),
            "missed_by_fuzzer": dict(missed), "generated_by_fuzzer": dict(by_fuzzer), "missed_examples": dict(examples)}


def cost(n: int = 3000) -> dict[str, float]:
    brands = load_registry()
    idx = BrandIndex(brands)
    names: list[str] = []
    for b in brands[::5]:
        names += [p for p, _ in permutations(b.domains[0] if b.domains else b.user_domains[0], 20)]
    names += [f"unrelated-sender-{i}.example.net" for i in range(200)]
    names = names[:n]
    times = []
    for name in names:
        index_mod._match_cached.cache_clear()
        t = time.perf_counter()
        idx.match(name)
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return {"names": len(times), "mean_us": statistics.fmean(times), "p50_us": times[len(times) // 2],
            "p99_us": times[int(len(times) * 0.99)], "max_us": times[-1]}


def fp(corpus: Path) -> dict[str, object]:
    from mailsleuth.domains import org_domain
    from mailsleuth.parse.addresses import parse_addresses
    from mailsleuth.parse.message import parse_message

    idx = BrandIndex(load_registry())
    occurrences = flagged_occ = 0
    names: set[str] = set()
    orgs: set[str] = set()
    flagged: dict[str, str] = {}
    for path in sorted((corpus / "legit").glob("*.eml")):
        msg = parse_message(path.read_bytes())
        for field in ("From", "Return-Path"):
            for a in parse_addresses(msg.value(field))[:3]:
                if not a.domain:
                    continue
                occurrences += 1
                names.add(a.domain)
                orgs.add(org_domain(a.domain) or a.domain)
                m = idx.match(a.domain)
                if m is not None:
                    flagged_occ += 1
                    flagged[a.domain] = f"{m.brand_id} ({m.technique.value}: {m.detail})"
    flagged_orgs = {org_domain(d) or d for d in flagged}
    return {"occurrences": occurrences, "flagged_occurrences": flagged_occ,
            "share_occurrences": flagged_occ / max(1, occurrences),
            "distinct_names": len(names), "flagged_names": len(flagged), "share_names": len(flagged) / max(1, len(names)),
            "distinct_org_domains": len(orgs), "flagged_org_domains": len(flagged_orgs),
            "share_org_domains": len(flagged_orgs) / max(1, len(orgs)), "flagged": flagged}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=("cost", "detect", "fp"))
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    ap.add_argument("--cap", type=int, default=0, help="at most this many permutations per domain (0: all)")
    args = ap.parse_args()
    print(f"registry: {len(load_registry())} brands")
    if args.only in (None, "cost"):
        print("cost (one name against the whole registry, uncached):", cost())
    if args.only in (None, "detect"):
        t = time.perf_counter()
        r = detect(args.cap or None)
        print(f"detect ({time.perf_counter() - t:.0f}s):")
        for k, v in r.items():
            print(f"  {k}: {v}")
    if args.only in (None, "fp"):
        corpus = Path(args.corpus)
        if (corpus / "legit").is_dir():
            for k, v in fp(corpus).items():
                print(f"  {k}: {v}")
        else:
            print(f"fp: {corpus}/legit not found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
