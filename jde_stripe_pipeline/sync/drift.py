"""Drift: a Stripe object deleted or edited in what the mapping owns while its JDE record did not change.

The ledger's content hash makes an unchanged record cost nothing — so, alone, it would never notice a
person deleting a draft or editing a JDE line's amount in Stripe. Three steps repair it:
- **found** by the reconciliation, which reads every invoice of the partition anyway
  (`reconcile.with_drift`: content hash still JDE's, yet the draft is gone or differs in owned fields or
  JDE lines); an invoice create refused because its customer is gone finds a customer's drift;
- **marked** in the ledger (`mark_drifted` → `ledger.drift.mark`: the mapping's drift mark and a
  `drifted` audit row);
- **repaired** by the next sync: a marked record is never "unchanged"; it is decided against Stripe
  like a changed one (a deleted draft re-created under a new generation of keys — the old create key
  would replay the deleted object —, an edited one converged by `jde_lnid`, a deleted customer created
  anew) and recorded `repaired` with a reason starting "repaired drift:" (`as_repair`).
Lines without `jde_lnid` and metadata keys the mapping does not own are a person's: never drift, left
alone. A finalized invoice is never drift: it stays a conflict, reported and untouched.
"""

from __future__ import annotations

from dataclasses import replace

from jde_stripe_pipeline.ledger import Ledger, ObjectMapping
from jde_stripe_pipeline.mapping import InvoiceRequest
from jde_stripe_pipeline.stripe_sink import StripeRequestRejected
from jde_stripe_pipeline.sync.decision import CustomerLink, Decision
from jde_stripe_pipeline.sync.results import ReconciliationReport
from jde_stripe_pipeline.sync.work import Work

REPAIRED = "repaired drift"


def as_repair(decision: Decision, mapping: ObjectMapping | None, *, jde_changed: bool) -> Decision:
    """The decision for a record whose mapping is marked drifted: a create or a converge that writes is
    `repaired`; one that finds Stripe equal again is `unchanged` (when JDE did not change either);
    anything else (a conflict, a quarantine…) stands, with the drift in its detail."""
    if mapping is None or mapping.drift is None:
        return decision
    detail = {**decision.detail, "drift": mapping.drift}
    if decision.operations and decision.outcome in ("created", "updated"):
        done = "converged to JDE" if decision.outcome == "updated" else "created anew"
        if decision.outcome == "created" and decision.object_type == "invoice":
            done += " with JDE's lines"
        reason = f"{decision.object_type} {decision.record_key}: {REPAIRED} ({mapping.drift}): {done}"
        return replace(decision, outcome="repaired", reason=reason, detail=detail)
    if not decision.operations and decision.outcome == "updated" and not jde_changed:
        reason = f"{decision.object_type} {decision.record_key}: drift gone, Stripe equals JDE again"
        return replace(decision, outcome="unchanged", reason=reason, detail=detail)
    return replace(decision, detail=detail)


def mark_drifted(
    ledger: Ledger,
    report: ReconciliationReport,
    mappings: dict[str, ObjectMapping],
    *,
    run_id: str,
    partition_key: str | None,
) -> int:
    """Mark each drifted invoice of the report in the ledger (against the mapping it was compared with);
    the number marked."""
    marked = 0
    for item in report.drifted():
        mapping = mappings[item.record_key]
        assert item.drift is not None
        marked += ledger.drift.mark(
            "invoice",
            item.record_key,
            stripe_id=mapping.stripe_id,
            content_hash=mapping.content_hash,
            reason=item.drift,
            run_id=run_id,
            partition_key=partition_key,
            jde_version=mapping.jde_version,
        )
    return marked


def customer_gone(
    ledger: Ledger,
    work: Work,
    customer: CustomerLink,
    error: StripeRequestRejected,
    *,
    run_id: str,
    partition_key: str | None,
) -> str:
    """An invoice write Stripe refused because the invoice's customer no longer exists (deleted in
    Stripe while JDE did not change it): the customer's mapping is marked drifted, so the next run (a
    Dagster step retry included) creates it anew before its invoices. What to add to the invoice's
    failure reason ("" when the refusal was about something else)."""
    request = work.request
    if not (
        isinstance(request, InvoiceRequest)
        and isinstance(customer, str)
        and error.code == "resource_missing"
        and error.param == "customer"
    ):
        return ""
    an8 = str(request.customer_an8)
    marked = ledger.drift.mark(
        "customer",
        an8,
        stripe_id=customer,
        content_hash=None,
        reason=f"customer {customer} deleted in Stripe (found by invoice {work.record_key})",
        run_id=run_id,
        partition_key=partition_key,
    )
    if not marked:
        return ""
    return f"; its customer AN8 {an8} ({customer}) is gone from Stripe: the next run creates it anew"
