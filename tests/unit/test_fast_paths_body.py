"""Body and content performance pass: every shortcut against the code it stands in for."""

from __future__ import annotations

import unicodedata
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.body import data, wrappers
from mailsleuth.content import lexicon
from mailsleuth.parse.links import links_from_text, scan_html, split_host

# Characters around which folding is delicate: white space of every kind (U+200B is a format
# character, case-ignorable), final sigma, combining marks, compatibility characters, Latin accents.
_TRICKY = (" \t\r\n\x0b\x0c\x1c\x85\xa0\u1680\u2002\u2007\u2009\u200a\u200b\u2028\u202f\u3000"
           "\u03a3\u03c3\u03c2\u0391\u03b1AaZz0.'-\u0301\u0308\u0327\u0345\u20dd\u00e9\u00c9\u00df\u0130\u0131"
           "\u2019\u201c\u2013\u20ac\u2026\u2122\u00bd\u00b4\u00a8\ufb01\uff21\U0001d5ea\u1100\u1161\u11a8\uac00"
           "\u0915\u093c\u0e01\u0e33\u3042\u3099\u00ad\u034f\ufe0f")
_TEXT = st.text(alphabet=st.one_of(st.sampled_from(_TRICKY), st.characters(max_codepoint=0x2FFFF)), max_size=40)


# ---- content.lexicon.fold: white space collapsed before NFKC --------------------------------------

def _fold_wide_before(text: str) -> str:
    """lexicon._fold_wide as it was: white space collapsed only at the end."""
    for a, z in lexicon._PRE_NFKC:
        if a in text:
            text = text.replace(a, z)
    s = unicodedata.normalize("NFKC", text).lower()
    for a, z in (*lexicon._PUNCT, ("\u00df", "ss")):
        if a in s:
            s = s.replace(a, z)
    try:
        return lexicon._spaces(s.encode("latin-1").translate(lexicon._LATIN1_FOLD).decode("latin-1"))
    except UnicodeEncodeError:
        pass
    b = s.encode("utf-8", "replace")
    if any(lead in b for lead in lexicon._LATIN_LEADS):
        s = unicodedata.normalize("NFKD", s)
        for m in lexicon._COMMON_MARKS:
            if m in s:
                s = s.replace(m, "")
        s = unicodedata.normalize("NFC", lexicon._MARKS.sub("", s))
    return lexicon._spaces(s)


@settings(max_examples=3000)
@given(_TEXT)
def test_fold_wide_equals_before(text: str) -> None:
    assert lexicon._fold_wide(text) == _fold_wide_before(text)
    assert lexicon.fold(text) == _fold_wide_before(text)


def test_fold_wide_examples() -> None:
    # final sigma: U+200B is case-ignorable and must still separate nothing when lower() runs
    for text in ("\u0391\u03a3\u200b\u0391", "\u0391\u03a3\n\u0391", "\u0391\u03a3 \u200b \u0391", "x\n\u0301y",
                 "\u00e9\t\t\u2019 \u3000 \u20ac  z", "  \u0130\r\n\r\n\u00df  "):
        assert lexicon._fold_wide(text) == _fold_wide_before(text), text
    assert lexicon.fold("Don\u2019t\n\n   miss\u00a0this") == "don't miss this"


# ---- body.data.hosting_for: indexed patterns vs every pattern through fnmatch --------------------

def _hosting_for_before(host: str) -> str | None:
    h = host.lower()
    for svc in data.hosting_services():
        for pattern in svc.hosts:
            if fnmatchcase(h, pattern):
                return svc.id
    return None


def _host_parts() -> list[str]:
    out = {"", ".", "x", "s3", "s3-eu-west-1", "www", "a.b", "ipfs", "Sites", "-"}
    for svc in data.hosting_services():
        for pattern in svc.hosts:
            for piece in pattern.replace("*", ".").split("."):
                out.add(piece)
    return sorted(out)


_HOSTS = st.lists(st.sampled_from(_host_parts()), min_size=1, max_size=6).map(".".join)


@settings(max_examples=3000)
@given(st.one_of(_HOSTS, st.text(alphabet="abs3.-*?[]", max_size=30)))
def test_hosting_for_equals_before(host: str) -> None:
    assert data.hosting_for.__wrapped__(host) == _hosting_for_before(host)


