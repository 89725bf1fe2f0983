"""Sending campaigns through the services to a real SMTP server (aiosmtpd), on both stores."""

from __future__ import annotations

import email.policy
import gc
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import Envelope
from fastapi.testclient import TestClient

from conftest import body_text, cache_sizes, caches_grown, define_purposes, make_app, serving_smtp
from consentry.adapters.sql import campaign_reports, send_workers
from consentry.adapters.webhook import WebhookTransport
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus, MessageStatus
from consentry.domain.clock import FixedClock
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.http import create_app
from consentry.policy.facts import Question
from consentry.policy.rules import evaluate
from consentry.services import campaigns, erasure, ledger, sending, states
from consentry.services.collector import LOAD_THRESHOLDS
from consentry.services.compose import Composer
from consentry.services.decide import decide
from consentry.services.errors import InputError
from consentry.services.sending import SendOptions
from consentry.services.setup import controller

SENDER = {
    "name": "Koffiebranderij De Boon",
    "email": "nieuws@deboon.example",
    "legal_name": "De Boon B.V.",
    "address": "Markt 1, 3511 AA Utrecht",
    "kvk": "12345678",
}
CAMPAIGN: dict[str, Any] = {
    "key": "najaar",
    "name": "Najaarsactie",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": SENDER,
    "content": {
        "nl": {
            "subject": "Nieuwe koffie voor {{ name }}",
            "body": "Hallo {{ name }},\n\nDe najaarskoffie is er.",
        },
        "en": {
            "subject": "New coffee for {{ name }}",
            "body": "Hello {{ name }},\n\nThe autumn coffee is here.",
        },
    },
}
FAST = SendOptions(concurrency=2, batch=2, retry_after=timedelta(0))


class Server:
    """An SMTP server counting deliveries by recipient; refusals can be scripted per recipient."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.by_rcpt: Counter[str] = Counter()
        #: recipient -> replies to give at RCPT, one per attempt (then accept)
        self.rcpt_replies: dict[str, list[str]] = {}
        #: recipient -> replies to give after the final dot, one per attempt
        self.data_replies: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        script = self.rcpt_replies.get(address)
        if script:
            return script.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        rcpt = envelope.rcpt_tos[0]
        script = self.data_replies.get(rcpt)
        if script:
            return script.pop(0)
        raw = envelope.original_content or b""
        with self.lock:
            self.raw.append(raw)
            self.messages.append(message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
            self.by_rcpt[rcpt] += 1
        return "250 OK"

    def to(self, address: str) -> EmailMessage:
        found = [m for m in self.messages if m["To"] == address]
        assert len(found) == 1, f"{len(found)} messages to {address}"
        return found[0]


@pytest.fixture
def server() -> Iterator[tuple[Server, int]]:
    srv = Server()
    with serving_smtp(srv) as port:
        yield srv, port


@pytest.fixture
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A fresh RSA key (openssl) and its public half as DNS would publish it."""
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    import base64

    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


@pytest.fixture
def shop(store_url: str, server: tuple[Server, int], dkim_key: tuple[Path, bytes]) -> Iterator[App]:
    app = make_app(
        store_url,
        smtp_port=server[1],
        base_url="https://koffie.example",
        dkim_domain="deboon.example",
        dkim_selector="s2026",
        dkim_key_file=str(dkim_key[0]),
    )
    define_purposes(app)
    yield app
    app.store.engine.dispose()


def person(
    address: str,
    name: str,
    lang: str = "nl",
    consent: bool = True,
    source: str = "web_form",
    detail: str | None = None,
) -> list[dict[str, Any]]:
    """The records of one person on the list."""
    registered: dict[str, Any] = {
        "type": "contact_point.registered",
        "kind": "email",
        "value": address,
        "source": source,
        "display_name": name,
        "attributes": {"language": lang},
    }
    if detail:
        registered["source_detail"] = detail
    records = [registered]
    if consent:
        records.append(
            {
                "type": "consent.given",
                "contact": address,
                "purpose": "nieuwsbrief",
                "channels": ["email"],
                "method": "single_opt_in",
            }
        )
    return records


def load(app: App, *people: list[dict[str, Any]]) -> None:
    ledger.append_records(app, enumerate([r for p in people for r in p], 1))


def point(app: App, address: str) -> str:
    with app.store.reader() as r:
        found = r.point_id(PointKind.EMAIL, address)
    assert found is not None
    return found


def point_no(app: App, pid: str) -> int:
    """The point's number: what the send queue is keyed by."""
    with app.store.reader() as r:
        return int(
            r.conn.execute(
                sa.text("SELECT point_no FROM point_facts WHERE contact_point_id = :p"), {"p": pid}
            ).scalar_one()
        )


