"""The sender's look on the public pages: their logo (/brand/logo) and colour (/brand.css).

Both are served from the app itself (the pages load nothing from other hosts) and come
from the identity stored on the admin app's Instellingen page (`services/sender.py`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from consentry.entrypoints.web import views
from consentry.entrypoints.wired import AppDep
from consentry.services import sender

router = APIRouter(route_class=views.PageRoute, include_in_schema=False)
#: Short: a new logo or colour shows within minutes, without a name that changes.
_CACHE = "public, max-age=300"


@router.get("/brand/logo")
def logo(app: AppDep) -> Response:
    """The uploaded logo, or 404."""
    found = sender.logo(app)
    if found is None:
        return Response(status_code=404)
    kind, data = found
    headers = {"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=kind, headers=headers)


@router.get("/brand.css")
def colours(app: AppDep) -> Response:
    """The sender's colour as the public pages' accent (it was checked for contrast with white)."""
    colour = sender.identity(app).colour
    css = f":root {{\n  --accent: {colour};\n  --accent-dark: {_darker(colour)};\n}}\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": _CACHE})


def _darker(colour: str) -> str:
    """The colour at three quarters of its brightness (for hover), as #rrggbb."""
    return "#" + "".join(f"{int(int(colour[i : i + 2], 16) * 0.75):02x}" for i in (1, 3, 5))
