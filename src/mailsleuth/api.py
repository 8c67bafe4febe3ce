"""The one entry point: ``analyze(raw, config=..., resolver=..., clock=..., http=...) -> Report``."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter

from mailsleuth.config import Config
from mailsleuth.dns.base import Resolver
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.engine import Context, RunResult, run_checks, run_checks_many
from mailsleuth.errors import InputError
from mailsleuth.http import HttpClient
from mailsleuth.model.findings import Finding
from mailsleuth.model.message import Message
from mailsleuth.model.report import DnsRecord, Report
from mailsleuth.parse.message import ParseLimits, parse_message
from mailsleuth.parse.mime import MimeLimits
from mailsleuth.scoring import score
from mailsleuth.version import SCHEMA_VERSION, __version__


def make_resolver(config: Config) -> Resolver:
    """The resolver the configuration asks for (live, snapshot or off)."""
    if config.dns_mode == "off":
        from mailsleuth.dns.off import OfflineResolver

        return OfflineResolver()
    if config.dns_mode == "snapshot":
        from mailsleuth.dns.snapshot import SnapshotResolver

        if not config.dns_snapshot:
            from mailsleuth.errors import ConfigError

            raise ConfigError("dns_mode snapshot needs a snapshot file (--dns-snapshot FILE)")
        return SnapshotResolver.from_file(config.dns_snapshot)
    from mailsleuth.dns.live import LiveResolver

    return LiveResolver(config.dns_servers or None, timeout=config.dns_timeout)


def parse_limits(config: Config) -> ParseLimits:
    lim = config.limits
    return ParseLimits(
        max_input_bytes=lim.max_input_bytes, max_headers=lim.max_headers,
        mime=MimeLimits(max_depth=lim.mime_max_depth, max_parts=lim.mime_max_parts,
                        max_part_bytes=lim.mime_max_part_bytes, max_total_bytes=lim.mime_max_total_bytes),
    )


def _clock(config: Config, clock: Callable[[], datetime] | None) -> Callable[[], datetime]:
    if clock is not None:
        return clock
    if config.now:
        pinned = datetime.fromisoformat(config.now)
        if pinned.tzinfo is None:
            pinned = pinned.replace(tzinfo=UTC)
        return lambda: pinned
    return lambda: datetime.now(UTC)


def message_summary(msg: Message) -> dict[str, object]:
    return {
        "kind": msg.kind.value,
        "size": len(msg.raw),
        "has_body": msg.has_body,
        "subject": msg.value("Subject"),
        "from": msg.value("From"),
        "to": msg.value("To"),
        "date": msg.value("Date"),
        "message_id": msg.value("Message-ID"),
        "header_count": len(msg.headers),
        "notes": list(msg.notes),
    }


_CODE = attrgetter("code")
_RANK = attrgetter("severity.rank")


def _report_order(findings: list[Finding]) -> list[Finding]:
    """The findings most severe first, by code within a severity (both sorts are stable: the same
    order as sorting by ``(-rank, code)``, with the keys read in C)."""
    return sorted(sorted(findings, key=_CODE), key=_RANK, reverse=True)


def analyze_message(msg: Message, *, config: Config | None = None, resolver: Resolver | CachingResolver | None = None,
                    clock: Callable[[], datetime] | None = None, http: HttpClient | None = None) -> Report:
    config = config or Config()
    ctx = _context(msg, config, resolver, clock, http)
    return _report(ctx, run_checks(ctx))


def _context(msg: Message, config: Config, resolver: Resolver | CachingResolver | None,
             clock: Callable[[], datetime] | None, http: HttpClient | None) -> Context:
    if isinstance(resolver, CachingResolver):
        caching = resolver
    else:
        caching = CachingResolver(resolver or make_resolver(config), max_queries=config.limits.max_dns_queries)
    if http is None and (config.rdap or config.follow_links):
        from mailsleuth.http import HttpxClient

        http = HttpxClient(timeout=config.http_timeout)
    return Context(msg, config, caching, clock=_clock(config, clock), http=http)


def _report(ctx: Context, result: RunResult) -> Report:
    """The report of one message from what its checks gave."""
    msg, config, caching, clk = ctx.message, ctx.config, ctx.resolver, ctx.clock
    verdict = score(result.findings, result.skipped, result.ran)
    findings = _report_order(result.findings)
    dns = tuple(DnsRecord(name=a.name, rdtype=a.rdtype, status=a.status.value, records=a.records, source=a.source,
                          elapsed_ms=round(a.elapsed_ms, 2)) for a in caching.log)
    sections = dict(result.sections)
    timings = result.timings_ms
    rounded = dict(zip(timings, map(round, timings.values(), repeat(3)), strict=True))
    sections["_engine"] = {"ran": result.ran, "timings_ms": rounded,
                           "dns_queries_sent": caching.sent, "dns_queries_deduplicated": caching.deduplicated}
    if config.record_dns:
        from mailsleuth.dns.cache import write_snapshot

        write_snapshot(caching.log, config.record_dns, comment=f"for message {msg.value('Message-ID')[:200]}")
    return Report(
        schema=SCHEMA_VERSION, tool_version=__version__, analysed_at=clk().isoformat(),
        message=message_summary(msg), sections=sections, dns_mode=caching.mode, dns=dns,
        findings=tuple(findings), verdict=verdict,
        config={"dns_mode": config.dns_mode, "trusted_authserv_ids": list(config.trusted_authserv_ids),
                "trusted_relays": list(config.trusted_relays), "rdap": config.rdap,
                "follow_links": config.follow_links, "redact": config.redact,
                "own_domains": list(config.own_domains)},
    )


BATCH_SIZE = 16  # messages taken through the checks together by analyze_many
BATCH_BYTES = 32 * 1024 * 1024  # ... unless their inputs add up to this much first (big or hostile mail)


def analyze_many(inputs: Iterable[bytes], *, config: Config | None = None,
                 resolver: Callable[[], Resolver | CachingResolver] | None = None,
                 clock: Callable[[], datetime] | None = None, http: HttpClient | None = None,
                 batch_size: int = BATCH_SIZE, batch_bytes: int = BATCH_BYTES) -> Iterator[Report | InputError]:
    """Analyse many messages: for each input, in order, its report (the same as :func:`analyze`
    gives) or the InputError that :func:`analyze` would raise. ``resolver`` makes each message's
    resolver (e.g. ``shared.fork`` for a cache shared by the batch; default: one per message from
    the configuration). Messages go through the checks ``batch_size`` at a time, check by check
    (:func:`~mailsleuth.engine.run_checks_many`): 7–27% faster over the corpus in bench/run.py. At most
    ``batch_size`` parsed messages are held at once, fewer when their inputs reach ``batch_bytes``
    (so that a folder of 50 MB messages costs no more memory than analysing them one by one)."""
    config = config or Config()
    limits = parse_limits(config)
    size = max(1, min(batch_size, 256))
    pending: list[Context | InputError] = []
    held = 0  # bytes of input in ``pending``

    def flush() -> Iterator[Report | InputError]:
        ctxs = [c for c in pending if isinstance(c, Context)]
        results = iter(run_checks_many(ctxs)) if ctxs else iter(())
        for item in pending:
            yield item if isinstance(item, InputError) else _report(item, next(results))
        pending.clear()

    for raw in inputs:
        held += len(raw)
        try:
            msg = parse_message(raw, limits=limits)
        except InputError as exc:
            pending.append(exc)
        else:
            pending.append(_context(msg, config, resolver() if resolver is not None else None, clock, http))
        if len(pending) >= size or held >= batch_bytes:
            yield from flush()
            held = 0
    yield from flush()


def analyze(raw: bytes, *, config: Config | None = None, resolver: Resolver | CachingResolver | None = None,
            clock: Callable[[], datetime] | None = None, http: HttpClient | None = None,
            filename: str | None = None) -> Report:
    """Analyse one message. Raises InputError only when the input cannot be read as mail."""
    config = config or Config()
    msg = parse_message(raw, limits=parse_limits(config), filename=filename)
    return analyze_message(msg, config=config, resolver=resolver, clock=clock, http=http)


# A small message that reaches every check's data (brands, platforms, lures, spam rules, links),
# so that preparing for a long run loads them before the collector is told to look away.
_WARM_UP = b"""Received: from mta.example.net (mta.example.net [192.0.2.10])
\tby mx.example.com (Postfix) with ESMTPS id 1A2B3C
\tfor <user@example.com>; Mon, 2 Jan 2023 10:00:01 +0000 (UTC)
Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=example.net;
\tdkim=pass header.d=example.net; dmarc=pass header.from=example.net
X-Spam-Status: No, score=1.2 required=5.0 tests=HTML_MESSAGE,URIBL_BLOCKED autolearn=no
From: "Example Bank" <notice@example.net>
To: <user@example.com>
Subject: =?utf-8?q?Verify_your_account?=
Date: Mon, 2 Jan 2023 10:00:00 +0000
Message-ID: <warm-up@example.net>
List-Unsubscribe: <https://example.net/u>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Please verify your password at https://login.example.org/verify within 24 hours.
--b
Content-Type: text/html; charset=utf-8

