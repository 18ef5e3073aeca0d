"""The sync engine: typed JDE records in, the fewest Stripe requests that make Stripe equal JDE out.

A thin facade over one code path per record: map (`work`) → decide (`decide`, reading Stripe through
`stripe_state` when the decision needs it) → for a sync, execute (`execute`) and record (`record`);
for a plan, stop after deciding. So `jde-stripe plan` prints exactly the operations a sync sends,
with their idempotency keys. Where the two read differently:
- a plan retrieves a mapped customer whose content changed (one GET) to show which fields differ; a
  sync updates it blind and re-decides (create anew) only if Stripe answers 404;
- a sync checks a create answered by an idempotent replay (one GET) and, if that object has been
  deleted since, creates under a new generation: a plan cannot foresee Stripe's replay memory.

Why else it is built this way:
- Change detection is the content hash of the mapped request against the ledger's: an unchanged
  record sends no request at all (it only appends an `unchanged` audit row).
- Invoices converge from the draft's actual lines (by `jde_lnid`), so whatever partial state a crash
  left, the next run sends only what is still missing. Lines without `jde_lnid` and metadata the
  mapping does not own are a person's: left alone and reported.
- Customers before invoices (`sync_invoices` syncs the invoices' missing customers first, then the
  invoices on `workers` threads), records deduplicated by key: no two threads ever race on one object.
- A rejected request (400…) fails its record only, with Stripe's message, and the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.ledger import Action, Ledger, ObjectMapping
from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    DeleteDraftInvoice,
    InvoiceMappingConfig,
    InvoiceRequest,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected, StripeSink, StripeUnavailable
from jde_stripe_pipeline.sync.ar_events import ArEvents, split_ar_events
from jde_stripe_pipeline.sync.decide import (
    UNREAD,
    CustomerLink,
    Decision,
    PendingCustomer,
    StripeState,
    decide_customer,
    decide_invoice,
)
from jde_stripe_pipeline.sync.execute import Executed, NewKeyNeeded, execute, run_rounds
from jde_stripe_pipeline.sync.operations import Created
from jde_stripe_pipeline.sync.reconcile import reconcile_invoices
from jde_stripe_pipeline.sync.record import Recorder
from jde_stripe_pipeline.sync.results import (
    ObjectKind,
    Plan,
    PlannedChange,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader
from jde_stripe_pipeline.sync.work import Work, dedupe, works

__all__ = ["CustomerFetch", "SyncEngine"]

CustomerFetch = Callable[[Sequence[int]], Iterable[JdeCustomer | QuarantinedRecord]]

MAX_DECISIONS = 5
"""Decisions per record and round: the first, then one per re-decide (a create replaying a deleted
object, a blind update finding the object gone)."""


class SyncEngine:
    """Syncs JDE records into Stripe through one `StripeSink`, recording every outcome in the `Ledger`."""

    def __init__(
        self,
        *,
        stripe: StripeSink,
        ledger: Ledger,
        customer_config: CustomerMappingConfig,
        invoice_config: InvoiceMappingConfig,
        run_id: str,
        partition_key: str | None,
        workers: int = 4,
        progress: Callable[[int, int | None], None] | None = None,
        max_rounds: int = 4,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
        self.stripe = stripe
        self.ledger = ledger
        self.customer_config = customer_config
        self.invoice_config = invoice_config
        self.run_id = run_id
        self.partition_key = partition_key
        self.workers = workers
        self.progress = progress
        self.max_rounds = max_rounds
        self._reader = StripeReader(stripe)
        self._recorder = Recorder(ledger, run_id, partition_key)

    # ================================================================================== public

    def sync_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> SyncReport:
        started = time.monotonic()
        listing_before = self._reader.listing_requests("customer")
        items = dedupe(self._customer_works(records))
        mappings = self.ledger.get_mappings("customer", [w.record_key for w in items if w.request])
        results = self._rounds(
            "customer", items, lambda work: self._sync("customer", work, mappings.get(work.record_key))
        )
        requests = sum(r.requests for r in results)
        requests += self._reader.listing_requests("customer") - listing_before
        return SyncReport("customer", tuple(results), requests, time.monotonic() - started)

    def sync_invoices(
        self, records: Iterable[JdeInvoice | QuarantinedRecord], *, fetch_customers: CustomerFetch
    ) -> SyncReport:
        started = time.monotonic()
        listing_before = self._reader.listing_requests("invoice")
        items, ar_items = split_ar_events(dedupe(self._invoice_works(records)))
        customer_report = self._sync_missing_customers(items, fetch_customers)
        customers = self._customer_mappings(items)
        mappings = self.ledger.get_mappings("invoice", [w.record_key for w in items if w.request])

        def sync(work: Work) -> RecordResult:
            link = _linked(work, customers)
            return self._sync("invoice", work, mappings.get(work.record_key), customer=link)

        results = self._rounds("invoice", items, sync)
        results += self._rounds("invoice", ar_items, self._ar_events().sync)  # after their originals
        requests = sum(r.requests for r in results)
        requests += self._reader.listing_requests("invoice") - listing_before
        if customer_report is not None:
            requests += customer_report.requests_sent
        return SyncReport(
            "invoice", tuple(results), requests, time.monotonic() - started, customers=customer_report
        )

    def plan_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Plan:
        items = dedupe(self._customer_works(records))
        mappings = self.ledger.get_mappings("customer", [w.record_key for w in items if w.request])
        listing_before = self._reader.listing_requests("customer")
        changes: list[PlannedChange] = []
        requests = 0
        for work in items:
            meter = Meter(self.stripe)
            changes.append(
                _planned(self._decide("customer", work, mappings.get(work.record_key), meter, peek=True))
            )
            requests += meter.count
        requests += self._reader.listing_requests("customer") - listing_before
        return Plan("customer", tuple(changes), requests)

    def plan_invoices(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Plan:
        items, ar_items = split_ar_events(dedupe(self._invoice_works(records)))
        mappings = self.ledger.get_mappings("invoice", [w.record_key for w in items if w.request])
        customers = self._customer_mappings(items)
        listing_before = self._reader.listing_requests("invoice") + self._reader.listing_requests("customer")
        changes: list[PlannedChange] = []
        requests = 0
        for work in items:
            meter = Meter(self.stripe)
            link = self._planned_link(work, customers)
            decision = self._decide(
                "invoice", work, mappings.get(work.record_key), meter, customer=link, peek=True
            )
            changes.append(_planned(decision))
            requests += meter.count
        for work in ar_items:
            decision, cost = self._ar_events().plan(work)
            changes.append(_planned(decision))
            requests += cost
        listed = self._reader.listing_requests("invoice") + self._reader.listing_requests("customer")
        return Plan("invoice", tuple(changes), requests + listed - listing_before)

    def reconcile_invoices(self, records: Iterable[JdeInvoice]) -> ReconciliationReport:
        """Per invoice: Stripe's number, effective date, currency, billable line count and total against
        JDE's; non-drafts that differ listed as conflicts; lines and metadata a person added reported."""
        records = list(records)
        mappings = self.ledger.get_mappings("invoice", [str(r.key) for r in records])
        return reconcile_invoices(records, self.invoice_config, mappings, self._reader, Meter(self.stripe))

    # ============================================================================ one record

    def _decide(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        meter: Meter,
        *,
        customer: CustomerLink = None,
        peek: bool = False,
        state: StripeState = UNREAD,
    ) -> Decision:
        """The decision, reading Stripe when it needs to (a plan also where a sync would go blind)."""
        request = work.request
        already_deleted = (
            isinstance(request, DeleteDraftInvoice)
            and mapping is None
            and self._recorder.already_deleted(work.record_key, request.content_hash)
        )
        for _ in range(2):
            if kind == "customer":
                answer = decide_customer(work, mapping, state)
            else:
                answer = decide_invoice(
                    work, mapping, state, customer=customer, already_deleted=already_deleted
                )
            if isinstance(answer, Decision) and not (peek and answer.blind):
                return answer
            if kind == "customer":
                state = self._reader.customer(work.record_key, mapping, meter)
            else:
                state = self._reader.invoice(work.record_key, mapping, meter)
        raise AssertionError(f"{kind} {work.record_key}: undecided with Stripe's state read")

    def _sync(
        self, kind: ObjectKind, work: Work, mapping: ObjectMapping | None, *, customer: CustomerLink = None
    ) -> RecordResult:
        """Decide, execute, and decide again while Stripe's answers change the state; then record."""
        meter = Meter(self.stripe)
        state = UNREAD
        try:
            for _ in range(MAX_DECISIONS):
                decision = self._decide(kind, work, mapping, meter, customer=customer, state=state)
                answer = execute(decision, meter)
                if isinstance(answer, Executed):
                    return self._recorder.decided(decision, work, answer, work.requests_before + meter.count)
                state = answer
            raise StripeUnavailable(f"create keeps replaying deleted {kind}s")
        except StripeUnavailable as error:
            if error.same_key_will_fail:
                raise NewKeyNeeded(str(error), requests=work.requests_before + meter.count) from error
            return self._failed(kind, work, mapping, None, str(error), meter)
        except StripeRequestRejected as error:
            return self._failed(
                kind, work, mapping, mapping.stripe_id if mapping else None, str(error), meter
            )

    def _failed(
        self,
        kind: ObjectKind,
        work: Work,
        mapping: ObjectMapping | None,
        stripe_id: str | None,
        error: str,
        meter: Meter,
    ) -> RecordResult:
        action: Action = ("update" if kind == "customer" else "converge") if mapping else "create"
        reason = f"{kind} {work.record_key}: {error}"
        return self._recorder.failed(
            kind, work, action, stripe_id, reason, work.requests_before + meter.count
        )

    def _rounds(
        self, kind: ObjectKind, items: list[Work], sync: Callable[[Work], RecordResult]
    ) -> list[RecordResult]:
        def give_up(work: Work, error: NewKeyNeeded) -> RecordResult:
            reason = f"{kind} {work.record_key}: {error}"
            return self._recorder.failed(kind, work, "create", None, reason, error.requests)

        return run_rounds(
            kind,
            items,
            sync,
            max_rounds=self.max_rounds,
            workers=self.workers,
            give_up=give_up,
            progress=self.progress,
            between_rounds=self._reader.forget,
        )

    # ================================================================================ helpers

    def _ar_events(self) -> ArEvents:
        """Credit memos and voids of the `ar_invoice` profile (`sync/ar_events.py`)."""
        return ArEvents(
            sink=self.stripe,
            ledger=self.ledger,
            reader=self._reader,
            recorder=self._recorder,
            config=self.invoice_config,
        )

    def _customer_works(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Iterator[Work]:
        return works(records, lambda record: map_customer(record, self.customer_config))

    def _invoice_works(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Iterator[Work]:
        return works(records, lambda record: map_invoice(record, self.invoice_config))

    def _customer_mappings(self, items: Sequence[Work]) -> dict[str, ObjectMapping]:
        an8s = {str(w.request.customer_an8) for w in items if isinstance(w.request, InvoiceRequest)}
        return self.ledger.get_mappings("customer", an8s)

    def _sync_missing_customers(self, items: Sequence[Work], fetch: CustomerFetch) -> SyncReport | None:
        an8s = sorted({w.request.customer_an8 for w in items if isinstance(w.request, InvoiceRequest)})
        if not an8s:
            return None
        known = self.ledger.get_mappings("customer", [str(an8) for an8 in an8s])
        missing = [an8 for an8 in an8s if str(an8) not in known]
        if not missing:
            return None
        return self.sync_customers(fetch(missing))

    def _planned_link(self, work: Work, customers: Mapping[str, ObjectMapping]) -> CustomerLink:
        """The customer a sync will have: the ledger's, else the one the customer sync relinks to, else
        the one it creates first."""
        request = work.request
        if not isinstance(request, InvoiceRequest):
            return None
        linked = _linked(work, customers)
        return (
            linked
            or self._reader.customer_id(str(request.customer_an8))
            or PendingCustomer(request.customer_an8)
        )


def _linked(work: Work, customers: Mapping[str, ObjectMapping]) -> str | None:
    request = work.request
    if not isinstance(request, InvoiceRequest):
        return None
    mapping = customers.get(str(request.customer_an8))
    return mapping.stripe_id if mapping is not None else None


def _planned(decision: Decision) -> PlannedChange:
    stripe_id = None if isinstance(decision.stripe_id, Created) else decision.stripe_id
    return PlannedChange(
        decision.object_type,
        decision.record_key,
        decision.action,
        stripe_id,
        decision.reason,
        dict(decision.detail),
        outcome=decision.outcome,
        operations=decision.operations,
    )
