"""How much text consentry takes in: one table for the ledger, the API, the pages, imports and CLI.

Limits are in characters (code points), the way people count, except `REQUEST_BYTES`.
They are generous for real use and small enough that no single value can fill a
database, a mail header or a page: a display name of 60 MB is refused with the
field's name and its limit, not stored. `docs/events.md` lists the limit of every
event field (generated from `EVENT_TEXT` through consentry.domain.events).
"""

from __future__ import annotations

from typing import Final

#: An e-mail address: the longest a mail path can carry (RFC 5321 4.5.3.1.3).
EMAIL: Final = 254
#: A phone number as typed, with spaces, dashes and brackets.
PHONE: Final = 64
#: A postal address (`street; town`), or any other way of naming a contact point.
CONTACT: Final = 500
#: Keys people choose: purposes, forms, registers (their own patterns are stricter still).
KEY: Final = 64
#: A name of a person or an organisation, a title of a form or purpose.
NAME: Final = 300
#: Short labels: a method, a version, a tag, a category, an order reference, a campaign.
LABEL: Final = 200
#: Free text: a reason, a note, a diagnostic, a consent text.
TEXT: Final = 4000
#: A URL (the length browsers and servers reliably carry).
URL: Final = 2048
#: A Message-ID or another header value that must fit on one SMTP line (RFC 5321 4.5.3.1.6).
HEADER: Final = 998
#: An attribute's name and its value (merge fields: `first_name`, `city`).
ATTRIBUTE_NAME: Final = 64
ATTRIBUTE_VALUE: Final = 1000
#: Entries in one list or object (tags, categories, channels, attributes).
ITEMS: Final = 200
#: A JSON object of free shape (an imported system's original fields), written out as JSON.
OBJECT_JSON: Final = 16_000
#: One cell of an imported CSV file.
CSV_CELL: Final = TEXT
#: A campaign's message body template.
BODY: Final = 100_000
#: A whole HTTP request body (a batch of 10,000 events of typical size fits with room).
REQUEST_BYTES: Final = 16 * 1024 * 1024
#: A whole HTTP request body to a public page (a sign-up form or the preference centre posts a few fields).
PAGE_BYTES: Final = 64 * 1024
#: A whole HTTP request body to an admin page (a campaign's texts in two languages fit).
ADMIN_BYTES: Final = 1024 * 1024
#: A file uploaded to the admin app's import (a million contacts in a CSV fit).
UPLOAD_BYTES: Final = 512 * 1024 * 1024
#: A register file uploaded to the admin app's Registers page, imported while the page waits
#: (a million hashed entries fit); a larger register goes through `consentry import register`.
REGISTER_UPLOAD_BYTES: Final = 80 * 1024 * 1024

#: The limit of each text field of a ledger event, by field name; any other text field is a `LABEL`.
EVENT_TEXT: Final[dict[str, int]] = {
    "value": CONTACT,
    "display_name": NAME,
    "source_detail": NAME,
    "purpose": KEY,
    "register": KEY,
    "ip": 64,
    "user_agent": 1000,
    "published_for_offers_evidence": URL,
    "suggestion_reason": TEXT,
    "reason": TEXT,
    "note": TEXT,
    "diagnostic": TEXT,
    "message_id": HEADER,
    "mail_from": HEADER,
    "mail_message_id": HEADER,
}


def too_long(limit: int) -> str:
    """The message for a value over its limit (the caller names the field)."""
    return f"is longer than the limit of {limit} characters"
