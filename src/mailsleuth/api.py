"""The one entry point: ``analyze(raw, config=..., resolver=..., clock=..., http=...) -> Report``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from mailsleuth.config import Config
from mailsleuth.dns.base import Resolver
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.engine import Context, run_checks
from mailsleuth.http import HttpClient
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


def analyze_message(msg: Message, *, config: Config | None = None, resolver: Resolver | CachingResolver | None = None,
                    clock: Callable[[], datetime] | None = None, http: HttpClient | None = None) -> Report:
    config = config or Config()
    if isinstance(resolver, CachingResolver):
        caching = resolver
    else:
        caching = CachingResolver(resolver or make_resolver(config), max_queries=config.limits.max_dns_queries)
    clk = _clock(config, clock)
    if http is None and (config.rdap or config.follow_links):
        from mailsleuth.http import HttpxClient

        http = HttpxClient(timeout=config.http_timeout)
    ctx = Context(msg, config, caching, clock=clk, http=http)
    result = run_checks(ctx)
    verdict = score(result.findings, result.skipped, result.ran)
    findings = sorted(result.findings, key=lambda f: (-f.severity.rank, f.code))
    dns = tuple(DnsRecord(name=a.name, rdtype=a.rdtype, status=a.status.value, records=a.records, source=a.source,
                          elapsed_ms=round(a.elapsed_ms, 2)) for a in caching.log)
    sections = dict(result.sections)
    sections["_engine"] = {"ran": result.ran, "timings_ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
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


def analyze(raw: bytes, *, config: Config | None = None, resolver: Resolver | CachingResolver | None = None,
            clock: Callable[[], datetime] | None = None, http: HttpClient | None = None,
            filename: str | None = None) -> Report:
    """Analyse one message. Raises InputError only when the input cannot be read as mail."""
    config = config or Config()
    msg = parse_message(raw, limits=parse_limits(config), filename=filename)
    return analyze_message(msg, config=config, resolver=resolver, clock=clock, http=http)
