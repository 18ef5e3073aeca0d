"""F03B11 pay-item rows → A/R documents (DOC, DCT, KCO), the unit the `ar_invoice` profile sends.

Why (see shared reference jde-ar.md §1): an invoice is all F03B11 rows sharing DOC+DCT+KCO, each pay
item (SFX) with its own amounts, tax and POST code. Only a document whose every live pay item is
posted (POST `D`) is sent; a void (ISTR `1`, or VOD `V`, with AG set to 0) drops the pay item, and a
document with only voided pay items is reported as voided (so the engine can delete its draft).
Amounts are domestic (AG, STAM, ATXA, BCRC) or, when CRRM is `F`, foreign (ACR, CTAM, CTXA, CRCD).
The invoice date is DIVJ; the due date is the earliest DDJ of the live pay items (Stripe has one).
Pure: typed rows in (aliases without the `RP` prefix), documents and per-document errors out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from jde_stripe_pipeline.jde.records import JdeDocumentKey

ArStatus = Literal["posted", "unposted", "voided"]
DEFAULT_AR_DOCUMENT_TYPES = ("RI",)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class ArPayItem:
    """One pay item's amounts in the document's currency, and its tax drivers and remark."""

    sfx: str
    gross: Decimal
    tax: Decimal
    taxable: Decimal
    tax_area: str
    tax_explanation: str
    remark: str
    due: date | None


@dataclass(frozen=True)
class ArDocument:
    """An A/R document: key (SFXO 000: pay items are grouped), customer, currency and pay items."""

    key: JdeDocumentKey
    status: ArStatus
    customer: int
    currency: str
    foreign: bool
    invoice_date: date | None
    due_date: date | None
    pay_items: tuple[ArPayItem, ...]

    @property
    def gross(self) -> Decimal:
        return sum((item.gross for item in self.pay_items), _ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((item.tax for item in self.pay_items), _ZERO)


@dataclass(frozen=True)
class ArDocumentError:
    """A document that cannot be sent, naming it and the field (quarantined, the rest goes on)."""

    key: JdeDocumentKey
    field: str
    reason: str


def _text(row: Mapping[str, object], alias: str) -> str:
    value = row.get(alias)
    return value.strip() if isinstance(value, str) else ""


def _amount(row: Mapping[str, object], alias: str) -> Decimal:
    value = row.get(alias)
    return value if isinstance(value, Decimal) else Decimal(value) if isinstance(value, int) else _ZERO


def _is_void(row: Mapping[str, object]) -> bool:
    return _text(row, "ISTR") == "1" or _text(row, "VOD") == "V"


def _key(row: Mapping[str, object]) -> JdeDocumentKey:
    doc = row.get("DOC")
    return JdeDocumentKey(
        kcoo=_text(row, "KCO"),
        doco=int(doc) if isinstance(doc, int | Decimal) else 0,
        dcto=_text(row, "DCT"),
        sfxo="000",
    )


def _pay_item(row: Mapping[str, object], foreign: bool) -> ArPayItem:
    gross, tax, taxable = ("ACR", "CTAM", "CTXA") if foreign else ("AG", "STAM", "ATXA")
    due = row.get("DDJ")
    return ArPayItem(
        sfx=_text(row, "SFX"),
        gross=_amount(row, gross),
        tax=_amount(row, tax),
        taxable=_amount(row, taxable),
        tax_area=_text(row, "TXA1"),
        tax_explanation=_text(row, "EXR1"),
        remark=_text(row, "RMK"),
        due=due if isinstance(due, date) else None,
    )


def _document(key: JdeDocumentKey, rows: Sequence[Mapping[str, object]]) -> ArDocument | ArDocumentError:
    for alias in ("AN8", "CRRM", "CRCD", "BCRC"):
        values = {str(row.get(alias)).strip() for row in rows}
        if len(values) > 1:
            return ArDocumentError(key, f"F03B11.RP{alias}", f"pay items disagree: {sorted(values)}")
    first = rows[0]
    foreign = _text(first, "CRRM") == "F"
    currency = _text(first, "CRCD" if foreign else "BCRC") or _text(first, "CRCD")
    if not currency:
        return ArDocumentError(key, "F03B11.RPCRCD", "no currency")
    customer = first.get("AN8")
    if not isinstance(customer, int | Decimal):
        return ArDocumentError(key, "F03B11.RPAN8", "no customer address number")
    live = [row for row in rows if not _is_void(row)]
    status: ArStatus
    if not live:
        status = "voided"
    elif all(_text(row, "POST") == "D" for row in live):
        status = "posted"
    else:
        status = "unposted"
    items = tuple(sorted((_pay_item(row, foreign) for row in live), key=lambda item: item.sfx))
    dues = [item.due for item in items if item.due is not None]
    divj = first.get("DIVJ")
    return ArDocument(
        key=key,
        status=status,
        customer=int(customer),
        currency=currency.lower(),
        foreign=foreign,
        invoice_date=divj if isinstance(divj, date) else None,
        due_date=min(dues) if dues else None,
        pay_items=items,
    )


def ar_documents(
    rows: Iterable[Mapping[str, object]], document_types: Sequence[str] = DEFAULT_AR_DOCUMENT_TYPES
) -> tuple[list[ArDocument], list[ArDocumentError]]:
    """Group pay items into documents of the configured types, in key order."""
    wanted = {code.strip() for code in document_types}
    groups: dict[JdeDocumentKey, list[Mapping[str, object]]] = {}
    for row in rows:
        if _text(row, "DCT") in wanted:
            groups.setdefault(_key(row), []).append(row)
    documents: list[ArDocument] = []
    errors: list[ArDocumentError] = []
    for key in sorted(groups, key=JdeDocumentKey.sort_key):
        built = _document(key, groups[key])
        if isinstance(built, ArDocument):
            documents.append(built)
        else:
            errors.append(built)
    return documents, errors
