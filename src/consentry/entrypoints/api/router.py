"""Assembles the API's routers in one place."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from consentry.entrypoints.api import (
    routes_accountability,
    routes_audience,
    routes_campaigns,
    routes_contacts,
    routes_decisions,
    routes_erasure,
    routes_events,
    routes_feedback,
    routes_forms,
    routes_health,
    routes_keys,
    routes_links,
    routes_purposes,
    routes_requests,
)
from consentry.entrypoints.api.allow import AllowHeader
from consentry.entrypoints.api.deps import KeyCache
from consentry.entrypoints.api.openapi import say_what_is_accepted

v1 = APIRouter(prefix="/v1")
for module in (
    routes_decisions,
    routes_events,
    routes_feedback,
    routes_contacts,
    routes_erasure,
    routes_purposes,
    routes_forms,
    routes_links,
    routes_keys,
    routes_health,
    routes_campaigns,
    routes_audience,
    routes_accountability,
    routes_requests,
):
    v1.include_router(module.router)


def install(api: FastAPI) -> None:
    """Add the /v1 routes; their errors take one JSON shape (see errors.py)."""
    api.state.key_cache = KeyCache()
    api.include_router(v1)
    api.add_middleware(AllowHeader, routes=api.router.routes)
    say_what_is_accepted(api)
