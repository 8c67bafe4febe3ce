"""Trust-boundary scenarios from tests/scenarios/received/*/ (message.eml + expected.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailsleuth.config import Config
from mailsleuth.dns.cache import CachingResolver
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.engine import REGISTRY, Context, load_checks, run_checks
from mailsleuth.parse.message import parse_message

ROOT = Path(__file__).resolve().parents[1] / "scenarios" / "received"
CASES = sorted(p for p in ROOT.iterdir() if (p / "message.eml").exists())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_scenario(case: Path) -> None:
    spec = tomllib.loads((case / "expected.toml").read_text(encoding="utf-8"))
    assert spec.get("description"), "every scenario says what it shows"
    cfg = Config(dns_mode="off", **{k: tuple(v) for k, v in spec.get("config", {}).items()})
    load_checks()
    msg = parse_message((case / "message.eml").read_bytes())
    ctx = Context(msg, cfg, CachingResolver(OfflineResolver()))
    res = run_checks(ctx, {"received.chain": REGISTRY["received.chain"]})
    chain = res.artifacts["received.chain"]
    codes = {f.code for f in res.findings}
    exp = spec.get("expect", {})
    if "boundary" in exp:
        assert chain.boundary.number == exp["boundary"], chain.method
    if "client_ip" in exp:
        assert chain.client_ip == exp["client_ip"]
    if "sides" in exp:
        assert [v.side for v in chain.hops] == exp["sides"]
        assert [v.trusted for v in chain.hops] == [s != "claim" for s in exp["sides"]]
    if "method_contains" in exp:
        assert exp["method_contains"] in chain.method
    for code in exp.get("codes", []):
        assert code in codes, code
    for code in exp.get("absent", []):
        assert code not in codes, code
    assert chain.boundary_header_index == chain.boundary.header_position
    for h in spec.get("headers", []):
        header = msg.get_all(h["name"])[h["occurrence"]]
        got = chain.is_trusted_header(header.index, h.get("authserv_id"))
        assert got is h["trusted"], f"{h['name']}[{h['occurrence']}] ({h.get('authserv_id')})"
