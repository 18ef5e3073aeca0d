"""The A/R world's ledger model: tax areas, pay items and documents, and their F03B11/F0018 rows.

`seed_ar` decides which documents exist; this module says what JDE writes for one (amounts per pay
item in the currency's decimals, tax by area, voids, F0018 by authority for the companies whose post
writes it). See `seed_ar`'s docstring for the world and its simplifications.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jde_stripe_pipeline.sandboxes.ais.store import to_julian
from jde_stripe_pipeline.sandboxes.ais.tables import TABLES, Kind

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


def line_tax_fields(currency: str, item: str) -> tuple[str, str, str]:
    """A sales line's TAX1, TXA1, EXR1: the customer's area; a service hour is not taxable."""
    area, explanation, _ = TAX_AREAS[currency]
    return ("N" if item in NOT_TAXABLE_ITEMS else "Y", area, explanation)


def q(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def tax_on(taxable: Decimal, currency: str) -> Decimal:
    """The tax JDE computes on a taxable amount (KWD rounded to hundredths: Stripe's minor unit ends in 0)."""
    rate = sum(TAX_AREAS[currency][2], Decimal(0))
    decimals = min(CURRENCY_DECIMALS[currency], 2)
    return q(taxable * rate / 100, decimals).quantize(Decimal(1).scaleb(-CURRENCY_DECIMALS[currency]))


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


def random_stamp(rng: random.Random, as_of: dt.date) -> tuple[int, int]:
    day = as_of - dt.timedelta(days=rng.randint(1, 28))
    seconds = rng.randrange(86400)
    return to_julian(day), (seconds // 3600) * 10000 + (seconds % 3600 // 60) * 100 + seconds % 60


@dataclass(frozen=True)
class PayItem:
    net: Decimal
    tax: Decimal
    taxable: Decimal
    due: dt.date
    remark: str = ""
    domestic_net: Decimal | None = None
    domestic_tax: Decimal | None = None
    domestic_taxable: Decimal | None = None


@dataclass(frozen=True)
class Document:
    doc: int
    dct: str
    company: str
    an8: int
    currency: str
    invoice_date: dt.date
    items: tuple[PayItem, ...]
    stamp: tuple[int, int]
    posted: bool = True
    voided: bool = False
    reposted: bool = False
    """A voided document whose batch was posted again (POST `D`); else POST stays blank."""
    paid: bool = False
    foreign: bool = False
    original: tuple[int, str, str] = (0, "", "")


def split(amount: Decimal, parts: int, decimals: int) -> list[Decimal]:
    """`amount` in `parts` shares of the currency's step; the last takes the remainder."""
    share = q(amount / parts, decimals)
    return [*([share] * (parts - 1)), amount - share * (parts - 1)]


def pay_items(
    net: Decimal, taxable: Decimal, currency: str, due: dt.date, parts: int, remark: str = ""
) -> tuple[PayItem, ...]:
    decimals = min(CURRENCY_DECIMALS[currency], 2)  # KWD shares stay whole hundredths (Stripe's step)
    tax = tax_on(taxable, currency)
    nets, taxes, bases = (split(x, parts, decimals) for x in (net, tax, taxable))
    return tuple(
        PayItem(n, t, b, due + dt.timedelta(days=30 * index), remark)
        for index, (n, t, b) in enumerate(zip(nets, taxes, bases, strict=True))
    )


def ledger_rows(document: Document) -> Iterator[tuple[str, tuple[Any, ...]]]:
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


def _f0018(document: Document, pay_item: int, tax: Decimal) -> tuple[str, tuple[Any, ...]]:
    area, explanation, rates = TAX_AREAS[document.currency]
    total_rate = sum(rates, Decimal(0))
    decimals = CURRENCY_DECIMALS[document.currency]
    shares = [q(tax * rate / total_rate, decimals) for rate in rates]
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
