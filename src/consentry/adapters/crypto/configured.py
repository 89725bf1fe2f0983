"""The key manager and blind index configured in settings, with clear errors for bad keys."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from consentry.adapters.crypto.blind import MIN_SECRET_BYTES, BlindIndex
from consentry.adapters.crypto.keys import MASTER_KEY_BYTES, LocalKeyManager
from consentry.settings import Settings

__all__ = ["KeySettingError", "blind_index", "key_manager"]


class KeySettingError(ValueError):
    """A key setting is missing or malformed; the message names the setting (never its value)."""


def _decode(text: str, setting: str, min_bytes: int, max_bytes: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeySettingError(f"{setting} is not valid base64") from None
    if len(raw) < min_bytes or (max_bytes is not None and len(raw) > max_bytes):
        want = f"{min_bytes}" if max_bytes == min_bytes else f"at least {min_bytes}"
        raise KeySettingError(f"{setting} decodes to {len(raw)} bytes; it must be {want} random bytes")
    return raw


def _master_text(settings: Settings) -> str:
    if settings.master_key is not None and settings.master_key_file:
        raise KeySettingError("set CONSENTRY_MASTER_KEY or CONSENTRY_MASTER_KEY_FILE, not both")
    if settings.master_key is not None:
        return settings.master_key.get_secret_value()
    if settings.master_key_file:
        path = Path(settings.master_key_file)
        try:
            return path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeySettingError(f"CONSENTRY_MASTER_KEY_FILE {path}: cannot be read ({exc})") from None
    raise KeySettingError(
        "no master key: set CONSENTRY_MASTER_KEY (base64 of 32 random bytes) or "
        "CONSENTRY_MASTER_KEY_FILE (see docs/privacy.md)"
    )


def key_manager(settings: Settings) -> LocalKeyManager:
    """The local key manager holding the configured master key and those being rotated away from.

    A KMS or Vault manager would be chosen here, from its own settings.
    """
    which = "CONSENTRY_MASTER_KEY_FILE" if settings.master_key_file else "CONSENTRY_MASTER_KEY"
    current = _decode(_master_text(settings), which, MASTER_KEY_BYTES, MASTER_KEY_BYTES)
    previous = []
    if settings.master_key_previous is not None:
        parts = [p for p in settings.master_key_previous.get_secret_value().split(",") if p.strip()]
        for i, part in enumerate(parts, start=1):
            previous.append(
                _decode(part, f"CONSENTRY_MASTER_KEY_PREVIOUS (key {i})", MASTER_KEY_BYTES, MASTER_KEY_BYTES)
            )
    return LocalKeyManager(current, previous)


def blind_index(settings: Settings) -> BlindIndex:
    """The blind index under the configured secret."""
    if settings.blind_index_key is None:
        raise KeySettingError(
            "no blind index secret: set CONSENTRY_BLIND_INDEX_KEY (base64 of at least 32 random bytes)"
        )
    secret = _decode(
        settings.blind_index_key.get_secret_value(), "CONSENTRY_BLIND_INDEX_KEY", MIN_SECRET_BYTES
    )
    return BlindIndex(secret)
