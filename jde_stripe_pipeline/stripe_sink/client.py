"""The one Stripe client of a run: paced, retried, idempotent, shared by the engine's worker threads.

Design (why it looks like this):
- ONE official `stripe.StripeClient`, built with `max_network_retries=0`: this module does every retry
  itself, so 429 (which the SDK never retries) and 5xx/409/connection errors follow one policy, and every
  attempt of a logical request carries the caller's deterministic idempotency key — a retry after Stripe
  committed but the answer was lost gets Stripe's replay (`Idempotent-Replayed: true`), never a duplicate.
- Every attempt, first or retry, takes a token from one `TokenBucket` shared by all threads.
- A 401 re-reads the key from its source once (another thread may already have done so) and rebuilds the
  SDK client; a second 401 stops with `StripeAuthError` naming the masked key.
- Listings page by `starting_after` through the same paced, retried path; the SDK's
  `auto_paging_iter` would bypass both.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import stripe

from jde_stripe_pipeline.stripe_sink.errors import (
    StripeAuthError,
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSinkError,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.metrics import MetricsSnapshot, StripeMetrics
from jde_stripe_pipeline.stripe_sink.pacing import TokenBucket
from jde_stripe_pipeline.stripe_sink.retry import (
    BackoffPolicy,
    Disposition,
    Failure,
    backoff_delay,
    classify,
)
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings, mask_key, redact_key

log = logging.getLogger(__name__)

Params = Mapping[str, Any]
PAGE_SIZE = 100
"""Stripe's largest page."""


@dataclass(frozen=True)
class StripeResult:
    """A Stripe object as a plain dict, with the id of the request that produced it."""

    object: dict[str, Any]
    request_id: str | None
    replayed: bool
    """True when Stripe answered from its idempotency store (an earlier attempt had already done it)."""


_Send = Callable[[stripe.StripeClient, "stripe.RequestOptions"], stripe.StripeObject]
_FetchPage = Callable[[stripe.StripeClient, Any, "stripe.RequestOptions"], stripe.StripeObject]


def _send_page(
    fetch: _FetchPage, page_params: dict[str, Any], sdk: stripe.StripeClient, options: stripe.RequestOptions
) -> stripe.StripeObject:
    return fetch(sdk, dict(page_params), options)


@dataclass(frozen=True)
class _Call:
    operation: str
    """Human name for errors, e.g. `customers.create`."""
    method: str
    path: str
    """Path template for metrics, e.g. `/v1/customers/{id}` (ids kept out of the counters)."""
    send: _Send
    idempotency_key: str | None = None
    deleted_object: dict[str, Any] | None = None
    """For a delete: what to return when a retry finds the object already gone (our attempt deleted it)."""


@dataclass(frozen=True)
class _SdkState:
    key: str
    generation: int
    sdk: stripe.StripeClient


def next_list_params(params: Params, page: Mapping[str, Any]) -> dict[str, Any] | None:
    """Params of the page after `page` of a list endpoint, or None when it was the last."""
    data = page.get("data") or []
    if not page.get("has_more") or not data:
        return None
    return {**params, "starting_after": data[-1]["id"]}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _failure_of(error: stripe.StripeError) -> Failure:
    if isinstance(error, stripe.APIConnectionError):
        return Failure(http_status=None, connection_retryable=bool(error.should_retry))
    details = error.error
    return Failure(
        http_status=error.http_status,
        error_type=getattr(details, "type", None) if details else None,
        error_code=error.code or (getattr(details, "code", None) if details else None),
        should_retry_header=_header(error.headers, "Stripe-Should-Retry"),
    )


