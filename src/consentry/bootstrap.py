"""Wiring: the one place that builds the store, clock, mailer and signer from settings.

Bootstrap imports the services and the adapters; no service imports bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentry.adapters.crypto.vault import vault
from consentry.adapters.mailer import SmtpMailer
from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.sql.engine import create_engine, statement_engine
from consentry.adapters.sql.store import SqlStore
from consentry.adapters.tokens import TokenSigner
from consentry.domain.clock import Clock, SystemClock
from consentry.domain.ids import IdFactory, random_ids
from consentry.policy.nl import PACK
from consentry.services import app as services_app
from consentry.services.app import SECRET_SETTING, MissingSecret
from consentry.settings import Settings

__all__ = ["SECRET_SETTING", "SERVING_LOCK_WAIT_S", "App", "MissingSecret", "bootstrap"]

#: Seconds a serving process's statement waits for a lock another connection holds (then 503).
SERVING_LOCK_WAIT_S = 5.0


@dataclass
class App(services_app.App):
    """The services' App as wired here: the SQL store, SMTP and the rate limiter.

    The entrypoints reach the engine through it (the server's checkpointer, `init`'s
    report); the services see only the ports of `services.app.App`.
    """

    store: SqlStore
    mailer: SmtpMailer
    limiter: RateLimiter


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
    The keys come from the settings (`adapters.crypto.vault`); a wrong master key is refused
    when the store is first used (`SqlStore.check_keys`).
    """
    settings = settings or Settings()
    clock = clock or SystemClock()
    wait = settings.lock_wait_s
    if wait is None and serving:
        wait = SERVING_LOCK_WAIT_S
    keys = vault(settings)  # before the engine: a missing key refuses before a file is made
    engine = create_engine(settings.database_url, serving=serving, lock_wait_s=wait)
    return App(
        settings=settings,
        store=SqlStore(engine, keys, statements=statement_engine(engine, wait), now=clock.now),
        clock=clock,
        ids=ids or random_ids,
        pack=PACK,
        mailer=SmtpMailer(settings),
        limiter=RateLimiter(settings.rate_limit_storage),
        signer_with=TokenSigner,
    )
