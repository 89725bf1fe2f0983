"""The one way the API routes and the public pages reach the wired App."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from consentry.bootstrap import App


def attach(api: FastAPI, app: App) -> None:
    """Make `app` the App every route and page of `api` works on."""
    api.state.consentry = app


def wired_app(request: Request) -> App:
    """The App of the ASGI application serving `request`."""
    app: App = request.app.state.consentry
    return app


async def get_app(request: Request) -> App:
    """The App, as a dependency (async: FastAPI runs it on the loop, not in its thread pool).

    A plain function would be called in the thread pool: under load the hop there and
    back waits for the GIL behind the decisions the event loop is answering.
    """
    return wired_app(request)


AppDep = Annotated[App, Depends(get_app)]
