"""Ed25519 keys for signing checkpoints, kept in a file and never in the database.

Someone who can write to the database can rewrite the ledger and recompute its hash
chain; they cannot sign a checkpoint without this key. The private key is a PKCS#8
PEM file (mode 0600); the public key is given out as one line of base64 (the raw
32 bytes), which is all a verifier needs.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """A key file that is missing, unreadable or not an Ed25519 key."""


def key_id(public_raw: bytes) -> str:
    """A short id of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A key that checks signatures."""

    raw: bytes

    @property
    def id(self) -> str:
        """The key's id, as checkpoints name it."""
        return key_id(self.raw)

    def text(self) -> str:
        """The key as one line of base64."""
        return base64.b64encode(self.raw).decode()

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """True when `signature` is this key's signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """A private key that signs; `public` is what verifiers are given."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = PublicKey(
            private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, message: bytes) -> bytes:
        """The signature of `message`."""
        return self._private.sign(message)


def generate(path: Path) -> Signer:
    """Make a new key and write it to `path` (refused if the file exists)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key file is already there; not overwriting it") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return Signer(private)


def load_signer(path: Path) -> Signer:
    """The signing key in a PEM file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the checkpoint key ({exc.strerror})") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"{path}: not a PEM private key without a password") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return Signer(private)


def load_public(text_or_path: str) -> PublicKey:
    """A public key: base64 (as `ledger keygen` prints it), or a file holding that, a PEM public
    key or the signing key itself."""
    text = text_or_path.strip()
    raw = _raw(text)
    if raw is not None:
        return PublicKey(raw)
    path = Path(text)
    if not path.is_file():
        raise KeyFileError(f"{text_or_path!r}: neither a key file nor a base64 Ed25519 public key")
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith("-----BEGIN PRIVATE KEY"):  # the signing key itself: use its public half
        return load_signer(path).public
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            raise KeyFileError(f"{path}: not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError(f"{path}: not an Ed25519 public key")
        return PublicKey(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    raw = _raw(text)
    if raw is None:
        raise KeyFileError(f"{path}: holds no base64 Ed25519 public key (32 bytes)")
    return PublicKey(raw)


def _raw(text: str) -> bytes | None:
    """The 32 bytes of a base64 public key, or None when `text` is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None
