"""analyze_many / run_checks_many: many messages check by check give each message what it gets alone."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mailsleuth.api import analyze, analyze_many
from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.engine import CheckSpec, Context, Outcome, run_checks, run_checks_many
from mailsleuth.errors import InputError
from mailsleuth.parse.message import parse_message
from mailsleuth.render.jsonout import to_jsonable

PINNED = "2026-11-29T12:00:00+00:00"


def _without_timings(data: object) -> object:
    # Wall-clock timings differ from run to run whatever the engine does.
    if isinstance(data, dict):
        return {k: _without_timings(v) for k, v in data.items() if k not in ("_engine", "elapsed_ms")}
    if isinstance(data, list):
        return [_without_timings(v) for v in data]
    return data


def _comparable(report: object) -> dict[str, object]:
    data = _without_timings(to_jsonable(report))
    assert isinstance(data, dict)
    return data


def _inputs(corpus: Path | None) -> list[bytes]:
    own = [
        b"",  # unusable: InputError, in its place
        b"\x00\x01\x02 binary",
        b"From: a@example.com\nTo: b@example.com\nSubject: headers only\n",
        b"From: \"Bank\" <alert@examp1e-bank.com>\nTo: b@example.com\nSubject: verify\n\n"
        b"Verify your password at http://examp1e-bank.com/login now.\n",
    ]
    examples = Path(__file__).resolve().parents[2] / "examples"
    own += [p.read_bytes() for p in sorted(examples.glob("*.eml"))]
    if corpus is not None:
        files = sorted(corpus.glob("*/*.eml"))
        own += [p.read_bytes() for p in random.Random(7).sample(files, min(40, len(files)))]
    return own


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_reports_are_those_of_analyze_one_by_one(corpus_dir: Path, batch_size: int) -> None:
    cfg = Config(dns_mode="off", now=PINNED)
    inputs = _inputs(corpus_dir)
    alone: list[object] = []
    for raw in inputs:
        try:
            alone.append(_comparable(analyze(raw, config=cfg, resolver=OfflineResolver())))
        except InputError as exc:
            alone.append(("error", str(exc)))
    many = [("error", str(o)) if isinstance(o, InputError) else _comparable(o)
            for o in analyze_many(iter(inputs), config=cfg, resolver=OfflineResolver, batch_size=batch_size)]
    assert len(many) == len(inputs)
    assert many == alone
    assert ("error", str(alone[0][1])) == many[0]  # type: ignore[index]


def test_same_with_dns_from_a_snapshot_and_a_cache_shared_by_the_batch(example_eml: bytes,
                                                                         example_dns_path: Path) -> None:
    cfg = Config(dns_mode="snapshot", dns_snapshot=str(example_dns_path), now=PINNED)
    shared = CachingResolver(SnapshotResolver.from_file(example_dns_path))
    inputs = [example_eml, b"From: a@example.com\nSubject: x\n", example_eml]
    alone = [_comparable(analyze(raw, config=cfg, resolver=SnapshotResolver.from_file(example_dns_path))) for raw in inputs]
    many = [_comparable(r) for r in analyze_many(inputs, config=cfg, resolver=shared.fork, batch_size=2)]
    assert many == alone
    assert many[0]["dns"], "the example's DNS evidence is in the report"


def _spec(cid: str, func, codes=(), after=()) -> CheckSpec:  # type: ignore[no-untyped-def]
    return CheckSpec(id=cid, title=cid, func=func, codes=frozenset(codes), after=tuple(after))


def test_run_checks_many_goes_check_by_check_and_isolates_each_message() -> None:
    order: list[tuple[str, str]] = []

    def first(ctx: Context) -> Outcome:
        subject = ctx.message.value("Subject")
        order.append(("first", subject))
        if subject == "boom":
            raise ValueError("only this message")
        return Outcome(artifact=subject.upper())

    def second(ctx: Context) -> Outcome:
        order.append(("second", ctx.message.value("Subject")))
        return Outcome(artifact=ctx.artifact("first"))

    specs = {"first": _spec("first", first), "second": _spec("second", second, after=["first"])}

    def ctx(subject: str) -> Context:
        msg = parse_message(f"From: a@example.com\nSubject: {subject}\n".encode())
        return Context(msg, Config(dns_mode="off"), CachingResolver(OfflineResolver()))

    results = run_checks_many([ctx("a"), ctx("boom"), ctx("c")], specs)
    assert order == [("first", "a"), ("first", "boom"), ("first", "c"),
                     ("second", "a"), ("second", "boom"), ("second", "c")]
    assert [r.artifacts.get("second") for r in results] == ["A", None, "C"]
    assert [f.code for f in results[1].findings] == ["ENGINE_CHECK_FAILED"]
    assert not results[0].findings and not results[2].findings
    alone = run_checks(ctx("boom"), specs)
    assert [s.reason for s in alone.skipped] == [s.reason for s in results[1].skipped]


def test_an_empty_batch_gives_nothing() -> None:
    assert list(analyze_many([], config=Config(dns_mode="off"))) == []


def test_batches_are_bounded_by_count_and_by_input_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import mailsleuth.api as api

    sizes: list[int] = []
    real = api.run_checks_many

    def counting(ctxs):  # type: ignore[no-untyped-def]
        sizes.append(len(ctxs))
        return real(ctxs)

    monkeypatch.setattr(api, "run_checks_many", counting)
    small = b"From: a@example.com\nSubject: s\n"
    big = b"From: a@example.com\nSubject: big\n\n" + b"x" * 5000 + b"\n"
    cfg = Config(dns_mode="off", now=PINNED)
    out = list(analyze_many([small] * 7, config=cfg, batch_size=3))
    assert len(out) == 7 and sizes == [3, 3, 1]
    sizes.clear()
    # Held input reaching batch_bytes ends a batch early: a big message is not kept waiting with others.
    out = list(analyze_many([small, big, small, small, big], config=cfg, batch_size=16, batch_bytes=4000))
    assert [r.message["subject"] for r in out] == ["s", "big", "s", "s", "big"]  # type: ignore[union-attr]
    assert sizes == [2, 3]
