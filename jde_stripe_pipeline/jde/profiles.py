"""Invoice source profiles: which JDE tables an invoice is read from, as data.

A profile names a header table and a detail table and the alias each table uses for every field
the extract needs. `purchase_order` (F4301/F4311, the tables the mission names) and `sales_order`
(F4201/F4211) are two instances of the same dataclass: adding a source is configuration, not a new
code path. The table specs (key, column types) are derived from the roles, so a profile carries
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from jde_stripe_pipeline.jde.records import InvoiceProfileName
from jde_stripe_pipeline.jde.tables import ColumnType, TableSpec

_KEY_TYPES = (ColumnType.TEXT, ColumnType.INT, ColumnType.TEXT, ColumnType.TEXT)


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

    @property
    def header_spec(self) -> TableSpec:
        columns = {getattr(self.header, f.name): _HEADER_TYPES[f.name] for f in fields(self.header)}
        return TableSpec(
            self.header_table,
            key=self.header.key,
            columns=columns,
            date_column=self.header.updated_date,
            time_column=self.header.updated_time,
        )

    @property
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
    def tables(self) -> tuple[TableSpec, TableSpec]:
        return (self.header_spec, self.detail_spec)


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

PROFILES: dict[InvoiceProfileName, InvoiceProfile] = {p.name: p for p in (PURCHASE_ORDER, SALES_ORDER)}


def invoice_profile(name: str) -> InvoiceProfile:
    """The profile called `name` (e.g. from `JDE_INVOICE_SOURCE`)."""
    try:
        return PROFILES[name]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown invoice source {name!r}; known: {', '.join(PROFILES)}") from None
