"""Reconciliation: per invoice, Stripe's figures, owned fields and JDE lines against JDE's. The
comparison is pure. A draft deleted or edited in Stripe while JDE did not change is drift (`with_drift`;
marked and repaired as `drift.py` says).

It reuses what a run already knows: an invoice the sync read or wrote is compared with the state
Stripe answered its last write with (`state_after`), so a sync reports at once whether Stripe equals
JDE for everything it touched (`SyncReport.reconciliation`), without a read; `reconcile_invoices`
takes those comparisons as they are (`compared`) and reads each remaining invoice once. After writes,
Stripe's own answer is the witness: its embedded lines when complete, else the lines the run read with
its own changes applied, checked against the `subtotal` Stripe computed (a doubled line cannot hide
there).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.ledger import Intent, ObjectMapping
from jde_stripe_pipeline.mapping import (
    DeleteDraftInvoice,
    ExpectedInvoiceFigures,
    InvoiceMappingConfig,
    InvoiceRequest,
    MappingFailure,
    expected_invoice_figures,
    map_invoice,
)
from jde_stripe_pipeline.sync.decision import ABSENT, DRAFT, Decision, StripeState
from jde_stripe_pipeline.sync.diff import (
    diff_lines,
    invoice_header_differences,
    line_differences,
    line_summary,
    person_added_metadata,
)
from jde_stripe_pipeline.sync.execute import on_threads
from jde_stripe_pipeline.sync.results import InvoiceReconciliation, ReconciliationReport
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader
from jde_stripe_pipeline.sync.work import Work

_FIGURES = ("number", "effective_at", "currency", "line_count", "total")
NOTHING_TO_BILL = ExpectedInvoiceFigures(None, 0, "", 0, 0)


def compare_invoice(
    key: str, expected: ExpectedInvoiceFigures, state: StripeState, request: InvoiceRequest | None = None
) -> InvoiceReconciliation:
    """JDE's number, effective date, currency, billable line count and total next to Stripe's; with the
    mapped `request`, also every owned field and JDE line (`owned_differences`)."""
    want: dict[str, object] = {
        "number": expected.number,
        "effective_at": expected.effective_at,
        "currency": expected.currency,
        "line_count": expected.line_count,
        "total": expected.total_minor,
    }
    invoice = state.object
    if invoice is None:
        mismatches: tuple[str, ...] = ("missing",) if expected.line_count else ()
        return InvoiceReconciliation(key, None, None, want, {}, mismatches)
    jde_lines = [line for line in state.lines if (line.get("metadata") or {}).get("jde_lnid")]
    person = tuple(line_summary(line) for line in state.lines if line not in jde_lines)
    have: dict[str, object] = {
        "number": invoice.get("number"),
        "effective_at": invoice.get("effective_at"),
        "currency": invoice.get("currency"),
        "line_count": len(jde_lines),
        "total": sum(int(line.get("amount") or 0) for line in jde_lines),
    }
    names = [name for name in _FIGURES if name != "number" or expected.number is not None]
    mismatches = tuple(name for name in names if want[name] != have[name])
    if not expected.line_count:
        mismatches = ("unexpected",)
    return InvoiceReconciliation(
        key,
        str(invoice["id"]),
        str(invoice.get("status")),
        want,
        have,
        mismatches,
        person,
        tuple(person_added_metadata(invoice, InvoiceRequest.OWNED_METADATA_KEYS)),
        owned_differences(request, invoice, state.lines) if request is not None else (),
    )


SET_BY_FINALIZING = frozenset({"days_until_due", "due_date", "number"})
"""Header fields Stripe itself sets when an invoice is finalized: compared on drafts only."""


def owned_differences(
    request: InvoiceRequest, invoice: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> tuple[str, ...]:
    """The header fields and JDE lines (by `jde_lnid`) the mapping owns that Stripe shows otherwise —
    what a converge would change. Person-added lines and metadata keys are not the mapping's."""
    header = invoice_header_differences(request, invoice)
    if invoice.get("status") != DRAFT:
        header = [name for name in header if name not in SET_BY_FINALIZING]
    diff = diff_lines(request, lines)
    by_id = {str(line.get("id")): line for line in lines}
    found = [*header, *(f"line {line.lnid} missing" for line in diff.add)]
    found += [
        f"line {wanted.lnid}: {', '.join(line_differences(wanted, by_id[line_id]))}"
        for line_id, wanted in diff.update
    ]
    found += [f"line {line_id} not in JDE" for line_id in diff.remove]
    return tuple(found)


