"""prepare_for_many(): data loaded, the collector told to look away from it, nothing else changed.
Run in a child interpreter, so that pytest's own process keeps its collector settings."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

_CHILD = textwrap.dedent("""
    import gc, json, sys
    sys.path.insert(0, sys.argv[1])
    from mailsleuth.api import analyze, prepare_for_many
    from mailsleuth.config import Config
    from mailsleuth.dns.off import OfflineResolver
    from mailsleuth.render.jsonout import render_json

    raw = open(sys.argv[2], "rb").read()
    cfg = Config(dns_mode="off", now="2026-01-01T00:00:00+00:00")

    def report():
        data = json.loads(render_json(analyze(raw, config=cfg, resolver=OfflineResolver())))
        data["sections"].pop("_engine", None)
        return data

    before = report()
    threshold_before = gc.get_threshold()
    prepare_for_many(Config(dns_mode="live", rdap=True, follow_links=True, record_dns="/nonexistent/x.dns"))
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    prepare_for_many()  # a second call changes nothing
    print(json.dumps({"same": report() == before, "frozen": frozen, "threshold": threshold,
                      "threshold_before": threshold_before, "frozen_again": gc.get_freeze_count(),
                      "enabled": gc.isenabled()}))
""")


def test_prepare_for_many_freezes_loaded_data_and_changes_no_report() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "onedrive-microsoftemails.eml"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(SRC), str(example)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert got["same"] is True
    assert got["frozen"] > 10_000  # the loaded tables (tens of thousands of objects)
    assert got["threshold"][0] == max(10_000, got["threshold_before"][0])
    assert got["threshold"][1:] == got["threshold_before"][1:]
    assert got["frozen_again"] == got["frozen"] and got["enabled"] is True
