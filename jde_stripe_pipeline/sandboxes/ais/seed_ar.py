"""The seeded A/R world: F03B11 documents, F42119 sales history, F0018 taxes (jde-ar.md).

Seeded beside the order world from its own random stream (`"{seed}:ar"`), so the purchase and sales
order tables are exactly what they were; only the F4211 lines gain the invoice company, the taxable
flag and the tax area (derived, no random draw). What it holds, and why:
- **Sales-generated invoices** (`RI`, DOC 900001+): every invoiced sales order of the order world
  (its F4211 lines carry DOC/DCT/KCO), summarized to one pay item per invoice (R42800 option `1`), or
  two pay items for installment terms (every fourth); every seventh is not yet posted (POST blank).
- **Invoices whose lines moved to history** (DOC 700001+, lines in F42119, orders 7001+ without an
  F4201 header: the header moved to F42019, not modelled); one invoice in six covers two orders;
  every fifth is in **foreign mode** (CRRM `F`, base USD, AG/STAM domestic, ACR/CTAM and the lines'
  FEA/FUP in the customer's currency).
- **A/R-only invoices** (DOC 800001+, no sales lines): one to three pay items with a remark.
- **Credit memos** (`RM`, own series 950001+): negative gross, due date = invoice date, pointing at a
  posted domestic invoice through ODOC/ODCT/OKCO; the last one names no original.
- **Voids**: AG and tax 0, PST `P`, ISTR `1`, VOD `V`, VDGJ; POST blank until the re-post (half of
  history invoices' voids shown re-posted, POST `D`).
- **Tax**: by the customer's tax area (TXA1, EXR1), on the lines flagged TAX1 `Y` (a service hour is
  not taxable), rounded half up to the currency (KWD to hundredths, which Stripe can take). The G/L
  post writes **F0018** (one row per taxed pay item, keys DOCO/DCTO/KCOO/SFXO = the invoice's
  DOC/DCT/KCO/SFX, as the reference presumes) for company 00001 only (its post option is on; 00200's
  is off, so its documents have no F0018 rows), domestic amounts, a US area split over two
  authorities (TXR1/STA1, TXR2/STA2).
Departures (sandbox simplifications): a domestic document's base currency BCRC is its customer's
currency (the order world bills each customer in its own currency from the same companies); F0018
has no UPMJ/UPMT in its key; no F03B112 audit rows, F0011 batches or F0911 lines.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from jde_stripe_pipeline.sandboxes.ais.seed_ar_ledger import (
    CURRENCY_DECIMALS,
    USD_PER_UNIT,
    Document,
    PayItem,
    ledger_rows,
    line_tax_fields,
    pay_items,
    q,
    random_stamp,
    row,
)
from jde_stripe_pipeline.sandboxes.ais.store import day_of, to_julian

__all__ = ["CURRENCY_DECIMALS", "Customer", "SalesInvoice", "ar_rows", "line_tax_fields"]

FIRST_HISTORY_INVOICE = 700001
FIRST_HISTORY_ORDER = 7001
FIRST_AR_ONLY_INVOICE = 800001
FIRST_CREDIT_MEMO = 950001
_REMARKS = ["Consulting retainer", "Freight recharge", "Annual maintenance", "Installation service"]
_HISTORY_ITEMS = [
    ("100-200", "Steel bracket", "EA"),
    ("220-010", "Hydraulic pump", "EA"),
    ("500-1", "Service hour", "HR"),
    ("610-42", "Packing crate", "EA"),
]


class Customer(Protocol):
    @property
    def an8(self) -> int: ...
    @property
    def companies(self) -> tuple[str, ...]: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class SalesInvoice:
    """An invoice Sales Update made from a sales order of the order world (its F4211 lines)."""

    doc: int
    company: str
    an8: int
    currency: str
    invoice_date: dt.date
    taxable: Decimal
    net: Decimal
    paid: bool
    stamp: tuple[int, int]


def _sales_documents(sales: Sequence[SalesInvoice]) -> Iterator[Document]:
    for index, invoice in enumerate(sales):
        parts = 2 if index % 4 == 1 else 1
        yield Document(
            invoice.doc,
            "RI",
            invoice.company,
            invoice.an8,
            invoice.currency,
            invoice.invoice_date,
            pay_items(
                invoice.net, invoice.taxable, invoice.currency, invoice.invoice_date + dt.timedelta(30), parts
            ),
            invoice.stamp,
            posted=index % 7 != 3,
            paid=invoice.paid,
        )


def _history(
    rng: random.Random, as_of: dt.date, customers: Sequence[Customer], count: int
) -> Iterator[tuple[str, tuple[Any, ...]] | Document]:
    """Invoices whose sales lines Purge Detail to History moved to F42119."""
    order = FIRST_HISTORY_ORDER
    for index in range(count):
        customer = customers[index % len(customers)] if index < 6 else rng.choice(customers)
        foreign = index % 5 == 2 and customer.currency != "USD"
        currency, decimals = customer.currency, CURRENCY_DECIMALS[customer.currency]
        stamp = random_stamp(rng, as_of)
        invoice_date = day_of(stamp[0]) - dt.timedelta(days=rng.randint(0, 5))
        doc = FIRST_HISTORY_INVOICE + index
        rate = USD_PER_UNIT.get(currency, Decimal(1))
        net = taxable = domestic_net = domestic_taxable = Decimal(0)
        for _ in range(2 if index % 6 == 4 else 1):
            for number in range(1, rng.randint(1, 4) + 1):
                item, description, unit = rng.choice(_HISTORY_ITEMS)
                quantity = rng.randint(1, 12)
                minor = rng.randint(100, 50000) * (10 if decimals == 3 else 1)
                price = Decimal(minor).scaleb(-decimals) if decimals else Decimal(minor // 100)
                amount = q(price * quantity, decimals)
                tax1, area, explanation = line_tax_fields(currency, item)
                domestic_price = q(price * rate, 4) if foreign else price
                domestic_amount = q(amount * rate, 2) if foreign else amount
                yield row(
                    "F42119",
                    KCOO="00001",
                    DOCO=order,
                    DCTO="SO",
                    LNID=f"{number}.000",
                    LITM=item,
                    DSC1=description,
                    UORG=str(quantity),
                    UOM=unit,
                    UPRC=format(domestic_price.quantize(Decimal("0.0001")), "f"),
                    AEXP=domestic_amount,
                    FUP=format(price.quantize(Decimal("0.0001")), "f") if foreign else "0",
                    FEA=amount if foreign else Decimal(0),
                    LTTR="620",
                    NXTR="999",
                    CRCD=currency,
                    IVD=to_julian(invoice_date),
                    DOC=doc,
                    DCT="RI",
                    KCO="00001",
                    TAX1=tax1,
                    TXA1=area,
                    EXR1=explanation,
                    UPMJ=stamp[0],
                    TDAY=stamp[1],
                )
                net += amount
                domestic_net += domestic_amount
                if tax1 == "Y":
                    taxable += amount
                    domestic_taxable += domestic_amount
            order += 1
        parts = 2 if index % 6 == 1 else 1
        items = pay_items(net, taxable, currency, invoice_date + dt.timedelta(days=30), parts)
        if foreign:
            items = tuple(
                PayItem(
                    item.net,
                    item.tax,
                    item.taxable,
                    item.due,
                    domestic_net=q(item.net * rate, 2),
                    domestic_tax=q(item.tax * rate, 2),
                    domestic_taxable=q(item.taxable * rate, 2),
                )
                for item in items
            )
        yield Document(
            doc,
            "RI",
            "00001",
            customer.an8,
            currency,
            invoice_date,
            items,
            stamp,
            posted=index % 9 != 8,
            voided=index % 8 == 6,
            reposted=True,
            foreign=foreign,
        )


def _ar_only(
    rng: random.Random, as_of: dt.date, customers: Sequence[Customer], count: int
) -> Iterator[Document]:
    """Invoices keyed in A/R directly: no sales lines, a remark per pay item."""
    for index in range(count):
        customer = customers[(index * 5 + 1) % len(customers)] if index < 6 else rng.choice(customers)
        decimals = CURRENCY_DECIMALS[customer.currency]
        stamp = random_stamp(rng, as_of)
        invoice_date = day_of(stamp[0]) - dt.timedelta(days=rng.randint(0, 3))
        items = []
        for number in range(index % 3 + 1):
            minor = rng.randint(1000, 200000) * (10 if decimals == 3 else 1)
            net = Decimal(minor).scaleb(-decimals) if decimals else Decimal(minor // 100)
            taxable = net if number != 1 else Decimal(0)
            remark = f"{rng.choice(_REMARKS)} {number + 1}"
            due = invoice_date + dt.timedelta(days=30 * (number + 1))
            items.append(pay_items(net, taxable, customer.currency, due, 1, remark)[0])
        yield Document(
            FIRST_AR_ONLY_INVOICE + index,
            "RI",
            customer.companies[index % len(customer.companies)],
            customer.an8,
            customer.currency,
            invoice_date,
            tuple(items),
            stamp,
            posted=index % 5 != 3,
            voided=index % 4 == 3,
        )


def _credit_memos(
    rng: random.Random, as_of: dt.date, originals: Sequence[Document], count: int
) -> Iterator[Document]:
    """Credit memos (RM) on posted domestic invoices, the last one with no original."""
    candidates = [d for d in originals if d.posted and not d.voided and not d.foreign and d.items[0].net > 0]
    for index in range(min(count, len(candidates))):
        original = candidates[(index * 7) % len(candidates)]
        decimals = CURRENCY_DECIMALS[original.currency]
        first = original.items[0]
        share = Decimal(rng.choice([10, 25, 50])) / 100
        net = -q(first.net * share, decimals)
        taxable = -q(max(first.taxable, Decimal(0)) * share, decimals)
        stamp = max(random_stamp(rng, as_of), original.stamp)  # credited after the invoice was posted
        memo_date = max(day_of(stamp[0]) - dt.timedelta(days=1), original.invoice_date)
        items = pay_items(net, taxable, original.currency, memo_date, 1, "Credit: damaged goods")
        link = (original.doc, original.dct, original.company) if index < count - 1 else (0, "", "")
        yield Document(
            FIRST_CREDIT_MEMO + index,
            "RM",
            original.company,
            original.an8,
            original.currency,
            memo_date,
            items,
            stamp,
            original=link,
        )


def ar_rows(
    spec_invoices: int,
    as_of: dt.date,
    rng: random.Random,
    customers: Sequence[Customer],
    sales: Sequence[SalesInvoice],
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every A/R row: sales-generated invoices, history invoices, A/R-only ones, credit memos, voids."""
    if not customers:
        return
    documents = list(_sales_documents(sales))
    for item in _history(rng, as_of, customers, max(6, spec_invoices // 4)):
        if isinstance(item, Document):
            documents.append(item)
        else:
            yield item
    documents += list(_ar_only(rng, as_of, customers, max(4, spec_invoices // 10)))
    documents += list(_credit_memos(rng, as_of, documents, max(3, spec_invoices // 15)))
    for document in documents:
        yield from ledger_rows(document)
