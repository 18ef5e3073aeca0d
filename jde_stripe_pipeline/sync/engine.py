"""The sync engine: typed JDE records in, the fewest Stripe requests that make Stripe equal JDE out.

A thin facade over one code path per record (`per_record`): map (`work`) → decide (`decide`, reading
Stripe through `stripe_state` when the decision needs it) → for a sync, claim, execute (`execute`)
and record (`record`); for a plan, stop after deciding. So `jde-stripe plan` prints exactly the
operations a sync sends, with their idempotency keys. Where the two read differently:
- a plan retrieves a mapped customer whose content changed (one GET) to show which fields differ; a
  sync updates it blind and re-decides (create anew) only if Stripe answers 404;
- a plan retrieves a changed draft of 10 lines or more (and lists its lines); a sync lists its lines
  alone and converges its header from its line calls' answer (`converge`), learning that it is no
  longer a draft from Stripe refusing them (`invoice_not_editable`, then one GET);
- a sync checks a create answered by an idempotent replay (one GET) and, if that object has been
  deleted since, creates under a new generation: a plan cannot foresee Stripe's replay memory.

Why else it is built this way:
- Change detection is the content hash of the mapped request against the ledger's: an unchanged
  record sends no request at all (it only appends an `unchanged` audit row).
- O(change): a record the ledger never created is created without reading Stripe; the account is
  listed only by a relink (`relink`), which runs by itself once when the ledger is empty.
- Concurrency: a record is claimed in the ledger before its first write; two runs of one partition
  at once never both write it (the second records `deferred`).
- Invoices converge from the draft's actual lines (by `jde_lnid`), so whatever partial state a crash
  left, the next run sends only what is still missing. Lines without `jde_lnid` and metadata the
  mapping does not own are a person's: left alone and reported.
- Drift (a draft deleted or edited in Stripe while JDE did not change) is found by `reconcile_invoices`,
  marked in the ledger, and repaired by the next sync (`drift.py`).
- Each invoice after its customer: `sync_invoices` creates the customers Stripe lacks on a lane of its
  own while the invoices go (`customer_lane.py`); records are deduplicated by key, so no two
  threads ever race on one object. An invoice whose customer is quarantined is quarantined too.
- A rejected request (400…) fails its record only, with Stripe's message, and the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from jde_stripe_pipeline.jde.records import JdeCustomer, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.ledger import Intent, Ledger, ObjectMapping, ObjectType
from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    InvoiceMappingConfig,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.sync.ar_events import ArEvents, split_ar_events
from jde_stripe_pipeline.sync.claims import Claims
from jde_stripe_pipeline.sync.customer_lane import CustomerLane, customer_of
from jde_stripe_pipeline.sync.customer_links import (
    CustomerFetch,
    customer_links,
    customers_named,
    invoice_lane,
)
from jde_stripe_pipeline.sync.decision import CustomerLink, Decision, StripeState
from jde_stripe_pipeline.sync.drift import mark_drifted
from jde_stripe_pipeline.sync.execute import NewKeyNeeded, run_rounds
from jde_stripe_pipeline.sync.operations import Created
from jde_stripe_pipeline.sync.per_record import RecordFlow
from jde_stripe_pipeline.sync.reconcile import (
    SyncComparisons,
    reconcile_invoices,
)
from jde_stripe_pipeline.sync.record import Recorder
from jde_stripe_pipeline.sync.relink import RelinkReport, relink
from jde_stripe_pipeline.sync.results import (
    InvoiceReconciliation,
    ObjectKind,
    Plan,
    PlannedChange,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)
from jde_stripe_pipeline.sync.stripe_state import Meter
from jde_stripe_pipeline.sync.work import Work, dedupe, works

__all__ = ["CustomerFetch", "SyncEngine"]


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
        workers: int | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        max_rounds: int = 4,
    ) -> None:
        workers = stripe.settings.workers if workers is None else workers  # sized from the sink
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
        self.claims = Claims(ledger, run_id)
        self._flow = RecordFlow(stripe, ledger, Recorder(ledger, run_id, partition_key), self.claims)
        self.relinked: RelinkReport | None = None
        """The relink this engine ran (an empty ledger's first run), if any."""
        self._relink_checked = False
        self._found_in_memory: Mapping[ObjectType, Mapping[str, str]] = {}
        """A plan's relink, which writes nothing: what it found stands in for intent rows."""

    # ================================================================================== public

    def sync_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> SyncReport:
        return self._sync_customer_works(dedupe(self._customer_works(records)), progress=self.progress)

    def sync_invoices(
        self,
        records: Iterable[JdeInvoice | QuarantinedRecord],
        *,
        fetch_customers: CustomerFetch,
        day_customers: Sequence[JdeCustomer | QuarantinedRecord] = (),
    ) -> SyncReport:
        """The invoices, and the customers, written at the same time on a lane of their own: those the
        invoices name that Stripe lacks (`fetch_customers`; each such invoice once its customer is done)
        and the other new or changed ones of `day_customers` (`customer_lane.py`)."""
        started = time.monotonic()
        with self.claims.held():
            listed = self._relink_if_empty(persist=True)
            items, ar_items = split_ar_events(dedupe(self._invoice_works(records)))
            lane, fetch, customers = invoice_lane(
                self.ledger, items, day_customers, fetch_customers, lead=2 * self.workers
            )
            mappings, intents = self._ledger_rows("invoice", items)
            compared = SyncComparisons()

            def sync(work: Work) -> RecordResult:
                key = work.record_key
                an8 = customer_of(work)
                lane.started()
                if an8 is not None and lane.waits_for(an8) and an8 not in customers:
                    lane.reached(an8)
                    done = lane.wait(an8)
                    found = customer_links(self.ledger, {an8}, synced=[done] if done else []).get(an8)
                    link = customers.setdefault(an8, found)  # one read per customer, whichever comes first
                else:
                    link = _link(work, customers)
                result = self._flow.sync("invoice", work, mappings.get(key), intents.get(key), customer=link)
                compared.note(work, self._flow.seen.get(key))  # while the other invoices wait on Stripe
                return result

            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jde-stripe-customer-lane") as pool:
                customer_lane = pool.submit(self._customer_lane, lane, fetch) if lane else None
                try:
                    results = self._rounds("invoice", lane.first_needed(items), sync, progress=self.progress)
                finally:
                    lane.let_go()
                customer_report = customer_lane.result() if customer_lane is not None else None
            results += self._rounds("invoice", ar_items, self._ar_events().sync)  # after their originals
        requests = sum(r.requests for r in results) + listed
        if customer_report is not None:
            requests += customer_report.requests_sent
        return SyncReport(
            "invoice",
            tuple(results),
            requests,
            time.monotonic() - started,
            customers=customer_report,
            reconciliation=compared.report(items, self._flow.seen),
        )

    def plan_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Plan:
        listed = self._relink_if_empty(persist=False)
        items = dedupe(self._customer_works(records))
        changes, requests = self._planned("customer", items, {})
        return Plan("customer", tuple(changes), listed + requests)

    def plan_invoices(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Plan:
        listed = self._relink_if_empty(persist=False)
        items, ar_items = split_ar_events(dedupe(self._invoice_works(records)))
        changes, requests = self._planned("invoice", items, self._plan_links(items))
        for work in ar_items:
            ar_decision, cost = self._ar_events().plan(work)
            changes.append(_planned(ar_decision))
            requests += cost
        return Plan("invoice", tuple(changes), listed + requests)

    def _planned(
        self, kind: ObjectKind, items: Sequence[Work], customers: Mapping[str, CustomerLink]
    ) -> tuple[list[PlannedChange], int]:
        """Each record's decision as a plan shows it (read from Stripe where a sync would read), and
        the requests those reads cost."""
        mappings, intents = self._ledger_rows(kind, items)
        changes: list[PlannedChange] = []
        requests = 0
        for work in items:
            meter = Meter(self.stripe)
            key = work.record_key
            link = _link(work, customers)
            decided = self._flow.decide(
                kind, work, mappings.get(key), intents.get(key), meter, customer=link, peek=True
            )
            assert decided is not None
            changes.append(_planned(decided[0]))
            requests += meter.count
        return changes, requests

    def _plan_links(self, items: Sequence[Work]) -> dict[str, CustomerLink]:
        found = self._found_in_memory.get("customer", {})
        return customer_links(self.ledger, customers_named(items), plan_found=found)

    def seen_states(self) -> dict[str, StripeState]:
        """What Stripe answered for every invoice this engine read or wrote: another engine of the same
        run (the reconciliation step) reuses it instead of reading those invoices again."""
        return dict(self._flow.seen)

    def reconcile_invoices(
        self,
        records: Iterable[JdeInvoice],
        *,
        known: Mapping[str, StripeState] | None = None,
        compared: Mapping[str, InvoiceReconciliation] | None = None,
    ) -> ReconciliationReport:
        """Per invoice: Stripe's number, effective date, currency, billable line count, total and owned
        fields and lines against JDE's; non-drafts that differ listed as conflicts; lines and metadata a
        person added reported; drafts deleted or edited in Stripe while JDE did not change marked
        drifted in the ledger, for the next sync to repair (`drift.py`)."""
        records = list(records)
        keys = [str(r.key) for r in records]
        mappings = self.ledger.get_mappings("invoice", keys)
        intents = self.ledger.intents.of("invoice", keys)
        skip = self._not_for_reconciliation(keys, intents)
        report = reconcile_invoices(
            [r for r in records if str(r.key) not in skip],
            self.invoice_config,
            mappings,
            intents,
            self._flow.reader,
            Meter(self.stripe),
            known={**(known or {}), **self._flow.seen},
            workers=self.workers,
            compared=compared,
        )
        mark_drifted(self.ledger, report, mappings, run_id=self.run_id, partition_key=self.partition_key)
        return replace(report, skipped=(*report.skipped, *(f"{k}: {why}" for k, why in sorted(skip.items()))))

    def _not_for_reconciliation(self, keys: Sequence[str], intents: Mapping[str, Intent]) -> dict[str, str]:
        """Records Stripe is not expected to match yet: quarantined (a person fixes the data in JDE,
        e.g. the invoice's customer), or held by another run that is syncing them now."""
        skip = {
            k: f"held by run {i.held_by}" for k, i in intents.items() if i.held_by not in (None, self.run_id)
        }
        for key, entry in self.ledger.open_quarantine_of("invoice", keys).items():
            skip.setdefault(key, f"quarantined: {entry.field}: {entry.reason}")
        return skip

    def relink(self) -> RelinkReport:
        """List the whole account once and note every unmapped record's Stripe object (the explicit
        recovery behind `jde-stripe relink`)."""
        self._relink_checked = True
        self.relinked = relink(self.ledger, self.stripe, self.run_id)
        return self.relinked

    # ================================================================================ helpers

    def _relink_if_empty(self, *, persist: bool) -> int:
        """Once per engine: relink when the ledger is empty (see `relink.py`); the requests it cost."""
        if self._relink_checked:
            return 0
        self._relink_checked = True
        if not self.ledger.intents.needs_relink():
            return 0
        self.relinked = relink(self.ledger, self.stripe, self.run_id, persist=persist)
        if not persist:
            self._found_in_memory = self.relinked.found
        return self.relinked.requests

    def _ledger_rows(
        self, kind: ObjectType, items: Sequence[Work]
    ) -> tuple[dict[str, ObjectMapping], dict[str, Intent]]:
        """The mappings and intent rows of the records (for a plan without a persisted relink, the
        objects the relink listing found stand in for intent rows)."""
        keys = [w.record_key for w in items if w.request]
        intents = self.ledger.intents.of(kind, keys)
        found = self._found_in_memory.get(kind, {})
        for key in keys:
            if key in found and key not in intents:
                intents[key] = Intent(kind, key, attempt=1, stripe_id=found[key])
        return self.ledger.get_mappings(kind, keys), intents

    def _rounds(
        self,
        kind: ObjectKind,
        items: list[Work],
        sync: Callable[[Work], RecordResult],
        *,
        progress: Callable[[int, int | None], None] | None = None,
        finished_one: Callable[[RecordResult], None] = lambda result: None,
    ) -> list[RecordResult]:
        try:
            return run_rounds(
                kind,
                items,
                sync,
                max_rounds=self.max_rounds,
                workers=self.workers,
                give_up=lambda work, error: self._flow.give_up(kind, work, error),
                progress=progress,
                finished_one=finished_one,
            )
        finally:
            self._flow.recorder.flush()  # the `unchanged` rows held back for one commit

    def _sync_customer_works(
        self,
        items: list[Work],
        *,
        progress: Callable[[int, int | None], None] | None = None,
        lane: CustomerLane | None = None,
    ) -> SyncReport:
        """`lane`: these are an invoice sync's missing customers (held to the lane's lead, each result
        handed to the invoices waiting for it)."""
        started = time.monotonic()
        with self.claims.held():
            listed = self._relink_if_empty(persist=True)
            mappings, intents = self._ledger_rows("customer", items)

            def sync(work: Work) -> RecordResult:
                key = work.record_key
                if lane is not None:
                    lane.admit(key)
                try:
                    return self._flow.sync("customer", work, mappings.get(key), intents.get(key))
                except NewKeyNeeded:  # its invoices now wait for a later round: hold nothing back
                    if lane is not None:
                        lane.let_go()
                    raise

            results = self._rounds(
                "customer", items, sync, progress=progress, finished_one=lane.done if lane else _ignore
            )
        requests = sum(r.requests for r in results) + listed
        return SyncReport("customer", tuple(results), requests, time.monotonic() - started)

    def _customer_lane(self, lane: CustomerLane, fetch: CustomerFetch) -> SyncReport:
        """The lane's customers, in its order; every wait is released when it ends, however."""
        try:
            items = lane.customer_order(dedupe(self._customer_works(fetch([int(a) for a in lane.an8s]))))
            return self._sync_customer_works(items, lane=lane)
        finally:
            lane.close()

    def _ar_events(self) -> ArEvents:
        """Credit memos and voids of the `ar_invoice` profile (`sync/ar_events.py`)."""
        return ArEvents(
            sink=self.stripe,
            ledger=self.ledger,
            reader=self._flow.reader,
            recorder=self._flow.recorder,
            config=self.invoice_config,
        )

    def _customer_works(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Iterator[Work]:
        return works(records, lambda record: map_customer(record, self.customer_config))

    def _invoice_works(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Iterator[Work]:
        return works(records, lambda record: map_invoice(record, self.invoice_config))


def _link(work: Work, customers: Mapping[str, CustomerLink]) -> CustomerLink:
    an8 = customer_of(work)
    return customers.get(an8) if an8 is not None else None


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


def _ignore(result: RecordResult) -> None:
    """A result nobody waits for."""
