"""One decision's reads: one statement for what it needs besides the state, on both stores.

`decide` reads the point's head, the registers' version, the purpose and the controller in
one statement (`Reading.decision_basis`) and takes the state from the cache when that head
shows it current; it runs outside a transaction (`Store.statement_reader`), so a cached
decision is that one statement. Read transactions are begun and ended on the driver,
SQLAlchemy's connection made only when a read uses it; these tests hold the reads equal to
the separate ones, the snapshot whole, the connections given back, and a decision whose
statements an erasure falls between erased.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import cache_sizes, caches_grown, make_app
from consentry.adapters.sql import engine as engines
from consentry.adapters.sql.engine import SchemaMissing
from consentry.adapters.sql.reader import Reader
from consentry.bootstrap import App, bootstrap
from consentry.domain.vocabulary import PointKind
from consentry.services import erasure, ledger, purposes, setup, states
from consentry.services.decide import decide
from consentry.services.states import StateCache
from consentry.settings import Settings

AT = datetime(2024, 6, 1, 12, tzinfo=UTC)


def line(**fields: object) -> str:
    return json.dumps(fields)


def registered(app: App) -> str:
    ledger.append_lines(
        app,
        [
            line(type="contact_point.registered", kind="email", value="Anna@Example.nl", source="web_form",
                 occurred_at="2023-01-01"),
            line(type="consent.given", contact="anna@example.nl", purpose="nieuwsbrief", channels=["email"],
                 method="single_opt_in", text_version="v1", occurred_at="2023-01-02"),
        ],
    )  # fmt: skip
    with app.store.reader() as r:
        (pid,) = r.point_ids()
    return pid


def test_the_decision_basis_is_what_the_separate_reads_give(app: App) -> None:
    pid = registered(app)
    with app.store.reader() as r:
        by_value = r.decision_basis((PointKind.EMAIL, "anna@example.nl"), "nieuwsbrief")
        by_id = r.decision_basis(pid, "nieuwsbrief")
        assert by_value is not None and by_value == by_id
        assert (by_value.point_id, by_value.kind) == (pid, PointKind.EMAIL)
        assert by_value.head == r.heads([pid])[pid]
        assert by_value.registers == r.registers_version()
        assert by_value.purpose == r.purpose("nieuwsbrief")
        assert setup.controller_of(by_value.controller) == setup.controller(r)
        unknown_purpose = r.decision_basis(pid, "geen-doel")
        assert unknown_purpose is not None and unknown_purpose.purpose is None
        assert r.decision_basis((PointKind.EMAIL, "niemand@example.nl"), "nieuwsbrief") is None
        assert r.decision_basis("cp_unknown", "nieuwsbrief") is None


def test_a_redefined_purpose_is_what_the_next_decision_basis_reads(app: App) -> None:
    pid = registered(app)
    with app.store.statement_reader() as r:
        before = r.decision_basis(pid, "nieuwsbrief")
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", "commercial", ("boeken", "films"), True,
                    replace=True)  # fmt: skip
    with app.store.statement_reader() as r:
        after = r.decision_basis(pid, "nieuwsbrief")
        assert after is not None and after.purpose == r.purpose("nieuwsbrief")
    assert before is not None and before.purpose is not None and after.purpose is not None
    assert after.purpose.categories == {"boeken", "films"} != before.purpose.categories
    assert after.purpose.third_party and not before.purpose.third_party


def test_a_cached_decision_is_what_a_fresh_fold_gives_and_an_append_is_seen_at_once(app: App) -> None:
    pid = registered(app)
    first = decide(app, "anna@example.nl", "email", "nieuwsbrief", at=AT)  # folds and caches
    assert first.verdict.value == "allow"
    hits = app.states.hits
    assert decide(app, "Anna@Example.nl", "email", "nieuwsbrief", at=AT) == first
    assert decide(app, pid, "email", "nieuwsbrief", at=AT) == first
    assert app.states.hits == hits + 2

    ledger.append_lines(app, [line(type="unsubscribed", contact=pid, purpose="nieuwsbrief", via="link")])
    later = datetime.now(UTC)
    after = decide(app, pid, "email", "nieuwsbrief", at=later)
    assert after.verdict.value == "deny"
    app.states._items.clear()  # the same question folded afresh
    assert decide(app, pid, "email", "nieuwsbrief", at=later) == after


def test_a_decision_names_what_is_wrong_as_before(app: App) -> None:
    pid = registered(app)
    decide(app, pid, "email", "nieuwsbrief", at=AT)
    with pytest.raises(Exception, match="unknown purpose"):
        decide(app, pid, "email", "geen-doel", at=AT)
    with pytest.raises(Exception, match="no contact point"):
        decide(app, "niemand@example.nl", "email", "nieuwsbrief", at=AT)
    with pytest.raises(Exception, match="cannot be reached by phone"):
        decide(app, pid, "phone", "nieuwsbrief", at=AT)
    # a moment before the point's last event is not the cached state's
    before = datetime(2023, 1, 1, 12, tzinfo=UTC)
    assert decide(app, pid, "email", "nieuwsbrief", at=before).verdict.value == "deny"


def test_no_process_wide_cache_keeps_the_addresses_and_numbers_decided_on(app: App) -> None:
    """A decision normalises the address or number it is asked about; no module-level cache
    may keep them (they would outlive the question, and an erasure) as the asked-about grow."""
    many = 12
    ledger.append_lines(
        app,
        [line(type="contact_point.registered", kind="email", value=f"p{i}@example.nl", source="web_form",
              occurred_at="2023-01-01") for i in range(many)],
    )  # fmt: skip
    before = cache_sizes()
    for i in range(many):
        decide(app, f"P{i}@Example.nl", "email", "nieuwsbrief", at=AT)
        with pytest.raises(Exception, match="no contact point"):
            decide(app, f"+31 6 1234 56{i:02d}", "phone", "nieuwsbrief", at=AT)
    assert caches_grown(before, many // 2) == {}


def test_an_erasure_drops_the_points_kept_state_from_the_process_cache(app: App) -> None:
    """The state cache keeps a point's folded state and the contacts typed for it (its address,
    name and attributes in clear): an erasure drops them at once in its process rather than when
    an entry is next used or pushed out."""
    pid = registered(app)
    decide(app, "anna@example.nl", "email", "nieuwsbrief", at=AT)
    decide(app, "anna@example.nl", "email", "nieuwsbrief", at=datetime(2023, 1, 1, 12, tzinfo=UTC))
    kept = app.states
    assert pid in kept._items and pid in kept._past
    assert ("anna@example.nl", "NL") in kept._refs  # the address as typed, resolved once
    erasure.erase(app, pid, reason="request")
    assert pid not in kept._items and pid not in kept._past
    assert all(found != pid for found, _head in kept._ids.values())
    assert not any("anna" in ref for ref, _region in kept._refs)
    later = datetime(2030, 1, 1, tzinfo=UTC)  # after the erasure
    assert decide(app, pid, "email", "nieuwsbrief", at=later).verdict.value == "deny"


def test_a_read_transaction_reads_one_snapshot_through_plain_sql_and_sqlalchemy_alike(app: App) -> None:
    with app.store.reader() as r:
        before = {p.key for p in r.purposes()}  # the first statement begins the snapshot
        purposes.define(app, "later", "Later", "Later", categories=["koffie"])  # committed meanwhile
        assert {p.key for p in r.purposes()} == before
        assert r.purpose("later") is None
        count = r.conn.execute(sa.text("SELECT count(*) FROM purposes")).scalar_one()
        assert count == len(before)
    with app.store.reader() as r:
        assert r.purpose("later") is not None


def test_a_read_transaction_gives_its_connection_back_whether_or_not_sqlalchemy_was_used(app: App) -> None:
    pool = app.store.engine.pool
    base = pool.checkedout()  # type: ignore[attr-defined]
    with app.store.reader() as r:
        r.purposes()  # plain SQL only
    assert pool.checkedout() == base  # type: ignore[attr-defined]
    with app.store.reader() as r:
        head = r.head()  # through SQLAlchemy, in the same transaction
        assert r.head_row() == head
    assert pool.checkedout() == base  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError), app.store.reader() as r:
        r.head()
        raise RuntimeError("boom")
    assert pool.checkedout() == base  # type: ignore[attr-defined]
    registered(app)  # a write transaction still begins and commits as before
    with app.store.reader() as r:
        assert len(r.point_ids()) == 1


def test_a_postgresql_connection_cut_while_idle_in_the_pool_is_replaced(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    pid = registered(app)
    backends = []  # the main pool's connection (the ledger's check) and the statement reads' one
    for reading in (app.store.reader, app.store.statement_reader):
        with reading() as r:
            backends.append(r.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
    assert len(set(backends)) == 2
    admin = sa.create_engine(app.store.engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for backend in backends:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": backend})
    admin.dispose()
    monkeypatch.setattr(engines, "PING_IDLE_S", 0.0)
    assert decide(app, pid, "email", "nieuwsbrief", at=AT).verdict.value == "allow"


def test_a_connection_cut_under_a_statement_reader_raises_its_error_and_is_not_handed_out_again(
    app: App,
) -> None:
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    pid = registered(app)
    admin = sa.create_engine(app.store.engine.url, poolclass=sa.pool.NullPool)
    with pytest.raises(Exception, match="terminating connection"), app.store.statement_reader() as r:
        backend = r.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": backend})
        r.purposes()
    admin.dispose()
    assert decide(app, pid, "email", "nieuwsbrief", at=AT).verdict.value == "allow"


def test_a_statement_readers_connection_is_kept_after_a_failed_read_only_when_idle(app: App) -> None:
    """A read that fails on the server (PostgreSQL: in autocommit the connection is idle again)
    gives its connection back to be used again; one left mid-statement is dropped."""
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    app.store.statements.dispose()  # one connection in the pool from here on

    def backend() -> int:
        with app.store.statement_reader() as r:
            return int(r.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())

    first = backend()
    with pytest.raises(sa.exc.ProgrammingError), app.store.statement_reader() as r:
        r.conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert backend() == first  # idle after the error: kept
    with pytest.raises(RuntimeError), app.store.statement_reader() as r:
        r._raw.pgconn.send_query(b"SELECT pg_sleep(0.2)")  # sent, its result not read
        raise RuntimeError("left mid-statement")
    assert backend() != first  # not idle: dropped


def test_a_question_about_an_earlier_moment_is_folded_from_kept_events_as_afresh(app: App) -> None:
    pid = registered(app)
    ledger.append_lines(
        app,
        [line(type="unsubscribed", contact=pid, purpose="nieuwsbrief", via="link", occurred_at="2024-01-01")],
    )
    early = datetime(2023, 6, 1, tzinfo=UTC)

    def fresh() -> dict[str, object]:
        with app.store.reader() as r:
            return states.load(r, pid, as_of=early).to_json()

    def cached() -> dict[str, object]:
        with app.store.reader() as r:
            return app.states.load_many(r, [pid], as_of=early)[pid].to_json()

    first = decide(app, pid, "email", "nieuwsbrief", at=early)  # read, folded, its events kept
    assert first.verdict.value == "allow"
    assert cached() == fresh()
    hits = app.states.hits
    assert decide(app, pid, "email", "nieuwsbrief", at=early) == first
    assert app.states.hits == hits + 1  # folded from the kept events

    # an event back-filled before the moment: the kept events are read again
    ledger.append_lines(
        app,
        [line(type="objection.recorded", contact=pid, scope="direct_marketing", occurred_at="2023-03-01")],
    )
    assert cached() == fresh() and "direct_marketing" in fresh()["objections"]  # type: ignore[operator]
    assert decide(app, pid, "email", "nieuwsbrief", at=early).verdict.value == "deny"


def test_a_statement_reader_sees_each_commit_and_gives_its_connection_back_as_it_found_it(app: App) -> None:
    pool = app.store.statements.pool
    base = pool.checkedout()  # type: ignore[attr-defined]
    with app.store.statement_reader() as r:
        before = {p.key for p in r.purposes()}
        purposes.define(app, "later", "Later", "Later", categories=["koffie"])  # committed meanwhile
        assert {p.key for p in r.purposes()} == before | {"later"}  # no snapshot held between statements
        assert r.head() == r.head_row()  # through SQLAlchemy too
    assert pool.checkedout() == base  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError), app.store.statement_reader() as r:
        r.purposes()
        raise RuntimeError("boom")
    assert pool.checkedout() == base  # type: ignore[attr-defined]
    with app.store.reader() as r:  # the connection it gave back begins transactions as before
        first = {p.key for p in r.purposes()}
        purposes.define(app, "later-still", "Later", "Later", categories=["koffie"])
        assert {p.key for p in r.purposes()} == first


def test_a_cached_decision_is_one_statement(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = registered(app)
    first = decide(app, pid, "email", "nieuwsbrief", at=AT)  # folds and caches (and checks the ledger)
    ran: list[str] = []
    plain = Reader._plain

    def counted(self: Reader, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        ran.append(sql)
        return plain(self, sql, params)

    monkeypatch.setattr(Reader, "_plain", counted)
    assert decide(app, pid, "email", "nieuwsbrief", at=AT) == first
    assert len(ran) == 1


@pytest.mark.parametrize(
    ("when", "read"), [("after", "decision_basis"), ("after", "point_ciphers"), ("before", "_opened")]
)
def test_an_erasure_between_a_decisions_statements_gives_the_erased_answer_never_an_allow(
    app: App, monkeypatch: pytest.MonkeyPatch, when: str, read: str
) -> None:
    """Erased after the basis, after the keys were read, or after the events were (read, not yet
    opened): the decision is the erased one or the one of the address's suppression record."""
    pid = registered(app)
    at = datetime(2030, 1, 1, tzinfo=UTC)  # after the erasure (about an earlier moment it was allowed)
    assert decide(app, pid, "email", "nieuwsbrief", at=at).verdict.value == "allow"
    app.states = StateCache()  # not cached: the state is read after the basis, in statements of its own
    method = getattr(Reader, read)
    erased: list[str] = []

    def erase(r: Reader) -> None:
        if r._own_snapshots and not erased:  # the decision's reads; the eraser's own are in a transaction
            erased.append(pid)
            erasure.erase(app, pid, reason="request")  # commits between two statements of the decision

    def erasing(self: Reader, *args: Any) -> Any:
        if when == "before":
            erase(self)
        found = method(self, *args)
        if when == "after":
            erase(self)
        return found

    monkeypatch.setattr(Reader, read, erasing)
    raced = decide(app, pid, "email", "nieuwsbrief", at=at)
    assert erased == [pid]
    assert raced.verdict.value == "deny" and raced.rule in ("EU-GDPR-09", "EU-GDPR-09.prior")
    monkeypatch.undo()
    app.states = StateCache()
    settled = decide(app, pid, "email", "nieuwsbrief", at=at)  # decided after the erasure
    assert (settled.verdict.value, settled.rule) == ("deny", "EU-GDPR-09")


