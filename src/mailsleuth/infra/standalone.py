"""Run the platform matcher on a message outside the engine (data-file examples, benchmarks)."""

from __future__ import annotations

from typing import Any

from mailsleuth.infra.platforms import match, observe
from mailsleuth.infra.view import build_view
from mailsleuth.model.infra import Enrichment, Platforms
from mailsleuth.model.message import Message


class _BareContext:
    """Just enough of engine.Context for build_view: the message, no artifacts."""

    def __init__(self, message: Message):
        self.message = message

    def artifact(self, check_id: str) -> Any:
        return None


def platforms_for(message: Message, enrichment: Enrichment | None = None) -> Platforms:
    view = build_view(_BareContext(message))
    return match(observe(view, message, enrichment))
