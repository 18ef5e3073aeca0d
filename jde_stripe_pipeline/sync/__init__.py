"""The sync engine: plan (mapped requests against the ledger and Stripe) and execute (paced, idempotent).

from jde_stripe_pipeline.sync import SyncEngine
engine = SyncEngine(stripe=sink, ledger=ledger, customer_config=..., invoice_config=...,
                    run_id=..., partition_key=...)
engine.sync_customers(records) / engine.sync_invoices(records, fetch_customers=...) -> SyncReport
    (an invoice sync's report also says whether what it touched matches JDE: `stripe_matches_jde`)
engine.plan_customers(records) / engine.plan_invoices(records) -> Plan   (writes nothing)
engine.reconcile_invoices(records) -> ReconciliationReport   (marks drift for the next sync to repair)
engine.relink() -> RelinkReport   (the one whole-account listing; `jde-stripe relink`)
render_plan(plan) -> text, each planned Stripe operation with its verb, path and idempotency key

Inside: `work` (records → requests), `decide` + `decision` (the pure decisions), `stripe_state`
(reading one record's object), `claims` (a run's claims on the records it writes), `per_record` (one
record: decide, claim, execute, record), `execute` (sending, rounds), `record` (the ledger),
`reconcile`, `drift`, `relink`, `render`; `engine` ties them together.
"""

from jde_stripe_pipeline.sync.engine import CustomerFetch, SyncEngine
from jde_stripe_pipeline.sync.operations import Created, StripeOperation
from jde_stripe_pipeline.sync.relink import RelinkReport
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
    "RelinkReport",
    "StripeOperation",
    "SyncEngine",
    "SyncReport",
    "render_plan",
]
