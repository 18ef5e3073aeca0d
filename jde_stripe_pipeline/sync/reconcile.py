"""Reconciliation: per invoice, Stripe's figures against JDE's. The comparison is pure.

It reuses what a run already knows: an invoice the sync read or wrote is compared with the state
Stripe answered its last write with (`state_after`), so a sync reports at once whether Stripe equals
JDE for everything it touched (`SyncReport.reconciliation`), without a read; `reconcile_invoices`
then reads each remaining invoice once. After writes, Stripe's own answer is the witness: its embedded
lines when complete, else the lines the run read with its own changes applied, checked against the
`subtotal` Stripe computed (a doubled line cannot hide there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
)
from jde_stripe_pipeline.sync.decision import ABSENT, DRAFT, Decision, StripeState
from jde_stripe_pipeline.sync.diff import line_summary, person_added_metadata
from jde_stripe_pipeline.sync.results import InvoiceReconciliation, ReconciliationReport
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader

_FIGURES = ("number", "effective_at", "currency", "line_count", "total")
NOTHING_TO_BILL = ExpectedInvoiceFigures(None, 0, "", 0, 0)


def compare_invoice(key: str, expected: ExpectedInvoiceFigures, state: StripeState) -> InvoiceReconciliation:
    """JDE's number, effective date, currency, billable line count and total next to Stripe's."""
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
    )


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
            current.extend(params["lines"])
    return tuple(current)


def _updated(line: Mapping[str, Any], change: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if change is None:
        return line
    metadata = {**(line.get("metadata") or {}), **change["metadata"]}
    return {**line, **change, "metadata": {k: v for k, v in metadata.items() if v != ""}}


def reconcile_invoices(
    records: Iterable[JdeInvoice],
    config: InvoiceMappingConfig,
    mappings: Mapping[str, ObjectMapping],
    intents: Mapping[str, Intent],
    reader: StripeReader,
    meter: Meter,
    known: Mapping[str, StripeState] | None = None,
) -> ReconciliationReport:
    """Non-drafts that differ are conflicts; lines and metadata a person added are reported. `known`:
    the states a sync already has (read or answered); every other invoice is read once."""
    items: list[InvoiceReconciliation] = []
    skipped: list[str] = []
    for record in records:
        key = str(record.key)
        expected = expected_invoice_figures(record, config)
        if isinstance(expected, MappingFailure):
            skipped.append(f"{key}: {expected.field}: {expected.reason}")
            continue
        state = (known or {}).get(key) or reader.invoice(
            key, mappings.get(key), meter, intent=intents.get(key)
        )
        items.append(compare_invoice(key, expected, state))
    return report_of(items, skipped, meter.count)


def report_of(
    items: Sequence[InvoiceReconciliation], skipped: Sequence[str], requests: int
) -> ReconciliationReport:
    conflicts = tuple(i for i in items if i.mismatches and i.status not in (None, DRAFT))
    return ReconciliationReport(tuple(items), conflicts, tuple(skipped), requests)
