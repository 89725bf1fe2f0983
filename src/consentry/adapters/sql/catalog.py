"""The catalog: purposes, form versions, API keys and settings (changes with their audit entries),
and the newest audit entries of one kind (the overview's recent imports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.users import record_audit
from consentry.domain.purposes import Purpose
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import PurposeKind


class CatalogReads(Connected):
    """Reading purposes, forms, API keys and settings."""

    def purpose(self, key: str) -> Purpose | None:
        """A defined purpose by key."""
        # Plain SQL: every decision reads its purpose (see `Connected._plain`).
        rows = self._plain(
            "SELECT key, name_nl, name_en, kind, categories, third_party FROM purposes WHERE key = ?", [key]
        )
        if not rows:
            return None
        key, nl, en, kind, cats, third = rows[0]
        return Purpose(key, nl, en, PurposeKind(kind), frozenset(self._json(cats)), bool(third))

    def purposes(self) -> list[Purpose]:
        """All defined purposes, by key."""
        rows = self._plain(
            "SELECT key, name_nl, name_en, kind, categories, third_party FROM purposes ORDER BY key"
        )
        return [
            Purpose(key, nl, en, PurposeKind(kind), frozenset(self._json(cats)), bool(third))
            for key, nl, en, kind, cats, third in rows
        ]

    def setting(self, key: str) -> Any:
        """A stored setting, or None."""
        rows = self._plain("SELECT value FROM settings WHERE key = ?", [key])
        return self._json(rows[0][0]) if rows else None

    def audit_entries(self, action: AuditAction, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries of the admin audit log recording `action`, newest first
        (read backwards on `ix_admin_audit_action`, however many other entries the log holds)."""
        a = t.admin_audit.c
        q = sa.select(a.id, a.at, a.actor, a.subject, a.detail).where(a.action == action.value)
        rows = self.conn.execute(q.order_by(a.id.desc()).limit(limit))
        return [AuditEntry(r.at, r.actor, action, r.subject, dict(r.detail), id=r.id) for r in rows]

    def form(self, key: str, version: int | None = None) -> dict[str, Any] | None:
        """A form version's stored definition (the newest when no version is given)."""
        q = sa.select(t.form_versions.c.definition).where(t.form_versions.c.form_key == key)
        if version is not None:
            q = q.where(t.form_versions.c.version == version)
        q = q.order_by(t.form_versions.c.version.desc()).limit(1)
        return self.conn.execute(q).scalar_one_or_none()

    def forms(self) -> list[dict[str, Any]]:
        """The newest version of every form."""
        rows = self.conn.execute(
            sa.select(t.form_versions.c.form_key, sa.func.max(t.form_versions.c.version)).group_by(
                t.form_versions.c.form_key
            )
        ).all()
        found = [self.form(key, version) for key, version in sorted(rows)]
        return [f for f in found if f is not None]

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        """An API key's record (id, name, secret_hash, scopes, created_at, revoked_at)."""
        row = self.conn.execute(sa.select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        return None if row is None else dict(row._mapping)

    def api_keys(self) -> list[dict[str, Any]]:
        """Every API key's record, oldest first."""
        q = sa.select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        return [dict(r._mapping) for r in self.conn.execute(q)]


class CatalogWrites(Connected):
    """Changing purposes, forms, API keys and settings (in a write transaction at `now`)."""

    now: datetime

    def put_purpose(self, p: Purpose, replace: bool = False) -> None:
        """Define a purpose (or redefine it with `replace`)."""
        values = {**p.to_json(), "created_at": self.now}
        if replace:
            self.conn.execute(t.purposes.delete().where(t.purposes.c.key == p.key))
        self.conn.execute(t.purposes.insert().values(**values))

    def put_form(self, key: str, version: int, definition: dict[str, Any]) -> None:
        """Store a new, immutable form version."""
        self.conn.execute(
            t.form_versions.insert().values(
                form_key=key, version=version, definition=definition, created_at=self.now
            )
        )

    def put_api_key(self, key_id: str, name: str, secret_hash: str, scopes: list[str]) -> None:
        """Store a new API key (its secret only as a hash)."""
        self.conn.execute(
            t.api_keys.insert().values(
                id=key_id, name=name, secret_hash=secret_hash, scopes=scopes, created_at=self.now
            )
        )

    def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such active key."""
        done = self.conn.execute(
            t.api_keys.update()
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=self.now)
        )
        return bool(done.rowcount)

    def put_setting(self, key: str, value: Any) -> None:
        """Store a setting."""
        self.conn.execute(t.settings.delete().where(t.settings.c.key == key))
        self.conn.execute(t.settings.insert().values(key=key, value=value))

    def record_audit(self, entry: AuditEntry) -> None:
        """Add an entry to the admin audit log, committed or rolled back with this transaction."""
        record_audit(self.conn, entry)
