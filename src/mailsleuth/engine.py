"""Checks: declared once, planned from their needs and dependencies, run in isolation.

A check is a function ``(ctx) -> Outcome`` registered with :func:`check`, declaring an id, a title,
what it needs (``dns``, ``body``, ``rdap``, ``follow_links``), which checks it depends on (their
artifacts become readable through ``ctx.artifact``), and every finding code it may emit. The engine
refuses an undeclared code, skips (does not fail) a check whose needs are absent, and turns a
crash into a finding so that one broken check never loses the report.

Check modules live in ``mailsleuth.checks`` and are discovered there: adding a check touches no
other check.
"""

from __future__ import annotations

import importlib
import operator
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mailsleuth.catalogue import fill, load_catalogue
from mailsleuth.errors import CheckContractError
from mailsleuth.model.fastinit import factory
from mailsleuth.model.findings import Evidence, EvidenceKind, Finding, Severity
from mailsleuth.model.verdict import SkippedCheck

if TYPE_CHECKING:
    from mailsleuth.config import Config
    from mailsleuth.dns.cache import CachingResolver
    from mailsleuth.http import HttpClient
    from mailsleuth.model.message import Message

NEEDS = frozenset({"dns", "body", "rdap", "follow_links"})


@dataclass(slots=True)
class Outcome:
    """What a check returns: its findings, an optional artifact for the report and for dependants,
    and notes on what it could not do (these make the verdict incomplete)."""

    findings: list[Finding] = field(default_factory=list)
    artifact: Any = None
    incomplete: list[str] = field(default_factory=list)


CheckFunc = Callable[["Context"], Outcome]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    id: str
    title: str
    func: CheckFunc
    codes: frozenset[str]
    needs: frozenset[str] = frozenset()
    depends: tuple[str, ...] = ()  # hard: skipped when one of these did not run
    after: tuple[str, ...] = ()  # soft: run after these when present; read their artifacts if any
    section: str | None = None  # report section the artifact goes to (default: the id)


REGISTRY: dict[str, CheckSpec] = {}


def check(id: str, *, title: str, codes: Iterable[str] = (), needs: Iterable[str] = (),
          depends: Iterable[str] = (), after: Iterable[str] = (),
          section: str | None = None) -> Callable[[CheckFunc], CheckFunc]:
    def deco(func: CheckFunc) -> CheckFunc:
        need_set = frozenset(needs)
        unknown = need_set - NEEDS
        if unknown:
            raise CheckContractError(f"check {id}: unknown needs {sorted(unknown)}")
        REGISTRY[id] = CheckSpec(id=id, title=title, func=func, codes=frozenset(codes), needs=need_set,
                                 depends=tuple(depends), after=tuple(after), section=section)
        return func

    return deco


_LOADED = False


def load_checks() -> dict[str, CheckSpec]:
    global _LOADED
    if not _LOADED:
        import mailsleuth.checks as pkg

        for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not mod.name.startswith("_"):
                importlib.import_module(f"mailsleuth.checks.{mod.name}")
        _LOADED = True
        catalogue = load_catalogue()
        for spec in REGISTRY.values():
            missing = sorted(c for c in spec.codes if c not in catalogue)
            if missing:
                raise CheckContractError(f"check {spec.id} declares codes missing from the catalogue: {missing}")
    return REGISTRY


_PLANNED: list[tuple[tuple[CheckSpec, ...], list[CheckSpec]]] = []


def _cached_plan(specs: dict[str, CheckSpec]) -> list[CheckSpec]:
    """plan(specs), reused while the same check specs are registered (the order depends on them alone)."""
    key = tuple(specs.values())
    for known, order in _PLANNED:
        # Tuple equality looks at identity first; map(is_) then refuses equal but distinct specs.
        if known == key and all(map(operator.is_, known, key)):
            return order
    order = plan(specs)
    _PLANNED[:] = [(key, order)]
    return order


