"""`point_facts` rows as revisions before 0014 kept them, for the upgrade tests' old databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from consentry.policy.factrows import MASKS, Numbering, tokens


def as_tokens(row: dict[str, Any], bits: Numbering) -> dict[str, Any]:
    """A row of today's `point_facts` as 0013 and earlier kept it: token strings, the hash in hex."""
    out = {k: v for k, v in row.items() if k != "more"}
    out["value_hash"] = bytes(row["value_hash"]).hex()
    for column in MASKS:
        out[column] = tokens(bits.tokens(column, row[column], row["more"]))
    for k in ("last_event_at", "suppressed_since"):  # as a DateTime column takes them: naive UTC
        if isinstance(out[k], datetime):
            out[k] = out[k].astimezone(UTC).replace(tzinfo=None)
    return out
