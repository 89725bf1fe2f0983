"""A campaign's messages, byte for byte: the builder may be made faster, never different.

The digest below is of the messages main's code wrote (session 9, before the composer's
footer words were translated once a composer and the encoder's memo was asked once a
message): every header, both parts, the links with their tokens, the footers with the
unsubscribe, preferences, objection and Art. 14 lines, in Dutch and English, with a
non-ASCII name and a body with `=`, lone dots and a long line. Each person's message is
written twice, so the second comes from the send's memos. A change to what a message says
changes the digest; then this test says so, and the change is the message's, on purpose.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from test_campaign_send import CAMPAIGN as SEND_CAMPAIGN
from test_campaign_send import load, person

from conftest import define_purposes, make_app
from consentry.policy.facts import Question
from consentry.policy.rules import evaluate
from consentry.services import campaigns, states
from consentry.services.sending.messages import Letters
from consentry.services.sending.model import Job
from consentry.services.setup import controller

#: sha256 of every message below, in order, as main's code (f85f79b) wrote them.
DIGEST = "9be37391f3934ba98bd7c7f5338aafa376f17b2277a9d5ec5097f40c99ff050f"

#: The send test's campaign, with a body that exercises the encoder (`=`, lone dots, a long line).
CAMPAIGN: dict[str, Any] = {
    **SEND_CAMPAIGN,
    "content": {
        "nl": {
            "subject": "Nieuwe koffie voor {{ name }}",
            "body": "Hallo {{ name }},\n\nDe najaarskoffie is er: 1 + 1 = 2.\n.\n..\n"
            + "Vol, rond en een beetje nootachtig. " * 8
            + "\n\nTot ziens!",
        },
        "en": SEND_CAMPAIGN["content"]["en"],
    },
}
PEOPLE = [
    ("anna@example.nl", "Anna de Vries", "nl", "web_form", None),
    ("bob@example.com", "Bob Smith", "en", "web_form", None),
    ("zoe@example.nl", "Zoë Ørsted-Çelik", "nl", "web_form", None),
    ("els@example.nl", "Els", "nl", "business_card", "Horecava 2026"),
    ("tom@example.com", "Tom", "en", "linkedin", None),
]


def test_a_campaigns_messages_are_byte_for_byte_those_main_wrote(sqlite_url: str) -> None:
    app = make_app(sqlite_url, base_url="https://koffie.example")
    define_purposes(app)
    load(app, *(person(a, name, lang, True, source, detail) for a, name, lang, source, detail in PEOPLE))
    campaigns.define(app, CAMPAIGN)
    c = campaigns.get(app, "najaar")
    with app.store.reader() as r:
        purpose = r.purpose(c.purpose)
        boss = controller(r)
        people = [states.load(r, pid) for pid in r.point_ids()]
    assert purpose is not None and len(people) == len(PEOPLE)
    question = Question(c.channel, purpose, app.clock.now(), c.kind)
    objection = app.pack.obligations["mention-right-to-object"]
    letters = Letters(app, c, purpose)
    digest = hashlib.sha256()
    written: list[bytes] = []
    for no, state in enumerate(people):
        decision = evaluate(app.pack, state, question, boss)
        for again in (False, True):
            for extra in ((), (objection,)):
                d = replace(decision, obligations=decision.obligations + extra)
                for _twice in range(2):
                    data = letters.outgoing(Job(state.id, no, 0, state, d, again)).data
                    digest.update(len(data).to_bytes(4, "big") + data)
                    written.append(data)
    # Every footer line the composer writes is among them (quoted-printable: "=\r\n" folds).
    whole = b"".join(written).replace(b"=\r\n", b"")
    for line in (
        b"met =C3=A9=C3=A9n klik",
        b"with one click",
        b"Je voorkeuren",
        b"bezwaar",
        b"object at any",
        b"Waarom krijg je",
        b"Why do you receive",
        b"visitekaartje (Horecava 2026)",
    ):
        assert line in whole, line
    assert digest.hexdigest() == DIGEST
