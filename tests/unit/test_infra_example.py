"""The bundled example, analysed with its DNS snapshot: who runs the sending domain, which
platform sent it, who signed it. (Only this test names the example's values; the code and data
that produce them are generic.)"""

from __future__ import annotations

from mailsleuth.api import analyze
from mailsleuth.config import Config
from mailsleuth.dns.snapshot import SnapshotResolver
from mailsleuth.render.jsonout import to_jsonable
from mailsleuth.render.terminal import render_terminal


def _report(example_eml, example_dns_path):
    return analyze(example_eml, config=Config(dns_mode="snapshot"),
                   resolver=SnapshotResolver.from_file(example_dns_path))


def test_ownership_narrative(example_eml, example_dns_path):
    r = _report(example_eml, example_dns_path)
    own = r.sections["infra.ownership"]
    assert own.sending_domain == "microsoftemails.com"
    assert own.dns_operator == "exacttarget.com"
    assert own.platform == "Salesforce Marketing Cloud (ExactTarget)"
    assert own.dns_operator_platform == own.platform
    assert own.signer == "email2.microsoft.com" and own.signer_org == "microsoft.com"
    texts = [s.text for s in own.statements]
    dns = next(t for t in texts if t.startswith("microsoftemails.com has its DNS at exacttarget.com"))
    assert "ns1.exacttarget.com" in dns
    marks = next(t for t in texts if "that platform's marks" in t)
    assert "x-job header" in marks and "xt.local" in marks
    assert "sent through Salesforce Marketing Cloud (ExactTarget)" in marks
    assert any(t.startswith("The signature is by email2.microsoft.com") for t in texts)
    assert any("NS microsoftemails.com" in e for s in own.statements for e in s.evidence)


def test_platform_and_dns_findings(example_eml, example_dns_path):
    r = _report(example_eml, example_dns_path)
    by_code = {}
    for f in r.findings:
        by_code.setdefault(f.code, []).append(f)
    op = by_code["INFRA_DNS_OPERATOR"][0]
    assert op.facts["domain"] == "microsoftemails.com" and op.facts["operator"] == "exacttarget.com"
    assert op.evidence[0].ref == "NS microsoftemails.com" and "ns1.exacttarget.com" in op.evidence[0].value
    pm = by_code["PLATFORM_MATCH"][0]
    assert pm.facts["platform_id"] == "salesforce-marketing-cloud"
    refs = {e.ref for e in pm.evidence}
    assert {"Message-ID[0]", "x-job[0]"} <= refs
    assert "PLATFORM_BULK_ESP" in by_code
    # offline truth: the network owner is not in the snapshot, and the report says so
    assert any(s.check == "infra.dns" and "not in the DNS snapshot" in s.reason for s in r.verdict.skipped)
    abuse = r.sections["infra.abuse"]
    assert abuse.contacts and abuse.contacts[0].party == "platform"


def test_json_and_terminal(example_eml, example_dns_path):
    r = _report(example_eml, example_dns_path)
    js = to_jsonable(r.sections)
    assert js["infra.platform"]["origin"] == "salesforce-marketing-cloud"
    assert js["infra.abuse"]["contacts"][0]["contact"]
    out = render_terminal(r, width=120)
    for title in ("Sending platform", "Who operates the sending domain", "Where to report it",
                  "Sending hosts and identity domains in DNS"):
        assert title in out
    assert "has its DNS at exacttarget.com" in out
