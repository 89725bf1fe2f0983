"""Turning decisions into JSON documents and readable text (nl first, en second)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from consentry.domain.vocabulary import BASIS_REFERENCES, Verdict
from consentry.policy.rules import Decision, Reason

VERDICT_WORDS = {
    "nl": {
        Verdict.ALLOW: "TOEGESTAAN",
        Verdict.DENY: "NIET TOEGESTAAN",
        Verdict.REVIEW: "BEOORDELEN",
    },
    "en": {Verdict.ALLOW: "ALLOWED", Verdict.DENY: "NOT ALLOWED", Verdict.REVIEW: "NEEDS REVIEW"},
}
LABELS = {
    "nl": {
        "basis": "Grondslag",
        "why": "Waarom",
        "must": "Verplichtingen",
        "at": "Moment",
        "review": "Een mens moet dit beoordelen; behandel het niet als toegestaan.",
    },
    "en": {
        "basis": "Basis",
        "why": "Why",
        "must": "Obligations",
        "at": "Moment",
        "review": "A person must judge this; do not treat it as allowed.",
    },
}


_REASONS: dict[tuple[Reason, str], dict[str, str]] = {}
_BASES = {b: {"law": law, "dpv": dpv} for b, (law, dpv) in BASIS_REFERENCES.items()}


def _reason(r: Reason, lang: str) -> dict[str, str]:
    # Rules are few and their texts fixed: each reason's document is built once
    # (batches of decisions render thousands of them).
    doc = _REASONS.get((r, lang))
    if doc is None:
        doc = _REASONS[(r, lang)] = {
            "rule": r.rule,
            "citation": r.citation,
            "explanation": r.text(lang),
            "explanation_nl": r.nl,
            "explanation_en": r.en,
            "authority": r.authority.value,
        }
    return doc


def decision_json(d: Decision, lang: str = "nl", at: str | None = None) -> dict[str, Any]:
    """The decision as one JSON object (the CLI's --json and the API return this).

    `at` is the moment already written out, for batches that share one.
    """
    return {
        "verdict": d.verdict.value,
        "basis": d.basis.value,
        "basis_reference": _BASES[d.basis],
        "rule": d.rule,
        "reasons": [_reason(r, lang) for r in d.reasons],
        "obligations": [o.id for o in d.obligations],
        "at": at or d.at.isoformat(),
        "contact_point": d.contact_point_id,
        "channel": d.channel,
        "purpose": d.purpose,
        "pack": d.pack,
    }


def decisions_json(
    items: Iterable[Decision | dict[str, Any]], lang: str = "nl", compact: bool = False
) -> bytes:
    """`{"decisions": [...]}` as JSON bytes; each decision as `decision_json` or `decision_compact` has it.

    Other items (a question's error) are written as they are.
    """
    docs = [
        d if not isinstance(d, Decision) else decision_compact(d) if compact else decision_json(d, lang)
        for d in items
    ]
    return orjson.dumps({"decisions": docs})


def decision_compact(d: Decision) -> dict[str, Any]:
    """The decision without its explanations (for large batches)."""
    return {
        "verdict": d.verdict.value,
        "basis": d.basis.value,
        "rule": d.rule,
        "obligations": [o.id for o in d.obligations],
        "contact_point": d.contact_point_id,
    }


def decision_text(d: Decision, lang: str = "nl") -> str:
    """The decision as a short report a person can read."""
    words, labels = VERDICT_WORDS[lang], LABELS[lang]
    lines = [
        f"{words[d.verdict]}  ({d.channel}, {d.purpose}, {d.contact_point_id})",
        f"{labels['at']}: {d.at.isoformat()}   {labels['basis']}: {d.basis.value} "
        f"({BASIS_REFERENCES[d.basis][0]})",
        f"{labels['why']}:",
    ]
    for r in d.reasons:
        lines.append(f"  [{r.rule}] {r.text(lang)}")
        lines.append(
            f"      {r.citation}" + (f" ({r.authority.value})" if r.authority.value != "law" else "")
        )
    if d.obligations:
        lines.append(f"{labels['must']}:")
        lines.extend(f"  - {o.id}: {o.en if lang == 'en' else o.nl}" for o in d.obligations)
    if d.verdict is Verdict.REVIEW:
        lines.append(labels["review"])
    return "\n".join(lines)
