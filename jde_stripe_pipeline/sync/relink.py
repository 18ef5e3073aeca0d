"""The one whole-account listing: an explicit recovery that finds every object carrying `jde_*` keys.

A normal run never lists the account (a new record is simply created: the ledger notes every create
before sending it, so an object the ledger does not know was not made by this ledger). The listing is
for when the ledger cannot know: `jde-stripe relink` (a restored or replaced state database, objects
made by another deployment), and automatically, once, when a run finds the ledger empty (no mapping,
no known Stripe id, no relink recorded) — then the first customers page tells whether the account is
empty too (one request) and only a non-empty account is listed whole.

What it finds goes to the intent rows as each unmapped record's known Stripe id (mapped records keep
their mapping); the runs then re-read each such object by id when they sync its record, after taking
the record's claim, so nothing decides from a listing another run may have outdated since.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.ledger import Ledger, ObjectType
from jde_stripe_pipeline.stripe_sink import StripeSink
from jde_stripe_pipeline.stripe_sink.client import PAGE_SIZE
from jde_stripe_pipeline.sync.stripe_state import REPLACEABLE_STATUSES, status_rank

Index = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class RelinkReport:
    customers_listed: int
    invoices_listed: int
    found: dict[ObjectType, dict[str, str]] = field(default_factory=dict)
    """Per object type, JDE key → the Stripe object chosen for it (the oldest customer; a draft first,
    then a finalized invoice, never a void one)."""
    linked: int = 0
    """Unmapped records whose Stripe object is now known to the ledger (0 for a plan: it writes nothing)."""
    duplicates: tuple[str, ...] = ()
    """`customer 4242: cus_b, cus_c`: further objects carrying one JDE key (left alone, reported)."""
    requests: int = 0

    def summary(self) -> str:
        found = ", ".join(f"{len(keys)} {kind}s" for kind, keys in sorted(self.found.items()))
        text = (
            f"listed {self.customers_listed} customers and {self.invoices_listed} invoices "
            f"({self.requests} requests); found {found or 'no JDE object'}; "
            f"linked {self.linked} unmapped records"
        )
        if self.duplicates:
            text += "; duplicates left alone: " + "; ".join(self.duplicates)
        return text


class _Pages:
    """All items of a listing, counting the pages it took (at least one)."""

    def __init__(self, items: Iterator[dict[str, Any]]) -> None:
        self.items = items
        self.listed: list[dict[str, Any]] = []

    def first(self) -> bool:
        item = next(self.items, None)
        if item is not None:
            self.listed.append(item)
        return item is not None

    def rest(self) -> list[dict[str, Any]]:
        self.listed.extend(self.items)
        return self.listed

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.listed) // PAGE_SIZE))


def customers_by_an8(customers: list[dict[str, Any]]) -> Index:
    index: Index = {}
    for customer in customers:
        an8 = (customer.get("metadata") or {}).get("jde_an8")
        if an8 and not customer.get("deleted"):
            index.setdefault(str(an8), []).append(customer)
    for found in index.values():
        found.sort(key=lambda c: (c.get("created") or 0, c["id"]))
    return index


def invoices_by_document(invoices: list[dict[str, Any]]) -> Index:
    index: Index = {}
    for invoice in invoices:
        key = JdeDocumentKey.from_metadata(invoice.get("metadata") or {})
        if key is not None and invoice.get("status") not in REPLACEABLE_STATUSES:
            index.setdefault(str(key), []).append(invoice)
    for found in index.values():
        found.sort(key=status_rank)
    return index


def list_account(sink: StripeSink) -> tuple[Index, Index, int, int, int]:
    """Customers by AN8 and invoices by document key, the counts listed and the requests it took; the
    invoices are listed only when the account holds any customer."""
    customers = _Pages(sink.list_customers())
    if not customers.first():
        return {}, {}, 0, 0, customers.pages
    listed_customers = customers.rest()
    invoices = _Pages(sink.list_invoices())
    listed_invoices = invoices.rest() if invoices.first() else []
    requests = customers.pages + invoices.pages
    return (
        customers_by_an8(listed_customers),
        invoices_by_document(listed_invoices),
        len(listed_customers),
        len(listed_invoices),
        requests,
    )


def relink(ledger: Ledger, sink: StripeSink, run_id: str, *, persist: bool = True) -> RelinkReport:
    """List the account once; note each unmapped record's Stripe object in the ledger (`persist`) and
    record the relink, so an empty ledger is not relinked again."""
    customers, invoices, customers_listed, invoices_listed, requests = list_account(sink)
    found: dict[ObjectType, dict[str, str]] = {}
    duplicates: list[str] = []
    for kind, index in (("customer", customers), ("invoice", invoices)):
        chosen = {key: str(objects[0]["id"]) for key, objects in index.items()}
        if chosen:
            found[kind] = chosen  # type: ignore[index]
        duplicates += [
            f"{kind} {key}: {', '.join(str(o['id']) for o in objects[1:])}"
            for key, objects in sorted(index.items())
            if len(objects) > 1
        ]
    linked = 0
    if persist:
        for kind_found, chosen in found.items():
            linked += ledger.intents.link_found(kind_found, chosen)
        ledger.intents.record_relink(run_id, customers_listed, invoices_listed, linked)
    return RelinkReport(customers_listed, invoices_listed, found, linked, tuple(duplicates), requests)
