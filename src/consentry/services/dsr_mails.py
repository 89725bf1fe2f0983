"""The mails of data-subject requests: to the person (an extension, an outcome) and reminders.

A person is written to in the language of their request, Dutch unless it is English, and
addressed as the public pages address them (`je`).
The texts are kept here, a Dutch and an English version side by side (as the rule
explanations are), so a reviewer reads both at once. A reminder goes to the privacy
officer's address (`CONSENTRY_PRIVACY_OFFICER_EMAIL`): request ids, kinds and days
only, never a person's data, at most once per request per Dutch calendar day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from consentry.domain.dsr import DsrRequest, RequestKind, RequestState, last_day, period_end
from consentry.domain.fold import fold
from consentry.domain.state import ContactState, local_day
from consentry.domain.vocabulary import PointKind
from consentry.policy.facts import day_both
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.ports import Reading

KINDS = {
    RequestKind.ACCESS: ("inzage in je gegevens", "access to your data"),
    RequestKind.RECTIFICATION: ("correctie van je gegevens", "rectification of your data"),
    RequestKind.ERASURE: ("het wissen van je gegevens", "erasure of your data"),
    RequestKind.RESTRICTION: ("beperking van de verwerking van je gegevens", "restriction of processing"),
    RequestKind.PORTABILITY: ("een overdraagbare kopie van je gegevens", "a portable copy of your data"),
    RequestKind.OBJECTION: ("bezwaar tegen direct marketing", "objection to direct marketing"),
}

TEXTS = {
    "nl": {
        "hello": "Hallo,",
        "extension_subject": "Je verzoek: we hebben meer tijd nodig",
        "extension": "We hebben je verzoek om {kind} ontvangen op {received}. We hebben meer tijd nodig "
        "om het goed af te handelen: je hoort uiterlijk op {until} van ons.",
        "reasons": "De reden:",
        "done_subject": "Je verzoek is afgehandeld",
        "done": "We hebben je verzoek om {kind} van {received} afgehandeld op {today}.",
        "refused_subject": "Je verzoek is niet ingewilligd",
        "refused": "We hebben je verzoek om {kind} van {received} niet ingewilligd. De reden:",
        "complain": "Ben je het hier niet mee eens, dan kun je een klacht indienen bij de Autoriteit "
        "Persoonsgegevens (autoriteitpersoonsgegevens.nl) of naar de rechter stappen.",
        "lifted_subject": "De beperking van je gegevens wordt opgeheven",
        "lifted": "Je vroeg ons op {received} om de verwerking van je gegevens te beperken. Die "
        "beperking heffen we nu op: we mogen je gegevens weer gebruiken zoals daarvoor, volgens je "
        "voorkeuren en toestemmingen.",
        "questions": "Heb je vragen? Beantwoord dan deze e-mail.",
        "sent_by": "Verstuurd door {sender}.",
    },
    "en": {
        "hello": "Hello,",
        "extension_subject": "Your request: we need more time",
        "extension": "We received your request for {kind} on {received}. We need more time to handle "
        "it properly: you will hear from us by {until} at the latest.",
        "reasons": "The reason:",
        "done_subject": "Your request has been handled",
        "done": "We handled your request for {kind} of {received} on {today}.",
        "refused_subject": "We could not grant your request",
        "refused": "We did not grant your request for {kind} of {received}. The reason:",
        "complain": "If you disagree, you can lodge a complaint with the Dutch Data Protection "
        "Authority (autoriteitpersoonsgegevens.nl) or go to court.",
        "lifted_subject": "The restriction of your data is being lifted",
        "lifted": "On {received} you asked us to restrict the processing of your data. We are now "
        "lifting that restriction: we may use your data again as before, following your preferences "
        "and consents.",
        "questions": "Questions? Just reply to this e-mail.",
        "sent_by": "Sent by {sender}.",
    },
}


def person_language(state: ContactState) -> str:
    """The language to write to this person in: their `language` attribute, else Dutch."""
    lang = state.attributes.get("language", "").strip().lower()
    return lang if lang in TEXTS else "nl"


def address_of(r: Reading, req: DsrRequest) -> str | None:
    """The e-mail address to tell the person at: the request's own point, else another of theirs."""
    _contact, points = r.person_points(req.contact_point_id)
    ordered = [req.contact_point_id, *(p for p in points if p != req.contact_point_id)]
    for pid in ordered:
        if r.point_kind(pid) is not PointKind.EMAIL:
            continue
        state = fold(pid, r.events_for(pid))
        if state.erased_at is None and state.value:
            return state.value
    return None


def _day(moment: datetime | date, lang: str) -> str:
    nl, en = day_both(moment)
    return en if lang == "en" else nl


