"""The OpenAPI document, made to say what the API really accepts.

The API refuses NUL in any text (`errors._refuse_nul`: PostgreSQL cannot store it, so it
would fail late). Rather than repeat that on every field, the document is given it
once: every text without its own pattern, enum or constant gets `NO_NUL` as its pattern;
the patterns written on fields exclude NUL themselves (`schemas.TEXT`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

#: Any text without a NUL character.
NO_NUL = "^[^\\u0000]*$"
_OWN_RULE = ("pattern", "enum", "const", "format")


def _no_nul(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and not any(k in node for k in _OWN_RULE):
            node["pattern"] = NO_NUL
        for value in node.values():
            _no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul(value)


def say_what_is_accepted(api: FastAPI) -> None:
    """Make `api.openapi()` add the NUL rule to its document, once, when first built."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            _no_nul(build())
        assert api.openapi_schema is not None
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
