"""Every Received line of ../shared/corpus through parse_received (skipped when it is absent).

Measured share (timestamp and by-host found): printed with -s; asserted to be at least 98 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsleuth.parse.message import parse_message
from mailsleuth.parse.received import parse_received

pytestmark = pytest.mark.corpus


def test_corpus_received_lines_parse(corpus_dir: Path) -> None:
    total = full = kept = 0
    for path in sorted(corpus_dir.glob("*/*.eml")):
        msg = parse_message(path.read_bytes())
        for h in msg.get_all("Received"):
            hop = parse_received(h.raw, h.occurrence)
            total += 1
            kept += hop.raw == h.raw[: len(hop.raw)]
            if hop.parsed and hop.timestamp is not None and hop.by_host:
                full += 1
    assert total > 1000
    assert kept == total  # never dropped
    share = full / total
    print(f"\nReceived lines: {total}, with time stamp and by-host: {full} ({share:.2%})")
    assert share >= 0.98
