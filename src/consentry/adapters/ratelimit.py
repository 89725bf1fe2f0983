"""Rate limits (the `limits` library): in memory per process, or shared through Redis.

Implements `services.ports.Limiter`; its error is the services' `RateLimited`.
"""

from __future__ import annotations

import hashlib
import time

import limits
import limits.storage
import limits.strategies

from consentry.services.errors import RateLimited

__all__ = ["RateLimited", "RateLimiter"]


class RateLimiter:
    """Counts attempts per key in a moving window."""

    def __init__(self, storage_uri: str) -> None:
        self._storage = limits.storage.storage_from_string(storage_uri)
        self._window = limits.strategies.MovingWindowRateLimiter(self._storage)

    def hit(self, rule: str, namespace: str, key: str) -> None:
        """Count one attempt; RateLimited when over `rule` (e.g. `5/hour`)."""
        limit = limits.parse(rule)
        # Keys are hashed: an e-mail address must not sit in a cache in clear.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        if not self._window.hit(limit, namespace, digest):
            reset = self._window.get_window_stats(limit, namespace, digest).reset_time
            raise RateLimited(namespace, max(1, int(reset - time.time())))
