"""Erasure and the suppression record that survives it, on the in-memory store (no database).

The SQL stores are held to the same by tests/integration/test_erasure.py; the rules by
the audience equivalence property test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeMailer, FakeStore

from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.tokens import TokenSigner
from consentry.domain.clock import FixedClock
from consentry.domain.erasure import check_reason, fresh_opt_in, suppression_of
from consentry.domain.fold import fold
from consentry.domain.ids import counting_ids
from consentry.policy.nl import PACK
from consentry.services import erasure, forms, ledger, public, purposes
from consentry.services.app import App
from consentry.services.decide import decide
from consentry.services.errors import FileRejected, InputError
from consentry.services.public import Evidence
from consentry.settings import Settings

NOW = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)


class Clock(FixedClock):
    """A clock the test moves on."""

    def tick(self, days: int) -> None:
        self.moment = self.moment + timedelta(days=days)


def make_app() -> App:
    clock = Clock(NOW)
    return App(
        settings=Settings(database_url="sqlite:///nowhere.db", secret_key="test-secret-key-0123456789"),
        store=FakeStore(clock.now),
        clock=clock,
        ids=counting_ids(),
        pack=PACK,
        mailer=FakeMailer(),
        limiter=RateLimiter("memory://"),
        signer_with=TokenSigner,
    )


@pytest.fixture
def app() -> Iterator[App]:
    application = make_app()
    purposes.define(application, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    yield application


def line(**fields: object) -> str:
    return json.dumps(fields)


def register(app: App, value: str = "jan@example.nl", **more: object) -> None:
    ledger.append_lines(
        app,
        [
            line(type="contact_point.registered", kind="email", value=value, source="import", **more),
            line(
                type="consent.given",
                contact=value,
                purpose="nieuwsbrief",
                channels=["email"],
                method="import",
                occurred_at=app.clock.now().isoformat(),
            ),
        ],
    )


def tick(app: App, days: int) -> None:
    clock = app.clock
    assert isinstance(clock, Clock)
    clock.tick(days)


def test_an_erased_address_registered_again_stays_suppressed_and_the_decision_names_the_date(
    app: App,
) -> None:
    register(app)
    ledger.append_lines(app, [line(type="unsubscribed", contact="jan@example.nl")])
    report = erasure.erase(app, "jan@example.nl")
    assert report.changed and [p.what for p in report.erased] == ["unsubscribed"]
    tick(app, 30)
    register(app)  # a later import of the same address: a new point, with consent from the list
    d = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == ("deny", "EU-GDPR-09.prior")
    assert "1 september 2025" in d.reasons[0].nl and "1 September 2025" in d.reasons[0].en
    assert "na een afmelding" in d.reasons[0].nl


def test_only_a_fresh_double_opt_in_lifts_it_and_the_decision_says_so(app: App) -> None:
    register(app)
    erasure.erase(app, "jan@example.nl")
    tick(app, 1)
    register(app)
    at = app.clock.now().isoformat()
    single = dict(purpose="nieuwsbrief", channels=["email"], occurred_at=at)
    ledger.append_lines(
        app, [line(type="consent.given", contact="jan@example.nl", method="single_opt_in", **single)]
    )
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-09.prior"
    ledger.append_lines(
        app,
        [
            line(type="consent.given", contact="jan@example.nl", method="double_opt_in", id="doi", **single),
            line(
                type="consent.confirmed", contact="jan@example.nl", purpose="nieuwsbrief", consent_event="doi"
            ),
        ],
    )
    d = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert d.verdict.value == "allow"
    lifted = [r for r in d.reasons if r.rule == "EU-GDPR-09.lifted"]
    assert lifted and "2 september 2025" in lifted[0].nl and "confirmed on 2 September 2025" in lifted[0].en


def test_a_backdated_double_opt_in_from_before_the_erasure_does_not_lift_it(app: App) -> None:
    register(app)
    erasure.erase(app, "jan@example.nl")
    tick(app, 1)
    register(app)
    old = (NOW - timedelta(days=10)).isoformat()
    ledger.append_lines(
        app,
        [
            line(
                type="consent.given",
                contact="jan@example.nl",
                purpose="nieuwsbrief",
                channels=["email"],
                method="double_opt_in",
                id="old",
                occurred_at=old,
            ),
            line(
                type="consent.confirmed",
                contact="jan@example.nl",
                purpose="nieuwsbrief",
                consent_event="old",
                occurred_at=old,
            ),
        ],
    )
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-09.prior"


def test_erasing_twice_changes_nothing_and_says_so(app: App) -> None:
    register(app)
    first = erasure.erase(app, "jan@example.nl")
    point = first.erased[0].id
    by_id = erasure.erase(app, point)
    assert not by_id.changed and [p.id for p in by_id.already] == [point]
    assert "al gewist op 1 september 2025" in by_id.lines("nl")[0]
    by_address = erasure.erase(app, "jan@example.nl")
    assert not by_address.changed and by_address.suppressed_since == NOW
    assert "already erased" in " ".join(erasure.erase(app, point).lines("en"))
    assert "only its suppression record remains" in by_address.lines("en")[0]
    erased_events = [e for e in ledger_events(app) if e.type == "contact_point.erased"]
    assert len(erased_events) == 1 and dict(erased_events[0].payload) == {"reason": "request"}


def ledger_events(app: App) -> list:  # type: ignore[type-arg]
    with app.store.reader() as r:
        return [row.event for row in r.chain()]


def test_a_contact_is_erased_whole_and_a_single_point_keeps_its_siblings(app: App) -> None:
    register(app, "jan@example.nl", contact_id="klant-7")
    register(app, "jan@werk.nl", contact_id="klant-7")
    register(app, "eva@example.nl", contact_id="klant-8")
    one = erasure.erase(app, "jan@werk.nl")
    assert len(one.erased) == 1 and one.keys_kept_for == ("klant-7",)
    assert "wis ze allemaal met contact:klant-7" in " ".join(one.lines("nl"))
    whole = erasure.erase(app, "contact:klant-7", reason="retention:inactief-3-jaar")
    assert len(whole.erased) == 1 and whole.reason == "retention:inactief-3-jaar"
    assert decide(app, "eva@example.nl", "email", "nieuwsbrief").verdict.value == "allow"
    with pytest.raises(InputError, match="no contact point belongs to contact"):
        erasure.erase(app, "contact:klant-7")


def test_the_whole_contact_option_widens_a_point_to_its_person(app: App) -> None:
    register(app, "jan@example.nl", contact_id="klant-7")
    register(app, "jan@werk.nl", contact_id="klant-7")
    report = erasure.handle_request(app, erasure.ErasureRequest("jan@example.nl"))
    assert len(report.erased) == 2


@pytest.mark.parametrize("reason", ["", "Jan asked by phone", "retention:", "x" * 70, "REQUEST"])
def test_a_reason_is_a_code_never_free_text(app: App, reason: str) -> None:
    register(app)
    with pytest.raises(InputError, match="reason"):
        erasure.erase(app, "jan@example.nl", reason=reason)
    assert check_reason("retention:leads-2y") == "retention:leads-2y"


def test_unknown_references_are_refused_clearly(app: App) -> None:
    with pytest.raises(InputError, match="no contact point with id 'cp_nope'"):
        erasure.erase(app, "cp_nope")
    with pytest.raises(InputError, match="no contact point with that address"):
        erasure.erase(app, "nobody@example.nl")
    with pytest.raises(InputError, match="required"):
        erasure.erase(app, "  ")


def test_what_a_suppression_record_says_follows_the_strongest_signal(app: App) -> None:
    register(app)
    pid = erasure_point(app)
    with app.store.reader() as r:
        state = fold(pid, r.events_for(pid))
    assert suppression_of(state) == ("erased", None)
    ledger.append_lines(app, [line(type="bounce.recorded", contact="jan@example.nl", bounce_kind="hard")])
    with app.store.reader() as r:
        state = fold(pid, r.events_for(pid))
    assert suppression_of(state) == ("hard_bounce", frozenset({"email"}))
    assert fresh_opt_in(state, "nieuwsbrief", "email") is None  # no prior suppression at all


def erasure_point(app: App) -> str:
    with app.store.reader() as r:
        found = r.point_id(
            *__import__("consentry.services.contacts", fromlist=["x"]).point_key("jan@example.nl")
        )
    assert found is not None
    return found


def test_nothing_more_is_recorded_for_an_erased_point(app: App) -> None:
    register(app)
    point = erasure.erase(app, "jan@example.nl").erased[0].id
    with pytest.raises(FileRejected) as refused:
        ledger.append_lines(app, [line(type="bounce.recorded", contact=point, bounce_kind="hard")])
    assert "was erased: nothing more is recorded" in str(refused.value.problems[0])


def test_a_sign_up_of_an_erased_address_stays_suppressed_until_its_confirmation(app: App) -> None:
    """The public form: unconfirmed, the sign-up is suppressed; the person's confirmation lifts it."""
    register(app)
    erasure.erase(app, "jan@example.nl")
    tick(app, 1)
    forms.save(app, FORM)
    browser = Evidence(ip="203.0.113.9", user_agent="Mozilla/5.0 test")
    assert public.sign_up(
        app, "nieuwsbrief-footer", "jan@example.nl", ["nieuwsbrief"], "nl", browser
    ).asked_confirmation
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-09.prior"
    mailer = app.mailer
    assert isinstance(mailer, FakeMailer)
    token = re.search(r"/c/(\S+)", mailer.sent[-1].text)
    assert token is not None
    tick(app, 1)
    public.confirm(app, token.group(1), browser)
    d = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert d.verdict.value == "allow" and "EU-GDPR-09.lifted" in [r.rule for r in d.reasons]


FORM = {
    "key": "nieuwsbrief-footer",
    "title_nl": "Blijf op de hoogte",
    "title_en": "Stay informed",
    "items": [{"purpose": "nieuwsbrief", "text_nl": "Ja, de nieuwsbrief.", "text_en": "Yes, please."}],
}
