"""Invoice source profiles: which JDE tables an invoice is read from, as data.

A profile names a header table and a detail table and the alias each table uses for every field
the extract needs. `purchase_order` (F4301/F4311, the tables the mission names) and `sales_order`
(F4201/F4211) are two instances of the same dataclass: adding a source is configuration, not a new
code path. The table specs (key, column types) are derived from the roles, so a profile carries
nothing else.

`ar_invoice` (`ArInvoiceProfile`) bills what JDE posted to the G/L: the A/R ledger F03B11 with the
sales lines Sales Update linked to each invoice (F42119, and F4211 for lines not yet moved) and the
G/L post's tax detail F0018. It is the same kind of data (every table it reads, with the columns and
keys), read by `jde.ar_read` instead of the order extract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property

from jde_stripe_pipeline.jde.records import InvoiceProfileName
from jde_stripe_pipeline.jde.tables import PARTY_TABLES, ColumnType, TableSpec


@dataclass(frozen=True)
class HeaderColumns:
    """Header-table aliases by role."""

    kcoo: str = "KCOO"
    doco: str = "DOCO"
    dcto: str = "DCTO"
    sfxo: str = "SFXO"
    customer: str = "AN8"
    ship_to: str = "SHAN"
    document_date: str = "TRDJ"
    requested_date: str = "DRQJ"
    currency: str = "CRCD"
    total: str = "OTOT"
    payment_terms: str = "PTC"
    updated_date: str = "UPMJ"
    updated_time: str = "TDAY"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kcoo, self.doco, self.dcto, self.sfxo)


_HEADER_TYPES = {
    "kcoo": ColumnType.TEXT,
    "doco": ColumnType.INT,
    "dcto": ColumnType.TEXT,
    "sfxo": ColumnType.TEXT,
    "customer": ColumnType.INT,
    "ship_to": ColumnType.INT,
    "document_date": ColumnType.DATE,
    "requested_date": ColumnType.DATE,
    "currency": ColumnType.TEXT,
    "total": ColumnType.DECIMAL,
    "payment_terms": ColumnType.TEXT,
    "updated_date": ColumnType.DATE,
    "updated_time": ColumnType.TIME,
}


@dataclass(frozen=True)
class LineColumns:
    """Detail-table aliases by role."""

    unit_price: str
    """PRRC (purchase order unit cost) or UPRC (sales order unit price)."""
    kcoo: str = "KCOO"
    doco: str = "DOCO"
    dcto: str = "DCTO"
    sfxo: str = "SFXO"
    line_number: str = "LNID"
    item: str = "LITM"
    description: str = "DSC1"
    description2: str = "DSC2"
    quantity: str = "UORG"
    unit_of_measure: str = "UOM"
    amount: str = "AEXP"
    last_status: str = "LTTR"
    next_status: str = "NXTR"
    currency: str = "CRCD"
    updated_date: str = "UPMJ"
    updated_time: str = "TDAY"

    @property
    def header_key(self) -> tuple[str, str, str, str]:
        return (self.kcoo, self.doco, self.dcto, self.sfxo)


_LINE_TYPES = {
    "unit_price": ColumnType.DECIMAL,
    "kcoo": ColumnType.TEXT,
    "doco": ColumnType.INT,
    "dcto": ColumnType.TEXT,
    "sfxo": ColumnType.TEXT,
    "line_number": ColumnType.DECIMAL,
    "item": ColumnType.TEXT,
    "description": ColumnType.TEXT,
    "description2": ColumnType.TEXT,
    "quantity": ColumnType.DECIMAL,
    "unit_of_measure": ColumnType.TEXT,
    "amount": ColumnType.DECIMAL,
    "last_status": ColumnType.TEXT,
    "next_status": ColumnType.TEXT,
    "currency": ColumnType.TEXT,
    "updated_date": ColumnType.DATE,
    "updated_time": ColumnType.TIME,
}


@dataclass(frozen=True)
class InvoiceProfile:
    name: InvoiceProfileName
    header_table: str
    detail_table: str
    line: LineColumns
    header: HeaderColumns = HeaderColumns()
    order_types: tuple[str, ...] = ()
    """DCTO values to read; empty = every order type in the tables."""

    @cached_property
    def header_spec(self) -> TableSpec:
        """Cached, as `detail_spec`: the assembly asks for both once per order."""
        columns = {getattr(self.header, f.name): _HEADER_TYPES[f.name] for f in fields(self.header)}
        return self._header_table_spec(columns)

    @cached_property
    def detail_spec(self) -> TableSpec:
        columns = {getattr(self.line, f.name): _LINE_TYPES[f.name] for f in fields(self.line)}
        return TableSpec(
            self.detail_table,
            key=(*self.line.header_key, self.line.line_number),
            columns=columns,
            date_column=self.line.updated_date,
            time_column=self.line.updated_time,
        )

    @property
    def ship_to_spec(self) -> TableSpec:
        """Just the header columns that place an order's ship-to (key, sold-to, SHAN, date, stamp):
        what a customer's ship-to is read from, so a bad amount on an order cannot quarantine it."""
        roles = ("kcoo", "doco", "dcto", "sfxo", "customer", "ship_to", "document_date")
        columns = {getattr(self.header, role): _HEADER_TYPES[role] for role in roles}
        columns[self.header.updated_date] = ColumnType.DATE
        columns[self.header.updated_time] = ColumnType.TIME
        return self._header_table_spec(columns)

    def _header_table_spec(self, columns: dict[str, ColumnType]) -> TableSpec:
        """The header table keyed and stamped as the profile says, reading just `columns`."""
        return TableSpec(
            self.header_table,
            key=self.header.key,
            columns=columns,
            date_column=self.header.updated_date,
            time_column=self.header.updated_time,
        )

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """The tables whose change makes an invoice changed (header and detail)."""
        return (self.header_spec, self.detail_spec)

    @property
    def reads(self) -> tuple[TableSpec, ...]:
        """Every table an invoice extract reads: header, detail, and the ship-to's address book."""
        return (*self.tables, *PARTY_TABLES)


