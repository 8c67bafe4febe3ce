"""An in-memory zone resolver for unit tests and conformance suites.

Zone data is ``{name: {RRTYPE: [records...]}}``. A name absent from the data is NXDOMAIN
(unlike a snapshot, where it is UNKNOWN); a present name without the type is NODATA.
Special records: the string ``TIMEOUT`` as a type's only record makes that query time out;
``{name: "TIMEOUT"}`` makes every query of the name time out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mailsleuth.dns.base import Answer, Status, answer, normalize_name


class MemoryResolver:
    mode = "memory"

    def __init__(self, zone: Mapping[str, Mapping[str, Sequence[str]] | str], *, absent: Status = Status.NXDOMAIN):
        self._zone: dict[str, dict[str, tuple[str, ...]] | str] = {}
        for name, types in zone.items():
            key = normalize_name(name)
            if isinstance(types, str):
                self._zone[key] = types
                continue
            entry = self._zone.setdefault(key, {})
            assert isinstance(entry, dict)
            for t, recs in types.items():
                entry[t.upper()] = entry.get(t.upper(), ()) + tuple(recs)
        self._absent = absent
        self.queries: list[tuple[str, str]] = []

    def query(self, name: str, rdtype: str) -> Answer:
        key = normalize_name(name)
        rdtype = rdtype.upper()
        self.queries.append((key, rdtype))
        entry = self._zone.get(key)
        if entry is None:
            # A name that exists only as a parent of other names is an empty non-terminal: NODATA.
            suffix = "." + key
            if any(k.endswith(suffix) for k in self._zone):
                return answer(key, rdtype, Status.NODATA, source=self.mode)
            return answer(key, rdtype, self._absent, source=self.mode)
        if isinstance(entry, str):
            return answer(key, rdtype, Status.TIMEOUT, source=self.mode)
        recs = entry.get(rdtype)
        if recs is None and rdtype != "CNAME" and "CNAME" in entry:
            target = entry["CNAME"][0]
            followed = self.query(target, rdtype)
            return answer(key, rdtype, followed.status, followed.records, source=self.mode,
                          canonical_name=normalize_name(target))
        if not recs:
            return answer(key, rdtype, Status.NODATA, source=self.mode)
        if recs == ("TIMEOUT",):
            return answer(key, rdtype, Status.TIMEOUT, source=self.mode)
        return answer(key, rdtype, Status.NOERROR, recs, source=self.mode)
