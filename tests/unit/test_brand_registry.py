"""The brand registry: its size and coverage, every entry's own examples, and its validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailsleuth.brands.index import BrandIndex
from mailsleuth.brands.names import NameIndex
from mailsleuth.brands.registry import (
    check_unique,
    load_registry,
    load_user_brands,
    own_brand,
    parse_brand,
    parse_family,
)
from mailsleuth.config import load_config
from mailsleuth.errors import DataError

BRANDS = load_registry()
INDEX = BrandIndex(BRANDS)
NAMES = NameIndex(BRANDS)


def test_registry_is_large_and_spans_categories_and_countries() -> None:
    assert len(BRANDS) >= 150
    cats = {b.category for b in BRANDS}
    assert {"bank", "card", "payment", "delivery", "software", "social", "marketplace", "telecom", "tax",
            "government"} <= cats
    countries = {b.country for b in BRANDS}
    assert {"US", "JP", "GB", "DE", "FR", "AU", "CA"} <= countries
    assert sum(1 for b in BRANDS if b.country == "JP") >= 40


@pytest.mark.parametrize("bid", [
    "mufg", "smbc", "mizuho", "resona", "japan-post-bank", "rakuten-bank", "paypay-bank", "jcb", "smbc-card",
    "saison", "aeon", "rakuten-card", "orico", "epos", "docomo", "kddi", "softbank", "rakuten-mobile", "yamato",
    "sagawa", "japan-post", "amazon", "rakuten", "mercari", "line", "nta",
])
def test_japanese_brands_named_in_the_issue_are_there(bid: str) -> None:
    assert bid in INDEX.brands


@pytest.mark.parametrize(("text", "bid"), [
    ("三菱UFJ銀行", "mufg"), ("アマゾン", "amazon"), ("ヤマト運輸", "yamato"), ("OneDrive", "microsoft"),
    ("Outlook", "microsoft"), ("Office 365", "microsoft"), ("Teams", "microsoft"), ("iCloud", "apple"),
    ("Gmail", "google"), ("Amazon Prime", "amazon"), ("国税庁", "nta"), ("e-Tax", "nta"),
])
def test_names_and_products_point_to_their_brand(text: str, bid: str) -> None:
    assert bid in {h.brand_id for h in NAMES.find(text)}


@pytest.mark.parametrize("bid", [b.id for b in BRANDS])
def test_each_brand_runs_its_own_examples(bid: str) -> None:
    b = INDEX.brands[bid]
    assert b.examples.lookalike, f"{bid} has no lookalike example"
    assert b.examples.unrelated, f"{bid} has no unrelated example"
    for d in b.examples.lookalike:
        m = INDEX.match(d)
        assert m is not None and m.brand_id == bid, f"{d} should imitate {bid}, got {m}"
    for d in b.examples.unrelated:
        m = INDEX.match(d)
        assert m is None or m.brand_id != bid, f"{d} must not match {bid} ({m})"
    for c in b.examples.claims:
        assert bid in {h.brand_id for h in NAMES.find(c)}, f"{c!r} should claim {bid}"
    for c in b.examples.not_claims:
        assert bid not in {h.brand_id for h in NAMES.find(c)}, f"{c!r} must not claim {bid}"


def test_every_official_domain_is_owned_and_never_a_lookalike() -> None:
    for b in BRANDS:
        for d in b.domains:
            owner = INDEX.owned(d)
            assert owner is not None
            assert INDEX.match(d) is None
            assert INDEX.match("mail." + d) is None


def test_every_brand_has_id_description_and_source() -> None:
    for b in BRANDS:
        assert b.id and b.description and b.source, b.id


def test_the_example_cousin_domain_is_not_in_the_registry() -> None:
    # The example's sender domain must be recognised by the rules, never listed.
    assert all("microsoftemails" not in d for b in BRANDS for d in (*b.domains, *b.user_domains, *b.tokens))


def test_validation_rejects_bad_entries() -> None:
    with pytest.raises(DataError, match="registrable"):
        parse_brand({"id": "x", "name": "X", "category": "bank", "country": "US", "domains": ["www.example.com"]}, "t")
    with pytest.raises(DataError, match="category"):
        parse_brand({"id": "x", "name": "X", "category": "nope", "country": "US", "domains": ["example.com"]}, "t")
    with pytest.raises(DataError, match="unknown keys"):
        parse_brand({"id": "x", "name": "X", "category": "bank", "country": "US", "domains": ["example.com"],
                     "colour": "red"}, "t")
    with pytest.raises(DataError, match="at least one domain"):
        parse_brand({"id": "x", "name": "X", "category": "bank", "country": "US"}, "t")
    a = parse_brand({"id": "a", "name": "A", "category": "bank", "country": "US", "domains": ["example.com"]}, "t",
                    family_source="s")
    b = parse_brand({"id": "b", "name": "B", "category": "bank", "country": "US", "domains": ["example.com"]}, "t",
                    family_source="s")
    with pytest.raises(DataError, match="listed by both"):
        check_unique([a, b])
    with pytest.raises(DataError, match="defined twice"):
        check_unique([a, a])
    with pytest.raises(DataError):
        parse_family("[[brand]\n", "t")


def test_user_brand_file_and_config_field(tmp_path: Path) -> None:
    f = tmp_path / "partners.toml"
    f.write_text('source = "our supplier list"\n[[brand]]\nid = "acme-supplies"\nname = "Acme Supplies"\n'
                 'category = "retail"\ncountry = "US"\ndomains = ["acmesupplies.example"]\n', encoding="utf-8")
    cfgfile = tmp_path / "mailsleuth.toml"
    cfgfile.write_text(f'brand_files = ["{f}"]\nown_domains = ["example.org"]\n', encoding="utf-8")
    cfg = load_config(cfgfile, env={})
    assert cfg.brand_files == (str(f),)
    user = load_user_brands(cfg.brand_files)
    assert user[0].origin == "user" and user[0].source == "our supplier list"
    idx = BrandIndex((*BRANDS, *user))
    m = idx.match("acmesuplies.example")
    assert m is not None and m.brand_id == "acme-supplies"
    with pytest.raises(DataError, match="cannot read"):
        load_user_brands((str(tmp_path / "missing.toml"),))


def test_own_brand_from_domains() -> None:
    b = own_brand(("mail.example.org", "example.org", "example.net"))
    assert b is not None and b.domains == ("example.org", "example.net") and b.origin == "own"
    assert own_brand(()) is None
