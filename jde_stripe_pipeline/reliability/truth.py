"""What Stripe must hold, computed from JDE's tables alone (the sandbox's admin row API).

Deliberately simple and separate from the pipeline: no `jde`, `mapping` or `sync` import, its own
currency table and its own joins, so that a defect shared by the extract and the mapping cannot hide
from the check. Each JDE record gets an expectation:
- a customer (an AN8 with an F03012 row): `synced` (exactly one Stripe customer) or `quarantined`
  (none), with the `TABLE.ALIAS` the oracle blames;
- an invoice (a document key with a header or a line): `billed` (exactly one Stripe draft with these
  lines and amounts in minor units), `absent` (nothing billable: no Stripe draft may remain) or
  `quarantined` (none, with the field blamed).
A scenario can override an expectation (`either`: a value Stripe may or may not take, e.g. control
characters in a name, where both a synced customer and a quarantine naming the field are right).

The window is everything: the harness's runs extract all of JDE (partition `reliability`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Rows = Callable[[str], list[dict[str, Any]]]

EXPONENTS: Mapping[str, int] = {
    **dict.fromkeys(("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "MXN", "NZD", "SGD"), 2),
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP", "XOF", "XAF"), 0),
    **dict.fromkeys(("KWD", "BHD", "JOD", "OMR", "TND"), 3),
}
"""Stripe's decimals for the currencies the scenarios use; three-decimal amounts must end in 0."""
MAX_MINOR = 99_999_999
"""Stripe's largest amount of one line, in minor units."""
CANCELLED = "980"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

CustomerState = Literal["synced", "quarantined", "either"]
InvoiceState = Literal["billed", "absent", "quarantined", "either"]


@dataclass(frozen=True)
class CustomerTruth:
    an8: int
    state: CustomerState
    name: str
    blamed: str | None = None
    """The field the oracle holds responsible when it expects a quarantine."""


@dataclass(frozen=True)
class InvoiceTruth:
    key: str
    """KCOO/DOCO/DCTO/SFXO."""
    state: InvoiceState
    customer_an8: int | None
    currency: str | None
    lines: Mapping[str, int] = field(default_factory=dict)
    """Canonical LNID (`1.000`) → amount in minor units, billable lines only."""
    blamed: str | None = None


@dataclass(frozen=True)
class Truth:
    customers: dict[int, CustomerTruth]
    invoices: dict[str, InvoiceTruth]

    @property
    def records(self) -> int:
        return len(self.customers) + len(self.invoices)


def doc_key(row: Mapping[str, Any]) -> str:
    return f"{row['KCOO']}/{row['DOCO']}/{row['DCTO']}/{row['SFXO']}"


def lnid_text(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.001')):f}"


def minor_units(amount: Any, currency: str) -> int | None:
    """The exact integer Stripe takes, or None when JDE's amount cannot be sent as it is."""
    exponent = EXPONENTS[currency]
    try:
        scaled = Decimal(str(amount)).scaleb(exponent)
    except InvalidOperation:
        return None
    if scaled != scaled.to_integral_value():
        return None
    minor = int(scaled)
    if (exponent == 3 and minor % 10) or abs(minor) > MAX_MINOR:
        return None
    return minor


def _stamped(row: Mapping[str, Any]) -> bool:
    return bool(row.get("UPMJ"))


def _group(
    rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]
) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _customer(an8: int, tables: Mapping[str, dict[Any, list[dict[str, Any]]]]) -> CustomerTruth:
    books = tables["F0101"].get(an8, [])
    name = books[0]["ALPH"].strip() if books else ""
    if not tables["F03012"].get(an8):
        return CustomerTruth(an8, "quarantined", name, "F03012.AN8")
    if not books:
        return CustomerTruth(an8, "quarantined", name, "F0101.AN8")
    if not name:
        return CustomerTruth(an8, "quarantined", name, "F0101.ALPH")
    if len(name) > 256:
        return CustomerTruth(an8, "quarantined", name, "F0101.ALPH")
    masters = sorted(tables["F03012"][an8], key=lambda r: r["CO"])
    currency = masters[0]["CRCD"].strip()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        return CustomerTruth(an8, "quarantined", name, "F03012.CRCD")
    emails = sorted(
        (r for r in tables["F01151"].get(an8, []) if r["ETP"].strip() == "E" and r["EMAL"].strip()),
        key=lambda r: (r["IDLN"], r["RCK7"]),
    )
    if emails and not EMAIL.match(emails[0]["EMAL"].strip()):
        return CustomerTruth(an8, "quarantined", name, "F01151.EMAL")
    return CustomerTruth(an8, "synced", name)


