"""The resolver protocol and answer type.

Every DNS outcome is a value:

- ``NOERROR``  the name has records of this type (``records`` holds them, presentation format)
- ``NODATA``   the name exists but has no records of this type
- ``NXDOMAIN`` the name does not exist
- ``SERVFAIL`` / ``TIMEOUT`` / ``REFUSED``  the lookup failed (temporary)
- ``UNKNOWN``  the snapshot does not know this name/type (not NXDOMAIN: nobody asked at the time)
- ``OFFLINE``  no DNS was allowed (``--offline``)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Status(StrEnum):
    NOERROR = "NOERROR"
    NODATA = "NODATA"
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    TIMEOUT = "TIMEOUT"
    REFUSED = "REFUSED"
    UNKNOWN = "UNKNOWN"
    OFFLINE = "OFFLINE"

    # Plain attributes, set below for each member (an enum property is a Python call every time,
    # and the checks ask these in every DNS step).
    is_data: bool
    is_definite: bool  # the answer says something about the name (data, no data, no such name)
    is_temporary: bool


for _status in Status:
    _status.is_data = _status is Status.NOERROR
    _status.is_definite = _status in (Status.NOERROR, Status.NODATA, Status.NXDOMAIN)
    _status.is_temporary = _status in (Status.SERVFAIL, Status.TIMEOUT, Status.REFUSED)
del _status


def normalize_name(name: str) -> str:
    """Lower-case, absolute-less form used as a cache and snapshot key."""
    n = name.strip().lower()
    return n[:-1] if n.endswith(".") else n


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    name: str  # normalized, no trailing dot
    rdtype: str  # "A", "TXT", ...
    status: Status
    records: tuple[str, ...] = ()  # presentation format; TXT as the joined character-strings, unquoted
    ttl: int | None = None
    source: str = ""  # "live", "snapshot", "off", "zone", "memory"
    elapsed_ms: float = 0.0
    canonical_name: str | None = None  # when a CNAME was followed
    truncated_fallback_tcp: bool = False
    # summary(), made on first use: a cached answer is summarised again by every check and message
    # that cites it. Not part of the answer's value (no init, compare, repr; "_" keeps it out of JSON).
    _summary: str | None = field(default=None, init=False, repr=False, compare=False)

    def summary(self) -> str:
        """'TXT example.com -> NOERROR "v=spf1 ..."' for evidence lines."""
        made = self._summary
        if made is None:
            made = _summarise(self)
            object.__setattr__(self, "_summary", made)
        return made


def _summarise(a: Answer) -> str:
    head = f"{a.rdtype} {a.name} -> {a.status.value}"
    if a.records:
        shown = "; ".join(a.records[:6])
        if len(a.records) > 6:
            shown += f"; (+{len(a.records) - 6} more)"
        return f"{head} {shown}"
    return head


@runtime_checkable
class Resolver(Protocol):
    """Anything that answers queries. Implementations must never raise for DNS outcomes."""

    mode: str  # "live", "snapshot", "off", "memory", ...

    def query(self, name: str, rdtype: str) -> Answer: ...


def answer(name: str, rdtype: str, status: Status, records: tuple[str, ...] = (), **kw: object) -> Answer:
    return Answer(name=normalize_name(name), rdtype=rdtype.upper(), status=status, records=records, **kw)  # type: ignore[arg-type]
