"""How often a sending platform is named on the corpus, by label, offline; and a sample to check.

Runs the whole analysis offline (``dns_mode=off``: headers only, as in the evaluation harness)
over ../shared/corpus (or DIR) and prints, per label:

- named: messages for which a platform is named as the origin (PLATFORM_MATCH);
- relay only: messages where only a relay/gateway/recipient provider was recognised;
- with marks: messages carrying at least one mark of a known platform on the sender's side
  (any signal of a data file, however weak), and the share of those that got a platform named;
- hinted: messages whose INDEX.tsv notes carry the corpus builder's independent ESP guess
  ("ESP=...", sometimes two: "SendGrid/Klaviyo"), the share of those named, and how many were named
  as (one of) the hinted ESPs.

``--sample N`` prints the evidence of N random named matches (fixed seed) for reading by hand.

    .venv/bin/python bench/platform_share.py [DIR] [--sample 30] [--seed 7]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mailsleuth.api import analyze  # noqa: E402
from mailsleuth.config import Config  # noqa: E402
from mailsleuth.infra.platforms import load_platforms, marks, observe  # noqa: E402
from mailsleuth.infra.standalone import _BareContext  # noqa: E402
from mailsleuth.infra.view import build_view  # noqa: E402
from mailsleuth.parse.message import parse_message  # noqa: E402

HINT_TO_ID = {"SendGrid": "sendgrid", "Mailgun": "mailgun", "AmazonSES": "amazon-ses", "SparkPost": "sparkpost",
              "Postmark": "postmark", "Brevo": "brevo", "Klaviyo": "klaviyo", "ActiveCampaign": "activecampaign",
              "msgfocus": "upland-adestra", "Mailchimp": "mailchimp", "Mandrill": "mandrill"}


def hints(corpus: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    index = corpus / "INDEX.tsv"
    if not index.exists():
        return out
    for line in index.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 7 and "ESP=" in cols[6]:
            out[cols[0]] = cols[6].split("ESP=", 1)[1].split(";")[0].strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    corpus = Path(args.corpus)
    hint = hints(corpus)
    kinds = {p.id: p.kind for p in load_platforms()}
    cfg = Config(dns_mode="off")
    named_all: list[tuple[str, str, object]] = []
    print(f"{'label':6} {'n':>4} {'named':>12} {'relay only':>11} {'with marks':>11} {'named|marks':>12} "
          f"{'hinted':>7} {'named|hint':>11} {'=hint':>6}")
    for label_dir in sorted(p for p in corpus.iterdir() if p.is_dir()):
        label = label_dir.name
        n = named = relay_only = with_marks = named_marks = hinted = named_hint = same_hint = 0
        by_platform: collections.Counter[str] = collections.Counter()
        for f in sorted(label_dir.glob("*.eml")):
            raw = f.read_bytes()
            n += 1
            rep = analyze(raw, config=cfg, filename=str(f))
            art = rep.sections.get("infra.platform")
            origin = getattr(art, "origin", None)
            relays = getattr(art, "relays", ())
            msg = parse_message(raw)
            view = build_view(_BareContext(msg))
            fired = marks(observe(view, msg))
            sender_side = any(kinds.get(pid) != "gateway" and any(h.side in ("origin",) for h in hs)
                              for pid, hs in fired.items())
            key = f"{label}/{f.name}"
            if origin:
                named += 1
                by_platform[origin] += 1
                named_all.append((key, origin, art))
            elif relays:
                relay_only += 1
            if sender_side:
                with_marks += 1
                named_marks += bool(origin)
            if key in hint:
                hinted += 1
                named_hint += bool(origin)
                same_hint += origin in {HINT_TO_ID.get(h.strip()) for h in hint[key].split("/")}
        pct = lambda a, b: f"{a}/{b} {100 * a / b:3.0f}%" if b else "-"  # noqa: E731
        print(f"{label:6} {n:>4} {pct(named, n):>12} {relay_only:>11} {with_marks:>11} {pct(named_marks, with_marks):>12} "
              f"{hinted:>7} {pct(named_hint, hinted):>11} {same_hint:>6}")
        print("       " + ", ".join(f"{k} {v}" for k, v in by_platform.most_common()))
    if args.sample and named_all:
        rng = random.Random(args.seed)
        print(f"\nEvidence of {min(args.sample, len(named_all))} random named matches (seed {args.seed}):")
        for key, origin, art in rng.sample(named_all, min(args.sample, len(named_all))):
            m = next(x for x in art.matches if x.id == origin and x.role == "origin")  # type: ignore[attr-defined]
            sig = "; ".join(f"{s.kind}={s.detail[:70]} ({s.ref})" for s in m.signals[:4])
            print(f"- {key}: {m.name} {m.confidence:.0%} :: {sig}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
