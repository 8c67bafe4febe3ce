"""parse_received: every Received shape met in the corpus, written here with documentation names
and addresses; time stamps; hostile input."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsleuth.parse.received import is_ip_literal, literal_ip, parse_received, parse_timestamp


def p(text: str):
    return parse_received(text, 0)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


# --------------------------------------------------------------------------- MTA shapes

def test_postfix_with_rdns_and_tls_comment():
    h = p("from mail.example.org (mail.example.org [192.0.2.10])\n"
          "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
          "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\n"
          "\t(No client certificate requested)\n"
          "\tby mx.example.com (Postfix) with ESMTPS id 4AbCdE1234\n"
          "\tfor <alice@example.com>; Tue, 24 Feb 2026 09:14:04 -0800 (PST)")
    assert (h.parsed, h.from_helo, h.from_rdns, h.from_ip) == (True, "mail.example.org", "mail.example.org", "192.0.2.10")
    assert (h.by_host, h.protocol, h.id, h.for_addr) == ("mx.example.com", "ESMTPS", "4AbCdE1234", "alice@example.com")
    assert (h.tls_version, h.tls_cipher, h.tls_bits) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256)
    assert h.timestamp == utc(2026, 2, 24, 17, 14, 4)


def test_postfix_unknown_rdns_and_ipv6_prefix_and_esmtpsa():
    h = p("from laptop.example.net (unknown [IPv6:2001:db8::25])\n\tby smtp.example.com (Postfix) "
          "with ESMTPSA id 965E53C1082EF; Tue, 24 Feb 2026 09:14:04 -0800 (PST)")
    assert h.from_rdns is None and h.from_ip == "2001:db8::25" and h.from_helo == "laptop.example.net"
    assert h.authenticated and h.protocol == "ESMTPSA" and h.tls == "yes (ESMTPSA)"


def test_postfix_local_userid_line_has_no_client():
    h = p("by host1.example.com (Postfix, from userid 1000) id 835E74E006; Fri, 3 Mar 2023 19:08:09 +0000 (UTC)")
    assert h.parsed and h.by_host == "host1.example.com" and h.from_ip is None and h.from_helo is None


def test_sendmail_may_be_forged_and_envelope_from_after_date():
    h = p("from relay.example.com (192-0-2-7.host.example.net [192.0.2.7] (may be forged))\n"
          "\tby mx.example.com (8.18.1/8.18.1) with ESMTPS id 5B8L6Wbr032222\n"
          "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)\n"
          "\tfor <bob@example.com>; Mon, 8 Dec 2025 21:06:32 GMT\n"
          "\t(envelope-from bounce+x=y@example.org)")
    assert h.may_be_forged and h.from_rdns == "192-0-2-7.host.example.net" and h.from_ip == "192.0.2.7"
    assert h.envelope_from == "bounce+x=y@example.org"
    assert (h.tls_version, h.tls_bits) == ("TLSv1.3", 256)
    assert h.timestamp == utc(2025, 12, 8, 21, 6, 32)


def test_sendmail_ident_and_local_submission():
    h = p("from aztec.example.org (IDENT:user@aztec.example.org [198.51.100.32]) by moonbase.example.org "
          "(8.11.0/8.11.0) with ESMTP id g7SN40J32497 for <list@example.net>; Wed, 28 Aug 2002 16:04:00 -0700")
    assert h.from_rdns == "aztec.example.org" and h.from_ip == "198.51.100.32"
    h2 = p("(from mail@localhost) by int-mx1.example.com (8.11.6/8.11.6) id g7S7fCQ19268 "
           "for list@example.com; Wed, 28 Aug 2002 03:41:12 -0400")
    assert h2.parsed and h2.by_host == "int-mx1.example.com" and h2.from_helo is None
    assert h2.timestamp == utc(2002, 8, 28, 7, 41, 12)


def test_exim_shapes():
    h = p("from [192.0.2.9] (port=33438 helo=srv.example.org) by srv.example.org with esmtpa (Exim 4.96) "
          "(envelope-from <brida@example.org>) id 1qgk5w-00HN3u-1J; Thu, 14 Sep 2023 18:01:16 +0700")
    assert (h.from_ip, h.from_helo, h.protocol, h.authenticated) == ("192.0.2.9", "srv.example.org", "ESMTPA", True)
    assert h.envelope_from == "brida@example.org" and h.id == "1qgk5w-00HN3u-1J"
    h2 = p("from dsl-192-0-2-112.example.net ([192.0.2.112] helo=mail.example.com) by list1.example.org "
           "with esmtp (Exim 3.31-VA-mm2 #1 (Debian)) id 17hudn-0004s1-00 for <talk@example.org>; "
           "Thu, 22 Aug 2002 09:16:59 -0700")
    assert (h2.from_rdns, h2.from_ip, h2.from_helo) == ("dsl-192-0-2-112.example.net", "192.0.2.112", "mail.example.com")
    h3 = p("from [198.51.100.173] (port=37698 helo=203.0.113.83) by box.example.com with esmtpsa (TLS1.2) "
           "tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.96.2) (envelope-from <>) id 1sNjjS-000BDL-0b "
           "for x@example.com; Sun, 30 Jun 2024 08:52:01 +0700")
    assert h3.tls_version == "TLSv1.2" and h3.tls_cipher == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert h3.envelope_from == "" and h3.from_helo == "203.0.113.83" and h3.from_ip == "198.51.100.173"
    h4 = p("from moonbase.example.org ([198.51.100.139]) by list1.example.net with esmtp "
           "(Cipher TLSv1:DES-CBC3-SHA:168) (Exim 3.31-VA-mm2 #1 (Debian)) id 17kBqz-0003Vv-00; "
           "Wed, 28 Aug 2002 16:04:01 -0700")
    assert (h4.tls_version, h4.tls_cipher, h4.tls_bits) == ("TLSv1", "DES-CBC3-SHA", 168)
    h5 = p("from h.example.net ([192.0.2.5]) by mx.example.com with esmtps (X=TLS1.3:TLS_AES_256_GCM_SHA384:256) "
           "id 1abc; Mon, 1 Jan 2024 00:00:00 +0000")
    assert (h5.tls_version, h5.tls_cipher, h5.tls_bits) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256)
    h6 = p("by f5.example.com with local (envelope-from <user@example.org>) id 1pTZcv-00071m-IY; "
           "Sun, 19 Feb 2023 05:40:34 +0300")
    assert h6.protocol == "local" and h6.envelope_from == "user@example.org"


def test_qmail_shapes():
    h = p("(qmail 12438 invoked by uid 0); 29 May 2002 14:43:07 -0000")
    assert h.parsed and h.by_host is None and h.timestamp == utc(2002, 5, 29, 14, 43, 7)
    h2 = p("(qmail 17568 invoked from network); 5 Sep 2002 08:02:24 -0000")
    assert h2.parsed and h2.timestamp == utc(2002, 9, 5, 8, 2, 24)
    h3 = p("from unknown (HELO 203.0.113.178) (user@example.jp@203.0.113.178)  by dc25.example.jp "
           "(198.51.100.215) with ESMTPA; 4 Jun 2025 08:16:26 +0900")
    assert (h3.from_helo, h3.from_ip, h3.from_rdns) == ("203.0.113.178", "203.0.113.178", None)
    assert h3.by_host == "dc25.example.jp" and h3.by_ip == "198.51.100.215" and h3.authenticated


def test_microsoft_365_shapes():
    h = p("from mail-ed1-f43.example.com (192.0.2.43) by BL02EPF00021F6E.mail.protection.outlook.com "
          "(10.167.249.10) with Microsoft SMTP Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) "
          "id 15.20.8534.20 via Frontend Transport; Mon, 10 Mar 2025 22:01:45 +0000")
    assert (h.from_helo, h.from_rdns, h.from_ip) == ("mail-ed1-f43.example.com", None, "192.0.2.43")
    assert h.by_ip == "10.167.249.10" and h.protocol == "Microsoft SMTP Server" and h.via == "Frontend Transport"
    assert (h.tls_version, h.tls_cipher) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384")
    h2 = p("from SA1PR02MB8480.namprd02.prod.outlook.com (::1) by SN6PR02MB4112.namprd02.prod.outlook.com "
           "with HTTPS; Thu, 21 Nov 2024 03:08:55 +0000")
    assert h2.from_ip == "::1" and h2.protocol == "HTTPS" and h2.tls == "yes (HTTPS)"
    h3 = p("from AM8PR07MB8058.eurprd07.prod.outlook.com ([fe80::d1da:9689:cb:5cfa]) by "
           "AM8PR07MB8058.eurprd07.prod.outlook.com ([fe80::d1da:9689:cb:5cfa%2]) with mapi id 15.20.8835.018; "
           "Wed, 11 Jun 2025 12:52:33 +0000")
    assert h3.from_ip == "fe80::d1da:9689:cb:5cfa" and h3.by_ip == "fe80::d1da:9689:cb:5cfa" and h3.protocol == "MAPI"
    h4 = p("from docs.example.net ([127.0.0.1]) by SE102FE193.corp.example.net with Microsoft "
           "SMTPSVC(10.0.17763.1697); Mon, 27 Oct 2025 06:57:43 -0700")
    assert h4.protocol == "Microsoft SMTPSVC" and h4.timestamp == utc(2025, 10, 27, 13, 57, 43)
    h5 = p("by KBS01 with Internet Mail Service (5.5.2653.19) id <Q4V0G6JX>; Tue, 13 Aug 2002 11:18:27 +0100")
    assert h5.protocol == "Internet Mail Service" and h5.id == "Q4V0G6JX"


def test_google_shapes():
    h = p("by 2002:a05:6400:a11b:b0:2bc:fd4a:89b5 with SMTP id k27csp9723766eck;\n"
          "        Mon, 8 Dec 2025 13:06:25 -0800 (PST)")
    assert h.by_host == "2002:a05:6400:a11b:b0:2bc:fd4a:89b5" and h.by_ip == h.by_host and h.id == "k27csp9723766eck"
    assert h.timestamp == utc(2025, 12, 8, 21, 6, 25)
    h2 = p("from o3.email.example.com (o3.email.example.com. [198.51.100.251])\n"
           "        by mx.google.com with ESMTPS id 6a1803df08f44-88842302028si99045676d6.112.2025.12.08.13.06.21\n"
           "        for <user@example.com>\n        (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128);\n"
           "        Mon, 08 Dec 2025 13:06:22 -0800 (PST)")
    assert h2.from_rdns == "o3.email.example.com" and h2.by_host == "mx.google.com"
    assert (h2.tls_version, h2.tls_cipher, h2.tls_bits) == ("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128)
    h3 = p("by mail-ed1-f43.google.com with SMTP id 4fb4d7f45d1cf-63c489f1e6cso7682614a12.1\n"
           "        for <user@example.com>; Mon, 08 Dec 2025 13:06:30 -0800 (PST)")
    assert h3.by_host == "mail-ed1-f43.google.com" and h3.for_addr == "user@example.com"


def test_amazon_ses_and_proofpoint_shapes():
    h = p("from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [192.0.2.30]) by mx0a-00000001.pphosted.com "
          "(PPS) with ESMTPS id 3ntn7us9ex-1 (version=TLSv1.2 cipher=ECDHE-RSA-AES128-SHA256 bits=128 verify=NO) "
          "for <x@example.com>; Sun, 19 Feb 2023 21:25:25 +0000")
    assert h.from_rdns == "a8-30.smtp-out.amazonses.com" and h.tls_cipher == "ECDHE-RSA-AES128-SHA256"
    h2 = p("from pps.filterd (m0425509.ppops.net [127.0.0.1]) by mx0a-00000001.pphosted.com (8.18.1.2/8.18.1.2) "
           "with ESMTP id 5A6INABl023483 for <user@example.com>; Thu, 6 Nov 2025 14:10:48 -0500")
    assert (h2.from_helo, h2.from_rdns, h2.from_ip) == ("pps.filterd", "m0425509.ppops.net", "127.0.0.1")


def test_yahoo_shapes():
    h = p("from 192.0.2.34 (EHLO mail.example.com) by 10.221.57.8 with SMTP; Mon, 10 Nov 2025 06:45:08 +0000")
    assert (h.from_ip, h.from_helo, h.by_host, h.by_ip) == ("192.0.2.34", "mail.example.com", "10.221.57.8", "10.221.57.8")
    h2 = p("from 198.51.100.76 (EHLO med.example.com) by 10.226.14.165 with SMTPs "
           "(version=TLS1_2 cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); Mon, 01 Dec 2025 09:51:01 +0000")
    assert h2.protocol == "SMTPS" and h2.tls_version == "TLSv1.2"
    h3 = p("from 127.0.0.1 by atlas-production.v2-mail-prod1-bf1.omega.yahoo.com pod-id atlas--production-bf1-5df46c68d8"
           "-jxkcs.bf1.yahoo.com with HTTP; Mon, 10 Nov 2025 05:39:45 +0000")
    assert h3.from_ip == "127.0.0.1" and h3.from_helo is None
    assert h3.by_host == "atlas-production.v2-mail-prod1-bf1.omega.yahoo.com" and h3.protocol == "HTTP"
    h4 = p("from [192.0.2.169] by web13904.mail.yahoo.com via HTTP; Tue, 08 Oct 2002 23:51:52 CEST")
    assert h4.from_ip == "192.0.2.169" and h4.via == "HTTP" and h4.timestamp == utc(2002, 10, 8, 21, 51, 52)


def test_sendgrid_without_semicolon_and_fractional_seconds():
    h = p("from MzMxNjU1MTM (unknown) by geopod-ismtpd-13 (SG) with HTTP id ppUuBeVpSR26ODfEyb5JQw "
          "Thu, 25 Dec 2025 04:12:17.154 +0000 (UTC)")
    assert h.by_host == "geopod-ismtpd-13" and h.id == "ppUuBeVpSR26ODfEyb5JQw" and h.from_rdns is None
    assert h.timestamp == utc(2025, 12, 25, 4, 12, 17)
    h2 = p("by recvd-cc7dcf685-kph47 with SMTP id recvd-cc7dcf685-kph47-1-694CB9A1-9 "
           "2025-12-25 04:12:17.184426462 +0000 UTC m=+626610.136937921")
    assert h2.id == "recvd-cc7dcf685-kph47-1-694CB9A1-9" and h2.timestamp == utc(2025, 12, 25, 4, 12, 17)


def test_fetchmail_amavis_lmtp_and_others():
    h = p("from mbox.example.net [192.0.2.15] by localhost with IMAP (fetchmail-5.9.0) for user@localhost "
          "(single-drop); Mon, 22 Jul 2002 19:22:34 +0100 (IST)")
    assert (h.from_helo, h.from_ip, h.protocol) == ("mbox.example.net", "192.0.2.15", "IMAP")
    h2 = p("from mx.example.com ([127.0.0.1]) by localhost (mx.example.com [127.0.0.1]) (amavisd-new, port 10024) "
           "with ESMTP id 9bpCgWaizcNK for <u@example.com>; Tue, 29 Nov 2022 13:42:39 -0500 (COT)")
    assert h2.from_ip == "127.0.0.1" and h2.by_host == "localhost" and h2.by_ip == "127.0.0.1"
    h3 = p("from mail.example.de by lfdr with LMTP id UI95EG/cnWmuSQQAu9opvQ (envelope-from <l+b@example.org>) "
           "for <lists@example.de>; Tue, 24 Feb 2026 18:14:23 +0100")
    assert h3.protocol == "LMTP" and h3.envelope_from == "l+b@example.org" and h3.from_ip is None
    h4 = p("from [192.0.2.138] ([192.0.2.138:47893] helo=r27.msg.example.com) by or2-prod1-mta-b-i-027f "
           "(envelope-from <bounce@msg.example.com>) (ecelerity 4.4.1.20033 r(msys-ecelerity:tags/4.4.1.0^0)) "
           "with ESMTP id D0/10-28833-5BCCBE96; Fri, 24 Apr 2026 20:04:05 +0000")
    assert h4.from_ip == "192.0.2.138" and h4.from_helo == "r27.msg.example.com" and h4.id == "D0/10-28833-5BCCBE96"
    h5 = p("by omta.example.com (Oracle Communications Messaging Server 8.1.0.1.20240215 64bit (built Feb 15 2024)) "
           "with ESMTPS id <0SBU01ANM13GGX70@omta.example.com> for x@example.com; Fri, 12 Apr 2024 13:50:04 +0000 (GMT)")
    assert h5.id == "0SBU01ANM13GGX70@omta.example.com" and h5.timestamp == utc(2024, 4, 12, 13, 50, 4)
    h6 = p("from phobos [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for jm@localhost (single-drop); "
           "Fri, 23 Aug 2002 11:08:39 +0100 (IST)")
    assert h6.from_helo == "phobos" and h6.from_ip == "127.0.0.1"
    h7 = p("by mta31.example.com id h30g4i163hst for <x@example.com>; Thu, 21 Apr 2016 00:35:17 +0000 "
           "(envelope-from <bounce-1@bounce.example.com>)")
    assert h7.by_host == "mta31.example.com" and h7.envelope_from == "bounce-1@bounce.example.com"


# --------------------------------------------------------------------------- time stamps

@pytest.mark.parametrize(("text", "expected"), [
    ("Thu, 21 Apr 2016 09:35:20 +0900 (JST)", utc(2016, 4, 21, 0, 35, 20)),
    ("21 Apr 2016 09:35:20 JST", utc(2016, 4, 21, 0, 35, 20)),
    ("Thu, 21 Apr 16 09:35:20 -0000", utc(2016, 4, 21, 9, 35, 20)),
    ("1 Jan 99 10:00:00 GMT", utc(1999, 1, 1, 10, 0, 0)),
    ("Sat, 7 Sep 2002 10:00 PDT", utc(2002, 9, 7, 17, 0, 0)),
    ("Thu, 21 Apr 2016 09:35:20 UT", utc(2016, 4, 21, 9, 35, 20)),
    ("Wed, 28 Aug 2002 13:51:21 +0700 (ICT)", utc(2002, 8, 28, 6, 51, 21)),
    ("Tue, 4 Jun 2025 08:16:26 +0900 trailing garbage", utc(2025, 6, 3, 23, 16, 26)),
    ("garbage first 21 Apr 2016 09:35:20 +0000", utc(2016, 4, 21, 9, 35, 20)),
    ("2025-12-25 04:12:17.184 +0000 UTC", utc(2025, 12, 25, 4, 12, 17)),
    ("2025-12-25T04:12:17Z", utc(2025, 12, 25, 4, 12, 17)),
    ("Thu Apr 21 09:35:20 2016", utc(2016, 4, 21, 9, 35, 20)),
    ("Mon, 13 Apr 2026 16:24:03 GMT", utc(2026, 4, 13, 16, 24, 3)),
])
def test_timestamp_forms(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "not a date", "Fri, 3 Mar 2023 16:56:", "99 Foo 2020 10:00:00",
                                  "31 Feb 2020 10:00:00 +0000", "(UTC)", "1 Jan 20000 10:00:00"])
def test_timestamp_unreadable_is_none(text):
    assert parse_timestamp(text) is None


def test_missing_timestamp_is_none_but_line_parsed():
    h = p("from a.example.org (a.example.org [192.0.2.1]) by mx.example.com (Postfix) with ESMTPS id 64FA33A7F4C "
          "for <list@example.com>;")
    assert h.parsed and h.timestamp is None and h.by_host == "mx.example.com"


# --------------------------------------------------------------------------- literals and hostile input

def test_ip_literal_forms():
    assert literal_ip("[192.0.2.1]") == "192.0.2.1"
    assert literal_ip("[IPv6:2001:db8::1]") == "2001:db8::1"
    assert literal_ip("[192.0.2.1]:25") == "192.0.2.1"
    assert literal_ip("192.0.2.1:2525") == "192.0.2.1"
    assert literal_ip("fe80::1%eth0") == "fe80::1"
    assert literal_ip("mail.example.com") is None and not is_ip_literal("deadbeef.example")
    assert literal_ip("unknown") is None and literal_ip(None) is None


def test_unparseable_is_kept_raw():
    h = p("this is not a received line at all")
    assert h.parsed is False and h.raw == "this is not a received line at all"
    assert p("").parsed is False


def test_huge_value_is_bounded_and_fast():
    big = "from " + "a(" * 200_000 + "x" * 600_000 + ")" * 100_000 + " by mx.example.com; Mon, 1 Jan 2024 00:00:00 +0000"
    t0 = time.perf_counter()
    h = p(big)
    assert time.perf_counter() - t0 < 1.0
    assert len(h.raw) <= 8192
    t0 = time.perf_counter()
    h2 = p("from x by y " + "id z " * 250_000 + "; Mon, 1 Jan 2024 00:00:00 +0000")
    assert time.perf_counter() - t0 < 1.0 and h2.parsed


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_arbitrary_text(text):
    h = parse_received(text, 3)
    assert h.header_index == 3 and isinstance(h.parsed, bool)
    assert h.timestamp is None or h.timestamp.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["from", "by", "with", "id", "for", "via", "(", ")", "[", "]", ";", "<", ">",
                                 "192.0.2.1", "[IPv6:2001:db8::1]", "helo=", "EHLO", "may be forged",
                                 "version=TLS1_2", "Mon, 1 Jan 2024 00:00:00 +0000", "envelope-from", " "]),
                max_size=60))
def test_never_raises_on_received_like_soup(parts):
    h = parse_received(" ".join(parts), 0)
    assert isinstance(h.raw, str)


# --------------------------------------------------------------------------- fast paths agree with the general reading

def test_case_insensitive_words_found_in_any_spelling():
    # the cheap pre-checks before the case-insensitive expressions must not lose a spelling: upper
    # case, and the non-ASCII letters IGNORECASE folds onto ASCII ones (U+017F reads as "s")
    h = p("from x (HELO=mail.example.org) (Authenticated sender: a) (May Be Forged) by mx.example.com; "
          "Mon, 2 Jan 2026 10:00:00 +0000")
    assert (h.from_helo, h.authenticated, h.may_be_forged) == ("mail.example.org", True, True)
    h = p("from mail.example.org (mail.example.org [192.0.2.10]) (using TL\u017fv1.2 with cipher C1) "
          "by mx.example.com with ESMTP; Mon, 2 Jan 2026 10:00:00 +0000")
    assert (h.tls_version, h.tls_cipher) == ("TLSv1.2", "C1")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["GMT", "UTC", "UT", "+0000", "-0800", "+0530", "-0000", "EST"]),
       st.text(alphabet="aZ09 .,:;=@+-_<>\u00e9\t", max_size=230), st.booleans())
def test_timestamp_with_named_zone_and_comment_reads_as_the_general_parser(zone, comment, weekday):
    from mailsleuth.parse.received import _parse_timestamp_general

    text = f"{'Fri, ' if weekday else ''}19 Dec 2025 17:58:39 {zone} ({comment})"
    assert parse_timestamp(text) == _parse_timestamp_general(text)
    if zone in ("GMT", "UTC", "UT") and len(comment) <= 200:
        assert parse_timestamp(text) == utc(2025, 12, 19, 17, 58, 39)


def test_comment_nesting_read_the_same_by_both_tokenizers():
    # two levels: one pass of the regular expression; deeper or unbalanced: the character walk
    for text in ("from a (b (c) d) by mx.example.com (e (f)) with ESMTP; Mon, 2 Jan 2026 10:00:00 +0000",
                 "from a (b (c (d))) by mx.example.com (e) with ESMTP; Mon, 2 Jan 2026 10:00:00 +0000",
                 "from a (b ((c)) by mx.example.com with ESMTP; Mon, 2 Jan 2026 10:00:00 +0000"):
        h = p(text)
        assert h.parsed and h.from_helo == "a"
    assert p("from a (b (c) d) by mx.example.com; Mon, 2 Jan 2026 10:00:00 +0000").comments == ("b (c) d",)
    assert p("from a (b (c (d))) by mx.example.com; Mon, 2 Jan 2026 10:00:00 +0000").comments == ("b (c (d))",)
    assert p("from a (b ((c)) by mx.example.com; Mon, 2 Jan 2026 10:00:00 +0000").comments == (
        "b ((c)) by mx.example.com",)


def test_literal_ip_canonical_forms():
    assert literal_ip("[IPv6:2001:DB8:0:0:0:0:0:1]") == "2001:db8::1"
    assert literal_ip("203.0.113.7,") == "203.0.113.7"
    for not_canonical in ("[192.0.2.01]", "192.0.2", "[192.0.2.256]", "\uff11\uff19\uff12.0.2.1"):
        assert literal_ip(not_canonical) is None, not_canonical
