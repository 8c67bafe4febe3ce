"""Snapshot resolver: answers from a file of recorded DNS data, never from the network.

Format (that of ``examples/*.dns``): one resource record per line in presentation format,
``NAME TTL CLASS TYPE RDATA``; ``;`` starts a comment. Negative answers that a recording saw are
kept as directives: ``$STATUS NAME TYPE STATUS`` (e.g. ``$STATUS example.org. TXT NXDOMAIN``).

A name/type the snapshot does not mention is UNKNOWN: nobody asked it at the time, so it is not
evidence that the record does not exist.
"""

from __future__ import annotations

from pathlib import Path

from mailsleuth.dns.base import Answer, Status, answer, normalize_name
from mailsleuth.dns.records import parse_rdata
from mailsleuth.errors import InputError

_MAX_LINES = 200_000


class SnapshotResolver:
    mode = "snapshot"

    def __init__(self, data: dict[tuple[str, str], list[str]], statuses: dict[tuple[str, str], Status],
                 ttls: dict[tuple[str, str], int] | None = None, origin: str = ""):
        self._data = data
        self._statuses = statuses
        self._ttls = ttls or {}
        self.origin = origin

    @classmethod
    def from_text(cls, text: str, origin: str = "<snapshot>") -> SnapshotResolver:
        data: dict[tuple[str, str], list[str]] = {}
        statuses: dict[tuple[str, str], Status] = {}
        ttls: dict[tuple[str, str], int] = {}
        for lineno, line in enumerate(text.splitlines()[:_MAX_LINES], 1):
            stripped = line.strip()
            if not stripped or stripped.startswith(";"):
                continue
            if stripped.startswith("$STATUS"):
                parts = stripped.split()
                if len(parts) != 4:
                    raise InputError(f"{origin}:{lineno}: $STATUS needs NAME TYPE STATUS")
                try:
                    st = Status(parts[3].upper())
                except ValueError:
                    raise InputError(f"{origin}:{lineno}: unknown status {parts[3]!r}") from None
                statuses[(normalize_name(parts[1]), parts[2].upper())] = st
                continue
            parts = stripped.split(None, 4)
            if len(parts) == 5 and parts[2].upper() == "IN":
                name, ttl_s, _cls, rdtype, rdata = parts
            elif len(parts) >= 4 and parts[1].upper() == "IN":  # NAME IN TYPE RDATA (no TTL)
                name, _cls, rdtype = parts[:3]
                rdata = stripped.split(None, 3)[3]
                ttl_s = "0"
            else:
                raise InputError(f"{origin}:{lineno}: expected 'NAME TTL IN TYPE RDATA'")
            rdtype = rdtype.upper()
            try:
                rec = parse_rdata(rdtype, rdata)
                ttl = int(ttl_s)
            except ValueError as exc:
                raise InputError(f"{origin}:{lineno}: {exc}") from None
            key = (normalize_name(name), rdtype)
            data.setdefault(key, []).append(rec)
            ttls[key] = ttl
        return cls(data, statuses, ttls, origin)

    @classmethod
    def from_file(cls, path: str | Path) -> SnapshotResolver:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read DNS snapshot {p}: {exc.strerror or exc}") from None
        if len(raw) > 64 * 1024 * 1024:
            raise InputError(f"DNS snapshot {p} is larger than 64 MiB")
        return cls.from_text(raw.decode("utf-8", errors="replace"), origin=str(p))

    def query(self, name: str, rdtype: str) -> Answer:
        key = (normalize_name(name), rdtype.upper())
        recs = self._data.get(key)
        if recs:
            return answer(key[0], key[1], Status.NOERROR, tuple(recs), source="snapshot", ttl=self._ttls.get(key))
        st = self._statuses.get(key)
        if st is not None:
            return answer(key[0], key[1], st, source="snapshot")
        if key[1] != "CNAME":
            cname = self._data.get((key[0], "CNAME"))
            if cname:
                followed = self.query(cname[0], key[1])
                return answer(key[0], key[1], followed.status, followed.records, source="snapshot",
                              canonical_name=normalize_name(cname[0]))
        return answer(key[0], key[1], Status.UNKNOWN, source="snapshot")
