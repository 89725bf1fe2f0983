"""Loading the demo: a Dutch coffee roaster, its purposes and a dozen telling contacts."""

from __future__ import annotations

from importlib import resources

from consentry.domain.vocabulary import PointKind
from consentry.services import purposes, setup
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.ledger import AppendReport, append_lines

CONTROLLER = "Koffiebranderij De Boon BV"
PURPOSES = (
    ("nieuwsbrief", "Nieuwsbrief", "Newsletter", ("koffiebonen", "apparatuur"), False),
    ("koffie-aanbiedingen", "Aanbiedingen koffie", "Coffee offers", ("koffiebonen",), False),
    ("partner-aanbiedingen", "Aanbiedingen van partners", "Partner offers", ("partners",), True),
)

#: Questions worth asking of the demo data: (contact, channel, purpose, kind, at).
TOUR = (
    ("jan.devries@example.nl", "email", "nieuwsbrief", "marketing", None),
    ("sanne.visser@example.nl", "email", "koffie-aanbiedingen", "marketing", None),
    ("pieter.bos@example.com", "email", "nieuwsbrief", "marketing", None),
    ("m.jansen@example.nl", "email", "koffie-aanbiedingen", "marketing", None),
    ("offertes@bakkerij-voorbeeld.nl", "email", "koffie-aanbiedingen", "marketing", None),
    ("info@installatiebedrijf-voorbeeld.nl", "email", "koffie-aanbiedingen", "marketing", None),
    ("+31612345678", "phone", "koffie-aanbiedingen", "marketing", "2019-05-01"),
    ("+31612345678", "phone", "koffie-aanbiedingen", "marketing", "2025-05-01"),
    ("+31612345678", "phone", "koffie-aanbiedingen", "marketing", "2026-08-01"),
    ("k.bakker@adviesbureau-voorbeeld.nl", "email", "koffie-aanbiedingen", "personal", None),
    ("lisa.mulder@example.nl", "email", "partner-aanbiedingen", "marketing", None),
    ("lead0001@example.org", "email", "nieuwsbrief", "marketing", None),
    ("tom.dekker@example.nl", "email", "nieuwsbrief", "marketing", None),
    (
        "postal:Dorpsstraat 12; 1234 AB Voorbeelddorp",
        "post",
        "koffie-aanbiedingen",
        "marketing",
        None,
    ),
    ("postal:Kerkplein 3; 5678 CD Voorbeeldstad", "post", "koffie-aanbiedingen", "marketing", None),
    # Eva Hendriks, one person with four contact points (contact klant-0042):
    # a number from a sale where no opt-out was offered needs consent (issue #14, point 3);
    ("06 34567890", "phone", "koffie-aanbiedingen", "marketing", "2023-03-01"),
    # a one-off purchase counts for three years, up to and including the anniversary (point 4);
    ("06 23456789", "phone", "koffie-aanbiedingen", "marketing", "2024-09-06"),
    ("06 23456789", "phone", "koffie-aanbiedingen", "marketing", "2024-09-07"),
    # her objection through the preference centre (on her e-mail) closes her post too (point 1).
    ("postal:Lindelaan 8; 3512 AB Utrecht", "post", "koffie-aanbiedingen", "marketing", None),
)


def load(app: App) -> AppendReport:
    """Set up the database if needed and load the demo; refuses to load twice."""
    setup.init(app, name=CONTROLLER, sector="commercial")
    with app.store.reader() as r:
        if r.point_id(PointKind.EMAIL, TOUR[0][0]) is not None:
            raise InputError("demo", "the demo data is already loaded in this database")
    for key, nl, en, cats, third_party in PURPOSES:
        purposes.define(app, key, nl, en, "commercial", cats, third_party, replace=True)
    text = resources.files("consentry.demo").joinpath("demo.jsonl").read_text("utf-8")
    return append_lines(app, text.splitlines())
