"""The HTML tag scanner's search paths (ASCII-folded bytes, or the text itself when a character
matches case-insensitively in a way lower() does not show), the tag length bound, the tag
stripper shared with the content check, and the quick parameter look of the URL unwrapper."""

from __future__ import annotations

import random
import re

import pytest

from mailsleuth.body.wrappers import unwrap
from mailsleuth.content.signals import html_to_text
from mailsleuth.parse.links import links_from_text, scan_html, strip_tags


def test_tags_in_any_case_in_a_non_ascii_document() -> None:
    scan = scan_html('<P>Grüße</P><A HREF="https://a.example/x">Zürich</A>'
                     '<IMG SRC="https://i.example/p.png" WIDTH=1 HEIGHT=1>')
    assert [(lk.url, lk.tag, lk.attr, lk.text) for lk in scan.links] == [
        ("https://a.example/x", "a", "href", "Zürich"), ("https://i.example/p.png", "img", "src", "")]
    assert scan.remote_images == 1 and scan.tracking_pixels == 1


def test_a_letter_outside_ascii_continues_the_tag_name() -> None:
    # 'aé' and 'imgλ' are other tags: the folded copy has '?' there, the text decides.
    scan = scan_html('<aé href="https://x.example/">x</aé><imgλ src="https://z.example/">'
                     '<a href="https://y.example/">y</a>')
    assert [lk.url for lk in scan.links] == ["https://y.example/"]


def test_a_question_mark_after_the_name_ends_it() -> None:
    # A real '?' (not one standing for another character) is no name character: these are <a> tags.
    scan = scan_html('<a? href="https://q.example/">q</a><a?b href="https://b.example/">')
    assert [lk.url for lk in scan.links] == ["https://q.example/", "https://b.example/"]


@pytest.mark.parametrize("odd", ["\u0130", "\u0131", "\u017f", "\u212a"])
def test_documents_with_odd_case_letters_are_scanned(odd: str) -> None:
    scan = scan_html(f"<p>{odd}stanbul</p><A Href='https://t.example/'>Git</A><img src=//cdn.example/i.png>")
    assert [(lk.url, lk.text) for lk in scan.links] == [("https://t.example/", "Git"), ("//cdn.example/i.png", "")]


@pytest.mark.parametrize(("size", "found"), [(8192, True), (8193, False)])
def test_tag_attributes_bounded(size: int, found: bool) -> None:
    attrs = ' href="https://x.example/"'
    scan = scan_html("<a" + attrs + " " * (size - len(attrs)) + ">x</a>")
    assert bool(scan.links) is found


def test_a_tag_cut_by_another_is_not_read() -> None:
    assert scan_html('<a href="https://x.example/" <b>x</b>').links == []


def test_many_unfinished_tags_stay_linear() -> None:
    scan = scan_html("<a" * 200_000 + '<a href="https://end.example/">e</a>')
    assert [lk.url for lk in scan.links] == ["https://end.example/"]


def test_css_and_background_in_any_case() -> None:
    scan = scan_html('<TD BACKGROUND="https://bg.example/a.png"><div style="BackGround: URL( https://css.example/b.png )">')
    assert {(lk.tag, lk.url) for lk in scan.links} == {("html", "https://bg.example/a.png"),
                                                      ("css", "https://css.example/b.png")}


def test_strip_tags_is_the_tag_substitution() -> None:
    rnd = random.Random(7)
    for max_tag in (0, 1, 3, 8):
        pattern = re.compile(f"<[^<>]{{0,{max_tag}}}>")
        for _ in range(2000):
            text = "".join(rnd.choice("<>a /=\"'é") for _ in range(rnd.randint(0, 30)))
            assert strip_tags(text, max_tag) == pattern.sub(" ", text), text


def test_html_to_text_drops_comments_scripts_and_tags() -> None:
    html = '<p>a</p><!-- <b>x</b> --><SCRIPT>var s="<p>";</script >b &amp; c<'
    assert html_to_text(html) == " a b & c<"


def test_plain_text_urls_in_any_case_and_defanged_names() -> None:
    links, dropped = links_from_text("Visit WWW.EXAMPLE.COM/Path or HTTPS://Ünï.example/ä and evil[DOT]example, ok")
    assert dropped == 0
    assert [(lk.url, lk.attr, lk.defanged) for lk in links] == [
        ("http://WWW.EXAMPLE.COM/Path", "url", False), ("HTTPS://Ünï.example/ä", "url", False),
        ("http://evil.example", "defanged name", True)]


def test_text_without_marks_has_no_defanged_names() -> None:
    links, _ = links_from_text("see example.com (dot) and example[.]org")
    assert [lk.url for lk in links] == ["http://example.org"]


@pytest.mark.parametrize(("url", "target"), [
    ("https://r.example/go?%75rl=https%3A%2F%2Ft.example%2Fa", "https://t.example/a"),  # escaped name
    ("https://r.example/go?URL=https://t.example/b", "https://t.example/b"),
    ("https://r.example/go?u\trl=https://t.example/c", "https://t.example/c"),  # urlsplit drops the tab
    ("https://r.example/go?color=red&x=1", None),
    ("https://r.example/go#?url=https://t.example/d", None),  # in the fragment
])
def test_redirect_parameter_found_or_not(url: str, target: str | None) -> None:
    got = unwrap(url)
    assert (got.target if got else None) == target


@pytest.mark.parametrize("odd", ["\u0130", "\u0131", "\u017f", "\u212a"])
def test_css_links_after_an_odd_case_letter_are_found(odd: str) -> None:
    # 'İ' lower-cases to two characters: positions found in a lower-cased copy would be off by one.
    html = (f"<p>{odd * 3}stanbul</p><div style=\"background:url('https://css.example/a.png')\">"
            f"<td background=\"https://bg.example/t.png\">x</td></div>")
    urls = {lk.url for lk in scan_html(html).links}
    assert {"https://css.example/a.png", "https://bg.example/t.png"} <= urls


@pytest.mark.parametrize("name", ["\u017fcript", "scr\u0130pt", "SCR\u0131PT", "\u017ftyle"])
def test_tag_names_fold_in_ascii_only(name: str) -> None:
    # A browser reads '<ſcript>' as an unknown element, not a script: its content is text, and
    # nothing raises on the look-alike name.
    text = html_to_text(f"<p>before</p><{name}>inside</{name}><p>after</p>")
    assert text.split() == ["before", "inside", "after"]
    assert html_to_text("<SCRIPT>hidden()</SCRIPT><Style>p{}</STYLE>shown") == "shown"
