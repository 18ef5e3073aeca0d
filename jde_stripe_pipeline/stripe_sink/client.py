"""The one Stripe client of a run: paced, retried, idempotent, shared by the engine's worker threads.

Design (why it looks like this):
- ONE official `stripe.StripeClient` per key (`keyring.py`), built with `max_network_retries=0`: every
  retry is `transport.py`'s, so 429 (which the SDK never retries) and 5xx/409/connection errors follow one
  policy and every attempt is paced. Calls go through its `raw_request` (the typed services' encoding,
  headers and errors) and answers become plain dicts (`transport.py`): no `StripeObject` to build and undo.
- Pacing is per Stripe account, not per client (`budget.py`): the global lane, one lane per endpoint,
  search's, and the requests in flight, shared by every sink of the account in this process and, through
  a small locked file, by the processes on this host (`shared.py`).
- Parameters are copied when a call is made, so every attempt of it sends the same body under the same
  idempotency key, whatever the caller does with its dict meanwhile.
- Listings page by `starting_after` through the same paced, retried path; the SDK's
  `auto_paging_iter` would bypass both.
"""

from __future__ import annotations

import copy
import functools
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote_plus

import stripe

from jde_stripe_pipeline.errors import ConfigurationError
from jde_stripe_pipeline.stripe_sink.budget import AccountBudget, budget_for, budget_name, release_budget
from jde_stripe_pipeline.stripe_sink.keyring import KeyRing
from jde_stripe_pipeline.stripe_sink.keys import mask_key
from jde_stripe_pipeline.stripe_sink.metrics import MetricsSnapshot, StripeMetrics
from jde_stripe_pipeline.stripe_sink.retry import BackoffPolicy
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings
from jde_stripe_pipeline.stripe_sink.transport import Call, StripeResult, Transport, WireClient

__all__ = ["PAGE_SIZE", "StripeResult", "StripeSink", "next_list_params"]

Params = Mapping[str, Any]
PAGE_SIZE = 100
"""Stripe's largest page."""


def next_list_params(params: Params, page: Mapping[str, Any]) -> dict[str, Any] | None:
    """Params of the page after `page` of a list endpoint, or None when it was the last."""
    data = page.get("data") or []
    if not page.get("has_more") or not data:
        return None
    return {**params, "starting_after": data[-1]["id"]}


def _open_budget(settings: StripeSinkSettings, key: str) -> AccountBudget:
    directory = Path(settings.budget_dir) if settings.budget_dir else None
    try:
        return budget_for(budget_name(settings.api_base, settings.budget_name, key), directory)
    except OSError as error:
        raise ConfigurationError(
            f"JDE_STRIPE_BUDGET_DIR={settings.budget_dir!r} cannot hold the Stripe budget shared by this "
            f"host's runs ({error.strerror}): point it at a writable directory, or set it to 'off'"
        ) from None


