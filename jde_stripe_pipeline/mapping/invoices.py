"""JDE order-based invoice → Stripe draft invoice request (header + one line per JDE line).

Header:
- a draft (`auto_advance=False`, `pending_invoice_items_behavior="exclude"` so a create never sweeps
  in stray pending items); `customer` is filled in by the engine (`with_customer`);
- `currency` ← CRCD, lower case; every line's CRCD must agree with it;
- `collection_method` from the config; with `send_invoice`, `days_until_due` = the configured fixed
  days, else the JDE payment terms (PTC) through the terms table (`N<days>` codes need no entry,
  blank terms → the default days, an unknown code is refused rather than guessed);
  `charge_automatically` sends no `days_until_due` (Stripe refuses it);
- `number` from the configured template over the document keys (default `{DCTO}-{DOCO}-{KCOO}`);
  over Stripe's 26 characters the invoice is refused: a cut number could collide with another;
- `effective_at` = the document date (TRDJ) at 00:00 in the JDE server's time zone (the first
  instant of that local day, also on a day that starts with a DST gap), as a Unix timestamp;
- `shipping_details` ← the ship-to party (SHAN): name + address (+ phone); none when the record has
  no ship-to or it has no address (Stripe then prints the customer's shipping address);
- `custom_fields` from the configured templates (default `JDE order` = `{DCTO} {DOCO} {KCOO}`),
  value over 140 characters refused;
- `metadata`: `jde_kcoo`, `jde_doco`, `jde_dcto`, `jde_sfxo`, `jde_an8`, `jde_updated_at` (latest
  stamp of header and lines, ISO 8601, JDE local time), `jde_profile`.

Lines — one Stripe line per billable JDE line, ordered by LNID:
- `amount` = AEXP in minor units, exact or refused (negative for credit lines). Not `price_data`:
  that would create a Product per line, and `unit_amount_decimal × quantity` could round away from
  JDE's extended amount; with `amount` the Stripe total equals JDE's to the minor unit. Quantity and
  unit price go to the description and metadata instead;
- `description` = `ITEM DSC1 DSC2 (QTY UOM × UNIT PRICE)`; over Stripe's limit DSC2 is dropped, then
  the text before the parenthesis is cut with `…` (harmless: item, quantity, unit and price are all
  in metadata too);
- `metadata`: `jde_lnid` (canonical three decimals, `1.000`), `jde_item`, `jde_quantity` (no
  trailing zeros, `5`, `2.5`), `jde_uom`, `jde_unit_price` (at least the currency's decimals).
- Cancelled lines (LTTR in `cancelled_line_statuses`, default 980) are not billed. A document with
  no billable line left maps to `DeleteDraftInvoice`.

Refused (→ `MappingFailure`, the whole invoice, never half): unknown currency, header/line currency
mismatch, an amount Stripe cannot take exactly, more than 250 billable lines, duplicate line numbers,
number or custom field over its limit, metadata over Stripe's limits, unknown payment terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.jde.ar_records import JdeArInvoice
from jde_stripe_pipeline.jde.records import JdeInvoice, JdeInvoiceLine
from jde_stripe_pipeline.mapping import _fields
from jde_stripe_pipeline.mapping._fields import Refused, clean
from jde_stripe_pipeline.mapping.ar_requests import ArVoid, CreditNoteRequest
from jde_stripe_pipeline.mapping.config import CustomField, InvoiceMappingConfig
from jde_stripe_pipeline.mapping.errors import MoneyError
from jde_stripe_pipeline.mapping.failures import MappingFailure
from jde_stripe_pipeline.mapping.limits import (
    CUSTOM_FIELD_VALUE_MAX_LENGTH,
    INVOICE_MAX_LINES,
    INVOICE_NUMBER_MAX_LENGTH,
    LINE_DESCRIPTION_MAX_LENGTH,
    shorten,
)
from jde_stripe_pipeline.mapping.money import (
    currency_exponent,
    line_minor_units,
    normalize_currency,
    to_minor_units,
)
from jde_stripe_pipeline.mapping.requests import (
    CustomFieldValue,
    DeleteDraftInvoice,
    InvoiceLineRequest,
    InvoiceRequest,
)

_LNID_STEP = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class ExpectedInvoiceFigures:
    """What the Stripe draft must show, computed from the JDE side alone (for reconciliation)."""

    number: str | None
    effective_at: int
    currency: str
    line_count: int
    """Billable lines (cancelled ones excluded)."""
    total_minor: int
    """Sum of the billable lines' AEXP, converted once (not line by line)."""