def test_hosting_for_every_example_and_pattern() -> None:
    for svc in data.hosting_services():
        for host in (*svc.examples_positive, *svc.examples_negative):
            assert data.hosting_for.__wrapped__(host) == _hosting_for_before(host), host
        for example in svc.examples_positive:  # URLs
            assert data.hosting_for.__wrapped__(split_host(example)[1]) is not None, example
        for pattern in svc.hosts:
            for fill in ("", "a", "a.b", "s3", "x-y"):
                host = pattern.replace("*", fill)
                assert data.hosting_for.__wrapped__(host) == _hosting_for_before(host), host
                assert data.hosting_for.__wrapped__(host.upper()) == _hosting_for_before(host.upper()), host


# ---- body.wrappers._may_name_param: a decoded look instead of parsing every URL with a '%' --------

_PARAMS = ("url", "u", "redirect_url", "to")
_URL_PIECES = ("?", "&", "=", "#", "%", "%75", "%55", "%72%6C", "%6c", "%26", "%3D", "%3F", "%C3%A9", "%E2%84", "%ZZ",
               "+", "u", "U", "r", "l", "url", "_", "redirect", "to", "\u212a", "x", "/", "https://a.example", ";", " ")


def _parsed_names(url: str) -> set[str]:
    """The names the wrappers read: parse_qsl without blank values, as _query_target calls it."""
    return {k.lower() for k, _ in parse_qsl(urlsplit(url).query)}


@settings(max_examples=4000)
@given(st.lists(st.sampled_from(_URL_PIECES), max_size=14).map("".join))
def test_may_name_param_misses_no_parameter(tail: str) -> None:
    url = "https://t.example/p" + tail
    if not wrappers._may_name_param(url, _PARAMS):
        assert not (_parsed_names(url) & set(_PARAMS)), url


def test_may_name_param_examples() -> None:
    assert wrappers._may_name_param("https://t.example/c?%75rl=https%3A%2F%2Fx.example", _PARAMS)
    assert wrappers._may_name_param("https://t.example/c?a=1&redirect%5Furl=x", _PARAMS)
    assert not wrappers._may_name_param("https://t.example/c?id=a%20b&q=https%3A%2F%2Fx.example", _PARAMS)
    assert wrappers._may_name_param("https://t.example/c?id=1&\turl=x", _PARAMS)


def test_unwrap_of_corpus_links_equals_full_parse(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every http(s) URL of the corpus unwraps as with the '%' URLs always parsed."""
    from mailsleuth.checks.body import _text_parts
    from mailsleuth.parse.message import parse_message

    urls: set[str] = set()
    for path in sorted(corpus_dir.glob("*/*.eml")):
        msg = parse_message(path.read_bytes())
        for part, kind in _text_parts(msg.mime) if msg.mime is not None else ():
            text = part.text()
            raws = scan_html(text).links if kind == "html" else links_from_text(text)[0]
            urls.update(r.url for r in raws if r.url.startswith(("http://", "https://")))
    ordered = sorted(urls)
    assert len(ordered) > 1000
    assert sum(1 for u in ordered if "%" in u and "=" in u) > 100
    got = [wrappers.unwrap(u) for u in ordered]
    assert sum(1 for g in got if g is not None and g.target) >= 5
    quick = wrappers._may_name_param

    def before(url: str, params: tuple[str, ...]) -> bool:
        return True if "%" in url and "=" in url else quick(url, params)

    monkeypatch.setattr(wrappers, "_may_name_param", before)
    assert got == [wrappers.unwrap(u) for u in ordered]


# ---- checks.body.build_link: links built by the factory, as by the class ---------------------------

def test_build_link_factory_equals_class() -> None:
    from mailsleuth.checks.body import build_link
    from mailsleuth.model.body import Link
    from mailsleuth.parse.links import RawLink

    for raw in (RawLink("https://a.example/x", "a", "href", "Click", False), RawLink("hxxp://b.example", "text", "url"),
                RawLink("//c.example/i.png", "img", "src"), RawLink("mailto:x@d.example", "calendar", "url", "", True)):
        got = build_link(raw, "1.2")
        assert got is not None and type(got) is Link
        assert got == Link(**{name: getattr(got, name) for name in Link.__dataclass_fields__}), raw
    assert build_link(RawLink("cid:img1", "img", "src"), "1") is None
