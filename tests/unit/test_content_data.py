"""The content knowledge files: every example matches as declared."""

from __future__ import annotations

import pytest

from mailsleuth.content.lexicon import abused_suffix, fold, lures, org_words, tld_groups

CATS = lures().categories


@pytest.mark.parametrize("cat", CATS, ids=[c.id for c in CATS])
def test_category_examples(cat) -> None:
    assert cat.description and cat.source and cat.examples_positive and cat.examples_negative
    for ex in cat.examples_positive:
        assert cat.id in lures().match(fold(ex)), ex
    for ex in cat.examples_negative:
        assert lures().match(fold(ex)) == {}, ex


def test_every_category_has_all_languages() -> None:
    for cat in CATS:
        assert {"en", "de", "fr", "es", "pt", "it", "nl", "ja"} <= set(cat.phrases), cat.id


def test_org_word_examples() -> None:
    w = org_words()
    for ex in w.examples_positive:
        assert w.find(ex), ex
    for ex in w.examples_negative:
        assert not w.find(ex), ex


def test_tld_examples() -> None:
    for g in tld_groups():
        assert g.source and g.description
        for ex in g.examples_positive:
            assert abused_suffix(ex) is not None, ex
        for ex in g.examples_negative:
            assert abused_suffix(ex) is None, ex
