"""Deterministic seed data: the same (seed, customers, invoices, as_of) always gives the same rows.

The data is shaped to exercise what a real JDE throws at the pipeline: customers in two companies,
address history with a future address, several phones and e-mails, non-ASCII names, invoices of
1-60 lines in currencies with 0, 2 and 3 decimals, credit lines, cancelled lines (LTTR 980), ship-to
parties that are other customers, update stamps spread over the 28 days before `as_of`.

About one order in five ships to another customer (SHAN ≠ AN8); in the sales orders (F4201) that is
what gives those sold-to customers a ship-to when `JDE_STRIPE_SHIP_TO_SOURCE=ship_to` (5 of the 20
customers of the sync tests' world, seed 7 with 40 orders). Tests that need a dedicated ship-to
address (not itself a customer) add its F0101/F0116 rows through the admin API.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.seed_ar import (
    CURRENCY_DECIMALS,
    SalesInvoice,
    ar_rows,
    line_tax_fields,
)
from jde_stripe_pipeline.sandboxes.ais.store import Store, to_julian
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES

__all__ = ["CURRENCY_DECIMALS", "FIRST_AN8", "FIRST_PO", "FIRST_SO", "SeedSpec", "seed_store"]
_CURRENCY_WEIGHTS = {"USD": 50, "EUR": 15, "GBP": 10, "CAD": 10, "JPY": 8, "KWD": 7}
_COUNTRY = {"USD": "US", "EUR": "DE", "GBP": "GB", "CAD": "CA", "JPY": "JP", "KWD": "KW"}
_CITIES = {
    "US": [("Chicago", "IL", "60601"), ("Denver", "CO", "80202"), ("Austin", "TX", "73301")],
    "DE": [("München", "BY", "80331"), ("Köln", "NW", "50667"), ("Düsseldorf", "NW", "40213")],
    "GB": [("London", "", "EC1A 1BB"), ("Leeds", "", "LS1 4DY")],
    "CA": [("Montréal", "QC", "H2Y 1C6"), ("Toronto", "ON", "M5H 2N2")],
    "JP": [("東京", "13", "100-0001"), ("大阪", "27", "530-0001")],
    "KW": [("Kuwait City", "", "13001"), ("Hawalli", "", "32001")],
}
_STREETS = ["Main Street", "Oak Avenue", "Industriestraße", "Rue de l'Église", "Harbour Road", "Elm Way"]
_NAME_FIRST = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
]
_NAME_LAST = ["Industries", "Supply", "Trading", "Holdings", "Logistics", "Partners", "Foods", "Works"]
_NON_ASCII_NAMES = [
    "Müller & Söhne GmbH",
    "Café Élégant SARL",
    "Bjørn Ås Fiskeri",
    "日本精工株式会社",
    "Łódź Ceramika Sp. z o.o.",
    "Ñandú Exportaciones",
]
_ITEMS = [
    ("100-200", "Steel bracket", "EA"),
    ("220-010", "Hydraulic pump", "EA"),
    ("310-5", "Copper wire 2.5mm", "M"),
    ("400-77", "Crème solvent", "L"),
    ("500-1", "Service hour", "HR"),
    ("610-42", "Packing crate", "EA"),
    ("720-9", "Ölfilter Typ B", "EA"),
]
_TERMS = ["N30", "N45", "N15", "N10", ""]

FIRST_AN8 = 10001
FIRST_PO = 1001
FIRST_SO = 5001
FIRST_AR_INVOICE = 900001


@dataclass(frozen=True)
class SeedSpec:
    seed: int
    customers: int
    invoices: int
    as_of: dt.date


def _stamp(rng: random.Random, as_of: dt.date) -> tuple[int, int]:
    """A (UPMJ, HHMMSS) pair 1-28 days before as_of."""
    day = as_of - dt.timedelta(days=rng.randint(1, 28))
    seconds = rng.randrange(86400)
    return to_julian(day), (seconds // 3600) * 10000 + (seconds % 3600 // 60) * 100 + seconds % 60


def _money(rng: random.Random, low: int, high: int, decimals: int) -> Decimal:
    """A random amount with exactly `decimals` places (JPY whole, KWD three)."""
    minor = rng.randint(low * 10**decimals, high * 10**decimals)
    if decimals == 3:
        # Seeded three-decimal amounts are whole hundredths, which Stripe can take: its minor amount in a
        # three-decimal currency must end in 0. Tests that need the quarantine path write such a row.
        minor -= minor % 10
    return Decimal(minor).scaleb(-decimals)


@dataclass(frozen=True)
class _Customer:
    """A seeded customer as the order seeders need it: who bills it, in which currency, on which terms."""

    an8: int
    companies: tuple[str, ...]
    currency: str
    terms: str


def _customers(spec: SeedSpec, rng: random.Random) -> Iterator[tuple[str, tuple[Any, ...]] | _Customer]:
    as_of = spec.as_of
    for index in range(spec.customers):
        an8 = FIRST_AN8 + index
        currency = rng.choices(list(_CURRENCY_WEIGHTS), weights=list(_CURRENCY_WEIGHTS.values()))[0]
        if index < len(CURRENCY_DECIMALS):
            currency = list(CURRENCY_DECIMALS)[index]  # every currency present even in a tiny seed
        country = _COUNTRY[currency]
        companies = ("00001", "00200") if index % 5 == 2 else ("00001",)
        terms = rng.choice(_TERMS)
        if index % 9 == 4:
            name = _NON_ASCII_NAMES[(index // 9) % len(_NON_ASCII_NAMES)]
        else:
            name = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_LAST)} {an8}"
        upmj, upmt = _stamp(rng, as_of)
        tax = f"{rng.randrange(10**8, 10**9)}" if index % 3 else ""
        yield "F0101", (an8, name, f"C{an8}", tax, "C", rng.choice(["", "", "E", "F", "G"]), upmj, upmt)
        for company in companies:
            upmj, upmt = _stamp(rng, as_of)
            credit = _money(rng, 0, 50, 0) * 1000
            hold = "C1" if rng.random() < 0.05 else ""
            yield (
                "F03012",
                (an8, company, currency, terms, str(credit), hold, upmj, upmt, "JDE", "P03013", "SANDBOX"),
            )
        # Address history: 1-3 past addresses (the oldest sometimes with a blank EFTB), one future one.
        history = 1 + (index % 4 == 1) + (index % 8 == 1)
        starts = sorted({rng.randint(30, 2000) for _ in range(history)}, reverse=True)
        eftbs = [to_julian(as_of - dt.timedelta(days=d)) for d in starts]
        if index % 6 == 5:
            eftbs[0] = 0
        if index % 13 == 3:
            eftbs.append(to_julian(as_of + dt.timedelta(days=rng.randint(5, 90))))
        for eftb in eftbs:
            city, state, postal = rng.choice(_CITIES[country])
            upmj, upmt = _stamp(rng, as_of)
            line1 = f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}"
            line2 = f"Suite {rng.randint(100, 999)}" if rng.random() < 0.3 else ""
            county = "Cook" if city == "Chicago" else ""
            yield "F0116", (an8, eftb, line1, line2, "", "", city, state, postal, country, county, upmj, upmt)
        for line, phone_type in enumerate(["", "FAX", "HOM"][: 1 + index % 3], start=1):
            upmj, upmt = _stamp(rng, as_of)
            number = f"555-{rng.randrange(10000):04d}"
            yield "F0115", (an8, 0, line, phone_type, f"{rng.randint(201, 989)}", number, upmj, upmt)
        for line in range(1, 1 + index % 3):
            upmj, upmt = _stamp(rng, as_of)
            address = f"{'ap' if line == 1 else 'billing'}.{an8}@example.com"
            yield "F01151", (an8, 0, line, "E", address, upmj, upmt)
        yield _Customer(an8, companies, currency, terms)


def _orders(
    spec: SeedSpec, rng: random.Random, customers: list[_Customer], sales: bool
) -> Iterator[tuple[str, tuple[Any, ...]] | SalesInvoice]:
    """Purchase orders (F4301/F4311, OP) or sales orders (F4201/F4211, SO, some invoiced: the
    `SalesInvoice`s the A/R world turns into F03B11 documents, see `seed_ar`)."""
    header_table, detail_table = ("F4201", "F4211") if sales else ("F4301", "F4311")
    order_type = "SO" if sales else "OP"
    first = FIRST_SO if sales else FIRST_PO
    for index in range(spec.invoices if customers else 0):
        customer = customers[rng.randrange(len(customers))]
        if index < len(CURRENCY_DECIMALS):
            customer = customers[index % len(customers)]  # an order in every currency even in a tiny seed
        company = rng.choice(customer.companies)
        decimals = CURRENCY_DECIMALS[customer.currency]
        ship_to = customer.an8
        if rng.random() < 0.2 and len(customers) > 1:
            ship_to = customers[rng.randrange(len(customers))].an8
        upmj, tday = _stamp(rng, spec.as_of)
        updated = dt.date(1900 + upmj // 1000, 1, 1) + dt.timedelta(days=upmj % 1000 - 1)
        ordered = updated - dt.timedelta(days=rng.randint(0, 60))
        requested = ordered + dt.timedelta(days=rng.randint(0, 30))
        if index == 1:
            line_count = 60
        else:
            draw = rng.random()
            line_count = (
                rng.randint(1, 5)
                if draw < 0.7
                else rng.randint(6, 20)
                if draw < 0.95
                else rng.randint(21, 60)
            )
        invoiced = sales and rng.random() < 0.6
        invoice_number = FIRST_AR_INVOICE + index if invoiced else 0
        invoice_date = ordered + dt.timedelta(days=rng.randint(1, 10)) if invoiced else None
        total = taxable = Decimal(0)
        doco = first + index
        for number in range(1, line_count + 1):
            item, description, unit = rng.choice(_ITEMS)
            quantity = rng.randint(1, 20)
            if number > 1 and rng.random() < 0.05:
                quantity = -quantity  # a credit line
            price = _money(rng, 1, 500 if decimals else 50000, decimals)
            amount = (price * quantity).quantize(Decimal(1).scaleb(-decimals))
            cancelled = rng.random() < 0.03
            last_status, next_status = ("980", "999") if cancelled else ("400", "999")
            tax_fields = line_tax_fields(customer.currency, item)
            if not cancelled:
                total += amount
                taxable += amount if tax_fields[0] == "Y" else 0
            line_upmj, line_tday = (upmj, tday) if rng.random() < 0.8 else _stamp(rng, spec.as_of)
            line_upmj = min(line_upmj, upmj)
            common = (
                company,
                doco,
                order_type,
                "000",
                f"{number}.000",
                item,
                description,
                "",
                str(quantity),
                unit,
            )
            price_text = str(price.quantize(Decimal("0.0001")))
            if sales:
                yield (
                    detail_table,
                    (
                        *common,
                        price_text,
                        str(amount),
                        "0",
                        "0",
                        last_status,
                        next_status,
                        customer.currency,
                        to_julian(invoice_date) if invoice_date else 0,
                        invoice_number,
                        "RI" if invoiced else "",
                        company if invoiced else "",
                        *tax_fields,
                        line_upmj,
                        line_tday,
                    ),
                )
            else:
                yield (
                    detail_table,
                    (
                        *common,
                        price_text,
                        str(amount),
                        last_status,
                        next_status,
                        customer.currency,
                        line_upmj,
                        line_tday,
                    ),
                )
        yield (
            header_table,
            (
                company,
                doco,
                order_type,
                "000",
                customer.an8,
                ship_to,
                to_julian(ordered),
                to_julian(requested),
                str(total.quantize(Decimal(1).scaleb(-decimals))),
                customer.currency,
                customer.terms,
                upmj,
                tday,
            ),
        )
        if invoiced and invoice_date is not None:
            paid = rng.random() >= 0.5  # the draw that once chose the open amount: the stream stays as it was
            scale = Decimal(1).scaleb(-decimals)
            yield SalesInvoice(
                invoice_number,
                company,
                customer.an8,
                customer.currency,
                invoice_date,
                taxable.quantize(scale),
                total.quantize(scale),
                paid,
                (upmj, tday),
            )


def _insert_batched(
    store: Store, connection: sqlite3.Connection, rows: Iterator[Any], found: list[Any] | None = None
) -> list[_Customer]:
    """Insert the rows; `_Customer`s (and `SalesInvoice`s, into `found`) are collected, not inserted."""
    customers: list[_Customer] = []
    pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    for item in rows:
        if isinstance(item, _Customer):
            customers.append(item)
            continue
        if isinstance(item, SalesInvoice):
            assert found is not None
            found.append(item)
            continue
        name, row = item
        batch = pending[name]
        batch.append(row)
        if len(batch) >= 20000:
            store.insert_many(connection, TABLES[name], batch)
            batch.clear()
    for name, batch in pending.items():
        if batch:
            store.insert_many(connection, TABLES[name], batch)
    return customers


def seed_store(store: Store, spec: SeedSpec) -> None:
    """Replaces every table's rows with the seeded data, in one transaction."""
    with store.transaction() as connection:
        for table in TABLES.values():
            connection.execute(f'DELETE FROM "{table.name}"')
        customers = _insert_batched(
            store, connection, _customers(spec, random.Random(f"{spec.seed}:customers"))
        )
        _insert_batched(
            store, connection, _orders(spec, random.Random(f"{spec.seed}:po"), customers, sales=False)
        )
        sales: list[SalesInvoice] = []
        _insert_batched(
            store, connection, _orders(spec, random.Random(f"{spec.seed}:so"), customers, sales=True), sales
        )
        ar_rng = random.Random(f"{spec.seed}:ar")
        _insert_batched(store, connection, ar_rows(spec.invoices, spec.as_of, ar_rng, customers, sales))
