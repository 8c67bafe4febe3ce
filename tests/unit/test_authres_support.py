"""Helpers shared by the authres / spam / identity unit tests: a stand-in for the Received chain's
trust decision and a way to run one check on a message without the rest of the pipeline."""

from __future__ import annotations

from typing import Any

from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.memory import MemoryResolver
from mailsleuth.engine import REGISTRY, Context, Outcome
from mailsleuth.parse.message import parse_message


class StandInChain:
    """Same interface as received.chain's ChainAnalysis for what these checks use: headers at or
    above ``boundary`` (an index among all headers) are trusted; ``trusted_authserv_ids`` lists the
    recipient's own authserv-ids."""

    def __init__(self, boundary: int, trusted_authserv_ids: tuple[str, ...] = ()):
        self.boundary = boundary
        self.boundary_header_index = boundary
        self.trusted_authserv_ids = trusted_authserv_ids
        self.client_ip = None
        self.delivered_at = None
        self.calls: list[tuple[int, str | None]] = []

    def is_trusted_header(self, header_index: int, authserv_id: str | None) -> bool:
        self.calls.append((header_index, authserv_id))
        return header_index <= self.boundary


def run_check(check_id: str, raw: bytes, *, chain: Any = None, artifacts: dict[str, Any] | None = None,
              config: Config | None = None) -> tuple[Outcome, Context]:
    import mailsleuth.checks.identity
    import mailsleuth.checks.reported_auth
    import mailsleuth.checks.spam_stamps  # noqa: F401  (registers the checks)

    msg = parse_message(raw)
    ctx = Context(msg, config or Config(dns_mode="off"), CachingResolver(MemoryResolver({})))
    if chain is not None:
        ctx.artifacts["received.chain"] = chain
    ctx.artifacts.update(artifacts or {})
    spec = REGISTRY[check_id]
    ctx._current = spec
    try:
        out = spec.func(ctx)
    finally:
        ctx._current = None
    return out, ctx


def header_index(raw: bytes, name: str, occurrence: int = 0) -> int:
    msg = parse_message(raw)
    return msg.get_all(name)[occurrence].index