def _require_key(idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("a write needs an idempotency key of 1 to 255 characters")
    return idempotency_key


def _send(
    method: str,
    path: str,
    ids: tuple[str, ...],
    params: dict[str, Any] | None,
    sdk: stripe.StripeClient,
    options: stripe.RequestOptions,
) -> stripe.StripeResponse:
    """One attempt through the official client's `raw_request`: the same form encoding, headers, error
    classes and HTTP client as its typed services, without turning the answer into `StripeObject`s
    (at 300 ms that conversion and `to_dict` were a quarter of the write phase's CPU, held under the
    GIL while answers waited). A fresh copy of the frozen params each attempt."""
    body = {} if params is None else copy.deepcopy(params)
    taken = _OPTION_NAMES.intersection(body)
    if taken:  # raw_request would read them as request options, not send them
        raise ValueError(f"{path}: parameter(s) {sorted(taken)} clash with the SDK's request options")
    url = path.format(id=quote_plus(ids[0])) if ids else path
    return sdk.raw_request(method.lower(), url, **body, **options)


_OPTION_NAMES = frozenset(stripe.RequestOptions.__annotations__) | {"base", "usage"}
"""The keyword names `StripeClient.raw_request` takes out of its params: the SDK's request options (read
from its own type, so an SDK upgrade brings its new ones) and the two it pops itself."""


class StripeSink:
    """Paced, retried, idempotent access to the Stripe endpoints the sync engine uses. Thread-safe."""

    def __init__(
        self,
        settings: StripeSinkSettings,
        *,
        budget: AccountBudget | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self._metrics = StripeMetrics()
        self._http = WireClient(timeout=settings.timeout_seconds)
        self.keys = KeyRing(
            settings.key_source,
            api_base=settings.api_base,
            http=self._http,
            stripe_account=settings.stripe_account,
            grace_seconds=settings.key_grace_seconds,
            poll_seconds=settings.key_grace_poll_seconds,
            sleep=sleep,
            on_refresh=self._metrics.key_refresh,
        )
        key = self.keys.current.key
        self.paces = settings.paces(key)
        self._owns_budget = budget is None
        self.budget = budget or _open_budget(settings, key)
        self._transport = Transport(
            keys=self.keys,
            budget=self.budget,
            paces=self.paces,
            burst=settings.burst,
            policy=BackoffPolicy(
                max_retries=settings.max_retries,
                base_seconds=settings.backoff_base_seconds,
                max_seconds=settings.backoff_max_seconds,
            ),
            rate_limited_patience=settings.rate_limited_patience_seconds,
            metrics=self._metrics,
            rng=rng or random.Random(),
            sleep=sleep,
        )
        self._closed = False

    def __repr__(self) -> str:
        p = self.paces
        return (
            f"StripeSink(api_base={self.settings.api_base!r}, key={self.masked_key}, "
            f"rate={p.global_rate}/s, endpoint={p.endpoint_rate}/s, search={p.search_rate}/s, "
            f"in_flight<={p.max_in_flight}, burst={self.settings.burst})"
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._http.close()
        if self._owns_budget:
            release_budget(self.budget)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def masked_key(self) -> str:
        return mask_key(self.keys.current.key)

    def metrics(self) -> MetricsSnapshot:
        return self._metrics.snapshot()

    # -- customers -------------------------------------------------------------------------------------

    def create_customer(self, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._write("customers.create", "/v1/customers", (), params, idempotency_key)

    def update_customer(self, customer_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._write("customers.update", "/v1/customers/{id}", (customer_id,), params, idempotency_key)

    def retrieve_customer(self, customer_id: str) -> StripeResult:
        return self._read("customers.retrieve", "/v1/customers/{id}", (customer_id,))

    def list_customers(self, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every customer matching `params` (e.g. `email`), all pages: for re-linking by metadata in bulk."""
        return self._list_all("customers.list", "/v1/customers", (), params)

    # -- invoices --------------------------------------------------------------------------------------

    def create_invoice(self, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._write("invoices.create", "/v1/invoices", (), params, idempotency_key)

    def update_invoice(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        return self._write("invoices.update", "/v1/invoices/{id}", (invoice_id,), params, idempotency_key)

    def retrieve_invoice(self, invoice_id: str) -> StripeResult:
        return self._read("invoices.retrieve", "/v1/invoices/{id}", (invoice_id,))

    def delete_invoice(self, invoice_id: str, *, idempotency_key: str) -> StripeResult:
        """Delete a draft. Stripe keeps no idempotency record for DELETE, so when a retry after a lost
        answer finds the invoice gone (404), that is our own delete: it returns `replayed=True`."""
        path = "/v1/invoices/{id}"
        return self._transport.execute(
            Call(
                "invoices.delete",
                "DELETE",
                path,
                functools.partial(_send, "DELETE", path, (invoice_id,), None),
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
        return self._list_all("invoices.list", "/v1/invoices", (), query)

    def list_invoice_lines(self, invoice_id: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every line of an invoice, all pages (an invoice embeds only its first lines)."""
        return self._list_all("invoices.lines.list", "/v1/invoices/{id}/lines", (invoice_id,), params)

    def add_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"price_data"|"amount"…, "description", "metadata"…}], …}` (drafts only)."""
        path = "/v1/invoices/{id}/add_lines"
        return self._write("invoices.add_lines", path, (invoice_id,), params, idempotency_key)

    def remove_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"id": "il_…", "behavior": "delete"|"unassign"}]}` (drafts only)."""
        path = "/v1/invoices/{id}/remove_lines"
        return self._write("invoices.remove_lines", path, (invoice_id,), params, idempotency_key)

    def update_invoice_lines(self, invoice_id: str, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"lines": [{"id": "il_…", …changes}]}` (drafts only)."""
        path = "/v1/invoices/{id}/update_lines"
        return self._write("invoices.update_lines", path, (invoice_id,), params, idempotency_key)

    # -- credit notes ----------------------------------------------------------------------------------

    def create_credit_note(self, params: Params, *, idempotency_key: str) -> StripeResult:
        """`params` = `{"invoice": "in_…", "lines": [...], "memo", "metadata"…}` (open or paid invoices)."""
        return self._write("credit_notes.create", "/v1/credit_notes", (), params, idempotency_key)

    def list_credit_notes(
        self, *, invoice: str | None = None, params: Params | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every credit note, optionally of one invoice, all pages."""
        query: dict[str, Any] = dict(params or {})
        if invoice is not None:
            query["invoice"] = invoice
        return self._list_all("credit_notes.list", "/v1/credit_notes", (), query)

    # -- account ---------------------------------------------------------------------------------------

    def retrieve_balance(self) -> StripeResult:
        """The cheapest authenticated call: a connection and key check."""
        return self._read("balance.retrieve", "/v1/balance", ())

    # -- how calls are made ----------------------------------------------------------------------------

    def _write(
        self, operation: str, path: str, ids: tuple[str, ...], params: Params, idempotency_key: str
    ) -> StripeResult:
        frozen = copy.deepcopy(dict(params))
        send = functools.partial(_send, "POST", path, ids, frozen)
        return self._transport.execute(Call(operation, "POST", path, send, _require_key(idempotency_key)))

    def _read(self, operation: str, path: str, ids: tuple[str, ...]) -> StripeResult:
        send = functools.partial(_send, "GET", path, ids, None)
        return self._transport.execute(Call(operation, "GET", path, send))

    def _list_all(
        self, operation: str, path: str, ids: tuple[str, ...], params: Params | None
    ) -> Iterator[dict[str, Any]]:
        page_params: dict[str, Any] | None = {"limit": PAGE_SIZE, **(params or {})}
        while page_params is not None:
            send = functools.partial(_send, "GET", path, ids, copy.deepcopy(page_params))
            page = self._transport.execute(Call(operation, "GET", path, send)).object
            yield from page.get("data") or []
            page_params = next_list_params(page_params, page)
