"""The hash chain's canonical form and its verification, without a database."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from factories import MomentWithOwnText, odd_moment

from consentry.domain.chain import GENESIS, ChainedRow, canonical, iso, link, payload_json, verify
from consentry.domain.events import Event


def _event(n: int, **payload: object) -> Event:
    at = datetime(2025, 1, n, 9, 30, tzinfo=UTC)
    return Event(f"ev_{n}", "consent.given", 'cp_"odd é', at, at, payload)


def test_the_canonical_form_is_sorted_compact_json_of_the_event() -> None:
    e = _event(1, z=1, a=["é", {"b": None}])
    doc = {
        "seq": 7,
        "id": e.id,
        "type": e.type,
        "cp": e.contact_point_id,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "v": 1,
        "payload": e.payload,
    }
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(e, 7) == expected


def _chain(*events: Event) -> list[ChainedRow]:
    rows, prev = [], GENESIS
    for seq, e in enumerate(events, 1):
        h = link(prev, e, seq)
        rows.append(ChainedRow(seq, e, prev, h))
        prev = h
    return rows


def test_an_intact_chain_verifies_and_any_change_to_an_event_is_found() -> None:
    rows = _chain(_event(1, purpose="a"), _event(2, purpose="b"), _event(3, purpose="c"))
    assert verify(rows, (3, rows[-1].hash)) == []
    edited = [rows[0], ChainedRow(2, _event(2, purpose="B"), rows[1].prev_hash, rows[1].hash), rows[2]]
    assert [(p.seq, "edited" in p.problem) for p in verify(edited, (3, rows[-1].hash))] == [(2, True)]
    assert verify(rows[:2], (3, rows[-1].hash))[-1].problem.startswith("ledger head says seq 3")


def test_the_canonical_form_is_that_json_for_any_event_payload_and_sealed_bytes() -> None:
    rnd = random.Random(16)
    texts = ["", "a", "é", 'q"uote', "back\\slash", "line\nfeed", "\t", "\x7f", "\u2028", "😀", "</x>", "ﬀ"]
    for n in range(2000):
        payload = {
            rnd.choice(texts) + str(i): rnd.choice([rnd.choice(texts), 7, -0.0, 1e16, True, None, [1, "é"]])
            for i in range(rnd.randrange(5))
        }
        at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=rnd.random() * 1e8)
        if n % 3 == 0:
            at = at.astimezone(timezone(timedelta(hours=rnd.randint(-12, 12))))
        e = Event(
            # Ids as the writer's, and any id JSON escapes (a quote, a backslash, a control
            # or separator character): the canonical form tests the ids itself.
            rnd.choice(["ev_1", "ev é", 'ev"1', "im:a.b-c@d", "ev\\1", "ev\n1", "ev\x7f", "ev\u2028"]),
            rnd.choice(["consent.given", "x\ty"]),
            rnd.choice(["cp_1", "cp\\2", "cp 3", 'cp"4', "cp\t5", "cp\x00", "😀"]),
            at,
            at.replace(microsecond=0),
            payload,
        )
        sealed = bytes(rnd.randrange(256) for _ in range(rnd.randrange(40))) if n % 2 else None
        if sealed is not None and n % 4 == 1:  # as `ContactCipher.encrypt_bytes` gives it
            sealed = bytearray(sealed)
        doc = {
            "seq": n,
            "id": e.id,
            "type": e.type,
            "cp": e.contact_point_id,
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "v": 1,
            "payload": e.payload,
        }
        if sealed is not None:
            doc["sealed"] = base64.b64encode(bytes(sealed)).decode()
        expected = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert canonical(e, n, sealed=sealed) == expected
        assert payload_json(payload) == json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )


def test_a_moment_is_hashed_as_its_isoformat_whatever_its_year_fraction_or_zone() -> None:
    rnd = random.Random(63)
    zones = [
        UTC,
        UTC,
        UTC,
        timezone(timedelta(hours=1)),
        timezone(timedelta(0)),
        ZoneInfo("Europe/Amsterdam"),
        None,
    ]
    for _ in range(20_000):
        moment = odd_moment(rnd, 1, zones)
        assert iso(moment) == moment.isoformat()
    odd = MomentWithOwnText(2025, 3, 1, tzinfo=UTC)
    assert iso(odd) == "a subclass's own text"
