"""Small builders for JDE records: a valid default, overridden per test."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jde_stripe_pipeline.jde.profiles import invoice_profile
from jde_stripe_pipeline.jde.records import (
    JdeAddress,
    JdeCustomer,
    JdeDocumentKey,
    JdeInvoice,
    JdeInvoiceLine,
    JdeParty,
)
from jde_stripe_pipeline.mapping import InvoiceMappingConfig, InvoiceRequest, MappingFailure, map_invoice

STAMP = datetime(2026, 11, 20, 9, 30, 15)


def address(**overrides: Any) -> JdeAddress:
    values: dict[str, Any] = {
        "lines": ("100 Main Street", "Suite 200", "Building B"),
        "city": "Chicago",
        "state": "IL",
        "postal_code": "60601",
        "country": "US",
    }
    values.update(overrides)
    return JdeAddress(**values)


def customer(**overrides: Any) -> JdeCustomer:
    values: dict[str, Any] = {
        "an8": 10001,
        "company": "00001",
        "name": "Acme Industries",
        "email": "billing@acme.example",
        "phone": "312 555-0100",
        "address": address(),
        "language": "E",
        "updated_at": STAMP,
    }
    values.update(overrides)
    return JdeCustomer(**values)


def line(lnid: str = "1.000", amount: str = "37.50", **overrides: Any) -> JdeInvoiceLine:
    values: dict[str, Any] = {
        "lnid": Decimal(lnid),
        "item": "100-200",
        "description": "Steel bracket",
        "quantity": Decimal("3.0000"),
        "unit_of_measure": "EA",
        "unit_price": Decimal("12.5000"),
        "amount": Decimal(amount),
        "updated_at": STAMP,
    }
    values.update(overrides)
    return JdeInvoiceLine(**values)


def invoice(*lines: JdeInvoiceLine, **overrides: Any) -> JdeInvoice:
    values: dict[str, Any] = {
        "profile": "purchase_order",
        "key": JdeDocumentKey(kcoo="00070", doco=1001, dcto="OP"),
        "an8": 10001,
        "ship_to": JdeParty(an8=20002, name="Acme Warehouse", address=address(lines=("9 Dock Road",))),
        "document_date": date(2026, 11, 20),
        "currency": "USD",
        "total": sum((candidate.amount for candidate in lines), Decimal(0)),
        "payment_terms": "N30",
        "lines": lines or (line(),),
        "updated_at": STAMP,
    }
    if not lines:
        values["total"] = Decimal("37.50")
    values.update(overrides)
    profile = invoice_profile(values["profile"])  # the record carries its profile's tables
    values.setdefault("header_table", profile.header_table)
    values.setdefault("detail_table", profile.detail_table)
    return JdeInvoice(**values)


CONFIG = InvoiceMappingConfig()


def mapped(record: JdeInvoice, config: InvoiceMappingConfig = CONFIG) -> InvoiceRequest:
    """The invoice's request, asserting it mapped."""
    result = map_invoice(record, config)
    assert isinstance(result, InvoiceRequest), result
    return result


def refused(record: JdeInvoice, config: InvoiceMappingConfig = CONFIG) -> MappingFailure:
    """The invoice's failure, asserting it names the record and keeps its JDE data for the quarantine."""
    result = map_invoice(record, config)
    assert isinstance(result, MappingFailure), result
    assert result.kind == "invoice"
    assert result.record_key == str(record.key)
    assert result.to_quarantined_record().raw == record.model_dump(mode="json")
    return result
