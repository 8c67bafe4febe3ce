"""Frozen configuration: defaults < TOML file < environment (MAILSLEUTH_*) < CLI flags.

The trust boundary (which hops and authentication headers the recipient's own side wrote) is
configured here. With nothing configured the documented default applies: the top Received header
was written by the recipient's own server, and so was every hop above the first one whose
receiving host belongs to another organisation (see mailsleuth.checks.received and docs/trust-boundary.md).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mailsleuth.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_input_bytes: int = 64 * 1024 * 1024
    max_headers: int = 20_000
    max_received: int = 500  # hops analysed in detail; the rest are counted
    mime_max_depth: int = 30
    mime_max_parts: int = 1000
    mime_max_part_bytes: int = 25 * 1024 * 1024
    mime_max_total_bytes: int = 100 * 1024 * 1024
    max_links: int = 5000
    max_dns_queries: int = 400
    dns_budget_seconds: float = 8.0
    archive_max_members: int = 2000
    archive_max_ratio: int = 100
    archive_max_total: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    # Trust boundary
    trusted_authserv_ids: tuple[str, ...] = ()
    trusted_relays: tuple[str, ...] = ()  # host names or *.suffix patterns of the recipient's relays
    trusted_networks: tuple[str, ...] = ()  # CIDRs of the recipient's relays
    own_domains: tuple[str, ...] = ()  # the recipient organisation's domains (for BEC imitation)
    brand_files: tuple[str, ...] = ()  # extra brand files (format of data/brands/*.toml), e.g. partners
    # DNS
    dns_mode: str = "live"  # live | snapshot | off
    dns_snapshot: str | None = None
    dns_servers: tuple[str, ...] = ()
    dns_timeout: float = 2.0
    record_dns: str | None = None
    # Opt-in network lookups
    rdap: bool = False
    rdap_cache_dir: str | None = None
    rdap_bootstrap_url: str | None = None  # tests point this at a local server
    follow_links: bool = False
    follow_allow_loopback: bool = False  # for tests only
    http_timeout: float = 5.0
    # Analysis
    client_ip: str | None = None  # --ip: override the IP SPF is evaluated at
    now: str | None = None  # pin "now" (ISO 8601) for reproducible reports
    redact: bool = False
    spamassassin_rules_dir: str | None = "/usr/share/spamassassin"
    limits: Limits = field(default_factory=Limits)

    def with_overrides(self, **kw: Any) -> Config:
        clean = {k: v for k, v in kw.items() if v is not None}
        return replace(self, **clean)


_TUPLE_FIELDS = {"trusted_authserv_ids", "trusted_relays", "trusted_networks", "own_domains", "dns_servers",
                 "brand_files"}


def _coerce(name: str, value: Any, origin: str) -> Any:
    known = {f.name: f for f in fields(Config)}
    if name not in known:
        raise ConfigError(f"{origin}: unknown setting {name!r}")
    if name in _TUPLE_FIELDS:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{origin}: {name} must be a list of strings")
        return tuple(value)
    if name in ("rdap", "follow_links", "follow_allow_loopback", "redact"):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if not isinstance(value, bool):
            raise ConfigError(f"{origin}: {name} must be true or false")
        return value
    if name in ("dns_timeout", "http_timeout"):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: {name} must be a number") from None
    if name == "dns_mode" and value not in ("live", "snapshot", "off"):
        raise ConfigError(f"{origin}: dns_mode must be live, snapshot or off")
    if name == "limits":
        if not isinstance(value, dict):
            raise ConfigError(f"{origin}: [limits] must be a table")
        lim_fields = {f.name for f in fields(Limits)}
        for k in value:
            if k not in lim_fields:
                raise ConfigError(f"{origin}: unknown limit {k!r}")
        return Limits(**value)
    return value


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Defaults, then the TOML file (``path``, else ./mailsleuth.toml if present), then MAILSLEUTH_* env."""
    values: dict[str, Any] = {}
    candidate = Path(path) if path else Path("mailsleuth.toml")
    if path or candidate.exists():
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {candidate}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {candidate} is not valid TOML: {exc}") from None
        section = data.get("mailsleuth", data)
        for k, v in section.items():
            values[k] = _coerce(k, v, str(candidate))
    for k, v in (env if env is not None else os.environ).items():
        if k.startswith("MAILSLEUTH_") and k != "MAILSLEUTH_CONFIG":
            name = k[len("MAILSLEUTH_") :].lower()
            values[name] = _coerce(name, v, f"environment {k}")
    return Config(**values)
