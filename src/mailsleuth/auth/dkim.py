"""DKIM re-verification (RFC 6376, RFC 8301, RFC 8463) over dkimpy, with DNS through our resolver.

dkimpy does the canonicalization, hashing and signature arithmetic. Everything around it is ours,
so that each step is reported on its own:

- the key lookup goes through :class:`KeyFetcher`, a ``dnsfunc`` for dkimpy that asks the project's
  resolver and remembers the DNS status of each lookup (NXDOMAIN, NODATA, TIMEOUT, UNKNOWN = not in
  the snapshot, OFFLINE stay apart);
- the body hash is computed and compared with ``bh=`` separately;
- the header signature is verified separately, over the ``bh=`` value the signature carries, so that
  a headers-only copy can still have its header signature checked;
- ``t=`` and ``x=`` are judged at the delivery time of the trusted hop and at the wall clock, never
  against dkimpy's own clock;
- key flags (``t=y`` testing, ``t=s`` strict identity, ``h=`` hash list, ``s=`` service) are read
  from the key record.
"""

from __future__ import annotations

import base64
import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

import dkim
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from dkim import canonicalization
from dkim.canonicalization import CanonicalizationPolicy, InvalidCanonicalizationPolicyError
from dkim.util import DuplicateTag, InvalidTagSpec, InvalidTagValueList

from mailsleuth.auth.rfc822 import Rfc822, canonicalize_body
from mailsleuth.auth.rfc822 import header_end as header_end  # re-exported: its home was here
from mailsleuth.dns.base import Answer, Resolver, Status, answer
from mailsleuth.model.auth import AuthResultValue, TraceStep, VerifiedResult

# dkimpy does RSA in pure Python (its own big-integer code), which was most of the cost of a
# verification. The same RSASSA-PKCS1-v1_5 check through `cryptography` (OpenSSL) gives the same
# answer far faster; anything it cannot take (an odd key) falls back to dkimpy's own function.
_DKIMPY_RSA_VERIFY = dkim.RSASSA_PKCS1_v1_5_verify


_PKCS1V15 = padding.PKCS1v15()
_PREHASHED = {"sha1": utils.Prehashed(hashes.SHA1()), "sha256": utils.Prehashed(hashes.SHA256())}


@lru_cache(maxsize=1024)
def _rsa_public_key(modulus: int, exponent: int) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def _fast_rsa_verify(digest: Any, signature: bytes, public_key: dict[str, int]) -> bool:
    prehashed = _PREHASHED.get(getattr(digest, "name", ""))
    if prehashed is None:
        return bool(_DKIMPY_RSA_VERIFY(digest, signature, public_key))
    try:
        key = _rsa_public_key(int(public_key["modulus"]), int(public_key["publicExponent"]))
        key.verify(signature, digest.digest(), _PKCS1V15, prehashed)
        return True
    except InvalidSignature:
        return False
    except Exception:
        return bool(_DKIMPY_RSA_VERIFY(digest, signature, public_key))


dkim.RSASSA_PKCS1_v1_5_verify = _fast_rsa_verify

# dkimpy blanks the b= value of the signature field before hashing it with ``RE_BTAG``, whose folding
# white space, ``(?:(?:\s*\r?\n)?\s+)?``, sits inside a repeat over every base64 character: a slow
# match (about as long as the RSA check). That folding white space matches exactly the runs of \s,
# so the repeat "any run of \s, then a base64 character" reaches exactly as far as "the longest run
# of \s and base64 characters that ends in a base64 character": the same matches, found with
# single-character repeats. Equivalence is property-tested against dkimpy's own pattern.
# The ``;`` or white space before the ``b`` is tested behind it rather than matched, so that the
# search looks for the letter ``b`` alone (far fewer places to try). A match never ends in ``;`` or
# white space except at the very end, so no later match could need that character: the same places
# match, and as the substitution keeps that character either way, the same text results.
_DKIMPY_RE_BTAG = dkim.RE_BTAG
_FAST_RE_BTAG = re.compile(rb"(b(?<=[;\s]b)\s*=)(?:[\sa-zA-Z0-9+/=]*[a-zA-Z0-9+/=])?(?:\r?\n\Z)?")
dkim.RE_BTAG = _FAST_RE_BTAG


def fast_parse_tag_value(tag_list: bytes) -> dict[bytes, bytes]:
    """``dkim.util.parse_tag_value`` without a regex: its key test, ``re.match(br'^[a-zA-Z](\\w)*',
    key)``, only asks that the key start with an ASCII letter. Same dict, same exceptions."""
    tags: dict[bytes, bytes] = {}
    specs = tag_list.strip().split(b";")
    if not specs[-1]:  # a trailing semicolon is allowed
        specs.pop()
    for spec in specs:
        key, eq, value = spec.partition(b"=")
        if not eq:
            raise InvalidTagSpec(spec)
        key = key.strip()
        if not key[:1].isalpha():  # bytes.isalpha: ASCII letters only
            raise InvalidTagSpec(spec)
        if key in tags:
            raise DuplicateTag(key)
        tags[key] = value.strip()
    return tags


_DKIMPY_PARSE_TAG_VALUE = dkim.parse_tag_value
dkim.parse_tag_value = fast_parse_tag_value  # dkimpy's ARC validation calls it by this name
parse_tag_value = fast_parse_tag_value

# dkimpy reads a key record (``evaluate_pk``: its tags, then the RSA key's DER in pure Python) every
# time it fetches one, which for ARC is twice per set: as long as a verification itself. The same
# records come back message after message; their readings are remembered (the key objects are only
# read), and a record dkimpy refuses raises again an exception of the same class and text.
_DKIMPY_EVALUATE_PK = dkim.evaluate_pk
_MAX_REMEMBERED_RECORD = 4096


