"""The `nl` rule pack: Telecommunicatiewet art. 11.7 and the GDPR (AVG), as a table.

Read it top to bottom: the table is `RULES`, the rows of `absolute`, `grounds`,
`calls_post` and `defaults` in that order (docs/rules.md shows it whole, as a
lawyer reads it); `consentry.policy.rules` says how it is evaluated. Rule ids
follow RULES.md; a suffix (`.listed`, `.review` ...) marks a second row of the
same rule with another outcome. Dates are Dutch calendar days, both inclusive
(`dates`); obligations have stable ids (`obligations`); `details` adds to an
explanation the fact that decided it.
"""

from __future__ import annotations

from consentry.policy.nl import absolute, calls_post, defaults, grounds
from consentry.policy.nl.details import DETAILS
from consentry.policy.nl.obligations import OBLIGATIONS
from consentry.policy.rules import Rule, RulePack

RULES: tuple[Rule, ...] = (*absolute.ROWS, *grounds.ROWS, *calls_post.ROWS, *defaults.ROWS)
FALLBACK = defaults.FALLBACK

PACK = RulePack(
    "nl", "Nederland: Telecommunicatiewet art. 11.7 en AVG", RULES, OBLIGATIONS, FALLBACK, DETAILS
)

__all__ = ["FALLBACK", "OBLIGATIONS", "PACK", "RULES"]
