"""The resolver for --offline: every query is answered OFFLINE."""

from __future__ import annotations

from mailsleuth.dns.base import Answer, Status, answer


class OfflineResolver:
    mode = "off"

    def query(self, name: str, rdtype: str) -> Answer:
        return answer(name, rdtype, Status.OFFLINE, source="off")
