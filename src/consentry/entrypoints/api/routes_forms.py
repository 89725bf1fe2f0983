"""Sign-up forms: saved as immutable versions, read back, embedded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from consentry.domain.forms import Form
from consentry.entrypoints.api.deps import AdminKey, AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, responses
from consentry.entrypoints.api.schemas.catalog import EmbedOut, FormIn, FormItemOut, FormOut
from consentry.services import forms
from consentry.services.errors import InputError

router = APIRouter(route_class=ApiRoute, tags=["forms"])

Key = Annotated[str, Path(description="The form's key.", examples=["nieuwsbrief-footer"])]


def _out(f: Form) -> FormOut:
    return FormOut(
        key=f.key,
        version=f.version,
        title_nl=f.title_nl,
        title_en=f.title_en,
        intro_nl=f.intro_nl,
        intro_en=f.intro_en,
        lead_magnet_url=f.lead_magnet_url,
        lead_magnet_title_nl=f.lead_magnet_title_nl,
        lead_magnet_title_en=f.lead_magnet_title_en,
        items=[
            FormItemOut(purpose=i.purpose, text_nl=i.text_nl, text_en=i.text_en, channels=list(i.channels))
            for i in f.items
        ],
    )


def _get(app: Any, key: str, version: int | None) -> Form:
    try:
        return forms.get(app, key, version)
    except InputError as exc:  # the only InputError here: no such form (version)
        raise ApiError.one(404, ["path", "key"], exc.message, "not_found") from None


@router.get("/forms", responses=responses(401, 403))
def list_forms(app: AppDep, _key: ReadKey) -> list[FormOut]:
    """The newest version of every form. Needs the `read` scope."""
    return [_out(f) for f in forms.list_all(app)]


@router.post("/forms", responses=responses(401, 403, 422))
def save_form(app: AppDep, _key: AdminKey, body: FormIn) -> FormOut:
    """Save a form definition as its next version; an unchanged definition keeps its version.

    Every purpose it asks for must be defined. A saved version never changes: consents
    record `key@version`, so the words a person agreed to can always be shown. Needs the
    `admin` scope.
    """
    return _out(forms.save(app, body.model_dump(mode="json", exclude_none=True)))


@router.get("/forms/{key}", responses=responses(401, 403, 404, 422))
def get_form(
    app: AppDep,
    _key: ReadKey,
    key: Key,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="A version; default the newest.")
    ] = None,
) -> FormOut:
    """One form: its newest version, or the version asked for. Needs the `read` scope."""
    return _out(_get(app, key, version))


@router.get(
    "/forms/{key}/embed",
    response_model=EmbedOut,
    responses={
        **responses(401, 403, 404),
        200: {
            "description": "The snippet: as JSON, or as the HTML itself when `Accept` asks for text/html.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
)
def embed_form(app: AppDep, _key: ReadKey, key: Key, request: Request) -> EmbedOut | Response:
    """HTML to paste into a website: the hosted form in a frame, with a plain link as fallback.

    Answers JSON, or the HTML itself when the request's `Accept` header asks for `text/html`.
    Needs the `read` scope.
    """
    form = _get(app, key, None)
    html = forms.embed_snippet(app, form)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(html)
    return EmbedOut(key=form.key, version=form.version, html=html)