def map_invoice(
    record: JdeInvoice, config: InvoiceMappingConfig, *, customer_id: str | None = None
) -> InvoiceRequest | DeleteDraftInvoice | CreditNoteRequest | ArVoid | MappingFailure:
    """The whole Stripe request for one JDE document, a `DeleteDraftInvoice`, or a failure.

    `customer_id` may be given now or later (`InvoiceRequest.with_customer`); it never enters the
    content hash, which depends only on the JDE content and the mapping configuration. An A/R
    document (`ar_invoice`) is mapped by `mapping.ar_map` (an invoice, a credit note or a void).
    """
    if isinstance(record, JdeArInvoice):
        from jde_stripe_pipeline.mapping.ar_map import map_ar_invoice

        return map_ar_invoice(record, config, customer_id=customer_id)
    try:
        return _map(record, config, customer_id)
    except Refused as refused:
        return _failure(record, refused)


def expected_invoice_figures(
    record: JdeInvoice, config: InvoiceMappingConfig
) -> ExpectedInvoiceFigures | MappingFailure:
    if isinstance(record, JdeArInvoice):
        from jde_stripe_pipeline.mapping.ar_map import expected_ar_invoice_figures

        return expected_ar_invoice_figures(record, config)
    try:
        currency = _currency(record.currency, f"{record.header_table}.CRCD")
        billable = billable_lines(record, config)
        total = sum((line.amount for line in billable), Decimal(0))
        try:
            total_minor = to_minor_units(total, currency)
        except MoneyError as error:
            raise Refused(f"{record.detail_table}.AEXP", f"sum of the lines: {error}") from error
        return ExpectedInvoiceFigures(
            number=invoice_number(record, config),
            effective_at=local_midnight_timestamp(record.document_date, config.zone),
            currency=currency,
            line_count=len(billable),
            total_minor=total_minor,
        )
    except Refused as refused:
        return _failure(record, refused)


def billable_lines(record: JdeInvoice, config: InvoiceMappingConfig) -> tuple[JdeInvoiceLine, ...]:
    """The lines Stripe bills: every line whose LTTR is not a cancelled status."""
    return tuple(
        line for line in record.lines if clean(line.last_status) not in config.cancelled_line_statuses
    )


def local_midnight_timestamp(day: date, zone: ZoneInfo) -> int:
    """Unix time of the first instant of `day` in `zone`.

    `fold=0` on a non-existent 00:00 (a DST gap at midnight) resolves with the offset before the
    gap, which lands exactly on the first instant that exists that day.
    """
    return int(datetime.combine(day, time(0, 0), tzinfo=zone).timestamp())


def canonical_lnid(lnid: Decimal) -> str:
    """`Decimal('1')`, `1.0`, `1.000` → `'1.000'`: the one form used in metadata and as line key."""
    try:
        quantized = lnid.quantize(_LNID_STEP)
    except InvalidOperation as error:
        raise ValueError(f"line number {lnid} is not a JDE line number") from error
    if quantized != lnid or lnid < 0:
        raise ValueError(f"line number {lnid} is not a JDE line number (three decimals, not negative)")
    return f"{quantized:f}"


def custom_field_values(record: JdeInvoice, fields: Sequence[CustomField]) -> tuple[CustomFieldValue, ...]:
    """Each custom field's template filled in from the document; Refused when a value comes out empty
    or longer than Stripe takes."""
    values = template_values(record)
    built = []
    for custom in fields:
        value = custom.template.format(**values).strip()
        if not value or len(value) > CUSTOM_FIELD_VALUE_MAX_LENGTH:
            raise Refused(
                "custom_fields",
                f"custom field {custom.name!r} value {value!r} must be "
                f"1-{CUSTOM_FIELD_VALUE_MAX_LENGTH} characters",
            )
        built.append(CustomFieldValue(custom.name, value))
    return tuple(built)


def template_values(record: JdeInvoice) -> dict[str, object]:
    key = record.key
    return {
        "KCOO": key.kcoo,
        "DOCO": key.doco,
        "DCTO": key.dcto,
        "SFXO": key.sfxo,
        "AN8": record.an8,
        "KCO": key.kcoo,
        "DOC": key.doco,
        "DCT": key.dcto,
    }


def invoice_number(record: JdeInvoice, config: InvoiceMappingConfig) -> str | None:
    if config.number_template is None:
        return None
    number = config.number_template.format(**template_values(record)).strip()
    if not number:
        raise Refused("number", f"template {config.number_template!r} gives an empty number")
    if len(number) > INVOICE_NUMBER_MAX_LENGTH:
        raise Refused(
            "number",
            f"{number!r} is {len(number)} characters, Stripe allows {INVOICE_NUMBER_MAX_LENGTH} "
            f"(template {config.number_template!r}); a cut number could collide with another invoice",
        )
    return number


