"""Every payload field of every event type is either sealed (`sealing.PERSONAL`) or known to be clear.

A field a person, their browser or their mail client supplies can name them (a mail's
Message-ID is often `<uuid@their-own-domain>`); left out of `PERSONAL` it stays readable in
the ledger after they are erased. A new field fails here until it is put on one side.
"""

from __future__ import annotations

from consentry.adapters.sql.sealing import PERSONAL
from consentry.domain.events import EVENT_TYPES

#: Fields stored in clear: codes, keys, flags, dates and ids the rules and the audience read, or
#: that name the sender's side (its users, its own messages), never anything the person gave.
CLEAR = frozenset(
    {
        # kinds, codes and flags
        "about", "article", "bounce_kind", "bundled", "collected_by_sender", "contract", "country",
        "feedback_type", "identity", "kind", "local_rules_met", "method", "opt_out_offered",
        "outcome", "own_employee", "party", "published_for_offers", "request", "role_address",
        "scope", "source", "stated_basis", "status", "suggested_party", "told_via", "vague", "via",
        # the sender's keys and labels: purposes, channels, forms, texts, registers, campaigns
        "categories", "channels", "collection_point", "campaign", "language", "purpose", "register",
        "sectors", "tags", "text_version",
        # dates and periods
        "due_at", "extended_until", "listed_from", "listed_until", "valid_for_months",
        # ids of events, requests and the sender's own messages; hashes of attached proof
        "attachments", "consent_event", "derived_from", "message_id", "received_event", "request_id",
        # the sender's side: its users, the mailbox provider reporting a complaint
        "author", "handler", "feedback_source",
        # generated from the address and the code's own lists (`domain.classify.suggest`)
        "suggestion_reason",
    }
)  # fmt: skip


def test_every_event_field_is_sealed_or_known_to_be_clear() -> None:
    fields = {f.name for t in EVENT_TYPES.values() for f in t.fields}
    assert not PERSONAL & CLEAR
    assert fields - PERSONAL - CLEAR == set(), "decide: personal (sealing.PERSONAL) or clear (CLEAR)"
    assert CLEAR - fields == set()  # no field left here that no event type has any more


def test_the_message_id_of_a_persons_own_mail_is_sealed() -> None:
    assert {"mail_from", "mail_message_id", "user_agent", "ip", "reason", "note"} <= PERSONAL
