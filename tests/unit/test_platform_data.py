"""Every platform data file: schema, coverage, and its own positive and negative examples."""

from __future__ import annotations

import re

import pytest

from mailsleuth.errors import DataError
from mailsleuth.infra.platforms import KINDS, index, load_platforms, parse_platform
from mailsleuth.infra.standalone import _BareContext, platforms_for
from mailsleuth.infra.view import build_view
from mailsleuth.model.infra import DomainInfo, Enrichment
from mailsleuth.parse.message import parse_message

PLATFORMS = load_platforms()
EXAMPLES = [(p.id, i, ex) for p in PLATFORMS for i, ex in enumerate(p.examples)]


def test_coverage():
    assert len(PLATFORMS) >= 40
    kinds = {k: [p for p in PLATFORMS if p.kind == k] for k in KINDS}
    assert len(kinds["esp"]) >= 25 and len(kinds["mailbox"]) >= 8 and len(kinds["gateway"]) >= 5
    for p in PLATFORMS:
        assert p.abuse and p.references and p.description and p.operator and p.source
        expects = {ex.expect for ex in p.examples}
        assert expects & {"origin", "relay"}, f"{p.id} has no positive example"
        assert "none" in expects, f"{p.id} has no negative example"


def test_examples_use_documentation_recipients_and_addresses():
    ip = re.compile(r"\[(\d+\.\d+\.\d+\.\d+)\]")
    for pid, _i, ex in EXAMPLES:
        for addr in ip.findall(ex.headers):
            assert addr.startswith(("192.0.2.", "198.51.100.", "203.0.113.")), (pid, addr)


@pytest.mark.parametrize(("pid", "i", "ex"), EXAMPLES, ids=[f"{p}-{i}-{e.expect}" for p, i, e in EXAMPLES])
def test_example(pid, i, ex):
    msg = parse_message(ex.headers.strip().encode() + b"\n")
    enrichment = None
    if ex.from_ns:
        view = build_view(_BareContext(msg))
        enrichment = Enrichment(domains=(DomainInfo(domain=view.from_domain, ns=ex.from_ns, ns_zone=view.from_domain),))
    result = platforms_for(msg, enrichment)
    got = [m for m in result.matches if m.id == pid]
    role = got[0].role if got else "none"
    assert role == ex.expect, [(m.id, m.role, m.confidence) for m in result.matches]
    if ex.expect == "origin":
        assert result.origin == pid
        assert got[0].signals and 0.5 < got[0].confidence <= 1


def test_patterns_compiled_once():
    assert index() is index()
    assert load_platforms() is load_platforms()


@pytest.mark.parametrize(("text", "message"), [
    ('id = "x"\nname = "X"\nkind = "bank"\noperator = "o"\ndescription = "d"\nsource = "s"\n[[signal]]\nkind = "dkim"\ndomains = ["x.example"]\n', "kind"),
    ('id = "x"\nname = "X"\nkind = "esp"\noperator = "o"\ndescription = "d"\nsource = "s"\n[[signal]]\nkind = "header"\n', "header signal needs a name"),
    ('id = "x"\nname = "X"\nkind = "esp"\noperator = "o"\ndescription = "d"\nsource = "s"\n[[signal]]\nkind = "message_id"\npattern = "("\n', "bad pattern"),
    ('id = "x"\nname = "X"\nkind = "esp"\noperator = "o"\ndescription = "d"\nsource = "s"\n', "at least one"),
    ('id = "x"\nname = "X"\nkind = "esp"\noperator = "o"\ndescription = "d"\nsource = "s"\n[[signal]]\nkind = "dkim"\ndomains = ["a.example"]\nweight = 9\n', "weight"),
])
def test_schema_errors(text, message):
    with pytest.raises(DataError, match=message):
        parse_platform(text, "x.toml")


def test_id_must_match_file_name():
    text = 'id = "y"\nname = "Y"\nkind = "esp"\noperator = "o"\ndescription = "d"\nsource = "s"\n[[signal]]\nkind = "dkim"\ndomains = ["a.example"]\n'
    with pytest.raises(DataError, match="file name"):
        parse_platform(text, "x.toml")
