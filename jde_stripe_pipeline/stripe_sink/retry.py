"""Which Stripe failures to retry, and how long to wait: pure functions, so they are tested alone.

Every retry of one logical request resends the SAME idempotency key, so a request that Stripe committed
before the answer was lost is answered by Stripe's replay of the first result, never executed twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum


class Disposition(Enum):
    RETRY = "retry"
    """429 (rate_limit, lock_timeout), 409, 5xx, a dropped connection or a timeout: wait and resend."""
    REFRESH_KEY = "refresh_key"
    """401: re-read the key from its source once, then resend."""
    FORBIDDEN = "forbidden"
    """403: the key works but may not do this; every such request will fail."""
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    """400 `idempotency_error`: this key was used with other parameters."""
    REJECT = "reject"
    """Other 4xx: this request is wrong; resending it cannot help."""
    GIVE_UP = "give_up"
    """Stripe said `Stripe-Should-Retry: false`, a connection error that cannot heal (bad TLS), or an
    unreadable 2xx answer."""


@dataclass(frozen=True)
class Failure:
    """One failed attempt, reduced to what the decision needs."""

    http_status: int | None
    """None for a connection error or a timeout (no response)."""
    error_type: str | None = None
    error_code: str | None = None
    should_retry_header: str | None = None
    """Stripe's `Stripe-Should-Retry` header, if it sent one."""
    connection_retryable: bool = True


def classify(failure: Failure, *, read: bool = False) -> Disposition:
    """`read`: a GET, which has no idempotency record to poison, so any 5xx or dropped connection is
    worth resending (even when Stripe says `Stripe-Should-Retry: false`)."""
    status = failure.http_status
    if read and (status is None or status >= 500):
        return Disposition.RETRY
    if status is None:
        return Disposition.RETRY if failure.connection_retryable else Disposition.GIVE_UP
    if status < 400:
        return Disposition.GIVE_UP  # an unreadable answer to a request that may have run
    if status == 401:
        return Disposition.REFRESH_KEY
    if status == 403:
        return Disposition.FORBIDDEN
    if status == 400 and failure.error_type == "idempotency_error":
        return Disposition.IDEMPOTENCY_CONFLICT
    if failure.should_retry_header == "false" and (status >= 500 or status in (409, 429)):
        return Disposition.GIVE_UP
    if status in (409, 429) or status >= 500:
        return Disposition.RETRY
    if status == 400 and failure.error_code == "rate_limit":
        return Disposition.RETRY  # how Stripe coded rate limits once; the SDK still honours it
    if failure.should_retry_header == "true":
        return Disposition.RETRY
    return Disposition.REJECT


@dataclass(frozen=True)
class BackoffPolicy:
    max_retries: int = 6
    base_seconds: float = 0.5
    max_seconds: float = 8.0


def backoff_ceiling(policy: BackoffPolicy, retry_number: int) -> float:
    """The longest wait before retry number `retry_number` (1-based): base·2^(n-1), capped."""
    if retry_number < 1:
        raise ValueError(f"retry_number is 1-based, got {retry_number}")
    return min(policy.max_seconds, policy.base_seconds * 2.0 ** (retry_number - 1))


def backoff_delay(policy: BackoffPolicy, retry_number: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, ceiling], so workers that failed together do not retry together."""
    return (rng or random).uniform(0.0, backoff_ceiling(policy, retry_number))