PURCHASE_ORDER = InvoiceProfile(
    name="purchase_order",
    header_table="F4301",
    detail_table="F4311",
    line=LineColumns(unit_price="PRRC"),
)
SALES_ORDER = InvoiceProfile(
    name="sales_order",
    header_table="F4201",
    detail_table="F4211",
    line=LineColumns(unit_price="UPRC"),
)

CUSTOMER_SHIP_TO = SALES_ORDER
"""Where a customer's ship-to is read from (`ship_to_source="ship_to"`): its sales orders.

JDE keeps no ship-to on the customer master (F03012); the place a JDE site records where a sold-to
customer's goods go is the ship-to address number (SHAN) of its sales orders (F4201), usually a
separate address-book entry. So the ship-to is the SHAN of the customer's most recent sales order
(latest TRDJ, then highest DOCO) whose SHAN is not the customer itself, with its name (F0101) and
current address (F0116) read as for the customer. Every order type in F4201 counts (the profile's
`order_types` when set); an order's status is not looked at. The address-book parent/child structure
(F0150) was the alternative: it says which addresses belong to a customer, not which one it ships to.
A customer with no such order keeps its own address as its ship-to (`JdeCustomer.ship_to` None)."""

_T, _I, _N, _D, _M = ColumnType.TEXT, ColumnType.INT, ColumnType.DECIMAL, ColumnType.DATE, ColumnType.TIME


def _columns(aliases: str, kind: ColumnType) -> dict[str, ColumnType]:
    return dict.fromkeys(aliases.split(), kind)


_LEDGER_COLUMNS = {
    **_columns("DOC AN8 ODOC", _I),
    **_columns("DCT KCO SFX BCRC CRCD CRRM TXA1 EXR1 RMK ODCT OKCO POST ISTR VOD", _T),
    **_columns("AG STAM ATXA ACR CTAM CTXA", _N),
    **_columns("DIVJ DDJ UPMJ", _D),
    "UPMT": _M,
}
"""F03B11 as `jde.ar_documents` reads it (pay status, open amounts and batches are not needed)."""
_SALES_LINE_COLUMNS = {
    **_columns("DOCO DOC", _I),
    **_columns("KCOO DCTO LITM DSC1 DSC2 UOM LTTR NXTR CRCD DCT KCO TAX1 TXA1 EXR1", _T),
    **_columns("LNID UORG UPRC AEXP FUP FEA", _N),
    "UPMJ": _D,
    "TDAY": _M,
}
"""A sales line with the invoice Sales Update linked it to (DOC/DCT/KCO), domestic and foreign."""
_TAX_COLUMNS = {
    **_columns("DOCO", _I),
    **_columns("DCTO KCOO SFXO TXA1 EXR1", _T),
    **_columns("LNID " + " ".join(f"TXR{n} STA{n}" for n in range(1, 6)), _N),
    "UPMJ": _D,
    "UPMT": _M,
}