def _invoice(
    key: str,
    header: dict[str, Any] | None,
    lines: list[dict[str, Any]],
    books: Mapping[int, Any],
) -> InvoiceTruth:
    if header is None:
        return InvoiceTruth(key, "quarantined", None, None, blamed="F4301.DOCO")
    an8, currency = header["AN8"], header["CRCD"].strip()
    if currency not in EXPONENTS:
        return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4301.CRCD")
    if not header["TRDJ"]:
        return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4301.TRDJ")
    shan = header["SHAN"]
    if shan and shan != an8 and shan not in books:
        return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4301.SHAN")
    if shan and shan != an8 and not books[shan][0]["ALPH"].strip():
        return InvoiceTruth(key, "quarantined", an8, currency, blamed="F0101.ALPH")  # a nameless recipient
    billable: dict[str, int] = {}
    for line in sorted(lines, key=lambda r: Decimal(str(r["LNID"]))):
        line_currency = line["CRCD"].strip()
        if line_currency and line_currency != currency:
            return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4311.CRCD")
        if line["LTTR"].strip() == CANCELLED:
            continue
        minor = minor_units(line["AEXP"], currency)
        if minor is None:
            return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4311.AEXP")
        billable[lnid_text(line["LNID"])] = minor
    if len(billable) > 250:
        return InvoiceTruth(key, "quarantined", an8, currency, blamed="F4311.LNID")
    if not billable:
        return InvoiceTruth(key, "absent", an8, currency)
    return InvoiceTruth(key, "billed", an8, currency, billable)


def jde_truth(rows: Rows) -> Truth:
    """Every JDE customer and purchase-order invoice with a stamped row, with what Stripe must hold."""
    tables = {
        name: _group(rows(name), lambda r: r["AN8"])
        for name in ("F03012", "F0101", "F0116", "F01151", "F0115")
    }
    changed = {an8 for table in tables.values() for an8, found in table.items() if any(map(_stamped, found))}
    headers = {doc_key(r): r for r in rows("F4301")}
    lines = _group(rows("F4311"), doc_key)
    keys = {k for k, h in headers.items() if _stamped(h)} | {
        k for k, found in lines.items() if any(map(_stamped, found))
    }
    invoices = {k: _invoice(k, headers.get(k), lines.get(k, []), tables["F0101"]) for k in sorted(keys)}
    customers = {an8: _customer(an8, tables) for an8 in changed if tables["F03012"].get(an8)}
    for invoice in invoices.values():
        if invoice.customer_an8 is not None and invoice.state != "quarantined":
            an8 = invoice.customer_an8
            customer = customers.setdefault(an8, _customer(an8, tables))
            if customer.state == "quarantined":
                invoices[invoice.key] = InvoiceTruth(
                    invoice.key, "quarantined", an8, invoice.currency, blamed=customer.blamed
                )
    return Truth(customers, invoices)


def overridden(
    truth: Truth, customers: Mapping[int, CustomerState], invoices: Mapping[str, InvoiceState]
) -> Truth:
    """The truth with a scenario's own expectations for the records it planted."""
    new_customers = dict(truth.customers)
    for an8, customer_state in customers.items():
        old = new_customers[an8]
        new_customers[an8] = CustomerTruth(an8, customer_state, old.name, old.blamed)
    new_invoices = dict(truth.invoices)
    for key, invoice_state in invoices.items():
        old_invoice = new_invoices[key]
        new_invoices[key] = InvoiceTruth(
            key,
            invoice_state,
            old_invoice.customer_an8,
            old_invoice.currency,
            old_invoice.lines,
            old_invoice.blamed,
        )
    return Truth(new_customers, new_invoices)
