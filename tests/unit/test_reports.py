"""Reading DSN (RFC 3464) and ARF (RFC 5965) reports from raw messages."""

from __future__ import annotations

import pytest

from consentry.adapters.reports import ReportError, parse_arf, parse_dsn


def dsn(*recipient_blocks: str, returned: str = "text/rfc822-headers") -> bytes:
    """A bounce as a receiving system would send it back, with the given recipient blocks."""
    blocks = "\n".join(recipient_blocks)
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.voorbeeld.nl>
To: bounces@winkel.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="grens-1"

--grens-1
Content-Type: text/plain; charset=utf-8

Uw bericht kon niet worden afgeleverd.

--grens-1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.voorbeeld.nl
Arrival-Date: Mon, 2 Nov 2026 10:00:00 +0100

{blocks}
--grens-1
Content-Type: {returned}

Message-ID: <c1.cp_000001@winkel.example>
From: Winkel <nieuws@winkel.example>
To: jan@example.nl
Subject: Nieuwsbrief november

--grens-1--
""".encode()


FAILED = """Final-Recipient: rfc822; jan@example.nl
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <jan@example.nl>:
 Recipient address rejected: User unknown
Last-Attempt-Date: Mon, 2 Nov 2026 10:00:05 +0100
"""


def arf(
    fields: str, headers: str = "Message-ID: <c1.cp_000002@winkel.example>\nTo: piet@example.nl\n"
) -> bytes:
    return f"""From: abuse@provider.example
To: fbl@winkel.example
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="fbl"

--fbl
Content-Type: text/plain

A recipient marked this message as spam.

--fbl
Content-Type: message/feedback-report

{fields}
--fbl
Content-Type: text/rfc822-headers

{headers}
--fbl--
""".encode()


ABUSE = """Feedback-Type: abuse
User-Agent: ProviderFBL/2.1
Version: 1
Original-Rcpt-To: <piet@example.nl>
Arrival-Date: Tue, 3 Nov 2026 09:15:00 +0000
Reporting-MTA: dns; fbl.provider.example
"""


def test_a_dsn_names_the_recipient_its_status_diagnostic_and_the_returned_message_id() -> None:
    report = parse_dsn(dsn(FAILED))
    (r,) = report.recipients
    assert (r.recipient, r.action, r.status) == ("jan@example.nl", "failed", "5.1.1")
    assert r.diagnostic == "550 5.1.1 <jan@example.nl>: Recipient address rejected: User unknown"
    assert r.at == "2026-11-02T10:00:05+01:00"
    assert report.message_id == "c1.cp_000001@winkel.example"
    assert report.reporting_mta == "mx.voorbeeld.nl"


def test_a_dsn_prefers_the_original_recipient_and_reads_every_recipient_block() -> None:
    forwarded = "Original-Recipient: rfc822; info@example.nl\n" + FAILED.replace("Last-Attempt-Date", "X-Old")
    delayed = "Final-Recipient: rfc822; piet@example.nl\nAction: delayed\nStatus: 4.2.2\n"
    report = parse_dsn(dsn(forwarded, delayed, returned="message/rfc822"))
    assert [(r.recipient, r.action, r.status) for r in report.recipients] == [
        ("info@example.nl", "failed", "5.1.1"),
        ("piet@example.nl", "delayed", "4.2.2"),
    ]
    assert report.recipients[1].at == "2026-11-02T10:00:00+01:00"  # the message's arrival date
    assert report.message_id == "c1.cp_000001@winkel.example"


def test_a_message_that_is_not_a_dsn_is_refused_with_what_it_is() -> None:
    with pytest.raises(ReportError, match="it is text/plain"):
        parse_dsn(b"From: a@b\nSubject: hoi\n\nGewoon een bericht.\n")
    with pytest.raises(ReportError, match="report-type=feedback-report"):
        parse_dsn(arf(ABUSE))
    with pytest.raises(ReportError, match="lacks Final-Recipient"):
        parse_dsn(dsn("Final-Recipient: rfc822; jan@example.nl\n"))


def test_an_arf_report_names_the_complainant_type_source_and_message() -> None:
    report = parse_arf(arf(ABUSE))
    assert report.recipient == "piet@example.nl" and report.feedback_type == "abuse"
    assert report.source == "fbl.provider.example"
    assert report.message_id == "c1.cp_000002@winkel.example"
    assert report.at == "2026-11-03T09:15:00+00:00"


def test_an_arf_report_without_original_rcpt_to_falls_back_on_the_reported_messages_to() -> None:
    fields = "Feedback-Type: fraud\nUser-Agent: ProviderFBL/2.1\nVersion: 1\n"
    report = parse_arf(arf(fields))
    assert (report.recipient, report.feedback_type, report.source) == (
        "piet@example.nl",
        "fraud",
        "ProviderFBL/2.1",
    )


def test_an_arf_report_with_the_recipient_redacted_is_refused() -> None:
    fields = "Feedback-Type: abuse\nVersion: 1\n"
    with pytest.raises(ReportError, match="does not say who complained"):
        parse_arf(arf(fields, headers="Message-ID: <x@y>\nTo: redacted\n"))
