"""The findings catalogue: the words of every finding code, kept as data.

Each file ``data/findings/<area>.toml`` holds tables keyed by code::

    [RCVD_TIME_REVERSED]
    severity = "medium"
    title = "Hop {hop} was stamped {seconds}s before the hop below it"
    explanation = "..."

Titles and explanations are ``str.format`` templates filled with the facts a check supplies.
Missing facts render as ``?`` rather than failing.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from mailsleuth.errors import DataError
from mailsleuth.model.findings import Severity


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    area: str
    severity: Severity
    title: str
    explanation: str


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


_FORMATTER = string.Formatter()


# A parsed template: (literal, field name or None, format spec, conversion) items, or None when
# the template uses more than plain named fields (then the general formatter handles it).
_Piece = tuple[str, str | None, str, str | None]
_UNPARSABLE: tuple[_Piece, ...] = ()


@lru_cache(maxsize=4096)
def _pieces(template: str) -> tuple[_Piece, ...] | None:
    """Templates are catalogue data (a few hundred): parse each once."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return _UNPARSABLE
    out: list[_Piece] = []
    for literal, name, spec, conv in parsed:
        if name is not None and (not name.isidentifier() or "{" in (spec or "") or conv not in (None, "s", "r", "a")):
            return None
        out.append((literal, name, spec or "", conv))
    return tuple(out)


def fill(template: str, facts: dict[str, Any]) -> str:
    if "{" not in template and "}" not in template:
        return template
    pieces = _pieces(template)
    if pieces is _UNPARSABLE:
        return template
    try:
        if pieces is None:
            return _FORMATTER.vformat(template, (), _Facts(facts))
        out: list[str] = []
        for literal, name, spec, conv in pieces:
            out.append(literal)
            if name is None:
                continue
            obj = facts.get(name, "?")
            if conv is not None:
                obj = str(obj) if conv == "s" else repr(obj) if conv == "r" else ascii(obj)
            out.append(format(obj, spec))
        return "".join(out)
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return template


@cache
def load_catalogue() -> dict[str, CatalogueEntry]:
    entries: dict[str, CatalogueEntry] = {}
    root = resources.files("mailsleuth") / "data" / "findings"
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        area = item.name[:-5]
        try:
            data = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"findings/{item.name}: {exc}") from None
        for code, body in data.items():
            if code in entries:
                raise DataError(f"finding code {code} defined twice (findings/{item.name})")
            if not code.isupper() or not isinstance(body, dict):
                raise DataError(f"findings/{item.name}: bad entry {code!r}")
            try:
                entries[code] = CatalogueEntry(
                    code=code, area=area, severity=Severity(body["severity"]),
                    title=str(body["title"]), explanation=str(body["explanation"]),
                )
            except (KeyError, ValueError) as exc:
                raise DataError(f"findings/{item.name}: {code}: {exc}") from None
    return entries
