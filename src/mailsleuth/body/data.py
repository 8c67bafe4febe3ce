"""Loaders for the body knowledge files in ``data/body/`` (read once per process)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from mailsleuth.datafiles import load_data_toml
from mailsleuth.domains import public_suffix
from mailsleuth.errors import DataError


def _load(name: str) -> dict[str, Any]:
    return load_data_toml("body", name)


@dataclass(frozen=True, slots=True)
class WrapperDef:
    id: str
    description: str
    hosts: tuple[str, ...]
    method: str
    params: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    host_prefix: str = ""
    note_param: str = ""
    kind: str = "tracker"
    prefix: str = ""
    base64: bool = False
    examples: tuple[dict[str, Any], ...] = ()

    def matches_host(self, host: str) -> bool:
        for pattern in self.hosts:
            if pattern == "*":
                return True
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) or host == pattern[2:]:
                    break
            elif pattern.endswith(".*"):
                # "google.*": the name followed by any suffix ("google.com", "google.co.uk")
                if host.startswith(pattern[:-1]) and host[len(pattern) - 1 :] == public_suffix(host):
                    break
            elif host == pattern:
                break
        else:
            return False
        return not self.host_prefix or host.startswith(self.host_prefix)


_METHODS = {"query", "proofpoint-v2", "proofpoint-v3", "opaque", "path-prefix", "path-segment", "query-base64"}
_KINDS = {"security", "redirect", "open-redirect", "tracker"}


@cache
def wrappers() -> tuple[WrapperDef, ...]:
    out = []
    for w in _load("wrappers.toml").get("wrapper", []):
        try:
            wd = WrapperDef(id=w["id"], description=w["description"], hosts=tuple(w["hosts"]), method=w["method"],
                            params=tuple(w.get("params", ())), paths=tuple(w.get("paths", ())),
                            host_prefix=w.get("host_prefix", ""), note_param=w.get("note_param", ""),
                            kind=w.get("kind", "tracker"), prefix=w.get("prefix", ""), base64=bool(w.get("base64")),
                            examples=tuple(w.get("examples", ())))
        except KeyError as exc:
            raise DataError(f"data/body/wrappers.toml: entry without {exc}") from None
        if wd.method not in _METHODS:
            raise DataError(f"data/body/wrappers.toml: {wd.id}: unknown method {wd.method!r}")
        if wd.kind not in _KINDS:
            raise DataError(f"data/body/wrappers.toml: {wd.id}: unknown kind {wd.kind!r}")
        out.append(wd)
    return tuple(out)


@cache
def shortener_domains() -> frozenset[str]:
    return frozenset(d.lower() for d in _load("shorteners.toml").get("domains", []))


@cache
def shorteners_file() -> dict[str, Any]:
    return _load("shorteners.toml")


@dataclass(frozen=True, slots=True)
class ExtensionGroup:
    id: str
    description: str
    extensions: frozenset[str]
    examples_positive: tuple[str, ...]
    examples_negative: tuple[str, ...]


@cache
def extension_groups() -> tuple[ExtensionGroup, ...]:
    data = _load("extensions.toml")
    return tuple(ExtensionGroup(id=g["id"], description=g["description"],
                                extensions=frozenset(e.lower() for e in g["extensions"]),
                                examples_positive=tuple(g.get("examples_positive", ())),
                                examples_negative=tuple(g.get("examples_negative", ())))
                 for g in data.get("group", []))


@cache
def extension_index() -> dict[str, tuple[str, ...]]:
    idx: dict[str, list[str]] = {}
    for g in extension_groups():
        for e in g.extensions:
            idx.setdefault(e, []).append(g.id)
    return {k: tuple(v) for k, v in idx.items()}


@cache
def decoys() -> dict[str, Any]:
    d = _load("extensions.toml").get("decoys", {})
    return {"extensions": frozenset(e.lower() for e in d.get("extensions", ())),
            "examples_positive": tuple(d.get("examples_positive", ())),
            "examples_negative": tuple(d.get("examples_negative", ()))}


@dataclass(frozen=True, slots=True)
class MagicType:
    id: str
    description: str
    mime: str
    family: str
    magic: bytes = b""
    offset: int = 0
    text_prefixes: tuple[str, ...] = ()
    examples_positive: tuple[str, ...] = ()
    examples_negative: tuple[str, ...] = ()


@cache
def magic_types() -> tuple[MagicType, ...]:
    out = []
    for t in _load("magic.toml").get("type", []):
        try:
            out.append(MagicType(id=t["id"], description=t["description"], mime=t["mime"], family=t["family"],
                                 magic=bytes.fromhex(t.get("magic", "")), offset=int(t.get("offset", 0)),
                                 text_prefixes=tuple(p.lower() for p in t.get("text_prefixes", ())),
                                 examples_positive=tuple(t.get("examples_positive", ())),
                                 examples_negative=tuple(t.get("examples_negative", ()))))
        except (KeyError, ValueError) as exc:
            raise DataError(f"data/body/magic.toml: {exc}") from None
    return tuple(out)


@cache
def claims() -> tuple[tuple[str, frozenset[str], tuple[str, ...]], ...]:
    """(family, extensions, MIME types or prefixes ending in '/' or '.') from data/body/magic.toml."""
    return tuple((c["family"], frozenset(e.lower() for e in c.get("extensions", ())),
                  tuple(m.lower() for m in c.get("mime", ())))
                 for c in _load("magic.toml").get("claim", []))


def claimed_families(extension: str, declared: str) -> tuple[set[str], set[str]]:
    """(families the extension claims, families the declared MIME type claims)."""
    by_ext: set[str] = set()
    by_mime: set[str] = set()
    ext = extension.lower()
    decl = declared.lower()
    for family, exts, mimes in claims():
        if ext and ext in exts:
            by_ext.add(family)
        if decl and any(decl.startswith(m) for m in mimes):
            by_mime.add(family)
    return by_ext, by_mime


@dataclass(frozen=True, slots=True)
class HostingService:
    id: str
    description: str
    hosts: tuple[str, ...]
    examples_positive: tuple[str, ...]
    examples_negative: tuple[str, ...]


@cache
def hosting_services() -> tuple[HostingService, ...]:
    return tuple(HostingService(id=s["id"], description=s["description"], hosts=tuple(h.lower() for h in s["hosts"]),
                                examples_positive=tuple(s.get("examples_positive", ())),
                                examples_negative=tuple(s.get("examples_negative", ())))
                 for s in _load("hosting.toml").get("service", []))


_WILD = "*?[]"  # fnmatch's special characters (']' only with '[', but a literal tail need not hold it)


@cache
def _hosting_index() -> tuple[dict[str, int], dict[str, int], tuple[tuple[int, str, str], ...]]:
    """The patterns of hosting_services() by kind, each with its service's index: literal names,
    ``*.`` + a literal suffix, and the rest (with the literal tail every match ends with)."""
    exact: dict[str, int] = {}
    suffix: dict[str, int] = {}
    other: list[tuple[int, str, str]] = []
    for i, svc in enumerate(hosting_services()):
        for pattern in svc.hosts:
            if not any(c in pattern for c in _WILD):
                exact.setdefault(pattern, i)
            elif pattern.startswith("*.") and not any(c in pattern[2:] for c in _WILD):
                suffix.setdefault(pattern[2:], i)  # "*.x.example" matches what ends with ".x.example"
            else:
                cut = max(pattern.rfind(c) for c in _WILD)
                other.append((i, pattern, pattern[cut + 1 :]))
    return exact, suffix, tuple(other)


@lru_cache(maxsize=4096)
def hosting_for(host: str) -> str | None:
    """The id of the free-hosting service a host name belongs to, or None: the first service with
    a shell-style pattern (fnmatch) matching the whole name, found through _hosting_index."""
    from fnmatch import fnmatchcase

    h = host.lower()
    exact, suffix, other = _hosting_index()
    services = hosting_services()
    best = exact.get(h, len(services))
    dot = h.find(".")
    for _ in range(len(h)):  # bounded: one step per '.'
        if dot == -1:
            break
        best = min(best, suffix.get(h[dot + 1 :], best))
        dot = h.find(".", dot + 1)
    for i, pattern, tail in other:
        if i < best and h.endswith(tail) and fnmatchcase(h, pattern):
            best = i
    return services[best].id if best < len(services) else None


@cache
def trackers_file() -> dict[str, Any]:
    data = _load("trackers.toml")
    data["labels"] = frozenset(x.lower() for x in data.get("labels", ()))
    return data
