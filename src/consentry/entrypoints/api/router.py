"""Assembles the API's routers in one place."""

from __future__ import annotations

from fastapi import FastAPI


def install(api: FastAPI) -> None:
    """Add the /v1 routes and their error handlers."""
