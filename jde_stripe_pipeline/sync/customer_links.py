"""Each invoice's customer as the invoice's decision needs it, read from the ledger.

A Stripe id; else why not (`decision.CustomerLink`): quarantined, held by another run, or — for a plan —
about to be created by the same sync. Which customers an invoice sync must write first is decided here
too (`missing_customers`), so both read the ledger the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.sync.customer_lane import customer_of
from jde_stripe_pipeline.sync.decision import BlockedCustomer, BusyCustomer, CustomerLink, PendingCustomer
from jde_stripe_pipeline.sync.results import RecordResult
from jde_stripe_pipeline.sync.work import Work


def customers_named(items: Iterable[Work]) -> set[str]:
    """The AN8s (record keys) of the customers these invoices bill."""
    return {an8 for work in items if (an8 := customer_of(work)) is not None}


def missing_customers(ledger: Ledger, items: Sequence[Work]) -> set[str]:
    """The invoices' customers not in Stripe yet, or gone from it (drift)."""
    an8s = customers_named(items)
    known = ledger.get_mappings("customer", an8s)
    return {an8 for an8 in an8s if an8 not in known or known[an8].drift is not None}


def customer_links(
    ledger: Ledger,
    an8s: set[str],
    *,
    synced: Sequence[RecordResult] = (),
    plan_found: Mapping[str, str] | None = None,
) -> dict[str, CustomerLink]:
    """Each customer's Stripe id; else quarantined (`BlockedCustomer`); else held by another run
    (`BusyCustomer`, from the `synced` results); else, for a plan (`plan_found`: what a relink listing
    found), the id the customer sync relinks to or `PendingCustomer` (it creates it first)."""
    links: dict[str, CustomerLink] = {
        an8: m.stripe_id for an8, m in ledger.get_mappings("customer", an8s).items()
    }
    missing = an8s - set(links)
    for an8, entry in ledger.open_quarantine_of("customer", missing).items():
        links[an8] = BlockedCustomer(int(an8), entry.field, entry.reason)
    for result in synced:
        if result.outcome == "deferred" and result.record_key in missing:
            links[result.record_key] = BusyCustomer(int(result.record_key), result.reason or "")
    if plan_found is not None:
        intents = ledger.intents.of("customer", missing)
        for an8 in missing - set(links):
            known = intents.get(an8)
            stripe_id = known.stripe_id if known is not None else plan_found.get(an8)
            links[an8] = stripe_id or PendingCustomer(int(an8))
    return links
