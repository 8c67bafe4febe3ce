"""The engine: planning by dependencies, needs, contract enforcement, crash isolation; and scoring."""

from __future__ import annotations

import pytest

from mailsleuth.catalogue import fill, load_catalogue
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import CheckSpec, Context, Outcome, load_checks, plan, run_checks
from mailsleuth.errors import CheckContractError
from mailsleuth.model.findings import Severity
from mailsleuth.parse.message import parse_message
from mailsleuth.scoring import Composite, ScoringData, Weight, load_scoring, score

MSG = parse_message(b"From: a@example.com\nSubject: x\nTo: b@example.com\n")


def _ctx() -> Context:
    return Context(MSG, Config(dns_mode="off"), CachingResolver(OfflineResolver()))


def _spec(cid, func, codes=(), needs=(), depends=(), after=()):
    return CheckSpec(id=cid, title=cid, func=func, codes=frozenset(codes), needs=frozenset(needs),
                     depends=tuple(depends), after=tuple(after))


def test_plan_orders_dependencies_and_detects_cycles():
    noop = lambda ctx: Outcome()  # noqa: E731
    specs = {"b": _spec("b", noop, depends=["a"]), "a": _spec("a", noop), "c": _spec("c", noop, after=["b"])}
    assert [s.id for s in plan(specs)] == ["a", "b", "c"]
    with pytest.raises(CheckContractError, match="cycle"):
        plan({"x": _spec("x", noop, depends=["y"]), "y": _spec("y", noop, depends=["x"])})


def test_needs_skip_and_dependants_skip():
    seen = []

    def a(ctx):
        seen.append("a")
        return Outcome(artifact={"v": 1})

    def b(ctx):
        seen.append("b")
        return Outcome()

    def c(ctx):
        seen.append(("c", ctx.artifact("a")))
        return Outcome()

    specs = {"a": _spec("a", a, needs=["dns"]), "b": _spec("b", b, depends=["a"]), "c": _spec("c", c, after=["a"])}
    result = run_checks(_ctx(), specs)
    assert seen == [("c", None)]
    reasons = {s.check: s.reason for s in result.skipped}
    assert "DNS is off" in reasons["a"] and "depends on a" in reasons["b"]


def test_crash_becomes_finding_and_undeclared_code_is_refused():
    def boom(ctx):
        raise ValueError("bad")

    def ok(ctx):
        return Outcome(findings=[ctx.finding("INPUT_HEADERS_ONLY")])

    result = run_checks(_ctx(), {"boom": _spec("boom", boom), "ok": _spec("ok", ok, codes=["INPUT_HEADERS_ONLY"])})
    codes = [f.code for f in result.findings]
    assert codes == ["ENGINE_CHECK_FAILED", "INPUT_HEADERS_ONLY"]
    assert "ValueError" in result.findings[0].title

    def sneaky(ctx):
        return Outcome(findings=[ctx.finding("INPUT_DEFECT", defect="x")])

    with pytest.raises(CheckContractError, match="undeclared"):
        run_checks(_ctx(), {"s": _spec("s", sneaky, codes=["INPUT_HEADERS_ONLY"])})


def test_every_registered_check_declares_catalogued_codes():
    specs = load_checks()
    catalogue = load_catalogue()
    assert "input.structure" in specs
    for spec in specs.values():
        assert spec.codes <= catalogue.keys(), spec.id
    plan(specs)  # no cycles among the real checks


def test_catalogue_and_weights_are_consistent():
    catalogue = load_catalogue()
    scoring = load_scoring()
    unknown = sorted(set(scoring.weights) - catalogue.keys())
    assert not unknown, f"weights for codes not in the catalogue: {unknown}"
    for comp in scoring.composites:
        for code in (*comp.all, *comp.any, *comp.none):
            assert code in catalogue, f"composite {comp.id} names unknown code {code}"
    for entry in catalogue.values():
        assert entry.title and entry.explanation and isinstance(entry.severity, Severity)
    # Positive findings must not push towards phishing or spam.
    for code, w in scoring.weights.items():
        if catalogue[code].severity is Severity.POSITIVE:
            assert w.phish <= 0 and w.spam <= 0, code


def test_fill_tolerates_missing_facts():
    assert fill("a {x} b {y}", {"x": 1}) == "a 1 b ?"
    assert fill("broken {", {}) == "broken {"


def _f(code):
    from mailsleuth.model.findings import Finding

    return Finding(code=code, severity=Severity.MEDIUM, title=code.lower(), explanation="", check="t")


def test_scoring_labels_and_composites():
    data = ScoringData(
        weights={"BAD": Weight(phish=4.0), "GOOD": Weight(trust=3.0), "SPAMMY": Weight(spam=6.0),
                 "LURE": Weight(phish=1.0)},
        composites=(Composite(id="COMBO", all=("BAD", "LURE"), any=(), none=("GOOD",), weight=Weight(phish=2.0),
                              note="bad with lure"),),
        thresholds={"phishing": 6.0, "spam": 5.0, "suspicious": 3.0, "legitimate": 2.0, "trust_offsets_phish": 0.5},
    )
    v = score([_f("BAD"), _f("LURE")], [], ["x"], data)
    assert v.label.value == "phishing" and "COMBO" in v.composites
    v2 = score([_f("BAD"), _f("LURE"), _f("GOOD")], [], ["x"], data)
    assert v2.label.value == "suspicious" and not v2.composites
    assert score([_f("GOOD")], [], ["x"], data).label.value == "legitimate"
    assert score([_f("SPAMMY")], [], ["x"], data).label.value == "spam"
    assert score([], [], ["x"], data).label.value == "unknown"


def test_narrative_tells_each_item_on_the_side_it_weighs_more():
    data = ScoringData(
        weights={"GOOD": Weight(trust=3.0), "MIXED": Weight(trust=0.5, spam=0.5), "BAD": Weight(phish=1.0)},
        composites=(), thresholds={"phishing": 6.0, "spam": 5.0, "suspicious": 3.0, "legitimate": 2.0},
        narrative={"for": "FOR: {items}", "against": "AGAINST: {items}"},
    )
    v = score([_f("GOOD"), _f("MIXED"), _f("BAD")], [], ["x"], data)
    text = "\n".join(v.narrative)
    assert "FOR: good" in text and "AGAINST: bad" in text and "mixed" not in text