def _send(app: App, to: str, lang: str, subject: str, paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    html = (
        f'<!doctype html><html lang="{lang}"><body>'
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        + "</body></html>"
    )
    app.mailer.send(app.mailer.new_message(to, subject, text, html, lang))


def send_extension(app: App, req: DsrRequest, to: str, until: datetime, reason: str) -> None:
    """Tell the person their request takes longer, until when, and why (GDPR Art. 12(3))."""
    lang = req.language if req.language in TEXTS else "nl"
    t = TEXTS[lang]
    kind = KINDS[req.kind][lang == "en"]
    received = _day(req.received_at, lang)
    paragraphs = [
        t["hello"],
        t["extension"].format(kind=kind, received=received, until=_day(last_day(until), lang)),
        f"{t['reasons']} {reason}",
        t["questions"],
        t["sent_by"].format(sender=app.settings.mail_from_name),
    ]
    _send(app, to, lang, t["extension_subject"], paragraphs)


def send_outcome(app: App, req: DsrRequest, to: str, note: str | None) -> None:
    """Tell the person their request was handled, or refused and why (GDPR Art. 12(4))."""
    lang = req.language if req.language in TEXTS else "nl"
    t = TEXTS[lang]
    kind = KINDS[req.kind][lang == "en"]
    received = _day(req.received_at, lang)
    if req.state is RequestState.REFUSED:
        subject = t["refused_subject"]
        body = [t["refused"].format(kind=kind, received=received), note or "-", t["complain"]]
    else:
        subject = t["done_subject"]
        today = _day(req.handled_at or app.clock.now(), lang)
        body = [t["done"].format(kind=kind, received=received, today=today), *([note] if note else [])]
    paragraphs = [t["hello"], *body, t["questions"], t["sent_by"].format(sender=app.settings.mail_from_name)]
    _send(app, to, lang, subject, paragraphs)


def send_lifted(app: App, req: DsrRequest, to: str) -> None:
    """Tell the person a restriction is about to be lifted (GDPR Art. 18(3))."""
    lang = req.language if req.language in TEXTS else "nl"
    t = TEXTS[lang]
    paragraphs = [
        t["hello"],
        t["lifted"].format(received=_day(req.received_at, lang)),
        t["questions"],
        t["sent_by"].format(sender=app.settings.mail_from_name),
    ]
    _send(app, to, lang, t["lifted_subject"], paragraphs)


# -- reminders to the privacy officer ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reminded:
    """What a reminder run did: the requests it mailed about, and to whom."""

    to: str
    requests: list[DsrRequest]


def remind(app: App, within_days: int | None = None) -> Reminded:
    """Mail the privacy officer the open requests due within N days or overdue, once a day each.

    The requests are marked reminded in the same transaction that picks them, and the
    mail is sent inside it: a mail that fails leaves them unmarked, for the next run.
    """
    to = app.settings.privacy_officer_email
    if not to:
        raise InputError("privacy_officer_email", "no address to remind: set CONSENTRY_PRIVACY_OFFICER_EMAIL")
    days = app.settings.dsr_remind_days if within_days is None else within_days
    if not 0 <= days <= 366:
        raise InputError("within", "must be a number of days from 0 to 366")
    now = app.clock.now()
    today = local_day(now)
    with app.store.writer() as w:
        soon = period_end(today + timedelta(days=days + 1))
        due = [
            q
            for q in w.dsr_requests({RequestState.OPEN, RequestState.IN_PROGRESS}, deadline_before=soon)
            if q.days_left(now) <= days and q.reminded_on != today
        ]
        if due:
            _send_reminder(app, to, due, now)
            for q in due:
                w.put_dsr(q.but(reminded_on=today))
    return Reminded(to, due)


def _send_reminder(app: App, to: str, due: list[DsrRequest], now: datetime) -> None:
    late = sum(1 for q in due if q.overdue(now))
    subject = (
        f"Verzoeken van betrokkenen: {len(due)} bijna of te laat ({late} te laat) / "
        f"Data-subject requests: {len(due)} due soon or overdue ({late} overdue)"
    )
    lines_nl, lines_en = [], []
    for q in due:
        left = q.days_left(now)
        nl, en = day_both(q.deadline_day)
        state_nl = f"{-left} dag(en) te laat" if left < 0 else f"nog {left} dag(en)"
        state_en = f"{-left} day(s) overdue" if left < 0 else f"{left} day(s) left"
        who = q.handler or "-"
        lines_nl.append(f"- {q.id}: {q.kind.value}, uiterlijk {nl} ({state_nl}); behandelaar {who}")
        lines_en.append(f"- {q.id}: {q.kind.value}, due by {en} ({state_en}); handler {who}")
    paragraphs = [
        "Deze verzoeken van betrokkenen moeten binnenkort beantwoord zijn of zijn te laat "
        "(AVG art. 12(3)). Bekijk ze met `consentry dsr list --due-within "
        f"{app.settings.dsr_remind_days}`.",
        "\n".join(lines_nl),
        "These data-subject requests are due soon or overdue (GDPR Art. 12(3)).",
        "\n".join(lines_en),
    ]
    _send(app, to, "nl", subject, paragraphs)
