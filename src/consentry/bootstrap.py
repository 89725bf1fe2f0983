"""Wiring: the one place that builds the store, clock, mailer and signer from settings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from consentry.adapters.mailer import SmtpMailer
from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.store import SqlStore
from consentry.adapters.tokens import MIN_SECRET_CHARS, TokenSigner
from consentry.domain.clock import Clock, SystemClock
from consentry.domain.ids import IdFactory, random_ids
from consentry.policy.nl import PACK
from consentry.policy.rules import RulePack
from consentry.services.states import StateCache
from consentry.settings import Settings

SECRET_SETTING = "development_secret_key"


#: Seconds a serving process's statement waits for a lock another connection holds (then 503).
SERVING_LOCK_WAIT_S = 5.0


class MissingSecret(RuntimeError):
    """No usable secret key: none in production (CONSENTRY_ENV=production), or one too short."""


@dataclass
class App:
    """What the services need, wired once; used by the CLI, the API and the tests."""

    settings: Settings
    store: SqlStore
    clock: Clock
    ids: IdFactory
    pack: RulePack
    mailer: SmtpMailer
    limiter: RateLimiter
    states: StateCache = field(default_factory=StateCache, repr=False)
    _signer: TokenSigner | None = field(default=None, repr=False)

    def signer(self) -> TokenSigner:
        """The token signer, with the configured key (or the development key in the database)."""
        if self._signer is None:
            self._signer = TokenSigner(self._secret())
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


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    serving: bool = False,
) -> App:
    """Build the application from settings (read from the environment when not given).

    `serving` is for a long-running server process (see `create_engine`): its statements
    wait `settings.lock_wait_s` (default SERVING_LOCK_WAIT_S) for another connection's lock.
    """
    settings = settings or Settings()
    clock = clock or SystemClock()
    wait = settings.lock_wait_s
    if wait is None and serving:
        wait = SERVING_LOCK_WAIT_S
    engine = create_engine(settings.database_url, serving=serving, lock_wait_s=wait)
    return App(
        settings=settings,
        store=SqlStore(engine, now=clock.now),
        clock=clock,
        ids=ids or random_ids,
        pack=PACK,
        mailer=SmtpMailer(settings),
        limiter=RateLimiter(settings.rate_limit_storage),
    )
