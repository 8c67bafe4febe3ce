"""The brand registry: ``data/brands/*.toml`` (files starting with ``_`` are not brands), plus
the user's own organisation (``Config.own_domains``) and optional user brand files
(``Config.brand_files``, same format).

A file holds one family::

    family = "jp-banks"
    source = "where the facts come from"
    [[brand]]
    id = "mufg"
    name = "MUFG Bank"
    description = "Japanese megabank"
    category = "bank"
    country = "JP"
    names = ["MUFG", "三菱UFJ銀行"]
    domains = ["mufg.jp"]
    [brand.examples]
    lookalike = ["mufg-jp.com"]
    unrelated = ["mfg.example"]

Loading validates the entries (ids unique, domains registrable and owned by one brand only) and
raises DataError with the file and entry on a mistake; the result is cached for the process.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mailsleuth.domains import normalize, org_domain, public_suffix
from mailsleuth.errors import DataError
from mailsleuth.model.brand import Brand, BrandExamples

CATEGORIES = frozenset({
    "bank", "card", "payment", "crypto", "investment", "insurance", "delivery", "software", "cloud",
    "security", "social", "messaging", "marketplace", "retail", "travel", "streaming", "gaming",
    "telecom", "government", "tax", "utility", "email", "transport", "own",
})

_KEYS = {"id", "name", "description", "source", "category", "country", "names", "weak_names", "products",
         "domains", "user_domains", "tokens", "weak_tokens", "dns_host", "examples", "group"}
_EXAMPLE_KEYS = {"lookalike", "claims", "unrelated", "not_claims"}


def _strs(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _domains(value: Any, where: str, key: str) -> tuple[str, ...]:
    """Registrable domains; user domains may also be public suffixes of the brand's own
    (github.io, web.app: every name under them belongs to a customer)."""
    out = []
    for d in _strs(value, where, key):
        n = normalize(d)
        suffix_ok = key == "user_domains" and org_domain(n) is None and public_suffix(n) == n
        if n != d.lower() or (org_domain(n) != n and not suffix_ok):
            raise DataError(f"{where}: {key}: {d!r} is not a lower-case registrable domain")
        out.append(n)
    return tuple(dict.fromkeys(out))


def parse_brand(body: Any, where: str, *, family_source: str = "", origin: str = "registry") -> Brand:
    if not isinstance(body, dict):
        raise DataError(f"{where}: a brand must be a table")
    unknown = set(body) - _KEYS
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "name", "category", "country"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise DataError(f"{where}: {key} is required")
    bid = body["id"].strip()
    where = f"{where} ({bid})"
    if not bid.replace("-", "").replace("_", "").isalnum() or bid != bid.lower():
        raise DataError(f"{where}: id must be lower-case letters, digits, - and _")
    if body["category"] not in CATEGORIES:
        raise DataError(f"{where}: unknown category {body['category']!r}")
    ex = body.get("examples", {})
    if not isinstance(ex, dict) or set(ex) - _EXAMPLE_KEYS:
        raise DataError(f"{where}: examples must be a table with {sorted(_EXAMPLE_KEYS)}")
    domains = _domains(body.get("domains"), where, "domains")
    user_domains = _domains(body.get("user_domains"), where, "user_domains")
    if not domains and not user_domains:
        raise DataError(f"{where}: a brand needs at least one domain")
    dns_host = body.get("dns_host", False)
    if not isinstance(dns_host, bool):
        raise DataError(f"{where}: dns_host must be true or false")
    return Brand(
        id=bid, name=body["name"].strip(), category=body["category"], country=body["country"].strip(),
        description=str(body.get("description", "")).strip() or f"{body['name']} ({body['category']}, {body['country']})",
        source=str(body.get("source", "")).strip() or family_source,
        names=_strs(body.get("names"), where, "names"), weak_names=_strs(body.get("weak_names"), where, "weak_names"),
        products=_strs(body.get("products"), where, "products"), domains=domains, user_domains=user_domains,
        tokens=tuple(t.lower() for t in _strs(body.get("tokens"), where, "tokens")),
        weak_tokens=tuple(t.lower() for t in _strs(body.get("weak_tokens"), where, "weak_tokens")),
        dns_host=dns_host, origin=origin, group=str(body.get("group", "")).strip(),
        examples=BrandExamples(
            lookalike=_strs(ex.get("lookalike"), where, "examples.lookalike"),
            claims=_strs(ex.get("claims"), where, "examples.claims"),
            unrelated=_strs(ex.get("unrelated"), where, "examples.unrelated"),
            not_claims=_strs(ex.get("not_claims"), where, "examples.not_claims"),
        ),
    )


def parse_family(text: str, where: str, *, origin: str = "registry") -> list[Brand]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where}: {exc}") from None
    source = str(data.get("source", "")).strip()
    items = data.get("brand", [])
    if not isinstance(items, list):
        raise DataError(f"{where}: [[brand]] entries expected")
    return [parse_brand(b, f"{where}[{i}]", family_source=source, origin=origin) for i, b in enumerate(items)]


def check_unique(brands: Iterable[Brand]) -> None:
    ids: dict[str, str] = {}
    owners: dict[str, Brand] = {}
    for b in brands:
        if b.id in ids:
            raise DataError(f"brand id {b.id} defined twice")
        ids[b.id] = b.id
        for d in (*b.domains, *b.user_domains):
            other = owners.get(d)
            if other is not None and other.id != b.id and not (b.group and b.group == other.group):
                raise DataError(f"domain {d} listed by both {other.id} and {b.id}")
            owners.setdefault(d, b)
        if not b.source:
            raise DataError(f"brand {b.id}: no source")


@cache
def load_registry() -> tuple[Brand, ...]:
    """Every brand shipped in data/brands, validated, in file order."""
    brands: list[Brand] = []
    root = resources.files("mailsleuth") / "data" / "brands"
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml") or item.name.startswith("_"):
            continue
        brands.extend(parse_family(item.read_text(encoding="utf-8"), f"brands/{item.name}"))
    check_unique(brands)
    return tuple(brands)


@cache
def load_user_brands(paths: tuple[str, ...]) -> tuple[Brand, ...]:
    """Brands from the user's own files (``Config.brand_files``), same format as the registry."""
    brands: list[Brand] = []
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read brand file {p}: {exc.strerror or exc}") from None
        brands.extend(parse_family(text, p, origin="user"))
    return tuple(brands)


def own_brand(domains: tuple[str, ...], source: str = "config") -> Brand | None:
    """The recipient's own organisation as a brand (for business email compromise)."""
    clean = []
    for d in domains:
        od = org_domain(d)
        if od:
            clean.append(od)
    if not clean:
        return None
    clean = list(dict.fromkeys(clean))
    # Configured domains also lend their labels as names ("example-corp" -> "Example Corp"), so a
    # display name naming the organisation from outside is seen; a guessed organisation does not.
    labels = tuple(dict.fromkeys(d.split(".", 1)[0] for d in clean if len(d.split(".", 1)[0]) >= 5))
    return Brand(id="own-organisation", name=f"your organisation ({clean[0]})", category="own", country="",
                 description="The recipient's own organisation", source=source, domains=tuple(clean),
                 names=labels if source == "config" else (), origin="own")
