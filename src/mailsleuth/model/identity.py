"""Identities a message claims or carries, with their organizational domains."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailsleuth.model.fastinit import fast_init


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """One identity: which role it plays, its value, its domain and organisation, where it was seen."""

    role: str  # from, sender, reply-to, return-path, envelope-from, message-id, list-unsubscribe, list-id,
    #            dkim-d, auth-header-d, auth-mailfrom
    value: str  # the address, domain or URL as written (decoded)
    domain: str | None
    org: str | None  # organizational domain (PSL); None for IP literals, bare suffixes and junk
    source: str  # header ref, e.g. "From[0]", "DKIM-Signature[1]", "Received[0]"
    display_name: str = ""
    trusted: bool | None = None  # for identities taken from Received / A-R: written inside the boundary?


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrgGroup:
    """Identities that share one organizational domain."""

    org: str
    roles: tuple[str, ...]
    domains: tuple[str, ...]
    includes_from: bool


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityReport:
    """The artifact of ``identity.alignment``."""

    identities: tuple[Identity, ...]
    groups: tuple[OrgGroup, ...]
    from_address: str | None = None
    from_display_name: str = ""
    from_domain: str | None = None
    from_org: str | None = None
    dkim_domains: tuple[str, ...] = ()
    return_path_domain: str | None = None
    aligned: dict[str, bool] = field(default_factory=dict)  # role -> same organisation as From (relaxed)
