"""Benchmark: what encryption costs storage v2 per field, per contact and per batch of keys.

Each figure is µs per operation: a loop of `--ops` operations timed with time.perf_counter_ns,
repeated `--repeats` times, the median of the repeats printed (the best beside it). Each of
ours stands beside its reference, the same primitive called bare, so what our code adds is
visible apart from what the machine's AES and SHA-256 cost:

- encrypt / decrypt a short field (a 23-byte e-mail address) with `ContactCipher`, beside a
  bare `AESGCM.encrypt`/`decrypt` with the same key, nonce size and associated data;
- a contact's cipher made from its data key (the AES key schedule), beside `AESGCM(key)`;
- wrap / unwrap a data key under the master key (`LocalKeyManager`), a keyring of 1,000
  contacts unwrapped at once (per contact), beside a bare dict of 1,000 `AESGCM` objects
  made from decrypted keys (keeping a thousand AES contexts alive costs more than making
  and dropping one);
- a blind index (`BlindIndex.index`), beside a bare `hmac.digest` of the same value;
- the store: data keys made for 1,000 contacts in one transaction, and loaded back as a
  keyring in one query (per contact), on a SQLite file and, with `--pg URL`, on PostgreSQL.

Run from the repository root with the virtualenv active:

    python benchmarks/crypto.py
    python benchmarks/crypto.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench_crypto

The PostgreSQL database must exist and is used as is (its consentry tables are created by
the migrations; the data_keys rows made here are deleted again).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import benchkeys  # noqa: F401  (the stores' keys, before any store is built)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consentry.adapters.crypto.blind import BlindIndex
from consentry.adapters.crypto.fields import ContactCipher, new_data_key
from consentry.adapters.crypto.keyring import Keyring
from consentry.adapters.crypto.keys import LocalKeyManager
from consentry.adapters.sql.data_keys import DataKeyStore
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.schema import upgrade

FIELD = "eva.hendriks@example.nl"
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def per_op(run: Callable[[int], object], ops: int, repeats: int) -> tuple[float, float]:
    """Median and best µs per operation of `run(ops)` over `repeats` timed runs."""
    run(min(ops, 1000))  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        run(ops)
        times.append((time.perf_counter_ns() - start) / ops / 1000)
    return statistics.median(times), min(times)


def looped(fn: Callable[[], object]) -> Callable[[int], object]:
    """`fn` called n times, with as little loop overhead as Python allows."""

    def run(n: int) -> object:
        for _ in range(n):
            fn()
        return None

    return run


def field_rows(ops: int, repeats: int) -> list[tuple[str, tuple[float, float], str, tuple[float, float]]]:
    """Field, key and index operations beside their bare references."""
    key = new_data_key()
    data = FIELD.encode()
    aad = b"consentry/field/v1\x00ct_0190a1b2c3d4e5f6a7b8c9d0\x00email"
    bare = AESGCM(key)
    nonce = os.urandom(12)
    sealed = bare.encrypt(nonce, data, aad)
    cipher = ContactCipher("ct_0190a1b2c3d4e5f6a7b8c9d0", key)
    blob = cipher.encrypt("email", FIELD)
    manager = LocalKeyManager(os.urandom(32))
    wrapped = manager.wrap("ct_1", key)
    ring_keys = [manager.wrap(f"ct_{i}", new_data_key()) for i in range(1000)]
    secret = os.urandom(32)
    index = BlindIndex(secret)

    def bare_encrypt() -> bytes:
        n = os.urandom(12)
        return n + bare.encrypt(n, data, aad)

    bare_ring = [(f"ct_{i}", os.urandom(12)) for i in range(1000)]
    bare_ring_sealed = [(c, n, bare.encrypt(n, new_data_key(), aad)) for c, n in bare_ring]

    def bare_keyring(n: int) -> object:
        for _ in range(max(1, n // 1000)):
            {c: AESGCM(bare.decrypt(nonce, sealed, aad)) for c, nonce, sealed in bare_ring_sealed}
        return None

    def ring(n: int) -> object:
        for _ in range(max(1, n // 1000)):
            Keyring.unwrapped(manager, ring_keys)
        return None

    return [
        (
            "encrypt a field",
            per_op(looped(lambda: cipher.encrypt("email", FIELD)), ops, repeats),
            "AESGCM.encrypt + urandom",
            per_op(looped(bare_encrypt), ops, repeats),
        ),
        (
            "decrypt a field",
            per_op(looped(lambda: cipher.decrypt("email", blob)), ops, repeats),
            "AESGCM.decrypt",
            per_op(looped(lambda: bare.decrypt(nonce, sealed, aad)), ops, repeats),
        ),
        (
            "a contact's cipher",
            per_op(looped(lambda: ContactCipher("ct_1", key)), ops, repeats),
            "AESGCM(key)",
            per_op(looped(lambda: AESGCM(key)), ops, repeats),
        ),
        (
            "wrap a data key",
            per_op(looped(lambda: manager.wrap("ct_1", key)), ops, repeats),
            "AESGCM.encrypt + urandom",
            per_op(looped(bare_encrypt), ops, repeats),
        ),
        (
            "unwrap a data key",
            per_op(looped(lambda: manager.unwrap([wrapped])), ops, repeats),
            "AESGCM.decrypt",
            per_op(looped(lambda: bare.decrypt(nonce, sealed, aad)), ops, repeats),
        ),
        (
            "keyring of 1,000 (per contact)",
            per_op(ring, max(1000, ops // 1000 * 1000), repeats),
            "dict of AESGCM(decrypt(...))",
            per_op(bare_keyring, max(1000, ops // 1000 * 1000), repeats),
        ),
        (
            "blind index",
            per_op(looped(lambda: index.index("email", FIELD)), ops, repeats),
            "hmac.digest",
            per_op(looped(lambda: hmac.digest(secret, data, hashlib.sha256)), ops, repeats),
        ),
    ]


def store_rows(url: str, label: str, repeats: int) -> list[tuple[str, tuple[float, float]]]:
    """Data keys made for, and loaded back for, 1,000 contacts at a time (µs per contact)."""
    engine = create_engine(url)
    upgrade(engine)
    manager = LocalKeyManager(os.urandom(32))
    batch = [f"ct_bench_{i:06d}" for i in range(1000)]
    made, loaded = [], []
    try:
        for r in range(repeats):
            ids = [f"{c}_{r}" for c in batch]
            with engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
                start = time.perf_counter_ns()
                DataKeyStore(conn, manager).create_many(ids, NOW)
            made.append((time.perf_counter_ns() - start) / len(ids) / 1000)
            with engine.connect() as conn, conn.begin():
                start = time.perf_counter_ns()
                ring = DataKeyStore(conn, manager).load(ids)
                loaded.append((time.perf_counter_ns() - start) / len(ids) / 1000)
            assert len(ring) == len(ids)
    finally:
        with engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
            for r in range(repeats):
                DataKeyStore(conn, manager).destroy([f"{c}_{r}" for c in batch])
        engine.dispose()
    return [
        (f"{label}: make 1,000 keys (per contact, before commit)", (statistics.median(made), min(made))),
        (f"{label}: load a keyring of 1,000 (per contact)", (statistics.median(loaded), min(loaded))),
    ]


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=50_000, help="operations per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per figure")
    parser.add_argument("--pg", help="also measure the store on this PostgreSQL database")
    args = parser.parse_args()

    print(f"{'operation':<52} {'µs median':>10} {'best':>7}   reference (same primitive, bare)")
    for name, (med, best), ref_name, (ref_med, ref_best) in field_rows(args.ops, args.repeats):
        print(f"{name:<52} {med:>10.2f} {best:>7.2f}   {ref_name}: {ref_med:.2f} (best {ref_best:.2f})")
    with tempfile.TemporaryDirectory() as tmp:
        rows = store_rows(f"sqlite:///{Path(tmp) / 'crypto.db'}", "SQLite", args.repeats)
    if args.pg:
        rows += store_rows(args.pg, "PostgreSQL", args.repeats)
    for name, (med, best) in rows:
        print(f"{name:<52} {med:>10.2f} {best:>7.2f}")


if __name__ == "__main__":
    main()
