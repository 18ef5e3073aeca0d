"""An A/R document (`ar_invoice`) → its Stripe request: a draft invoice, a credit note, or a void.

- A posted invoice → `InvoiceRequest`: the header of `ar_invoice.ar_invoice_header` (number on
  DOC/DCT/KCO, `effective_at` DIVJ, `due_date` DDJ with `send_invoice`), the lines of
  `ar_lines.ar_lines` — the billable sales lines (cancelled statuses left out) described as the order
  profiles describe theirs, or one line per pay item with its remark — and JDE's tax as line
  `tax_amounts`: a pay item's own tax (F0018's, where the post wrote it for a domestic document, else
  STAM/CTAM) on its line; on sales lines the document's tax allocated to the taxable ones. One rate
  per document: F0018's (TXR1..5) when the document has one, else STAM/ATXA (CTAM/CTXA), so Stripe
  keeps one tax rate per invoice and a credit note can credit tax on it. The total is JDE's gross to
  the minor unit, or the document is refused.
- A posted credit memo → `CreditNoteRequest` (same lines, made positive) on the invoice its
  ODOC/ODCT/OKCO name (`credit_memo_original`).
- A voided document → `ArVoid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from jde_stripe_pipeline.jde.ar_records import JdeArInvoice, JdeArLine
from jde_stripe_pipeline.mapping import _fields
from jde_stripe_pipeline.mapping._fields import Refused, clean
from jde_stripe_pipeline.mapping.ar_invoice import ar_invoice_header
from jde_stripe_pipeline.mapping.ar_lines import ArSalesLine, ar_lines
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditLine, CreditNoteRequest
from jde_stripe_pipeline.mapping.config import CustomField, InvoiceMappingConfig
from jde_stripe_pipeline.mapping.errors import MappingError
from jde_stripe_pipeline.mapping.failures import MappingFailure
from jde_stripe_pipeline.mapping.invoices import (
    ExpectedInvoiceFigures,
    custom_field_values,
    line_description,
    local_midnight_timestamp,
)
from jde_stripe_pipeline.mapping.limits import INVOICE_MAX_LINES
from jde_stripe_pipeline.mapping.money import currency_exponent, to_minor_units
from jde_stripe_pipeline.mapping.requests import CustomFieldValue, InvoiceLineRequest, InvoiceRequest
from jde_stripe_pipeline.mapping.tax import TAX_SOURCE_F0018, implied_percentage

ArRequest = InvoiceRequest | CreditNoteRequest | ArVoid
ORDER_CUSTOM_FIELDS = InvoiceMappingConfig().custom_fields
AR_CUSTOM_FIELDS = (CustomField("JDE invoice", "{DCT} {DOC} {KCO}"),)
"""An A/R invoice's default custom field (the order profiles' default names the order)."""
TAX_SOURCE_LEDGER = "F03B11"
"""A pay item's own tax (STAM/CTAM) on its line: exact, not allocated."""


@dataclass(frozen=True, slots=True)
class ArFigures:
    """What Stripe must show for one A/R document, from JDE alone (month-end reconciliation)."""

    number: str | None
    effective_at: int
    due_date: int | None
    currency: str
    subtotal: int
    tax: int
    total: int
    lines: int


def map_ar_invoice(
    record: JdeArInvoice, config: InvoiceMappingConfig, *, customer_id: str | None = None
) -> ArRequest | MappingFailure:
    try:
        if record.status == "voided":
            what = "credit memo" if record.kind == "credit_memo" else "invoice"
            reason = f"{what} {record.key} is voided in JDE (F03B11 ISTR 1 / VOD V, gross 0)"
            return ArVoid(record.profile, record.key, record.an8, record.kind == "credit_memo", reason)
        if record.kind == "credit_memo":
            return _credit_note(record, config)
        return _invoice(record, config, customer_id)
    except Refused as refused:
        return _failure(record, refused.field, refused.reason)
    except MappingError as error:
        return _failure(record, _field_of(str(error)), str(error))


