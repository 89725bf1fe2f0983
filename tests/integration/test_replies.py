"""Unsubscribes by mail: the mailto: link of List-Unsubscribe, fed back in as the raw message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from test_erasure import database_bytes
from typer.testing import CliRunner

from consentry.adapters.sql import sealing
from consentry.adapters.sql import tables as t
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind, Verdict
from consentry.entrypoints.cli import app as cli_app
from consentry.services import access, erasure, integrity, ledger, public, replies
from consentry.services.decide import decide
from consentry.services.errors import InputError

ADDRESS = "lotte@voorbeeld.nl"
#: Jan's reply: his own mail client made its Message-ID, under his own domain.
JAN = "jan@devries.nl"
JAN_MESSAGE_ID = "<x1234@devries.nl>"


def _mail(subject: str, sender: str = "Lotte <lotte@voorbeeld.nl>") -> bytes:
    return (
        f"From: {sender}\r\nTo: nieuws@deboon.example\r\nSubject: {subject}\r\n"
        "Message-ID: <abc123@voorbeeld.nl>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0100\r\n\r\n\r\n"
    ).encode()


def _token_for(app: App, address: str) -> str:
    records = [
        {"type": "contact_point.registered", "kind": "email", "value": address, "source": "web_form"},
        {"type": "consent.given", "contact": address, "purpose": "nieuwsbrief", "channels": ["email"],
         "method": "single_opt_in"},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, address)
    assert pid is not None
    return public.links(app, pid, "nieuwsbrief")["unsubscribe"].rsplit("/", 1)[1]


@pytest.fixture
def token(app: App) -> str:
    return _token_for(app, ADDRESS)


def test_a_mailto_unsubscribe_is_recorded_with_the_mail_as_evidence(app: App, token: str) -> None:
    assert decide(app, ADDRESS, "email", "nieuwsbrief").verdict is Verdict.ALLOW
    done = replies.unsubscribe_by_mail(app, _mail(f"Re: unsubscribe {token}"))
    assert done.purpose == "nieuwsbrief" and "lotte@voorbeeld.nl" in done.sender
    assert decide(app, ADDRESS, "email", "nieuwsbrief").verdict is Verdict.DENY
    with app.store.reader() as r:
        events = r.events_for(done.contact_point)
    last = events[-1]
    assert last.type == "unsubscribed" and last.payload["via"] == "reply"
    assert last.payload["mail_message_id"] == "<abc123@voorbeeld.nl>"


def test_a_mail_without_a_valid_token_changes_nothing(app: App, token: str) -> None:
    with pytest.raises(InputError, match="no 'unsubscribe TOKEN'"):
        replies.unsubscribe_by_mail(app, _mail("Graag afmelden"))
    with pytest.raises(InputError, match="not valid"):
        replies.unsubscribe_by_mail(app, _mail(f"unsubscribe {token[:-4]}xxxx"))
    assert decide(app, ADDRESS, "email", "nieuwsbrief").verdict is Verdict.ALLOW


def test_the_cli_reads_the_mail_from_stdin(
    app: App, token: str, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTRY_DATABASE_URL", store_url)
    monkeypatch.setenv("CONSENTRY_SECRET_KEY", "test-secret-key-0123456789")
    done = CliRunner().invoke(
        cli_app, ["feedback", "unsubscribe-mail", "-"], input=_mail(f"unsubscribe {token}").decode()
    )
    assert done.exit_code == 0, done.output
    assert "from nieuwsbrief" in done.output
    # The command runs on the real clock, the test app on a fixed one: ask as of now.
    assert decide(app, ADDRESS, "email", "nieuwsbrief", at=datetime.now(UTC)).verdict is Verdict.DENY


def _jans_reply(token: str) -> bytes:
    return (
        f"From: Jan <{JAN}>\r\nTo: nieuws@deboon.example\r\nSubject: unsubscribe {token}\r\n"
        f"Message-ID: {JAN_MESSAGE_ID}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0100\r\n\r\n\r\n"
    ).encode()


def _stored_unsubscribe(app: App, point: str) -> tuple[dict[str, Any], bytes | None]:
    """The reply's event as stored: its clear payload and its sealed bytes."""
    with app.store.engine.connect() as conn:
        payload, sealed = conn.execute(
            sa.select(t.events.c.payload, t.events.c.sealed).where(
                t.events.c.contact_point_id == point, t.events.c.type == "unsubscribed"
            )
        ).one()
    return dict(payload), None if sealed is None else bytes(sealed)


