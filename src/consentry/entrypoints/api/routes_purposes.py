"""Purposes: what contacts are for."""

from __future__ import annotations

from fastapi import APIRouter

from consentry.entrypoints.api.deps import AdminKey, AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, responses
from consentry.entrypoints.api.schemas.catalog import PurposeIn, PurposeOut
from consentry.services import purposes
from consentry.services.errors import InputError

router = APIRouter(route_class=ApiRoute, tags=["purposes"])


@router.get("/purposes", responses=responses(401, 403))
def list_purposes(app: AppDep, _key: ReadKey) -> list[PurposeOut]:
    """Every defined purpose, by key. Needs the `read` scope."""
    return [PurposeOut.model_validate(p.to_json()) for p in purposes.list_all(app)]


@router.post("/purposes", status_code=201, responses=responses(401, 403, 409, 422))
def define_purpose(app: AppDep, _key: AdminKey, body: PurposeIn) -> PurposeOut:
    """Define a purpose; with `"replace": true`, redefine an existing one.

    409 when the key exists and `replace` is not set. Needs the `admin` scope.
    """
    try:
        p = purposes.define(
            app,
            body.key,
            body.name_nl,
            body.name_en,
            body.kind,
            body.categories,
            body.third_party,
            body.replace,
        )
    except InputError as exc:
        if exc.field == "key":  # the only InputError on `key`: it exists
            raise ApiError.one(
                409, ["body", "key"], f"purpose {body.key!r} exists; send replace: true", "conflict"
            ) from None
        raise
    return PurposeOut.model_validate(p.to_json())
