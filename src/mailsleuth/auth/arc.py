"""ARC chain validation (RFC 8617) over dkimpy, with key lookups through our resolver.

dkimpy validates the chain (``dkim.ARC(...).verify(dnsfunc=...)``); our :class:`KeyFetcher` answers
its key lookups and remembers their DNS status, so a chain that could not be checked (key not in
the snapshot, lookup timed out) is reported as *not verified*, not as broken. Each instance is
listed with its sealer (i=, d=, s=), the cv= it claimed, whether its seal and message signature
verify, and what it claimed in its ARC-Authentication-Results. A valid chain only proves that these
sealers said these things: it is as trustworthy as the sealers are.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dkim
from dkim.canonicalization import CanonicalizationPolicy
from dkim.util import InvalidTagValueList

from mailsleuth.auth.dkim import _QUIET, KeyFetcher, parse_tag_value, without_wsp
from mailsleuth.auth.rfc822 import Rfc822
from mailsleuth.dns.base import Resolver, Status
from mailsleuth.model.auth import AuthResultValue, TraceStep, VerifiedResult
from mailsleuth.model.fastinit import fast_init

MAX_INSTANCES = 50  # RFC 8617 section 4.2.1: i= is 1..50
_RESULT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:/\s*\d+\s*)?=\s*([A-Za-z0-9_-]+)\s*(.*)$", re.DOTALL)
_COMMENT = re.compile(r"\([^()]*\)")
_INSTANCE_ONLY = re.compile(r"^i\s*=\s*\d+$")
_INSTANCE_TAG = re.compile(rb"(?:^|[\s;])i\s*=\s*(\d{1,3})")
_NEWLINE = re.compile(rb"\r?\n")  # what :func:`unfold` removes


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ArcClaim:
    method: str
    result: str
    properties: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ArcInstance:
    instance: int
    sealer_domain: str  # ARC-Seal d=
    sealer_selector: str  # ARC-Seal s=
    ams_domain: str  # ARC-Message-Signature d=
    ams_selector: str
    cv: str  # what this sealer claimed about the chain before it
    seal_valid: bool | None  # None: not checked
    ams_valid: bool | None
    authserv_id: str = ""
    claims: tuple[ArcClaim, ...] = ()
    aar: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ArcVerification:
    """The artifact of ``auth.verify.arc``."""

    result: VerifiedResult  # method "arc": pass / fail / none / temperror
    chain: str  # "pass", "fail", "none" (dkimpy's cv for the whole chain)
    reason: str
    instances: tuple[ArcInstance, ...] = ()
    sealers: tuple[str, ...] = ()  # "i=1 d=example.org s=sel", oldest first
    complete: bool = True
    terminated: bool = False  # a sealer already recorded cv=fail: the chain ended there (RFC 8617 5.2)


def _s(b: bytes | str | None) -> str:
    if b is None:
        return ""
    return b.decode("utf-8", errors="replace") if isinstance(b, bytes) else b


def parse_aar(value: str) -> tuple[str, tuple[ArcClaim, ...]]:
    """authserv-id and method=result claims of an ARC-Authentication-Results value. Never raises."""
    text = value[:8000]
    for _ in range(5 if "(" in text else 0):  # comments, possibly nested: strip innermost first, bounded
        text2 = _COMMENT.sub("", text)
        if text2 == text:
            break
        text = text2
    parts = [p.strip() for p in text.split(";")]
    if parts and _INSTANCE_ONLY.match(parts[0]):
        parts = parts[1:]
    if not parts:
        return "", ()
    authserv = parts[0].split()[0] if parts[0].split() else ""
    claims: list[ArcClaim] = []
    for p in parts[1:60]:
        m = _RESULT.match(p)
        if m:
            claims.append(ArcClaim(method=m.group(1).lower(), result=m.group(2).lower(),
                                   properties=" ".join(m.group(3).split())[:300]))
    return authserv, tuple(claims)


def _header_instances(headers: Sequence[Sequence[bytes]]) -> dict[int, dict[str, Any]]:
    """ARC sets by instance, read from the raw headers (for instances dkimpy did not reach)."""
    sets: dict[int, dict[str, Any]] = {}
    for name, value in headers:
        key = _SET_KEY.get(name.lower())
        if key is None:
            continue
        m = _INSTANCE_TAG.search(value)
        if not m:
            continue
        inst = int(m.group(1))
        if not 0 < inst <= MAX_INSTANCES:
            continue
        entry = sets.setdefault(inst, {})
        if key not in entry:
            entry[key] = unfold(value).strip()
    return sets


_SET_KEY = {b"arc-seal": "as", b"arc-message-signature": "ams", b"arc-authentication-results": "aar"}


def unfold(value: bytes) -> bytes:
    """``value`` without its line breaks (CRLF or a bare LF; a CR alone stays), as ``_NEWLINE.sub``
    would remove them, with C-level replaces."""
    if b"\n" not in value:
        return value
    return value.replace(b"\r\n", b"").replace(b"\n", b"")


def _tags(value: bytes | None) -> dict[bytes, bytes]:
    if not value:
        return {}
    try:
        return parse_tag_value(value)
    except InvalidTagValueList:
        return {}


_ARC_NAMES = frozenset(dkim.ARC.ARC_HEADERS)
_ARC_NAME_TEXT = frozenset(n.decode("ascii") for n in _ARC_NAMES)


class _Arc(dkim.ARC):
    """dkimpy's ARC validation with the same results for less work.

    - the message comes parsed (:class:`Rfc822`, shared with DKIM); the body is normalised only when
      a message signature is actually checked;
    - dkimpy canonicalises *every* header field before picking the ones it needs (the ARC fields to
      sort the sets, the signed fields for each signature); here it is handed only the fields whose
      names it will pick, in their order, so that it picks the same ones;
    - the body hash of a message signature comes from the canonical body shared by every signature
      of the message with the same body canonicalisation, and is compared as dkimpy compares it.
    """

    def __init__(self, source: Rfc822):
        super().__init__(None, logger=_QUIET)
        self.source = source
        self.headers = source.headers()
        self._all = (self.headers, source.names())  # every field, and its lower-case name (ASCII)

    def _fields_named(self, wanted: set[str] | frozenset[str]) -> list[tuple[bytes, bytes]]:
        """The fields whose (lower-case) names are in ``wanted``, in their order."""
        fields, names = self._all
        return [f for n, f in zip(names, fields, strict=True) if n in wanted]

    def sorted_arc_headers(self) -> Any:
        everything = self.headers
        self.headers = self._fields_named(_ARC_NAME_TEXT)
        try:
            return super().sorted_arc_headers()
        finally:
            self.headers = everything

    def verify_sig_process(self, sig: dict[bytes, bytes], include_headers: list[bytes], sig_header: Any,
                           dnsfunc: Any) -> Any:
        sig = self._check_body_hash(sig)
        if b"bh" in sig:  # left to dkimpy
            self.body = self.source.body
        # the names as the (ASCII) field names compare with them: a non-ASCII one matches none
        wanted = {h.lower().decode("ascii", errors="replace") for h in include_headers}
        everything = self.headers
        self.headers = self._fields_named(wanted)
        try:
            return super().verify_sig_process(sig, include_headers, sig_header, dnsfunc)
        finally:
            self.headers = everything

    def _check_body_hash(self, sig: dict[bytes, bytes]) -> dict[bytes, bytes]:
        """dkimpy's body hash step, over the shared canonical body: raises dkimpy's error on a
        mismatch, else returns the tags without bh= (so dkimpy goes on with the header hash). Any
        case off the common path (l=, a service-type question, an odd tag) is left to dkimpy."""
        if b"bh" not in sig or b"l" in sig or self.tlsrpt or self.seqtlsrpt:
            return sig
        try:
            policy = CanonicalizationPolicy.from_c_value(sig.get(b"c", b"simple/simple"))
            hasher = dkim.HASH_ALGORITHMS[sig[b"a"]]
            expected = base64.b64decode(without_wsp(sig[b"bh"]))
        except Exception:  # dkimpy raises its own error for these, in its own order
            return sig
        computed = hasher(self.source.canonical_body(policy)).digest()
        if computed != expected:
            raise dkim.ValidationError(
                f"body hash mismatch (got {base64.b64encode(computed)!r}, expected {sig[b'bh']!r})")
        return {k: v for k, v in sig.items() if k != b"bh"}


def verify_arc(raw: bytes, *, resolver: Resolver, fetcher: KeyFetcher | None = None,
               parsed: Rfc822 | None = None) -> ArcVerification:
    """Validate the ARC chain of ``raw``. ``parsed``: dkimpy's reading of ``raw`` if the caller has it."""
    fetcher = fetcher or KeyFetcher(resolver)
    trace: list[TraceStep] = []
    try:
        arc = _Arc(parsed if parsed is not None and parsed.raw is raw else Rfc822(raw))
    except Exception as exc:  # dkimpy's header parser rejects some malformed messages
        reason = f"the header block cannot be read for ARC ({type(exc).__name__})"
        return ArcVerification(result=VerifiedResult(method="arc", result=AuthResultValue.PERMERROR, subject="ARC chain",
                                                     cause=reason), chain="fail", reason=reason)
    sets = _header_instances(arc._fields_named(_ARC_NAME_TEXT))  # the others are skipped there anyway
    if not sets:
        return ArcVerification(result=VerifiedResult(method="arc", result=AuthResultValue.NONE, subject="ARC chain",
                                                     cause="the message has no ARC sets"),
                               chain="none", reason="the message has no ARC sets")
    try:
        cv, data, reason = arc.verify(dnsfunc=fetcher)
    except Exception as exc:  # dkimpy raises on some malformed sets outside its own handling
        cv, data, reason = dkim.CV_Fail, [], f"{type(exc).__name__}: {str(exc)[:200]}"
    terminated = cv is None  # dkimpy: a seal with cv=fail ended the chain
    chain = {dkim.CV_Pass: "pass", dkim.CV_None: "none"}.get(cv, "fail")
    by_inst = {int(r.get("instance", 0)): r for r in data if isinstance(r, dict)}
    instances: list[ArcInstance] = []
    for inst in sorted(sets):
        entry = sets[inst]
        seal, ams = _tags(entry.get("as")), _tags(entry.get("ams"))
        checked = by_inst.get(inst, {})
        aar = _s(entry.get("aar"))
        authserv, claims = parse_aar(aar)
        sealer, cv = _s(seal.get(b"d")), _s(seal.get(b"cv"))
        instances.append(ArcInstance(
            instance=inst, sealer_domain=sealer.lower(), sealer_selector=_s(seal.get(b"s")),
            ams_domain=_s(ams.get(b"d")).lower(), ams_selector=_s(ams.get(b"s")), cv=cv.lower(),
            seal_valid=checked.get("as-valid") if checked else None,
            ams_valid=checked.get("ams-valid") if checked else None,
            authserv_id=authserv, claims=claims, aar=aar[:1000],
        ))
        trace.append(TraceStep(
            what=f"ARC set i={inst} sealed by {sealer}",
            outcome=("seal " + ("valid" if checked.get("as-valid") else "invalid") + ", message signature "
                     + ("valid" if checked.get("ams-valid") else "invalid")) if checked else "not checked",
            detail=f"cv={cv}; claims: " + ", ".join([f"{c.method}={c.result}" for c in claims[:8]])))
    # Was a key lookup unanswerable? Then a failure is "not verified", not "broken".
    lacking = [a for a in fetcher.answers.values() if not a.status.is_definite]
    dns = tuple(a.summary()[:300] for a in fetcher.answers.values())
    complete = True
    if chain == "pass":
        value, cause = AuthResultValue.PASS, "every seal and the newest message signature verify"
    elif chain == "none":
        value, cause = AuthResultValue.NONE, reason
    elif lacking:
        complete = False
        st = lacking[0].status
        why = {Status.UNKNOWN: "not in the DNS snapshot", Status.OFFLINE: "DNS is off"}.get(st, f"lookup {st.value}")
        value, cause = AuthResultValue.TEMPERROR, f"a sealer's key could not be fetched ({lacking[0].name}: {why}): chain not verified"
    else:
        value, cause = AuthResultValue.FAIL, reason
    trace.append(TraceStep(what="chain validation", outcome=chain, detail=reason[:300], dns=dns))
    sealers = tuple(f"i={i.instance} d={i.sealer_domain} s={i.sealer_selector}" for i in instances)
    result = VerifiedResult(
        method="arc", result=value, subject=f"ARC chain of {len(instances)} set(s)", cause=cause, complete=complete,
        trace=tuple(trace),
        details={"cv": chain, "terminated": terminated, "instances": len(instances), "sealers": list(sealers), "reason": reason,
                 "newest_sealer": instances[-1].sealer_domain if instances else ""},
    )
    return ArcVerification(result=result, chain=chain, reason=reason, instances=tuple(instances), sealers=sealers,
                           complete=complete, terminated=terminated)
