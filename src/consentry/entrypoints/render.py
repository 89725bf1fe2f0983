"""Turning decisions into JSON documents and readable text (nl first, en second)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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

    Other items (a question's error) are written as they are. The parts of a decision
    that depend only on its outcome are serialised once per outcome and reused.
    """
    at_of: datetime | None = None
    at = ""
    docs: list[Any] = []
    for d in items:
        if not isinstance(d, Decision):
            docs.append(d)
            continue
        fixed = _fixed(d, lang)
        if compact:
            docs.append(
                {
                    "verdict": fixed[0],
                    "basis": fixed[1],
                    "rule": fixed[3],
                    "obligations": fixed[5],
                    "contact_point": d.contact_point_id,
                }
            )
            continue
        if d.at is not at_of:  # a batch's decisions share one moment: write it out once
            at_of, at = d.at, d.at.isoformat()
        docs.append(
            {
                "verdict": fixed[0],
                "basis": fixed[1],
                "basis_reference": fixed[2],
                "rule": fixed[3],
                "reasons": fixed[4],
                "obligations": fixed[5],
                "at": at,
                "contact_point": d.contact_point_id,
                "channel": d.channel,
                "purpose": d.purpose,
                "pack": d.pack,
            }
        )
    return orjson.dumps({"decisions": docs})


_Fixed = tuple[str, str, orjson.Fragment, str, orjson.Fragment, orjson.Fragment]
_FIXED: dict[tuple[int, str], tuple[tuple[object, ...], _Fixed]] = {}


def _fixed(d: Decision, lang: str) -> _Fixed:
    """What a decision's document shares with every decision of the same outcome, serialised once.

    Decisions of one outcome share their reasons tuple (see `RulePack.outcome`), so the cache
    is keyed by its identity, which is cheaper to look up than its value; each entry keeps
    the objects it was made from, so their ids cannot be reused while it stands.
    """
    entry = _FIXED.get((id(d.reasons), lang))
    if entry is not None:
        made_of = entry[0]
        if (
            made_of[0] is d.reasons
            and made_of[1] is d.obligations
            and made_of[2] is d.verdict
            and made_of[3] is d.basis
        ):
            return entry[1]
    if len(_FIXED) >= 10_000:  # outcomes are few; many entries mean decisions built elsewhere
        _FIXED.clear()
    fixed: _Fixed = (
        d.verdict.value,
        d.basis.value,
        orjson.Fragment(orjson.dumps(_BASES[d.basis])),
        d.rule,
        orjson.Fragment(orjson.dumps([_reason(r, lang) for r in d.reasons])),
        orjson.Fragment(orjson.dumps([o.id for o in d.obligations])),
    )
    _FIXED[(id(d.reasons), lang)] = ((d.reasons, d.obligations, d.verdict, d.basis), fixed)
    return fixed


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
