"""Typed JDE records: what an extract yields and what the mapping consumes.

The contract between the JDE source and the mapping. Money is `Decimal` (AIS output is already scaled
to display decimals); dates are `date`; update stamps are naive datetimes in the JDE server's time zone
(UPMJ + UPMT/TDAY), because that is how JDE stores and filters them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


InvoiceProfileName = Literal["purchase_order", "sales_order", "ar_invoice"]
ShipToSource = Literal["customer", "ship_to"]
"""Where a customer's shipping address comes from: itself, or its sales orders' ship-to (SHAN)."""


DocumentKeyValues = tuple[str, int, str, str]
"""(KCOO, DOCO, DCTO, SFXO) of a `JdeDocumentKey`, as a plain tuple."""


class JdeDocumentKey(_Record):
    """KCOO, DOCO, DCTO, SFXO: the document key of an order-based invoice.

    The one key type. Its string form `KCOO/DOCO/DCTO/SFXO` is the ledger's record key; `parse`,
    `from_row` and `from_metadata` read it back from that string, from JDE row values and from the
    `jde_*` metadata the mapping writes on Stripe invoices.
    """

    kcoo: str
    doco: int
    dcto: str
    sfxo: str = "000"

    def __str__(self) -> str:
        return f"{self.kcoo}/{self.doco}/{self.dcto}/{self.sfxo}"

    def sort_key(self) -> DocumentKeyValues:
        return (self.kcoo, self.doco, self.dcto, self.sfxo)

    @classmethod
    def parse(cls, text: str) -> JdeDocumentKey:
        """`KCOO/DOCO/DCTO/SFXO` (the string form) back to the key; ValueError naming the text."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[1].isdigit():
            raise ValueError(f"document key {text!r} is not KCOO/DOCO/DCTO/SFXO")
        return cls(kcoo=parts[0], doco=int(parts[1]), dcto=parts[2], sfxo=parts[3])

    @classmethod
    def from_row(cls, row: Mapping[str, object], aliases: Sequence[str]) -> JdeDocumentKey | None:
        """The key in a JDE row under the given (KCOO, DOCO, DCTO, SFXO) aliases; None when the
        values are not a key (DOCO not whole, a code not text)."""
        values = cls.values_in(row, aliases)
        return None if values is None else cls.of(values)

    @staticmethod
    def values_in(row: Mapping[str, object], aliases: Sequence[str]) -> DocumentKeyValues | None:
        """The values `from_row` makes its key of, as a plain tuple (`sort_key`'s): what a read
        groups its rows by, since a tuple hashes and compares far faster than the model."""
        kcoo, doco, dcto, sfxo = map(row.get, aliases)
        number = address_number(doco)
        if number is None or not (isinstance(kcoo, str) and isinstance(dcto, str) and isinstance(sfxo, str)):
            return None
        return (kcoo.strip(), number, dcto.strip(), sfxo.strip())

    @classmethod
    def of(cls, values: DocumentKeyValues) -> JdeDocumentKey:
        """The key of `values_in`'s (or `sort_key`'s) tuple."""
        kcoo, doco, dcto, sfxo = values
        return cls(kcoo=kcoo, doco=doco, dcto=dcto, sfxo=sfxo)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, object]) -> JdeDocumentKey | None:
        """The key a Stripe invoice carries in `jde_kcoo`/`jde_doco`/`jde_dcto`/`jde_sfxo` (as the
        mapping writes it); None when it carries none or a malformed one. A missing SFXO is 000."""
        kcoo, doco, dcto = (metadata.get(name) for name in ("jde_kcoo", "jde_doco", "jde_dcto"))
        if kcoo is None or dcto is None or not isinstance(doco, str | int) or not str(doco).isdigit():
            return None
        return cls(
            kcoo=str(kcoo), doco=int(doco), dcto=str(dcto), sfxo=str(metadata.get("jde_sfxo") or "000")
        )


def address_number(value: object) -> int | None:
    """A JDE whole number (AN8, DOCO) as AIS sends it (int or integral Decimal); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None


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
    """Read only with `ship_to_source="ship_to"`: the ship-to (SHAN) of the customer's most recent
    sales order that ships elsewhere (see `jde.read.extract_customers`). None: the customer's own
    address is its ship-to (no such order, or the ship-to was not read)."""
    ship_to_order: JdeDocumentKey | None = None
    """The sales order `ship_to` was taken from; None when `ship_to` is None."""
    updated_at: datetime
    """The latest UPMJ/UPMT across all rows that make up the record (JDE server's local time),
    including the sales order its ship-to comes from."""


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
    """CRCD of the detail row (blank → None): must agree with the header's (checked by the mapping)."""
    updated_at: datetime


class JdeInvoice(_Record):
    profile: InvoiceProfileName
    header_table: str
    """The profile's header table (F4301, F4201): names the JDE field of a mapping failure."""
    detail_table: str
    """The profile's detail table (F4311, F4211)."""
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
