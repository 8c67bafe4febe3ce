"""The bundled example, analysed end to end through mailsleuth.api.analyze (offline): the values
come from the report JSON."""

from __future__ import annotations

import json

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.off import OfflineResolver
from mailsleuth.parse.message import parse_message
from mailsleuth.render.jsonout import render_json
from mailsleuth.render.terminal import render_terminal


def test_example_chain_from_report_json(example_eml):
    report = analyze(example_eml, config=Config(dns_mode="off"), resolver=OfflineResolver())
    data = json.loads(render_json(report))
    hops = data["hops"]
    assert data["sections"]["received.chain"] == hops
    assert len(hops["hops"]) == 2 and hops["received_count"] == 2
    assert abs(hops["total_transit_s"] - 3) <= 1
    b = hops["boundary"]
    assert b["number"] == 2 and b["side"] == "boundary" and b["hop"]["from_helo"].startswith("mta31.")
    assert hops["client_ip"] == "136.147.186.31" and hops["delivered_at"].endswith("+00:00")
    assert [h["side"] for h in hops["hops"]] == ["claim", "boundary"]
    assert hops["hops"][0]["hop"]["envelope_from"] and hops["hops"][0]["trusted"] is False
    msg = parse_message(example_eml)
    received = msg.get_all("Received")
    assert hops["boundary_header_index"] == received[0].index  # the top Received is the boundary here
    assert hops["date_skew_s"] == 1.0
    skew = [f for f in data["findings"] if f["code"] == "RCVD_DATE_SKEW"]
    assert len(skew) == 1 and skew[0]["severity"] == "info" and skew[0]["facts"]["seconds"] == 1
    assert "1 s after" in skew[0]["title"] and "harmless" in skew[0]["title"]
    assert not [f for f in data["findings"] if f["code"] in ("RCVD_DATE_SKEW_LARGE", "RCVD_TIME_REVERSED",
                                                             "RCVD_PRIVATE_IP", "RCVD_UNPARSEABLE")]
    ar = msg.get("Authentication-Results")
    # the recipient's own Authentication-Results sits above the boundary and names its by-host
    authserv = ar.value.split(";", 1)[0].split()[0]
    chain = report.sections["received.chain"]
    assert chain.is_trusted_header(ar.index, authserv)
    assert not chain.is_trusted_header(received[1].index, None)
    text = render_terminal(report, width=140)
    assert "136.147.186.31" in text and "claim?" in text and "Total transit: 3s over 2 hops" in text
