"""An A/R document's Stripe lines with JDE's tax: sales lines if any, else one line per pay item.

Why: the `ar_invoice` profile's invoice is the F03B11 document; its lines are the F42119/F4211
sales lines matched on DOC/DCT/KCO, or (no sales lines) one line per pay item with its remark.
Tax is JDE's: F0018 per line when given, else the pay items' STAM/CTAM allocated to taxable lines
(`mapping/tax.py`). The result must total JDE's gross to the minor unit, or it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from jde_stripe_pipeline.jde.ar_documents import ArDocument
from jde_stripe_pipeline.mapping.money import currency_rule, line_minor_units, to_minor_units
from jde_stripe_pipeline.mapping.tax import (
    LineTax,
    TaxableLine,
    allocate_tax,
    check_total,
    line_taxes_from_source,
    tax_amounts_param,
    tax_display_name,
    tax_metadata,
)


@dataclass(frozen=True)
class ArSalesLine:
    """A sales line of the document (F42119/F4211): key (LNID), text, extended amount, TAX1 flag."""

    key: str
    description: str
    amount: Decimal
    taxable: bool


def ar_lines(
    document: ArDocument,
    sales_lines: Sequence[ArSalesLine] = (),
    line_tax: Mapping[str, Decimal] | None = None,
    tax_description: str = "",
    percentage: Decimal | None = None,
) -> list[dict[str, object]]:
    """Stripe `lines` params (amount, description, metadata, tax_amounts) for one document.

    `percentage`: JDE's rate (F0018's TXR1..5) when known, else the rate the amounts imply."""
    name = str(document.key)
    currency = document.currency
    if sales_lines:
        lines = [
            (line.key, line.description, line_minor_units(line.amount, currency), line.taxable)
            for line in sales_lines
        ]
    else:
        lines = [
            (
                f"SFX {item.sfx}",
                item.remark or f"Pay item {item.sfx}",
                line_minor_units(item.gross - item.tax, currency),
                item.tax != 0,
            )
            for item in document.pay_items
        ]
    taxable = [TaxableLine(key, amount, flag) for key, _, amount, flag in lines]
    taxes: list[LineTax]
    if line_tax is not None:
        by_line = {key: to_minor_units(value, currency) for key, value in line_tax.items()}
        taxes = line_taxes_from_source(name, by_line, taxable)
    else:
        step = currency_rule(currency).multiple_of
        taxes = allocate_tax(name, to_minor_units(document.tax, currency), taxable, step)
    tax_by_key = {tax.key: tax for tax in taxes}
    check_total(
        name,
        sum(amount for _, _, amount, _ in lines),
        sum(tax.tax_minor for tax in taxes),
        to_minor_units(document.gross, currency),
    )
    first = document.pay_items[0] if document.pay_items else None
    display = tax_display_name(
        first.tax_area if first else "", first.tax_explanation if first else "", tax_description
    )
    params: list[dict[str, object]] = []
    for key, description, amount, _ in lines:
        metadata = {"jde_line": key}
        entry: dict[str, object] = {"amount": amount, "description": description}
        if key in tax_by_key:
            entry["tax_amounts"] = tax_amounts_param(
                tax_by_key[key], display_name=display, percentage=percentage
            )
            metadata.update(tax_metadata(tax_by_key[key]))
        entry["metadata"] = metadata
        params.append(entry)
    return params
