"""Reading the packaged knowledge files (``src/mailsleuth/data/<folder>/<name>.toml``)."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from mailsleuth.errors import DataError


def load_data_toml(folder: str, name: str) -> dict[str, Any]:
    """One packaged TOML file as a dict; a missing or malformed file is a DataError naming it."""
    item = resources.files("mailsleuth") / "data" / folder / name
    try:
        return tomllib.loads(item.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"data/{folder}/{name}: {exc}") from None