@lru_cache(maxsize=256)
def _evaluate_pk_outcome(name: bytes | str, record: bytes | str | None) -> tuple[bool, Any]:
    try:
        return True, _DKIMPY_EVALUATE_PK(name, record)
    except Exception as exc:  # remembered (without its frames), raised again by the caller
        return False, exc.with_traceback(None)


def cached_evaluate_pk(name: Any, record: Any) -> Any:
    """``dkim.evaluate_pk(name, record)``, remembered for usual records."""
    if not isinstance(name, bytes | str) or not (record is None or isinstance(record, bytes | str)) \
            or len(name) > _MAX_REMEMBERED_RECORD or (record is not None and len(record) > _MAX_REMEMBERED_RECORD):
        return _DKIMPY_EVALUATE_PK(name, record)
    ok, value = _evaluate_pk_outcome(name, record)
    if ok:
        return value
    try:
        again = type(value)(*value.args)
    except Exception:  # an exception that cannot be made again from its arguments: ask dkimpy again
        return _DKIMPY_EVALUATE_PK(name, record)
    raise again


dkim.evaluate_pk = cached_evaluate_pk

# dkimpy's header canonicalisation helpers compile their pattern through ``re``'s cache on every
# call; the same patterns compiled once (the unfolding done with two replacements), and skipped when
# there is nothing they could change.
_DKIMPY_COMPRESS_WHITESPACE = canonicalization.compress_whitespace
_DKIMPY_UNFOLD_HEADER_VALUE = canonicalization.unfold_header_value
_WSP_RUN = re.compile(b"[\t ]+")


def fast_compress_whitespace(content: bytes) -> bytes:
    if b"\t" not in content and b"  " not in content:  # every run is one space, replaced by itself
        return content
    return _WSP_RUN.sub(b" ", content)


def fast_unfold_header_value(content: bytes) -> bytes:
    """``re.sub(b"\\r?\\n", b"", content)``: every CRLF removed, then every LF left. A CR that
    comes to stand before an LF once the CRLFs are gone stays, as with the regex (it takes the CR of
    a CRLF only): the second pass removes LFs alone."""
    if b"\n" not in content:
        return content
    content = content.replace(b"\r\n", b"")
    return content.replace(b"\n", b"") if b"\n" in content else content


canonicalization.compress_whitespace = fast_compress_whitespace
canonicalization.unfold_header_value = fast_unfold_header_value

# dkimpy's ``validate_signature_fields`` goes through ``re``'s pattern cache for each of its tests.
# The same tests with the same patterns, compiled once, answer whether it would accept a signature;
# only when they say no is dkimpy's own function called, so that its exception (class and text) is
# the one reported. t= and x= are left out: we judge times ourselves.
_B64_VALUE = re.compile(rb"[\s0-9A-Za-z+/]+[\s=]*$")
_DOMAIN_SPECIALS = re.compile(rb"[\(\)<>\[\]:;@\\,]")
_L_VALUE = re.compile(rb"\d{,76}$")
_MANDATORY_TAGS = frozenset((b"v", b"a", b"b", b"bh", b"d", b"h", b"s"))
_CV_VALUES = (dkim.CV_Pass, dkim.CV_Fail, dkim.CV_None)


def dkimpy_accepts_fields(sig: dict[bytes, bytes]) -> bool:
    """True when ``dkim.validate_signature_fields`` would accept ``sig`` without its t= and x= (a
    DKIM signature). False may also mean "ask dkimpy": a doubtful case is never answered True."""
    if not sig.keys() >= _MANDATORY_TAGS:
        return False
    if sig[b"a"] not in dkim.HASH_ALGORITHMS:
        return False
    b = sig[b"b"]
    if _B64_VALUE.match(b) is None or len(without_wsp(b)) % 4:
        return False
    if len(without_wsp(sig[b"bh"])) % 4:  # dkimpy tests bh='s characters on b=, as above
        return False
    if b"cv" in sig and sig[b"cv"] not in _CV_VALUES:
        return False
    d = sig[b"d"]
    if d.isascii() and _DOMAIN_SPECIALS.search(d) is not None:
        return False
    i = sig.get(b"i")
    if i is not None and (len(i) <= len(d) or not i.lower().endswith(d.lower()) or i[-len(d) - 1] not in (64, 46)):
        return False
    if b"l" in sig and _L_VALUE.match(sig[b"l"]) is None:
        return False
    if b"q" in sig and sig[b"q"] != b"dns/txt":
        return False
    return sig[b"v"] == b"1"


def validate_signature_fields(tags: dict[bytes, bytes]) -> None:
    """dkimpy's field checks of a DKIM signature, without its wall-clock t=/x= judgement: raises
    what dkimpy raises."""
    if not dkimpy_accepts_fields(tags):
        dkim.validate_signature_fields({k: v for k, v in tags.items() if k not in (b"t", b"x")})


