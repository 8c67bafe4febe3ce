"""Confusion matrix with some checks switched off, to show what an area contributes.

    python bench/ablation.py --corpus ../shared/corpus --without body. --without brand.

Runs the same offline evaluation as `mailsleuth eval`, once with every check and once without the
checks whose ids start with any --without prefix, and prints both matrices.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mailsleuth import engine
from mailsleuth.evaluate import evaluate_dir, format_eval


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))
    ap.add_argument("--without", action="append", default=[], help="check id prefix to switch off (repeatable)")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    full = evaluate_dir(corpus)
    specs = engine.load_checks()
    removed = {k: v for k, v in specs.items() if any(k.startswith(p) for p in args.without)}
    for k in removed:
        del specs[k]
    try:
        reduced = evaluate_dir(corpus)
    finally:
        specs.update(removed)
    print(f"WITHOUT {', '.join(sorted(removed)) or '(nothing matched)'}:")
    print(format_eval(reduced))
    print("WITH every check:")
    print(format_eval(full))


if __name__ == "__main__":
    main()
