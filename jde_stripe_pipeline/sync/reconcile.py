"""Reconciliation: per invoice, Stripe's figures against JDE's. Reads only; the comparison is pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jde_stripe_pipeline.jde.records import JdeInvoice
from jde_stripe_pipeline.ledger import Intent, ObjectMapping
from jde_stripe_pipeline.mapping import (
    ExpectedInvoiceFigures,
    InvoiceMappingConfig,
    InvoiceRequest,
    MappingFailure,
    expected_invoice_figures,
)
from jde_stripe_pipeline.sync.decision import DRAFT, StripeState
from jde_stripe_pipeline.sync.diff import line_summary, person_added_metadata
from jde_stripe_pipeline.sync.results import InvoiceReconciliation, ReconciliationReport
from jde_stripe_pipeline.sync.stripe_state import Meter, StripeReader

_FIGURES = ("number", "effective_at", "currency", "line_count", "total")


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


def reconcile_invoices(
    records: Iterable[JdeInvoice],
    config: InvoiceMappingConfig,
    mappings: Mapping[str, ObjectMapping],
    intents: Mapping[str, Intent],
    reader: StripeReader,
    meter: Meter,
) -> ReconciliationReport:
    """Non-drafts that differ are conflicts; lines and metadata a person added are reported."""
    items: list[InvoiceReconciliation] = []
    skipped: list[str] = []
    for record in records:
        key = str(record.key)
        expected = expected_invoice_figures(record, config)
        if isinstance(expected, MappingFailure):
            skipped.append(f"{key}: {expected.field}: {expected.reason}")
            continue
        items.append(
            compare_invoice(key, expected, reader.invoice(key, mappings.get(key), intents.get(key), meter))
        )
    conflicts = tuple(i for i in items if i.mismatches and i.status not in (None, DRAFT))
    return ReconciliationReport(tuple(items), conflicts, tuple(skipped), meter.count)
