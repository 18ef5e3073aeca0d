"""A token bucket shared by every worker thread, so the whole run stays under Stripe's rate limit.

Each `acquire` reserves the next free slot under a lock and then sleeps outside it: callers are served in
the order they asked (no thread starves), no slot is handed out twice, and the long-run rate never
exceeds `rate` while up to `burst` requests may go at once after a quiet spell.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        """May go negative: a debt of slots already promised to waiting callers."""
        self._updated = clock()

    def reserve(self) -> float:
        """Take one token now and return how long the caller must wait before using it (no sleeping)."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
