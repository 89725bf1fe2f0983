"""The SQL store (SQLite or PostgreSQL), one concern a module.

- `engine`: creating engines, connection settings, bulk-load settings, WAL checkpoints.
- `tables`, `schema`: the table definitions and bringing a database up to date (Alembic;
  the migrations live in `consentry/adapters/migrations`).
- `stored`: values in the form the driver stores them; bulk inserts through the driver.
- `connected`: plain SQL on a transaction's driver connection.
- `ledger`: reading the ledger (events, contact points, the chain).
- `projection`: the projection (`contact_state`, `point_facts`, `point_listings`).
- `catalog`: purposes, forms, API keys and settings.
- `registers`: do-not-contact registers and their entries.
- `reader`, `writer`: a read transaction's and a write transaction's access; the
  writer appends to the ledger (the hash chain) and keeps the projection in step.
- `store`: `SqlStore`, the transactions over one database.
- `audit`: what an audit reads (chain hashes alone, one event, projection rows to compare).
- `campaign_queue`, `campaign_reports`: campaigns, their send queue (filled, claimed as
  ranges of its key, the outcome written) and where its messages stand.
- `send_workers`: send workers' locks, and a dead worker's claims handed back.
- `data_keys`: per-contact data keys (consentry.adapters.crypto): made, loaded in bulk,
  destroyed (crypto-shredding), re-wrapped under a new master key; the start check.

This package's `__init__` imports nothing, so a module never pulls in the others.
"""
