"""Assembles the public pages in one place."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from consentry.adapters.uploads import Uploads
from consentry.entrypoints.web import (
    admin,
    admin_access,
    admin_audit,
    admin_campaigns,
    admin_contacts,
    admin_forms,
    admin_import,
    admin_purposes,
    admin_registers,
    admin_requests,
    admin_retention,
    admin_settings,
    brand,
    personal,
    signup,
)
from consentry.entrypoints.web.admin_jobs import Jobs

STATIC = Path(__file__).parent / "static"


def install(api: FastAPI) -> None:
    """Add the public pages, their static files and error pages."""
    # Our own stylesheet only: the pages load nothing from any other host.
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    api.include_router(signup.router)
    api.include_router(personal.router)
    api.include_router(brand.router)
    api.include_router(admin.router)
    api.include_router(admin_contacts.router)
    api.include_router(admin_purposes.router)
    api.include_router(admin_forms.router)
    api.include_router(admin_settings.router)
    api.include_router(admin_access.router)
    api.include_router(admin_audit.router)
    api.include_router(admin_import.router)
    api.include_router(admin_campaigns.router)
    api.include_router(admin_requests.router)
    api.include_router(admin_retention.router)
    api.include_router(admin_registers.router)
    # The admin app's background work and uploads live as long as this application.
    api.state.admin_jobs = Jobs()
    api.state.admin_uploads = Uploads()
