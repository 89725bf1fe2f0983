"""An import in blocks (`runner.BLOCK_ROWS` rows each), on SQLite and PostgreSQL.

However a file's rows fall into blocks and transactions — contacts repeated in a later
block, points the ledger knows, a crash or a broken line half way — the ledger
verifies and its projection equals a rebuild (state and point_facts).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import power_cut
from consentry.bootstrap import App
from consentry.domain.fold import fold
from consentry.domain.ids import DerivedIds, derived_id
from consentry.domain.vocabulary import PointKind, Source
from consentry.services import imports, integrity, ledger
from consentry.services.decide import decide
from consentry.services.errors import InputError
from consentry.services.imports import mailchimp, runner

COLUMNS = [
    "Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "CC", "LEID", "TAGS",
]  # fmt: skip


def member(i: int, email: str | None = None, **extra: str) -> dict[str, str]:
    row = {
        "Email Address": email or f"lid{i}@example.nl",
        "First Name": f"Lid {i}",
        "Last Name": "de Groot",
        "MEMBER_RATING": str(i % 5 + 1),
        "OPTIN_TIME": f"2023-04-{i % 28 + 1:02d} 08:00:00",
        "OPTIN_IP": f"203.0.113.{i % 250 + 1}",
        "CONFIRM_TIME": f"2023-04-{i % 28 + 1:02d} 08:05:00" if i % 3 else "",
        "CONFIRM_IP": "203.0.113.200" if i % 3 else "",
        "CC": "NL",
        "LEID": str(1000 + i),
        "TAGS": '"Klant","VIP"' if i % 2 else "",
    }
    row.update(extra)
    return row


def export(tmp_path: Path, rows: list[dict[str, str]], name: str = "subscribed_members_export_x.csv") -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / name
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def awkward(n: int = 40) -> list[dict[str, str]]:
    """Members with what files have: duplicates near and far, a bad address, a bad time, role addresses."""
    rows = [member(i) for i in range(n)]
    rows[3] = member(3, email="info@bakkerij.nl")
    rows[4] = member(4, email="INFO@bakkerij.nl", LEID="9")  # same contact, next row: merged
    rows[7] = member(7, email="kapot")
    rows[9] = member(9, OPTIN_TIME="gisteren")
    rows[25] = member(25, email="lid1@example.nl", TAGS='"Later"')  # same contact, a later block
    return rows


def projection(app: App) -> tuple[Any, Any]:
    """The projection's rows: the facts with their sealed value and name opened, and the terms.

    Sealed columns are compared opened: each sealing draws a fresh nonce.
    """
    with app.store.reader() as r:
        rows = r.conn.execute(sa.text("SELECT * FROM point_facts ORDER BY contact_point_id")).mappings().all()
        opened = r.open_facts([(m["contact_id"], m["value_ct"], m["name_ct"]) for m in rows])
        facts = [
            {**{k: v for k, v in m.items() if not k.endswith("_ct")}, "value": o[0], "name": o[1]}
            for m, o in zip(rows, opened, strict=True)
        ]
        terms = r.conn.execute(sa.text("SELECT * FROM point_terms ORDER BY point_no, term")).all()
    return facts, terms


def assert_consistent(app: App) -> None:
    """The chain verifies and the projection is what a rebuild makes of the ledger."""
    assert integrity.verify_ledger(app).ok
    before = projection(app)
    assert before[0]
    integrity.rebuild_projection(app)
    assert projection(app) == before


def summary(report: imports.ImportReport) -> tuple[Any, ...]:
    return (
        report.rows,
        report.accepted,
        [(p.line, p.field, p.message) for p in report.rejected],
        sorted((n.line, n.field, n.message) for n in report.notes),
        report.new_points,
        report.existing_points,
        report.events,
        report.already_imported,
        report.tally,
    )


def test_a_file_of_several_blocks_leaves_a_consistent_ledger_and_a_full_report(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    path = export(tmp_path, awkward())
    report = mailchimp.run(app, path, "nieuwsbrief", status="subscribed").files[0].report
    assert_consistent(app)
    assert [p.line for p in report.rejected] == [9, 11]  # the bad address, the bad time
    assert report.notes and report.rows == 40 and report.accepted == 38
    assert (report.new_points, report.existing_points) == (36, 1)  # info@ merged; lid1 again, later


def test_a_file_partly_in_the_ledger_adds_only_what_is_new(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 8)
    rows = awkward(30)
    first = mailchimp.run(app, export(tmp_path, rows[::3], "subscribed_a.csv"), "nieuwsbrief")
    assert first.files[0].report.new_points
    # Every third member known, some with a changed profile.
    changed = [member(i, LEID="777") if i % 6 == 0 else r for i, r in enumerate(rows)]
    report = mailchimp.run(app, export(tmp_path, changed, "subscribed_b.csv"), "nieuwsbrief").files[0].report
    assert report.existing_points and report.new_points and report.already_imported
    assert_consistent(app)
    with app.store.reader() as r:
        seq = r.counts()["events"]
        lid1 = r.point_id(PointKind.EMAIL, "lid1@example.nl")
    again = mailchimp.run(app, export(tmp_path, changed, "subscribed_b.csv"), "nieuwsbrief").files[0].report
    assert again.new_points == 0
    # The file names lid1 twice (lines 3 and 27) with another name and rating: a profile is
    # compared with the point's state, so each of its rows sets them again, the last one last.
    # Every other member adds nothing.
    with app.store.reader() as r:
        added = [e for e in r.events_for(lid1) if e.seq and e.seq > seq]
        assert r.counts()["events"] - seq == again.events == len(added) == 4
        assert r.state(lid1)["attributes"]["mailchimp.MEMBER_RATING"] == "1"  # line 27's
    assert_consistent(app)


def test_a_profile_changed_back_in_the_source_is_changed_back_in_the_ledger(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rating 3, then 4, then 3 again, and a corrected name: each file's profile is compared
    with the point's state, so the ledger follows the source; the same file again adds nothing."""
    for n, (rating, first_name) in enumerate((("3", "Lid"), ("4", "Lid"), ("3", "Lidia"), ("4", "Lidia"))):
        path = export(
            tmp_path, [member(0, MEMBER_RATING=rating, **{"First Name": first_name})], f"subscribed_{n}.csv"
        )
        mailchimp.run(app, path, "nieuwsbrief")
        with app.store.reader() as r:
            point = r.point_id(PointKind.EMAIL, "lid0@example.nl")
            assert point is not None
            state = fold(point, r.events_for(point))
        assert (state.attributes["mailchimp.MEMBER_RATING"], state.display_name) == (
            rating,
            f"{first_name} de Groot",
        )
        assert mailchimp.run(app, path, "nieuwsbrief").files[0].report.events == 0
    assert_consistent(app)


