"""A transport's answer as it is stored: the server's code and reason, no e-mail address."""

from __future__ import annotations

import pytest

from consentry.adapters.transport import ADDRESS, without_addresses


@pytest.mark.parametrize(
    ("reply", "stored"),
    [
        # Postfix, in angle brackets
        (
            "550 5.1.1 <jan@example.com>: Recipient address rejected: User unknown",
            "550 5.1.1 <address>: Recipient address rejected: User unknown",
        ),
        # bare, with the sentence's own punctuation kept
        ("550 5.1.1 jan@example.com... User unknown", "550 5.1.1 <address>... User unknown"),
        ("550 Recipient jan.de.vries+news@example.nl not found.", "550 Recipient <address> not found."),
        ("554 refused (jan@example.nl)", "554 refused (<address>)"),
        ("451 4.1.8 TO:jan@example.nl: domain has no MX", "451 4.1.8 TO:<address>: domain has no MX"),
        # unicode, in brackets and bare
        ("550 5.1.1 <jürgen@bücher.de> unbekannt", "550 5.1.1 <address> unbekannt"),
        ("550 5.1.1 Mailbox 用户@例子.广告 does not exist.", "550 5.1.1 Mailbox <address> does not exist."),
        # a quoted local part, a domain literal, several addresses, a multi-line reply
        ('550 "jan jansen"@example.com unknown', "550 <address> unknown"),
        ("550 jan@[192.0.2.1] refused", "550 <address> refused"),
        ("550 for a@example.nl;b@example.nl, c@example.nl", "550 for <address>;<address>, <address>"),
        ("550-5.1.1 <jan@example.com> no\n550 5.1.1 user", "550-5.1.1 <address> no\n550 5.1.1 user"),
    ],
)
def test_every_address_in_a_reply_is_replaced_and_the_code_and_reason_stay(reply: str, stored: str) -> None:
    assert without_addresses(reply) == stored
    assert "@" not in stored.replace(ADDRESS, "")


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 no such user",
        "451 4.7.1 greylisted, try again in 300 s",
        "550 5.7.1 see https://support.example.com/mail/?p=NoSuchUser",
        "554 5.7.1 rejected by @ policy",  # an @ without an address around it
        "",
    ],
)
def test_a_reply_without_an_address_is_stored_unchanged(reply: str) -> None:
    assert without_addresses(reply) == reply
