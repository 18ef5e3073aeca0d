"""Stripe's budgets as pure arithmetic: one global bucket plus one bucket per named endpoint, and AIMD.

Stripe limits an account globally (25/s test, 100/s live) AND per endpoint (25/s each, search 20/s);
a request may go only when both its buckets have a slot. On a 429 the limiter its
`Stripe-Rate-Limited-Reason` names has its rate cut multiplicatively; every success lets it creep back
additively up to its ceiling. Nothing here sleeps or reads a clock of its own: the caller passes `now`.
Not yet wired into `client.py` (see issue 10).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

TEST_GLOBAL_PACE: Final = 24.0
"""Just under Stripe's 25/s test-mode global limit."""
LIVE_GLOBAL_PACE: Final = 96.0
"""Just under Stripe's 100/s live-mode global limit."""
ENDPOINT_PACE: Final = 24.0
"""Just under Stripe's 25/s per-endpoint limit."""
SEARCH_PACE: Final = 19.0
"""Just under Stripe's 20/s search limit."""


@dataclass
class Aimd:
    """Additive-increase / multiplicative-decrease of one rate between `floor` and `ceiling`."""

    ceiling: float
    floor: float = 1.0
    decrease: float = 0.5
    increase_per_success: float = 0.05
    rate: float = field(init=False)

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError(f"need 0 < floor <= ceiling, got {self.floor} and {self.ceiling}")
        if not 0 < self.decrease < 1:
            raise ValueError(f"decrease must be in (0, 1), got {self.decrease}")
        self.rate = self.ceiling

    def on_success(self) -> float:
        self.rate = min(self.ceiling, self.rate + self.increase_per_success)
        return self.rate

    def on_throttled(self) -> float:
        self.rate = max(self.floor, self.rate * self.decrease)
        return self.rate


@dataclass
class _Slots:
    """Next free send time of one limiter, spaced 1/rate apart (a bucket with burst 1)."""

    aimd: Aimd
    next_free: float = 0.0


def endpoint_name(method: str, path: str) -> str:
    """`POST /v1/invoices/in_123/add_lines` → `POST /v1/invoices/{id}/add_lines`: Stripe's endpoint unit."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    named = [p if i < 2 or i % 2 == 1 or p == "search" else "{id}" for i, p in enumerate(parts)]
    return f"{method.upper()} /" + "/".join(named)


class Budget:
    """Schedules each request against the global and its endpoint's limiter; thread-safe, clock-free."""

    def __init__(
        self, global_pace: float, endpoint_pace: float = ENDPOINT_PACE, search_pace: float = SEARCH_PACE
    ):
        self._global = _Slots(Aimd(global_pace))
        self._endpoint_pace = endpoint_pace
        self._search_pace = search_pace
        self._endpoints: dict[str, _Slots] = {}
        self._lock = threading.Lock()

    def _slots(self, endpoint: str) -> _Slots:
        slots = self._endpoints.get(endpoint)
        if slots is None:
            pace = self._search_pace if "/search" in endpoint else self._endpoint_pace
            slots = self._endpoints[endpoint] = _Slots(Aimd(pace))
        return slots

    def reserve(self, endpoint: str, now: float) -> float:
        """Book the earliest time both limiters allow; returns the wait from `now` (0 = go now)."""
        with self._lock:
            own = self._slots(endpoint)
            at = max(now, self._global.next_free, own.next_free)
            self._global.next_free = at + 1.0 / self._global.aimd.rate
            own.next_free = at + 1.0 / own.aimd.rate
            return at - now

    def on_success(self, endpoint: str) -> None:
        with self._lock:
            self._global.aimd.on_success()
            self._slots(endpoint).aimd.on_success()

    def on_throttled(self, endpoint: str, reason: str | None) -> None:
        """Cut the limiter Stripe named (`Stripe-Rate-Limited-Reason`); unknown reason → both."""
        with self._lock:
            reason = (reason or "").lower()
            if "endpoint" in reason or "search" in reason:
                self._slots(endpoint).aimd.on_throttled()
            elif "global" in reason or "concurrency" in reason:
                self._global.aimd.on_throttled()
            else:
                self._global.aimd.on_throttled()
                self._slots(endpoint).aimd.on_throttled()

    def rate(self, endpoint: str | None = None) -> float:
        with self._lock:
            return (self._slots(endpoint) if endpoint else self._global).aimd.rate
