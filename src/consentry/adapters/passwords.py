"""Password hashes (Argon2id, argon2-cffi) and TOTP second factors (RFC 6238, pyotp)."""

from __future__ import annotations

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: The TOTP codes a login accepts besides the current one: one step (30 s) either side,
#: for a phone whose clock is a little off.
TOTP_WINDOW = 1


class Argon2Passwords:
    """Hashes and checks passwords with argon2-cffi's parameters (RFC 9106's low-memory profile)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        """A new salted hash of `password`."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """True when `password` matches the stored hash."""
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored)


class Totp:
    """TOTP secrets and codes (30 s steps, 6 digits, SHA-1: what authenticator apps expect)."""

    def new_secret(self) -> str:
        """A fresh random base32 secret (160 bits)."""
        return pyotp.random_base32(32)

    def uri(self, secret: str, account: str, issuer: str) -> str:
        """The otpauth:// URI an authenticator app reads (as a QR code or pasted)."""
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def step(self, secret: str, code: str, at: float) -> int | None:
        """The time step `code` belongs to at the moment `at` (Unix time), or None when it is wrong."""
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        now = int(at // totp.interval)
        for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
            if pyotp.utils.strings_equal(totp.generate_otp(step), code):
                return step
        return None

    def code(self, secret: str, at: float) -> str:
        """The code for the moment `at` (for tests and the browser test's "phone")."""
        return pyotp.TOTP(secret).at(int(at))
