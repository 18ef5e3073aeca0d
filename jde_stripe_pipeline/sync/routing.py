"""Which Stripe account each JDE record goes to (pure; issue 13).

- An invoice goes to the account of its company (KCOO, or KCO for the A/R profile): the key's first part.
- A customer goes to the account of its F03012 company and to every account that already has it (a
  customer billed by two companies exists once per account it is billed in; an invoice of an account
  that lacks its customer creates it there first, as the engine does for any missing customer).
- A record no account takes is quarantined with a reason naming its company and the variable to set
  (`AccountRouting.unrouted_reason`); the ledger keeps it under the account `UNROUTED`, and the record
  syncing in an account later closes that quarantine.
- A record the extract already refused (`QuarantinedRecord`) goes where its key says when it can, as is.
Unrouted (no `JDE_STRIPE_ACCOUNTS`), every record goes to the one account: today's behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from jde_stripe_pipeline.accounts import UNROUTED, AccountRouting, company_code
from jde_stripe_pipeline.jde.records import JdeCustomer, JdeDocumentKey, JdeInvoice, QuarantinedRecord

R = TypeVar("R")


@dataclass(frozen=True)
class Routed(Generic[R]):
    """Records per account (each in input order; a customer may be in several), and those no account
    takes (to be quarantined under `UNROUTED`)."""

    by_account: Mapping[str, tuple[R, ...]]
    unrouted: tuple[QuarantinedRecord, ...] = ()

    def of(self, account: str) -> tuple[R, ...]:
        return self.by_account.get(account, ())


def invoice_company(record: JdeInvoice | QuarantinedRecord) -> str | None:
    """The JDE company of an invoice (KCOO / KCO), also of one the extract refused when its key parses."""
    if isinstance(record, JdeInvoice):
        return record.key.kcoo
    try:
        return JdeDocumentKey.parse(record.record_key).kcoo
    except ValueError:
        return None


def route_invoices(
    records: Iterable[JdeInvoice | QuarantinedRecord], routing: AccountRouting
) -> Routed[JdeInvoice | QuarantinedRecord]:
    by_account: dict[str, list[JdeInvoice | QuarantinedRecord]] = {name: [] for name in routing.names}
    unrouted: list[QuarantinedRecord] = []
    for record in records:
        company = invoice_company(record)
        account = routing.account_of(company) if company is not None else _only(routing)
        if account is not None:
            by_account[account].append(record)
        elif isinstance(record, QuarantinedRecord):
            unrouted.append(record)
        else:
            unrouted.append(_unrouted_invoice(record, routing))
    return Routed({name: tuple(found) for name, found in by_account.items()}, tuple(unrouted))


def route_customers(
    records: Iterable[JdeCustomer | QuarantinedRecord],
    routing: AccountRouting,
    holders: Mapping[str, set[str]],
) -> Routed[JdeCustomer | QuarantinedRecord]:
    """`holders`: AN8 → the accounts whose ledger already maps the customer (`Ledger.accounts_of`)."""
    by_account: dict[str, list[JdeCustomer | QuarantinedRecord]] = {name: [] for name in routing.names}
    unrouted: list[QuarantinedRecord] = []
    for record in records:
        key = record.record_key if isinstance(record, QuarantinedRecord) else str(record.an8)
        accounts = {name for name in holders.get(key, set()) if name in by_account}
        own = routing.account_of(record.company) if isinstance(record, JdeCustomer) else _only(routing)
        if own is not None:
            accounts.add(own)
        for name in routing.names:  # in the configured order
            if name in accounts:
                by_account[name].append(record)
        if not accounts:
            unrouted.append(
                record if isinstance(record, QuarantinedRecord) else _unrouted_customer(record, routing)
            )
    return Routed({name: tuple(found) for name, found in by_account.items()}, tuple(unrouted))


def _only(routing: AccountRouting) -> str | None:
    """Where a record whose company is unknown goes: the one account of an unrouted site, else nowhere."""
    return None if routing.routed else routing.names[0]


def _unrouted_invoice(record: JdeInvoice, routing: AccountRouting) -> QuarantinedRecord:
    column = "KCO" if record.profile == "ar_invoice" else "KCOO"
    return QuarantinedRecord(
        kind="invoice",
        record_key=str(record.key),
        field=f"{record.header_table}.{column}",
        reason=routing.unrouted_reason(record.key.kcoo),
        raw={column: record.key.kcoo, "account": UNROUTED},
    )


def _unrouted_customer(record: JdeCustomer, routing: AccountRouting) -> QuarantinedRecord:
    return QuarantinedRecord(
        kind="customer",
        record_key=str(record.an8),
        field="F03012.CO",
        reason=routing.unrouted_reason(company_code(record.company)),
        raw={"AN8": record.an8, "CO": record.company, "account": UNROUTED},
    )
