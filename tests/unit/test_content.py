"""The content.lures check: lures, styled text, recipient echo and sender hygiene."""

from __future__ import annotations

import time

import mailsleuth.checks.content  # noqa: F401  (registers the check)
from mailsleuth.content.lexicon import fold, lures
from mailsleuth.content.signals import html_to_text, random_looking
from tests.unit.test_authres_support import run_check


def _msg(frm: str, subject: str, body: str = "Hello.", *, to: str = "jdoe82@example.org",
         ctype: str = "text/plain") -> bytes:
    return (f"From: {frm}\nTo: <{to}>\nSubject: {subject}\nMIME-Version: 1.0\n"
            f"Content-Type: {ctype}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n").encode()


def _codes(raw: bytes) -> set[str]:
    out, _ = run_check("content.lures", raw)
    return {f.code for f in out.findings}


def test_credential_lure_in_body_with_evidence() -> None:
    out, _ = run_check("content.lures", _msg("Help <help@example.com>", "Notice",
                                            "Your account has been suspended. Verify your account now."))
    f = next(f for f in out.findings if f.code == "CONTENT_LURE_CREDENTIAL")
    assert "account has been suspended" in f.facts["phrases"] and f.facts["where"] == "body"


def test_transactional_mail_has_no_lure() -> None:
    raw = _msg("Shop <orders@example.com>", "Your order has shipped",
               "Your order has shipped. Here is your verification code for your login attempt: 123456.")
    assert not {c for c in _codes(raw) if c.startswith("CONTENT_LURE")}


def test_html_body_tags_stripped_and_accents_folded() -> None:
    html = "<html><style>p{}</style><p>V&eacute;rifiez <b>votre</b> compte</p><script>x</script></html>"
    assert "CONTENT_LURE_CREDENTIAL" in _codes(_msg("A <a@example.com>", "Info", html, ctype="text/html"))
    assert "Vérifiez" in html_to_text(html) and "x" not in html_to_text(html).split()
    # written without accents, the accented phrase still matches
    assert "credential" in lures().match(fold("VERIFIEZ VOTRE COMPTE"))


def test_japanese_lure_in_subject() -> None:
    raw = _msg("Info <info@example.com>", "=?UTF-8?B?44Ki44Kr44Km44Oz44OI44GM5YGc5q2i44GV44KM44G+44GX44Gf?=")
    out, _ = run_check("content.lures", raw)
    f = next(f for f in out.findings if f.code == "CONTENT_LURE_CREDENTIAL")
    assert f.facts["where"] == "Subject"


def test_word_boundary() -> None:
    assert lures().match(fold("The casinobonus and viagrafoo")) == {}
    assert "pharma" in lures().match(fold("cheap viagra!"))


def test_spam_category_once() -> None:
    out, _ = run_check("content.lures", _msg("A <a@example.com>", "Free spins", "free spins, free spins, jackpot"))
    assert [f.code for f in out.findings].count("CONTENT_SPAM_CASINO") == 1


def test_styled_unicode_and_mixed_script() -> None:
    assert "CONTENT_STYLED_UNICODE" in _codes(_msg("A <a@example.com>", "\U0001d400\U0001d41c\U0001d41c\U0001d428unt"))
    assert "CONTENT_STYLED_UNICODE" in _codes(_msg("\"P\u0430yPal\" <a@example.com>", "hello"))
    assert "CONTENT_STYLED_UNICODE" not in _codes(_msg("A <a@example.com>", "Grüße aus Köln"))
    # fullwidth Latin inside Japanese text is ordinary
    assert "CONTENT_STYLED_UNICODE" not in _codes(_msg("A <a@example.com>", "=?UTF-8?B?77yh77yi77yj5qCq5byP5Lya56S+?="))


def test_emoji_heavy() -> None:
    assert "CONTENT_EMOJI_HEAVY" in _codes(_msg("A <a@example.com>", "Sale \U0001f525\U0001f525\U0001f381 now"))
    assert "CONTENT_EMOJI_HEAVY" not in _codes(_msg("A <a@example.com>", "Sale \U0001f525 now"))


def test_recipient_in_subject() -> None:
    assert "CONTENT_RECIPIENT_IN_SUBJECT" in _codes(_msg("A <a@example.com>", "jdoe82, your mailbox"))
    assert "CONTENT_RECIPIENT_IN_SUBJECT" in _codes(_msg("A <a@example.com>", "For jdoe82@example.org"))
    # a plain first name as local part is how newsletters greet people: not counted
    assert "CONTENT_RECIPIENT_IN_SUBJECT" not in _codes(_msg("A <a@example.com>", "John, news", to="john@example.org"))


def test_display_name_domain() -> None:
    assert "SENDER_DISPLAY_NAME_DOMAIN" in _codes(_msg("\"Example.net Billing\" <x@example.com>", "Hi"))
    assert "SENDER_DISPLAY_NAME_DOMAIN" not in _codes(_msg("\"Example.com\" <news@mail.example.com>", "Hi"))
    # an address in the name is identity.alignment's ID_DISPLAY_NAME_ADDRESS, not ours
    assert "SENDER_DISPLAY_NAME_DOMAIN" not in _codes(_msg("\"a@example.net\" <x@example.com>", "Hi"))


