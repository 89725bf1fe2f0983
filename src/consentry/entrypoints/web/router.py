"""Assembles the public pages in one place."""

from __future__ import annotations

from fastapi import FastAPI


def install(api: FastAPI) -> None:
    """Add the public pages, their static files and error pages."""
