"""A batch written out at once reads exactly as its decisions written out one by one."""

from __future__ import annotations

import json
from datetime import timedelta

from factories import SHOES, amsterdam, consent_given, history, objected, purchase, registered, utc

from consentry.domain.vocabulary import Channel
from consentry.entrypoints.render import decision_compact, decision_json, decisions_json
from consentry.policy.facts import Controller, Question
from consentry.policy.nl import PACK
from consentry.policy.rules import Decision, evaluate

SINCE = utc(2015, 1, 5)


def decisions() -> list[Decision]:
    """Allowed, denied and reviewed decisions at two moments."""
    states = [
        history(registered(SINCE), consent_given(SINCE)),
        history(registered(SINCE), objected(SINCE)),
        history(registered(SINCE, kind="phone", source="purchase"), purchase(SINCE)),
        history(registered(SINCE, party="legal_person", country="US")),
    ]
    out = []
    for at in (amsterdam(2024, 3, 12, 10), amsterdam(2024, 3, 12, 10) + timedelta(days=900)):
        for state in states:
            for channel in (Channel.EMAIL, Channel.PHONE):
                q = Question(channel, SHOES, at)
                out.append(evaluate(PACK, state, q, Controller()))
    return out


def test_a_batch_document_has_each_decision_as_the_single_document_has_it() -> None:
    found = decisions()
    assert {d.verdict for d in found} == {"allow", "deny", "review"}
    for lang in ("nl", "en"):
        doc = json.loads(decisions_json(found, lang))
        assert doc == {"decisions": [decision_json(d, lang) for d in found]}


def test_a_compact_batch_document_has_each_decision_as_the_compact_document_has_it() -> None:
    found = decisions()
    doc = json.loads(decisions_json(found, compact=True))
    assert doc == {"decisions": [decision_compact(d) for d in found]}


def test_a_batch_document_keeps_other_entries_in_their_place() -> None:
    found = decisions()[:2]
    error = {"error": {"field": "purpose", "message": "onbekend doel"}}
    doc = json.loads(decisions_json([found[0], error, found[1]], "en"))
    assert doc["decisions"] == [decision_json(found[0], "en"), error, decision_json(found[1], "en")]


def test_decisions_with_the_same_outcome_share_one_outcome_object() -> None:
    state = history(registered(SINCE), consent_given(SINCE))
    at = amsterdam(2024, 3, 12, 10)
    first, again = (evaluate(PACK, state, Question(Channel.EMAIL, SHOES, at), Controller()) for _ in range(2))
    assert first == again
    assert first.reasons is again.reasons and first.obligations is again.obligations