def expected_of(request: InvoiceRequest | DeleteDraftInvoice) -> ExpectedInvoiceFigures:
    """What Stripe must show for a mapped request (nothing at all for a document with nothing to bill)."""
    if isinstance(request, DeleteDraftInvoice):
        return NOTHING_TO_BILL
    return ExpectedInvoiceFigures(
        request.number, request.effective_at, request.currency, len(request.lines), request.total_minor
    )


def state_after(
    read: StripeState, decision: Decision, answers: Sequence[Mapping[str, Any]]
) -> StripeState | None:
    """What Stripe holds once the decision's operations were answered, from the answers themselves
    (None when they cannot tell: a draft of more lines than an answer embeds whose `subtotal` does
    not match the lines the run read with its own changes applied)."""
    if not answers:
        return read if read.source in ("mapping", "relink", "absent") else None
    last = answers[-1]
    if last.get("deleted"):
        return ABSENT
    embedded = last.get("lines") or {}
    if not embedded.get("has_more"):
        return StripeState("mapping", last, tuple(embedded.get("data") or ()))
    lines = _applied(read.lines, decision)
    if sum(int(line.get("amount") or 0) for line in lines) != last.get("subtotal"):
        return None
    return StripeState("mapping", last, lines)


def _applied(lines: Sequence[Mapping[str, Any]], decision: Decision) -> tuple[Mapping[str, Any], ...]:
    current: list[Mapping[str, Any]] = list(lines)
    for operation in decision.operations:
        params = operation.params
        if operation.method == "invoices.remove_lines":
            gone = {line["id"] for line in params["lines"]}
            current = [line for line in current if line.get("id") not in gone]
        elif operation.method == "invoices.update_lines":
            updated = {line["id"]: line for line in params["lines"]}
            current = [_updated(line, updated.get(str(line.get("id")))) for line in current]
        elif operation.method == "invoices.add_lines":
            current.extend(_as_line(line) for line in params["lines"])
    return tuple(current)