def _exported_unsubscribe(app: App, point: str) -> dict[str, Any]:
    (found,) = [e for e in access.person(app, point)["timeline"] if e["type"] == "unsubscribed"]
    return dict(found["payload"])


def test_the_replys_message_id_is_sealed_shown_opened_and_gone_with_the_erasure(app: App) -> None:
    """The Message-ID names the person's own mail domain: sealed like the sender, readable in the
    access export while the person is kept, and nowhere in the database once they are erased."""
    done = replies.unsubscribe_by_mail(app, _jans_reply(_token_for(app, JAN)))
    clear, sealed = _stored_unsubscribe(app, done.contact_point)
    assert "mail_message_id" not in clear and "mail_from" not in clear and sealed is not None
    assert clear["via"] == "reply"
    data = database_bytes(app)
    assert b"devries.nl" not in data and b"x1234" not in data  # sealed from the start
    shown = _exported_unsubscribe(app, done.contact_point)
    assert shown["mail_message_id"] == JAN_MESSAGE_ID and shown["mail_from"] == f"Jan <{JAN}>"
    assert integrity.verify_ledger(app).ok
    report = erasure.erase(app, JAN)
    assert report.changed and report.keys_destroyed == 1
    data = database_bytes(app)
    assert b"devries.nl" not in data and b"x1234" not in data
    assert integrity.verify_ledger(app).ok
    with app.store.reader() as r:
        (unsubscribed,) = [e for e in r.events_for(done.contact_point) if e.type == "unsubscribed"]
    # The sealed fields cannot be opened any more: only the clear ones are read.
    assert unsubscribed.payload == {"purpose": "nieuwsbrief", "via": "reply"}


def test_a_reply_stored_before_its_message_id_was_sealed_reads_and_verifies_as_before(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows an earlier version wrote keep the Message-ID in their clear payload (the chain hashes
    them as stored, so they are never rewritten): they read with it and verify, beside new rows
    that seal it."""
    new = replies.unsubscribe_by_mail(app, _mail(f"unsubscribe {_token_for(app, ADDRESS)}"))
    with monkeypatch.context() as m:  # Jan's reply written by the earlier version: without it
        m.setattr(sealing, "PERSONAL", sealing.PERSONAL - {"mail_message_id"})
        earlier = replies.unsubscribe_by_mail(app, _jans_reply(_token_for(app, JAN)))
    clear, sealed = _stored_unsubscribe(app, earlier.contact_point)
    assert clear["mail_message_id"] == JAN_MESSAGE_ID and sealed is not None  # mail_from sealed
    assert "mail_message_id" not in _stored_unsubscribe(app, new.contact_point)[0]
    assert integrity.verify_ledger(app).ok
    shown = _exported_unsubscribe(app, earlier.contact_point)
    assert shown["mail_message_id"] == JAN_MESSAGE_ID and shown["mail_from"] == f"Jan <{JAN}>"
    assert _exported_unsubscribe(app, new.contact_point)["mail_message_id"] == "<abc123@voorbeeld.nl>"
    assert decide(app, JAN, "email", "nieuwsbrief").verdict is Verdict.DENY
    # Erased, the old row still reads and verifies: its sealed sender is gone, its clear
    # Message-ID stays (crypto-shredding reaches only what was sealed).
    assert erasure.erase(app, JAN).changed
    assert integrity.verify_ledger(app).ok
    with app.store.reader() as r:
        (unsubscribed,) = [e for e in r.events_for(earlier.contact_point) if e.type == "unsubscribed"]
    assert unsubscribed.payload == {
        "purpose": "nieuwsbrief",
        "via": "reply",
        "mail_message_id": JAN_MESSAGE_ID,
    }
