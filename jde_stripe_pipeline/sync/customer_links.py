"""Each invoice's customer as the invoice's decision needs it, read from the ledger.

A Stripe id; else why not (`decision.CustomerLink`): quarantined, held by another run, or — for a plan —
about to be created by the same sync. Which customers an invoice sync writes on its lane is decided here
too (`invoice_lane`), so both read the ledger the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from jde_stripe_pipeline.jde.records import JdeCustomer, QuarantinedRecord
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.sync.customer_lane import (
    CustomerLane,
    customer_of,
    in_order_of_need,
    lane_order,
    lane_tail,
)
from jde_stripe_pipeline.sync.decision import BlockedCustomer, BusyCustomer, CustomerLink, PendingCustomer
from jde_stripe_pipeline.sync.results import RecordResult
from jde_stripe_pipeline.sync.work import Work


def customers_named(items: Iterable[Work]) -> set[str]:
    """The AN8s (record keys) of the customers these invoices bill."""
    return {an8 for work in items if (an8 := customer_of(work)) is not None}


CustomerFetch = Callable[[Sequence[int]], Iterable[JdeCustomer | QuarantinedRecord]]
"""The current JDE state of these customers (the invoice extract hands it over)."""


def invoice_lane(
    ledger: Ledger,
    items: Sequence[Work],
    day_customers: Sequence[JdeCustomer | QuarantinedRecord],
    fetch: CustomerFetch,
    *,
    lead: int,
) -> tuple[CustomerLane, CustomerFetch, dict[str, CustomerLink]]:
    """An invoice sync's customer lane, where it reads its customers, and the Stripe ids of the
    customers the invoices name that Stripe has already (their invoices take the link at once; one
    ledger read for both). The lane: those the invoices name that Stripe lacks (not mapped yet, or gone
    from Stripe: drift), in order of need (read through `fetch`; the invoices wait for them), with the
    day's other customers, new or changed, spread among them (`day_customers`: the customer extract's
    records, as extracted). A changed customer an invoice names is updated there too, and its invoices
    do not wait for it: they need only its Stripe id. Written by `stripe_customers` after the invoices,
    a day's changed customers ran alone at their endpoint."""
    named = customers_named(items)
    in_stripe: dict[str, CustomerLink] = {
        an8: m.stripe_id for an8, m in ledger.get_mappings("customer", named).items() if m.drift is None
    }
    lacking = named - set(in_stripe)
    needed = in_order_of_need(items, lacking)
    day = {str(c.an8): c for c in day_customers if isinstance(c, JdeCustomer) and str(c.an8) not in lacking}
    others = list(day)  # new or changed: a changed one's update overlaps the invoices too
    tail = lane_tail(needed, others, lead)
    lane = CustomerLane(
        lane_order(needed, others, tail),
        lead=lead,
        invoices=len(items),
        tail=tail,
        unwaited=named.intersection(day),
    )

    def lane_fetch(an8s: Sequence[int]) -> list[JdeCustomer | QuarantinedRecord]:
        own = [a for a in an8s if str(a) not in day]
        return [*(fetch(own) if own else ()), *(day[str(a)] for a in an8s if str(a) in day)]

    return lane, lane_fetch, in_stripe


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
