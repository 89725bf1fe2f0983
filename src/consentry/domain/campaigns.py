"""Campaigns: who to consider, what to ask the rules about them, and what to send."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Selection:
    """Who a campaign considers, before the rules judge them; every given criterion must hold.

    No criterion at all means every contact point that can carry the channel.
    """

    #: Contact points carrying this tag.
    tag: str | None = None
    #: Contact points whose attribute `name` equals `value`.
    attribute: tuple[str, str] | None = None
    #: Contact points that gave (and did not withdraw) consent for this purpose, confirmed or not.
    subscribers_of: str | None = None
    #: Contact points registered with this source detail (e.g. the label of an imported list).
    source_detail: str | None = None

    def describe(self) -> str:
        """A short English description for reports and logs."""
        parts = []
        if self.tag:
            parts.append(f"tag {self.tag!r}")
        if self.attribute:
            parts.append(f"{self.attribute[0]} = {self.attribute[1]!r}")
        if self.subscribers_of:
            parts.append(f"subscribers of {self.subscribers_of!r}")
        if self.source_detail:
            parts.append(f"source detail {self.source_detail!r}")
        return ", ".join(parts) or "everyone"
