"""Benchmark: an audience of 1,000,000 contact points: the exclusion report, the recipients streamed.

Targets (issue #16), on SQLite and on PostgreSQL: the grouped exclusion report <= 0.5 s;
the allowed recipients handed to the sender (streamed rows, not a count) >= 500,000/s; peak
memory <= 500 MB. What a campaign's sender is handed is measured as it happens: the queue
filled from the judged audience (`sending.start`, one INSERT ... SELECT) and claimed by the
sender's own claim, in the ranges a sender of `--claim-batch` (its `--batch`) claims with no
rate limit (one writer transaction each: one batch, then twice the last, up to 16 batches;
`sending.queue.ranges`; before session 6 every claim was one batch), each claimed row read: the
point's number and its id, by which the sender loads the person and opens the address, until
nothing is left; the recipients/s is the queued rows over both times, and the fill and the
claims are printed apart. Each message's person
is then judged again against the ledger, and the address opened, as the message is written
(benchmarks/send.py). The stream with every address opened (`audience.members`, what an
export, the API and the CLI read) is printed beside it. Wall time on a shared machine says little:
every figure has its process CPU time beside it (the client's: PostgreSQL's own work is in
its server processes), and the load average is printed.

The machine's reference, measured in the same child process: a plain table of as many
rows, as wide as a recipient row (id, contact, sealed value and name, party, rule),
streamed through the driver the same way; opening as many sealed values (AES-256-GCM,
a cipher per value as a sender meets one per contact); a grouped count of the same
e-mail rows by one plain column; the plain table's rows INSERT ... SELECT-copied into a
table of the text-keyed queue's columns (the queue before migration 0017), without an index
and with its three; and every e-mail point's number (as many rows as the fill writes)
INSERT ... SELECT-copied into a table of two integers with its primary key: the least an
integer-keyed queue's fill can write on the machine.

The ledger is realistic: e-mail addresses, phone numbers and postal addresses of
consumers, sole traders, employees and companies, from web forms, purchases, imports,
business cards, LinkedIn and unproven bought lists; double and single opt-in consents
(some unconfirmed, some defective), customers (some whose relationship ended),
unsubscribes, objections, hard bounces, complaints, erasures, Art. 14 notices, and
Bel-me-niet and Postfilter register entries. `--base` contact points (default 20,000:
60% e-mail, 25% phone, 15% postal) go through the real ledger (events appended,
hashed, folded, projected); their projection rows are then copied with fresh ids
until there are `--contacts` e-mail addresses (and the phones and postal addresses in
proportion), appended in the order of their numbers as a real store's are (since
session 5: before, PostgreSQL's table held them original by original, out of key
order), so the audience query reads over a million rows with that same mix
without spending an hour on the ledger. On PostgreSQL the built store is then vacuumed
(`VACUUM (ANALYZE)`), as autovacuum leaves a real store after an import, and the queue's
tables are vacuumed before each hand-over (`queue_at_rest`: a kept store's earlier runs leave
their removed queues behind as dead rows with the next run's keys). The e-mail
question is the audience of `--contacts`. The copies share the base's contacts and their
data keys (a sealed value is bound to its contact), so the benchmark unwraps 20,000 data
keys where a real audience of a million contacts unwraps a million: the opening figures
are a floor.

For each question (e-mail newsletter; phone offers; post offers) the script prints the
time for the exclusion report (one grouped query) and for streaming every allowed
contact point (the rows a send or an export reads). Each store runs in a fresh child
process, so the peak RSS printed is the resolver's own.

    python benchmarks/audience.py                           # 1,000,000, both stores
    python benchmarks/audience.py --contacts 200000 --store sqlite
    python benchmarks/audience.py --keep /tmp/aud   # build once, measure again (keys from the env)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from pgdb import kept_database, scratch_database

BENCH_DB = "consentry_bench_audience"
#: What a copied point's number adds to its original's per copy (far above any seq here).
COPY_STRIDE = 10**12
QUESTIONS = (("email", "nieuwsbrief"), ("phone", "aanbiedingen"), ("post", "aanbiedingen"))
SOURCES = [
    ("web_form", 50), ("purchase", 20), ("import", 12), ("business_card", 5), ("linkedin", 5),
    ("third_party_list_without_proof", 4), ("third_party_list_with_proof", 4),
]  # fmt: skip
PARTIES = [("consumer", 80), ("sole_trader", 5), ("employee", 10), ("legal_person", 5)]


def _pick(rnd: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rnd.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def ledger_records(n: int, seed: int = 11) -> tuple[list[dict[str, Any]], list[str]]:
    """Ledger records (the JSON lines `consentry ledger append` reads) for n contact points, and
    the points to erase afterwards (by the erasure service: the ledger refuses the event)."""
    rnd = random.Random(seed)
    # What issue #14 added (contacts, consents for a time, contracts) draws from its own
    # stream, so the rest of the ledger is the one earlier figures were taken on.
    extra = random.Random(seed + 1)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    erase: list[str] = []
    for i in range(n):
        roll = rnd.random()
        kind = "email" if roll < 0.6 else "phone" if roll < 0.85 else "postal"
        value = (
            f"klant{i}@voorbeeld.nl"
            if kind == "email"
            else f"+3161{i:07d}"
            if kind == "phone"
            else f"Dorpsstraat {i}; 1234 AB Ergens"
        )
        ref = value if kind != "postal" else f"postal:{value}"
        at = start + timedelta(days=rnd.randint(0, 1000), minutes=rnd.randint(0, 1440))
        channels = {"email": ["email"], "phone": ["phone", "sms"], "postal": ["post"]}[kind]

        def ev(kind_: str, later: int = 1, ref: str = ref, at: datetime = at, **payload: Any) -> None:
            moment = (at + timedelta(days=later)).isoformat()
            out.append({"type": kind_, "contact": ref, "occurred_at": moment, **payload})

        out.append(
            {
                "type": "contact_point.registered",
                "kind": kind,
                "value": value,
                "source": _pick(rnd, SOURCES),
                "party": _pick(rnd, PARTIES),
                "tags": ["klant"] if rnd.random() < 0.3 else ["prospect"],
                "occurred_at": at.isoformat(),
                # Two points in three belong to a person with another point (objections follow).
                **({"contact_id": f"persoon{i // 2}"} if extra.random() < 0.67 else {}),
            }
        )
        if rnd.random() < 0.55:
            method = rnd.choices(["double_opt_in", "single_opt_in", "import", "pre_ticked"], [70, 15, 12, 3])[
                0
            ]
            term: dict[str, Any] = {"valid_for_months": 24} if extra.random() < 0.2 else {}
            ev("consent.given", purpose="nieuwsbrief", channels=channels, method=method, **term)
            if method == "double_opt_in" and rnd.random() < 0.9:
                ev("consent.confirmed", 2, purpose="nieuwsbrief")
        if rnd.random() < 0.2:
            ev("consent.given", 3, purpose="aanbiedingen", channels=channels, method="single_opt_in")
        if rnd.random() < 0.3:
            contract: dict[str, Any] = {"contract": True} if extra.random() < 0.3 else {}
            ev(
                "purchase.recorded",
                5,
                categories=[rnd.choice(["koffie", "thee"])],
                opt_out_offered=True,
                **contract,
            )
            if rnd.random() < 0.3:
                ev("customer_relationship.ended", rnd.randint(10, 900))
        if rnd.random() < 0.08:
            which: dict[str, Any] = {"purpose": "nieuwsbrief"} if rnd.random() < 0.5 else {}
            ev("unsubscribed", 30, **which)
        if rnd.random() < 0.03:
            ev("objection.recorded", 40, scope="direct_marketing")
        if kind == "email" and rnd.random() < 0.02:
            ev("bounce.recorded", 50, bounce_kind="hard")
        if kind == "email" and rnd.random() < 0.005:
            ev("complaint.recorded", 60)
        if rnd.random() < 0.005:
            erase.append(ref)
        if rnd.random() < 0.1:
            ev("notice.given", 4, article="14")
    return out, erase


def build(store_url: str, base: int, contacts: int) -> None:
    """Fill a fresh database: `base` contact points through the ledger, copied up to `contacts`."""
    import sqlalchemy as sa

    from consentry.adapters.sql.registers import entry_hash
    from consentry.bootstrap import bootstrap
    from consentry.domain.vocabulary import PointKind
    from consentry.services import erasure, ledger, purposes, setup
    from consentry.services.contacts import resolve
    from consentry.services.errors import FileRejected
    from consentry.settings import Settings

    app = bootstrap(Settings(database_url=store_url, secret_key="bench-secret-key-0123456789"))
    setup.init(app, name="Koffiebranderij BV")
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie", "thee"])
    purposes.define(app, "aanbiedingen", "Aanbiedingen", "Offers", categories=["koffie"])
    records, erase = ledger_records(base)
    try:
        ledger.append_records(app, enumerate(records, 1))
    except FileRejected as exc:
        raise SystemExit(f"the generated ledger was refused: {exc.problems[:3]}") from exc
    with app.store.reader() as r:
        erased_ids = [resolve(r, ref)[0] for ref in erase]
    erasure.erase_points(app, erased_ids, reason="request")
    rnd = random.Random(3)
    with app.store.writer() as w:
        w.put_register("bel-me-niet", "Bel-me-niet Register", PointKind.PHONE, False, None, None)
        w.put_register("postfilter", "Postfilter", PointKind.POSTAL, True, None, None)
        # The values are sealed in the store: read them as the ledger recorded them.
        values: dict[str, list[str]] = {"phone": [], "postal": []}
        for events in w.events_for_many(w.point_ids()).values():
            first = events[0].payload
            if first.get("kind") in values and "value" in first:  # an erased point's is gone
                values[first["kind"]].append(first["value"])
        phones, posts = sorted(values["phone"]), sorted(values["postal"])
        w.put_register_entries("bel-me-niet", [v for v in phones if rnd.random() < 0.1], None, None)
        w.put_register_entries("postfilter", [entry_hash(v) for v in posts if rnd.random() < 0.1], None, None)
    with app.store.engine.connect() as conn:
        emails = conn.execute(sa.text("SELECT count(*) FROM point_facts WHERE kind = 'email'")).scalar_one()
    copies = -(-contacts // emails) - 1
    from consentry.adapters.sql.projection import FACT_COLUMNS

    names = [c.strip() for c in FACT_COLUMNS.split(",")][1:]
    cols = ", ".join(names)
    # a copy's number is its original's plus k * COPY_STRIDE (`point_no` is unique)
    copied = ", ".join(f"f.{c}" if c != "point_no" else f"f.{c} + k.k * {COPY_STRIDE}" for c in names)
    with app.store.engine.begin() as conn:
        if copies > 0:
            series = (
                "generate_series(1, :n) AS k(k)"
                if conn.dialect.name == "postgresql"
                else "(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < :n) "
                "SELECT k FROM s) k"
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO point_facts (contact_point_id, {cols}) "
                    f"SELECT f.contact_point_id || '.' || k.k, {copied} "
                    # Appended in the order of their numbers, as a real store's projection is
                    # (points numbered as registered): a scan of the table reads them in key order.
                    f"FROM point_facts f, {series} ORDER BY k.k, f.point_no"
                ),
                {"n": copies},
            )
        conn.execute(sa.text("ANALYZE"))
    app.store.engine.dispose()


REF_TABLE = "bench_ref_rows"


def reference_table(store_url: str, rows: int) -> None:
    """The machine's reference: a plain table of `rows` rows as wide as the streamed ones.

    It holds what a recipient row carries (id, contact, sealed value and name, party, rule),
    copied from the e-mail points, so streaming it measures the driver and the machine alone.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {REF_TABLE}"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {REF_TABLE} AS SELECT contact_point_id, contact_id, value_ct, name_ct, "
                "party, 'NL-EM-02' AS rule FROM point_facts WHERE kind = 'email' "
                "ORDER BY contact_point_id LIMIT :n"
            ),
            {"n": rows},
        )
    engine.dispose()


