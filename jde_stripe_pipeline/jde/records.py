"""Typed JDE records: what an extract yields and what the mapping consumes.

The contract between the JDE source and the mapping. Money is `Decimal` (AIS output is already scaled
to display decimals); dates are `date`; update stamps are naive datetimes in the JDE server's time zone
(UPMJ + UPMT/TDAY), because that is how JDE stores and filters them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JdeAddress(_Record):
    """F0116 (the row with the latest EFTB not after the as-of date)."""

    lines: tuple[str, ...] = ()
    """ADD1–ADD4, blanks removed."""
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    """CTR as JDE stores it (usually ISO 3166-1 alpha-2, e.g. `US`)."""
    county: str | None = None


class JdeParty(_Record):
    """An address book entry seen from another record (e.g. the ship-to of an order)."""

    an8: int
    name: str
    address: JdeAddress | None = None
    phone: str | None = None


class JdeCustomer(_Record):
    """One customer: F03012 joined in the client with F0101, F0116, F01151 and F0115."""

    an8: int
    company: str
    """CO of the F03012 row chosen (one record per AN8 even when F03012 has a row per company)."""
    name: str
    """F0101.ALPH."""
    tax_id: str | None = None
    address: JdeAddress | None = None
    email: str | None = None
    """First F01151 row of type E, by IDLN then RCK7."""
    phone: str | None = None
    """First F0115 business phone (PHTP blank), `AR1 PH1`."""
    currency: str | None = None
    payment_terms: str | None = None
    """F03012.TRAR."""
    language: str | None = None
    """F0101.LNGP, blank → None."""
    ship_to: JdeParty | None = None
    updated_at: datetime
    """The latest UPMJ/UPMT across all rows that make up the record (JDE server's local time)."""


InvoiceProfileName = Literal["purchase_order", "sales_order"]


class JdeDocumentKey(_Record):
    """KCOO, DOCO, DCTO, SFXO: the document key of an order-based invoice."""

    kcoo: str
    doco: int
    dcto: str
    sfxo: str = "000"

    def __str__(self) -> str:
        return f"{self.kcoo}/{self.doco}/{self.dcto}/{self.sfxo}"


class JdeInvoiceLine(_Record):
    lnid: Decimal
    """LNID as displayed (1.000, 2.000): three implied decimals already applied by AIS."""
    item: str | None = None
    """LITM."""
    description: str = ""
    """DSC1."""
    description2: str | None = None
    """DSC2."""
    quantity: Decimal
    """UORG."""
    unit_of_measure: str | None = None
    unit_price: Decimal | None = None
    """PRRC (purchase) or UPRC (sales)."""
    amount: Decimal
    """AEXP, the extended amount: what is billed. Negative for a credit line."""
    last_status: str | None = None
    """LTTR; 980 = cancelled."""
    next_status: str | None = None
    """NXTR."""
    currency: str | None = None
    """CRCD of the detail row, when extracted: must agree with the header's (checked by the mapping)."""
    updated_at: datetime


class JdeInvoice(_Record):
    profile: InvoiceProfileName
    key: JdeDocumentKey
    an8: int
    ship_to: JdeParty | None = None
    """SHAN resolved through the address book; None when SHAN is blank or equals AN8 and unresolved."""
    document_date: date
    """TRDJ: the order/invoice date."""
    requested_date: date | None = None
    currency: str
    total: Decimal
    """OTOT (header total) as JDE states it, for reconciliation."""
    payment_terms: str | None = None
    lines: tuple[JdeInvoiceLine, ...] = Field(default=())
    updated_at: datetime
    """The latest stamp of the header and all its lines."""


RecordKind = Literal["customer", "invoice"]


class QuarantinedRecord(_Record):
    """A row that failed validation: kept, reported, never raised and never silently dropped."""

    kind: RecordKind
    record_key: str
    """AN8 for customers, `KCOO/DOCO/DCTO/SFXO` for invoices."""
    field: str
    """Table alias or model field that failed, e.g. `F4311.AEXP`."""
    reason: str
    raw: dict[str, object] = Field(default_factory=dict)
