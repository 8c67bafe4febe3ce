"""The identity.alignment check: identities, organisations, groups and findings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.model.identity import IdentityReport
from tests.unit.test_authres_support import StandInChain, header_index, run_check

BASE = (
    b"Return-Path: <bounce-77@bounces.esp.example.net>\n"
    b"Authentication-Results: mx.example.org; dkim=pass header.d=esp.example.net; "
    b"spf=pass smtp.mailfrom=bounce-77@bounces.esp.example.net\n"
    b"Received: from o1.esp.example.net ([192.0.2.8]) by mx.example.org; Mon, 6 Jan 2025 10:00:00 +0000\n"
    b"Received: by o1.esp.example.net (envelope-from <bounce-77@bounces.esp.example.net>); "
    b"Mon, 6 Jan 2025 09:59:59 +0000\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=esp.example.net; s=s1; h=from; bh=x; b=y\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=mail.example.com; s=s2; h=from; bh=x; b=y\n"
    b"From: \"Example Shop\" <news@example.com>\n"
    b"Reply-To: <help@support.example.com>\n"
    b"Message-ID: <abc@mta7.internal.esp.example.net>\n"
    b"List-Unsubscribe: <mailto:u-1@unsub.esp.example.net?subject=x>, <https://click.example.com/u/1>\n"
    b"List-Id: Shop news <news.example.com>\n"
    b"Subject: s\n\nb\n"
)


def _run(raw: bytes, with_auth: bool = True):
    chain = StandInChain(header_index(raw, "Received", 0), ("mx.example.org",))
    arts = {}
    if with_auth:
        auth, _ = run_check("auth.reported", raw, chain=chain)
        arts["auth.reported"] = auth.artifact
    out, _ = run_check("identity.alignment", raw, chain=chain, artifacts=arts)
    return out


def test_identities_with_orgs_and_sources() -> None:
    art = _run(BASE).artifact
    assert isinstance(art, IdentityReport)
    got = {(i.role, i.domain, i.org, i.source) for i in art.identities}
    assert ("from", "example.com", "example.com", "From[0]") in got
    assert ("reply-to", "support.example.com", "example.com", "Reply-To[0]") in got
    assert ("return-path", "bounces.esp.example.net", "example.net", "Return-Path[0]") in got
    assert ("envelope-from", "bounces.esp.example.net", "example.net", "Received[1]") in got
    assert ("message-id", "mta7.internal.esp.example.net", "example.net", "Message-ID[0]") in got
    assert ("list-unsubscribe", "unsub.esp.example.net", "example.net", "List-Unsubscribe[0]") in got
    assert ("list-unsubscribe", "click.example.com", "example.com", "List-Unsubscribe[0]") in got
    assert ("list-id", "news.example.com", "example.com", "List-Id[0]") in got
    assert ("dkim-d", "mail.example.com", "example.com", "DKIM-Signature[1]") in got
    assert ("auth-dkim-d", "esp.example.net", "example.net", "Authentication-Results[0]") in got
    assert ("auth-mailfrom", "bounces.esp.example.net", "example.net", "Authentication-Results[0]") in got
    env = next(i for i in art.identities if i.role == "envelope-from")
    assert env.trusted is False  # that Received line was written below the boundary
    assert art.from_address == "news@example.com"
    assert art.from_display_name == "Example Shop"
    assert (art.from_domain, art.from_org) == ("example.com", "example.com")
    assert art.dkim_domains == ("esp.example.net", "mail.example.com")
    assert art.return_path_domain == "bounces.esp.example.net"


def test_org_groups() -> None:
    groups = {g.org: g for g in _run(BASE).artifact.groups}
    assert set(groups) == {"example.com", "example.net"}
    assert groups["example.com"].includes_from
    assert {"from", "reply-to", "dkim-d", "list-id"} <= set(groups["example.com"].roles)
    assert not groups["example.net"].includes_from
    assert "return-path" in groups["example.net"].roles


def test_findings_for_an_esp_sent_message() -> None:
    codes = {f.code: f for f in _run(BASE).findings}
    assert codes["ID_RETURN_PATH_OTHER_ORG"].facts["rp_org"] == "example.net"
    dk = codes["ID_DKIM_OTHER_ORG"]
    assert dk.title == ("DKIM signature by esp.example.net (organisation example.net) while From is example.com "
                        "(organisation example.com)")
    assert "Another signature is aligned" in dk.explanation
    assert "ID_REPLY_TO_OTHER_ORG" not in codes  # support.example.com is the From organisation
    assert "ID_MESSAGE_ID_UNRELATED" not in codes  # its org is the bounce organisation


def test_reply_to_elsewhere_and_to_the_sending_platform() -> None:
    raw = BASE.replace(b"help@support.example.com", b"claims@example.org")
    f = {x.code: x for x in _run(raw).findings}["ID_REPLY_TO_OTHER_ORG"]
    assert (f.facts["reply_org"], f.facts["from_org"]) == ("example.org", "example.com")
    raw2 = BASE.replace(b"help@support.example.com", b"r-1@reply.esp.example.net")
    codes = [x.code for x in _run(raw2).findings]
    assert "ID_REPLY_TO_SENDER_INFRA" in codes and "ID_REPLY_TO_OTHER_ORG" not in codes


def test_display_name_with_another_address() -> None:
    raw = BASE.replace(b'"Example Shop" <news@example.com>', b'"billing@example.org" <x7@example.com>')
    f = {x.code: x for x in _run(raw).findings}["ID_DISPLAY_NAME_ADDRESS"]
    assert (f.facts["shown"], f.facts["real"]) == ("billing@example.org", "x7@example.com")
    same = BASE.replace(b'"Example Shop" <news@example.com>', b'"boss@example.com" <assistant@example.com>')
    codes = [x.code for x in _run(same).findings]
    assert "ID_DISPLAY_NAME_ADDRESS_SAME_ORG" in codes and "ID_DISPLAY_NAME_ADDRESS" not in codes
    plain = BASE.replace(b'"Example Shop" <news@example.com>', b'"news@example.com" <news@example.com>')
    assert not any(x.code.startswith("ID_DISPLAY_NAME") for x in _run(plain).findings)


def test_missing_and_multiple_from() -> None:
    none = BASE.replace(b'From: "Example Shop" <news@example.com>\n', b"")
    out = _run(none)
    assert [f.code for f in out.findings] == ["ID_FROM_MISSING"]
    assert out.artifact.from_address is None
    two = BASE.replace(b"Subject: s\n", b"From: other@example.org\nSubject: s\n")
    f = {x.code: x for x in _run(two).findings}["ID_FROM_MULTIPLE"]
    assert f.facts["headers"] == 2


def test_message_id_unrelated_and_private_names() -> None:
    raw = BASE.replace(b"abc@mta7.internal.esp.example.net", b"abc@host7.corp.local")
    f = {x.code: x for x in _run(raw).findings}["ID_MESSAGE_ID_UNRELATED"]
    assert f.facts["org"] == "not a public domain"
    mid = next(i for i in _run(raw).artifact.identities if i.role == "message-id")
    assert mid.org is None


def test_sender_differs() -> None:
    raw = BASE.replace(b"Subject: s\n", b"Sender: list-owner@example.org\nSubject: s\n")
    f = {x.code: x for x in _run(raw).findings}["ID_SENDER_DIFFERS"]
    assert f.facts["same_org"] == "a different organisation"


def test_runs_without_chain_or_auth_artifacts() -> None:
    out, _ = run_check("identity.alignment", BASE)
    roles = {i.role for i in out.artifact.identities}
    assert "auth-dkim-d" not in roles and "from" in roles
    assert next(i for i in out.artifact.identities if i.role == "envelope-from").trusted is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["From", "Reply-To", "Sender", "Return-Path", "Received", "Message-ID",
                                           "List-Unsubscribe", "List-Id", "DKIM-Signature", "Authentication-Results",
                                           "Received-SPF", "X-Spam-Status", "X-Forefront-Antispam-Report"]),
                          st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=120)),
                min_size=1, max_size=12))
def test_checks_never_raise_on_arbitrary_headers(fields: list[tuple[str, str]]) -> None:
    raw = ("".join(f"{n}: {v}\n" for n, v in fields) + "Subject: s\n\nb\n").encode("utf-8")
    chain = StandInChain(3, ("mx.example.org",))
    auth, _ = run_check("auth.reported", raw, chain=chain)
    run_check("spam.stamps", raw, chain=chain)
    out, _ = run_check("identity.alignment", raw, chain=chain, artifacts={"auth.reported": auth.artifact})
    assert out.artifact is not None
