"""Dutch first, English second: choosing the language and the texts of pages and e-mails."""

from __future__ import annotations

from datetime import datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from consentry.domain.clock import LOCAL_TZ

LANGS = ("nl", "en")
DEFAULT = "nl"

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "mail.confirm.subject": "Bevestig je inschrijving",
        "mail.confirm.greeting": "Hallo,",
        "mail.confirm.body": (
            "Je hebt je via ons formulier aangemeld voor het volgende. Dat gaat pas in als je "
            "het bevestigt met de link hieronder."
        ),
        "mail.confirm.action": "Bevestig je inschrijving",
        "mail.confirm.expiry": "De link is {days} dagen geldig.",
        "mail.confirm.ignore": (
            "Heb je je niet aangemeld? Negeer dan deze e-mail; zonder bevestiging sturen we je niets."
        ),
        "mail.sender": "Verstuurd door {sender}.",
        # -- campaign messages (consentry.services.compose) ----------------------------
        "campaign.unsubscribe": "Afmelden voor deze berichten kan met één klik: {url}",
        "campaign.preferences": "Je voorkeuren aanpassen: {url}",
        "campaign.object": (
            "Je mag altijd bezwaar maken tegen het gebruik van je gegevens voor direct marketing, "
            "kosteloos; daarna sturen we je niets meer: {url}"
        ),
        "campaign.notice14": (
            "Waarom krijg je dit bericht? Je gegevens hebben we niet van jezelf, maar via {source}. "
            "{controller} gebruikt ze voor: {purpose}. Je kunt je gegevens inzien, laten "
            "verwijderen of bezwaar maken: {url}"
        ),
        "campaign.sender": "Afzender: {identity}",
        "campaign.sms.unsubscribe": "Afmelden: {url}",
        "campaign.sms.notice14": "Je nummer hebben we via {source}. Je rechten: {url}",
        "source.business_card": "een visitekaartje",
        "source.public_profile": "een openbaar profiel",
        "source.public_register": "een openbaar register",
        "source.third_party_list_with_proof": "een adressenbestand van een andere organisatie",
        "source.third_party_list_without_proof": "een adressenbestand van een andere organisatie",
        "source.referral": "een doorverwijzing",
        "source.linkedin": "LinkedIn",
        "source.other": "een andere bron",
        # -- public pages ----------------------------------------------------------------
        "page.skip": "Naar de inhoud",
        "page.lang.switch": "Taal",
        "page.footer": "Geen trackers. Alleen een cookie om je taalkeuze te onthouden, als je die maakt.",
        "page.error_prefix": "Fout:",
        "page.form.email": "E-mailadres",
        "page.form.email_hint": "We sturen je een e-mail om je aanmelding te bevestigen.",
        "page.form.email_error": "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.",
        "page.form.choices": "Waarvoor geef je toestemming?",
        "page.form.choices_hint": "Vink aan wat je wilt ontvangen. Je kunt je altijd weer uitschrijven.",
        "page.form.choices_error": "Kies alleen uit de keuzes op dit formulier.",
        "page.form.lead_magnet": "Je krijgt ‘{title}’ ook als je niets aanvinkt.",
        "page.form.lead_magnet_default": "de download",
        "page.form.submit": "Aanmelden",
        "page.form.error_summary": "Er is iets niet goed ingevuld",
        "page.thanks.title": "Bedankt",
        "page.thanks.check_inbox": (
            "Kijk in je inbox: we hebben je een e-mail gestuurd met een link om je aanmelding te "
            "bevestigen. Pas als je die bevestigt, sturen we je iets."
        ),
        "page.thanks.spam": (
            "Geen e-mail gezien? Kijk ook bij je ongewenste e-mail. De link is {days} dagen geldig."
        ),
        "page.thanks.nothing": "Je hebt niets aangevinkt, dus we sturen je geen berichten.",
        "page.thanks.download": "Download ‘{title}’",
        "page.confirm.title": "Bevestig je inschrijving",
        "page.confirm.text": "Klik op de knop om je inschrijving te bevestigen.",
        "page.confirm.button": "Ja, bevestig mijn inschrijving",
        "page.confirmed.title": "Je inschrijving is bevestigd",
        "page.confirmed.text": "Je ontvangt voortaan:",
        "page.confirmed.already_title": "Je had dit al bevestigd",
        "page.confirmed.already_text": "Er is niets veranderd. Je inschrijving geldt voor:",
        "page.preferences.link": "Je voorkeuren bekijken of aanpassen",
        "page.unsub.title": "Uitschrijven",
        "page.unsub.for_purpose": "Je schrijft je uit voor: {purpose}.",
        "page.unsub.for_all": "Je schrijft je uit voor alle berichten van ons.",
        "page.unsub.button": "Uitschrijven",
        "page.unsub.all_hint": "Wil je helemaal niets meer van ons ontvangen?",
        "page.unsub.all_button": "Uitschrijven voor alles",
        "page.unsubscribed.title": "Je bent uitgeschreven",
        "page.unsubscribed.purpose": "Je ontvangt ‘{purpose}’ niet meer. Dat gaat direct in.",
        "page.unsubscribed.all": "Je ontvangt geen berichten meer van ons. Dat gaat direct in.",
        "page.unsubscribed.more": "Wil je nog meer aanpassen?",
        "page.prefs.title": "Je voorkeuren",
        "page.prefs.for": "Voor {address}",
        "page.prefs.choices": "Wat wil je ontvangen?",
        "page.prefs.choices_hint": "Vink aan wat je wilt ontvangen en sla je keuze op.",
        "page.prefs.none": "Er is nog niets om uit te kiezen.",
        "page.prefs.receiving": "Je ontvangt dit.",
        "page.prefs.not_receiving": "Je ontvangt dit niet.",
        "page.prefs.status": "Status: {status}.",
        "page.prefs.save": "Voorkeuren opslaan",
        "page.prefs.object_heading": "Bezwaar maken",
        "page.prefs.object_text": (
            "Je mag altijd bezwaar maken tegen direct marketing en tegen profilering daarvoor "
            "(artikel 21 AVG). Daarna gebruiken we je gegevens daar niet meer voor."
        ),
        "page.prefs.object_direct_marketing": "Bezwaar maken tegen alle direct marketing",
        "page.prefs.object_profiling": "Bezwaar maken tegen profilering",
        "page.prefs.objected_direct_marketing": "Je hebt bezwaar gemaakt tegen direct marketing.",
        "page.prefs.objected_profiling": "Je hebt bezwaar gemaakt tegen profilering.",
        "page.prefs.request_heading": "Je gegevens",
        "page.prefs.request_text": (
            "Vraag een kopie van je gegevens op of laat ze wissen. We handelen je verzoek binnen "
            "een maand af."
        ),
        "page.prefs.note": "Toelichting (niet verplicht)",
        "page.prefs.request_access": "Kopie van mijn gegevens aanvragen",
        "page.prefs.request_erasure": "Mijn gegevens laten wissen",
        "page.prefs.requests_made": "Je verzoeken",
        "page.prefs.request_line": "{kind}, ontvangen op {when}",
        "page.request.access": "Kopie van gegevens",
        "page.request.erasure": "Wissen van gegevens",
        "page.done.saved": "Je voorkeuren zijn opgeslagen.",
        "page.done.object_direct_marketing": (
            "Je bezwaar tegen direct marketing is vastgelegd. Dat gaat direct in en geldt voor alle "
            "kanalen en al je adressen en nummers bij ons: e-mail, sms, telefoon en post."
        ),
        "page.done.object_profiling": (
            "Je bezwaar tegen profilering is vastgelegd. Dat gaat direct in en geldt voor al je "
            "adressen en nummers bij ons."
        ),
        "page.done.access": "We hebben je verzoek om een kopie ontvangen. Je hoort binnen een maand van ons.",
        "page.done.erasure": (
            "We hebben je verzoek om je gegevens te wissen ontvangen. Je hoort binnen een maand van ons."
        ),
        "page.status.subscribed": "ingeschreven",
        "page.status.pending": "wacht op je bevestiging",
        "page.status.expired": "bevestiging verlopen",
        "page.status.unsubscribed": "uitgeschreven",
        "page.status.none": "geen keuze gemaakt",
        "page.channel.email": "e-mail",
        "page.channel.sms": "sms",
        "page.channel.messaging_app": "berichtenapp",
        "page.channel.phone": "telefoon",
        "page.channel.automated_call": "automatische oproep",
        "page.channel.post": "post",
        "page.channel.fax": "fax",
        "page.field.email": "E-mailadres",
        "page.field.purposes": "Keuzes",
        "page.field.preferences": "Voorkeuren",
        "page.field.scope": "Bezwaar",
        "page.field.request": "Verzoek",
        "page.field.lang": "Taal",
        "page.error.reload": "Open de pagina opnieuw",
        "page.error.invalid.title": "Deze link is niet geldig",
        "page.error.invalid.text": (
            "Controleer of je de hele link uit de e-mail hebt gebruikt; sommige e-mailprogramma's "
            "knippen lange links af."
        ),
        "page.error.expired.title": "Deze link is verlopen",
        "page.error.expired.text": (
            "Een bevestigingslink is {days} dagen geldig. Meld je opnieuw aan om een nieuwe te krijgen; "
            "zonder bevestiging sturen we je niets."
        ),
        "page.error.form.title": "Dit formulier bestaat niet",
        "page.error.form.text": "Het formulier is misschien weggehaald, of het adres is niet helemaal goed.",
        "page.error.csrf.title": "Dit formulier is verlopen",
        "page.error.csrf.text": (
            "Om je te beschermen nemen we een formulier alleen aan als het kort geleden op deze "
            "website is geopend. Er is niets opgeslagen. Open de pagina opnieuw en probeer het nog eens."
        ),
        "page.error.rate.title": "Even geduld",
        "page.error.rate.text": ("Er zijn te veel pogingen gedaan. Probeer het over {minutes} min. opnieuw."),
        "page.error.input.title": "Er is iets niet goed ingevuld",
        "page.error.input.text": "Controleer ‘{field}’ en probeer het opnieuw. Er is niets opgeslagen.",
        "page.error.one_click.title": "Dit verzoek is niet compleet",
        "page.error.one_click.text": (
            "Er is niets veranderd. Gebruik de knop op de pagina van de uitschrijflink."
        ),
    },
    "en": {
        "mail.confirm.subject": "Confirm your subscription",
        "mail.confirm.greeting": "Hello,",
        "mail.confirm.body": (
            "You signed up through our form for the following. It only takes effect once you "
            "confirm it with the link below."
        ),
        "mail.confirm.action": "Confirm your subscription",
        "mail.confirm.expiry": "The link is valid for {days} days.",
        "mail.confirm.ignore": (
            "Did not sign up? Then ignore this e-mail; without confirmation we send you nothing."
        ),
        "mail.sender": "Sent by {sender}.",
        # -- campaign messages (consentry.services.compose) ----------------------------
        "campaign.unsubscribe": "Unsubscribe from these messages with one click: {url}",
        "campaign.preferences": "Change your preferences: {url}",
        "campaign.object": (
            "You may object at any time, free of charge, to the use of your data for direct "
            "marketing; we then send you nothing more: {url}"
        ),
        "campaign.notice14": (
            "Why do you receive this message? We did not get your details from you but through "
            "{source}. {controller} uses them for: {purpose}. You can see your data, have it "
            "erased or object: {url}"
        ),
        "campaign.sender": "Sender: {identity}",
        "campaign.sms.unsubscribe": "Unsubscribe: {url}",
        "campaign.sms.notice14": "We got your number through {source}. Your rights: {url}",
        "source.business_card": "a business card",
        "source.public_profile": "a public profile",
        "source.public_register": "a public register",
        "source.third_party_list_with_proof": "an address list from another organisation",
        "source.third_party_list_without_proof": "an address list from another organisation",
        "source.referral": "a referral",
        "source.linkedin": "LinkedIn",
        "source.other": "another source",
        # -- public pages ----------------------------------------------------------------
        "page.skip": "Skip to content",
        "page.lang.switch": "Language",
        "page.footer": "No trackers. Only a cookie to remember your language choice, if you make one.",
        "page.error_prefix": "Error:",
        "page.form.email": "E-mail address",
        "page.form.email_hint": "We will send you an e-mail to confirm your sign-up.",
        "page.form.email_error": "Enter a valid e-mail address, for example name@example.com.",
        "page.form.choices": "What do you consent to?",
        "page.form.choices_hint": "Tick what you want to receive. You can unsubscribe at any time.",
        "page.form.choices_error": "Choose only from the choices on this form.",
        "page.form.lead_magnet": "You get ‘{title}’ even if you tick nothing.",
        "page.form.lead_magnet_default": "the download",
        "page.form.submit": "Sign up",
        "page.form.error_summary": "Something needs correcting",
        "page.thanks.title": "Thank you",
        "page.thanks.check_inbox": (
            "Check your inbox: we sent you an e-mail with a link to confirm your sign-up. "
            "We send you nothing until you confirm."
        ),
        "page.thanks.spam": "No e-mail? Look in your spam folder too. The link is valid for {days} days.",
        "page.thanks.nothing": "You ticked nothing, so we will not send you any messages.",
        "page.thanks.download": "Download ‘{title}’",
        "page.confirm.title": "Confirm your subscription",
        "page.confirm.text": "Press the button to confirm your subscription.",
        "page.confirm.button": "Yes, confirm my subscription",
        "page.confirmed.title": "Your subscription is confirmed",
        "page.confirmed.text": "From now on you receive:",
        "page.confirmed.already_title": "You had already confirmed this",
        "page.confirmed.already_text": "Nothing has changed. Your subscription covers:",
        "page.preferences.link": "See or change your preferences",
        "page.unsub.title": "Unsubscribe",
        "page.unsub.for_purpose": "You are unsubscribing from: {purpose}.",
        "page.unsub.for_all": "You are unsubscribing from all our messages.",
        "page.unsub.button": "Unsubscribe",
        "page.unsub.all_hint": "Want to receive nothing from us at all?",
        "page.unsub.all_button": "Unsubscribe from everything",
        "page.unsubscribed.title": "You are unsubscribed",
        "page.unsubscribed.purpose": "You will no longer receive ‘{purpose}’. This takes effect immediately.",
        "page.unsubscribed.all": (
            "You will no longer receive messages from us. This takes effect immediately."
        ),
        "page.unsubscribed.more": "Want to change anything else?",
        "page.prefs.title": "Your preferences",
        "page.prefs.for": "For {address}",
        "page.prefs.choices": "What do you want to receive?",
        "page.prefs.choices_hint": "Tick what you want to receive and save your choice.",
        "page.prefs.none": "There is nothing to choose from yet.",
        "page.prefs.receiving": "You receive this.",
        "page.prefs.not_receiving": "You do not receive this.",
        "page.prefs.status": "Status: {status}.",
        "page.prefs.save": "Save preferences",
        "page.prefs.object_heading": "Object",
        "page.prefs.object_text": (
            "You may always object to direct marketing and to profiling for it (Article 21 GDPR). "
            "After that we no longer use your data for it."
        ),
        "page.prefs.object_direct_marketing": "Object to all direct marketing",
        "page.prefs.object_profiling": "Object to profiling",
        "page.prefs.objected_direct_marketing": "You have objected to direct marketing.",
        "page.prefs.objected_profiling": "You have objected to profiling.",
        "page.prefs.request_heading": "Your data",
        "page.prefs.request_text": (
            "Ask for a copy of your data or have it erased. We handle your request within one month."
        ),
        "page.prefs.note": "Note (optional)",
        "page.prefs.request_access": "Request a copy of my data",
        "page.prefs.request_erasure": "Have my data erased",
        "page.prefs.requests_made": "Your requests",
        "page.prefs.request_line": "{kind}, received {when}",
        "page.request.access": "Copy of data",
        "page.request.erasure": "Erasure of data",
        "page.done.saved": "Your preferences have been saved.",
        "page.done.object_direct_marketing": (
            "Your objection to direct marketing has been recorded. It takes effect immediately and "
            "covers every channel and every address and number we hold for you: e-mail, SMS, phone "
            "and post."
        ),
        "page.done.object_profiling": (
            "Your objection to profiling has been recorded. It takes effect immediately and covers "
            "every address and number we hold for you."
        ),
        "page.done.access": "We received your request for a copy. You will hear from us within one month.",
        "page.done.erasure": (
            "We received your request to erase your data. You will hear from us within one month."
        ),
        "page.status.subscribed": "subscribed",
        "page.status.pending": "awaiting your confirmation",
        "page.status.expired": "confirmation expired",
        "page.status.unsubscribed": "unsubscribed",
        "page.status.none": "no choice made",
        "page.channel.email": "e-mail",
        "page.channel.sms": "text message",
        "page.channel.messaging_app": "messaging app",
        "page.channel.phone": "phone",
        "page.channel.automated_call": "automated call",
        "page.channel.post": "post",
        "page.channel.fax": "fax",
        "page.field.email": "E-mail address",
        "page.field.purposes": "Choices",
        "page.field.preferences": "Preferences",
        "page.field.scope": "Objection",
        "page.field.request": "Request",
        "page.field.lang": "Language",
        "page.error.reload": "Open the page again",
        "page.error.invalid.title": "This link is not valid",
        "page.error.invalid.text": (
            "Check that you used the whole link from the e-mail; some e-mail programs cut long links short."
        ),
        "page.error.expired.title": "This link has expired",
        "page.error.expired.text": (
            "A confirmation link is valid for {days} days. Sign up again to get a new one; without "
            "confirmation we send you nothing."
        ),
        "page.error.form.title": "This form does not exist",
        "page.error.form.text": "The form may have been removed, or the address is not quite right.",
        "page.error.csrf.title": "This form has expired",
        "page.error.csrf.text": (
            "To protect you, we only accept a form that was opened on this website a short while ago. "
            "Nothing was saved. Open the page again and try once more."
        ),
        "page.error.rate.title": "Please wait",
        "page.error.rate.text": "There were too many attempts. Try again in {minutes} min.",
        "page.error.input.title": "Something was not filled in correctly",
        "page.error.input.text": "Check ‘{field}’ and try again. Nothing was saved.",
        "page.error.one_click.title": "This request is incomplete",
        "page.error.one_click.text": "Nothing was changed. Use the button on the unsubscribe link's page.",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang` (Dutch when missing), with values filled in."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT][key]
    return text.format(**values) if values else text


def negotiate(accept_language: str | None, asked: str | None = None) -> str:
    """The language to answer in: what was asked for, else the browser's, else Dutch."""
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if not tag or tag == "*":
            continue
        try:
            lang = Locale.parse(tag).language
        except (ValueError, UnknownLocaleError):
            continue
        if lang in LANGS:
            return lang
    return DEFAULT


def when(moment: datetime, lang: str) -> str:
    """A moment as a person reads it, in Dutch local time."""
    return format_datetime(moment.astimezone(LOCAL_TZ), "medium", locale=lang)
