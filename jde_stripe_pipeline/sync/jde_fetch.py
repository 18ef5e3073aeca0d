"""Read customers from JDE by AN8 (for invoices whose customer Stripe does not have yet).

A stopgap over the AIS client's extract internals until `jde_stripe_pipeline.jde` offers a public
fetch-by-AN8; it reads the same tables and assembles records the same way as `extract_customers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.extract import (
    CUSTOMER_CHUNK,
    _fetch_customer_rows,
    assemble_customer,
    today_in_jde,
)
from jde_stripe_pipeline.jde.query import chunked
from jde_stripe_pipeline.jde.records import JdeCustomer, QuarantinedRecord


def fetch_customers(
    session: AisSession,
    an8s: Sequence[int],
    *,
    as_of: date | None = None,
    companies: Sequence[str] | None = None,
) -> Iterator[JdeCustomer | QuarantinedRecord]:
    """The current state of these customers; an AN8 with no F03012 row is quarantined, not dropped."""
    as_of = as_of or today_in_jde(session)
    company_filter = tuple(companies) if companies else None
    for chunk in chunked(sorted(set(an8s)), CUSTOMER_CHUNK):
        rows = _fetch_customer_rows(session, chunk, company_filter)
        for an8 in chunk:
            record = assemble_customer(
                an8,
                {name: by_an8.get(an8, []) for name, by_an8 in rows.items()},
                as_of=as_of,
                companies=company_filter,
            )
            yield (
                record
                if record is not None
                else QuarantinedRecord(
                    kind="customer",
                    record_key=str(an8),
                    field="F03012.AN8",
                    reason="an invoice names this customer, but JDE has no customer master (F03012) row",
                )
            )