<html><body><p>Your account is suspended.</p><a href="https://login.example.org/verify">Sign in</a>
<img src="https://example.net/p.png" width=1 height=1><form action="https://example.org/f">
<input type=password></form></body></html>
--b--
"""

_prepared = False


def prepare_for_many(config: Config | None = None) -> None:
    """Get this process ready for a long run of analyses (an evaluation, a mailbox, the web app).

    Loads every data file now (by analysing one small built-in message), then moves all objects
    the process holds so far into the garbage collector's permanent generation (``gc.freeze()``)
    and lets the young generation grow to 10,000 objects before a collection. The loaded tables
    are tens of thousands of long-lived objects; left in view, every full collection walks them
    all, and collections come every few messages: about a tenth of an offline analysis's time.
    Objects stay freed by reference counting as usual; only reference cycles among the frozen
    ones would never be collected. Call it once, before the loop; later calls do nothing. Not
    called for a single analysis, where the collector costs nothing worth saving."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    from mailsleuth.dns.off import OfflineResolver

    # The caller's configuration (its brand files, own domains), with nothing that reaches out or writes.
    quiet = replace(config or Config(), dns_mode="off", rdap=False, follow_links=False, record_dns=None)
    analyze(_WARM_UP, config=quiet, resolver=OfflineResolver())
    gc.collect()
    gc.freeze()
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, 10_000), second, third)

