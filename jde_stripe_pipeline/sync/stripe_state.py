"""Reading what Stripe holds for a record: by the ledger's id, else by its `jde_*` metadata.

A record without a mapping (first run against an account that already has objects, lost state
database, a crash between Stripe's commit and the ledger's) is looked up in ONE listing pass per
object type, built lazily the first time some record needs it and shared by every worker thread for
the run — never by Stripe search (it lags writes). The listing index is isolated here so it can be
replaced (e.g. by a ledger of Stripe ids) without touching the decisions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.ledger import ObjectMapping
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected, StripeResult, StripeSink
from jde_stripe_pipeline.stripe_sink.client import PAGE_SIZE
from jde_stripe_pipeline.sync.decide import ABSENT, StripeState

_REPLACEABLE_STATUSES = frozenset({"void"})
"""A voided invoice is history: a record whose only invoices are void gets a new one."""


def is_missing(error: StripeRequestRejected) -> bool:
    return error.http_status == 404


class Meter:
    """The sink's calls for one record, counted (every logical request or listing page is one)."""

    def __init__(self, sink: StripeSink) -> None:
        self.sink = sink
        self.count = 0

    def pages(self, items: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        listed = list(items)
        self.count += max(1, -(-len(listed) // PAGE_SIZE))
        return listed

    def retrieve(self, kind: str, object_id: str) -> StripeResult:
        self.count += 1
        if kind == "customer":
            return self.sink.retrieve_customer(object_id)
        return self.sink.retrieve_invoice(object_id)

    def invoice_lines(self, invoice: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every line of an invoice: the embedded ones when complete, else one listing."""
        embedded = invoice.get("lines") or {}
        if not embedded.get("has_more"):
            return list(embedded.get("data") or [])
        return self.pages(self.sink.list_invoice_lines(str(invoice["id"])))


def retrieve_live(meter: Meter, kind: str, object_id: str) -> dict[str, Any] | None:
    """The object, or None when Stripe answers 404 or shows it deleted."""
    try:
        found = meter.retrieve(kind, object_id).object
    except StripeRequestRejected as error:
        if is_missing(error):
            return None
        raise
    return None if found.get("deleted") else found


class _LazyIndex:
    """One listing pass, built the first time a record needs it, shared by every worker thread."""

    def __init__(self, build: Callable[[Meter], dict[str, list[dict[str, Any]]]], sink: StripeSink):
        self._build = build
        self._sink = sink
        self._lock = threading.Lock()
        self._index: dict[str, list[dict[str, Any]]] | None = None
        self.requests = 0

    def get(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            if self._index is None:
                meter = Meter(self._sink)
                self._index = self._build(meter)
                self.requests += meter.count
            return self._index.get(key, [])

    def forget(self) -> None:
        with self._lock:
            self._index = None


def _customers_by_an8(meter: Meter) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = {}
    for customer in meter.pages(meter.sink.list_customers()):
        an8 = (customer.get("metadata") or {}).get("jde_an8")
        if an8 and not customer.get("deleted"):
            index.setdefault(str(an8), []).append(customer)
    for found in index.values():
        found.sort(key=lambda c: (c.get("created") or 0, c["id"]))
    return index


def _status_rank(invoice: Mapping[str, Any]) -> tuple[int, int]:
    order = {"draft": 0, "open": 1, "paid": 1, "uncollectible": 1, "void": 2}
    return order.get(str(invoice.get("status")), 3), int(invoice.get("created") or 0)


def _invoices_by_document(meter: Meter) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = {}
    for invoice in meter.pages(meter.sink.list_invoices()):
        key = JdeDocumentKey.from_metadata(invoice.get("metadata") or {})
        if key is not None:
            index.setdefault(str(key), []).append(invoice)
    for found in index.values():
        found.sort(key=_status_rank)
    return index


class StripeReader:
    """What Stripe holds per record, for the decide functions. Listing passes are shared and counted
    apart (`requests`); per-record reads go to the record's `Meter`."""

    def __init__(self, sink: StripeSink) -> None:
        self._customers = _LazyIndex(_customers_by_an8, sink)
        self._invoices = _LazyIndex(_invoices_by_document, sink)

    def listing_requests(self, kind: str) -> int:
        """Requests the listing pass of one object type has cost so far (every pass of the run)."""
        return (self._customers if kind == "customer" else self._invoices).requests

    def forget(self) -> None:
        """Drop the listings: the next lookup lists again (after a round whose creates may have happened)."""
        self._customers.forget()
        self._invoices.forget()

    def customer(self, record_key: str, mapping: ObjectMapping | None, meter: Meter) -> StripeState:
        if mapping is not None:
            found = retrieve_live(meter, "customer", mapping.stripe_id)
            return ABSENT if found is None else StripeState("mapping", found)
        listed = self._customers.get(record_key)
        if not listed:
            return ABSENT
        return StripeState("relink", listed[0], duplicates=tuple(str(c["id"]) for c in listed[1:]))

    def customer_id(self, an8: str) -> str | None:
        """The Stripe customer the listing finds for an AN8 (the one a customer sync relinks to)."""
        listed = self._customers.get(an8)
        return str(listed[0]["id"]) if listed else None

    def invoice(self, record_key: str, mapping: ObjectMapping | None, meter: Meter) -> StripeState:
        if mapping is not None:
            found = retrieve_live(meter, "invoice", mapping.stripe_id)
            if found is None:
                return ABSENT
            return StripeState("mapping", found, tuple(meter.invoice_lines(found)))
        listed = [i for i in self._invoices.get(record_key) if i.get("status") not in _REPLACEABLE_STATUSES]
        if not listed:
            return ABSENT
        chosen = listed[0]
        return StripeState(
            "relink",
            chosen,
            tuple(meter.invoice_lines(chosen)),
            duplicates=tuple(str(i["id"]) for i in listed[1:]),
        )
