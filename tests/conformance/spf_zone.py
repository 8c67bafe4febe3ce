"""Zone data of the SPF conformance suites (openspf YAML, stalwart line format) as a Resolver.

openspf conventions (see the suite README): every ``SPF:`` record is also served as TXT unless the
name has a ``TXT:`` entry (``TXT: NONE`` included); an absent name is NXDOMAIN; ``TIMEOUT`` in a
name's list makes lookups of that name time out for every type that has no records there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from mailsleuth.dns.base import Answer, Status, answer, normalize_name


class ZoneResolver:
    mode = "zone"

    def __init__(self) -> None:
        self.data: dict[str, dict[str, list[str]]] = {}
        self.timeout: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self.dns_error_convention = False  # stalwart: names under "_dns_error." fail with SERVFAIL
        self.empty_non_terminals = False  # a parent of existing names answers NODATA, as real DNS does

    def add(self, name: str, rdtype: str, value: str) -> None:
        self.data.setdefault(normalize_name(name), {}).setdefault(rdtype.upper(), []).append(value)

    def touch(self, name: str, rdtype: str | None = None) -> None:
        entry = self.data.setdefault(normalize_name(name), {})
        if rdtype:
            entry.setdefault(rdtype.upper(), [])

    def query(self, name: str, rdtype: str, _depth: int = 0) -> Answer:
        key, rdtype = normalize_name(name), rdtype.upper()
        self.queries.append((key, rdtype))
        if _depth > 8:  # a CNAME loop: a real server answers SERVFAIL
            return answer(key, rdtype, Status.SERVFAIL, source="zone")
        if key.startswith("_dns_error.") and self.dns_error_convention:
            return answer(key, rdtype, Status.SERVFAIL, source="zone")
        entry = self.data.get(key)
        if entry is None:
            if key in self.timeout:
                return answer(key, rdtype, Status.TIMEOUT, source="zone")
            if self.empty_non_terminals and any(k.endswith("." + key) for k in self.data):
                return answer(key, rdtype, Status.NODATA, source="zone")
            return answer(key, rdtype, Status.NXDOMAIN, source="zone")
        recs = entry.get(rdtype)
        if not recs and rdtype != "CNAME" and entry.get("CNAME"):
            target = entry["CNAME"][0]
            if target != key:
                followed = self.query(target, rdtype, _depth + 1)
                return answer(key, rdtype, followed.status, followed.records, source="zone",
                              canonical_name=normalize_name(target))
        if not recs:
            if key in self.timeout:
                return answer(key, rdtype, Status.TIMEOUT, source="zone")
            return answer(key, rdtype, Status.NODATA, source="zone")
        return answer(key, rdtype, Status.NOERROR, tuple(recs), source="zone")


def _txt(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return str(value)


def openspf_resolver(zonedata: dict[str, list[Any]], *, empty_non_terminals: bool = False) -> ZoneResolver:
    z = ZoneResolver()
    z.empty_non_terminals = empty_non_terminals
    for name, records in (zonedata or {}).items():
        z.touch(name)
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for r in records:
            if r == "TIMEOUT":
                z.timeout.add(normalize_name(name))
                continue
            assert isinstance(r, dict)
            for rtype, value in r.items():
                rtype = rtype.upper()
                if value == "NONE" and rtype in ("TXT", "SPF"):
                    z.touch(name, rtype)
                    continue
                if rtype == "SPF":
                    z.add(name, "SPF", _txt(value))
                    if not has_txt:
                        z.add(name, "TXT", _txt(value))
                elif rtype == "TXT":
                    z.add(name, "TXT", _txt(value))
                elif rtype == "MX":
                    z.add(name, "MX", f"{value[0]} {value[1]}")
                else:
                    z.add(name, rtype, str(value))
    return z


def load_openspf(path: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """[(case id, test dict, zonedata)] for every test of every scenario."""
    out = []
    with path.open(encoding="utf-8") as fh:
        for doc in yaml.safe_load_all(fh):
            if not doc:
                continue
            for tid, t in (doc.get("tests") or {}).items():
                out.append((str(tid), t, doc.get("zonedata") or {}))
    return out


def stalwart_resolver(lines: Iterable[str]) -> ZoneResolver:
    """Stalwart's ``records:`` lines: ``spf|exp: name text``, ``a|aaaa|mx: name ip, ip``, ``ptr: ip name, name``."""
    import ipaddress

    z = ZoneResolver()
    z.dns_error_convention = True
    for line in lines:
        kind, _, rest = line.strip().partition(":")
        name, _, value = rest.strip().partition(" ")
        kind = kind.strip().lower()
        if kind in ("spf", "exp"):
            z.add(name, "TXT", value.strip())
        elif kind in ("a", "aaaa"):
            for ip in value.split(","):
                ip = ip.strip()
                if ip:
                    z.add(name, "A" if ipaddress.ip_address(ip).version == 4 else "AAAA", ip)
        elif kind == "mx":
            for i, ip in enumerate(v.strip() for v in value.split(",") if v.strip()):
                host = f"mx{i}.{name}"
                z.add(name, "MX", f"{(i + 1) * 10} {host}")
                z.add(host, "A" if ipaddress.ip_address(ip).version == 4 else "AAAA", ip)
        elif kind == "ptr":
            rev = ipaddress.ip_address(name).reverse_pointer
            for host in value.split(","):
                if host.strip():
                    z.add(rev, "PTR", host.strip())
    return z


def load_stalwart(path: Path) -> list[tuple[str, dict[str, str], list[str]]]:
    """[(case id, state, record lines)] from one stalwart spf/*.yml file.

    The format is read the way upstream's harness reads it: line by line, each ``key: value``
    updating a state (records are replaced per kind and name, ``domain``/``sender``/``ip`` set the
    identities) and every ``expect:`` line running one test against the state at that point.
    """
    out: list[tuple[str, dict[str, str], list[str]]] = []
    for doc_no, doc in enumerate(path.read_text(encoding="utf-8").split("\n---")):
        records: dict[tuple[str, str], str] = {}
        state: dict[str, str] = {"domain": "", "sender": "", "ip": ""}
        name = ""
        for raw in doc.splitlines():
            s = raw.strip()
            if s.startswith("- "):
                s = s[2:].strip()
            if not s or s.startswith("#") or s == "---" or ":" not in s:
                continue
            key, _, value = s.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "name":
                name = value
            elif key in ("spf", "exp", "a", "aaaa", "mx", "ptr"):
                rname, _, rest = value.partition(" ")
                records[(key, rname.lower())] = rest.strip()
            elif key in ("domain", "sender", "ip"):
                state[key] = value
            elif key == "expect":
                lines = [f"{k}: {n} {v}" for (k, n), v in records.items()]
                out.append((f"{path.stem}[{doc_no}] {name} #{len(out)}", {**state, "expect": value}, lines))
    return out