def test_an_import_of_several_blocks_that_crashed_half_way_can_be_run_again(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    path = export(tmp_path, [member(i) for i in range(35)])
    with power_cut(runner, "_write_block", on_call=3):
        mailchimp.run(app, path, "nieuwsbrief")
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 20
    assert_consistent(app)
    rerun = mailchimp.run(app, path, "nieuwsbrief").files[0].report
    assert (rerun.new_points, rerun.existing_points, rerun.already_imported > 0) == (15, 20, True)
    assert_consistent(app)
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 35


def test_strict_and_dry_run_write_no_block(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    path = export(tmp_path, awkward())
    strict = mailchimp.run(app, path, "nieuwsbrief", strict=True).files[0].report
    dry = mailchimp.run(app, path, "nieuwsbrief", dry_run=True).files[0].report
    with app.store.reader() as r:
        assert r.counts()["events"] == 0
    assert strict.rejected and not strict.committed and not dry.committed
    real = mailchimp.run(app, path, "nieuwsbrief").files[0].report
    assert summary(dry) == summary(real)


def test_a_value_beyond_the_field_limit_is_one_rejected_row_and_the_rows_after_it_are_read(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    path = export(tmp_path, [member(i) for i in range(25)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write('"' + "x" * 200_000 + '",a\n')  # beyond the csv module's field limit
        fh.write("lid99@example.nl,Lid,99\n")
    (report,) = [f.report for f in mailchimp.run(app, path, "nieuwsbrief").files]
    assert [(p.line, p.field) for p in report.rejected] == [(27, "Email Address")]
    assert "longer than 131072 characters" in report.rejected[0].message
    assert (report.rows, report.imported, report.rejected_rows) == (27, 26, 1)
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 26
    assert_consistent(app)


def undecodable_at_the_end(tmp_path: Path) -> Path:
    """An export of 800 members (~90 KB: past the delimiter sample, decoded in chunks)
    and a last line that ASCII cannot decode."""
    path = export(tmp_path, [member(i) for i in range(800)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("josé@example.nl,José,Müller\n")
    return path


def import_stopped_at(app: App, path: Path) -> int:
    """Import as ASCII: the line the import stopped at, once every row before it is in."""
    mapper = mailchimp.MailchimpMapper(app, "nieuwsbrief", "subscribed")
    with pytest.raises(InputError, match=r"line \d+ or a later one: not readable as ascii") as caught:
        runner.run(app, path, mapper, encoding="ascii")
    line = int(caught.value.message.split()[1])
    assert f"the {line - 2} rows before it were imported: {line - 2} new, 0 merged" in caught.value.message
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == line - 2  # every row before that line, none after
    assert_consistent(app)
    return line


def test_a_line_that_cannot_be_decoded_in_a_strict_or_dry_run_import_says_nothing_was_written(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    path = undecodable_at_the_end(tmp_path)
    mapper = mailchimp.MailchimpMapper(app, "nieuwsbrief", "subscribed")
    for mode in ({"strict": True}, {"dry_run": True}):
        with pytest.raises(InputError, match=r"give the right encoding \(nothing was written\)$"):
            runner.run(app, path, mapper, encoding="ascii", **mode)
    with app.store.reader() as r:
        assert r.counts()["events"] == 0


def test_a_line_that_cannot_be_decoded_stops_the_import_after_the_rows_before_it(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    assert 600 < import_stopped_at(app, undecodable_at_the_end(tmp_path)) <= 802


def test_rows_with_several_contact_points_known_and_new_are_imported_whole(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 6)
    header = "E-mailadres;Telefoon;Adres;Naam;Aangemeld op"
    rows = [
        f"p{i}@example.nl;06 {12345600 + i};Straat {i}|1234 AB Utrecht;P{i};2024-01-02" for i in range(20)
    ]
    rows[8] = rows[2].replace("P2", "P2 opnieuw")  # the same person again, in a later block
    rows[13] = "p13@example.nl;06 12345600;;P13;2024-01-05"  # a new address with a number known before
    text = "\n".join([header, *rows]) + "\n"
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={
            "email": "E-mailadres",
            "phone": "Telefoon",
            "postal": "Adres",
            "name": "Naam",
            "consent_at": "Aangemeld op",
        },
    )
    known = tmp_path / "eerder.csv"
    known.write_text("\n".join([header, rows[0]]) + "\n")
    path = tmp_path / "lijst.csv"
    path.write_text(text)
    imports.run(app, known, imports.CsvMapper(app, spec))
    report = imports.run(app, path, imports.CsvMapper(app, spec))
    assert_consistent(app)
    assert report.rejected == [] and report.new_points == 3 * 20 - 3 - 3 - 2  # rows 0, 8 and 13
    assert report.existing_points


def test_a_big_file_commits_several_blocks_at_a_time(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    monkeypatch.setattr(runner, "COMMIT_BLOCKS", 2)
    monkeypatch.setattr(runner, "BIG_FILE_BYTES", 0)  # every file is big
    path = export(tmp_path, [member(i) for i in range(55)])
    with power_cut(runner, "_write_block", on_call=4):
        mailchimp.run(app, path, "nieuwsbrief")
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 20  # blocks 1-2 committed; block 3 with block 4
    assert_consistent(app)
    rerun = mailchimp.run(app, path, "nieuwsbrief").files[0].report
    assert (rerun.new_points, rerun.existing_points) == (35, 20)
    assert_consistent(app)


def test_a_line_that_cannot_be_decoded_in_a_big_file_stops_after_the_rows_before_it(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    monkeypatch.setattr(runner, "COMMIT_BLOCKS", 2)  # the last block shares a transaction
    monkeypatch.setattr(runner, "BIG_FILE_BYTES", 0)
    assert 600 < import_stopped_at(app, undecodable_at_the_end(tmp_path)) <= 802


def test_a_load_tunes_its_connection_and_puts_everything_back(app: App) -> None:
    """SQLite: a bigger page cache and rarer checkpoints; PostgreSQL: every statement planned
    anew (a generic plan made while the tables were small would scan them whole). The pooled
    connection is handed back as it was."""
    engine = app.store.engine
    sqlite = engine.dialect.name == "sqlite"
    settings = ["PRAGMA cache_size", "PRAGMA wal_autocheckpoint"] if sqlite else ["SHOW plan_cache_mode"]

    def read(conn: sa.Connection) -> list[object]:
        return [conn.exec_driver_sql(q).scalar() for q in settings]

    with engine.connect() as conn:
        before = read(conn)
    with app.store.bulk_writers() as writer, writer() as w:
        during = read(w.conn)
    with engine.connect() as conn:
        after = read(conn)
    assert during != before and after == before
    if not sqlite:
        assert during == ["force_custom_plan"]


def test_a_row_the_ledger_refuses_after_a_written_batch_is_one_rejected_row(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block's records reach the ledger in batches (`ledger.BATCH`): a row it refuses after a
    batch is written is left out, and the rest of its block written once (a retry once wrote
    the batch again and stopped the import on a duplicate)."""
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    monkeypatch.setattr(ledger, "BATCH", 5)
    rows = [member(i) for i in range(25)]
    rows[8] = member(8, OPTIN_TIME="2099-01-01 08:00:00")  # in the future: the ledger refuses it
    for strict, dry_run in ((False, True), (True, False), (False, False)):
        report = mailchimp.run(app, export(tmp_path, rows), "nieuwsbrief", strict=strict, dry_run=dry_run)
        (file,) = report.files
        assert [(p.line, p.field) for p in file.report.rejected] == [(10, "occurred_at")]
        assert "in the future" in file.report.rejected[0].message
    assert (file.report.imported, file.report.rejected_rows) == (24, 1)
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 24
    assert_consistent(app)


class _Unkeyed(DerivedIds):
    """Ids as earlier versions derived them: a plain hash of the parts."""

    def __call__(self, prefix: str, *parts: str) -> str:
        return derived_id(prefix, *parts)


def test_a_file_an_earlier_version_imported_is_still_recognised_as_imported(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events imported before ids were keyed keep their unkeyed ids (the chain covers them): the
    same file imported again adds nothing, and a changed profile adds only the change."""
    monkeypatch.setattr(runner, "BLOCK_ROWS", 8)
    rows = [member(i) for i in range(20)]
    with monkeypatch.context() as old:
        old.setattr(app.store, "derived_ids", lambda: _Unkeyed(b"unused-key"))
        first = mailchimp.run(app, export(tmp_path, rows, "subscribed_a.csv"), "nieuwsbrief").files[0].report
    assert first.events and first.new_points == 20
    with app.store.reader() as r:
        before = r.counts()["events"]
    again = mailchimp.run(app, export(tmp_path, rows, "subscribed_a.csv"), "nieuwsbrief").files[0].report
    assert (again.events, again.new_points, again.existing_points) == (0, 0, 20)
    assert again.already_imported == first.events
    changed = [member(i, MEMBER_RATING="5") if i % 5 == 0 else r for i, r in enumerate(rows)]  # was 1
    update = mailchimp.run(app, export(tmp_path, changed, "subscribed_b.csv"), "nieuwsbrief").files[0].report
    with app.store.reader() as r:
        assert r.counts()["events"] == before + update.events
    # The one attribute each of the four changed members' profile changes.
    assert update.events == 4
    assert_consistent(app)


def test_a_row_of_the_same_contact_after_a_refused_one_registers_it(app: App, tmp_path: Path) -> None:
    """The ledger refuses a row (a consent dated in the future); a later row of the same contact,
    first mapped as merged into it, is mapped again without it and registers the contact."""
    path = tmp_path / "lijst.csv"
    path.write_text(
        "E-mailadres;Naam;Aangemeld op\n"
        "a@example.nl;Anna;1-1-2099\n"
        "a@example.nl;Anna;1-1-2024\n"
        "b@example.nl;Bob;2-1-2024\n",
        encoding="utf-8",
    )
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"email": "E-mailadres", "name": "Naam", "consent_at": "Aangemeld op"},
    )
    report = imports.run(app, path, imports.CsvMapper(app, spec))
    # Line 2's registration and consent, each dated in the future.
    assert {(p.line, p.field) for p in report.rejected} == {(2, "occurred_at")}
    assert all("in the future" in p.message for p in report.rejected)
    assert (report.rows, report.imported, report.merged, report.rejected_rows) == (3, 2, 0, 1)
    assert not any("same contact" in n.message for n in report.notes)
    assert decide(app, "a@example.nl", "email", "nieuwsbrief").verdict == "allow"
    assert_consistent(app)


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _spec(**columns: str) -> imports.CsvSpec:
    return imports.CsvSpec(source=Source.WEB_FORM, basis="consent", purpose="nieuwsbrief", columns=columns)


def _rating(app: App, email: str) -> str:
    with app.store.reader() as r:
        point = r.point_id(PointKind.EMAIL, email)
        assert point is not None
        return fold(point, r.events_for(point)).attributes["Rating"]


def test_a_contact_named_twice_in_a_block_ends_as_its_last_row_each_time(app: App, tmp_path: Path) -> None:
    """Its later row is compared with the state as the earlier row leaves it (a content id alone
    found the later row's values imported once and left the earlier row's standing)."""
    text = "E-mailadres;Aangemeld op;Rating\na@example.nl;1-1-2024;1\na@example.nl;1-1-2024;2\n"
    spec = _spec(email="E-mailadres", consent_at="Aangemeld op")
    for _ in range(3):
        imports.run(app, _csv(tmp_path, "lijst.csv", text), imports.CsvMapper(app, spec))
        assert _rating(app, "a@example.nl") == "2"
    assert_consistent(app)


def test_a_row_after_two_refused_rows_of_its_contact_registers_it(app: App, tmp_path: Path) -> None:
    """Each round may refuse the row that registers the contact: a row refused only for naming a
    contact that is not registered keeps getting another try while other rows are refused."""
    text = (
        "E-mailadres;Aangemeld op;Land\n"
        "a@example.nl;1-1-2099;NL\n"  # dated in the future
        "a@example.nl;1-1-2024;Nederland\n"  # not a country code: its registration is refused
        "a@example.nl;1-1-2024;NL\n"
    )
    spec = _spec(email="E-mailadres", consent_at="Aangemeld op", country="Land")
    report = imports.run(app, _csv(tmp_path, "lijst.csv", text), imports.CsvMapper(app, spec))
    refusals = {(p.line, p.field) for p in report.rejected}
    assert {line for line, _ in refusals} == {2, 3} and {(2, "occurred_at"), (3, "country")} <= refusals
    assert (report.rows, report.imported, report.merged, report.rejected_rows) == (3, 1, 0, 2)
    assert decide(app, "a@example.nl", "email", "nieuwsbrief").verdict == "allow"
    assert_consistent(app)


def test_a_note_on_a_row_the_ledger_refuses_stays_in_the_report(app: App, tmp_path: Path) -> None:
    text = "E-mailadres;Aangemeld op;Naam\na@example.nl;1-1-2099\nb@example.nl;1-1-2024;Bob\n"
    spec = _spec(email="E-mailadres", consent_at="Aangemeld op", name="Naam")
    report = imports.run(app, _csv(tmp_path, "lijst.csv", text), imports.CsvMapper(app, spec))
    assert {p.line for p in report.rejected} == {2}
    assert [(n.line, n.field) for n in report.notes] == [(2, "Naam")]  # the row ends early
    assert "ends early" in report.notes[0].message


def test_an_opt_out_of_other_channels_leaves_an_undated_consent_alone(app: App, tmp_path: Path) -> None:
    ledger.append_records(
        app,
        [
            (
                1,
                {
                    "type": "contact_point.registered",
                    "kind": "phone",
                    "value": "+31612345678",
                    "source": "web_form",
                },
            ),
            (
                2,
                {
                    "type": "unsubscribed",
                    "contact": "+31612345678",
                    "purpose": "nieuwsbrief",
                    "channels": ["sms"],
                },
            ),
        ],
    )
    text = "Telefoon;Naam\n06 12345678;Anna\n"
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"phone": "Telefoon", "name": "Naam"},
        channels=("phone", "sms"),
    )
    report = imports.run(app, _csv(tmp_path, "bellen.csv", text), imports.CsvMapper(app, spec))
    assert [n.message for n in report.notes if n.field == "consent"] == [
        "not recorded for sms: this contact opted out of nieuwsbrief on "
        f"{app.clock.now():%Y-%m-%d}, and a consent without its opt-in time cannot lift that"
    ]
    with app.store.reader() as r:
        point = r.point_id(PointKind.PHONE, "+31612345678")
        assert point is not None
        (consent,) = [e for e in r.events_for(point) if e.type == "consent.given"]
    assert consent.payload["channels"] == ["phone"]