def plan(specs: dict[str, CheckSpec]) -> list[CheckSpec]:
    """Order checks so that dependencies run first (stable by id otherwise)."""
    order: list[CheckSpec] = []
    state: dict[str, int] = {}

    def visit(cid: str, trail: tuple[str, ...]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            raise CheckContractError(f"dependency cycle: {' -> '.join((*trail, cid))}")
        spec = specs.get(cid)
        if spec is None:
            return
        state[cid] = 1
        for dep in (*spec.depends, *spec.after):
            visit(dep, (*trail, cid))
        state[cid] = 2
        order.append(spec)

    for cid in sorted(specs):
        visit(cid, ())
    return order


class Context:
    """What a check may read: the message, config, resolver, clock, HTTP client and the artifacts
    of the checks it depends on. Checks never print, score or touch the network otherwise."""

    def __init__(self, message: Message, config: Config, resolver: CachingResolver,
                 clock: Callable[[], datetime] | None = None, http: HttpClient | None = None):
        self.message = message
        self.config = config
        self.resolver = resolver
        self.clock = clock or (lambda: datetime.now(UTC))
        self.http = http
        self.artifacts: dict[str, Any] = {}
        # ``ctx.artifact(check_id)``: the artifact of an earlier check, or None. It is the dict's
        # own ``get`` (checks ask for artifacts dozens of times a message).
        self.artifact: Callable[[str], Any] = self.artifacts.get
        self._current: CheckSpec | None = None
        self._catalogue = load_catalogue()

    def finding(self, code: str, evidence: Iterable[Evidence] = (), *, severity: Severity | None = None,
                **facts: Any) -> Finding:
        spec = self._current
        if spec is not None and code not in spec.codes:
            raise CheckContractError(f"check {spec.id} emitted undeclared code {code}")
        entry = self._catalogue.get(code)
        if entry is None:
            raise CheckContractError(f"finding code {code} is not in the catalogue")
        # ``facts`` is this call's own keyword dict: the finding keeps it without a copy.
        return _new_finding(
            code=code, severity=severity or entry.severity, title=fill(entry.title, facts),
            explanation=fill(entry.explanation, facts), check=spec.id if spec else "",
            evidence=tuple(evidence), facts=facts, area=entry.area,
        )

    def available(self) -> set[str]:
        have = set()
        if self.resolver.mode != "off":
            have.add("dns")
        if self.message.has_body:
            have.add("body")
        if self.config.rdap and self.http is not None:
            have.add("rdap")
        if self.config.follow_links and self.http is not None:
            have.add("follow_links")
        return have


_new_finding = factory(Finding)  # a dozen findings a message: the cheaper way to build them

_NEED_REASON = {
    "dns": "DNS is off (--offline)",
    "body": "the input has headers only",
    "rdap": "registration lookups are opt-in (--rdap)",
    "follow_links": "link following is opt-in (--follow-links)",
}


@lru_cache(maxsize=256)
def _skipped_for_needs(check_id: str, needs: frozenset[str], have: frozenset[str]) -> SkippedCheck | None:
    """The record of a check skipped because ``have`` lacks some of its ``needs`` (None when it may
    run). The same for every message of a run: records are immutable, so one serves them all."""
    if needs <= have:
        return None
    missing = sorted(needs - have)
    return SkippedCheck(check=check_id, reason="; ".join(_NEED_REASON[m] for m in missing))


@dataclass(slots=True)
class RunResult:
    findings: list[Finding]
    artifacts: dict[str, Any]
    sections: dict[str, Any]
    skipped: list[SkippedCheck]
    ran: list[str]
    timings_ms: dict[str, float]


class _Run:
    """One message's way through the checks: what :func:`run_checks` keeps between two checks."""

    __slots__ = ("ctx", "failed", "findings", "have", "ran", "sections", "skipped", "specs", "timings")

    def __init__(self, ctx: Context, specs: dict[str, CheckSpec]):
        self.ctx = ctx
        self.specs = specs
        self.findings: list[Finding] = []
        self.skipped: list[SkippedCheck] = []
        self.ran: list[str] = []
        self.timings: dict[str, float] = {}
        self.sections: dict[str, Any] = {}
        self.failed: set[str] = set()
        self.have = frozenset(ctx.available())

    def step(self, spec: CheckSpec) -> None:
        """Run one check (or record why it was skipped) and keep what it gave."""
        ctx, failed = self.ctx, self.failed
        if spec.needs and (skip := _skipped_for_needs(spec.id, spec.needs, self.have)) is not None:
            self.skipped.append(skip)
            failed.add(spec.id)
            return
        if spec.depends:
            broken = [d for d in spec.depends if d in failed or d not in self.specs]
            if broken:
                self.skipped.append(SkippedCheck(check=spec.id, reason=f"depends on {', '.join(broken)}, which did not run"))
                failed.add(spec.id)
                return
        ctx._current = spec
        clock = time.perf_counter
        t0 = clock()
        try:
            outcome = spec.func(ctx)
        except CheckContractError:
            raise
        except Exception as exc:  # isolate: one broken check must not lose the report
            ctx._current = None
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
            self.findings.append(ctx.finding(
                "ENGINE_CHECK_FAILED",
                [Evidence(kind=EvidenceKind.COMPUTED, ref=spec.id, value=f"{type(exc).__name__} at {where}")],
                check=spec.id, error=type(exc).__name__,
            ))
            self.skipped.append(SkippedCheck(check=spec.id, reason=f"the check failed ({type(exc).__name__})"))
            failed.add(spec.id)
            return
        finally:
            self.timings[spec.id] = (clock() - t0) * 1000
            ctx._current = None
        self.ran.append(spec.id)
        self.findings.extend(outcome.findings)
        if outcome.incomplete:
            self.skipped.extend(SkippedCheck(check=spec.id, reason=note) for note in outcome.incomplete)
        if outcome.artifact is not None:
            ctx.artifacts[spec.id] = outcome.artifact
            self.sections[spec.section or spec.id] = outcome.artifact

    def result(self) -> RunResult:
        return RunResult(findings=self.findings, artifacts=self.ctx.artifacts, sections=self.sections,
                         skipped=self.skipped, ran=self.ran, timings_ms=self.timings)


def run_checks(ctx: Context, specs: dict[str, CheckSpec] | None = None) -> RunResult:
    specs = specs if specs is not None else load_checks()
    run = _Run(ctx, specs)
    for spec in _cached_plan(specs):
        run.step(spec)
    return run.result()


def run_checks_many(ctxs: list[Context], specs: dict[str, CheckSpec] | None = None) -> list[RunResult]:
    """:func:`run_checks` for several messages, check by check: the first check for every message,
    then the second, and so on. Each message gets exactly what it would get alone (a check reads
    only its own message's context and the artifacts of checks that ran before it, for that
    message), and each check's code and data stay in the processor's caches from one message to
    the next instead of being pushed out by the twenty other checks in between."""
    specs = specs if specs is not None else load_checks()
    runs = [_Run(ctx, specs) for ctx in ctxs]
    for spec in _cached_plan(specs):
        for run in runs:
            run.step(spec)
    return [run.result() for run in runs]
