"""Real services on the in-memory store (tests/unit/fakes.py): no database, no SQLAlchemy engine.

What the ports promise is checked on both real databases by tests/integration/test_store_contract.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy.engine.base
from fakes import FakeMailer, FakeStore, FakeTransaction, _Data

from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.tokens import TokenSigner
from consentry.domain.clock import FixedClock
from consentry.domain.ids import counting_ids
from consentry.domain.vocabulary import PointKind
from consentry.policy.nl import PACK
from consentry.services import access, apikeys, consent_proof, forms, ledger, ports, public, purposes
from consentry.services.app import SECRET_SETTING, App
from consentry.services.decide import Asked, decide, decide_many
from consentry.services.errors import FileRejected, InputError, TokenInvalid
from consentry.services.public import Evidence
from consentry.settings import Settings

NOW = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
BROWSER = Evidence(ip="203.0.113.9", user_agent="Mozilla/5.0 test")
FORM = {
    "key": "nieuwsbrief-footer",
    "title_nl": "Blijf op de hoogte",
    "title_en": "Stay informed",
    "items": [
        {"purpose": "nieuwsbrief", "text_nl": "Ja, stuur mij de nieuwsbrief.", "text_en": "Yes, please."}
    ],
}


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SQLAlchemy engine made during a test here fails it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a service made a SQLAlchemy engine")

    monkeypatch.setattr(sqlalchemy.engine.base.Engine, "__init__", refuse)


def make_app(secret_key: str | None = "test-secret-key-0123456789") -> App:
    clock = FixedClock(NOW)
    return App(
        settings=Settings(database_url="sqlite:///nowhere.db", secret_key=secret_key),
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


REGISTER = line(type="contact_point.registered", kind="email", value="Jan@Example.NL", source="web_form")
CONSENT = line(
    type="consent.given",
    contact="jan@example.nl",
    purpose="nieuwsbrief",
    channels=["email"],
    method="single_opt_in",
    occurred_at="2025-08-01T10:00:00+02:00",
)


def test_the_fake_store_makes_no_engine_when_asked_to() -> None:
    with pytest.raises(AssertionError, match="SQLAlchemy engine"):
        sqlalchemy.create_engine("sqlite://")


def test_purposes_are_defined_and_listed_and_a_second_definition_is_refused(app: App) -> None:
    purposes.define(app, "aanbiedingen", "Aanbiedingen", "Offers")
    assert [p.key for p in purposes.list_all(app)] == ["aanbiedingen", "nieuwsbrief"]
    with pytest.raises(InputError, match="exists"):
        purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter")


def test_recorded_events_are_chained_and_decide_who_may_be_reached(app: App) -> None:
    report = ledger.append_lines(app, [REGISTER, CONSENT])
    assert (report.appended, report.registered, report.first_seq, report.last_seq) == (2, 1, 1, 2)
    decision = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert (decision.verdict.value, decision.rule) == ("allow", "EU-GDPR-02")
    assert decision.reasons and decision.reasons[0].rule == "EU-GDPR-02"
    before = decide(app, "jan@example.nl", "email", "nieuwsbrief", at=datetime(2025, 7, 1, tzinfo=UTC))
    assert before.verdict.value == "deny"


def test_a_batch_of_questions_is_answered_in_order_with_errors_in_place(app: App) -> None:
    ledger.append_lines(app, [REGISTER, CONSENT])
    answers = decide_many(
        app, [Asked("jan@example.nl", "email", "nieuwsbrief"), Asked("x@example.nl", "email", "?")]
    )
    assert not isinstance(answers[0], InputError) and answers[0].verdict.value == "allow"
    assert isinstance(answers[1], InputError)


def test_a_rejected_file_leaves_the_ledger_as_it_was(app: App) -> None:
    ledger.append_lines(app, [REGISTER])
    with pytest.raises(FileRejected) as rejected:
        ledger.append_lines(app, [CONSENT, line(type="consent.given", contact="nobody@example.nl")])
    assert [p.line for p in rejected.value.problems] == [2]
    with app.store.reader() as r:
        assert r.counts()["events"] == 1


def test_sign_up_confirm_and_unsubscribe_through_the_public_flow(app: App) -> None:
    forms.save(app, FORM)
    out = public.sign_up(app, "nieuwsbrief-footer", "Jan@Example.NL", ["nieuwsbrief"], "nl", BROWSER)
    assert out.asked_confirmation
    mailer = app.mailer
    assert isinstance(mailer, FakeMailer) and [m.to for m in mailer.sent] == ["jan@example.nl"]
    token = re.search(r"/c/(\S+)", mailer.sent[0].text)
    assert token is not None
    public.confirm(app, token.group(1), BROWSER)
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"

    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "jan@example.nl")
    assert pid is not None
    unsubscribe = public.links(app, pid, "nieuwsbrief")["unsubscribe"].rsplit("/", 1)[1]
    outcome = public.unsubscribe(app, unsubscribe, everything=False, via="link", evidence=BROWSER)
    assert outcome.purpose is not None and outcome.purpose.key == "nieuwsbrief"
    after = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert after.verdict.value == "deny"


def test_a_forged_link_is_the_services_own_error(app: App) -> None:
    ledger.append_lines(app, [REGISTER])
    with pytest.raises(TokenInvalid):
        public.unsubscribe(app, "forged.token", everything=True, via="link", evidence=BROWSER)


def test_without_a_configured_key_the_development_key_is_kept_in_the_store() -> None:
    app = make_app(secret_key=None)
    app.signer()
    with app.store.reader() as r:
        kept = r.setting(SECRET_SETTING)
    assert isinstance(kept, str) and len(kept) >= 32


def test_an_objection_made_through_another_point_of_the_person_covers_this_one(app: App) -> None:
    person = {"source": "web_form", "contact_id": "klant-7"}
    ledger.append_lines(
        app,
        [
            line(type="contact_point.registered", kind="email", value="jan@example.nl", **person),
            line(type="contact_point.registered", kind="phone", value="0612345678", **person),
            CONSENT,
            line(type="objection.recorded", contact="+31612345678", scope="direct_marketing"),
        ],
    )
    decision = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert (decision.verdict.value, decision.rule) == ("deny", "EU-GDPR-04")


def test_an_api_key_is_made_checked_and_revoked(app: App) -> None:
    key, token = apikeys.create(app, "website", ["read"])
    assert apikeys.authenticate(app, token, apikeys.Scope.READ).id == key.id
    with pytest.raises(apikeys.NotAuthorised):
        apikeys.authenticate(app, token, apikeys.Scope.WRITE)
    apikeys.revoke(app, key.id)
    with pytest.raises(apikeys.NotAuthorised, match="revoked"):
        apikeys.authenticate(app, token, apikeys.Scope.READ)


@pytest.mark.parametrize(
    "port",
    [
        ports.LedgerWriter,
        ports.CatalogWriter,
        ports.Registers,
        ports.LedgerView,
        ports.LedgerAudit,
        ports.RequestWriter,
    ],
)
def test_the_fake_store_has_every_member_of_the_ports_it_stands_in_for(port: type) -> None:
    members = {
        name for cls in port.__mro__ if cls is not object for name in vars(cls) if not name.startswith("_")
    }
    assert sorted(m for m in members if not hasattr(FakeTransaction(_Data(), NOW), m)) == []


def test_the_access_export_and_the_proof_gather_the_person_without_a_database(app: App) -> None:
    register = '{"type":"contact_point.registered","kind":"%s","value":"%s","source":"web_form"%s}'
    ledger.append_lines(
        app,
        [
            register % ("email", "jan@example.nl", ',"contact_id":"K1"'),
            register % ("phone", "0612345678", ',"contact_id":"K1"'),
            register % ("email", "piet@example.nl", ""),
            CONSENT,
            CONSENT.replace("jan@", "piet@"),
        ],
    )
    doc = access.person(app, "0612345678")
    assert [p["value"] for p in doc["contact_points"]] == ["+31612345678", "jan@example.nl"]
    assert len(doc["timeline"]) == 3 and "piet" not in json.dumps(doc)
    proof = consent_proof.proof(app, "jan@example.nl")
    (consent,) = proof["consents"]
    assert consent["chain"]["seq"] == 4 and consent["status"] == "active"