def at_rest(store_url: str) -> None:
    """PostgreSQL: VACUUM (ANALYZE) the built store, as autovacuum does a real store after an import.

    The build writes its million rows by INSERT ... SELECT and measures at once; a real store's
    autovacuum (on by default, and set off on the development machine) vacuums a table once
    inserts pass its threshold (PostgreSQL 13 and later), which marks the rows visible to all
    (their hint bits) and the pages all-visible. Without it the first query to read the table
    after the build (the report) wrote most of its pages back: 53,000 of 83,000 dirtied and
    written by one scan at 1,000,000. SQLite has no such bits: nothing to do.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(store_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _reference(app: Any) -> dict[str, Any]:
    """Reference figures on the same connection pool: the plain table streamed through the
    driver (server-side cursor, batches of the store's size, tuples), its sealed values
    opened (AES-256-GCM, one key per row as the sender meets them), and a grouped count
    over the same e-mail rows by one plain column."""
    import sqlalchemy as sa

    from consentry.adapters.crypto.fields import ContactCipher
    from consentry.adapters.sql.audience import BATCH

    def stream() -> int:
        n = 0
        with app.store.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            cur = raw.cursor("bench_ref") if conn.dialect.name == "postgresql" else raw.cursor()
            columns = "contact_point_id, contact_id, value_ct, name_ct, party, rule"
            cur.execute(f"SELECT {columns} FROM {REF_TABLE}")
            while rows := cur.fetchmany(BATCH):
                n += len(rows)
            cur.close()
            conn.rollback()
        return n

    rows, stream_s, stream_cpu = _timed(stream)
    key = bytes(32)
    cipher = ContactCipher("bench", key)
    blob = cipher.encrypt("value", "klant123456@voorbeeld.nl")

    def open_all() -> int:
        for _ in range(rows):
            ContactCipher("bench", key).decrypt("value", blob)
        return rows

    _, open_s, open_cpu = _timed(open_all)

    def grouped() -> int:
        with app.store.engine.connect() as conn:
            sql = "SELECT party, count(*) FROM point_facts WHERE kind = 'email' GROUP BY party"
            return sum(int(n) for _, n in conn.execute(sa.text(sql)))

    counted, group_s, group_cpu = _timed(grouped)
    return {
        "rows": rows, "stream_s": stream_s, "stream_cpu": stream_cpu,
        "open_s": open_s, "open_cpu": open_cpu,
        "grouped": counted, "group_s": group_s, "group_cpu": group_cpu,
    }  # fmt: skip


HANDOVER_CAMPAIGN = {
    "name": "Hand-over",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": {
        "name": "Koffiebranderij",
        "email": "nieuws@koffie.example",
        "legal_name": "Koffiebranderij BV",
        "address": "Markt 1, 3511 AA Utrecht",
        "kvk": "12345678",
    },
    "content": {"nl": {"subject": "Nieuws", "body": "Hallo {{ name }}"}},
}


def _handover(app: Any, batch: int) -> dict[str, Any]:
    """The e-mail audience into the sender's hands: the campaign's queue filled (`sending.start`:
    one INSERT ... SELECT of the judged audience, the excluded written as skipped with their
    rule), then claimed by the sender's own claim (`claim`, in the ranges a sender of `batch`
    claims, one writer transaction each) until nothing is left, every claimed row read. The
    campaign is removed afterwards, so a kept store measures the same again."""
    import sqlalchemy as sa

    from consentry.services import campaigns, sending
    from consentry.services.sending.queue import ranges

    key = f"handover-{os.getpid()}"
    queue_at_rest(app)
    campaigns.define(app, {"key": key, **HANDOVER_CAMPAIGN})
    try:
        _, fill_s, fill_cpu = _timed(partial(sending.start, app, key))
        with app.store.reader() as r:
            counts = r.message_counts(key)

        def claims() -> int:
            n, now = 0, app.clock.now()
            for size in ranges(batch, None):  # what a sender of `batch` claims, with no rate limit
                with app.store.writer() as w:
                    claimed = w.claim(key, "benchmark", size, now)
                for _no, _point, _attempts, _art14 in claimed:
                    n += 1
                if not claimed:
                    break
            return n

        claimed, claim_s, claim_cpu = _timed(claims)
    finally:
        with app.store.engine.begin() as conn:
            no = "(SELECT no FROM campaigns WHERE key = :k)"
            for table in ("campaign_messages", "campaign_claims"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE campaign_no = {no}"), {"k": key})
            conn.execute(sa.text("DELETE FROM campaigns WHERE key = :k"), {"k": key})
    return {
        "queued": counts["queued"], "skipped": counts["skipped"], "claimed": claimed, "batch": batch,
        "fill_s": fill_s, "fill_cpu": fill_cpu, "claim_s": claim_s, "claim_cpu": claim_cpu,
    }  # fmt: skip


def queue_at_rest(app: Any) -> None:
    """PostgreSQL: VACUUM the queue's tables before the hand-over, as autovacuum leaves them.

    Each run removes its campaign, and the next run's campaign takes the same number (the
    highest plus one): on a kept store every earlier run left a million dead rows and index
    entries with exactly the keys the next fill writes, and each of its inserts checked the
    dead duplicates of its key in the heap (the fill 6.7 s against 4.4 s on a vacuumed queue,
    1M, load 2-3). A real store never reuses a campaign's number (campaigns are not deleted)
    and its autovacuum clears deleted rows; the development machine runs without autovacuum.
    """
    import sqlalchemy as sa

    if app.store.engine.dialect.name != "postgresql":
        return
    with app.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM campaign_messages, campaign_claims"))


def _copy_reference(app: Any) -> dict[str, Any]:
    """The machine's reference for the hand-over: the reference table's rows INSERT ... SELECT-copied
    into a plain table of the text-keyed queue's columns (before migration 0017), with no index and
    with its three (key, claim order, point), in id order; and every e-mail point's number (the
    count the fill writes) INSERT ... SELECT-copied into a table of two integers with its primary
    key, the least an integer-keyed queue writes. Each copy is rolled back."""
    import sqlalchemy as sa

    from consentry.adapters.sql.engine import bulk_load_settings

    columns = (
        "campaign VARCHAR(64) NOT NULL, contact_point_id VARCHAR(40) NOT NULL, "
        "status VARCHAR(16) NOT NULL, rule VARCHAR(40), attempts INTEGER NOT NULL, "
        "next_attempt_at VARCHAR(32) NOT NULL, art14 BOOLEAN NOT NULL"
    )
    false = "false" if app.store.engine.dialect.name == "postgresql" else "0"
    copy = (
        "INSERT INTO bench_ref_queue SELECT 'c', contact_point_id, 'queued', NULL, 0, "
        f"'2026-12-06 12:00:00.000000', {false} FROM {REF_TABLE} ORDER BY contact_point_id"
    )
    out: dict[str, Any] = {}
    shapes = (("plain", ""), ("indexed", ", PRIMARY KEY (campaign, contact_point_id)"))
    for label, key in shapes:
        # The bulk load's settings, as the queue was filled with until session 10 (kept, so the
        # figures compare with earlier sessions'; `sending.start` now fills in a plain writer).
        with app.store.engine.connect() as conn, bulk_load_settings(conn):
            trans = conn.begin()
            conn.execute(sa.text(f"CREATE TABLE bench_ref_queue ({columns}{key})"))
            for i, cols in enumerate(
                ("campaign, status, next_attempt_at", "contact_point_id") if key else ()
            ):
                conn.execute(sa.text(f"CREATE INDEX bench_ref_queue_{i} ON bench_ref_queue ({cols})"))
            rows, s, cpu = _timed(lambda conn=conn: conn.execute(sa.text(copy)).rowcount)
            trans.rollback()
        out[label] = {"rows": rows, "s": s, "cpu": cpu}
    # What an integer-keyed queue can at best do: every e-mail point's number (as many rows as
    # the fill writes, in the scan's order) into a table of two integers and its primary key.
    sqlite = app.store.engine.dialect.name == "sqlite"
    minimal = (
        "CREATE TABLE bench_ref_min (campaign_no INTEGER NOT NULL, point_no BIGINT NOT NULL, "
        f"PRIMARY KEY (campaign_no, point_no)){' WITHOUT ROWID' if sqlite else ''}"
    )
    with app.store.engine.connect() as conn, bulk_load_settings(conn):
        trans = conn.begin()
        conn.execute(sa.text(minimal))
        numbers = "INSERT INTO bench_ref_min SELECT 1, point_no FROM point_facts WHERE kind = 'email'"
        rows, s, cpu = _timed(lambda: conn.execute(sa.text(numbers)).rowcount)
        trans.rollback()
    out["minimal"] = {"rows": rows, "s": s, "cpu": cpu}
    return out


def child(store_url: str, claim_batch: int) -> None:
    """Run in a fresh process: resolve each question, print one JSON line of figures."""
    from consentry.bootstrap import bootstrap
    from consentry.domain.campaigns import Selection
    from consentry.services import audience
    from consentry.settings import Settings

    app = bootstrap(Settings(database_url=store_url, secret_key="bench-secret-key-0123456789"))
    figures = []
    for channel, purpose in QUESTIONS:
        target = audience.Target.of(channel, purpose)
        report, report_s, report_cpu = _timed(partial(audience.report, app, target, Selection()))

        def stream(target: audience.Target = target) -> int:
            # Each recipient as the sender gets it: its address opened, its rule and obligations.
            n = 0
            for m in audience.members(app, target, verdict="allow"):
                n += m.value is not None
            return n

        allowed, stream_s, stream_cpu = _timed(stream)
        figures.append(
            {
                "question": f"{channel}/{purpose}",
                "considered": report.considered,
                "included": report.included_count,
                "excluded": report.excluded_count,
                "review": report.review_count,
                "top": [(c.rule.id, c.count) for c in report.excluded[:3]],
                "report_s": report_s,
                "report_cpu": report_cpu,
                "allowed": allowed,
                "stream_s": stream_s,
                "stream_cpu": stream_cpu,
            }
        )
    reference = _reference(app)
    handover = _handover(app, claim_batch)
    reference["copy"] = _copy_reference(app)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"figures": figures, "handover": handover, "reference": reference, "peak_mb": peak_mb}))


def _built(store_url: str) -> bool:
    """True when the store already holds a built audience (for --keep)."""
    import sqlalchemy as sa

    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text("SELECT count(*) FROM point_facts")).scalar_one())
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def prepare(label: str, store_url: str, base: int, contacts: int, keep: bool) -> None:
    """Build the store and its reference table, unless kept built from an earlier run."""
    if keep and _built(store_url):
        print(f"{label}: the store built by an earlier run (--keep)")
        return
    t0 = time.perf_counter()
    build(store_url, base, contacts)
    reference_table(store_url, contacts // 2)
    at_rest(store_url)
    print(f"{label}: built the ledger ({base:,} through the ledger, {contacts:,} e-mail addresses) in "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip


def measure(label: str, store_url: str, claim_batch: int) -> bool:
    """Resolve in a child process, print the figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", store_url, "--claim-batch", str(claim_batch)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"{label}: FAILED\n{done.stderr[-2000:]}")
        return False
    out = json.loads(done.stdout.strip().splitlines()[-1])
    ok = out["peak_mb"] <= 500
    for f in out["figures"]:
        rate = f["allowed"] / f["stream_s"]
        if f["question"].startswith("email"):  # the audience of --contacts; the others are smaller
            ok = ok and f["report_s"] <= 0.5
        print(
            f"  {f['question']:20} {f['considered']:>9,} judged; report {f['report_s']:5.2f} s "
            f"(CPU {f['report_cpu']:.2f} s); {f['included']:,} in, {f['excluded']:,} out, "
            f"{f['review']:,} review; top exclusions {f['top']}\n"
            f"  {'':20} the {f['allowed']:,} allowed streamed with the address opened (`audience.members`: "
            f"exports, API, CLI) {f['stream_s']:.2f} s (CPU {f['stream_cpu']:.2f} s) = {rate:,.0f}/s"
        )
    h = out["handover"]
    took = h["fill_s"] + h["claim_s"]
    handed = h["claimed"] / took
    ok = ok and handed >= 500_000
    print(
        f"  handed to the sender (email/nieuwsbrief): the queue filled {h['fill_s']:.2f} s (CPU "
        f"{h['fill_cpu']:.2f} s; {h['queued']:,} queued, {h['skipped']:,} skipped with their rule), "
        f"claimed in the ranges of a sender of --batch {h['batch']:,} {h['claim_s']:.2f} s "
        f"(CPU {h['claim_cpu']:.2f} s, "
        f"{h['claimed'] / h['claim_s']:,.0f}/s): {h['claimed']:,} recipients in {took:.2f} s = "
        f"{handed:,.0f} recipients/s (each is judged again and its address opened as its message "
        "is written: benchmarks/send.py)"
    )
    ref = out["reference"]
    print(
        f"  reference, same run: a plain table of {ref['rows']:,} rows as wide, streamed through the "
        f"driver {ref['stream_s']:.2f} s (CPU {ref['stream_cpu']:.2f} s) = "
        f"{ref['rows'] / ref['stream_s']:,.0f} rows/s; opening as many sealed values "
        f"{ref['open_s']:.2f} s (CPU {ref['open_cpu']:.2f} s) = {ref['rows'] / ref['open_s']:,.0f}/s; "
        f"a grouped count of the {ref['grouped']:,} e-mail rows by party {ref['group_s']:.2f} s "
        f"(CPU {ref['group_cpu']:.2f} s)"
    )
    plain, indexed, least = ref["copy"]["plain"], ref["copy"]["indexed"], ref["copy"]["minimal"]
    print(
        f"  reference, same run: those {plain['rows']:,} rows INSERT ... SELECT-copied (in id order) into a "
        f"plain table of the text-keyed queue's columns {plain['s']:.2f} s (CPU {plain['cpu']:.2f} s) = "
        f"{plain['rows'] / plain['s']:,.0f} rows/s; into one with its three indexes "
        f"{indexed['s']:.2f} s (CPU {indexed['cpu']:.2f} s) = {indexed['rows'] / indexed['s']:,.0f} rows/s; "
        f"the {least['rows']:,} e-mail points' numbers into a table of two integers and its key "
        f"{least['s']:.2f} s (CPU {least['cpu']:.2f} s) = {least['rows'] / least['s']:,.0f} rows/s"
    )
    print(
        f"  peak memory {out['peak_mb']:.0f} MB; load average {os.getloadavg()[0]:.1f}  "
        f"{'PASS' if ok else 'FAIL'} (targets for the e-mail audience: report <= 0.5 s, "
        "recipients handed to the sender >= 500,000/s; 500 MB)"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Measure each store."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--base", type=int, default=20_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the stores for the next run (SQLite in DIR, PostgreSQL not dropped) and reuse "
        "them if built; set CONSENTRY_MASTER_KEY and CONSENTRY_BLIND_INDEX_KEY to reuse",
    )
    ap.add_argument("--pg-database", default=BENCH_DB, help="the PostgreSQL database to build in")
    ap.add_argument(
        "--claim-batch",
        type=int,
        default=500,
        help="the sender's --batch (default 500), whose claims are made (`sending.queue.ranges`)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.claim_batch)
        return 0
    base = min(args.base, args.contacts)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.store in ("sqlite", "both"):
            url = f"sqlite:///{folder / f'audience-{args.contacts}.db'}"
            prepare("SQLite", url, base, args.contacts, bool(args.keep))
            measure("SQLite", url, args.claim_batch)
        if args.store in ("postgresql", "both"):
            if args.keep:
                url = kept_database(args.pg_database)
                prepare("PostgreSQL", url, base, args.contacts, True)
                measure("PostgreSQL", url, args.claim_batch)
            else:
                with scratch_database(args.pg_database) as scratch:
                    if scratch is not None:
                        prepare("PostgreSQL", scratch, base, args.contacts, False)
                        measure("PostgreSQL", scratch, args.claim_batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