def _require_key(idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("a write needs an idempotency key of 1 to 255 characters")
    return idempotency_key


def _params(params: Params | None) -> Any:
    """The SDK's params are TypedDicts; the mapping builds plain dicts of the same shape."""
    return dict(params or {})


class StripeSink:
    """Paced, retried, idempotent access to the Stripe endpoints the sync engine uses. Thread-safe."""

    def __init__(
        self,
        settings: StripeSinkSettings,
        *,
        bucket: TokenBucket | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self._key_source = settings.key_source
        self._policy = BackoffPolicy(
            max_retries=settings.max_retries,
            base_seconds=settings.backoff_base_seconds,
            max_seconds=settings.backoff_max_seconds,
        )
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sleep = sleep
        self._metrics = StripeMetrics()
        self._http = stripe.RequestsClient(timeout=settings.timeout_seconds)
        self._sdk_lock = threading.Lock()
        key = self._read_key()
        if not key:
            raise StripeAuthError(f"No Stripe API key: the key source {self._key_source!r} returned nothing")
        self._state = self._build(key, generation=0)
        self.bucket = bucket or TokenBucket(settings.effective_rate(key), settings.burst)

    def __repr__(self) -> str:
        return (
            f"StripeSink(api_base={self.settings.api_base!r}, key={mask_key(self._state.key)}, "
            f"rate={self.bucket.rate}/s, burst={self.bucket.burst})"
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def masked_key(self) -> str:
        return mask_key(self._state.key)

    def metrics(self) -> MetricsSnapshot:
        return self._metrics.snapshot()

    # -- customers -------------------------------------------------------------------------------------

    def create_customer(self, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._execute(
            _Call(
                "customers.create",
                "POST",
                "/v1/customers",
                lambda sdk, opts: sdk.v1.customers.create(params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def update_customer(self, customer_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._execute(
            _Call(
                "customers.update",
                "POST",
                "/v1/customers/{id}",
                lambda sdk, opts: sdk.v1.customers.update(customer_id, params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def retrieve_customer(self, customer_id: str) -> StripeResult:
        return self._execute(
            _Call(
                "customers.retrieve",
                "GET",
                "/v1/customers/{id}",
                lambda sdk, opts: sdk.v1.customers.retrieve(customer_id, options=opts),
            )
        )

    def list_customers(self, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every customer matching `params` (e.g. `email`), all pages: for re-linking by metadata in bulk."""
        return self._list_all(
            "customers.list",
            "/v1/customers",
            lambda sdk, page, opts: sdk.v1.customers.list(params=page, options=opts),
            params,
        )

    # -- invoices --------------------------------------------------------------------------------------

    def create_invoice(self, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._execute(
            _Call(
                "invoices.create",
                "POST",
                "/v1/invoices",
                lambda sdk, opts: sdk.v1.invoices.create(params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def update_invoice(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._execute(
            _Call(
                "invoices.update",
                "POST",
                "/v1/invoices/{id}",
                lambda sdk, opts: sdk.v1.invoices.update(invoice_id, params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def retrieve_invoice(self, invoice_id: str) -> StripeResult:
        return self._execute(
            _Call(
                "invoices.retrieve",
                "GET",
                "/v1/invoices/{id}",
                lambda sdk, opts: sdk.v1.invoices.retrieve(invoice_id, options=opts),
            )
        )

    def delete_invoice(self, invoice_id: str, *, idempotency_key: str) -> StripeResult:
        """Delete a draft. Stripe keeps no idempotency record for DELETE, so when a retry after a lost
        answer finds the invoice gone (404), that is our own delete: it returns `replayed=True`."""
        return self._execute(
            _Call(
                "invoices.delete",
                "DELETE",
                "/v1/invoices/{id}",
                lambda sdk, opts: sdk.v1.invoices.delete(invoice_id, options=opts),
                _require_key(idempotency_key),
                deleted_object={"id": invoice_id, "object": "invoice", "deleted": True},
            )
        )

    def list_invoices(
        self, *, customer: str | None = None, status: str | None = None, params: Params | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every invoice, optionally of one customer and/or in one status (`draft`, `open`…), all pages."""
        query: dict[str, Any] = dict(params or {})
        if customer is not None:
            query["customer"] = customer
        if status is not None:
            query["status"] = status
        return self._list_all(
            "invoices.list",
            "/v1/invoices",
            lambda sdk, page, opts: sdk.v1.invoices.list(params=page, options=opts),
            query,
        )

    def list_invoice_lines(self, invoice_id: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every line of an invoice, all pages (an invoice embeds only its first lines)."""
        return self._list_all(
            "invoices.lines.list",
            "/v1/invoices/{id}/lines",
            lambda sdk, page, opts: sdk.v1.invoices.line_items.list(invoice_id, params=page, options=opts),
            params,
        )

    def add_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"price_data"|"amount"…, "description", "metadata"…}], …}` (drafts only)."""
        return self._execute(
            _Call(
                "invoices.add_lines",
                "POST",
                "/v1/invoices/{id}/add_lines",
                lambda sdk, opts: sdk.v1.invoices.add_lines(invoice_id, params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def remove_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"id": "il_…", "behavior": "delete"|"unassign"}]}` (drafts only)."""
        return self._execute(
            _Call(
                "invoices.remove_lines",
                "POST",
                "/v1/invoices/{id}/remove_lines",
                lambda sdk, opts: sdk.v1.invoices.remove_lines(
                    invoice_id, params=_params(params), options=opts
                ),
                _require_key(idempotency_key),
            )
        )

    def update_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"id": "il_…", …changes}]}` (drafts only)."""
        return self._execute(
            _Call(
                "invoices.update_lines",
                "POST",
                "/v1/invoices/{id}/update_lines",
                lambda sdk, opts: sdk.v1.invoices.update_lines(
                    invoice_id, params=_params(params), options=opts
                ),
                _require_key(idempotency_key),
            )
        )

    # -- credit notes ----------------------------------------------------------------------------------

    def create_credit_note(self, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"invoice": "in_…", "lines": [...], "memo", "metadata"…}` (open or paid invoices)."""
        return self._execute(
            _Call(
                "credit_notes.create",
                "POST",
                "/v1/credit_notes",
                lambda sdk, opts: sdk.v1.credit_notes.create(params=_params(params), options=opts),
                _require_key(idempotency_key),
            )
        )

    def list_credit_notes(
        self, *, invoice: str | None = None, params: Params | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every credit note, optionally of one invoice, all pages."""
        query: dict[str, Any] = dict(params or {})
        if invoice is not None:
            query["invoice"] = invoice
        return self._list_all(
            "credit_notes.list",
            "/v1/credit_notes",
            lambda sdk, page, opts: sdk.v1.credit_notes.list(params=page, options=opts),
            query,
        )

    # -- account ---------------------------------------------------------------------------------------

    def retrieve_balance(self) -> StripeResult:
        """The cheapest authenticated call: a connection and key check."""
        return self._execute(
            _Call(
                "balance.retrieve",
                "GET",
                "/v1/balance",
                lambda sdk, opts: sdk.v1.balance.retrieve(options=opts),
            )
        )

    # -- the engine room -------------------------------------------------------------------------------

    def _list_all(
        self,
        operation: str,
        path: str,
        fetch: _FetchPage,
        params: Params | None,
    ) -> Iterator[dict[str, Any]]:
        page_params: dict[str, Any] | None = {"limit": PAGE_SIZE, **(params or {})}
        while page_params is not None:
            send = functools.partial(_send_page, fetch, dict(page_params))
            page = self._execute(_Call(operation, "GET", path, send)).object
            yield from page.get("data") or []
            page_params = next_list_params(page_params, page)

    def _read_key(self) -> str:
        try:
            return self._key_source().strip()
        except StripeSinkError:
            raise
        except Exception as error:  # a credential store failing; its message could hold a secret
            raise StripeAuthError(
                f"The Stripe key source {self._key_source!r} failed: {type(error).__name__}"
            ) from None

    def _build(self, key: str, generation: int) -> _SdkState:
        sdk = stripe.StripeClient(
            key,
            base_addresses={"api": self.settings.api_base},
            stripe_account=self.settings.stripe_account,
            max_network_retries=0,
            http_client=self._http,
        )
        return _SdkState(key=key, generation=generation, sdk=sdk)

    def _refresh_key(self, seen_generation: int) -> bool:
        """After a 401: True if a different key is now in use (read now, or by another thread)."""
        with self._sdk_lock:
            if self._state.generation != seen_generation:
                return True
            try:
                key = self._read_key()
            except StripeAuthError:
                return False
            if not key or key == self._state.key:
                return False
            self._state = self._build(key, self._state.generation + 1)
            self._metrics.key_refresh()
            log.warning("Stripe refused the key; now using %s from the key source", mask_key(key))
            return True

    def _backoff(self, retry_number: int) -> float:
        with self._rng_lock:
            return backoff_delay(self._policy, retry_number, self._rng)

    def _execute(self, call: _Call) -> StripeResult:
        """Send one logical request until it succeeds or fails for good; every attempt is paced."""
        self._metrics.logical_request()
        retries = 0
        refreshed = False
        uncertain = False  # an attempt may have run at Stripe without us seeing the answer
        options: stripe.RequestOptions = {}
        if call.idempotency_key:
            options["idempotency_key"] = call.idempotency_key
        while True:
            state = self._state
            self._metrics.token_wait(self.bucket.acquire())
            try:
                obj = call.send(state.sdk, options)
            except stripe.StripeError as error:
                failure = _failure_of(error)
                status = failure.http_status
                outcome = "connection_error" if status is None else f"http_{status}"
                self._metrics.attempt(call.method, call.path, outcome)
                disposition = classify(failure)
                if disposition is Disposition.RETRY and retries < self._policy.max_retries:
                    uncertain = uncertain or status is None or status >= 500
                    retries += 1
                    delay = self._backoff(retries)
                    self._metrics.retry(delay)
                    log.info("%s: %s, retry %d in %.2fs", call.operation, outcome, retries, delay)
                    self._sleep(delay)
                    continue
                if (
                    disposition is Disposition.REFRESH_KEY
                    and not refreshed
                    and self._refresh_key(state.generation)
                ):
                    refreshed = True
                    continue
                if disposition is Disposition.REJECT and status == 404 and uncertain and call.deleted_object:
                    return StripeResult(dict(call.deleted_object), error.request_id, replayed=True)
                raise self._final_error(call, error, failure, disposition, attempts=retries + 1) from None
            response = obj.last_response
            replayed = _header(response.headers if response else None, "Idempotent-Replayed") == "true"
            self._metrics.attempt(call.method, call.path, "replayed" if replayed else "ok")
            return StripeResult(obj.to_dict(), response.request_id if response else None, replayed)

    def _final_error(
        self,
        call: _Call,
        error: stripe.StripeError,
        failure: Failure,
        disposition: Disposition,
        attempts: int,
    ) -> StripeSinkError:
        """The typed error for a failure that ends the logical request; never holds the key in clear."""
        key = self._state.key
        message = redact_key(error.user_message or type(error).__name__, key)
        status = failure.http_status
        answer = "no response" if status is None else f"HTTP {status}"
        request_id = error.request_id
        if disposition is Disposition.RETRY:
            return StripeUnavailable(
                f"{call.operation}: still failing after {attempts} attempts; last: {answer}: {message}",
                request_id=request_id,
                http_status=status,
                attempts=attempts,
                operation=call.operation,
            )
        if disposition is Disposition.GIVE_UP:
            return StripeUnavailable(
                f"{call.operation}: Stripe failed and a retry cannot help ({answer}): {message}",
                request_id=request_id,
                http_status=status,
                attempts=attempts,
                operation=call.operation,
                same_key_will_fail=failure.should_retry_header == "false",
            )
        if disposition is Disposition.REFRESH_KEY:
            return StripeAuthError(
                f"{call.operation}: Stripe refused the API key {mask_key(key)} ({answer}: {message}); "
                f"the key source {self._key_source!r} offers no other valid key. "
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