def expected_ar_invoice_figures(
    record: JdeArInvoice, config: InvoiceMappingConfig
) -> ExpectedInvoiceFigures | MappingFailure:
    """The generic reconciliation's figures (its `total` is the lines' sum, before tax); a credit
    memo or a void expects no invoice of its own."""
    mapped = map_ar_invoice(record, config)
    if isinstance(mapped, MappingFailure):
        return mapped
    if not isinstance(mapped, InvoiceRequest):
        effective = local_midnight_timestamp(record.document_date, config.zone)
        return ExpectedInvoiceFigures(None, effective, record.currency.lower(), 0, 0)
    return ExpectedInvoiceFigures(
        mapped.number, mapped.effective_at, mapped.currency, len(mapped.lines), mapped.total_minor
    )


def ar_figures(request: InvoiceRequest) -> ArFigures:
    """The month-end figures of a mapped A/R invoice: subtotal, JDE's tax and the gross."""
    tax = sum(int(t["amount"]) for line in request.lines for t in line.tax_amounts or ())
    return ArFigures(
        request.number,
        request.effective_at,
        request.due_date,
        request.currency,
        request.total_minor,
        tax,
        request.total_minor + tax,
        len(request.lines),
    )


# ------------------------------------------------------------------------------------- invoice


def _invoice(record: JdeArInvoice, config: InvoiceMappingConfig, customer_id: str | None) -> InvoiceRequest:
    document = record.document
    header = ar_invoice_header(
        document,
        zone=config.zone,
        collection_method=config.collection_method,
        number_template=config.number_template,
    )
    lines = _lines(record, config)
    if len(lines) > INVOICE_MAX_LINES:
        raise Refused(
            f"{record.detail_table}.LNID",
            f"{len(lines)} lines, Stripe allows {INVOICE_MAX_LINES} per invoice",
        )
    metadata = _fields.document_metadata(record)
    due = header.get("due_date")
    return InvoiceRequest(
        profile=record.profile,
        document_key=record.key,
        customer_an8=record.an8,
        currency=document.currency,
        collection_method=config.collection_method,
        days_until_due=None,
        number=header.get("number"),  # type: ignore[arg-type]
        effective_at=int(header["effective_at"]),  # type: ignore[call-overload]
        shipping_details=None,
        custom_fields=_custom_fields(record, config),
        metadata=metadata,
        lines=tuple(lines),
        customer_id=customer_id,
        due_date=int(due) if isinstance(due, int) else None,
    )


def _custom_fields(record: JdeArInvoice, config: InvoiceMappingConfig) -> tuple[CustomFieldValue, ...]:
    """The configured custom fields, where the configuration keeps the order's default: the invoice's."""
    fields = AR_CUSTOM_FIELDS if config.custom_fields == ORDER_CUSTOM_FIELDS else config.custom_fields
    return custom_field_values(record, fields)


def _billable(record: JdeArInvoice, config: InvoiceMappingConfig) -> list[JdeArLine]:
    return [
        line
        for line in record.lines
        if isinstance(line, JdeArLine) and clean(line.last_status) not in config.cancelled_line_statuses
    ]


def _lines(record: JdeArInvoice, config: InvoiceMappingConfig) -> list[InvoiceLineRequest]:
    """The document's Stripe lines with JDE's tax; `jde_lnid` is the line's key in the document."""
    document, currency = record.document, record.document.currency
    billable = _billable(record, config)
    sales = [
        ArSalesLine(line.line_key, line_description(line, currency), line.amount, line.taxable)
        for line in billable
    ]
    line_tax, sources = _pay_item_taxes(record) if not sales else (None, {})
    percentage = _rate(record)
    params = ar_lines(document, sales, line_tax, percentage=percentage)
    by_key = {line.line_key: line for line in billable}
    built = []
    for entry in params:
        metadata = dict(entry["metadata"])  # type: ignore[call-overload]
        key = metadata.pop("jde_line")
        if key in sources and "jde_tax_source" in metadata:
            metadata["jde_tax_source"] = sources[key]
        metadata = {"jde_lnid": key, **_line_facts(by_key.get(key), currency), **metadata}
        built.append(
            InvoiceLineRequest(
                lnid=key,
                amount=int(entry["amount"]),  # type: ignore[call-overload]
                description=str(entry["description"])[:500] or key,
                metadata=_fields.validated_metadata(metadata),
                tax_amounts=tuple(entry.get("tax_amounts", ())),  # type: ignore[arg-type]
            )
        )
    return built


