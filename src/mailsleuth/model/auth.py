"""Authentication results: what a hop reported, and what we re-verified ourselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mailsleuth.model.fastinit import fast_init


class AuthResultValue(StrEnum):
    """RFC 8601 result keywords (plus ``unknown`` for anything else a vendor wrote)."""

    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"
    POLICY = "policy"
    BESTGUESSPASS = "bestguesspass"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: str) -> AuthResultValue:
        t = text.strip().lower()
        aliases = {"hardfail": "fail", "error": "temperror", "spf-pass": "pass"}
        t = aliases.get(t, t)
        try:
            return cls(t)
        except ValueError:
            return cls.UNKNOWN


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthProperty:
    ptype: str  # smtp, header, body, policy, ...
    name: str  # mailfrom, d, i, from, ...
    value: str

    @property
    def key(self) -> str:
        """``ptype.name``; just ``name`` for vendor properties written without a ptype (``action=none``)."""
        return f"{self.ptype}.{self.name}" if self.ptype else self.name


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedResult:
    """One ``method=result`` statement inside an Authentication-Results-like header."""

    method: str  # spf, dkim, dmarc, arc, iprev, auth, ... (lower-case; unknown methods kept)
    result: AuthResultValue
    result_raw: str
    method_version: str | None = None
    reason: str | None = None
    properties: tuple[AuthProperty, ...] = ()
    comments: tuple[str, ...] = ()

    def prop(self, key: str) -> str | None:
        """Value of a property like ``header.d`` or ``smtp.mailfrom`` (case-insensitive)."""
        k = key.lower()
        for p in self.properties:
            pt = p.ptype
            if (f"{pt}.{p.name}" if pt else p.name).lower() == k:  # p.key, without a call per property
                return p.value
        return None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedAuth:
    """One Authentication-Results, ARC-Authentication-Results or Received-SPF header, as a claim.

    ``trusted`` says whether the header was written inside the recipient's trust boundary;
    a claim from outside it may be forged.
    """

    header_name: str
    header_index: int  # index among all headers (0 = top)
    occurrence: int  # index among headers of this name
    authserv_id: str | None
    results: tuple[ReportedResult, ...]
    raw: str
    trusted: bool = False
    arc_instance: int | None = None
    version: str | None = None
    parse_errors: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.header_name}[{self.occurrence}]"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TraceStep:
    """One step of a re-verification, for the explained trace (a term, a DNS query, a comparison)."""

    what: str
    outcome: str
    detail: str = ""
    dns: tuple[str, ...] = ()  # "TXT example.com -> NOERROR ..." lines this step rests on


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedResult:
    """A result we computed ourselves (DKIM, SPF, DMARC, ARC), with its cause and trace."""

    method: str
    result: AuthResultValue
    subject: str  # e.g. "d=example.com s=sel", "mailfrom=a@b", "header.from=b"
    cause: str = ""  # which step decided it (key missing, body hash mismatch, mechanism matched)
    complete: bool = True  # False when data was missing (headers only, offline, not in snapshot)
    trace: tuple[TraceStep, ...] = ()
    details: dict[str, object] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthClaim:
    """One reported result, flattened: who claimed what about which domain, and whether that hop is trusted."""

    method: str
    result: AuthResultValue
    result_raw: str
    domain: str | None  # dkim: header.d (or header.i's domain); spf: smtp.mailfrom's domain; dmarc: header.from
    subject: str  # the property it is about, e.g. "header.d=example.com"
    by: str | None  # the authserv-id (or Received-SPF receiver) that wrote it
    header: str  # header ref, e.g. "Authentication-Results[0]"
    header_index: int
    trusted: bool
    reason: str | None = None
    comments: tuple[str, ...] = ()
    policy: str | None = None  # DMARC: the p= / action= the receiver wrote


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class MethodSummary:
    """Per method: what trusted receivers claimed against what hops outside the boundary claimed."""

    method: str
    trusted: tuple[str, ...]  # e.g. "pass header.d=example.com (by mx.example.net)"
    untrusted: tuple[str, ...]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedAuthReport:
    """The artifact of ``auth.reported``: every authentication header as parsed, and the claims."""

    headers: tuple[ReportedAuth, ...]
    claims: tuple[AuthClaim, ...]
    methods: tuple[MethodSummary, ...]
    trusted_authserv_ids: tuple[str, ...] = ()
    forged: tuple[str, ...] = ()  # refs of headers that claim a trusted authserv-id from below the boundary

    def trusted_claims(self, method: str | None = None) -> tuple[AuthClaim, ...]:
        return tuple(c for c in self.claims if c.trusted and (method is None or c.method == method))
