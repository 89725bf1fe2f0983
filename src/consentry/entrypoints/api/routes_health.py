"""Health: for load balancers and monitoring."""

from __future__ import annotations

from fastapi import APIRouter

from consentry.entrypoints.api.errors import ApiRoute
from consentry.entrypoints.api.schemas.catalog import Health

router = APIRouter(route_class=ApiRoute, tags=["health"])


@router.get("/health")
async def health() -> Health:
    """The API is up (no key needed)."""
    return Health()
