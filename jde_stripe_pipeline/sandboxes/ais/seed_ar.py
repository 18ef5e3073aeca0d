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
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from jde_stripe_pipeline.sandboxes.ais.store import TABLES, Kind, to_julian

CURRENCY_DECIMALS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "JPY": 0, "KWD": 3}
TAX_AREAS: dict[str, tuple[str, str, tuple[Decimal, ...]]] = {
    "USD": ("IL-COOK", "S", (Decimal("6.250"), Decimal("2.000"))),
    "EUR": ("DE-VAT19", "V", (Decimal("19.000"),)),
    "GBP": ("GB-VAT20", "V", (Decimal("20.000"),)),
    "CAD": ("CA-GST", "V", (Decimal("5.000"),)),
    "JPY": ("JP-CT10", "V", (Decimal("10.000"),)),
    "KWD": ("KW-VAT5", "V", (Decimal("5.000"),)),
}
"""Tax area, explanation code and the authorities' rates (percent) by the customer's currency."""
USD_PER_UNIT = {
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.74"),
    "JPY": Decimal("0.0067"),
    "KWD": Decimal("3.25"),
}
NOT_TAXABLE_ITEMS = frozenset({"500-1"})
F0018_COMPANIES = frozenset({"00001"})
"""Companies whose G/L post writes F0018 (R09801's tax option)."""
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


def line_tax_fields(currency: str, item: str) -> tuple[str, str, str]:
    """A sales line's TAX1, TXA1, EXR1: the customer's area; a service hour is not taxable."""
    area, explanation, _ = TAX_AREAS[currency]
    return ("N" if item in NOT_TAXABLE_ITEMS else "Y", area, explanation)


