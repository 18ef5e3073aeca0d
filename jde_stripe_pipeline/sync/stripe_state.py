"""Reading what Stripe holds for one record: by the ledger's mapping, by the Stripe id its intent row
knows, or by a narrow lookup when a create may have happened without a recorded outcome.

Never a whole-account listing (that is `relink.py`'s, an explicit recovery). The lookup of a create in
flight reads only what was created after the create was intended (`intent_at`, less a clock margin):
- an invoice among its customer's: `GET /v1/invoices?customer=cus_…&created[gte]=…`;
- a customer among those created since, narrowed by its e-mail when it has one:
  `GET /v1/customers?created[gte]=…&email=…`. Stripe's customer search would find it by `jde_an8`
  but lags writes (up to a minute, longer during incidents) and the sink has no search call; a list
  filtered by creation time is exact at once and small, because intents are settled by the run that
  made them and are looked up only after a crash, a saved failure or 23 h.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.ledger import Intent, ObjectMapping
from jde_stripe_pipeline.mapping import InvoiceRequest
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected, StripeResult, StripeSink
from jde_stripe_pipeline.stripe_sink.client import PAGE_SIZE
from jde_stripe_pipeline.sync.decision import ABSENT, StripeState

REPLACEABLE_STATUSES = frozenset({"void"})
"""A voided invoice is history: a record whose only invoices are void gets a new one."""

CLOCK_MARGIN = timedelta(minutes=10)
"""Stripe's clock against ours: a lookup starts this much before the intent was noted."""

EMBEDDED_LINES = 10
"""Lines a retrieved invoice embeds (Stripe's fixed count; `lines` is not expandable further)."""


def reads_lines_first(request: object, mapping: ObjectMapping | None) -> bool:
    """A mapped draft of this many JDE lines is read by its line listing alone (one request for up to
    100 lines) instead of a retrieve that embeds 10 and a listing: its header and status come with the
    first write's answer (`per_record.py`). Not for a drifted record (a person may have edited the
    header: read it first) nor a deletion (decided on the status alone)."""
    return (
        isinstance(request, InvoiceRequest)
        and mapping is not None
        and mapping.drift is None
        and len(request.lines) >= EMBEDDED_LINES
    )


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


def status_rank(invoice: Mapping[str, Any]) -> tuple[int, int]:
    """Drafts first, then finalized ones, void last; older first."""
    order = {"draft": 0, "open": 1, "paid": 1, "uncollectible": 1, "void": 2}
    return order.get(str(invoice.get("status")), 3), int(invoice.get("created") or 0)


def _since(intent: Intent) -> int:
    assert intent.intent_at is not None
    return int((intent.intent_at - CLOCK_MARGIN).timestamp())


def _found(listed: list[dict[str, Any]], state: StripeState | None = None) -> StripeState:
    if not listed:
        return ABSENT
    chosen = listed[0]
    lines = state.lines if state is not None else ()
    return StripeState("relink", chosen, lines, duplicates=tuple(str(o["id"]) for o in listed[1:]))


class StripeReader:
    """What Stripe holds per record, for the decide functions; every read goes to the record's `Meter`."""

    def customer(
        self,
        record_key: str,
        mapping: ObjectMapping | None,
        meter: Meter,
        *,
        intent: Intent | None = None,
        email: str | None = None,
    ) -> StripeState:
        if mapping is not None:
            found = retrieve_live(meter, "customer", mapping.stripe_id)
            return ABSENT if found is None else StripeState("mapping", found)
        if intent is not None and intent.stripe_id is not None:
            found = retrieve_live(meter, "customer", intent.stripe_id)
            if found is not None:
                return StripeState("relink", found)
        if intent is None or intent.intent_at is None:
            return ABSENT
        params: dict[str, Any] = {"created": {"gte": _since(intent)}}
        if email:
            params["email"] = email
        listed = [
            customer
            for customer in meter.pages(meter.sink.list_customers(params))
            if (customer.get("metadata") or {}).get("jde_an8") == record_key and not customer.get("deleted")
        ]
        listed.sort(key=lambda c: (c.get("created") or 0, c["id"]))
        return _found(listed)

    def invoice_lines(self, invoice_id: str, meter: Meter) -> StripeState:
        """A mapped invoice's lines alone (`lines_only`), or ABSENT when Stripe no longer has it."""
        try:
            lines = meter.pages(meter.sink.list_invoice_lines(invoice_id))
        except StripeRequestRejected as error:
            if is_missing(error):
                return ABSENT
            raise
        return StripeState("mapping", lines=tuple(lines), lines_only=True)

    def invoice_header(self, invoice_id: str, state: StripeState, meter: Meter) -> StripeState:
        """The header of an invoice whose lines were read alone: its lines are kept, not listed again."""
        found = retrieve_live(meter, "invoice", invoice_id)
        return ABSENT if found is None else StripeState("mapping", found, state.lines)

    def invoice(
        self,
        record_key: str,
        mapping: ObjectMapping | None,
        meter: Meter,
        *,
        intent: Intent | None = None,
        customer_id: str | None = None,
    ) -> StripeState:
        if mapping is not None:
            found = retrieve_live(meter, "invoice", mapping.stripe_id)
            if found is None:
                return ABSENT
            return StripeState("mapping", found, tuple(meter.invoice_lines(found)))
        if intent is not None and intent.stripe_id is not None:
            found = retrieve_live(meter, "invoice", intent.stripe_id)
            if found is not None and found.get("status") not in REPLACEABLE_STATUSES:
                return StripeState("relink", found, tuple(meter.invoice_lines(found)))
        if intent is None or intent.intent_at is None or customer_id is None:
            return ABSENT
        since = {"created": {"gte": _since(intent)}}
        listed = [
            invoice
            for invoice in meter.pages(meter.sink.list_invoices(customer=customer_id, params=since))
            if str(JdeDocumentKey.from_metadata(invoice.get("metadata") or {})) == record_key
            and invoice.get("status") not in REPLACEABLE_STATUSES
        ]
        listed.sort(key=status_rank)
        if not listed:
            return ABSENT
        return _found(listed, StripeState("relink", lines=tuple(meter.invoice_lines(listed[0]))))
