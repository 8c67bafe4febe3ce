"""Values the authentication checks derive from the message alone, computed once per message.

DKIM (the From domain for alignment), SPF (the Return-Path address) and DMARC (the From domain)
each parsed the same header values; :func:`addresses` parses a value once per message. The memo
key is the one the rest of the project uses for the same purpose, so the parse is shared with the
other checks too.
"""

from __future__ import annotations

from mailsleuth.model.message import Address, Message
from mailsleuth.parse.addresses import parse_addresses


def addresses(msg: Message, value: str) -> tuple[Address, ...]:
    """``parse_addresses(value)``, once per message and value (the result is immutable)."""
    return msg.memo(("addresses", value), lambda: parse_addresses(value))
