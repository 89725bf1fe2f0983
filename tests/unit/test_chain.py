"""The hash chain's canonical form and its verification, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters.canonical_json import payload_json
from consentry.domain.chain import GENESIS, ChainedRow, canonical, link, verify
from consentry.domain.chain import payload_json as defining_payload_json
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


# -- the canonical payload JSON: orjson where it writes alike, `json` as the definition --

_REFERENCE = defining_payload_json
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=()), max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=6))
def test_payload_json_is_the_json_modules_canonical_text(payload: dict[str, object]) -> None:
    """Every payload, floats, control characters, lone surrogates, U+2028, non-BMP text and
    huge integers included, gets exactly the text of the domain's definition (or the same
    refusal)."""
    try:
        expected = _REFERENCE(payload)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            payload_json(payload)
        return
    assert payload_json(payload) == expected


def test_payload_json_edge_cases() -> None:
    for payload in (
        {"a": 1e16, "b": float("nan"), "c": -0.0},
        {"s": "\x00\x1f\x7f\u2028\u2029\ud800", "t": '"\\/\b\f\n\r\t'},
        {"n": 2**64, "m": -(2**63) - 1, "k": True},
        {"nested": {"z": [1, {"y": 1.5}], "é": "ü", "\U0001f600": "x"}},
        {1: "int keys", 2: "are written as text"},
    ):
        assert payload_json(payload) == _REFERENCE(payload)
