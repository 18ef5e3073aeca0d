"""A/R document → Stripe invoice header: JDE's number, DIVJ, DDJ; tax conflicts refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from jde_stripe_pipeline.jde.ar_documents import ArDocument
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping.ar_invoice import ArInvoiceError, ar_invoice_header
from jde_stripe_pipeline.mapping.tax import TaxMappingError

ZONE = ZoneInfo("America/Denver")
DOCUMENT = ArDocument(
    key=JdeDocumentKey(kcoo="00001", doco=1001, dcto="RI", sfxo="000"),
    status="posted",
    customer=4242,
    currency="usd",
    foreign=False,
    invoice_date=date(2026, 11, 2),
    due_date=date(2026, 12, 2),
    pay_items=(),
)


def test_header_carries_jde_number_invoice_date_and_due_date() -> None:
    params = ar_invoice_header(DOCUMENT, zone=ZONE)
    assert params["number"] == "RI-1001-00001"
    assert params["effective_at"] == 1793602800  # 2026-11-02 00:00 MST
    assert params["due_date"] == 1796194800  # 2026-12-02 00:00 MST
    assert params["metadata"]["jde_doco"] == "1001"  # type: ignore[index]


def test_charge_automatically_has_no_due_date_and_template_is_configurable() -> None:
    params = ar_invoice_header(
        DOCUMENT, zone=ZONE, collection_method="charge_automatically", number_template="{KCO}/{DOC}"
    )
    assert "due_date" not in params
    assert params["number"] == "00001/1001"


def test_missing_dates_and_tax_conflicts_are_refused_naming_the_field() -> None:
    with pytest.raises(ArInvoiceError, match="RPDDJ"):
        ar_invoice_header(replace(DOCUMENT, due_date=None), zone=ZONE)
    with pytest.raises(ArInvoiceError, match="RPDIVJ"):
        ar_invoice_header(replace(DOCUMENT, invoice_date=None), zone=ZONE)
    with pytest.raises(TaxMappingError, match="automatic_tax"):
        ar_invoice_header(DOCUMENT, zone=ZONE, automatic_tax=True)
