"""Stripe's API limiters as the emulator models them: per account, a global rate, a rate per endpoint,
search's rate, and a cap on requests in flight (docs.stripe.com/rate-limits, `shared/reference/stripe.md`).

Rates are token buckets holding one second's worth (capacity = rate, full at start, refilled
continuously), as the emulator always had. The checks run in order — global rate, then the endpoint's
(or search's) rate, then requests in flight — and each check that passes spends its token even when a
later one refuses: a request refused by its endpoint still counts against the global rate ("stricter
limits also count against the global one"; Stripe does not say whether refused requests count, so the
stricter choice). Not thread-safe by itself: the server calls it under its lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

GLOBAL = "global"
ENDPOINT = "endpoint"
SEARCH = "search"
CONCURRENCY = "concurrency"
"""The limiters' names, as the request log and the stats count them."""

REASON_HEADER = {
    GLOBAL: "global-rate",
    ENDPOINT: "endpoint-rate",
    SEARCH: "endpoint-rate",  # search's 20/s is its endpoints' own limit in Stripe's table
    CONCURRENCY: "global-concurrency",
}
"""The `Stripe-Rate-Limited-Reason` value each limiter answers with."""


@dataclass(frozen=True)
class Limits:
    """Requests/second per account (`global_rate`), per account and endpoint (`endpoint_rate`), per
    account on search endpoints (`search_rate`, instead of the endpoint default), and requests in flight
    per account (`concurrency`). 0 turns a limiter off."""

    global_rate: float
    endpoint_rate: float
    search_rate: float
    concurrency: int


PROFILES: dict[str, Limits] = {
    # Today's emulator: test mode's global and search rates only, so suites tuned to it keep working.
    "default": Limits(global_rate=25.0, endpoint_rate=0.0, search_rate=20.0, concurrency=0),
    # Stripe's documented numbers; the in-flight cap is not published (see the package docstring).
    "test": Limits(global_rate=25.0, endpoint_rate=25.0, search_rate=20.0, concurrency=20),
    "live": Limits(global_rate=100.0, endpoint_rate=25.0, search_rate=20.0, concurrency=20),
    "off": Limits(global_rate=0.0, endpoint_rate=0.0, search_rate=0.0, concurrency=0),
}


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Limiters:
    """The buckets and in-flight counts of every account; `admit` then, when admitted, `release`."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._in_flight: Counter[str] = Counter()
        self._peak: Counter[str] = Counter()

    def admit(
        self, limits: Limits, account: str, endpoint: str | None, search: bool, now: float
    ) -> str | None:
        """None when admitted (then in flight until `release`), else the limiter that refused it."""
        checks = [(GLOBAL, "*", limits.global_rate)]
        if endpoint is not None:  # an unknown URL counts against the global rate only
            if search:
                checks.append((SEARCH, "search", limits.search_rate))
            else:
                checks.append((ENDPOINT, endpoint, limits.endpoint_rate))
        for reason, bucket_name, rate in checks:
            if not self._take(account, bucket_name, rate, now):
                return reason
        if limits.concurrency > 0 and self._in_flight[account] >= limits.concurrency:
            return CONCURRENCY
        self._in_flight[account] += 1
        self._peak[account] = max(self._peak[account], self._in_flight[account])
        return None

    def release(self, account: str) -> None:
        self._in_flight[account] = max(self._in_flight[account] - 1, 0)

    def _take(self, account: str, bucket_name: str, rate: float, now: float) -> bool:
        if rate <= 0:
            return True
        bucket = self._buckets.get((account, bucket_name))
        if bucket is None:
            bucket = self._buckets[(account, bucket_name)] = _Bucket(tokens=rate, updated=now)
        bucket.tokens = min(rate, bucket.tokens + max(now - bucket.updated, 0.0) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def in_flight(self) -> dict[str, int]:
        return {account: n for account, n in self._in_flight.items() if n}

    def peak_in_flight(self) -> dict[str, int]:
        return dict(self._peak)

    def clear(self) -> None:
        """Full buckets again; requests still in flight stay counted (they will be released)."""
        self._buckets.clear()
        self._peak.clear()
