"""The sync engine: plan (mapped requests against the ledger and Stripe) and execute (paced, idempotent).

from jde_stripe_pipeline.sync import SyncEngine
engine = SyncEngine(stripe=sink, ledger=ledger, customer_config=..., invoice_config=...,
                    run_id=..., partition_key=...)
engine.sync_customers(records) / engine.sync_invoices(records, fetch_customers=...) -> SyncReport
engine.plan_customers(records) / engine.plan_invoices(records) -> Plan   (writes nothing)
engine.reconcile_invoices(records) -> ReconciliationReport
render_plan(plan) -> text, each planned Stripe operation with its verb, path and idempotency key

Inside: `work` (records → requests), `decide` (the pure decisions), `stripe_state` (reading Stripe),
`execute` (sending, rounds), `record` (the ledger), `reconcile`, `render`; `engine` ties them together.
"""

from jde_stripe_pipeline.sync.engine import CustomerFetch, SyncEngine
from jde_stripe_pipeline.sync.operations import Created, StripeOperation
from jde_stripe_pipeline.sync.render import render_plan
from jde_stripe_pipeline.sync.results import (
    InvoiceReconciliation,
    Plan,
    PlannedChange,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)

__all__ = [
    "Created",
    "CustomerFetch",
    "InvoiceReconciliation",
    "Plan",
    "PlannedChange",
    "ReconciliationReport",
    "RecordResult",
    "StripeOperation",
    "SyncEngine",
    "SyncReport",
    "render_plan",
]
