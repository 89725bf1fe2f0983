"""Mailchimp audience exports: every listed column mapped, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from consentry.bootstrap import App
from consentry.domain.events import Event
from consentry.domain.vocabulary import PointKind
from consentry.services import ledger
from consentry.services.decide import decide
from consentry.services.errors import InputError
from consentry.services.imports import mailchimp

COMMON = [
    "Email Address", "First Name", "Last Name", "Bedrijf", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC",
    "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip
UNSUB = ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER"]
CLEAN = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]


def member(email: str, **extra: str) -> dict[str, str]:
    base = {
        "Email Address": email,
        "First Name": "Anna",
        "Last Name": "de Groot",
        "Bedrijf": "Groot BV",
        "MEMBER_RATING": "4",
        "OPTIN_TIME": "2023-04-01 08:00:00",
        "OPTIN_IP": "203.0.113.10",
        "CONFIRM_TIME": "2023-04-01 08:05:00",
        "CONFIRM_IP": "203.0.113.11",
        "CC": "NL",
        "REGION": "NH",
        "TIMEZONE": "Europe/Amsterdam",
        "LAST_CHANGED": "2024-01-01 00:00:00",
        "LEID": "123",
        "EUID": "abc123",
        "TAGS": '"Klant","VIP"',
    }
    base.update(extra)
    return base


def csv_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "members_export_f00.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "subscribed_members_export_f00.csv",
            csv_text(
                COMMON,
                [
                    member("anna@example.nl"),
                    member("single@example.nl", CONFIRM_TIME="", CONFIRM_IP=""),
                    member(
                        "geen-tijd@example.nl", OPTIN_TIME="", OPTIN_IP="", CONFIRM_TIME="", CONFIRM_IP=""
                    ),
                    member("kapot", TAGS=""),
                ],
            ),
        )
        z.writestr(
            "unsubscribed_members_export_f00.csv",
            csv_text(
                COMMON + UNSUB,
                [
                    member(
                        "weg@example.nl",
                        UNSUB_TIME="2024-02-01 12:00:00",
                        UNSUB_CAMPAIGN_TITLE="Voorjaarsactie",
                        UNSUB_CAMPAIGN_ID="c1",
                        UNSUB_REASON="Te veel e-mail",
                        UNSUB_REASON_OTHER="",
                    )
                ],
            ),
        )
        z.writestr(
            "cleaned_members_export_f00.csv",
            csv_text(
                COMMON + CLEAN,
                [member("bounce@example.nl", CLEAN_TIME="2024-03-01 09:00:00", CLEAN_CAMPAIGN_TITLE="Maart")],
            ),
        )
    return path


def history(app: App, email: str) -> list[Event]:
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, email)
        assert pid is not None
        return r.events_for(pid)


def payloads(app: App, email: str) -> dict[str, dict[str, Any]]:
    return {e.type: dict(e.payload) for e in history(app, email)}


def test_a_subscribed_member_with_a_confirmation_becomes_a_proven_double_opt_in(
    app: App, export: Path
) -> None:
    result = mailchimp.run(app, export, "nieuwsbrief", audience="Klanten NL")
    by_status = {status: report for _, status, report in result.files}
    assert set(by_status) == {"subscribed", "unsubscribed", "cleaned"}
    p = payloads(app, "anna@example.nl")
    reg, given, confirmed = p["contact_point.registered"], p["consent.given"], p["consent.confirmed"]
    assert reg["attributes"] == {
        "Bedrijf": "Groot BV",
        "First Name": "Anna",
        "Last Name": "de Groot",
        "mailchimp.CC": "NL",
        "mailchimp.MEMBER_RATING": "4",
        "mailchimp.REGION": "NH",
        "mailchimp.TIMEZONE": "Europe/Amsterdam",
    }
    assert reg["tags"] == ["Klant", "VIP"] and reg["display_name"] == "Anna de Groot"
    assert "Klanten NL" in reg["source_detail"] and "LEID 123" in reg["source_detail"]
    assert given["method"] == "double_opt_in" and given["ip"] == "203.0.113.10"
    assert given["source_fields"]["EUID"] == "abc123" and given["source_fields"]["LAST_CHANGED"]
    assert confirmed["ip"] == "203.0.113.11"
    events = {e.type: e for e in history(app, "anna@example.nl")}
    assert events["consent.given"].occurred_at.isoformat() == "2023-04-01T08:00:00+00:00"
    assert events["consent.confirmed"].occurred_at.isoformat() == "2023-04-01T08:05:00+00:00"
    assert decide(app, "anna@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-02"
    rejected = by_status["subscribed"].rejected
    assert [(p.line, p.field) for p in rejected] == [(5, "Email Address")]


def test_missing_evidence_is_reported_not_invented(app: App, export: Path) -> None:
    result = mailchimp.run(app, export, "nieuwsbrief")
    subscribed = next(r for _, s, r in result.files if s == "subscribed")
    assert any("1 member(s) without OPTIN_TIME" in n for n in subscribed.file_notes)
    assert payloads(app, "single@example.nl")["consent.given"]["method"] == "import"
    assert "consent.confirmed" not in payloads(app, "single@example.nl")
    no_time = payloads(app, "geen-tijd@example.nl")["consent.given"]
    assert "OPTIN_TIME" not in no_time["source_fields"] and "ip" not in no_time


def test_unsubscribed_and_cleaned_members_cannot_be_mailed(app: App, export: Path) -> None:
    mailchimp.run(app, export, "nieuwsbrief")
    unsub = payloads(app, "weg@example.nl")["unsubscribed"]
    assert unsub["campaign"] == "Voorjaarsactie" and unsub["reason"] == "Te veel e-mail"
    assert decide(app, "weg@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03"
    bounce = payloads(app, "bounce@example.nl")["bounce.recorded"]
    assert bounce["bounce_kind"] == "hard" and "Maart" in bounce["diagnostic"]
    assert decide(app, "bounce@example.nl", "email", "nieuwsbrief").rule == "OPS-SUPP-01"


def test_importing_the_export_twice_adds_nothing(app: App, export: Path) -> None:
    mailchimp.run(app, export, "nieuwsbrief")
    with app.store.reader() as r:
        before = r.counts()
    again = mailchimp.run(app, export, "nieuwsbrief")
    with app.store.reader() as r:
        assert r.counts() == before
    assert all(report.events == 0 for _, _, report in again.files)


def test_a_single_csv_file_is_imported_by_the_status_in_its_name(app: App, tmp_path: Path) -> None:
    path = tmp_path / "unsubscribed_members_export_x.csv"
    path.write_text(csv_text(COMMON + UNSUB, [member("a@example.nl", UNSUB_TIME="2024-01-01 10:00:00")]))
    (result,) = mailchimp.run(app, path, "nieuwsbrief").files
    assert result[1] == "unsubscribed"
    unnamed = tmp_path / "leden.csv"
    unnamed.write_text(csv_text(COMMON, [member("b@example.nl")]))
    with pytest.raises(InputError, match="give --status"):
        mailchimp.run(app, unnamed, "nieuwsbrief")
    (forced,) = mailchimp.run(app, unnamed, "nieuwsbrief", status="subscribed").files
    assert forced[2].accepted == 1


def test_nonsubscribed_members_are_registered_without_a_consent(app: App, tmp_path: Path) -> None:
    """Mailchimp's nonsubscribed file ("subscribed" is in its name) holds contacts who never
    opted in: they are registered, with no consent and no basis claimed, and not mailed."""
    path = tmp_path / "members_export_n.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("subscribed_members_export_n.csv", csv_text(COMMON, [member("lid@example.nl")]))
        z.writestr(
            "nonsubscribed_members_export_n.csv",
            csv_text(COMMON, [member("klant@example.nl", CONFIRM_TIME="", CONFIRM_IP="")]),
        )
    assert mailchimp.status_of("nonsubscribed_members_export_n.csv") == "nonsubscribed"
    files = mailchimp.run(app, path, "nieuwsbrief").files
    assert [(name, status) for name, status, _ in files] == [
        ("subscribed_members_export_n.csv", "subscribed"),
        ("nonsubscribed_members_export_n.csv", "nonsubscribed"),
    ]
    report = files[1].report
    assert (report.rows, report.imported, report.rejected_rows) == (1, 1, 0)
    assert any("never opted in" in note for note in report.file_notes)
    assert [e.type for e in history(app, "klant@example.nl")] == ["contact_point.registered"]
    assert "stated_basis" not in payloads(app, "klant@example.nl")["contact_point.registered"]
    assert decide(app, "klant@example.nl", "email", "nieuwsbrief").verdict == "deny"
    assert decide(app, "lid@example.nl", "email", "nieuwsbrief").verdict == "allow"


def test_a_zip_with_a_csv_of_no_known_status_is_refused_whole(app: App, tmp_path: Path) -> None:
    path = tmp_path / "members_export_u.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("subscribed_members_export_u.csv", csv_text(COMMON, [member("lid@example.nl")]))
        z.writestr("archived_members_export_u.csv", csv_text(COMMON, [member("oud@example.nl")]))
    with pytest.raises(InputError, match=r"archived_members_export_u\.csv.*--status"):
        mailchimp.run(app, path, "nieuwsbrief")
    with app.store.reader() as r:
        assert r.counts()["events"] == 0


def test_a_consent_without_its_opt_in_time_does_not_lift_an_unsubscribe_the_ledger_holds(
    app: App, tmp_path: Path
) -> None:
    """A stale export names someone who unsubscribed since as subscribed, without an opt-in time:
    dated at the import, the consent would come after the unsubscribe and lift it. It is left
    out with a note; a consent with its time after the unsubscribe is the export's proof."""
    for who in ("weg@example.nl", "terug@example.nl"):
        registered = {"type": "contact_point.registered", "kind": "email", "value": who, "source": "web_form"}
        ledger.append_records(
            app,
            [
                (1, registered),
                (2, {"type": "consent.given", "contact": who, "purpose": "nieuwsbrief", "channels": ["email"],
                     "method": "double_opt_in", "occurred_at": "2023-01-01T10:00:00+00:00"}),
                (3, {"type": "consent.confirmed", "contact": who, "purpose": "nieuwsbrief",
                     "occurred_at": "2023-01-01T10:05:00+00:00"}),
                (4, {"type": "unsubscribed", "contact": who, "occurred_at": "2024-02-01T12:00:00+00:00"}),
            ],
        )  # fmt: skip
    path = tmp_path / "subscribed_members_export_oud.csv"
    path.write_text(
        csv_text(
            COMMON,
            [
                member("weg@example.nl", OPTIN_TIME="", OPTIN_IP="", CONFIRM_TIME="2022-12-01 08:00:00"),
                member(
                    "terug@example.nl", OPTIN_TIME="2024-06-01 08:00:00", CONFIRM_TIME="2024-06-01 08:05:00"
                ),
                member("nieuw@example.nl", OPTIN_TIME="", OPTIN_IP="", CONFIRM_TIME="", CONFIRM_IP=""),
            ],
        )
    )
    (file,) = mailchimp.run(app, path, "nieuwsbrief").files
    report = file.report
    assert report.rejected == [] and (report.imported, report.merged) == (1, 2)
    notes = [(n.line, n.field, n.message) for n in report.notes]
    assert (2, "consent", "not recorded: this contact opted out of nieuwsbrief on 2024-02-01, "
            "and a consent without its opt-in time cannot lift that") in notes  # fmt: skip
    assert decide(app, "weg@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03"
    assert decide(app, "terug@example.nl", "email", "nieuwsbrief").verdict == "allow"
    assert "consent.given" in payloads(app, "nieuw@example.nl")  # no opt-out: dated at the import
    again = mailchimp.run(app, path, "nieuwsbrief").files[0].report
    assert again.events == 0 and decide(app, "weg@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03"


def _two_files(path: Path, unsub_time: str) -> Path:
    """An export of a subscribed and an unsubscribed member, the latter's UNSUB_TIME as given."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"subscribed_{path.stem}.csv", csv_text(COMMON, [member("lid@example.nl")]))
        z.writestr(
            f"unsubscribed_{path.stem}.csv",
            csv_text(COMMON + UNSUB, [member("weg@example.nl", UNSUB_TIME=unsub_time)]),
        )
    return path


def test_strict_over_a_zip_writes_no_file_when_one_has_a_problem(app: App, tmp_path: Path) -> None:
    path = _two_files(tmp_path / "members_export_s.zip", "gisteren")
    files = mailchimp.run(app, path, "nieuwsbrief", strict=True).files
    assert [(f.status, f.report.committed, f.report.dry_run) for f in files] == [
        ("subscribed", False, False),
        ("unsubscribed", False, False),
    ]
    assert [p.field for p in files[1].report.rejected] == ["UNSUB_TIME"]
    with app.store.reader() as r:
        assert r.counts()["events"] == 0
    fixed = _two_files(tmp_path / "members_export_t.zip", "2024-02-01 12:00:00")
    files = mailchimp.run(app, fixed, "nieuwsbrief", strict=True).files
    assert [f.report.committed for f in files] == [True, True]
    assert decide(app, "weg@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03"
