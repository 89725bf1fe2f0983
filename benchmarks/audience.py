"""Benchmark: resolving an audience of 1,000,000 contact points, decisions per second and peak memory.

Target (issue): >= 500,000 decisions/s on SQLite and on PostgreSQL, exclusion report
included, peak memory <= 500 MB.

The ledger is realistic: e-mail addresses, phone numbers and postal addresses of
consumers, sole traders, employees and companies, from web forms, purchases, imports,
business cards, LinkedIn and unproven bought lists; double and single opt-in consents
(some unconfirmed, some defective), customers (some whose relationship ended),
unsubscribes, objections, hard bounces, complaints, erasures, Art. 14 notices, and
Bel-me-niet and Postfilter register entries. `--base` contact points (default 20,000:
60% e-mail, 25% phone, 15% postal) go through the real ledger (events appended,
hashed, folded, projected); their projection rows are then copied with fresh ids
until there are `--contacts` e-mail addresses (and the phones and postal addresses in
proportion), so the audience query reads over a million rows with that same mix
without spending an hour on the ledger. The e-mail question is the audience of
`--contacts`; the figure counts the contact points judged, not the rows skipped.

For each question (e-mail newsletter; phone offers; post offers) the script prints the
time for the exclusion report (one grouped query) and for streaming every allowed
contact point (the rows a send or an export reads). Each store runs in a fresh child
process, so the peak RSS printed is the resolver's own.

    python benchmarks/audience.py                           # 1,000,000, both stores
    python benchmarks/audience.py --contacts 200000 --store sqlite
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pgdb import scratch_database

BENCH_DB = "consentry_bench_audience"
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
            term = {"valid_for_months": 24} if extra.random() < 0.2 else {}
            ev("consent.given", purpose="nieuwsbrief", channels=channels, method=method, **term)
            if method == "double_opt_in" and rnd.random() < 0.9:
                ev("consent.confirmed", 2, purpose="nieuwsbrief")
        if rnd.random() < 0.2:
            ev("consent.given", 3, purpose="aanbiedingen", channels=channels, method="single_opt_in")
        if rnd.random() < 0.3:
            contract = {"contract": True} if extra.random() < 0.3 else {}
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
            ev("unsubscribed", 30, **({"purpose": "nieuwsbrief"} if rnd.random() < 0.5 else {}))
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
    copied = ", ".join(f"f.{c}" for c in names)
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
                    f"FROM point_facts f, {series}"
                ),
                {"n": copies},
            )
        conn.execute(sa.text("ANALYZE"))
    app.store.engine.dispose()


def child(store_url: str) -> None:
    """Run in a fresh process: resolve each question, print one JSON line of figures."""
    from consentry.bootstrap import bootstrap
    from consentry.domain.campaigns import Selection
    from consentry.services import audience
    from consentry.settings import Settings

    app = bootstrap(Settings(database_url=store_url, secret_key="bench-secret-key-0123456789"))
    figures = []
    for channel, purpose in QUESTIONS:
        target = audience.Target.of(channel, purpose)
        started = time.perf_counter()
        report = audience.report(app, target, Selection())
        report_s = time.perf_counter() - started
        started = time.perf_counter()
        allowed = sum(1 for _ in audience.members(app, target, verdict="allow"))
        stream_s = time.perf_counter() - started
        figures.append(
            {
                "question": f"{channel}/{purpose}",
                "considered": report.considered,
                "included": report.included_count,
                "excluded": report.excluded_count,
                "review": report.review_count,
                "top": [(c.rule.id, c.count) for c in report.excluded[:3]],
                "report_s": report_s,
                "allowed": allowed,
                "stream_s": stream_s,
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"figures": figures, "peak_mb": peak_mb}))


def measure(label: str, store_url: str, base: int, contacts: int) -> bool:
    """Build the store, resolve in a child process, print the figures."""
    t0 = time.perf_counter()
    build(store_url, base, contacts)
    print(f"{label}: built the ledger ({base:,} through the ledger, {contacts:,} e-mail addresses) in "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    done = subprocess.run(
        [sys.executable, __file__, "--child", store_url], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"{label}: FAILED\n{done.stderr[-2000:]}")
        return False
    out = json.loads(done.stdout.strip().splitlines()[-1])
    ok = out["peak_mb"] <= 500
    for f in out["figures"]:
        rate = f["considered"] / f["report_s"]
        if f["question"].startswith("email"):  # the audience of --contacts; the others are smaller
            ok = ok and rate >= 500_000
        print(
            f"  {f['question']:22} {f['considered']:>9,} judged in {f['report_s']:5.2f} s = {rate:>9,.0f} "
            f"decisions/s; {f['included']:,} in, {f['excluded']:,} out, {f['review']:,} review; "
            f"top exclusions {f['top']}; streaming the {f['allowed']:,} allowed took {f['stream_s']:.2f} s"
        )
    print(
        f"  peak memory {out['peak_mb']:.0f} MB  {'PASS' if ok else 'FAIL'} "
        "(target for the e-mail audience: 500,000 decisions/s; 500 MB)"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Measure each store."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--base", type=int, default=20_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    base = min(args.base, args.contacts)
    with tempfile.TemporaryDirectory() as tmp:
        if args.store in ("sqlite", "both"):
            measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", base, args.contacts)
        if args.store in ("postgresql", "both"):
            with scratch_database(BENCH_DB) as url:
                if url is not None:
                    measure("PostgreSQL", url, base, args.contacts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
