"""The ledger's events go to PostgreSQL as lines of COPY's text format (`stored.copy_lines`):
each value must arrive as psycopg's own `write_row` would have sent it.

Random strings (with every character COPY escapes, quotes, control characters, characters
that are not printable and others beyond ASCII), random bytes, NULLs, JSON and moments
are written both ways into two tables and read back; and events with such text in their
payload are appended on both stores and read back as recorded, with the chain intact.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consentry.adapters.sql import projection, writer
from consentry.adapters.sql.stored import copy_bytes, copy_field, copy_stream, naive_utc, stored_hash
from consentry.adapters.sql.writer import _postgres_moment
from consentry.bootstrap import App
from consentry.domain.chain import payload_json
from consentry.domain.vocabulary import PointKind
from consentry.services import integrity, ledger

#: Characters a field may hold: COPY's escapes, JSON's, and some that `isprintable` refuses.
ALPHABET = "ab \\\b\t\n\v\f\r\"'/|%é€\u00a0\u2028\u200b\x7f\x1b\U0001f600"


def _text(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(0, 12)))


@pytest.fixture
def conn(pg_url: str) -> Iterator[Connection]:
    engine = sa.create_engine(pg_url)
    with engine.connect() as c:
        yield c
    engine.dispose()


def test_lines_store_what_write_row_stores(conn: Connection) -> None:
    rnd = random.Random(16)
    pg: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    columns = "n, t, b, j, at"
    for table in ("by_row", "by_line"):
        pg.execute(f"CREATE TEMP TABLE {table} (n int, t text, b bytea, j jsonb, at timestamp)")
    rows: list[tuple[Any, ...]] = []
    lines: list[str] = []
    start = datetime(1990, 1, 1, tzinfo=UTC)
    for n in range(3000):
        text = _text(rnd).replace("\x00", "")
        data = None if n % 7 == 0 else rnd.randbytes(rnd.randrange(0, 40))
        doc = payload_json({_text(rnd): _text(rnd), "n": n, "list": [_text(rnd)]})
        at = start + timedelta(microseconds=rnd.randrange(0, 40 * 365 * 86_400 * 10**6))
        if n % 3 == 0:
            at = at.astimezone(timezone(timedelta(minutes=rnd.randrange(-720, 720, 15))))
        rows.append((n, text, data, doc, naive_utc(at)))
        lines.append(
            f"{n}\t{copy_field(text)}\t{copy_bytes(data)}\t{copy_field(doc)}\t{_postgres_moment(at)[1]}\n"
        )
    with pg.cursor() as cur, cur.copy(f"COPY by_row ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    with copy_stream(conn, "by_line", columns) as write:
        write("".join(lines))
    by_row = pg.execute(f"SELECT {columns} FROM by_row ORDER BY n").fetchall()
    by_line = pg.execute(f"SELECT {columns} FROM by_line ORDER BY n").fetchall()
    assert len(by_row) == len(rows)
    assert by_line == by_row
    assert [r[1] for r in by_line] == [r[1] for r in rows]


def test_a_chain_hash_goes_to_copy_as_copy_bytes_writes_its_stored_bytes() -> None:
    rnd = random.Random(9)
    for _ in range(2000):
        digest = rnd.randbytes(32).hex()
        assert writer._copy_hash(digest) == copy_bytes(stored_hash(digest))


def test_copy_field_escapes_exactly_what_copy_escapes() -> None:
    assert copy_field("ev_01a2.b:c-d") == "ev_01a2.b:c-d"
    assert copy_field('{"a":"x\\"y\\\\z"}') == '{"a":"x\\\\"y\\\\\\\\z"}'
    assert copy_field("a\tb\nc\rd\be\vf\fg\u00a0h") == "a\\tb\\nc\\rd\\be\\vf\\fg\u00a0h"
    assert copy_bytes(None) == "\\N"
    assert copy_bytes(b"\x00\xff") == "\\\\x00ff"


def test_events_with_escaped_text_read_back_as_recorded(app: App) -> None:
    note = 'Zei: "bel me niet"\\ daarna\u00a0niets meer \u2028 (€) 😀'
    records = [
        {
            "type": "contact_point.registered",
            "kind": "email",
            "value": "tekst@example.nl",
            "source": "web_form",
            "display_name": 'Anne \\ de "Vries"',
            "occurred_at": "2025-01-01T10:00:00+01:00",
        },
        {
            "type": "bounce.recorded",
            "contact": "tekst@example.nl",
            "bounce_kind": "soft",
            "diagnostic": note,
            "occurred_at": "2025-01-02T10:00:00.5+02:00",
        },
        {
            "type": "unsubscribed",
            "contact": "tekst@example.nl",
            "purpose": "nieuwsbrief",
            "campaign": 'voorjaar\\2025 "actie"',
            "occurred_at": "2025-01-03",
        },
    ]
    ledger.append_records(app, list(enumerate(records, 1)))
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "tekst@example.nl")
        assert pid is not None
        events = r.events_for(pid)
    assert [e.payload.get("diagnostic") for e in events] == [None, note, None]
    assert events[0].payload["display_name"] == 'Anne \\ de "Vries"'
    assert events[2].payload["campaign"] == 'voorjaar\\2025 "actie"'
    assert events[1].occurred_at == datetime(2025, 1, 2, 8, 0, 0, 500_000, tzinfo=UTC)
    assert integrity.verify_ledger(app).ok


def _records(n: int, start: int = 0) -> list[tuple[int, dict[str, object]]]:
    return [
        (
            i + 1,
            {
                "type": "contact_point.registered",
                "kind": "email",
                "value": f"deel{start + i}@example.nl",
                "source": "import",
                "display_name": f"Deel \\ {start + i}",
            },
        )
        for i in range(n)
    ]


def _updates(n: int) -> list[tuple[int, dict[str, object]]]:
    """Attribute updates (sealed fields) about the first n points of `_records`: an append
    with no new key or point, so its events' stream opens at once (nothing sent ahead)."""
    return [
        (
            i + 1,
            {"type": "attributes.set", "contact": f"deel{i}@example.nl", "attributes": {"plaats": f"P{i}"}},
        )
        for i in range(n)
    ]


