"""Private by construction: no personal data in clear anywhere in the database (issue #16).

After a registration by e-mail and by phone, a consent with an IP address and attributes,
the whole database is searched (SQLite: its file and its write-ahead log; PostgreSQL: a
`pg_dump`) for the address, the phone number, the name, an attribute value and the IP.
None is found, before any erasure: nothing personal is ever stored in clear. The same
data read back through the store is all there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.fold import fold
from consentry.domain.vocabulary import PointKind
from consentry.services import audience, integrity, ledger

ADDRESS = "marieke.van.der.berg@voorbeeld.nl"
PHONE = "+31612345678"
NAME = "Marieke Verhoeven-Zuiderduin"
ATTRIBUTE = "Oosterhesselen"
IP = "203.0.113.197"
#: The clear strings searched for; the phone number also as a Dutch reader writes it.
SECRETS = (ADDRESS, PHONE, "0612345678", "612345678", NAME, "Verhoeven", "Zuiderduin", ATTRIBUTE, IP)


def _record(app: App) -> None:
    docs = [
        {
            "type": "contact_point.registered",
            "kind": "email",
            "value": ADDRESS,
            "source": "web_form",
            "display_name": NAME,
            "contact_id": "lid-2093",
            "attributes": {"woonplaats": ATTRIBUTE},
            "occurred_at": "2025-03-01T10:00:00+01:00",
        },
        {
            "type": "contact_point.registered",
            "kind": "phone",
            "value": "06 12345678",
            "source": "web_form",
            "display_name": NAME,
            "contact_id": "lid-2093",
            "occurred_at": "2025-03-01T10:00:00+01:00",
        },
        {
            "type": "consent.given",
            "contact": ADDRESS,
            "purpose": "nieuwsbrief",
            "channels": ["email"],
            "method": "single_opt_in",
            "ip": IP,
            "user_agent": "Mozilla/5.0",
            "occurred_at": "2025-03-01T10:01:00+01:00",
        },
        {
            "type": "attributes.set",
            "contact": ADDRESS,
            "attributes": {"geboorteplaats": ATTRIBUTE},
            "occurred_at": "2025-03-02T10:00:00+01:00",
        },
    ]
    assert ledger.append_lines(app, [json.dumps(d) for d in docs]).appended == 4


def _stored_bytes(app: App, tmp_path: Path) -> bytes:
    """Everything the database holds, as bytes: SQLite's files, or a dump of PostgreSQL's."""
    url = app.store.engine.url
    if url.drivername.startswith("sqlite"):
        assert url.database
        return b"".join(
            Path(url.database + suffix).read_bytes()
            for suffix in ("", "-wal")
            if Path(url.database + suffix).exists()
        )
    dump = shutil.which("pg_dump")
    if dump is None:
        pytest.skip("pg_dump is not installed")
    out = tmp_path / "dump.sql"
    command = [
        dump,
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    subprocess.run([*command, "-f", str(out), str(url.database)], check=True, timeout=120)
    return out.read_bytes()


def test_no_personal_data_is_stored_in_clear(app: App, tmp_path: Path) -> None:
    _record(app)
    # Everything written is on disk (SQLite: in the file or its log; PostgreSQL: in the dump).
    stored = _stored_bytes(app, tmp_path)
    assert b"nieuwsbrief" in stored  # the search itself sees clear text
    found = [s for s in SECRETS if s.encode() in stored or s.lower().encode() in stored]
    assert found == []
    # ... and all of it reads back through the store.
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, ADDRESS)
        phone = r.point_id(PointKind.PHONE, PHONE)
        assert pid is not None and phone is not None
        events = r.events_for(pid)
    state = fold(pid, events)
    consent = next(e for e in events if e.type == "consent.given")
    assert state.value == ADDRESS and state.display_name == NAME and state.contact_id == "lid-2093"
    assert state.attributes == {"woonplaats": ATTRIBUTE, "geboorteplaats": ATTRIBUTE}
    assert consent.payload["ip"] == IP
    assert integrity.verify_ledger(app).ok


def test_the_audience_selects_by_attribute_and_hands_out_the_address_opened(app: App) -> None:
    _record(app)
    target = audience.Target.of("email", "nieuwsbrief")
    chosen = list(audience.members(app, target, Selection(attribute=("woonplaats", ATTRIBUTE))))
    assert [(m.value, m.name) for m in chosen] == [(ADDRESS, NAME)]
    assert list(audience.members(app, target, Selection(attribute=("woonplaats", "Zwolle")))) == []
    with app.store.engine.connect() as conn:
        terms = conn.execute(sa.text("SELECT count(*) FROM point_terms")).scalar_one()
    assert terms >= 2  # the two words of the name, blinded (the town is a selection term in point_facts)