def test_statement_reads_run_in_autocommit_on_their_own_engine_which_the_stores_disposal_closes(
    app: App,
) -> None:
    """On PostgreSQL a statement reader's connection leaves no transaction open after a read (its
    engine's connections are in autocommit, `engine.statement_engine`), and disposing the store's
    engine closes the statement engine's connections too; on SQLite it is the store's engine."""
    if app.store.engine.dialect.name != "postgresql":
        assert app.store.statements is app.store.engine
        with app.store.statement_reader() as r:
            r.purposes()
            assert not r._raw.in_transaction  # no BEGIN issued
        return
    admin = sa.create_engine(app.store.engine.url, poolclass=sa.pool.NullPool)

    def backends() -> dict[int, str]:
        with admin.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pid, state FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            )
            return {int(pid): str(state) for pid, state in rows}

    def left(ours: set[int]) -> set[int]:
        """Which of these backends are left once closed ones have had time to exit (a backend
        leaves `pg_stat_activity` a moment after its client closed the connection). Only the
        store's own: the test database may hold other tests' connections."""
        deadline = time.monotonic() + 5
        while (found := ours & backends().keys()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    try:
        with app.store.statement_reader() as r:
            r.purposes()  # plain SQL on the driver's cursor
            backend = r._raw.info.backend_pid
            assert backends()[backend] == "idle"  # not "idle in transaction"
            assert r.conn.execute(sa.text("SELECT count(*) FROM purposes")).scalar_one() >= 2
            assert backends()[backend] == "idle"  # SQLAlchemy's reads too
        assert backends()[backend] == "idle"  # given back as it was: nothing to roll back
        assert app.store.statements is not app.store.engine
        with app.store.reader() as r:  # the main pool's connection too
            main = int(r.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        assert main != backend
        app.store.engine.dispose()
        assert left({backend, main}) == set()
    finally:
        admin.dispose()


def test_statement_reads_wait_for_a_lock_as_long_as_the_stores_other_reads(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's lock timeout")
    app = make_app(store_url, lock_wait_s=0.3)
    try:
        for reading in (app.store.reader, app.store.statement_reader):
            with reading() as r:
                assert r.conn.execute(sa.text("SHOW lock_timeout")).scalar_one() == "300ms"
    finally:
        app.store.engine.dispose()


def test_a_statement_reader_on_a_database_without_the_schema_refuses_and_gives_its_connection_back(
    store_url: str,
) -> None:
    app = bootstrap(Settings(database_url=store_url))  # not initialised
    try:
        for _ in range(2):
            with pytest.raises(SchemaMissing), app.store.statement_reader():
                pass
            assert app.store.statements.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        app.store.engine.dispose()
