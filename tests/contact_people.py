"""People in the ledger for the tests of the admin app's contact search and contact page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import NOW
from consentry.bootstrap import App
from consentry.services import ledger


def _point(kind: str, value: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"type": "contact_point.registered", "kind": kind, "value": value, "source": source, **extra}


def people(app: App) -> None:
    """Jan Jansen (e-mail and phone, one contact), Janneke de Vries (tagged), Piet Jansen."""
    email = ["email"]
    records = [
        _point("email", "jan@example.nl", "web_form", contact_id="K1", display_name="Jan Jansen",
               occurred_at=(NOW - timedelta(days=30)).isoformat()),
        _point("phone", "0612345678", "purchase", contact_id="K1", display_name="Jan Jansen"),
        _point("email", "janneke@example.nl", "referral", display_name="Janneke de Vriës"),
        _point("email", "piet@example.nl", "web_form", display_name="Piet Jansen"),
        {"type": "tags.added", "contact": "janneke@example.nl", "tags": ["beurs 2026", "vip"]},
        {"type": "tags.added", "contact": "piet@example.nl", "tags": ["vip"]},
        {"type": "consent.given", "contact": "jan@example.nl", "purpose": "nieuwsbrief", "channels": email,
         "method": "double_opt_in", "ip": "192.0.2.10", "user_agent": "Firefox/140",
         "occurred_at": (NOW - timedelta(days=2)).isoformat()},
        {"type": "consent.confirmed", "contact": "jan@example.nl", "purpose": "nieuwsbrief",
         "occurred_at": (NOW - timedelta(days=2)).isoformat()},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))
