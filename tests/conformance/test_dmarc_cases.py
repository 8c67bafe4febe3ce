"""Our own DMARC cases (tests/conformance/dmarc/*.yml), both discovery modes (RFC 9989 tree walk and
RFC 7489 PSL). Run: ``.venv/bin/python -m pytest -q tests/conformance/test_dmarc_cases.py -s``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mailsleuth.auth.dmarc import DmarcResult, evaluate_both
from tests.conformance.spf_zone import openspf_resolver

CASE_DIR = Path(__file__).parent / "dmarc"


def load_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted(CASE_DIR.glob("*.yml")):
        with path.open(encoding="utf-8") as fh:
            for doc in yaml.safe_load_all(fh):
                if doc:
                    for tid, t in (doc.get("tests") or {}).items():
                        out.append((f"{path.stem}/{tid}", t, doc.get("zonedata") or {}))
    return out


CASES = load_cases()


def _observed(r: DmarcResult) -> dict[str, Any]:
    return {
        "result": r.result.value,
        "record": r.record.domain if r.record is not None and r.policy is not None else None,
        "org": r.org_domain,
        "policy": f"{r.policy_tag}={r.policy}" if r.policy else None,
        "requested": r.requested,
        "aligned": sorted({a.method for a in r.aligned_pass}),
        "complete": r.complete,
    }


def check_case(test: dict[str, Any], zone: dict[str, Any]) -> list[str]:
    resolver = openspf_resolver(zone, empty_non_terminals=True)
    spf = test.get("spf")
    dkim = test.get("dkim")
    both = evaluate_both(str(test["from"]).rpartition("@")[2],
                         spf=(spf["result"], spf["domain"]) if spf else None,
                         dkim=[(d["d"], d["result"]) for d in dkim] if dkim is not None else None,
                         resolver=resolver)
    problems = []
    for mode, res in (("rfc9989", both.rfc9989), ("rfc7489", both.rfc7489)):
        seen = _observed(res)
        for key, want in (test["expected"].get(mode) or {}).items():
            got = seen[key]
            if key == "aligned":
                want = sorted(want)
            if got != want:
                problems.append(f"{mode} {key}: got {got!r}, want {want!r} ({res.cause})")
    if "differs" in test and bool(both.differences) != test["differs"]:
        problems.append(f"differs: got {list(both.differences)}, want {test['differs']}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_dmarc_case(case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    _tid, test, zone = case
    problems = check_case(test, zone)
    assert not problems, "; ".join(problems)


def test_dmarc_case_summary(capsys: pytest.CaptureFixture[str]) -> None:
    failed = [(tid, check_case(t, z)) for tid, t, z in CASES]
    failed = [(tid, p) for tid, p in failed if p]
    with capsys.disabled():
        print(f"\nDMARC cases (ours): {len(CASES) - len(failed)}/{len(CASES)} passed, 0 skipped")
        for tid, p in failed:
            print(f"  FAILED {tid}: {'; '.join(p)}")
    assert len(CASES) >= 30
    modes_differ = sum(1 for _t, t, _z in CASES if t.get("differs"))
    assert modes_differ >= 5, "the cases must cover disagreements between the two modes"
    assert not failed
