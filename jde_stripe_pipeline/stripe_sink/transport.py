"""One logical request, sent until it succeeds or fails for good: paced, retried, key-refreshed.

- Every attempt, first or retry, takes a `Permit` from the account's `AccountBudget` (a slot of its
  endpoint's lane and of the global one, then a place in flight) when the SDK hands the built request to
  `WireClient`, and gives the place back when the answer's bytes arrive: the place counts what Stripe
  counts, not the SDK's own time building the request and parsing the answer (counted in the place, at
  300 ms that time kept Stripe ~1 place below the client's count).
- Every attempt of a logical request carries the caller's idempotency key and the same parameters (the
  call is built once): a retry after Stripe committed but the answer was lost gets Stripe's replay
  (`Idempotent-Replayed: true`), never a duplicate and never an `idempotency_error`.
- A 429 (`rate_limit`) slows the limiter it names and is retried for as long as
  `rate_limited_patience_seconds` allows (10 minutes), without spending `max_retries`: throttling delays
  a record, it never fails one. Other retryable failures (409, 5xx, a lost connection, `lock_timeout`) spend
  `max_retries`, with exponential backoff and full jitter.
- A 401 asks the `KeyRing` for another key (with its rotation grace) and resends once per new key.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from jde_stripe_pipeline.stripe_sink.budget import AccountBudget, Permit
from jde_stripe_pipeline.stripe_sink.errors import (
    StripeAuthError,
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSinkError,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.keyring import KeyRing
from jde_stripe_pipeline.stripe_sink.keys import mask_key, redact_key
from jde_stripe_pipeline.stripe_sink.limits import Paces, endpoint_name
from jde_stripe_pipeline.stripe_sink.metrics import StripeMetrics
from jde_stripe_pipeline.stripe_sink.retry import BackoffPolicy, Disposition, Failure, backoff_delay, classify

log = logging.getLogger(__name__)

Send = Callable[[stripe.StripeClient, "stripe.RequestOptions"], stripe.StripeResponse]
"""One attempt: the SDK's raw answer. Its body is read again here into plain dicts (the SDK's own parse
gives `OrderedDict`s, which compare by order): a C-speed `json.loads`, far cheaper than `StripeObject`s."""


@dataclass(frozen=True)
class StripeResult:
    """A Stripe object as a plain dict, with the id of the request that produced it."""

    object: dict[str, Any]
    request_id: str | None
    replayed: bool
    """True when Stripe answered from its idempotency store (an earlier attempt had already done it)."""


@dataclass(frozen=True)
class Call:
    operation: str
    """Human name for errors, e.g. `customers.create`."""
    method: str
    path: str
    """Path template, e.g. `/v1/customers/{id}`: Stripe's endpoint unit, and the metrics' key."""
    send: Send
    idempotency_key: str | None = None
    deleted_object: dict[str, Any] | None = None
    """For a delete: what to return when a retry finds the object already gone (our attempt deleted it)."""


class _Wire:
    """One attempt's way through `WireClient`: takes the permit when the request leaves, gives its place
    back when the answer arrives. `permit` stays None if the SDK failed before sending."""

    def __init__(self, budget: AccountBudget, paces: Paces, endpoint: str, burst: int):
        self._budget = budget
        self._paces = paces
        self.endpoint = endpoint
        self._burst = burst
        self.permit: Permit | None = None

    def enter(self) -> None:
        self.permit = self._budget.acquire(self._paces, self.endpoint, self._burst)

    def leave(self) -> None:
        if self.permit is not None and self.permit.arrived_at is None:
            self.permit = self._budget.arrived(self.permit)


_on_wire = threading.local()
"""The attempt the current thread is making (`Transport.execute` sets it around the SDK call)."""


class WireClient(stripe.RequestsClient):
    """The SDK's `requests` client, taking the attempt's permit just before the request leaves and giving
    its place back as soon as the answer's bytes are in (requests made outside `Transport` pass as is)."""

    def request(  # type: ignore[override]  # RequestsClient's own signature (its base declares another)
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        wire: _Wire | None = getattr(_on_wire, "attempt", None)
        if wire is None:
            return super().request(method, url, headers, post_data)
        wire.enter()
        try:
            return super().request(method, url, headers, post_data)
        finally:
            wire.leave()


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def failure_of(error: stripe.StripeError) -> Failure:
    if isinstance(error, stripe.APIConnectionError):
        return Failure(http_status=None, connection_retryable=bool(error.should_retry))
    details = error.error
    return Failure(
        http_status=error.http_status,
        error_type=getattr(details, "type", None) if details else None,
        error_code=error.code or (getattr(details, "code", None) if details else None),
        should_retry_header=header(error.headers, "Stripe-Should-Retry"),
    )


class Transport:
    """Sends `Call`s for a `StripeSink`; thread-safe."""

    def __init__(
        self,
        *,
        keys: KeyRing,
        budget: AccountBudget,
        paces: Paces,
        burst: int,
        policy: BackoffPolicy,
        rate_limited_patience: float,
        metrics: StripeMetrics,
        rng: random.Random,
        sleep: Callable[[float], None],
    ):
        self.keys = keys
        self.budget = budget
        self.paces = paces
        self._burst = burst
        self._policy = policy
        self._patience = rate_limited_patience
        self._metrics = metrics
        self._rng = rng
        self._rng_lock = threading.Lock()
        self._sleep = sleep

    def execute(self, call: Call) -> StripeResult:
        """Send one logical request until it succeeds or fails for good; every attempt is paced."""
        self._metrics.logical_request()
        endpoint = endpoint_name(call.method, call.path)
        read = call.method == "GET"
        retries = throttled = 0
        throttled_since: float | None = None
        uncertain = False  # an attempt may have run at Stripe without us seeing the answer
        options: stripe.RequestOptions = {}
        if call.idempotency_key:
            options["idempotency_key"] = call.idempotency_key
        while True:
            state = self.keys.current
            wire = _on_wire.attempt = _Wire(self.budget, self.paces, endpoint, self._burst)
            try:
                answer = call.send(state.sdk, options)
            except stripe.StripeError as error:
                _on_wire.attempt = None
                permit = self._sent(wire)
                failure = failure_of(error)
                status = failure.http_status
                outcome = "connection_error" if status is None else f"http_{status}"
                self._metrics.attempt(call.method, call.path, outcome)
                if status is None:
                    self.budget.lost(permit)
                elif status == 429 and failure.error_code != "lock_timeout":
                    reason = header(error.headers, "Stripe-Rate-Limited-Reason")
                    self._metrics.cuts(self.budget.refused(permit, self.paces, reason))
                    throttled_since = throttled_since or time.monotonic()
                    if time.monotonic() - throttled_since < self._patience:
                        throttled += 1
                        self._wait(call, outcome, throttled)
                        continue
                else:
                    self._metrics.latency(self.budget.answered(permit))
                disposition = classify(failure, read=read)
                if disposition is Disposition.RETRY and retries < self._policy.max_retries:
                    uncertain = uncertain or status is None or status >= 500
                    retries += 1
                    self._wait(call, outcome, retries)
                    continue
                if disposition is Disposition.REFRESH_KEY and self.keys.refresh(state.generation):
                    continue
                if disposition is Disposition.REJECT and status == 404 and uncertain and call.deleted_object:
                    return StripeResult(dict(call.deleted_object), error.request_id, replayed=True)
                attempts = retries + throttled + 1
                raise self.final_error(call, error, failure, disposition, attempts) from None
            except BaseException:
                _on_wire.attempt = None
                self.budget.lost(self._sent(wire))
                raise
            _on_wire.attempt = None
            self._metrics.latency(self.budget.answered(self._sent(wire)))
            replayed = header(answer.headers, "Idempotent-Replayed") == "true"
            self._metrics.attempt(call.method, call.path, "replayed" if replayed else "ok")
            return StripeResult(json.loads(answer.body), answer.request_id, replayed)

    def _sent(self, wire: _Wire) -> Permit:
        """The attempt's permit, counted in the metrics; a request the SDK never sent has an empty one
        (its place was never taken)."""
        permit = wire.permit
        if permit is None:
            return Permit(wire.endpoint, (), 0.0, 0, time.monotonic(), arrived_at=time.monotonic())
        self._metrics.permit(permit.waited, permit.in_flight)
        return permit

    def _wait(self, call: Call, outcome: str, retry_number: int) -> None:
        with self._rng_lock:
            delay = backoff_delay(self._policy, min(retry_number, 16), self._rng)
        self._metrics.retry(delay)
        log.info("%s: %s, retry %d in %.2fs", call.operation, outcome, retry_number, delay)
        self._sleep(delay)

    def final_error(
        self,
        call: Call,
        error: stripe.StripeError,
        failure: Failure,
        disposition: Disposition,
        attempts: int,
    ) -> StripeSinkError:
        """The typed error for a failure that ends the logical request; never holds the key in clear."""
        key = self.keys.current.key
        message = redact_key(error.user_message or type(error).__name__, key)
        status = failure.http_status
        answer = "no response" if status is None else f"HTTP {status}"
        request_id = error.request_id
        if disposition in (Disposition.RETRY, Disposition.GIVE_UP):
            retry = disposition is Disposition.RETRY
            return StripeUnavailable(
                f"{call.operation}: still failing after {attempts} attempts; last: {answer}: {message}"
                if retry
                else f"{call.operation}: Stripe failed and a retry cannot help ({answer}): {message}",
                request_id=request_id,
                http_status=status,
                attempts=attempts,
                operation=call.operation,
                same_key_will_fail=not retry and failure.should_retry_header == "false",
            )
        if disposition is Disposition.REFRESH_KEY:
            grace = self.keys.grace_seconds
            waited = f"within {grace:g} s (JDE_STRIPE_KEY_GRACE_SECONDS)" if grace else "(no grace window)"
            return StripeAuthError(
                f"{call.operation}: Stripe refused the API key {mask_key(key)} ({answer}: {message}); "
                f"the key source {self.keys.source!r} offered no other valid key {waited}. "
                "Set a valid STRIPE_API_KEY or rotate the key in the credential store.",
                request_id=request_id,
                http_status=status,
            )
        if disposition is Disposition.FORBIDDEN:
            return StripeAuthError(
                f"{call.operation}: the API key {mask_key(key)} lacks permission ({answer}): {message}",
                request_id=request_id,
                http_status=status,
            )
        rejected = (
            StripeIdempotencyConflict
            if disposition is Disposition.IDEMPOTENCY_CONFLICT
            else StripeRequestRejected
        )
        return rejected(
            message,
            request_id=request_id,
            http_status=status,
            error_type=failure.error_type,
            code=failure.error_code,
            param=getattr(error, "param", None) or getattr(error.error, "param", None),
            operation=call.operation,
        )