def test_random_names() -> None:
    assert random_looking("x7kq2p9z")
    assert random_looking("lina_Chad_28621")
    assert random_looking("qwrtzpl")
    for ok in ("john.smith", "newsletter", "noreply", "em1234", "maria1985", "support"):
        assert random_looking(ok) is None, ok
    assert "SENDER_RANDOM_NAME" in _codes(_msg("A <x7kq2p9z@example.com>", "Hi"))
    assert "SENDER_RANDOM_NAME" in _codes(_msg("A <a@k3x9q2z7.example.com>", "Hi"))


def test_abused_tld_and_free_hosting() -> None:
    assert "SENDER_ABUSED_TLD" in _codes(_msg("A <a@offers.example.xyz>", "Hi"))
    assert "SENDER_ABUSED_TLD" not in _codes(_msg("A <a@example.com>", "Hi"))
    assert "SENDER_FREE_HOSTING" in _codes(_msg("A <noreply@proj-1.firebaseapp.com>", "Hi"))
    assert "SENDER_FREE_HOSTING" not in _codes(_msg("A <noreply@example.com>", "Hi"))


def test_freemail_org_name() -> None:
    assert "SENDER_FREEMAIL_ORG_NAME" in _codes(_msg("\"Account Security Team\" <someone@gmail.com>", "Hi"))
    assert "SENDER_FREEMAIL_ORG_NAME" not in _codes(_msg("\"Maria Lopez\" <someone@gmail.com>", "Hi"))
    assert "SENDER_FREEMAIL_ORG_NAME" not in _codes(_msg("\"Security Team\" <sec@example.com>", "Hi"))


def test_hostile_input_does_not_raise() -> None:
    body = "<script>" * 5000 + "<" * 20000 + "&#" * 5000
    out, _ = run_check("content.lures", _msg("\"\U0001d400\" <@>", "x\U0001f525" * 500, body, ctype="text/html"))
    assert out.artifact is not None


def test_cost_of_matching_grows_linearly_with_text() -> None:
    """Folding and matching stay linear in the text: 16 times the text costs far less than 256 times
    (a quadratic step would). A ratio of CPU times, so a busy machine does not make it fail."""
    sentence = "Dear customer, thank you for reading our newsletter about gardening, travel and recipes. "
    small, large = (sentence * 800)[:4096], (sentence * 800)[:65536]
    lx = lures()
    lx.match(fold(large))

    def cost(text: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            for _ in range(20):
                lx.match(fold(text))
            best = min(best, time.process_time() - start)
        return max(best, 1e-6)

    assert cost(large) / cost(small) < 64


def test_lure_in_display_name_and_styled_subject_still_matches() -> None:
    out, _ = run_check("content.lures", _msg("\"Security Alert\" <a@example.com>",
                                            "\U0001d400\U0001d41c\U0001d41c\U0001d428\U0001d42e\U0001d427\U0001d42d suspended"))
    f = next(f for f in out.findings if f.code == "CONTENT_LURE_CREDENTIAL")
    assert "From display name" in f.facts["where"] and "Subject" in f.facts["where"]


def test_german_umlauts_either_way() -> None:
    assert "credential" in lures().match(fold("Ihr Konto wurde eingeschränkt"))
    assert "credential" in lures().match(fold("ihr konto wurde eingeschrankt"))


def test_body_read_up_to_64kb_only() -> None:
    filler = "Garden news and recipes. " * 3000  # > 64 KB
    out, _ = run_check("content.lures", _msg("A <a@example.com>", "News", filler + " free spins"))
    assert out.artifact.body_truncated and out.artifact.body_chars <= 65536
    assert "CONTENT_SPAM_CASINO" not in {f.code for f in out.findings}


def test_terminal_section_escapes() -> None:
    from io import StringIO

    from rich.console import Console

    from mailsleuth.render.sections.content import render_content

    out, _ = run_check("content.lures", _msg("\"[bold]x[/bold]\" <x7kq2p9z@example.com>", "free spins [red]"))
    buf = StringIO()
    render_content(out.artifact, Console(file=buf, width=120, color_system=None))
    text = buf.getvalue()
    assert "casino" in text and "free spins" in text and "x7kq2p9z" in text


def test_display_name_initial_and_surname_is_not_a_domain() -> None:
    # ".hughes"-style brand TLDs collide with surnames written as "R.Hughes"
    assert "SENDER_DISPLAY_NAME_DOMAIN" not in _codes(_msg("\"R.Hughes\" <rh@example.com>", "Hi"))
    assert "SENDER_DISPLAY_NAME_DOMAIN" in _codes(_msg("\"www.Example.net\" <rh@example.com>", "Hi"))


def test_display_name_domain_of_a_signing_organisation_is_fine() -> None:
    from mailsleuth.checks.identity import build_report, collect_identities
    from mailsleuth.parse.message import parse_message

    raw = (b"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s; h=from; bh=x; b=y\n"
           + _msg("\"Example.net\" <news@example.com>", "Hi"))
    ident = build_report(collect_identities(parse_message(raw)))
    out, _ = run_check("content.lures", raw, artifacts={"identity.alignment": ident})
    assert "SENDER_DISPLAY_NAME_DOMAIN" not in {f.code for f in out.findings}
    out, _ = run_check("content.lures", raw)
    assert "SENDER_DISPLAY_NAME_DOMAIN" in {f.code for f in out.findings}


def test_list_address_in_list_subject_tag_is_not_counted() -> None:
    raw = b"List-Id: <users.lists.example.org>\n" + _msg("A <a@example.com>", "[users-list] question",
                                                         to="users-list@lists.example.org")
    assert "CONTENT_RECIPIENT_IN_SUBJECT" not in _codes(raw)