def _rate(record: JdeArInvoice) -> Decimal | None:
    """One rate for the document: F0018's (TXR1..5) when its pay items agree on one, else the rate of
    the pay items' tax on their taxable amount (STAM/ATXA, or CTAM/CTXA); None when neither says."""
    rates = {tax.rate for tax in record.taxes if tax.rate is not None}
    if len(rates) == 1:
        return rates.pop()
    items = record.document.pay_items
    tax = sum((item.tax for item in items), Decimal(0))
    taxable = sum((item.taxable for item in items), Decimal(0))
    if not tax or not taxable:
        return None
    rate = implied_percentage(int(tax.scaleb(6)), int(taxable.scaleb(6)))
    return rate if 0 < rate <= 100 else None


def _pay_item_taxes(record: JdeArInvoice) -> tuple[dict[str, Decimal], dict[str, str]]:
    """Each pay item's own tax, by line key: F0018's for a domestic document where the post wrote it."""
    f0018 = {tax.sfx: tax.tax for tax in record.taxes} if not record.document.foreign else {}
    taxes: dict[str, Decimal] = {}
    sources: dict[str, str] = {}
    for item in record.document.pay_items:
        key = f"SFX {item.sfx}"
        taxes[key] = f0018.get(item.sfx, item.tax)
        sources[key] = TAX_SOURCE_F0018 if item.sfx in f0018 else TAX_SOURCE_LEDGER
    return taxes, sources


def _line_facts(line: JdeArLine | None, currency: str) -> dict[str, str | None]:
    if line is None:
        return {}
    price = line.unit_price
    return {
        "jde_item": clean(line.item),
        "jde_quantity": _fields.plain_decimal(line.quantity),
        "jde_uom": clean(line.unit_of_measure),
        "jde_unit_price": _fields.display_amount(price, currency_exponent(currency)) if price else None,
    }


# ------------------------------------------------------------------------------------- credit memo


def _credit_note(record: JdeArInvoice, config: InvoiceMappingConfig) -> CreditNoteRequest:
    if record.document.gross >= 0:
        raise Refused("F03B11.RPAG", f"credit memo gross {record.document.gross} is not negative")
    lines = []
    for line in _lines(record, config):
        taxes = line.tax_amounts or ()
        tax = -sum(int(t["amount"]) for t in taxes)
        taxable = -sum(int(t["taxable_amount"]) for t in taxes)
        rate = taxes[0]["tax_rate_data"] if taxes else {"display_name": "Tax", "percentage": "0"}
        lines.append(
            CreditLine(
                line.lnid,
                line.description,
                -line.amount,
                tax,
                taxable,
                rate["display_name"],
                rate["percentage"],
            )
        )
    original = record.original if config.credit_memo_original == "odoc" else None
    why = ""
    if original is None:
        why = (
            "the site's credit memos name no original (JDE_STRIPE_CREDIT_MEMO_ORIGINAL=none)"
            if config.credit_memo_original == "none"
            else "no original invoice in F03B11.RPODOC/RPODCT/RPOKCO"
        )
    remark = next((item.remark for item in record.document.pay_items if item.remark), "")
    memo = f"JDE credit memo {record.key.dcto} {record.key.doco} {record.key.kcoo}" + (
        f": {remark}" if remark else ""
    )
    metadata = _fields.document_metadata(record, **{CreditNoteRequest.MEMO_KEY: str(record.key)})
    request = CreditNoteRequest(
        record.profile,
        record.key,
        record.an8,
        original,
        record.document.currency,
        tuple(lines),
        memo[:5000],
        metadata,
        why,
    )
    gross = -to_minor_units(record.document.gross, record.document.currency)
    if request.total_minor != gross:
        raise Refused("F03B11.RPAG", f"credit lines total {request.total_minor}, JDE's memo {gross}")
    return request


# ------------------------------------------------------------------------------------- helpers


def _field_of(message: str) -> str:
    for alias in ("RPDDJ", "RPDIVJ", "RPAG", "RPCRCD"):
        if alias in message:
            return f"F03B11.{alias}"
    return "F03B11.RPSTAM" if "tax" in message else "F03B11.RPAG"


def _failure(record: JdeArInvoice, field: str, reason: str) -> MappingFailure:
    return MappingFailure.of_record("invoice", str(record.key), record, field, reason)


__all__ = ["ArFigures", "ar_figures", "expected_ar_invoice_figures", "map_ar_invoice"]
