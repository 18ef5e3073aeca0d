"""The sync engine: plan (mapped requests against the ledger and Stripe) and execute (paced, idempotent).

from jde_stripe_pipeline.sync import SyncEngine
engine = SyncEngine(stripe=sink, ledger=ledger, customer_config=..., invoice_config=...,
                    run_id=..., partition_key=...)
engine.sync_customers(records) / engine.sync_invoices(records, fetch_customers=...) -> SyncReport
engine.plan_customers(records) / engine.plan_invoices(records) -> Plan   (writes nothing)
engine.reconcile_invoices(records) -> ReconciliationReport
"""

from jde_stripe_pipeline.sync.engine import ADD_LINES_BATCH, CustomerFetch, FinalizedPolicy, SyncEngine
from jde_stripe_pipeline.sync.results import (
    InvoiceReconciliation,
    Plan,
    PlannedChange,
    ReconciliationReport,
    RecordResult,
    SyncReport,
)

__all__ = [
    "ADD_LINES_BATCH",
    "CustomerFetch",
    "FinalizedPolicy",
    "InvoiceReconciliation",
    "Plan",
    "PlannedChange",
    "ReconciliationReport",
    "RecordResult",
    "SyncEngine",
    "SyncReport",
]