def _q(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def tax_on(taxable: Decimal, currency: str) -> Decimal:
    """The tax JDE computes on a taxable amount (KWD rounded to hundredths: Stripe's minor unit ends in 0)."""
    rate = sum(TAX_AREAS[currency][2], Decimal(0))
    decimals = min(CURRENCY_DECIMALS[currency], 2)
    return _q(taxable * rate / 100, decimals).quantize(Decimal(1).scaleb(-CURRENCY_DECIMALS[currency]))


def row(table: str, **values: Any) -> tuple[str, tuple[Any, ...]]:
    """A row in the table's column order, in stored form; columns not given are blank/zero."""
    spec = TABLES[table]
    blank = {Kind.STRING: "", Kind.DECIMAL: "0"}
    out = []
    for column in spec.columns:
        value = values.pop(column.alias, blank.get(column.kind, 0))
        out.append(format(value, "f") if isinstance(value, Decimal) else value)
    if values:
        raise KeyError(f"{table}: no column(s) {sorted(values)}")
    return table, tuple(out)


def _stamp(rng: random.Random, as_of: dt.date) -> tuple[int, int]:
    day = as_of - dt.timedelta(days=rng.randint(1, 28))
    seconds = rng.randrange(86400)
    return to_julian(day), (seconds // 3600) * 10000 + (seconds % 3600 // 60) * 100 + seconds % 60


def _day(julian: int) -> dt.date:
    return dt.date(1900 + julian // 1000, 1, 1) + dt.timedelta(days=julian % 1000 - 1)


@dataclass(frozen=True)
class _PayItem:
    net: Decimal
    tax: Decimal
    taxable: Decimal
    due: dt.date
    remark: str = ""
    domestic_net: Decimal | None = None
    domestic_tax: Decimal | None = None
    domestic_taxable: Decimal | None = None


@dataclass(frozen=True)
class _Document:
    doc: int
    dct: str
    company: str
    an8: int
    currency: str
    invoice_date: dt.date
    items: tuple[_PayItem, ...]
    stamp: tuple[int, int]
    posted: bool = True
    voided: bool = False
    reposted: bool = False
    """A voided document whose batch was posted again (POST `D`); else POST stays blank."""
    paid: bool = False
    foreign: bool = False
    original: tuple[int, str, str] = (0, "", "")


def _split(amount: Decimal, parts: int, decimals: int) -> list[Decimal]:
    """`amount` in `parts` shares of the currency's step; the last takes the remainder."""
    share = _q(amount / parts, decimals)
    return [*([share] * (parts - 1)), amount - share * (parts - 1)]


def _items(
    net: Decimal, taxable: Decimal, currency: str, due: dt.date, parts: int, remark: str = ""
) -> tuple[_PayItem, ...]:
    decimals = min(CURRENCY_DECIMALS[currency], 2)  # KWD shares stay whole hundredths (Stripe's step)
    tax = tax_on(taxable, currency)
    nets, taxes, bases = (_split(x, parts, decimals) for x in (net, tax, taxable))
    return tuple(
        _PayItem(n, t, b, due + dt.timedelta(days=30 * index), remark)
        for index, (n, t, b) in enumerate(zip(nets, taxes, bases, strict=True))
    )


def _ledger_rows(document: _Document) -> Iterator[tuple[str, tuple[Any, ...]]]:
    area, explanation, _ = TAX_AREAS[document.currency]
    decimals = CURRENCY_DECIMALS[document.currency]
    upmj, upmt = document.stamp
    for index, item in enumerate(document.items, start=1):
        gross, tax, taxable = item.net + item.tax, item.tax, item.taxable
        foreign: dict[str, Any] = {}
        base = document.currency
        if document.foreign:
            foreign = {"ACR": gross, "CTAM": tax, "CTXA": taxable, "CRRM": "F"}
            base = "USD"
            assert item.domestic_net is not None and item.domestic_tax is not None
            gross, tax = item.domestic_net + item.domestic_tax, item.domestic_tax
            taxable = item.domestic_taxable or Decimal(0)
            decimals = 2
        else:
            foreign = {"CRRM": "D"}
        step = Decimal(1).scaleb(-decimals)
        zero = Decimal(0).quantize(step)
        gross, tax, taxable = (amount.quantize(step) for amount in (gross, tax, taxable))
        if document.foreign:
            scale = Decimal(1).scaleb(-CURRENCY_DECIMALS[document.currency])
            foreign.update({k: v.quantize(scale) for k, v in foreign.items() if isinstance(v, Decimal)})
        void: dict[str, Any] = {}
        if document.voided:
            void = {"ISTR": "1", "VOD": "V", "VDGJ": upmj}
            gross = tax = taxable = zero
            if document.foreign:
                foreign.update(ACR=Decimal(0), CTAM=Decimal(0), CTXA=Decimal(0))
        pay_status = "P" if document.voided or document.paid else "A"
        posted = document.posted and (document.reposted or not document.voided)
        yield row(
            "F03B11",
            DOC=document.doc,
            DCT=document.dct,
            KCO=document.company,
            SFX=f"{index:03d}",
            AN8=document.an8,
            DIVJ=to_julian(document.invoice_date),
            DDJ=to_julian(item.due),
            AG=gross,
            AAP=zero if pay_status == "P" else gross,
            STAM=tax,
            ATXA=taxable,
            BCRC=base,
            CRCD=document.currency,
            TXA1=area if item.tax else "",
            EXR1=explanation if item.tax else "",
            RMK=item.remark,
            ODOC=document.original[0],
            ODCT=document.original[1],
            OKCO=document.original[2],
            POST="D" if posted else "",
            PST=pay_status,
            UPMJ=upmj,
            UPMT=upmt,
            **foreign,
            **void,
        )
        writes_f0018 = document.company in F0018_COMPANIES and not document.foreign
        if posted and writes_f0018 and not document.voided and item.tax:
            yield _f0018(document, index, item.tax)


def _f0018(document: _Document, pay_item: int, tax: Decimal) -> tuple[str, tuple[Any, ...]]:
    area, explanation, rates = TAX_AREAS[document.currency]
    total_rate = sum(rates, Decimal(0))
    decimals = CURRENCY_DECIMALS[document.currency]
    shares = [_q(tax * rate / total_rate, decimals) for rate in rates]
    shares[-1] = tax - sum(shares[:-1], Decimal(0))
    authorities: dict[str, Any] = {}
    for number, (rate, share) in enumerate(zip(rates, shares, strict=True), start=1):
        authorities[f"TXR{number}"] = rate
        authorities[f"STA{number}"] = share
    upmj, upmt = document.stamp
    return row(
        "F0018",
        DOCO=document.doc,
        DCTO=document.dct,
        KCOO=document.company,
        SFXO=f"{pay_item:03d}",
        LNID="1.000",
        TXA1=area,
        EXR1=explanation,
        UPMJ=upmj,
        UPMT=upmt,
        **authorities,
    )


def _sales_documents(sales: Sequence[SalesInvoice]) -> Iterator[_Document]:
    for index, invoice in enumerate(sales):
        parts = 2 if index % 4 == 1 else 1
        yield _Document(
            invoice.doc,
            "RI",
            invoice.company,
            invoice.an8,
            invoice.currency,
            invoice.invoice_date,
            _items(
                invoice.net, invoice.taxable, invoice.currency, invoice.invoice_date + dt.timedelta(30), parts
            ),
            invoice.stamp,
            posted=index % 7 != 3,
            paid=invoice.paid,
        )


def _history(
    rng: random.Random, as_of: dt.date, customers: Sequence[Customer], count: int
) -> Iterator[tuple[str, tuple[Any, ...]] | _Document]:
    """Invoices whose sales lines Purge Detail to History moved to F42119."""
    order = FIRST_HISTORY_ORDER
    for index in range(count):
        customer = customers[index % len(customers)] if index < 6 else rng.choice(customers)
        foreign = index % 5 == 2 and customer.currency != "USD"
        currency, decimals = customer.currency, CURRENCY_DECIMALS[customer.currency]
        stamp = _stamp(rng, as_of)
        invoice_date = _day(stamp[0]) - dt.timedelta(days=rng.randint(0, 5))
        doc = FIRST_HISTORY_INVOICE + index
        rate = USD_PER_UNIT.get(currency, Decimal(1))
        net = taxable = domestic_net = domestic_taxable = Decimal(0)
        for _ in range(2 if index % 6 == 4 else 1):
            for number in range(1, rng.randint(1, 4) + 1):
                item, description, unit = rng.choice(_HISTORY_ITEMS)
                quantity = rng.randint(1, 12)
                minor = rng.randint(100, 50000) * (10 if decimals == 3 else 1)
                price = Decimal(minor).scaleb(-decimals) if decimals else Decimal(minor // 100)
                amount = _q(price * quantity, decimals)
                tax1, area, explanation = line_tax_fields(currency, item)
                domestic_price = _q(price * rate, 4) if foreign else price
                domestic_amount = _q(amount * rate, 2) if foreign else amount
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
        items = _items(net, taxable, currency, invoice_date + dt.timedelta(days=30), parts)
        if foreign:
            items = tuple(
                _PayItem(
                    item.net,
                    item.tax,
                    item.taxable,
                    item.due,
                    domestic_net=_q(item.net * rate, 2),
                    domestic_tax=_q(item.tax * rate, 2),
                    domestic_taxable=_q(item.taxable * rate, 2),
                )
                for item in items
            )
        yield _Document(
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
) -> Iterator[_Document]:
    """Invoices keyed in A/R directly: no sales lines, a remark per pay item."""
    for index in range(count):
        customer = customers[(index * 5 + 1) % len(customers)] if index < 6 else rng.choice(customers)
        decimals = CURRENCY_DECIMALS[customer.currency]
        stamp = _stamp(rng, as_of)
        invoice_date = _day(stamp[0]) - dt.timedelta(days=rng.randint(0, 3))
        items = []
        for number in range(index % 3 + 1):
            minor = rng.randint(1000, 200000) * (10 if decimals == 3 else 1)
            net = Decimal(minor).scaleb(-decimals) if decimals else Decimal(minor // 100)
            taxable = net if number != 1 else Decimal(0)
            remark = f"{rng.choice(_REMARKS)} {number + 1}"
            due = invoice_date + dt.timedelta(days=30 * (number + 1))
            items.append(_items(net, taxable, customer.currency, due, 1, remark)[0])
        yield _Document(
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
    rng: random.Random, as_of: dt.date, originals: Sequence[_Document], count: int
) -> Iterator[_Document]:
    """Credit memos (RM) on posted domestic invoices, the last one with no original."""
    candidates = [d for d in originals if d.posted and not d.voided and not d.foreign and d.items[0].net > 0]
    for index in range(min(count, len(candidates))):
        original = candidates[(index * 7) % len(candidates)]
        decimals = CURRENCY_DECIMALS[original.currency]
        first = original.items[0]
        share = Decimal(rng.choice([10, 25, 50])) / 100
        net = -_q(first.net * share, decimals)
        taxable = -_q(max(first.taxable, Decimal(0)) * share, decimals)
        stamp = max(_stamp(rng, as_of), original.stamp)  # credited after the invoice was posted
        memo_date = max(_day(stamp[0]) - dt.timedelta(days=1), original.invoice_date)
        items = _items(net, taxable, original.currency, memo_date, 1, "Credit: damaged goods")
        link = (original.doc, original.dct, original.company) if index < count - 1 else (0, "", "")
        yield _Document(
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
        if isinstance(item, _Document):
            documents.append(item)
        else:
            yield item
    documents += list(_ar_only(rng, as_of, customers, max(4, spec_invoices // 10)))
    documents += list(_credit_memos(rng, as_of, documents, max(3, spec_invoices // 15)))
    for document in documents:
        yield from _ledger_rows(document)