def _updated(line: Mapping[str, Any], change: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if change is None:
        return line
    metadata = {**(line.get("metadata") or {}), **change["metadata"]}
    return _as_line({**line, **change, "metadata": {k: v for k, v in metadata.items() if v != ""}})


def _as_line(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A line as the run sent it, shown the way Stripe shows lines: `tax_amounts` sent as `taxes`."""
    if "tax_amounts" not in params:
        return params
    taxes = [
        {
            "amount": entry["amount"],
            "taxable_amount": entry["taxable_amount"],
            "tax_behavior": "inclusive" if entry["tax_rate_data"]["inclusive"] else "exclusive",
        }
        for entry in params["tax_amounts"] or []
    ]
    shown = {name: value for name, value in params.items() if name != "tax_amounts"}
    return {**shown, "taxes": taxes}


def reconcile_invoices(
    records: Iterable[JdeInvoice],
    config: InvoiceMappingConfig,
    mappings: Mapping[str, ObjectMapping],
    intents: Mapping[str, Intent],
    reader: StripeReader,
    meter: Meter,
    known: Mapping[str, StripeState] | None = None,
    workers: int = 1,
    compared: Mapping[str, InvoiceReconciliation] | None = None,
) -> ReconciliationReport:
    """Non-drafts that differ are conflicts; lines and metadata a person added are reported; a draft
    deleted or edited in Stripe while JDE did not change is drift (`with_drift`). `known`: the states a
    sync already has (read or answered); `compared`: the invoices a sync of the same run already compared
    from those states (`SyncReport.reconciliation`), taken as they are, not mapped and compared again;
    every other invoice is read once, on `workers` threads (the sink paces them: one read at a time left
    a re-sync at 1 s latency at 1 read/s)."""
    skipped: list[str] = []
    done: dict[str, InvoiceReconciliation] = {}
    checked: list[tuple[str, ExpectedInvoiceFigures, InvoiceRequest | None, ObjectMapping | None]] = []
    keys = []
    for record in records:
        key = str(record.key)
        given = (compared or {}).get(key)
        if given is not None:
            keys.append(key)
            done[key] = (
                given if given.matches else with_drift(given, _request(record, config), mappings.get(key))
            )
            continue
        expected = expected_invoice_figures(record, config)
        if isinstance(expected, MappingFailure):
            skipped.append(f"{key}: {expected.field}: {expected.reason}")
            continue
        keys.append(key)
        checked.append((key, expected, _request(record, config), mappings.get(key)))
    states = dict(known or {})

    def read(item: tuple[str, ObjectMapping | None]) -> tuple[str, StripeState, int]:
        key, mapping = item
        own = Meter(meter.sink)  # a meter per read: counts stay exact across threads
        return key, reader.invoice(key, mapping, own, intent=intents.get(key)), own.count

    unread = [(key, mapping) for key, _, _, mapping in checked if not states.get(key)]
    for key, state, count in on_threads(read, unread, workers):
        states[key] = state
        meter.count += count
    for key, expected, request, mapping in checked:
        done[key] = with_drift(compare_invoice(key, expected, states[key], request), request, mapping)
    return report_of([done[key] for key in keys], skipped, meter.count)


def _request(record: JdeInvoice, config: InvoiceMappingConfig) -> InvoiceRequest | None:
    mapped = map_invoice(record, config)
    return mapped if isinstance(mapped, InvoiceRequest) else None


def with_drift(
    item: InvoiceReconciliation, request: InvoiceRequest | None, mapping: ObjectMapping | None
) -> InvoiceReconciliation:
    """Drift: JDE did not change the record since its last sync (the mapping still holds its content
    hash) and yet its draft is gone from Stripe or differs in what the mapping owns. A finalized
    invoice is never drift: it stays a conflict, reported and left alone."""
    if request is None or mapping is None or mapping.content_hash != request.change_hash or item.matches:
        return item
    if item.status is None:
        return replace(item, drift=f"draft {mapping.stripe_id} deleted in Stripe")
    if item.status != DRAFT:
        return item
    found = item.differences or tuple(f"{name} {item.actual.get(name)!r}" for name in item.mismatches)
    return replace(item, drift=f"draft {item.stripe_id} edited in Stripe: {'; '.join(found)}")


def report_of(
    items: Sequence[InvoiceReconciliation], skipped: Sequence[str], requests: int
) -> ReconciliationReport:
    conflicts = tuple(i for i in items if not i.matches and i.status not in (None, DRAFT))
    return ReconciliationReport(tuple(items), conflicts, tuple(skipped), requests)


class SyncComparisons:
    """Each invoice compared with JDE from the state Stripe answered its sync with, as its sync ends (on
    the worker's thread, while other invoices wait on Stripe, rather than all after the last answer:
    ~1 s at 2,000 invoices). Thread-safe."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[StripeState, InvoiceReconciliation]] = {}
        self._lock = threading.Lock()

    def note(self, work: Work, state: StripeState | None) -> None:
        if state is not None and isinstance(work.request, InvoiceRequest | DeleteDraftInvoice):
            item = compare_work(work, state)
            with self._lock:
                self._found[work.record_key] = (state, item)

    def of(self, work: Work, state: StripeState) -> InvoiceReconciliation:
        with self._lock:
            found = self._found.get(work.record_key)
        return found[1] if found is not None and found[0] is state else compare_work(work, state)

    def report(self, items: Sequence[Work], seen: Mapping[str, StripeState]) -> ReconciliationReport:
        """The invoices the sync read or wrote, compared with JDE from Stripe's answers (compared again
        only where Stripe's state changed after its comparison: a later round)."""
        compared = [
            self.of(w, seen[w.record_key])
            for w in items
            if isinstance(w.request, InvoiceRequest | DeleteDraftInvoice) and w.record_key in seen
        ]
        return report_of(compared, (), 0)


def compare_work(work: Work, state: StripeState) -> InvoiceReconciliation:
    request = work.request
    assert isinstance(request, InvoiceRequest | DeleteDraftInvoice)
    return compare_invoice(
        work.record_key, expected_of(request), state, request if isinstance(request, InvoiceRequest) else None
    )
