"""A caching, logging, de-duplicating wrapper around any resolver; and snapshot recording.

One ``QueryLog`` per message (or per batch) keeps every distinct query and its answer, so the
report can show the DNS evidence, the same query is never sent twice, and a live run can be saved
as a snapshot (``--record-dns``) and replayed exactly. Thread-safe: concurrent lookups of the
same name wait for the first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mailsleuth.dns.base import Answer, Resolver, Status, normalize_name
from mailsleuth.dns.records import record_to_presentation


class CachingResolver:
    """Wraps a resolver: caches answers, logs them in order, counts sent and de-duplicated queries.

    ``max_queries`` bounds the queries one analysis may send; past it the answer is SERVFAIL-like
    ``TIMEOUT`` with no query sent (the budget is the analysis' own limit, reported as such).
    """

    def __init__(self, inner: Resolver, *, max_queries: int = 500, shared_cache: dict[tuple[str, str], Answer] | None = None):
        self.inner = inner
        self.mode = inner.mode
        self._cache: dict[tuple[str, str], Answer] = shared_cache if shared_cache is not None else {}
        self._pending: dict[tuple[str, str], Future[Answer]] = {}
        self._log: list[Answer] = []
        self._logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.max_queries = max_queries
        self.sent = 0
        self.deduplicated = 0
        self.over_budget = 0

    def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize_name(name), rdtype.upper())
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self.deduplicated += 1
                self._remember(key, hit)
                return hit
            fut = self._pending.get(key)
            owner = fut is None
            if owner:
                if self.sent >= self.max_queries:
                    self.over_budget += 1
                    return Answer(name=key[0], rdtype=key[1], status=Status.TIMEOUT, source="budget")
                fut = Future()
                self._pending[key] = fut
                self.sent += 1
            else:
                self.deduplicated += 1
        assert fut is not None
        if not owner:
            ans = fut.result()
            with self._lock:
                self._remember(key, ans)
            return ans
        try:
            ans = self.inner.query(key[0], key[1])
        except Exception:  # a backend must not raise; if one does, it is a SERVFAIL for us
            ans = Answer(name=key[0], rdtype=key[1], status=Status.SERVFAIL, source=self.mode)
        with self._lock:
            self._cache[key] = ans
            self._pending.pop(key, None)
            self._remember(key, ans)
        fut.set_result(ans)
        return ans

    def _remember(self, key: tuple[str, str], ans: Answer) -> None:
        if key not in self._logged:
            self._logged.add(key)
            self._log.append(ans)

    def prefetch(self, queries: Iterable[tuple[str, str]], *, workers: int = 16, budget_s: float = 5.0) -> None:
        """Run many queries concurrently (they then come from the cache). Bounded in time."""
        todo = list(dict.fromkeys((normalize_name(n), t.upper()) for n, t in queries if n))
        if not todo:
            return
        if self.mode in ("off", "snapshot", "memory"):
            for n, t in todo:
                self.query(n, t)
            return
        pool = ThreadPoolExecutor(max_workers=min(workers, len(todo)))
        try:
            futures = [pool.submit(self.query, n, t) for n, t in todo]
            for f in futures:
                try:
                    f.result(timeout=budget_s)
                except Exception:
                    continue
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def peek(self, name: str, rdtype: str) -> Answer | None:
        """The cached answer if there is one, else None; never sends a query and never waits
        (after a time-bounded prefetch, a query still in flight is simply not there yet)."""
        key = (normalize_name(name), rdtype.upper())
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._remember(key, hit)
            return hit

    @property
    def log(self) -> tuple[Answer, ...]:
        with self._lock:
            return tuple(self._log)

    def fork(self) -> CachingResolver:
        """A new per-message log over the same cache (for batches: cache shared, evidence per message)."""
        return CachingResolver(self.inner, max_queries=self.max_queries, shared_cache=self._cache)


def write_snapshot(answers: Iterable[Answer], path: str | Path, *, comment: str = "") -> int:
    """Save answers in the snapshot format; returns the number of lines written."""
    lines = ["; DNS answers recorded by mailsleuth --record-dns"]
    if comment:
        lines.append(f"; {comment}")
    for a in answers:
        name = a.name + "."
        if a.status is Status.NOERROR:
            for rec in a.records:
                lines.append(f"{name}\t{a.ttl or 0}\tIN\t{a.rdtype}\t{record_to_presentation(a.rdtype, rec)}")
        elif a.status in (Status.NXDOMAIN, Status.NODATA, Status.SERVFAIL, Status.TIMEOUT, Status.REFUSED):
            lines.append(f"$STATUS {name} {a.rdtype} {a.status.value}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1
