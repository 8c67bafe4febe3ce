"""Every example in the body knowledge files (data/body/*.toml) is run here."""

from __future__ import annotations

import pytest

from mailsleuth.body.attachments import name_info, sniff
from mailsleuth.body.data import (
    decoys,
    extension_groups,
    hosting_for,
    hosting_services,
    magic_types,
    shortener_domains,
    shorteners_file,
    trackers_file,
    wrappers,
)
from mailsleuth.body.wrappers import _apply
from mailsleuth.checks.body import is_click_tracker
from mailsleuth.domains import org_domain
from mailsleuth.model.body import Link
from mailsleuth.parse.links import split_host

WRAPPER_EXAMPLES = [(w, ex) for w in wrappers() for ex in w.examples]


def test_every_family_member_is_described():
    for w in wrappers():
        assert w.id and w.description and w.examples, w.id
    for g in extension_groups():
        assert g.id and g.description and g.examples_positive and g.examples_negative, g.id
    for t in magic_types():
        assert t.id and t.description and t.mime and (t.magic or t.text_prefixes), t.id
    assert shorteners_file()["examples_positive"] and shorteners_file()["examples_negative"]


@pytest.mark.parametrize("wrapper, example", WRAPPER_EXAMPLES, ids=[f"{w.id}-{i}" for i, (w, _) in
                                                                    enumerate(WRAPPER_EXAMPLES)])
def test_wrapper_examples(wrapper, example):
    got = _apply(wrapper, example["url"])
    if example.get("match", True) is False:
        assert got is None
    else:
        assert got is not None
        assert (got.target or "") == example["target"]


def test_shortener_examples():
    data = shorteners_file()
    for url in data["examples_positive"]:
        assert org_domain(split_host(url)[1]) in shortener_domains(), url
    for url in data["examples_negative"]:
        assert org_domain(split_host(url)[1]) not in shortener_domains(), url


@pytest.mark.parametrize("group", extension_groups(), ids=lambda g: g.id)
def test_extension_group_examples(group):
    for name in group.examples_positive:
        assert group.id in name_info(name).groups, name
    for name in group.examples_negative:
        assert group.id not in name_info(name).groups, name


def test_double_extension_examples():
    d = decoys()
    for name in d["examples_positive"]:
        assert name_info(name).double_extension, name
    for name in d["examples_negative"]:
        assert not name_info(name).double_extension, name


@pytest.mark.parametrize("mtype", magic_types(), ids=lambda t: t.id)
def test_magic_examples(mtype):
    for hexdata in mtype.examples_positive:
        data = bytes.fromhex(hexdata)
        if mtype.offset:
            data = b"\0" * mtype.offset + data
        got = sniff(data)
        assert got is not None and got.id == mtype.id, hexdata
    for hexdata in mtype.examples_negative:
        got = sniff(bytes.fromhex(hexdata))
        assert got is None or got.id != mtype.id, hexdata


@pytest.mark.parametrize("service", hosting_services(), ids=lambda s: s.id)
def test_hosting_examples(service):
    for url in service.examples_positive:
        assert hosting_for(split_host(url)[1]) == service.id, url
    for url in service.examples_negative:
        assert hosting_for(split_host(url)[1]) is None, url


def test_click_tracker_examples():
    data = trackers_file()
    for url, expected in [*((u, True) for u in data["examples_positive"]), *((u, False) for u in data["examples_negative"])]:
        host = split_host(url)[1]
        link = Link(url=url, host=host, domain=org_domain(host), where="test")
        assert is_click_tracker(link) is expected, url
