"""Brands and what the brand check found: registry entries, domain matches, name claims, vouchers.

A *brand* is an organisation people trust and attackers imitate (a bank, a carrier, a cloud
service, a tax office, or the recipient's own organisation). The registry lives in
``data/brands/*.toml``; these are its in-memory shapes and the brand check's artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mailsleuth.model.fastinit import fast_init


class Technique(StrEnum):
    """How a name imitates a brand's domain."""

    HOMOGLYPH = "homoglyph"  # look-alike characters (Unicode confusables, rn for m, 0 for o)
    IDN_HOMOGLYPH = "idn-homoglyph"  # the same, written with non-ASCII (punycode) characters
    TYPO = "typo"  # one or two characters added, missing, changed or swapped (keyboard slips, bit flips)
    TLD_SWAP = "tld-swap"  # the brand's name under a top-level domain it does not use
    HYPHENATION = "hyphenation"  # the brand's name split by hyphens
    EXTRA_WORDS = "extra-words"  # the brand's name with words around it (brand-secure-login)
    BRAND_DOMAIN_AS_SUBDOMAIN = "brand-domain-as-subdomain"  # brand.com.example.net
    BRAND_AS_SUBDOMAIN = "brand-as-subdomain"  # brand.example.net
    SPLIT_LABELS = "split-labels"  # bra.nd.com: the brand's name cut by a dot
    LOCAL_PART = "local-part"  # brand in the local part of an address of another domain


TECHNIQUE_WORDS: dict[Technique, str] = {
    Technique.HOMOGLYPH: "look-alike characters",
    Technique.IDN_HOMOGLYPH: "look-alike Unicode characters (an internationalised name)",
    Technique.TYPO: "a typo of the name (characters added, missing, changed or swapped)",
    Technique.TLD_SWAP: "the brand's name under another top-level domain",
    Technique.HYPHENATION: "the brand's name split by hyphens",
    Technique.EXTRA_WORDS: "the brand's name with extra words",
    Technique.BRAND_DOMAIN_AS_SUBDOMAIN: "the brand's domain used as a subdomain of someone else's domain",
    Technique.BRAND_AS_SUBDOMAIN: "the brand's name used as a subdomain of someone else's domain",
    Technique.SPLIT_LABELS: "the brand's name cut in two by a dot",
    Technique.LOCAL_PART: "the brand's name in the part before the @",
}


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BrandExamples:
    """Examples a test runs: names that must be detected for this brand and names that must not."""

    lookalike: tuple[str, ...] = ()  # domains that must be detected as imitating this brand
    claims: tuple[str, ...] = ()  # display names that must be read as claiming this brand
    unrelated: tuple[str, ...] = ()  # domains that must NOT be matched to this brand
    not_claims: tuple[str, ...] = ()  # display names that must NOT be read as claiming it


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Brand:
    """One registry entry.

    ``domains`` are registrable domains the brand runs for itself: mail from them, or a signature
    by them, is the brand speaking. ``user_domains`` are the brand's too, but anyone can get an
    address or a page there (free mail, user content); they are never imitations of the brand, and
    never vouch for a message claiming it. ``tokens`` are the distinctive strings searched inside
    other names; ``weak_tokens`` are brand names that are also ordinary words and only count as a
    whole hyphen-separated part of a name. ``names`` are the brand's names and aliases in any
    script; ``products`` names that point to it; ``weak_names`` names that are also ordinary words
    and count only in a display name made of them and service words ("Apple Support").
    """

    id: str
    name: str
    category: str
    country: str
    description: str = ""
    source: str = ""
    names: tuple[str, ...] = ()
    weak_names: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    user_domains: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    weak_tokens: tuple[str, ...] = ()
    dns_host: bool = False  # runs DNS for the public: its name servers vouch for nobody
    group: str = ""  # brands of one group may share domains (a bank and its card arm)
    origin: str = "registry"  # registry | own (Config.own_domains) | user (a user brand file)
    examples: BrandExamples = field(default_factory=BrandExamples)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DomainMatch:
    """A name found to imitate a brand's domain."""

    name: str  # the name examined (Unicode form)
    brand_id: str
    brand: str  # display name of the brand
    brand_domain: str  # the official domain it imitates
    technique: Technique
    distance: int = 0  # edit distance where one was measured
    detail: str = ""
    own: bool = False  # the brand is the recipient's own organisation
    weak: bool = False  # matched through a brand word that is also an ordinary word (max, sky, target)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class NameClaim:
    """A brand named in a display name, subject or local part."""

    brand_id: str
    brand: str
    matched: str  # the alias or product that matched, as written in the registry
    where: str  # "From display name", "Subject", ...
    text: str  # the text it was found in (attacker-controlled)
    own: bool = False


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Voucher:
    """Evidence that a brand's own domain stands behind the message."""

    brand_id: str
    kind: str  # dkim | spf | dmarc | dns
    domain: str  # the brand's domain that vouches (signer, SPF domain, NS operator)
    verified: bool  # True: we verified it; False: a trusted receiver reported it
    detail: str = ""
    ref: str = ""  # where it was seen (header ref or check id)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityCheck:
    """One name the sender used, and what the registry says about it."""

    field: str  # "From", "Reply-To", "Return-Path", "Sender", "HELO", "PTR", "link", ...
    ref: str  # header ref or hop / link reference
    name: str
    owner: str | None = None  # brand id when the name is the brand's own
    match: DomainMatch | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BrandReport:
    """The artifact of the ``brand.impersonation`` check."""

    registry_size: int
    own_domains: tuple[str, ...] = ()
    own_source: str = ""  # "config", "recipient (from the Received chain)" or ""
    identities: tuple[IdentityCheck, ...] = ()
    claims: tuple[NameClaim, ...] = ()
    vouchers: tuple[Voucher, ...] = ()
    platform: str | None = None
    notes: tuple[str, ...] = ()