def unsubscribe(app: App, address: str) -> None:
    ledger.append_records(app, [(1, {"type": "unsubscribed", "contact": address, "via": "reply"})])


def rows(app: App, key: str = "najaar") -> dict[str, dict[str, Any]]:
    with app.store.reader() as r:
        return {m["contact_point_id"]: m for m in campaign_reports.messages(r.conn, key)}


# -- the tests ----------------------------------------------------------------------------------


def test_allowed_people_get_exactly_one_message_and_denied_people_none(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(
        shop,
        person("anna@example.nl", "Anna"),
        person("bob@example.com", "Bob", lang="en"),
        person("cees@example.nl", "Cees", consent=False),
        person("dirk@example.nl", "Dirk"),
    )
    unsubscribe(shop, "dirk@example.nl")
    campaigns.define(shop, CAMPAIGN)
    report = sending.send(shop, "najaar", FAST)
    assert (report.sent, report.status) == (2, CampaignStatus.DONE)
    assert srv.by_rcpt == Counter({"anna@example.nl": 1, "bob@example.com": 1})
    done = campaigns.progress(shop, "najaar")
    assert done.counts["sent"] == 2 and done.counts["skipped"] == 2
    assert done.skipped_by_rule == {"NL-EM-01": 1, "EU-GDPR-03": 1}
    assert rows(shop)[point(shop, "cees@example.nl")]["rule"] == "NL-EM-01"
    again = sending.send(shop, "najaar", FAST)
    assert again.sent == 0 and sum(srv.by_rcpt.values()) == 2


def test_the_garbage_collector_runs_rarely_while_sending_and_as_before_afterwards(
    shop: App, server: tuple[Server, int]
) -> None:
    load(shop, person("anna@example.nl", "Anna"))
    campaigns.define(shop, CAMPAIGN)
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    sending.send(shop, "najaar", FAST, after_claim=lambda _points: during.append(gc.get_threshold()))
    assert during and set(during) == {LOAD_THRESHOLDS}
    assert gc.get_threshold() == before


def test_a_template_naming_an_attribute_a_person_lacks_fails_that_message_and_sends_the_others(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    anna, bob = person("anna@example.nl", "Anna"), person("bob@example.nl", "Bob")
    anna[0]["attributes"]["city"] = "Utrecht"
    load(shop, anna, bob)
    body = "Hallo {{ name }} in {{ attributes.city }}, {{ address }}."
    campaigns.define(shop, {**CAMPAIGN, "content": {"nl": {"subject": "Voor {{ name }}", "body": body}}})
    report = sending.send(shop, "najaar", FAST)
    assert (report.sent, report.failed) == (1, 1)
    (message,) = srv.messages
    assert "Hallo Anna in Utrecht, anna@example.nl." in body_text(message)
    error = rows(shop)[point(shop, "bob@example.nl")]["error"]
    assert error.startswith("554 content.nl: ") and "city" in error


def test_marketing_mail_carries_one_click_unsubscribe_headers_that_work(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"))
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    msg = srv.to("anna@example.nl")
    links = [part.strip().strip("<>") for part in str(msg["List-Unsubscribe"]).split(",")]
    assert links[0].startswith("https://koffie.example/u/") and links[1].startswith(
        "mailto:nieuws@deboon.example"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == f"<najaar.{point(shop, 'anna@example.nl')}@deboon.example>"

    client = TestClient(create_app(shop))
    answer = client.post(
        links[0].removeprefix("https://koffie.example"), data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200
    after = decide(shop, "anna@example.nl", "email", "nieuwsbrief")
    assert (after.verdict.value, after.rule) == ("deny", "EU-GDPR-03")


def test_the_dkim_signature_verifies_and_covers_the_unsubscribe_headers(
    shop: App, server: tuple[Server, int], dkim_key: tuple[Path, bytes]
) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"))
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    raw = srv.raw[0]

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s2026._domainkey.deboon.example."
        return dkim_key[1]

    assert dkim.verify(raw, dnsfunc=dns)
    signed = srv.messages[0]["DKIM-Signature"].replace("\r\n", "").replace(" ", "")
    covered = signed.split("h=")[1].split(";")[0].split(":")
    assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} <= set(covered)


def test_the_body_has_the_links_and_the_identity_in_each_persons_language(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob", lang="en"))
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    anna, bob = srv.to("anna@example.nl"), srv.to("bob@example.com")
    assert anna["Subject"] == "Nieuwe koffie voor Anna" and anna["Content-Language"] == "nl"
    assert bob["Subject"] == "New coffee for Bob" and bob["Content-Language"] == "en"
    text = body_text(anna)
    assert (
        text.startswith("Hallo Anna,") and "Afmelden voor deze berichten kan met één klik: https://" in text
    )
    assert "Je voorkeuren aanpassen: https://koffie.example/p/" in text
    assert "Afzender: De Boon B.V., Markt 1, 3511 AA Utrecht, KvK 12345678" in text
    english = body_text(bob)
    assert "Unsubscribe from these messages with one click: https://" in english
    assert "Sender: De Boon B.V." in english
    html = anna.get_body(preferencelist=("html",))
    assert html is not None and '<a href="https://koffie.example/u/' in str(html.get_content())
    assert "Waarom krijg je dit bericht" not in text  # she signed up herself: no Art. 14 notice


def test_each_message_reads_back_as_its_persons_composition_through_the_email_package(
    shop: App, server: tuple[Server, int]
) -> None:
    """The bytes on the wire (headers, both parts in quoted-printable, the person's links) parse
    back, by Python's email package, into what the composer wrote for that person."""
    srv, _ = server
    people = [
        ("anna@example.nl", "Anna", "nl"),
        ("bob@example.com", "Bob", "en"),
        ("eva@example.nl", "Éva", "nl"),
    ]
    load(shop, *(person(a, n, lang=lang) for a, n, lang in people))
    words = "Hallo {{ name }},\n\n" + "Een regel met = en een punt aan het eind.\n.\n" * 3 + "x" * 200
    campaigns.define(
        shop,
        {**CAMPAIGN, "content": {**CAMPAIGN["content"], "nl": {**CAMPAIGN["content"]["nl"], "body": words}}},
    )
    sending.send(shop, "najaar", FAST)
    c = campaigns.get(shop, "najaar")
    with shop.store.reader() as r:
        purpose = r.purpose(c.purpose)
        boss = controller(r)
        loaded = {a: states.load(r, point(shop, a)) for a, _, _ in people}
    assert purpose is not None
    composer = Composer(shop, c, purpose)
    for address, _name, lang in people:
        state = loaded[address]
        decision = evaluate(shop.pack, state, Question(c.channel, purpose, shop.clock.now(), c.kind), boss)
        want = composer.compose(state, decision)
        msg = srv.to(address)
        assert (msg["To"], msg["Subject"], msg["Content-Language"]) == (address, want.subject, lang)
        assert msg["From"] == f"{c.sender.name} <nieuws@deboon.example>"
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert plain is not None and html is not None
        assert plain["Content-Transfer-Encoding"] == "quoted-printable"
        assert str(plain.get_content()).replace("\r\n", "\n") == want.text
        assert str(html.get_content()).replace("\r\n", "\n") == want.html
        unsubscribe = [part.strip().strip("<>") for part in str(msg["List-Unsubscribe"]).split(",")]
        assert unsubscribe[0] == want.unsubscribe_url and want.unsubscribe_url in want.text
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len({str(srv.to(a)["List-Unsubscribe"]) for a, _, _ in people}) == 3  # one link a person


def test_no_process_wide_cache_keeps_the_persons_of_a_send(shop: App, server: tuple[Server, int]) -> None:
    """A send writes personal words (names, the Art. 14 line's source, links with tokens) into
    its memos; they go with the send. A cache at module level lives as long as the process (the
    web app's: days), after an erasure too: none may grow with the persons mailed."""
    srv, _ = server
    many = 12
    load(
        shop,
        *(
            person(f"p{i}@example.nl", f"Persoon{i}", source="business_card", detail=f"LEID {9000 + i}")
            for i in range(many)
        ),
    )
    campaigns.define(shop, CAMPAIGN)
    before = cache_sizes()
    sending.send(shop, "najaar", FAST)
    assert len(srv.messages) == many and "LEID 9003" in body_text(srv.to("p3@example.nl"))
    assert caches_grown(before, many // 2) == {}


def test_a_first_contact_from_someone_elses_list_carries_the_art14_notice_and_records_it(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(shop, person("els@example.nl", "Els", source="business_card", detail="Horecava 2026"))
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    text = body_text(srv.to("els@example.nl"))
    assert (
        "een visitekaartje (Horecava 2026)" in text and "De Boon B.V. gebruikt ze voor: Nieuwsbrief" in text
    )
    with shop.store.reader() as r:
        notices = [e for e in r.events_for(point(shop, "els@example.nl")) if e.type == "notice.given"]
    assert [(n.payload["article"], n.payload["text_version"]) for n in notices] == [("14", "campaign:najaar")]
    assert rows(shop)[point(shop, "els@example.nl")]["art14"] is True

    second = {**CAMPAIGN, "key": "winter"}
    campaigns.define(shop, second)
    sending.send(shop, "winter", FAST)
    assert "Waarom krijg je dit bericht" not in body_text(srv.messages[-1])  # given once is enough


def test_an_unsubscribe_committed_between_batches_stops_the_later_message(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    people = [f"p{i}@example.nl" for i in range(4)]
    load(shop, *(person(a, a[:2]) for a in people))
    campaigns.define(shop, CAMPAIGN)
    seen: list[list[str]] = []

    def between(claimed: list[str]) -> None:
        seen.append(claimed)
        if len(seen) == 1:  # someone not in the first batch unsubscribes while it is sent
            later = next(a for a in people if point(shop, a) not in claimed)
            unsubscribe(shop, later)
            seen.append([later])

    sending.send(
        shop, "najaar", SendOptions(concurrency=1, batch=1, retry_after=timedelta(0)), after_claim=between
    )
    gone = seen[1][0]
    assert srv.by_rcpt[gone] == 0 and sum(srv.by_rcpt.values()) == 3
    assert rows(shop)[point(shop, gone)]["status"] == "skipped"
    assert rows(shop)[point(shop, gone)]["rule"] == "EU-GDPR-03"


def test_an_objection_made_on_another_point_of_the_person_between_batches_stops_the_later_message(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    people = [f"p{i}@example.nl" for i in range(4)]
    records = [person(a, a[:2]) for a in people]
    for i, rec in enumerate(records):  # each person also has a phone number, under one contact
        rec[0]["contact_id"] = f"klant-{i}"
        rec.append({"type": "contact_point.registered", "kind": "phone", "value": f"+3161234560{i}",
                    "source": "web_form", "contact_id": f"klant-{i}"})  # fmt: skip
    load(shop, *records)
    campaigns.define(shop, CAMPAIGN)
    seen: list[str] = []

    def between(claimed: list[str]) -> None:
        if not seen:  # someone not in the first batch objects by phone while it is sent
            i, later = next((i, a) for i, a in enumerate(people) if point(shop, a) not in claimed)
            ledger.append_records(
                shop,
                [
                    (
                        1,
                        {
                            "type": "objection.recorded",
                            "contact": f"+3161234560{i}",
                            "scope": "direct_marketing",
                        },
                    )
                ],
            )
            seen.append(later)

    sending.send(
        shop, "najaar", SendOptions(concurrency=1, batch=1, retry_after=timedelta(0)), after_claim=between
    )
    gone = seen[0]
    assert srv.by_rcpt[gone] == 0 and sum(srv.by_rcpt.values()) == 3
    assert rows(shop)[point(shop, gone)]["rule"] == "EU-GDPR-04"


def test_an_unsubscribe_committed_while_the_message_waits_for_its_dot_stops_it(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    campaigns.define(shop, CAMPAIGN)
    anna = point(shop, "anna@example.nl")

    def claimed_then_unsubscribed(claimed: list[str]) -> None:
        if anna in claimed:  # claimed and judged allowed, but not yet committed
            unsubscribe(shop, "anna@example.nl")

    sending.send(shop, "najaar", FAST, after_claim=claimed_then_unsubscribed)
    time.sleep(0.2)
    assert srv.by_rcpt == Counter({"bob@example.com": 1})
    assert rows(shop)[anna]["status"] == "skipped" and rows(shop)[anna]["rule"] == "EU-GDPR-03"


def test_a_temporary_refusal_is_retried_and_then_delivered(shop: App, server: tuple[Server, int]) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    srv.rcpt_replies["anna@example.nl"] = ["451 4.7.1 greylisted, try again"]
    srv.data_replies["bob@example.com"] = ["452 4.3.1 insufficient storage"]
    campaigns.define(shop, CAMPAIGN)
    report = sending.send(shop, "najaar", FAST)
    assert (report.sent, report.retried, report.status) == (2, 2, CampaignStatus.DONE)
    assert srv.by_rcpt == Counter({"anna@example.nl": 1, "bob@example.com": 1})
    assert {r["attempts"] for r in rows(shop).values()} == {1}


def test_a_claim_takes_no_more_than_asked_of_the_due_rows_the_earliest_due_first(shop: App) -> None:
    people = [f"klant{i}@example.nl" for i in range(5)]
    load(shop, *(person(a, a) for a in people))
    campaigns.define(shop, CAMPAIGN)
    sending.start(shop, "najaar")
    now = shop.clock.now()
    first, second, later = (point(shop, a) for a in people[:3])
    hours = [(point_no(shop, second), -1), (point_no(shop, first), -2), (point_no(shop, later), 1)]
    with shop.store.writer() as w:  # two put back as due before the rest, one not due yet
        w.retry("najaar", [(no, "451", now + timedelta(hours=h)) for no, h in hours])
    with shop.store.writer() as w:
        assert [pid for _, pid, _, _ in w.claim("najaar", "w1", 2, now)] == [first, second]
    with shop.store.writer() as w:
        rest = w.claim("najaar", "w1", 10, now)
    assert sorted(pid for _, pid, _, _ in rest) == sorted(point(shop, a) for a in people[3:])
    assert {(attempts, bool(art14)) for _, _, attempts, art14 in rest} == {(0, False)}
    statuses = {pid: row["status"] for pid, row in rows(shop).items()}
    assert statuses.pop(later) == MessageStatus.QUEUED.value
    assert set(statuses.values()) == {MessageStatus.CLAIMED.value}


def test_a_range_hands_out_rows_never_tried_and_a_row_once_tried_goes_one_by_one_with_its_attempts(
    shop: App,
) -> None:
    # A range claim reads each row's number and id and hands out no attempts and no notice beside
    # them (`campaign_queue._claim_range`): it holds because a row once tried, retried or handed
    # back is stored as `waiting` (claimed one by one, its own attempts read), never as `queued`.
    people = [f"klant{i}@example.nl" for i in range(6)]
    load(shop, *(person(a, a) for a in people))
    campaigns.define(shop, CAMPAIGN)
    sending.start(shop, "najaar")
    now = shop.clock.now()
    with shop.store.writer() as w:
        sent, retried, handed_back = (no for no, _, _, _ in w.claim("najaar", "w1", 3, now))
        w.mark_sent("najaar", [(sent, "m1", True)], now)
        w.retry("najaar", [(retried, "451 try later", now - timedelta(minutes=1))])
        assert w.requeue_claims("najaar", ["w1"]) == 1
    with shop.store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT status, attempts, art14 FROM campaign_messages")).all()
    assert Counter(status for status, _, _ in stored) == Counter({"queued": 3, "waiting": 2, "sent": 1})
    assert {(attempts, bool(art14)) for status, attempts, art14 in stored if status == "queued"} == {
        (0, False)
    }
    with shop.store.writer() as w:
        again = w.claim("najaar", "w2", 10, now)
    handed = {no: (attempts, bool(art14)) for no, _, attempts, art14 in again}
    assert len(again) == 5 and handed.pop(retried) == (1, False) and handed.pop(handed_back) == (0, False)
    assert set(handed.values()) == {(0, False)}


class PipeliningServer(Server):
    """The same server, offering PIPELINING (RFC 2920): MAIL, RCPT and DATA arrive in one write."""

    async def handle_EHLO(
        self, server: object, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # the new-style hook's duty
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def test_a_server_offering_pipelining_gets_each_message_once_and_its_refusals_are_recorded(
    store_url: str,
) -> None:
    srv = PipeliningServer()
    with serving_smtp(srv) as port:
        app = make_app(store_url, smtp_port=port, base_url="https://koffie.example")
        define_purposes(app)
        people = ["anna@example.nl", "bob@example.com", "cees@example.nl", "dirk@example.nl"]
        load(app, *(person(a, a.split("@")[0]) for a in people))
        srv.rcpt_replies["bob@example.com"] = ["451 4.7.1 greylisted, try again"]
        srv.rcpt_replies["cees@example.nl"] = ["550 5.1.1 no such user"]
        srv.data_replies["dirk@example.nl"] = ["452 4.3.1 insufficient storage"]
        campaigns.define(app, CAMPAIGN)
        report = sending.send(app, "najaar", FAST)
        found = rows(app)
        app.store.engine.dispose()
    assert (report.sent, report.retried, report.failed, report.status) == (3, 2, 1, CampaignStatus.DONE)
    assert srv.by_rcpt == Counter({"anna@example.nl": 1, "bob@example.com": 1, "dirk@example.nl": 1})
    assert sorted(r["status"] for r in found.values()) == ["failed", "sent", "sent", "sent"]
    assert body_text(srv.to("anna@example.nl")).startswith("Hallo anna,")


def test_a_permanent_refusal_is_recorded_as_failed_with_the_servers_words(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    srv.rcpt_replies["anna@example.nl"] = ["550 5.1.1 no such user"]
    srv.data_replies["bob@example.com"] = ["554 5.7.1 message refused"]
    campaigns.define(shop, CAMPAIGN)
    report = sending.send(shop, "najaar", FAST)
    assert (report.sent, report.failed, report.status) == (0, 2, CampaignStatus.DONE)
    found = rows(shop)
    assert found[point(shop, "anna@example.nl")]["error"] == "550 5.1.1 no such user"
    assert found[point(shop, "bob@example.com")]["error"] == "554 5.7.1 message refused"
    assert {r["status"] for r in found.values()} == {"failed"}


def test_the_campaign_pauses_itself_after_too_many_errors_until_resumed(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    people = [f"p{i}@example.nl" for i in range(6)]
    load(shop, *(person(a, a[:2]) for a in people))
    for a in people:
        srv.rcpt_replies[a] = ["550 5.1.1 no such user"] if a < "p3" else []
    campaigns.define(shop, CAMPAIGN)
    opts = SendOptions(concurrency=1, batch=1, max_errors=2, retry_after=timedelta(0))
    report = sending.send(shop, "najaar", opts)
    assert report.status is CampaignStatus.PAUSED and report.failed == 2
    assert report.note is not None and report.note.startswith("paused after 2 errors; the last: 550 5.1.1")
    # The rows the worker had claimed ahead of its batches went back with it: none stays claimed.
    paused = campaigns.progress(shop, "najaar").counts
    assert (paused["claimed"], paused["queued"], paused["failed"]) == (0, 4, 2)
    with pytest.raises(sending.CampaignNotSendable, match="resume"):
        sending.send(shop, "najaar", opts)
    sending.resume(shop, "najaar")
    final = sending.send(shop, "najaar", opts)
    assert final.status is CampaignStatus.DONE  # resuming reset the count: one more error is not two
    counts = campaigns.progress(shop, "najaar").counts
    assert (counts["sent"], counts["failed"]) == (3, 3)
    assert sum(srv.by_rcpt.values()) == 3


def test_the_note_of_a_paused_campaign_and_the_failed_rows_keep_the_servers_reason_without_the_address(
    shop: App, server: tuple[Server, int]
) -> None:
    # The note is the campaign's, not the person's: an erasure does not reach it, so the
    # address the server quoted must never be stored there (nor on the message's row).
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    srv.rcpt_replies["anna@example.nl"] = ["550 5.1.1 <anna@example.nl>: Recipient address rejected"]
    srv.data_replies["bob@example.com"] = ["554 5.7.1 message to bob@example.com refused"]
    campaigns.define(shop, CAMPAIGN)
    opts = SendOptions(concurrency=1, batch=1, max_errors=2, retry_after=timedelta(0))
    report = sending.send(shop, "najaar", opts)
    assert report.status is CampaignStatus.PAUSED
    assert report.note is not None and report.note.startswith("paused after 2 errors; the last: 55")
    assert "@" not in report.note and "<address>" in report.note
    with shop.store.reader() as r:
        (stored,) = r.conn.execute(sa.text("SELECT note FROM campaigns WHERE key = 'najaar'")).one()
    assert stored == report.note
    assert campaigns.progress(shop, "najaar").note == report.note
    found = rows(shop)
    assert found[point(shop, "anna@example.nl")]["error"] == "550 5.1.1 <address>: Recipient address rejected"
    assert found[point(shop, "bob@example.com")]["error"] == "554 5.7.1 message to <address> refused"
    for pid in (point(shop, "anna@example.nl"), point(shop, "bob@example.com")):
        erasure.erase_points(shop, [pid], reason="request")
    with shop.store.reader() as r:
        notes = r.conn.execute(sa.text("SELECT key, note FROM campaigns")).all()
    assert [tuple(n) for n in notes] == [("najaar", report.note)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "Najaar!"}, "key"),
        ({"channel": "phone"}, "channel"),
        ({"sender": {**SENDER, "kvk": "123"}}, "sender.kvk"),
        ({"sender": {**SENDER, "email": None}}, "sender.email"),
        ({"content": {"en": CAMPAIGN["content"]["en"]}}, "content.nl"),
        ({"content": {"nl": {"subject": "Hoi {{ name", "body": "x"}}}, "content.nl.subject"),
        ({"content": {"nl": {"subject": "Hoi", "body": "{{ wachtwoord }}"}}}, "content.nl.body"),
        ({"purpose": "onbekend"}, "purpose"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(shop: App, change: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        campaigns.define(shop, {**CAMPAIGN, **change})
    assert caught.value.field == field


def test_the_api_defines_lists_and_shows_campaigns_with_progress(
    shop: App, server: tuple[Server, int]
) -> None:
    from consentry.services import apikeys

    load(shop, person("anna@example.nl", "Anna"), person("cees@example.nl", "Cees", consent=False))
    _, admin = apikeys.create(shop, "admin", ["admin"])
    _, reader = apikeys.create(shop, "reader", ["read"])
    client = TestClient(create_app(shop))
    as_admin = {"Authorization": f"Bearer {admin}"}
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.post("/v1/campaigns", json=CAMPAIGN, headers=as_reader).status_code == 403
    created = client.post("/v1/campaigns", json=CAMPAIGN, headers=as_admin)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    assert client.post("/v1/campaigns", json=CAMPAIGN, headers=as_admin).status_code == 409
    bad = client.post("/v1/campaigns", json={**CAMPAIGN, "key": "x2", "purpose": "nope"}, headers=as_admin)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "purpose"]
    template = {**CAMPAIGN, "key": "x3", "content": {"nl": {"subject": "a", "body": "{{ iban }}"}}}
    wrong = client.post("/v1/campaigns", json=template, headers=as_admin)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "content", "nl", "body"]

    sending.send(shop, "najaar", FAST)
    listed = client.get("/v1/campaigns", headers=as_reader).json()
    assert [c["key"] for c in listed] == ["najaar"]
    shown = client.get("/v1/campaigns/najaar", headers=as_reader).json()
    assert shown["status"] == "done" and shown["counts"]["sent"] == 1 and shown["counts"]["skipped"] == 1
    assert shown["skipped_by_rule"] == {"NL-EM-01": 1}
    assert client.get("/v1/campaigns/nope", headers=as_reader).status_code == 404


def test_sqlite_admits_one_send_worker_at_a_time(sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    define_purposes(app)
    campaigns.define(app, CAMPAIGN)
    sending.start(app, "najaar")
    lock = send_workers.WorkerLock(app.store.engine, "someone-else")
    lock.acquire()
    try:
        with pytest.raises(sending.CampaignNotSendable, match="SQLite allows one"):
            sending.send(app, "najaar", FAST)
    finally:
        lock.release()


@pytest.mark.postgres
def test_two_postgresql_workers_share_a_campaign_without_overlap(
    pg_url: str, server: tuple[Server, int]
) -> None:
    from conftest import _reset_pg

    _reset_pg(pg_url)
    srv, port = server
    first = make_app(pg_url, smtp_port=port)
    define_purposes(first)
    people = [f"p{i:02d}@example.nl" for i in range(40)]
    load(first, *(person(a, a[:3]) for a in people))
    campaigns.define(first, CAMPAIGN)
    sending.start(first, "najaar")
    second = make_app(pg_url, smtp_port=port)
    opts = SendOptions(concurrency=2, batch=3, rate=100)
    reports: list[sending.SendReport] = []
    workers = [
        threading.Thread(target=lambda a=a: reports.append(sending.send(a, "najaar", opts)))
        for a in (first, second)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert sum(r.sent for r in reports) == 40 and all(r.sent > 0 for r in reports)
    assert srv.by_rcpt == Counter({a: 1 for a in people})
    assert {r["status"] for r in rows(first).values()} == {MessageStatus.SENT.value}
    second.store.engine.dispose()
    first.store.engine.dispose()


class Gateway(WebhookTransport):
    """The webhook transport with its HTTP call replaced: records what it was handed, by idempotency key."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9/unused", "gedeeld-geheim")
        self.sent: dict[str, tuple[str, str]] = {}

    def send(self, to: str, text: str, idempotency_key: str, metadata: Mapping[str, Any]) -> str | None:
        self.sent.setdefault(idempotency_key, (to, text))
        return None


def test_an_sms_campaign_goes_through_the_webhook_with_the_opt_out_and_a_stable_key(shop: App) -> None:
    records: list[dict[str, Any]] = []
    for number, consent in (("+31612345678", True), ("+31687654321", False)):
        records.append(
            {"type": "contact_point.registered", "kind": "phone", "value": number, "source": "web_form"}
        )
        if consent:
            records.append(
                {"type": "consent.given", "contact": number, "purpose": "nieuwsbrief", "channels": ["sms"]}
                | {"method": "single_opt_in"}
            )
    ledger.append_records(shop, enumerate(records, 1))
    sms = {
        **CAMPAIGN,
        "key": "sms-najaar",
        "channel": "sms",
        "sender": {k: v for k, v in SENDER.items() if k != "email"},
        "content": {"nl": {"body": "De najaarskoffie is er!"}},
    }
    campaigns.define(shop, sms)
    gateway = Gateway()
    report = sending.send(shop, "sms-najaar", FAST, transport=gateway)
    assert report.sent == 1 and campaigns.progress(shop, "sms-najaar").counts["skipped"] == 1
    ((key, (to, text)),) = gateway.sent.items()
    assert to == "+31612345678" and key.startswith("sms-najaar.cp_")
    assert text.startswith(
        "De najaarskoffie is er!\nKoffiebranderij De Boon\nAfmelden: https://koffie.example/u/"
    )


def test_people_who_unsubscribe_after_their_message_are_counted_as_unsubscribed_since(
    shop: App, server: tuple[Server, int]
) -> None:
    load(
        shop,
        person("anna@example.nl", "Anna"),
        person("bob@example.com", "Bob"),
        person("dirk@example.nl", "Dirk"),
    )
    unsubscribe(shop, "dirk@example.nl")  # before the campaign: skipped, not counted
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    assert campaigns.progress(shop, "najaar").unsubscribed_since == 0
    assert isinstance(shop.clock, FixedClock)
    shop.clock.moment += timedelta(hours=2)
    unsubscribe(shop, "anna@example.nl")
    done = campaigns.progress(shop, "najaar")
    assert (done.counts["sent"], done.unsubscribed_since) == (2, 1)


def test_an_erasure_clears_the_servers_words_from_the_points_queue_rows(
    shop: App, server: tuple[Server, int]
) -> None:
    # The server's reply can quote the address: an erased point's queue rows keep no error text.
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    srv.rcpt_replies["anna@example.nl"] = ["550 5.1.1 <anna@example.nl> no such user"]
    srv.rcpt_replies["bob@example.com"] = ["550 5.1.1 <bob@example.com> no such user"]
    campaigns.define(shop, CAMPAIGN)
    sending.send(shop, "najaar", FAST)
    anna = point(shop, "anna@example.nl")
    erasure.erase_points(shop, [anna], reason="request")
    found = rows(shop)
    assert found[anna]["status"] == "failed" and found[anna]["error"] is None
    # and the others' rows keep the server's reason, never an address
    assert found[point(shop, "bob@example.com")]["error"] == "550 5.1.1 <address> no such user"


def test_a_point_erased_while_queued_is_handed_out_without_its_id_and_skipped_as_gone(
    shop: App, server: tuple[Server, int]
) -> None:
    # The queue carries each queued point's id for its claim; an erasure clears it, as it drops
    # the point's projection row, so the sender finds no point to write to.
    srv, _ = server
    load(shop, person("anna@example.nl", "Anna"), person("bob@example.com", "Bob"))
    campaigns.define(shop, CAMPAIGN)
    sending.start(shop, "najaar")
    anna, bob = point(shop, "anna@example.nl"), point(shop, "bob@example.com")
    stored = "SELECT point_no, contact_point_id FROM campaign_messages ORDER BY point_no"
    with shop.store.reader() as r:
        assert dict(r.conn.execute(sa.text(stored)).all()) == {point_no(shop, p): p for p in (anna, bob)}
    anna_no = point_no(shop, anna)
    erasure.erase_points(shop, [anna], reason="request")
    with shop.store.reader() as r:
        assert dict(r.conn.execute(sa.text(stored)).all())[anna_no] is None
    report = sending.send(shop, "najaar", FAST)
    assert (report.sent, report.skipped) == (1, 1)
    assert srv.by_rcpt == Counter({"bob@example.com": 1})
    with shop.store.reader() as r:
        assert r.skipped_by_rule("najaar") == {sending.GONE: 1}


def test_claims_are_ranges_of_the_queue_and_a_dead_workers_range_goes_back(shop: App) -> None:
    people = [f"klant{i}@example.nl" for i in range(7)]
    load(shop, *(person(a, a) for a in people), person("nee@example.nl", "Nee", consent=False))
    campaigns.define(shop, CAMPAIGN)
    sending.start(shop, "najaar")
    now = shop.clock.now()
    with shop.store.writer() as w:
        one = w.claim("najaar", "w1", 3, now)
        two = w.claim("najaar", "w2", 3, now)
    nos = [no for no, _, _, _ in one + two]
    assert nos == sorted(nos) and len(set(nos)) == 6  # in key order, none twice
    assert {pid for _, pid, _, _ in one + two} <= {point(shop, a) for a in people}
    with shop.store.reader() as r:
        assert r.message_counts("najaar") == {"queued": 1, "claimed": 6, "sent": 0, "skipped": 1, "failed": 0}
    with shop.store.writer() as w:
        w.mark_sent("najaar", [(no, f"m{no}", False) for no, _, _, _ in one[:1]], now)
        assert w.claimants("najaar") == ["w1", "w2"]
        assert w.requeue_claims("najaar", ["w1"]) == 2  # the two w1 did not send
        assert w.claimants("najaar") == ["w2"]
        three = w.claim("najaar", "w3", 10, now)
        # w1's rows again (queued again, one by one), then the rest of the queue as a range
        assert [c[0] for c in three[:2]] == [c[0] for c in one[1:]]
        assert len(three) == 3 and three[2][0] > two[-1][0]
        assert w.claim("najaar", "w3", 10, now) == []
        assert sorted(w.claimants("najaar")) == ["w2", "w3"]
        w.release("najaar", [c[0] for c in two], "w2")
        assert w.claimants("najaar") == ["w3"]
    with shop.store.reader() as r:
        assert r.message_counts("najaar") == {"queued": 3, "claimed": 3, "sent": 1, "skipped": 1, "failed": 0}
