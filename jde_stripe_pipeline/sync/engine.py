"""The sync engine: typed JDE records in, the fewest Stripe requests that make Stripe equal JDE out.

Why it is built this way:
- Change detection is the content hash of the mapped request against the ledger's: an unchanged
  record sends no request at all (it only appends an `unchanged` audit row, keeping the audit
  trail complete at the price of one database write and no Stripe request).
- A record without a mapping (first run against an account that already has objects, lost state
  database, a crash between Stripe's commit and the ledger's) is looked up by its `jde_*` metadata in
  ONE listing pass per object type, done lazily the first time some record needs it and cached for
  the run — never by Stripe search (it lags writes).
- Invoices converge from the draft's actual lines (by `jde_lnid`), so whatever partial state a crash
  left, the next run sends only what is still missing. Lines without `jde_lnid` and metadata the
  mapping does not own are a person's: left alone and reported.
- Idempotency keys are deterministic: object + JDE key + operation + a hash of the operation's own
  content, a generation and an attempt number. The generation is what makes one content legitimately
  sendable twice: the ledger mapping's `updated_at` for updates (it moves only when an outcome is
  recorded, so a rerun after a crash reuses the key and gets Stripe's replay), the id of the object
  being replaced for a re-create; a create answered by a replay is checked (one GET) and re-sent
  under a new generation if the replayed object has since been deleted (a person deleted the draft,
  or the engine did when every line was cancelled, within Stripe's 24 h key memory).
- A saved Stripe 500 (`Stripe-Should-Retry: false`) poisons its key for 24 h: the record goes to a
  next round with a higher attempt number (a new key), after the listing cache is dropped so a create
  that may have happened is found first. Rounds are bounded (`max_rounds`).
- Customers before invoices (`sync_invoices` syncs the invoices' missing customers first, then the
  invoices on `workers` threads), records deduplicated by key: no two threads ever race on one object.
- Pacing and retries of 429/5xx/connection errors are the `StripeSink`'s; a rejected request (400…)
  fails its record only, with Stripe's message, and the batch goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from jde_stripe_pipeline.jde.records import JdeCustomer, JdeDocumentKey, JdeInvoice, QuarantinedRecord
from jde_stripe_pipeline.ledger import (
    Action,
    Ledger,
    MappingConflictError,
    ObjectMapping,
    Outcome,
    RecordOutcome,
)
from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    CustomerRequest,
    DeleteDraftInvoice,
    InvoiceMappingConfig,
    InvoiceRequest,
    MappingFailure,
    content_hash,
    expected_invoice_figures,
    idempotency_key,
    map_customer,
    map_invoice,
)
from jde_stripe_pipeline.stripe_sink import (
    StripeRequestRejected,
    StripeResult,
    StripeSink,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.client import PAGE_SIZE
from jde_stripe_pipeline.sync.diff import (
    LineDiff,
    create_only_differences,
    customer_differences,
    diff_lines,
    invoice_header_differences,
    line_summary,
    person_added_metadata,
)
from jde_stripe_pipeline.sync.results import (
    InvoiceReconciliation,
    ObjectKind,
    Plan,
    PlannedChange,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)

log = logging.getLogger(__name__)

ADD_LINES_BATCH = 250
"""Lines per `add_lines` call. Stripe documents no per-call cap below its 250 items per invoice, and the
mapping refuses invoices over 250 billable lines, so every new invoice takes exactly ONE call; the
batching only guards a future raise of that limit."""

FinalizedPolicy = Literal["conflict"]
"""What to do with a JDE change to an invoice Stripe no longer holds as a draft: report a conflict and
leave it untouched. (`void_and_recreate` needs a void call the Stripe sink does not offer yet and a
new invoice number, since Stripe keeps a voided invoice's number taken.)"""

CustomerFetch = Callable[[Sequence[int]], Iterable[JdeCustomer | QuarantinedRecord]]
_T = TypeVar("_T")
_DRAFT = "draft"
_REPLACEABLE_STATUSES = frozenset({"void"})


class _NewKeyNeeded(Exception):
    """Stripe saved a failure under this record's key: retry the record next round under a new key."""


# -------------------------------------------------------------------------------------- metering


class _Meter:
    """The sink's calls, counted for one record (every logical request or listing page is one)."""

    def __init__(self, sink: StripeSink) -> None:
        self.sink = sink
        self.count = 0

    def _one(self, result: _T) -> _T:
        self.count += 1
        return result

    def _pages(self, items: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        listed = list(items)
        self.count += max(1, -(-len(listed) // PAGE_SIZE))
        return listed

    def create_customer(self, params: Mapping[str, Any], key: str) -> StripeResult:
        self.count += 1
        return self.sink.create_customer(params, idempotency_key=key)

    def update_customer(self, customer_id: str, params: Mapping[str, Any], key: str) -> StripeResult:
        self.count += 1
        return self.sink.update_customer(customer_id, params, idempotency_key=key)

    def retrieve_customer(self, customer_id: str) -> StripeResult:
        self.count += 1
        return self.sink.retrieve_customer(customer_id)

    def retrieve_invoice(self, invoice_id: str) -> StripeResult:
        self.count += 1
        return self.sink.retrieve_invoice(invoice_id)

    def create_invoice(self, params: Mapping[str, Any], key: str) -> StripeResult:
        self.count += 1
        return self.sink.create_invoice(params, idempotency_key=key)

    def update_invoice(self, invoice_id: str, params: Mapping[str, Any], key: str) -> StripeResult:
        self.count += 1
        return self.sink.update_invoice(invoice_id, params, idempotency_key=key)

    def delete_invoice(self, invoice_id: str, key: str) -> StripeResult:
        self.count += 1
        return self.sink.delete_invoice(invoice_id, idempotency_key=key)

    def add_lines(self, invoice_id: str, lines: list[dict[str, Any]], key: str) -> StripeResult:
        self.count += 1
        return self.sink.add_invoice_lines(invoice_id, {"lines": lines}, idempotency_key=key)

    def update_lines(self, invoice_id: str, lines: list[dict[str, Any]], key: str) -> StripeResult:
        self.count += 1
        return self.sink.update_invoice_lines(invoice_id, {"lines": lines}, idempotency_key=key)

    def remove_lines(self, invoice_id: str, line_ids: Sequence[str], key: str) -> StripeResult:
        self.count += 1
        lines = [{"id": line_id, "behavior": "delete"} for line_id in line_ids]
        return self.sink.remove_invoice_lines(invoice_id, {"lines": lines}, idempotency_key=key)

    def invoice_lines(self, invoice: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every line of an invoice: the embedded ones when complete, else one listing."""
        embedded = invoice.get("lines") or {}
        if not embedded.get("has_more"):
            return list(embedded.get("data") or [])
        return self._pages(self.sink.list_invoice_lines(str(invoice["id"])))


def _is_missing(error: StripeRequestRejected) -> bool:
    return error.http_status == 404


# ------------------------------------------------------------------------------------- indexes


class _LazyIndex:
    """One listing pass, built the first time a record needs it, shared by every worker thread."""

    def __init__(self, build: Callable[[_Meter], dict[str, list[dict[str, Any]]]], sink: StripeSink):
        self._build = build
        self._sink = sink
        self._lock = threading.Lock()
        self._index: dict[str, list[dict[str, Any]]] | None = None
        self.requests = 0

    def get(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            if self._index is None:
                meter = _Meter(self._sink)
                self._index = self._build(meter)
                self.requests += meter.count
            return self._index.get(key, [])

    def forget(self) -> None:
        with self._lock:
            self._index = None


def _customers_by_an8(meter: _Meter) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = {}
    for customer in meter._pages(meter.sink.list_customers()):
        an8 = (customer.get("metadata") or {}).get("jde_an8")
        if an8 and not customer.get("deleted"):
            index.setdefault(str(an8), []).append(customer)
    for found in index.values():
        found.sort(key=lambda c: (c.get("created") or 0, c["id"]))
    return index


def invoice_record_key(metadata: Mapping[str, Any]) -> str | None:
    """`KCOO/DOCO/DCTO/SFXO` from an invoice's `jde_*` metadata, as the mapping writes it."""
    try:
        key = JdeDocumentKey(
            kcoo=str(metadata["jde_kcoo"]),
            doco=int(metadata["jde_doco"]),
            dcto=str(metadata["jde_dcto"]),
            sfxo=str(metadata.get("jde_sfxo") or "000"),
        )
    except (KeyError, ValueError, TypeError):
        return None
    return str(key)


def _status_rank(invoice: Mapping[str, Any]) -> tuple[int, int]:
    order = {"draft": 0, "open": 1, "paid": 1, "uncollectible": 1, "void": 2}
    return order.get(str(invoice.get("status")), 3), int(invoice.get("created") or 0)


def _invoices_by_document(meter: _Meter) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = {}
    for invoice in meter._pages(meter.sink.list_invoices()):
        key = invoice_record_key(invoice.get("metadata") or {})
        if key is not None:
            index.setdefault(key, []).append(invoice)
    for found in index.values():
        found.sort(key=_status_rank)
    return index


# --------------------------------------------------------------------------------- work items


@dataclass(frozen=True)
class _Work:
    """One record to sync: its mapped request (or why it cannot be) and its attempt number."""

    record_key: str
    jde_version: datetime | None
    request: CustomerRequest | InvoiceRequest | DeleteDraftInvoice | None
    quarantined: QuarantinedRecord | None = None
    attempt: int = 1


_R = TypeVar("_R", JdeCustomer, JdeInvoice)


def _works(
    records: Iterable[_R | QuarantinedRecord],
    map_record: Callable[[_R], CustomerRequest | InvoiceRequest | DeleteDraftInvoice | MappingFailure],
) -> Iterator[_Work]:
    """Each record mapped to its request, or to the quarantine with the field and the reason."""
    for record in records:
        if isinstance(record, QuarantinedRecord):
            yield _Work(record.record_key, None, None, record)
            continue
        mapped = map_record(record)
        if isinstance(mapped, MappingFailure):
            yield _Work(mapped.record_key, _version(record), None, mapped.to_quarantined_record())
        else:
            yield _Work(mapped.record_key, _version(record), mapped)


@dataclass
class _Done:
    result: RecordResult
    outcome: RecordOutcome | None = None


@dataclass(frozen=True)
class _InvoiceState:
    """What Stripe holds for an invoice record, read once and judged purely."""

    invoice: dict[str, Any] | None
    relinked: bool
    lines: list[dict[str, Any]] = field(default_factory=list)
    duplicates: tuple[str, ...] = ()


def _version(record: JdeCustomer | JdeInvoice) -> datetime | None:
    stamp = record.updated_at
    return stamp.replace(tzinfo=None) if stamp.tzinfo is not None else stamp


def _dedupe(works: Iterable[_Work]) -> list[_Work]:
    """The latest version of each record key (an extract may yield a record twice across chunks)."""
    latest: dict[str, _Work] = {}
    for work in works:
        current = latest.get(work.record_key)
        if current is None or (work.jde_version or datetime.min) >= (current.jde_version or datetime.min):
            latest[work.record_key] = work
    return list(latest.values())


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
        finalized_policy: FinalizedPolicy = "conflict",
        max_rounds: int = 4,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
        if finalized_policy != "conflict":
            raise ValueError(f"finalized_policy {finalized_policy!r} is not supported (only 'conflict')")
        self.stripe = stripe
        self.ledger = ledger
        self.customer_config = customer_config
        self.invoice_config = invoice_config
        self.run_id = run_id
        self.partition_key = partition_key
        self.workers = workers
        self.progress = progress
        self.max_rounds = max_rounds
        self._customer_index = _LazyIndex(_customers_by_an8, stripe)
        self._invoice_index = _LazyIndex(_invoices_by_document, stripe)

    # ================================================================================ customers

    def sync_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> SyncReport:
        started = time.monotonic()
        listing_before = self._customer_index.requests
        works = _dedupe(self._customer_works(records))
        mappings = self.ledger.get_mappings("customer", [w.record_key for w in works if w.request])
        results = self._run_rounds(
            "customer", works, lambda work: self._sync_customer(work, mappings.get(work.record_key))
        )
        requests = sum(r.requests for r in results) + self._customer_index.requests - listing_before
        return SyncReport("customer", tuple(results), requests, time.monotonic() - started)

    def plan_customers(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Plan:
        works = _dedupe(self._customer_works(records))
        mappings = self.ledger.get_mappings("customer", [w.record_key for w in works if w.request])
        listing_before = self._customer_index.requests
        changes: list[PlannedChange] = []
        requests = 0
        for work in works:
            meter = _Meter(self.stripe)
            changes.append(self._plan_customer(work, mappings.get(work.record_key), meter))
            requests += meter.count
        requests += self._customer_index.requests - listing_before
        return Plan("customer", tuple(changes), requests)

    def _customer_works(self, records: Iterable[JdeCustomer | QuarantinedRecord]) -> Iterator[_Work]:
        return _works(records, lambda record: map_customer(record, self.customer_config))

    def _plan_customer(self, work: _Work, mapping: ObjectMapping | None, meter: _Meter) -> PlannedChange:
        if work.request is None:
            assert work.quarantined is not None
            return _planned_quarantine("customer", work.quarantined)
        request = work.request
        assert isinstance(request, CustomerRequest)
        if mapping is not None and mapping.content_hash == request.change_hash:
            return PlannedChange("customer", work.record_key, "nothing", mapping.stripe_id, None)
        if mapping is not None:
            try:
                current = meter.retrieve_customer(mapping.stripe_id).object
            except StripeRequestRejected as error:
                if not _is_missing(error):
                    raise
                current = {"deleted": True}
            if current.get("deleted"):
                reason = f"Stripe customer {mapping.stripe_id} is gone: a new one will be created"
                return PlannedChange("customer", work.record_key, "create", None, reason)
            fields = customer_differences(request, current)
            return PlannedChange(
                "customer", work.record_key, "update", mapping.stripe_id, None, {"fields": fields}
            )
        found = self._customer_index.get(work.record_key)
        if found:
            fields = customer_differences(request, found[0])
            return PlannedChange(
                "customer", work.record_key, "relink", found[0]["id"], None, {"fields": fields}
            )
        return PlannedChange("customer", work.record_key, "create", None, None, {"name": request.name})

    def _sync_customer(self, work: _Work, mapping: ObjectMapping | None) -> _Done:
        if work.request is None:
            assert work.quarantined is not None
            return self._quarantine("customer", work.quarantined)
        request = work.request
        assert isinstance(request, CustomerRequest)
        meter = _Meter(self.stripe)
        chash = request.content_hash
        done = self._done_factory("customer", work, request.change_hash, meter)
        if mapping is not None and mapping.content_hash == request.change_hash:
            return done("unchanged", "nothing", mapping.stripe_id)
        try:
            if mapping is not None:
                key = self._key("customer", work, "update", chash, _generation(mapping))
                try:
                    result = meter.update_customer(mapping.stripe_id, request.update_params(), key)
                    return done(
                        "updated", "update", result.object["id"], key=key, request_id=result.request_id
                    )
                except StripeRequestRejected as error:
                    if not _is_missing(error):
                        raise
                created = self._create_customer(request, work, meter, generation=mapping.stripe_id)
                return done(
                    "created",
                    "create",
                    created.object["id"],
                    key=None,
                    request_id=created.request_id,
                    replaces=mapping.stripe_id,
                    detail={"replaced": mapping.stripe_id, "reason": "the Stripe customer was deleted"},
                )
            found = self._customer_index.get(work.record_key)
            if found:
                existing = found[0]
                detail: dict[str, object] = {}
                if len(found) > 1:
                    detail["duplicates_in_stripe"] = [c["id"] for c in found[1:]]
                fields = customer_differences(request, existing)
                if not fields:
                    return done("unchanged", "relink", existing["id"], detail=detail)
                key = self._key("customer", work, "update", chash, f"relink:{existing['id']}")
                result = meter.update_customer(existing["id"], request.update_params(), key)
                return done(
                    "updated",
                    "relink",
                    existing["id"],
                    key=key,
                    request_id=result.request_id,
                    detail={**detail, "fields": fields},
                )
            created = self._create_customer(request, work, meter, generation="new")
            return done("created", "create", created.object["id"], request_id=created.request_id)
        except StripeUnavailable as error:
            if error.same_key_will_fail:
                raise _NewKeyNeeded(str(error)) from error
            return done("failed", "create" if mapping is None else "update", None, reason=str(error))
        except StripeRequestRejected as error:
            return done(
                "failed",
                "create" if mapping is None else "update",
                mapping.stripe_id if mapping else None,
                reason=f"customer {work.record_key}: {error}",
            )

    def _create_customer(
        self, request: CustomerRequest, work: _Work, meter: _Meter, *, generation: str
    ) -> StripeResult:
        for _ in range(5):
            key = self._key("customer", work, "create", request.content_hash, generation)
            result = meter.create_customer(request.params(), key)
            if not result.replayed or not self._was_deleted(meter.retrieve_customer, result.object["id"]):
                return result
            generation = str(result.object["id"])
        raise StripeUnavailable(f"customer {work.record_key}: create keeps replaying deleted customers")

    # ================================================================================= invoices

    def sync_invoices(
        self, records: Iterable[JdeInvoice | QuarantinedRecord], *, fetch_customers: CustomerFetch
    ) -> SyncReport:
        started = time.monotonic()
        listing_before = self._invoice_index.requests
        works = _dedupe(self._invoice_works(records))
        customer_report = self._sync_missing_customers(works, fetch_customers)
        an8s = {str(w.request.customer_an8) for w in works if isinstance(w.request, InvoiceRequest)}
        customers = self.ledger.get_mappings("customer", an8s)
        mappings = self.ledger.get_mappings("invoice", [w.record_key for w in works if w.request])
        results = self._run_rounds(
            "invoice",
            works,
            lambda work: self._sync_invoice(work, mappings.get(work.record_key), customers),
        )
        requests = sum(r.requests for r in results) + self._invoice_index.requests - listing_before
        if customer_report is not None:
            requests += customer_report.requests_sent
        return SyncReport(
            "invoice", tuple(results), requests, time.monotonic() - started, customers=customer_report
        )

    def plan_invoices(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Plan:
        works = _dedupe(self._invoice_works(records))
        mappings = self.ledger.get_mappings("invoice", [w.record_key for w in works if w.request])
        an8s = {str(w.request.customer_an8) for w in works if isinstance(w.request, InvoiceRequest)}
        customers = self.ledger.get_mappings("customer", an8s)
        listing_before = self._invoice_index.requests + self._customer_index.requests
        changes: list[PlannedChange] = []
        requests = 0
        for work in works:
            meter = _Meter(self.stripe)
            changes.append(self._plan_invoice(work, mappings.get(work.record_key), customers, meter))
            requests += meter.count
        requests += self._invoice_index.requests + self._customer_index.requests - listing_before
        return Plan("invoice", tuple(changes), requests)

    def _invoice_works(self, records: Iterable[JdeInvoice | QuarantinedRecord]) -> Iterator[_Work]:
        return _works(records, lambda record: map_invoice(record, self.invoice_config))

    def _sync_missing_customers(self, works: Sequence[_Work], fetch: CustomerFetch) -> SyncReport | None:
        an8s = sorted({w.request.customer_an8 for w in works if isinstance(w.request, InvoiceRequest)})
        if not an8s:
            return None
        known = self.ledger.get_mappings("customer", [str(an8) for an8 in an8s])
        missing = [an8 for an8 in an8s if str(an8) not in known]
        if not missing:
            return None
        return self.sync_customers(fetch(missing))

    def _read_invoice_state(self, work: _Work, mapping: ObjectMapping | None, meter: _Meter) -> _InvoiceState:
        if mapping is not None:
            try:
                invoice = meter.retrieve_invoice(mapping.stripe_id).object
            except StripeRequestRejected as error:
                if not _is_missing(error):
                    raise
                return _InvoiceState(None, relinked=False)
            if invoice.get("deleted"):
                return _InvoiceState(None, relinked=False)
            return _InvoiceState(invoice, relinked=False, lines=meter.invoice_lines(invoice))
        found = [
            i
            for i in self._invoice_index.get(work.record_key)
            if i.get("status") not in _REPLACEABLE_STATUSES
        ]
        if not found:
            return _InvoiceState(None, relinked=False)
        chosen = found[0]
        return _InvoiceState(
            chosen,
            relinked=True,
            lines=meter.invoice_lines(chosen),
            duplicates=tuple(str(i["id"]) for i in found[1:]),
        )

    def _plan_invoice(
        self,
        work: _Work,
        mapping: ObjectMapping | None,
        customers: Mapping[str, ObjectMapping],
        meter: _Meter,
    ) -> PlannedChange:
        if work.request is None:
            assert work.quarantined is not None
            return _planned_quarantine("invoice", work.quarantined)
        request = work.request
        key = work.record_key
        if isinstance(request, InvoiceRequest) and mapping and mapping.content_hash == request.change_hash:
            return PlannedChange("invoice", key, "nothing", mapping.stripe_id, None)
        state = self._read_invoice_state(work, mapping, meter)
        invoice = state.invoice
        if isinstance(request, DeleteDraftInvoice):
            if invoice is None:
                return PlannedChange("invoice", key, "nothing", None, request.reason)
            if invoice.get("status") != _DRAFT:
                return PlannedChange(
                    "invoice", key, "conflict", invoice["id"], _finalized_reason(key, invoice, request.reason)
                )
            return PlannedChange("invoice", key, "delete", invoice["id"], request.reason)
        assert isinstance(request, InvoiceRequest)
        if invoice is None:
            detail: dict[str, object] = {
                "number": request.number,
                "currency": request.currency,
                "lines": len(request.lines),
                "total": request.total_minor,
            }
            an8 = str(request.customer_an8)
            if an8 not in customers and not self._customer_index.get(an8):
                detail["customer"] = f"AN8 {an8} is not in Stripe yet: it will be synced first"
            return PlannedChange("invoice", key, "create", None, None, detail)
        customer = customers.get(str(request.customer_an8))
        if customer is not None:
            request = request.with_customer(customer.stripe_id)
        header = invoice_header_differences(request, invoice)
        lines = diff_lines(request, state.lines)
        detail = {"fields": header, **lines.summary(), "person_added_lines": list(lines.person_added)}
        blocked = create_only_differences(request, invoice)
        if invoice.get("status") != _DRAFT and (header or not lines.empty or blocked):
            return PlannedChange(
                "invoice", key, "conflict", invoice["id"], _finalized_reason(key, invoice), detail
            )
        if blocked:
            return PlannedChange(
                "invoice", key, "conflict", invoice["id"], _blocked_reason(key, blocked), detail
            )
        action: Action = (
            "relink" if state.relinked else ("converge" if header or not lines.empty else "nothing")
        )
        return PlannedChange("invoice", key, action, invoice["id"], None, detail)

    def _sync_invoice(
        self, work: _Work, mapping: ObjectMapping | None, customers: Mapping[str, ObjectMapping]
    ) -> _Done:
        if work.request is None:
            assert work.quarantined is not None
            return self._quarantine("invoice", work.quarantined)
        request = work.request
        meter = _Meter(self.stripe)
        done = self._done_factory("invoice", work, request.change_hash, meter)
        if (
            isinstance(request, InvoiceRequest)
            and mapping is not None
            and mapping.content_hash == request.change_hash
        ):
            return done("unchanged", "nothing", mapping.stripe_id)
        try:
            if isinstance(request, DeleteDraftInvoice):
                return self._delete_draft(work, request, mapping, meter, done)
            assert isinstance(request, InvoiceRequest)
            customer = customers.get(str(request.customer_an8))
            if customer is None:
                return done(
                    "failed",
                    "create" if mapping is None else "converge",
                    mapping.stripe_id if mapping else None,
                    reason=f"invoice {work.record_key}: customer AN8 {request.customer_an8} is not in Stripe "
                    "(it could not be synced: see the customer's own outcome)",
                )
            request = request.with_customer(customer.stripe_id)
            state = self._read_invoice_state(work, mapping, meter)
            if state.invoice is None:
                generation = mapping.stripe_id if mapping else "new"
                invoice_id = self._create_invoice(request, work, meter, generation)
                detail: dict[str, object] = {"lines_added": len(request.lines)}
                if mapping is not None:
                    detail["replaced"] = mapping.stripe_id
                return done(
                    "created",
                    "create",
                    invoice_id,
                    replaces=mapping.stripe_id if mapping else None,
                    detail=detail,
                )
            return self._converge(work, request, mapping, state, meter, done)
        except StripeUnavailable as error:
            if error.same_key_will_fail:
                raise _NewKeyNeeded(str(error)) from error
            return done(
                "failed",
                "converge" if mapping else "create",
                None,
                reason=f"invoice {work.record_key}: {error}",
            )
        except StripeRequestRejected as error:
            return done(
                "failed",
                "converge" if mapping else "create",
                mapping.stripe_id if mapping else None,
                reason=f"invoice {work.record_key}: {error}",
            )

    def _delete_draft(
        self,
        work: _Work,
        request: DeleteDraftInvoice,
        mapping: ObjectMapping | None,
        meter: _Meter,
        done: _DoneFactory,
    ) -> _Done:
        if mapping is None and self._already_deleted(work.record_key, request.content_hash):
            return done(
                "deleted", "nothing", None, reason=f"{request.reason}; its Stripe draft was deleted before"
            )
        state = self._read_invoice_state(work, mapping, meter)
        invoice = state.invoice
        if invoice is None:
            return done("deleted", "nothing", None, reason=f"{request.reason}; Stripe holds no draft for it")
        if invoice.get("status") != _DRAFT:
            return done(
                "conflict",
                "conflict",
                invoice["id"],
                reason=_finalized_reason(work.record_key, invoice, request.reason),
            )
        key = self._key("invoice", work, "delete", request.content_hash, str(invoice["id"]))
        result = meter.delete_invoice(str(invoice["id"]), key)
        return done(
            "deleted",
            "delete",
            str(invoice["id"]),
            key=key,
            request_id=result.request_id,
            reason=request.reason,
        )

    def _already_deleted(self, record_key: str, chash: str) -> bool:
        """A record whose draft this engine deleted for this very content: nothing to look up again."""
        history = self.ledger.history(record_key, object_type="invoice")
        latest = history[-1] if history else None
        return latest is not None and latest.outcome == "deleted" and latest.payload_hash == chash

    def _create_invoice(self, request: InvoiceRequest, work: _Work, meter: _Meter, generation: str) -> str:
        chash = request.content_hash
        for _ in range(5):
            key = self._key("invoice", work, "create", chash, generation)
            result = meter.create_invoice(request.params(), key)
            invoice_id = str(result.object["id"])
            if result.replayed and self._was_deleted(meter.retrieve_invoice, invoice_id):
                generation = invoice_id
                continue
            lines = [line.params() for line in request.lines]
            for start in range(0, len(lines), ADD_LINES_BATCH):
                batch = lines[start : start + ADD_LINES_BATCH]
                content = content_hash({"invoice": invoice_id, "lines": batch})
                meter.add_lines(
                    invoice_id, batch, self._key("invoice", work, "add_lines", content, invoice_id)
                )
            return invoice_id
        raise StripeUnavailable(f"invoice {work.record_key}: create keeps replaying deleted invoices")

    def _converge(
        self,
        work: _Work,
        request: InvoiceRequest,
        mapping: ObjectMapping | None,
        state: _InvoiceState,
        meter: _Meter,
        done: _DoneFactory,
    ) -> _Done:
        invoice = state.invoice
        assert invoice is not None
        invoice_id = str(invoice["id"])
        header = invoice_header_differences(request, invoice)
        lines = diff_lines(request, state.lines)
        detail: dict[str, object] = {"fields": header, **lines.summary()}
        if lines.person_added:
            detail["person_added_lines"] = list(lines.person_added)
        extra_metadata = person_added_metadata(invoice, request.OWNED_METADATA_KEYS)
        if extra_metadata:
            detail["person_added_metadata"] = extra_metadata
        if state.duplicates:
            detail["duplicates_in_stripe"] = list(state.duplicates)
        relink: Action = "relink" if state.relinked else "converge"
        blocked = create_only_differences(request, invoice)
        if invoice.get("status") != _DRAFT:
            if header or not lines.empty or blocked:
                return done(
                    "conflict",
                    "conflict",
                    invoice_id,
                    reason=_finalized_reason(work.record_key, invoice),
                    detail=detail,
                )
            return done("unchanged", relink, invoice_id, detail=detail)
        if blocked:
            return done(
                "conflict",
                "conflict",
                invoice_id,
                reason=_blocked_reason(work.record_key, blocked),
                detail=detail,
            )
        if not header and lines.empty:
            outcome: Outcome = "unchanged" if state.relinked or mapping is None else "updated"
            if outcome == "updated":
                detail["already_applied"] = True
            return done(outcome, relink, invoice_id, detail=detail)
        self._apply_line_diff(work, request, invoice_id, header, lines, mapping, meter)
        return done("updated", relink, invoice_id, detail=detail)

    def _apply_line_diff(
        self,
        work: _Work,
        request: InvoiceRequest,
        invoice_id: str,
        header: list[str],
        lines: LineDiff,
        mapping: ObjectMapping | None,
        meter: _Meter,
    ) -> None:
        """Header first, then remove, update, add: at most four calls, each keyed by its own content."""
        generation = _generation(mapping) if mapping is not None else f"relink:{invoice_id}"
        if header:
            params = request.update_params()
            content = content_hash({"invoice": invoice_id, "header": params})
            meter.update_invoice(
                invoice_id, params, self._key("invoice", work, "update", content, generation)
            )
        if lines.remove:
            content = content_hash({"invoice": invoice_id, "remove": sorted(lines.remove)})
            meter.remove_lines(
                invoice_id, lines.remove, self._key("invoice", work, "remove_lines", content, generation)
            )
        if lines.update:
            updates = [line.update_params(line_id) for line_id, line in lines.update]
            content = content_hash({"invoice": invoice_id, "update": updates})
            meter.update_lines(
                invoice_id, updates, self._key("invoice", work, "update_lines", content, generation)
            )
        added = [line.params() for line in lines.add]
        for start in range(0, len(added), ADD_LINES_BATCH):
            batch = added[start : start + ADD_LINES_BATCH]
            content = content_hash({"invoice": invoice_id, "lines": batch})
            meter.add_lines(invoice_id, batch, self._key("invoice", work, "add_lines", content, generation))

    # =========================================================================== reconciliation

    def reconcile_invoices(self, records: Iterable[JdeInvoice]) -> ReconciliationReport:
        """Per invoice: Stripe's number, effective date, currency, billable line count and total against
        JDE's; non-drafts that differ listed as conflicts; lines and metadata a person added reported."""
        items: list[InvoiceReconciliation] = []
        skipped: list[str] = []
        meter = _Meter(self.stripe)
        listing_before = self._invoice_index.requests
        records = list(records)
        mappings = self.ledger.get_mappings("invoice", [str(r.key) for r in records])
        for record in records:
            key = str(record.key)
            expected = expected_invoice_figures(record, self.invoice_config)
            if isinstance(expected, MappingFailure):
                skipped.append(f"{key}: {expected.field}: {expected.reason}")
                continue
            state = self._read_invoice_state(_Work(key, None, None), mappings.get(key), meter)
            want: dict[str, object] = {
                "number": expected.number,
                "effective_at": expected.effective_at,
                "currency": expected.currency,
                "line_count": expected.line_count,
                "total": expected.total_minor,
            }
            invoice = state.invoice
            if invoice is None:
                mismatches: tuple[str, ...] = ("missing",) if expected.line_count else ()
                items.append(InvoiceReconciliation(key, None, None, want, {}, mismatches))
                continue
            jde_lines = [line for line in state.lines if (line.get("metadata") or {}).get("jde_lnid")]
            person = tuple(line_summary(line) for line in state.lines if line not in jde_lines)
            have: dict[str, object] = {
                "number": invoice.get("number"),
                "effective_at": invoice.get("effective_at"),
                "currency": invoice.get("currency"),
                "line_count": len(jde_lines),
                "total": sum(int(line.get("amount") or 0) for line in jde_lines),
            }
            names = ["number", "effective_at", "currency", "line_count", "total"]
            if expected.number is None:
                names.remove("number")
            mismatches = tuple(name for name in names if want[name] != have[name])
            if not expected.line_count:
                mismatches = ("unexpected",)
            items.append(
                InvoiceReconciliation(
                    key,
                    str(invoice["id"]),
                    str(invoice.get("status")),
                    want,
                    have,
                    mismatches,
                    person,
                    tuple(person_added_metadata(invoice, InvoiceRequest.OWNED_METADATA_KEYS)),
                )
            )
        conflicts = tuple(i for i in items if i.mismatches and i.status not in (None, _DRAFT))
        requests = meter.count + self._invoice_index.requests - listing_before
        return ReconciliationReport(tuple(items), conflicts, tuple(skipped), requests)

    # ================================================================================ machinery

    def _run_rounds(
        self, kind: ObjectKind, works: list[_Work], sync: Callable[[_Work], _Done]
    ) -> list[RecordResult]:
        total = len(works)
        finished: list[RecordResult] = []
        lock = threading.Lock()
        pending = works
        for round_number in range(1, self.max_rounds + 1):
            retry: list[_Work] = []

            def one(work: _Work, retry: list[_Work] = retry) -> None:
                try:
                    done = sync(work)
                except _NewKeyNeeded as error:
                    if work.attempt >= self.max_rounds:
                        done = self._failed(kind, work, f"{kind} {work.record_key}: {error}")
                    else:
                        with lock:
                            retry.append(replace(work, attempt=work.attempt + 1))
                        return
                result = self._record(done, kind, work)
                with lock:
                    finished.append(result)
                    count = len(finished)
                if self.progress is not None:
                    self.progress(count, total)

            self._map(one, pending)
            if not retry:
                break
            log.info("%s sync round %d: %d records retry under new keys", kind, round_number, len(retry))
            self._customer_index.forget()
            self._invoice_index.forget()
            pending = retry
        return finished

    def _map(self, function: Callable[[_Work], None], works: Sequence[_Work]) -> None:
        if self.workers == 1 or len(works) <= 1:
            for work in works:
                function(work)
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="jde-stripe-sync") as pool:
            futures = [pool.submit(function, work) for work in works]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _record(self, done: _Done, kind: ObjectKind, work: _Work) -> RecordResult:
        if done.outcome is None:
            return done.result
        try:
            self.ledger.record_outcome(done.outcome)
        except MappingConflictError as error:
            reason = f"{kind} {work.record_key}: {error}"
            conflict = replace(
                done.outcome,
                outcome="conflict",
                action="conflict",
                reason=reason,
                replaces_stripe_id=None,
            )
            self.ledger.record_outcome(conflict)
            return replace(done.result, outcome="conflict", action="conflict", reason=reason)
        return done.result

    def _quarantine(self, kind: ObjectKind, record: QuarantinedRecord) -> _Done:
        outcome = RecordOutcome.quarantined(record, run_id=self.run_id, partition_key=self.partition_key)
        result = RecordResult(
            kind, record.record_key, "quarantined", "quarantine", None, outcome.reason, 0, None
        )
        return _Done(result, outcome)

    def _failed(self, kind: ObjectKind, work: _Work, reason: str) -> _Done:
        outcome = RecordOutcome(
            run_id=self.run_id,
            partition_key=self.partition_key,
            object_type=kind,
            record_key=work.record_key,
            action="create",
            outcome="failed",
            jde_version=work.jde_version,
            reason=reason,
            attempt=work.attempt,
        )
        return _Done(
            RecordResult(kind, work.record_key, "failed", "create", None, reason, 0, work.jde_version),
            outcome,
        )

    def _done_factory(self, kind: ObjectKind, work: _Work, chash: str, meter: _Meter) -> _DoneFactory:
        def done(
            outcome: Outcome,
            action: Action,
            stripe_id: str | None,
            *,
            key: str | None = None,
            request_id: str | None = None,
            reason: str | None = None,
            replaces: str | None = None,
            detail: Mapping[str, object] | None = None,
        ) -> _Done:
            mapped = outcome in ("created", "updated", "unchanged")
            record = RecordOutcome(
                run_id=self.run_id,
                partition_key=self.partition_key,
                object_type=kind,
                record_key=work.record_key,
                action=action,
                outcome=outcome,
                jde_version=work.jde_version,
                payload_hash=chash,
                idempotency_key=key,
                stripe_request_id=request_id,
                stripe_id=stripe_id,
                reason=reason,
                attempt=work.attempt,
                replaces_stripe_id=replaces if mapped and replaces != stripe_id else None,
            )
            result = RecordResult(
                kind,
                work.record_key,
                outcome,
                action,
                stripe_id,
                reason,
                meter.count,
                work.jde_version,
                dict(detail or {}),
            )
            return _Done(result, record)

        return done

    def _key(self, kind: ObjectKind, work: _Work, operation: str, chash: str, generation: str) -> str:
        """Deterministic per (operation content, generation, attempt): see the module docstring."""
        salted = content_hash({"content": chash, "generation": generation, "attempt": work.attempt})
        return idempotency_key(kind, work.record_key, operation, salted)

    @staticmethod
    def _was_deleted(retrieve: Callable[[str], StripeResult], object_id: str) -> bool:
        try:
            return bool(retrieve(object_id).object.get("deleted"))
        except StripeRequestRejected as error:
            if _is_missing(error):
                return True
            raise


class _DoneFactory(Protocol):
    """Type of the `done(...)` closure: builds a record's result and ledger outcome together."""

    def __call__(
        self,
        outcome: Outcome,
        action: Action,
        stripe_id: str | None,
        *,
        key: str | None = None,
        request_id: str | None = None,
        reason: str | None = None,
        replaces: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> _Done: ...


def _generation(mapping: ObjectMapping) -> str:
    """Moves whenever an outcome is recorded for the record; fixed while a change is in flight."""
    return f"{mapping.stripe_id}@{mapping.updated_at.isoformat()}"


def _finalized_reason(key: str, invoice: Mapping[str, Any], extra: str | None = None) -> str:
    why = f" ({extra})" if extra else ""
    return (
        f"invoice {key}: JDE changed it{why}, but Stripe invoice {invoice.get('id')} is "
        f"{invoice.get('status')}, no longer a draft: left untouched; "
        "void it or issue a credit note in Stripe"
    )


def _blocked_reason(key: str, fields: Sequence[str]) -> str:
    return (
        f"invoice {key}: JDE changed {', '.join(fields)}, which a Stripe draft cannot change; "
        "delete the draft in Stripe and the next sync creates it anew"
    )


def _planned_quarantine(kind: ObjectKind, record: QuarantinedRecord) -> PlannedChange:
    return PlannedChange(kind, record.record_key, "quarantine", None, f"{record.field}: {record.reason}")