MIN_RSA_BITS = 1024  # RFC 8301 section 3.2: verifiers MUST NOT accept smaller keys
MAX_SIGNATURES = 20  # signatures verified per message; the rest are counted
CLOCK_SLOP_S = 36_000  # tolerance for signers' clocks (the figure dkimpy uses)
_ALGORITHMS = {"rsa-sha1": ("rsa", "sha1"), "rsa-sha256": ("rsa", "sha256"), "ed25519-sha256": ("ed25519", "sha256")}
_HASHERS: dict[str, Callable[..., Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
_HEADER_END = re.compile(rb"(?:^|\r?\n)\r?\n")  # the empty line after the header block (header_end's spec)
_SIGNATURE_FIELD = re.compile(rb"(?im)^dkim-signature[ \t]*:")
_P_TAG = re.compile(r"(^|;)\s*p\s*=")
_WSP = re.compile(r"\s+")
_ASCII_WSP = b" \t\n\r\x0b\x0c"  # what \s matches in a bytes pattern


def without_wsp(value: bytes) -> bytes:
    """``re.sub(rb"\\s+", b"", value)`` (dkimpy's way to drop folding white space), done by a
    translation instead of a regex scan."""
    return value.translate(None, _ASCII_WSP)


def _text_without_wsp(text: str) -> str:
    """``_WSP.sub("", text)``; printable ASCII without a space has no white space to remove."""
    if text.isascii() and text.isprintable() and " " not in text:
        return text
    return _WSP.sub("", text)


class KeyFetcher:
    """A ``dnsfunc`` for dkimpy that asks our resolver for TXT records and keeps every answer.

    ``fetcher(b"sel._domainkey.example.com.")`` returns the record text (bytes) or None, and raises
    ``dkim.DnsTimeoutError`` for a temporary failure, as dkimpy expects. ``answers`` keeps the
    :class:`Answer` of each name, so the caller can tell *why* there was no key.
    """

    def __init__(self, resolver: Resolver, *, max_lookups: int = 60):
        self.resolver = resolver
        self.answers: dict[str, Answer] = {}
        self.max_lookups = max_lookups
        self.ambiguous: set[str] = set()

    def lookup(self, name: str) -> Answer:
        key = name.strip().rstrip(".").lower()
        hit = self.answers.get(key)
        if hit is not None:
            return hit
        if len(self.answers) >= self.max_lookups:
            return answer(key or ".", "TXT", Status.TIMEOUT, source="budget")
        try:
            key.encode("ascii")
            ans = self.resolver.query(key, "TXT")
        except UnicodeEncodeError:
            ans = answer(key, "TXT", Status.NXDOMAIN, source="invalid name")
        except Exception:  # a backend must not raise; if one does, treat it as a server failure
            ans = answer(key, "TXT", Status.SERVFAIL, source="error")
        self.answers[key] = ans
        return ans

    def record(self, name: str) -> str | None:
        """The key record at ``name``: the one TXT record that looks like a DKIM key (else the first)."""
        return self.record_in(self.lookup(name))

    def record_in(self, ans: Answer) -> str | None:
        """:meth:`record` of the name whose :meth:`lookup` gave ``ans``."""
        if ans.status is not Status.NOERROR or not ans.records:
            return None
        keyish = _key_records(ans.records)
        if len(keyish) > 1:
            self.ambiguous.add(ans.name)
        return (keyish or ans.records)[0]

    def __call__(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("utf-8", errors="replace") if isinstance(name, bytes) else name
        ans = self.lookup(text)
        if ans.status.is_temporary:
            raise dkim.DnsTimeoutError(f"{ans.name}: {ans.status.value}")
        rec = self.record(text)
        return rec.encode("utf-8", errors="replace") if rec is not None else None


def _key_records(records: tuple[str, ...]) -> tuple[str, ...]:
    """The TXT records that look like a DKIM key (have a p= tag). Remembered for answers of a
    usual size: the same keys recur."""
    if sum(map(len, records)) > 8192:
        return _keyish(records)
    return _keyish_cached(records)


def _keyish(records: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r for r in records if _P_TAG.search(r))


_keyish_cached = lru_cache(maxsize=1024)(_keyish)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyInfo:
    """What the key record at ``s._domainkey.d`` says (parsed by us; the key itself by dkimpy)."""

    name: str
    status: str  # DNS status of the lookup
    record: str = ""
    key_type: str = ""  # rsa | ed25519
    bits: int | None = None
    testing: bool = False  # t=y
    strict: bool = False  # t=s: i= must be exactly d=
    hashes: tuple[str, ...] = ()  # h= (empty: any)
    service: str = "*"
    revoked: bool = False  # empty p=
    error: str = ""  # why the record cannot be used
    ambiguous: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DkimVerification:
    """The artifact of ``auth.verify.dkim``: one VerifiedResult per DKIM-Signature, top first."""

    signatures: tuple[VerifiedResult, ...]
    evaluated_at: str  # the time t=/x= were judged at (delivery time when known, else now)
    delivered_at: str | None
    delivered_at_source: str  # "received.chain", "top Received header" or "unknown"
    body_checked: bool
    not_verified: int = 0  # signatures beyond MAX_SIGNATURES
    notes: tuple[str, ...] = ()

    def passing(self) -> tuple[VerifiedResult, ...]:
        return tuple(s for s in self.signatures if s.result is AuthResultValue.PASS)


def _s(b: bytes | None) -> str:
    return b.decode("utf-8", errors="replace") if b is not None else ""


@lru_cache(maxsize=64)
def _policy(c: bytes) -> CanonicalizationPolicy:
    return CanonicalizationPolicy.from_c_value(c)


def canonicalization_policy(c: bytes) -> CanonicalizationPolicy:
    """``CanonicalizationPolicy.from_c_value(c)`` (raises as it does), remembered for short values: a
    handful recur (dkimpy never changes a policy)."""
    return _policy(c) if len(c) <= 40 else CanonicalizationPolicy.from_c_value(c)


def _int_tag(tags: dict[bytes, bytes], tag: bytes) -> int | None:
    v = tags.get(tag)
    if v is None:
        return None
    if not v.isdigit():  # digits only: no white space to remove
        v = without_wsp(v)
    if not v.isdigit() or len(v) > 15:
        raise ValueError(f"{_s(tag)}= is not a decimal number ({_s(v)[:30]})")
    return int(v)


@lru_cache(maxsize=512)
def parse_key_record(name: str, status: Status, record: str | None, *, ambiguous: bool = False) -> KeyInfo:
    """Read a DKIM key record's tags. Never raises: problems go to ``error``."""
    if record is None:
        return KeyInfo(name=name, status=status.value, ambiguous=ambiguous)
    base: dict[str, Any] = {"name": name, "status": status.value, "record": record[:2000], "ambiguous": ambiguous}
    try:
        tags = parse_tag_value(record.encode("utf-8", errors="replace"))
    except InvalidTagValueList as exc:
        return KeyInfo(**base, error=f"the key record is not a valid tag list ({_s(bytes(str(exc), 'utf-8'))[:80]})")
    version = _s(tags.get(b"v"))
    flags = {f.strip() for f in _s(tags.get(b"t")).split(":") if f.strip()}
    hashes = tuple(h.strip().lower() for h in _s(tags.get(b"h")).split(":") if h.strip())
    service_list = {x.strip().lower() for x in _s(tags.get(b"s", b"*")).split(":") if x.strip()}
    service = ":".join(sorted(service_list)) or "*"
    ktype = _s(tags.get(b"k", b"rsa")).strip().lower() or "rsa"
    p = _WSP.sub("", _s(tags.get(b"p")))
    info: dict[str, Any] = {"key_type": ktype, "testing": "y" in flags, "strict": "s" in flags, "hashes": hashes,
                            "service": service}
    if version and version != "DKIM1":
        return KeyInfo(**base, **info, error=f"the key record has v={version}, not DKIM1")
    if b"p" not in tags:
        return KeyInfo(**base, **info, error="the key record has no p= (public key)")
    if not p:
        return KeyInfo(**base, **info, revoked=True, error="the key was revoked (empty p=)")
    if ktype not in ("rsa", "ed25519"):
        return KeyInfo(**base, **info, error=f"unknown key type k={ktype}")
    if not (service_list & {"*", "email"}):
        return KeyInfo(**base, **info, error=f"the key is not for e-mail (s={service})")
    bits: int | None = None
    try:
        if ktype == "rsa":
            pk = dkim.crypto.parse_public_key(base64.b64decode(p))
            bits = dkim.bitsize(pk["modulus"])
        else:
            raw = base64.b64decode(p)
            if len(raw) != 32:
                raise ValueError("an ed25519 key is 32 bytes")
            bits = 256
    except Exception as exc:  # any decoding problem of attacker-supplied DNS data
        return KeyInfo(**base, **info, error=f"the public key cannot be read ({type(exc).__name__})")
    return KeyInfo(**base, **info, bits=bits)


@lru_cache(maxsize=1024)
def _ts(epoch: int | None) -> str | None:
    """ISO 8601 (UTC) of a Unix time, None when there is none or it is out of range. Remembered: the
    evaluation time recurs for every signature, and signers' t= and x= values recur in a batch."""
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def signed_header_refs(names: list[str], headers: list[tuple[str, int]],
                       index: dict[str, list[int]] | None = None) -> list[tuple[str, int | None]]:
    """Which header instance each h= entry covers (RFC 6376 5.4.2: bottom-up per name).

    ``headers`` is [(lower name, position)] top first; returns [(name, position or None)].
    ``index`` is :func:`header_index` of ``headers`` when the caller keeps one (several signatures).
    """
    where = index if index is not None else header_index(headers)
    return [(n, headers[k][1] if k is not None else None) for n, k in signed_indexes(names, where, len(headers))]


def signed_indexes(names: list[str], where: dict[str, list[int]], count: int) -> list[tuple[str, int | None]]:
    """:func:`signed_header_refs` as indexes into the ``count`` headers that ``where`` indexes."""
    lastindex: dict[str, int] = {}
    out: list[tuple[str, int | None]] = []
    for n in names:
        seen = where.get(n, ())
        k = bisect_left(seen, lastindex.get(n, count)) - 1  # the nearest one above the last pick
        if k >= 0:
            lastindex[n] = seen[k]
            out.append((n, seen[k]))
        else:
            lastindex[n] = 0
            out.append((n, None))
    return out


def header_index(headers: list[tuple[str, int]]) -> dict[str, list[int]]:
    """{lower name: [indexes into ``headers``, ascending]}."""
    return name_index([name for name, _pos in headers])


def name_index(names: list[str]) -> dict[str, list[int]]:
    """{name: [indexes into ``names``, ascending]}."""
    where: dict[str, list[int]] = {}
    get = where.get
    for i, name in enumerate(names):
        seen = get(name)
        if seen is None:
            where[name] = [i]
        else:
            seen.append(i)
    return where


def indexes_of(names: list[str], name: str) -> list[int]:
    """The indexes of ``name`` in ``names``, ascending (list methods, one call per occurrence)."""
    out: list[int] = []
    i = -1
    for _ in range(names.count(name)):
        i = names.index(name, i + 1)
        out.append(i)
    return out


def last_positions(names: list[str]) -> dict[str, int]:
    """{name: its highest index in ``names``}, built by dict() itself (a later name overwrites)."""
    return dict(zip(names, range(len(names)), strict=True))


def _last_before(names: list[str], name: str, end: int) -> int | None:
    """The highest index below ``end`` of ``name`` in ``names``, or None."""
    if end <= 0:
        return None
    above = names[end - 1::-1]  # names[end - 1], ..., names[0]
    return end - 1 - above.index(name) if name in above else None


def signed_refs(hnames: tuple[str, ...] | list[str], names: list[str], last: dict[str, int]) -> list[tuple[str, int | None]]:
    """``signed_indexes(hnames, name_index(names), len(names))`` from ``last``, the
    :func:`last_positions` of ``names``: an entry's first pick is the bottom-most
    field of its name, each further pick of the same name the nearest one above the previous."""
    picked: dict[str, int] = {}
    out: list[tuple[str, int | None]] = []
    for n in hnames:
        below = picked.get(n)
        k = last.get(n) if below is None else _last_before(names, n, below)
        picked[n] = k or 0
        out.append((n, k))
    return out


@dataclass(frozen=True, slots=True)
class SignedList:
    """A signature's h= list, read once per distinct text (lists recur across a batch)."""

    names: tuple[str, ...]  # lower-case, stripped, empty entries dropped
    text: str  # the names joined by ":"
    from_count: int  # how often "from" is listed
    ascii: bool  # every name is ASCII (then its bytes for dkimpy are its text, encoded)


def _read_signed_list(h: bytes | None) -> SignedList:
    names = tuple(x.strip().lower() for x in _s(h).split(":") if x.strip())
    text = ":".join(names)
    return SignedList(names=names, text=text, from_count=names.count("from"), ascii=text.isascii())


_read_signed_list_cached = lru_cache(maxsize=1024)(_read_signed_list)


def signed_list(h: bytes | None) -> SignedList:
    """The reading of an h= value (remembered for values of a usual size)."""
    if h is not None and len(h) > _MAX_REMEMBERED_RECORD:
        return _read_signed_list(h)
    return _read_signed_list_cached(h)


@dataclass(slots=True)
class _Work:
    """Mutable state while one signature is verified."""

    trace: list[TraceStep] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def step(self, what: str, outcome: str, detail: str = "", dns: tuple[str, ...] = ()) -> None:
        self.trace.append(TraceStep(what=what, outcome=outcome, detail=detail[:500], dns=dns))


class DkimVerifier:
    """Verifies every DKIM-Signature of one message (``raw`` RFC 5322 bytes)."""

    def __init__(self, raw: bytes, *, has_body: bool, fetcher: KeyFetcher,
                 eval_time: datetime, now: datetime, delivered_at: datetime | None, parsed: Rfc822 | None = None):
        self.has_body = has_body
        self.fetcher = fetcher
        self.eval_time = eval_time
        self.now = now
        self.delivered_at = delivered_at
        self.error = ""
        self._deliv_s = int(delivered_at.timestamp()) if delivered_at else None
        self._now_s = int(now.timestamp())
        self._ev_s = int(eval_time.timestamp())
        # dkimpy's reading of the message (what ``dkim.DKIM(raw)`` would parse), shared with ARC; the
        # body is normalised (and canonicalised) only when a key was found and a body hash is needed.
        self.source = parsed if parsed is not None and parsed.raw is raw else Rfc822(raw)
        self.fields: list[tuple[bytes, bytes]] = []
        try:
            self.fields = self.source.fields()
        except Exception as exc:  # dkimpy's header parser rejects some malformed messages
            self.error = f"the header block cannot be read for DKIM ({type(exc).__name__}: {str(exc)[:120]})"
        names = self.source.names() if not self.error else []
        self.sigheaders: list[tuple[bytes, bytes]] = [self.fields[i] for i in indexes_of(names, "dkim-signature")]
        self._names = names
        self._last = last_positions(names)  # a header's position is its index
        self._from_count = names.count("from")

    def _canonical_body(self, policy: Any) -> bytes:
        return self.source.canonical_body(policy)

    def verify_all(self) -> tuple[list[VerifiedResult], int]:
        results = [self.verify(i) for i in range(min(len(self.sigheaders), MAX_SIGNATURES))]
        return results, max(0, len(self.sigheaders) - MAX_SIGNATURES)

    def verify(self, idx: int) -> VerifiedResult:
        w = _Work()
        try:
            return self._verify(idx, w)
        except Exception as exc:  # hostile input must not break the check; report it as an error
            w.step("verification", "error", f"{type(exc).__name__}: {str(exc)[:200]}")
            return self._result(w, AuthResultValue.PERMERROR, f"the signature could not be processed ({type(exc).__name__})",
                                subject=str(w.details.get("subject", f"signature {idx + 1}")))

    def _result(self, w: _Work, result: AuthResultValue, cause: str, *, complete: bool = True,
                subject: str = "") -> VerifiedResult:
        # The result takes the work's details over: a work ends with its result, never changed after.
        return VerifiedResult(method="dkim", result=result, subject=subject or str(w.details.get("subject", "")),
                              cause=cause, complete=complete, trace=tuple(w.trace), details=w.details)

    def _verify(self, idx: int, w: _Work) -> VerifiedResult:
        _name, value = self.sigheaders[idx]
        d = w.details = {
            "index": idx, "header_ref": f"DKIM-Signature[{idx}]", "header_ok": None, "body_ok": None, "d": "", "s": "",
            "i": "", "algorithm": "", "key_type": "", "key_bits": None, "canonicalization": "", "signed_headers": [],
            "from_signed": False, "from_oversigned": False, "l": None, "t": None, "x": None,
            "expired_at_delivery": None, "expired_now": None, "testing": False, "key_status": "",
            "subject": f"signature {idx + 1}"}
        try:
            tags = parse_tag_value(value)
        except InvalidTagValueList as exc:
            w.step("read the signature", "malformed", str(exc))
            return self._result(w, AuthResultValue.PERMERROR, "the DKIM-Signature is not a valid tag list")
        get = tags.get
        c_value = get(b"c", b"simple/simple")
        sd, ss = get(b"d", b"").decode("utf-8", "replace").strip().lower(), get(b"s", b"").decode("utf-8", "replace").strip()
        d.update(d=sd, s=ss, i=get(b"i", b"").decode("utf-8", "replace").strip() or f"@{sd}",
                 algorithm=get(b"a", b"").decode("utf-8", "replace").strip().lower(),
                 canonicalization=c_value.decode("utf-8", "replace").strip().lower(),
                 subject=f"d={sd} s={ss}", bh=_text_without_wsp(get(b"bh", b"").decode("utf-8", "replace")))
        signed = signed_list(tags.get(b"h"))
        hnames = signed.names
        d["signed_headers"] = list(hnames)
        from_count = self._from_count
        d["from_signed"] = signed.from_count > 0
        d["from_oversigned"] = signed.from_count > from_count
        d["from_headers"] = from_count
        # The fields the h= list covers, and (dkimpy hashes the From field once more) one more From.
        hashed = signed_refs((*hnames, "from"), self._names, self._last)
        refs = hashed[:-1]
        d["signed_present"] = [f"{n}@{pos}" for n, pos in refs if pos is not None]
        d["signed_absent"] = sorted({n for n, pos in refs if pos is None})
        # Field checks: dkimpy's, without its wall-clock t=/x= judgement (we judge times ourselves).
        try:
            validate_signature_fields(tags)
            t_sig, x_sig = _int_tag(tags, b"t"), _int_tag(tags, b"x")
            length = _int_tag(tags, b"l")
            if x_sig is not None and t_sig is not None and x_sig < t_sig:
                raise dkim.ValidationError(f"x= ({x_sig}) is earlier than t= ({t_sig})")
            policy = canonicalization_policy(c_value)
        except (dkim.DKIMException, ValueError, InvalidCanonicalizationPolicyError) as exc:
            w.step("check the signature's tags", "invalid", str(exc)[:200])
            return self._result(w, AuthResultValue.PERMERROR, f"the signature is malformed: {str(exc)[:160]}")
        if not signed.from_count:
            w.step("is From signed?", "no", "RFC 6376 requires the From field to be signed")
            return self._result(w, AuthResultValue.PERMERROR, "the signature does not cover the From header")
        d.update(t=t_sig, x=x_sig, l=length, t_iso=_ts(t_sig), x_iso=_ts(x_sig))
        alg = d["algorithm"]
        want_type, want_hash = _ALGORITHMS.get(alg, ("", ""))
        if not want_type:
            w.step("algorithm", "unknown", alg)
            return self._result(w, AuthResultValue.PERMERROR, f"unknown algorithm a={alg}")
        w.step("read the signature", "ok",
               f"d={sd} s={ss} a={alg} c={d['canonicalization']} h={signed.text}"
               + (f" l={length}" if length is not None else ""))
        # Times.
        timing_fail = self._judge_times(w, t_sig, x_sig)
        # Key.
        key_name = f"{ss}._domainkey.{sd}"
        ans = self.fetcher.lookup(key_name)
        record = self.fetcher.record_in(ans)
        key = parse_key_record(ans.name, ans.status, record, ambiguous=ans.name in self.fetcher.ambiguous)
        d.update(key_status=key.status, key_name=ans.name, key_record=key.record, key_type=key.key_type,
                 key_bits=key.bits, testing=key.testing, key_strict=key.strict, key_hashes=list(key.hashes),
                 key_service=key.service)
        dns_line = (ans.summary()[:400],)
        if ans.status is not Status.NOERROR or record is None:
            w.step("fetch the public key", key.status, f"TXT {ans.name}", dns_line)
            return self._no_key(w, ans.status)
        if key.error:
            w.step("read the public key", "unusable", key.error, dns_line)
            return self._result(w, AuthResultValue.PERMERROR, key.error)
        w.step("fetch the public key", "found", f"{key.key_type} {key.bits or '?'}-bit"
               + (" (testing, t=y)" if key.testing else ""), dns_line)
        if key.key_type != want_type:
            w.step("key type vs algorithm", "mismatch", f"a={alg} but k={key.key_type}")
            return self._result(w, AuthResultValue.PERMERROR, f"the key is {key.key_type} but the signature uses {alg}")
        if key.hashes and want_hash not in key.hashes:
            w.step("key h= allows the hash?", "no", f"h={':'.join(key.hashes)}, signature uses {want_hash}")
            return self._result(w, AuthResultValue.PERMERROR, f"the key only allows {':'.join(key.hashes)}")
        if key.strict:
            ident_dom = d["i"].rpartition("@")[2].lower().rstrip(".")
            if ident_dom != sd.rstrip("."):
                w.step("key t=s: i= domain equals d=?", "no", f"i={d['i']} d={sd}")
                return self._result(w, AuthResultValue.PERMERROR, "the key forbids subdomain identities (t=s) but i= is a subdomain")
        # Body hash, ours.
        body_ok: bool | None = None
        if self.has_body:
            body = self._canonical_body(policy)
            d["body_length"] = len(body)
            if length is not None:
                if length > len(body):
                    w.step("l= body length", "longer than the body", f"l={length}, canonical body {len(body)} bytes")
                d["unsigned_body_bytes"] = max(0, len(body) - length)
                body = body[:length]
            computed = base64.b64encode(_HASHERS[want_hash](body).digest()).decode("ascii")
            d["computed_bh"] = computed
            body_ok = computed == d["bh"]
            w.step("body hash (bh=)", "matches" if body_ok else "differs",
                   f"computed {computed}, signature says {d['bh']}")
        else:
            w.step("body hash (bh=)", "not checked", "the input has headers only")
        d["body_ok"] = body_ok
        # Header signature, over the bh= the signature carries (independent of the body).
        header_ok = self._header_signature(w, tags, signed, hashed, idx, record, policy)
        d["header_ok"] = header_ok
        if header_ok is None:
            return self._result(w, AuthResultValue.PERMERROR, str(d.get("header_error", "the header signature could not be checked")))
        if not header_ok:
            return self._result(w, AuthResultValue.FAIL, "the header signature does not verify: a signed header was changed, or a different key signed")
        if body_ok is False:
            return self._result(w, AuthResultValue.FAIL, "the body hash does not match: the body was changed after signing")
        if key.key_type == "rsa" and (key.bits or 0) < MIN_RSA_BITS:
            return self._result(w, AuthResultValue.POLICY, f"the signature verifies but the key has only {key.bits} bits (RFC 8301 requires at least {MIN_RSA_BITS})")
        if timing_fail:
            return self._result(w, AuthResultValue.FAIL, timing_fail, complete=self.delivered_at is not None)
        if body_ok is None:
            return self._result(w, AuthResultValue.PASS, "the header signature verifies; the body could not be checked (headers only)",
                                complete=False)
        return self._result(w, AuthResultValue.PASS, "the header signature verifies and the body hash matches")

    def _judge_times(self, w: _Work, t_sig: int | None, x_sig: int | None) -> str:
        d = w.details
        deliv, now, ev = self._deliv_s, self._now_s, self._ev_s
        if x_sig is not None:
            d["expired_at_delivery"] = (x_sig < deliv) if deliv is not None else None
            d["expired_now"] = x_sig < now
            w.step("expiry (x=)", "expired" if x_sig < ev else "not expired",
                   f"x={_ts(x_sig)}; judged at {_ts(ev)}"
                   + ("" if deliv is not None else " (delivery time unknown)")
                   + ("; expired by now" if x_sig < now and x_sig >= ev else ""))
        else:
            d["expired_at_delivery"] = False if deliv is not None else None
            d["expired_now"] = False
        if t_sig is not None and t_sig > ev + CLOCK_SLOP_S:
            w.step("signing time (t=)", "in the future", f"t={_ts(t_sig)} is after {_ts(ev)}")
            return "the signature claims a signing time after " + ("delivery" if deliv is not None else "now")
        if x_sig is not None and x_sig < ev:
            return "the signature had expired (x=) " + ("at delivery" if deliv is not None else "by now; delivery time unknown")
        return ""

    def _no_key(self, w: _Work, status: Status) -> VerifiedResult:
        if status in (Status.NXDOMAIN, Status.NODATA):
            what = "no such name" if status is Status.NXDOMAIN else "the name has no TXT record"
            return self._result(w, AuthResultValue.PERMERROR,
                                f"the key is not published ({what}): removed or rotated since signing, cannot re-verify",
                                complete=False)
        if status is Status.UNKNOWN:
            return self._result(w, AuthResultValue.TEMPERROR, "the key is not in the DNS snapshot: cannot verify", complete=False)
        if status is Status.OFFLINE:
            return self._result(w, AuthResultValue.TEMPERROR, "DNS is off: cannot verify", complete=False)
        return self._result(w, AuthResultValue.TEMPERROR, f"the key lookup failed ({status.value}): cannot verify now",
                            complete=False)

    def _header_signature(self, w: _Work, tags: dict[bytes, bytes], signed: SignedList,
                          hashed: list[tuple[str, int | None]], idx: int, record: str,
                          policy: CanonicalizationPolicy) -> bool | None:
        """``hashed``: :func:`signed_refs` of the h= list with one more From (as dkimpy hashes it)."""
        loaded = _load_key(record)
        if isinstance(loaded, str):
            w.details["header_error"] = f"the public key cannot be used ({loaded})"
            w.step("header signature (b=)", "not checked", w.details["header_error"])
            return None
        try:
            if loaded[2] == b"rsa" and signed.ascii:
                # The names are dkimpy's own (ASCII) ones: it would pick the fields at these positions.
                fields = self.fields
                selected = [fields[k] for _n, k in hashed if k is not None]
                ok = verify_rsa_header_signature(tags[b"a"], tags[b"b"], selected, self.sigheaders[idx], loaded, policy)
            else:
                sig = {k: v for k, v in tags.items() if k != b"bh"}  # bh= stays in the signed header text
                include = [h.encode("ascii", errors="replace") for h in signed.names]
                # dkimpy canonicalises every header before picking the signed ones; hand it only the
                # fields whose names are signed (same selection, far less work on long header blocks).
                wanted = {h.decode("ascii") for h in include}  # as the (ASCII) names compare with them
                fields = [f for n, f in zip(self._names, self.fields, strict=True) if n in wanted]
                ok = verify_header_signature(sig, include, self.sigheaders[idx], fields, loaded, policy)
        except dkim.DKIMException as exc:
            w.details["header_error"] = f"the header signature cannot be checked ({str(exc)[:120]})"
            w.step("header signature (b=)", "error", w.details["header_error"])
            return None
        w.step("header signature (b=)", "verifies" if ok else "does not verify",
               f"over the headers {signed.text} and the DKIM-Signature itself")
        return ok


def verify_header_signature(sig: dict[bytes, bytes], include: list[bytes], sigheader: tuple[bytes, bytes],
                            fields: list[tuple[bytes, bytes]], key: tuple[Any, int, bytes],
                            policy: CanonicalizationPolicy) -> bool:
    """dkimpy's ``verify_sig_process`` for a signature without bh= (the body hash is checked apart)
    and a key already loaded (:func:`_load_key`): with an RSA key, its steps (the From header counted
    once more, dkimpy bug #644046; its header hash; its signature check and its error for a digest
    the key cannot take) without a dkimpy signer object per message; any other key through dkimpy.
    ``include`` is extended as dkimpy extends it; raises what dkimpy raises."""
    pk, keysize, ktag = key
    if ktag != b"rsa":
        dk = dkim.DKIM(None, minkey=0, logger=_QUIET)
        dk.headers, dk.pk, dk.keysize, dk.ktag, dk.seqtlsrpt = fields, pk, keysize, ktag, False
        return bool(dk.verify_sig_process(sig, include, sigheader, None))
    h = dkim.HASH_ALGORITHMS[sig[b"a"]]()
    if b"from" in include:
        include.append(b"from")
    dkim.hash_headers(h, policy, policy.canonicalize_headers(fields), include, sigheader, sig)
    return _rsa_verdict(h, sig[b"b"], pk)


def verify_rsa_header_signature(a: bytes, b: bytes, selected: list[tuple[bytes, bytes]],
                                sigheader: tuple[bytes, bytes], key: tuple[Any, int, bytes],
                                policy: CanonicalizationPolicy) -> bool:
    """:func:`verify_header_signature` with an RSA key, given the fields dkimpy would select (the
    h= list's, with From once more, in that order): what ``dkim.hash_headers`` hashes (each field
    canonicalised, then the signature field with b= blanked and without its line end), then the
    same RSA check. ``a`` and ``b``: the signature's a= and b= values."""
    h = dkim.HASH_ALGORITHMS[a]()
    canonical = policy.canonicalize_headers([*selected, (sigheader[0], dkim.RE_BTAG.sub(b"\\1", sigheader[1]))])
    for x, y in canonical[:-1]:
        h.update(x + b":" + y)
    x, y = canonical[-1]
    h.update(x + b":" + y.rstrip())
    return _rsa_verdict(h, b, key[0])


def _rsa_verdict(h: Any, b: bytes, pk: Any) -> bool:
    """dkimpy's RSA check of the b= value ``b`` over the hash ``h``, with its error for a digest the
    key cannot take."""
    signature = base64.b64decode(without_wsp(b))
    try:
        return bool(dkim.RSASSA_PKCS1_v1_5_verify(h, signature, pk))
    except (TypeError, dkim.DigestTooLargeError) as exc:
        raise dkim.KeyFormatError(f"digest too large for modulus: {exc}") from exc


@lru_cache(maxsize=512)
def _load_key(record: str) -> tuple[Any, int, bytes] | str:
    """dkimpy's key object for a record (cached: the same keys recur across a batch), or why not."""
    try:
        pk, keysize, ktag, _tls = dkim.evaluate_pk(b"key", record.encode("utf-8", errors="replace"))
    except Exception as exc:  # any problem with attacker-supplied DNS data
        return str(exc)[:120] or type(exc).__name__
    return pk, keysize, ktag


_canonicalize_body = canonicalize_body  # its former name here


class _Quiet:
    """A logger that drops dkimpy's messages (they would go to the root logger otherwise)."""

    def debug(self, *a: object, **k: object) -> None: ...
    def info(self, *a: object, **k: object) -> None: ...
    def warning(self, *a: object, **k: object) -> None: ...
    def error(self, *a: object, **k: object) -> None: ...
    def isEnabledFor(self, level: int) -> bool:  # the logging API's name
        return False


_QUIET = _Quiet()


def verify_message(raw: bytes, *, has_body: bool, resolver: Resolver, now: datetime,
                   delivered_at: datetime | None = None, delivered_at_source: str = "unknown",
                   fetcher: KeyFetcher | None = None, parsed: Rfc822 | None = None,
                   presumed_signed: bool = False) -> DkimVerification:
    """Verify every DKIM-Signature of ``raw``. ``delivered_at`` is when the trusted hop received it.
    ``parsed`` is dkimpy's reading of ``raw`` when the caller has it already (shared with ARC).
    ``presumed_signed``: the caller's own reading found a DKIM-Signature field, so the quick test
    for an unsigned message is skipped (the answer is the same either way, see below)."""
    fetcher = fetcher or KeyFetcher(resolver)
    eval_time = delivered_at or now
    source = parsed if parsed is not None and parsed.raw is raw else Rfc822(raw)
    evaluated_at = eval_time.isoformat()
    delivered = delivered_at.isoformat() if delivered_at else None
    unsigned = partial(DkimVerification, signatures=(), evaluated_at=evaluated_at, delivered_at=delivered,
                       delivered_at_source=delivered_at_source, body_checked=has_body)
    # unsigned: spare dkimpy's parse (the substring test, cheap, is a necessary condition for the regex)
    if not presumed_signed:
        block = source.header_block
        if b"dkim-signature" not in block.lower() or not _SIGNATURE_FIELD.search(block):
            return unsigned()
    v = DkimVerifier(raw, has_body=has_body, fetcher=fetcher, eval_time=eval_time, now=now, delivered_at=delivered_at,
                     parsed=source)
    # A block that dkimpy reads has a DKIM-Signature field exactly when the regex finds one; one it
    # cannot read counts as signed when the regex finds one (then its error is the note).
    if not v.sigheaders and not (v.error and _SIGNATURE_FIELD.search(source.header_block)):
        return unsigned()
    notes: list[str] = []
    if v.error:
        notes.append(v.error)
        results: list[VerifiedResult] = []
        extra = 0
    else:
        results, extra = v.verify_all()
    if extra:
        notes.append(f"{extra} further DKIM-Signature header(s) were not verified (limit {MAX_SIGNATURES})")
    return DkimVerification(
        signatures=tuple(results), evaluated_at=evaluated_at, delivered_at=delivered,
        delivered_at_source=delivered_at_source, body_checked=has_body, not_verified=extra, notes=tuple(notes),
    )
