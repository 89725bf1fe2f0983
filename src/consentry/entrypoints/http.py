"""The HTTP application: the JSON API under /v1 and the public pages, in one ASGI app."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from consentry.adapters.sql.engine import Checkpointer
from consentry.bootstrap import App, bootstrap
from consentry.entrypoints.access_log import AccessLog
from consentry.entrypoints.api import router as api_router
from consentry.entrypoints.body_limit import BodyLimit
from consentry.entrypoints.web import router as web_router
from consentry.entrypoints.wired import attach
from consentry.services import retention_policies
from consentry.services.checkpointing import PeriodicCheckpoints
from consentry.services.retention_erasure import eraser_for
from consentry.services.retention_schedule import DailyRetention

DESCRIPTION = """
consentry answers **may we contact this person, over this channel, for this purpose, now?**
with a verdict, the legal basis, the rules with citations and explanations (nl/en), and the
obligations the message must meet. Events go into an append-only, hash-chained ledger.

Authenticate with an API key: `Authorization: Bearer cs_...` (create one with
`consentry apikey create NAME --scope read|write|admin`).
"""


def _serving(app: App) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What a serving process runs beside the requests: SQLite's checkpoints, signed ledger checkpoints,
    the daily retention run."""
    signed = PeriodicCheckpoints.from_settings(app)  # a missing key stops the start, not a thread
    daily = DailyRetention.from_settings(  # and so does a bad retention policy file
        app,
        lambda: retention_policies.load(app.settings.retention_policies_file),
        lambda: eraser_for(app),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checkpointer = Checkpointer(app.store.engine)
        checkpointer.start()
        if signed is not None:
            signed.start()
        if daily is not None:
            daily.start()
        try:
            yield
        finally:
            if daily is not None:
                daily.stop()
            if signed is not None:
                signed.stop()
            checkpointer.stop()

    return lifespan


def create_app(
    app: App, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None
) -> FastAPI:
    """The ASGI application for an already wired consentry App."""
    app.signer()  # refuses to start in production without a secret key
    api = FastAPI(
        lifespan=lifespan,
        title="consentry",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    attach(api, app)
    api.add_middleware(BodyLimit)
    api_router.install(api)
    web_router.install(api)
    # Outermost of ours, so every request is logged, a body refused for its size (413) too.
    api.add_middleware(AccessLog, routes=api.router.routes)
    return api


def asgi() -> FastAPI:
    """Factory for `uvicorn --factory consentry.entrypoints.http:asgi` (settings from the environment)."""
    app = bootstrap(serving=True)
    api = create_app(app, lifespan=_serving(app))
    # A serving process keeps its code, rules and caches for its whole life: leave them
    # out of the garbage collector's scans, which otherwise pause every request now and then.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return api


#: Garbage-collector thresholds for a serving process. With the defaults (700, 10, 10) a young
#: collection runs every few hundred allocations and promotes whatever requests are in flight;
#: the old generation fills with them and a full collection, which scans every cached state
#: (220,000 objects with 10,000 states cached: 145 ms measured on a busy 2-core machine), paused
#: each process every ~10 s under load. Young collections every 50,000 allocations (about 1 ms
#: each) promote far less, and a full one waits for 2,000 of them: minutes apart under load.
GC_THRESHOLDS = (50_000, 20, 100)
