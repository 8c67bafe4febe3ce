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
from functools import cache
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


_FORMATTER = string.Formatter()  # the general formatter fill() agrees with (see the tests)
_FILL_ERRORS = (ValueError, IndexError, KeyError, AttributeError, TypeError)


def fill(template: str, facts: dict[str, Any]) -> str:
    """``template`` filled with ``facts`` (a missing fact reads ``?``); the template itself when it
    cannot be filled."""
    if "{" not in template and "}" not in template:
        return template
    try:
        # Checks supply every fact their texts name, as a rule: try without the "?" default first.
        return template.format_map(facts)
    except KeyError:
        pass
    except _FILL_ERRORS:
        return template
    try:
        return template.format_map(_Facts(facts))
    except _FILL_ERRORS:
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