def line_description(
    line: JdeInvoiceLine, currency: str, *, max_length: int = LINE_DESCRIPTION_MAX_LENGTH
) -> str:
    """`ITEM DSC1 DSC2 (QTY UOM × PRICE)`, shortened only in the free text before the parenthesis."""
    quantity = _fields.plain_decimal(line.quantity)
    uom = clean(line.unit_of_measure)
    facts = f"{quantity} {uom}" if uom else quantity
    if line.unit_price is not None:
        facts += f" × {_fields.display_amount(line.unit_price, currency_exponent(currency))}"
    texts = [text for text in (clean(line.item), clean(line.description), clean(line.description2)) if text]
    if not texts:
        return shorten(facts, max_length)
    full = f"{' '.join(texts)} ({facts})"
    if len(full) <= max_length:
        return full
    if clean(line.description2) and len(texts) > 1:
        texts = texts[:-1]
        without_dsc2 = f"{' '.join(texts)} ({facts})"
        if len(without_dsc2) <= max_length:
            return without_dsc2
    room = max_length - len(f" ({facts})")
    if room < 2:
        return shorten(facts, max_length)
    return f"{shorten(' '.join(texts), room)} ({facts})"


def _failure(record: JdeInvoice, refused: Refused) -> MappingFailure:
    return MappingFailure.of_record("invoice", str(record.key), record, refused.field, refused.reason)


def _currency(code: str, field: str) -> str:
    try:
        return normalize_currency(code)
    except MoneyError as error:
        raise Refused(field, str(error)) from error


def _map(
    record: JdeInvoice, config: InvoiceMappingConfig, customer_id: str | None
) -> InvoiceRequest | DeleteDraftInvoice:
    header_table, detail_table = record.header_table, record.detail_table
    currency = _currency(record.currency, f"{header_table}.CRCD")

    billable = billable_lines(record, config)
    if not billable:
        reason = "every line is cancelled" if record.lines else "the document has no lines"
        return DeleteDraftInvoice(
            profile=record.profile, document_key=record.key, customer_an8=record.an8, reason=reason
        )
    if len(billable) > INVOICE_MAX_LINES:
        raise Refused(
            f"{detail_table}.LNID",
            f"{len(billable)} billable lines, Stripe allows {INVOICE_MAX_LINES} per invoice",
        )
    lines = tuple(
        _map_line(line, currency, detail_table) for line in sorted(billable, key=lambda line: line.lnid)
    )
    seen: set[str] = set()
    for mapped in lines:
        if mapped.lnid in seen:
            raise Refused(f"{detail_table}.LNID", f"line number {mapped.lnid} appears twice")
        seen.add(mapped.lnid)

    days_until_due: int | None = None
    if config.collection_method == "send_invoice":
        days_until_due = config.days_for_terms(record.payment_terms)
        if days_until_due is None:
            raise Refused(
                f"{header_table}.PTC",
                f"payment terms {record.payment_terms!r} have no days configured "
                "(set JDE_STRIPE_PAYMENT_TERMS_DAYS, e.g. 'CODE=30', or JDE_STRIPE_DAYS_UNTIL_DUE)",
            )

    custom_fields = custom_field_values(record, config.custom_fields)
    ship_to = record.ship_to
    shipping_details = (
        _fields.shipping(ship_to, whose=f"ship-to AN8 {ship_to.an8}") if ship_to is not None else None
    )
    metadata = _fields.document_metadata(record)
    return InvoiceRequest(
        profile=record.profile,
        document_key=record.key,
        customer_an8=record.an8,
        currency=currency,
        collection_method=config.collection_method,
        days_until_due=days_until_due,
        number=invoice_number(record, config),
        effective_at=local_midnight_timestamp(record.document_date, config.zone),
        shipping_details=shipping_details,
        custom_fields=custom_fields,
        metadata=metadata,
        lines=lines,
        customer_id=customer_id,
    )


def _map_line(line: JdeInvoiceLine, currency: str, detail_table: str) -> InvoiceLineRequest:
    try:
        lnid = canonical_lnid(line.lnid)
    except ValueError as error:
        raise Refused(f"{detail_table}.LNID", str(error)) from error
    if line.currency is not None and clean(line.currency) is not None:
        try:
            line_currency = normalize_currency(line.currency)
        except MoneyError as error:
            raise Refused(f"{detail_table}.CRCD", f"line {lnid}: {error}") from error
        if line_currency != currency:
            raise Refused(
                f"{detail_table}.CRCD",
                f"line {lnid} is in {line_currency.upper()}, the document in {currency.upper()}",
            )
    try:
        amount = line_minor_units(line.amount, currency)
    except MoneyError as error:
        raise Refused(f"{detail_table}.AEXP", f"line {lnid}: {error}") from error
    unit_price = (
        _fields.display_amount(line.unit_price, currency_exponent(currency))
        if line.unit_price is not None
        else None
    )
    try:
        metadata = _fields.validated_metadata(
            {
                "jde_lnid": lnid,
                "jde_item": clean(line.item),
                "jde_quantity": _fields.plain_decimal(line.quantity),
                "jde_uom": clean(line.unit_of_measure),
                "jde_unit_price": unit_price,
            }
        )
    except Refused as refused:
        raise Refused(refused.field, f"line {lnid}: {refused.reason}") from refused
    return InvoiceLineRequest(
        lnid=lnid,
        amount=amount,
        description=line_description(line, currency),
        metadata=metadata,
    )
