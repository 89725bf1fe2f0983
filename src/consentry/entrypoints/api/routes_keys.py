"""API keys: listed, created and revoked by an administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from consentry.entrypoints.api.deps import AdminKey, AppDep, KeyCacheDep
from consentry.entrypoints.api.errors import ApiError, ApiRoute, responses
from consentry.entrypoints.api.schemas.catalog import KeyCreated, KeyIn, KeyOut
from consentry.services import apikeys
from consentry.services.apikeys import ApiKey
from consentry.services.errors import InputError

router = APIRouter(route_class=ApiRoute, tags=["keys"])


def _out(k: ApiKey) -> KeyOut:
    return KeyOut(
        id=k.id,
        name=k.name,
        scopes=[s.value for s in k.scopes],
        created_at=k.created_at.isoformat(),
        revoked_at=k.revoked_at.isoformat() if k.revoked_at else None,
    )


@router.get("/keys", responses=responses(401, 403))
def list_keys(app: AppDep, _key: AdminKey) -> list[KeyOut]:
    """Every API key, revoked ones included; never their secrets. Needs the `admin` scope."""
    return [_out(k) for k in apikeys.list_all(app)]


@router.post("/keys", status_code=201, responses=responses(401, 403, 422))
def create_key(app: AppDep, _key: AdminKey, body: KeyIn) -> KeyCreated:
    """Create an API key. Its `token` is shown in this answer only. Needs the `admin` scope."""
    key, token = apikeys.create(app, body.name, list(body.scopes))
    return KeyCreated(**_out(key).model_dump(), token=token)


@router.delete("/keys/{key_id}", status_code=204, responses=responses(401, 403, 404))
def revoke_key(
    app: AppDep,
    cache: KeyCacheDep,
    _key: AdminKey,
    key_id: Annotated[str, Path(description="The key's id (`k...`).")],
) -> Response:
    """Revoke a key at once (other server processes stop accepting it within seconds).

    Needs the `admin` scope.
    """
    try:
        apikeys.revoke(app, key_id)
    except InputError as exc:
        raise ApiError.one(404, ["path", "key_id"], exc.message, "not_found") from None
    cache.forget(key_id)
    return Response(status_code=204)