def _unchanged_after_a_failure(app: App, parts: int, events: int) -> None:
    """The ledger as the first append left it, and the next append stored whole."""
    ledger.append_records(app, _records(3, start=2 * parts))
    with app.store.reader() as r:
        assert r.counts()["events"] == events + 3
        pid = r.point_id(PointKind.EMAIL, "deel1@example.nl")
        assert pid is not None
        assert all("plaats" not in e.payload.get("attributes", {}) for e in r.events_for(pid))
        new = r.point_id(PointKind.EMAIL, f"deel{2 * parts + 2}@example.nl")
        assert new is not None
        assert r.events_for(new)[0].payload["display_name"] == f"Deel \\ {2 * parts + 2}"
    report = integrity.verify_ledger(app)
    assert report.ok and report.events == events + 3


def _failing_on_call(n: int, real: Any, message: str) -> Any:
    calls = 0

    def failing(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            raise RuntimeError(message)
        return real(*args)

    return failing


def test_an_append_of_several_parts_is_stored_whole_and_one_failing_midway_leaves_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = writer._PART * 2 + 17
    ledger.append_records(app, _records(parts))
    # Known points only: the events' stream is open and a part stored when the seal fails.
    monkeypatch.setattr(writer, "seal", _failing_on_call(writer._PART + 5, writer.seal, "sealing failed"))
    with pytest.raises(RuntimeError, match="sealing failed"):
        ledger.append_records(app, _updates(parts))
    monkeypatch.undo()
    _unchanged_after_a_failure(app, parts, parts)


def test_a_refresh_failing_while_its_facts_stream_is_open_leaves_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = writer._PART * 4 + 17
    ledger.append_records(app, _records(parts))
    # The facts rows go to one COPY as the points are folded (`stored.row_stream`): hundreds sent
    # (psycopg sends in blocks of 32 KB) before the fold of one point fails.
    monkeypatch.setattr(
        projection, "facts_row", _failing_on_call(parts - 7, projection.facts_row, "fold failed")
    )
    with pytest.raises(RuntimeError, match="fold failed"):
        ledger.append_records(app, _updates(parts))
    monkeypatch.undo()
    _unchanged_after_a_failure(app, parts, parts)
