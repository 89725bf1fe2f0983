"""`App`: what the services need, as ports; `consentry.bootstrap` wires the real ones."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from consentry.domain.clock import Clock
from consentry.domain.ids import IdFactory
from consentry.policy.rules import RulePack
from consentry.services.ports import Limiter, Mailer, Store
from consentry.services.states import StateCache
from consentry.services.tokens import MIN_SECRET_CHARS, Signer
from consentry.settings import Settings

SECRET_SETTING = "development_secret_key"


class MissingSecret(RuntimeError):
    """No usable secret key: none in production (CONSENTRY_ENV=production), or one too short."""


@dataclass
class App:
    """What the services need, wired once; used by the CLI, the API, the pages and the tests."""

    settings: Settings
    store: Store
    clock: Clock
    ids: IdFactory
    pack: RulePack
    mailer: Mailer
    limiter: Limiter
    #: Makes the token signer from the secret key (wired by bootstrap; see `signer`).
    signer_with: Callable[[str], Signer] = field(repr=False, kw_only=True)
    states: StateCache = field(default_factory=StateCache, repr=False)
    _signer: Signer | None = field(default=None, repr=False)

    def signer(self) -> Signer:
        """The token signer, with the configured key (or the development key in the database)."""
        if self._signer is None:
            self._signer = self.signer_with(self._secret())
        return self._signer

    def _secret(self) -> str:
        key = self.settings.secret_key
        if key:
            if len(key) < MIN_SECRET_CHARS:
                # The key itself is never shown: it may be a real one, only cut short.
                raise MissingSecret(
                    f"CONSENTRY_SECRET_KEY is {len(key)} characters; it must be at least "
                    f"{MIN_SECRET_CHARS} (make one with: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))')"
                )
            return key
        if self.settings.env == "production":
            raise MissingSecret(
                "CONSENTRY_SECRET_KEY must be set in production (CONSENTRY_ENV=production): it signs "
                "the links in every message and page; make one with: python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'"
            )
        with self.store.reader() as r:
            stored = r.setting(SECRET_SETTING)
        if stored:
            return str(stored)
        with self.store.writer() as w:
            stored = w.setting(SECRET_SETTING)
            if not stored:
                stored = secrets.token_urlsafe(32)
                w.put_setting(SECRET_SETTING, stored)
        return str(stored)
