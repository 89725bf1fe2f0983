"""Rules, rule packs and the evaluator that explains one decision.

Evaluation order (the only place it is defined):

1. Only rules in force on the day asked about count; that day is the Dutch
   calendar day of the moment (Europe/Amsterdam).
2. Rules are read top to bottom in pack order. Each is either *terminal*
   (allow, deny or review) or an *obligation* rule.
3. The first terminal rule whose conditions all hold decides the verdict and
   the legal basis. Later terminal rules are not read.
4. Every obligation rule whose conditions hold, wherever it stands in the pack,
   adds its obligations and its reason. They are kept only when the verdict is
   allow or review: a denied message has nothing to comply with.
5. When no terminal rule holds, the pack's fallback decides (review): the law
   in the pack does not cover the case and a person must judge it.
6. The deciding rule's explanation (and an obligation rule's) is completed, where
   the pack has a detail for that rule, with the fact that decided it in this situation (the day of
   the sale, of the objection, of the expiry), written as a Dutch calendar day.
   A detail only adds words; it never changes the verdict.

So a pack puts absolute denials first (erasure, objection), then the grounds
that allow, then the specific denials that explain why not, then the general
default denial of each channel.

`evaluate` reads a plan (the rules left for one kind of question on one day,
see `RulePack.plan`) step by step, exactly as above.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Basis, Verdict
from consentry.policy.facts import FACTS, Controller, Question, Situation


class Effect(StrEnum):
    """What a rule does when its conditions hold."""

    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"
    OBLIGE = "oblige"


class Authority(StrEnum):
    """What a rule rests on: statute, case law, self-regulation, or consentry's own policy."""

    LAW = "law"
    CASE_LAW = "case_law"
    SELF_REGULATION = "self_regulation"
    POLICY = "policy"


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something a message must do or carry, with a stable id."""

    id: str
    nl: str
    en: str


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of a rule pack: when it applies, what follows, and on what authority."""

    id: str
    when: tuple[str, ...]
    effect: Effect
    citation: str
    nl: str
    en: str
    basis: Basis = Basis.NONE
    obligations: tuple[str, ...] = ()
    in_force_from: date | None = None
    in_force_until: date | None = None
    authority: Authority = Authority.LAW
    checks: tuple[tuple[str, bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = []
        for cond in self.when:
            name = cond.removeprefix("!")
            if name not in FACTS:
                raise ValueError(f"rule {self.id}: unknown fact {name!r}")
            checks.append((name, not cond.startswith("!")))
        object.__setattr__(self, "checks", tuple(checks))

    def in_force(self, day: date) -> bool:
        """True when the rule applies on that Dutch calendar day."""
        return (self.in_force_from is None or self.in_force_from <= day) and (
            self.in_force_until is None or day <= self.in_force_until
        )


Step = tuple[Rule, tuple[tuple[str, bool], ...]]
Plan = tuple[tuple[Step, ...], tuple[Step, ...]]


@dataclass(frozen=True)
class RulePack:
    """An ordered table of rules for one jurisdiction, with its obligations."""

    key: str
    name: str
    rules: tuple[Rule, ...]
    obligations: dict[str, Obligation]
    fallback: Rule
    #: Per rule id, what names the fact behind that rule's decision in one situation.
    details: Mapping[str, Detail] = field(default_factory=dict)
    _bounds: list[date] = field(default_factory=list, init=False, repr=False, compare=False)
    _plans: dict[tuple[object, ...], Plan] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _outcomes: dict[tuple[str, ...], Outcome] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in (*self.rules, self.fallback):
            if rule.id in seen:
                raise ValueError(f"rule pack {self.key}: duplicate rule id {rule.id}")
            seen.add(rule.id)
            for ob in rule.obligations:
                if ob not in self.obligations:
                    raise ValueError(f"rule {rule.id}: unknown obligation {ob!r}")
        for rule_id in self.details:
            if rule_id not in seen:
                raise ValueError(f"rule pack {self.key}: detail for unknown rule {rule_id}")
        starts = {r.in_force_from for r in self.rules if r.in_force_from}
        ends = {date.fromordinal(r.in_force_until.toordinal() + 1) for r in self.rules if r.in_force_until}
        self._bounds.extend(sorted(starts | ends))

    def rule(self, rule_id: str) -> Rule:
        """Look a rule up by id."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        if rule_id == self.fallback.id:
            return self.fallback
        raise KeyError(rule_id)

    def plan(self, x: Situation) -> Plan:
        """The rules that can apply to this kind of question on this day, question facts settled.

        Rules out of force, or whose question facts (channel, kind, sender ...)
        fail, are dropped; the rest keep only the checks on the contact point.
        Plans are cached per period between rule dates and kind of question.
        """
        key = self._key(x)
        found = self._plans.get(key)
        if found is None:
            terminal: list[Step] = []
            oblige: list[Step] = []
            for rule in self.rules:
                if not rule.in_force(x.day):
                    continue
                if any(FACTS[n].question and x.get(n) is not want for n, want in rule.checks):
                    continue
                rest = tuple((n, want) for n, want in rule.checks if not FACTS[n].question)
                (oblige if rule.effect is Effect.OBLIGE else terminal).append((rule, rest))
            found = self._plans[key] = (tuple(terminal), tuple(oblige))
        return found

    def outcome(self, held: tuple[str, ...]) -> Outcome:
        """Verdict, basis, reasons and obligations, given the ids of the deciding rule and of
        the obligation rules that hold; made once per combination, so decisions alike share
        them instead of each building its own."""
        found = self._outcomes.get(held)
        if found is None:
            found = self._outcomes[held] = _outcome(
                self, self.rule(held[0]), [self.rule(i) for i in held[1:]]
            )
        return found

    def _key(self, x: Situation) -> tuple[object, ...]:
        q = x.q
        return (bisect_right(self._bounds, x.day), q.channel, q.kind, q.activity, x.controller.sector)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a rule, its citation, and its explanation in Dutch and English."""

    rule: str
    citation: str
    nl: str
    en: str
    authority: Authority

    def text(self, lang: str) -> str:
        """The explanation in `nl` or `en`."""
        return self.en if lang == "en" else self.nl


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict with its basis, its reasons and the obligations the message must meet."""

    verdict: Verdict
    basis: Basis
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...]
    at: datetime
    contact_point_id: str
    channel: str
    purpose: str
    pack: str

    @property
    def rule(self) -> str:
        """The id of the rule that decided."""
        return self.reasons[0].rule


Outcome = tuple[Verdict, Basis, tuple[Reason, ...], tuple[Obligation, ...]]
#: What decided, in one situation's own terms (a date, a sale): a sentence in Dutch
#: and in English added to the deciding rule's explanation, or None to add nothing.
Detail = Callable[[Situation], "tuple[str, str] | None"]


def _detailed(pack: RulePack, x: Situation, reasons: tuple[Reason, ...]) -> tuple[Reason, ...]:
    """The reasons with each explanation the pack has a detail for naming the fact behind it
    (the deciding rule's, and an obligation rule's such as a lifted suppression's)."""
    details = pack.details
    out: list[Reason] | None = None
    for i, reason in enumerate(reasons):
        detail = details.get(reason.rule)
        said = detail(x) if detail is not None else None
        if said is None:
            continue
        if out is None:
            out = list(reasons)
        out[i] = Reason(
            reason.rule, reason.citation, f"{reason.nl} {said[0]}", f"{reason.en} {said[1]}", reason.authority
        )
    return reasons if out is None else tuple(out)


def _reason(r: Rule) -> Reason:
    return Reason(r.id, r.citation, r.nl, r.en, r.authority)


def _outcome(pack: RulePack, decisive: Rule, extra: Sequence[Rule]) -> Outcome:
    verdict = Verdict(decisive.effect.value)
    reasons = [_reason(decisive)]
    ob_ids: list[str] = []
    if verdict is not Verdict.DENY:
        ob_ids.extend(decisive.obligations)
        for rule in extra:
            reasons.append(_reason(rule))
            ob_ids.extend(rule.obligations)
    obligations = tuple(pack.obligations[i] for i in dict.fromkeys(ob_ids))
    basis = decisive.basis if verdict is not Verdict.DENY else Basis.NONE
    return verdict, basis, tuple(reasons), obligations


def evaluate(
    pack: RulePack,
    state: ContactState,
    question: Question,
    controller: Controller,
) -> Decision:
    """Judge one question about one contact point with the pack's rules in force then."""
    x = Situation(state, question, controller)
    terminal, oblige = pack.plan(x)
    # `Situation.get` written out: a method call per check costs a tenth of the evaluation.
    memo = x.memo
    decisive = pack.fallback
    for rule, checks in terminal:
        for name, want in checks:
            v = memo.get(name)
            if v is None:
                v = memo[name] = FACTS[name].compute(x)
            if v is not want:
                break
        else:
            decisive = rule
            break
    held = [decisive.id]
    if decisive.effect is not Effect.DENY:  # a denial carries no obligations
        for rule, checks in oblige:
            for name, want in checks:
                v = memo.get(name)
                if v is None:
                    v = memo[name] = FACTS[name].compute(x)
                if v is not want:
                    break
            else:
                held.append(rule.id)
    verdict, basis, reasons, obligations = pack.outcome(tuple(held))
    if pack.details:
        reasons = _detailed(pack, x, reasons)
    # Positional, in field order: a third cheaper than keywords, for a call made per question.
    return Decision(
        verdict,
        basis,
        reasons,
        obligations,
        question.at,
        state.id,
        question.channel._value_,  # `.value` is a descriptor call; the same string
        question.purpose.key,
        pack.key,
    )
