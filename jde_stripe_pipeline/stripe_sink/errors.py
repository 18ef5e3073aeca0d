"""What can go wrong talking to Stripe, sorted by what the caller should do about it.

- `StripeRequestRejected` (a 4xx about this request): fail this record, go on with the others.
- `StripeIdempotencyConflict` (a rejected request): the same key was sent with other parameters — a bug
  in how keys are made; fail the record.
- `StripeAuthError`: the key is wrong, revoked or lacks permission; every request will fail: stop the run.
- `StripeUnavailable`: Stripe could not be reached or kept failing after every retry: stop or retry later.

No message ever holds the API key in clear: at most its mask (`sk_test_…abcd`).
"""

from __future__ import annotations

from typing import TypedDict, Unpack


class StripeErrorContext(TypedDict, total=False):
    """What every Stripe error may name besides its message: the request Stripe answered, its status."""

    request_id: str | None
    http_status: int | None


class StripeSinkError(Exception):
    """Base of every error the Stripe client raises."""

    def __init__(self, message: str, *, request_id: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.message} (request {self.request_id})" if self.request_id else self.message


class StripeAuthError(StripeSinkError):
    """The API key was refused (401) even after re-reading it, or lacks a permission (403)."""


class StripeRequestRejected(StripeSinkError):
    """Stripe refused this request (400, 402, 404, …); retrying it unchanged cannot help."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        operation: str = "",
        **context: Unpack[StripeErrorContext],
    ):
        super().__init__(message, **context)
        self.error_type = error_type
        self.code = code
        self.param = param
        self.operation = operation

    def __str__(self) -> str:
        where = f" [param {self.param}]" if self.param else ""
        code = f" ({self.code})" if self.code else ""
        head = f"{self.operation}: " if self.operation else ""
        tail = f" (request {self.request_id})" if self.request_id else ""
        status = f"HTTP {self.http_status}{code}{where}"
        return f"{head}Stripe rejected the request with {status}: {self.message}{tail}"


class StripeIdempotencyConflict(StripeRequestRejected):
    """The idempotency key was already used with different parameters (400 `idempotency_error`)."""


class StripeUnavailable(StripeSinkError):
    """Retries exhausted (429, 409, 5xx, connection errors) or Stripe said a retry cannot help."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        operation: str = "",
        same_key_will_fail: bool = False,
        **context: Unpack[StripeErrorContext],
    ):
        super().__init__(message, **context)
        self.attempts = attempts
        self.operation = operation
        self.same_key_will_fail = same_key_will_fail
        """Stripe saved this failure under the idempotency key (a 500 with `Stripe-Should-Retry: false`):
        for about 24 h that key replays it. Look the object up (by metadata) before sending the change
        again under another key."""