@dataclass(frozen=True)
class ArInvoiceProfile(InvoiceProfile):
    """Invoices posted to the G/L: the F03B11 document (DOC, DCT, KCO; pay items grouped), its sales
    lines in F42119 or F4211 (matched on the line's DOC/DCT/KCO), and F0018's tax by pay item.

    `invoice_types` are the DCTs billed as invoices (UDC 00/DI; default RI), `credit_memo_types` the
    ones that become credit notes (default RM); a site adds its own (`JDE_AR_INVOICE_TYPES`,
    `JDE_AR_CREDIT_MEMO_TYPES`). A sales line's key is (KCOO, DOCO, DCTO, LNID), the primary key of
    F4211 and F42119 (SFXO is not part of it). F0018's DOCO/DCTO/KCOO/SFXO are taken to hold the
    invoice's DOC/DCT/KCO/SFX, as the reference presumes (unconfirmed; one place to change)."""

    name: InvoiceProfileName = "ar_invoice"
    header_table: str = "F03B11"
    detail_table: str = "F42119"
    line: LineColumns = LineColumns(unit_price="UPRC")
    open_lines_table: str = "F4211"
    tax_table: str = "F0018"
    invoice_types: tuple[str, ...] = ("RI",)
    credit_memo_types: tuple[str, ...] = ("RM",)

    @property
    def document_types(self) -> tuple[str, ...]:
        return (*self.invoice_types, *self.credit_memo_types)

    @property
    def ledger_spec(self) -> TableSpec:
        return TableSpec(self.header_table, ("DOC", "DCT", "KCO", "SFX"), _LEDGER_COLUMNS, "UPMJ", "UPMT")

    def sales_line_spec(self, table: str) -> TableSpec:
        return TableSpec(table, ("KCOO", "DOCO", "DCTO", "LNID"), _SALES_LINE_COLUMNS, "UPMJ", "TDAY")

    @property
    def line_specs(self) -> tuple[TableSpec, TableSpec]:
        """History first: a line Purge Detail to History moved is read from there."""
        return (self.sales_line_spec(self.detail_table), self.sales_line_spec(self.open_lines_table))

    @property
    def tax_spec(self) -> TableSpec:
        return TableSpec(
            self.tax_table, ("DOCO", "DCTO", "KCOO", "SFXO", "LNID"), _TAX_COLUMNS, "UPMJ", "UPMT"
        )

    @property
    def header_spec(self) -> TableSpec:
        return self.ledger_spec

    @property
    def detail_spec(self) -> TableSpec:
        return self.line_specs[0]

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """Every table whose change makes an A/R invoice changed (and the sensor probes)."""
        return (self.ledger_spec, *self.line_specs, self.tax_spec)

    @property
    def reads(self) -> tuple[TableSpec, ...]:
        return self.tables

    def with_types(
        self, invoice_types: Sequence[str] | None = None, credit_memo_types: Sequence[str] | None = None
    ) -> ArInvoiceProfile:
        """The document types a site configured (`JDE_AR_INVOICE_TYPES`, `JDE_AR_CREDIT_MEMO_TYPES`:
        the settings parse them); None keeps the default."""
        return replace(
            self,
            invoice_types=tuple(invoice_types) if invoice_types else self.invoice_types,
            credit_memo_types=tuple(credit_memo_types) if credit_memo_types else self.credit_memo_types,
        )


AR_INVOICE = ArInvoiceProfile()

PROFILES: dict[InvoiceProfileName, InvoiceProfile] = {
    p.name: p for p in (PURCHASE_ORDER, SALES_ORDER, AR_INVOICE)
}


def invoice_profile(
    name: str,
    *,
    ar_invoice_types: Sequence[str] | None = None,
    ar_credit_memo_types: Sequence[str] | None = None,
) -> InvoiceProfile:
    """The profile called `name` (e.g. from `JDE_INVOICE_SOURCE`); the A/R profile with the site's
    document types (default RI invoices, RM credit memos)."""
    try:
        profile = PROFILES[name]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown invoice source {name!r}; known: {', '.join(PROFILES)}") from None
    if isinstance(profile, ArInvoiceProfile):
        return profile.with_types(ar_invoice_types, ar_credit_memo_types)
    return profile
