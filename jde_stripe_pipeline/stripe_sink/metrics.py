"""Counters of what the client did, for the engine's run report, the step's metadata and the benchmark."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class MetricsSnapshot:
    """The client's counters at one moment: immutable, so a report can keep it while the run goes on."""

    requests: dict[str, int] = field(default_factory=dict)
    """Attempts sent, keyed `"METHOD /path/template outcome"`.

    Outcomes: ok, replayed, http_429, http_500…, connection_error."""
    logical_requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    """429 answers received (rate_limit or lock_timeout)."""
    replays: int = 0
    """Answers carrying `Idempotent-Replayed: true`: a retry met the result of a committed first attempt."""
    key_refreshes: int = 0
    token_wait_seconds: float = 0.0
    """Time attempts spent waiting for a place in flight and a paced slot."""
    backoff_seconds: float = 0.0
    peak_in_flight: int = 0
    """The most requests of this process in flight at once (its account budget's, all sinks)."""
    latency_seconds: float | None = None
    """The latest EWMA of Stripe's answer time, as the pacing uses it (Little's law)."""
    pace_cuts: dict[str, int] = field(default_factory=dict)
    """How often each limiter's pace (or the in-flight cap, `concurrency`) was halved after a 429."""

    @property
    def attempts(self) -> int:
        return sum(self.requests.values())


class StripeMetrics:
    """Thread-safe counters, updated by the client's worker threads.

    The counts are a `MetricsSnapshot` replaced on each update (one list of counters, not a copy of its
    fields here); the two tallies by key are Counters, copied into each snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = MetricsSnapshot()
        self._requests: Counter[str] = Counter()
        self._cuts: Counter[str] = Counter()

    def attempt(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self._requests[f"{method.upper()} {path} {outcome}"] += 1
            counts = self._counts
            if outcome == "http_429":
                self._counts = replace(counts, rate_limited=counts.rate_limited + 1)
            elif outcome == "replayed":
                self._counts = replace(counts, replays=counts.replays + 1)

    def logical_request(self) -> None:
        with self._lock:
            self._counts = replace(self._counts, logical_requests=self._counts.logical_requests + 1)

    def retry(self, backoff_seconds: float) -> None:
        with self._lock:
            counts = self._counts
            self._counts = replace(
                counts, retries=counts.retries + 1, backoff_seconds=counts.backoff_seconds + backoff_seconds
            )

    def key_refresh(self) -> None:
        with self._lock:
            self._counts = replace(self._counts, key_refreshes=self._counts.key_refreshes + 1)

    def permit(self, waited: float, in_flight: int) -> None:
        with self._lock:
            counts = self._counts
            self._counts = replace(
                counts,
                token_wait_seconds=counts.token_wait_seconds + waited,
                peak_in_flight=max(counts.peak_in_flight, in_flight),
            )

    def latency(self, ewma_seconds: float) -> None:
        with self._lock:
            self._counts = replace(self._counts, latency_seconds=ewma_seconds)

    def cuts(self, limiters: tuple[str, ...]) -> None:
        with self._lock:
            self._cuts.update(limiters)

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            return replace(self._counts, requests=dict(self._requests), pace_cuts=dict(self._cuts))
