"""Unsubscribes by mail: the mailto: link of List-Unsubscribe, fed back in as the raw message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind, Verdict
from consentry.entrypoints.cli import app as cli_app
from consentry.services import ledger, public, replies
from consentry.services.decide import decide
from consentry.services.errors import InputError

ADDRESS = "lotte@voorbeeld.nl"


def _mail(subject: str, sender: str = "Lotte <lotte@voorbeeld.nl>") -> bytes:
    return (
        f"From: {sender}\r\nTo: nieuws@deboon.example\r\nSubject: {subject}\r\n"
        "Message-ID: <abc123@voorbeeld.nl>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0100\r\n\r\n\r\n"
    ).encode()


@pytest.fixture
def token(app: App) -> str:
    records = [
        {"type": "contact_point.registered", "kind": "email", "value": ADDRESS, "source": "web_form"},
        {"type": "consent.given", "contact": ADDRESS, "purpose": "nieuwsbrief", "channels": ["email"],
         "method": "single_opt_in"},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, ADDRESS)
    assert pid is not None
    return public.links(app, pid, "nieuwsbrief")["unsubscribe"].rsplit("/", 1)[1]


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
