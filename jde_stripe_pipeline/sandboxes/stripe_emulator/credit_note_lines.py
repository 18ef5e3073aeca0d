"""A credit note's lines from its request: part of an invoice line (its tax credited in proportion, half
up) or a custom line (its own `tax_amounts`, on tax rates an invoice line made), checked against what
issued credit notes already credit."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import errors
from .endpoint import Context
from .objects import decimal_text
from .pricing import unit_amount


def line_param(index: int, name: str) -> str:
    return f"lines[{index}][{name}]"


def known_tax_rates(ctx: Context) -> set[str]:
    """Tax rates 'Stripe created': the ones invoice lines' `tax_amounts` made."""
    return {
        tax["tax_rate"]
        for item in ctx.store.objects["invoiceitem"].values()
        for tax in item.get("_tax_amounts", [])
    }


def already_credited(ctx: Context, invoice_id: str) -> tuple[int, dict[str, int]]:
    """What issued credit notes already credit on an invoice: in total, and per invoice line."""
    total, by_line = 0, dict[str, int]()
    for note in ctx.store.objects["credit_note"].values():
        if note["invoice"] == invoice_id and note["status"] == "issued":
            total += note["total"]
            for line in note["_lines"]:
                if line.get("invoice_line_item"):
                    by_line[line["invoice_line_item"]] = (
                        by_line.get(line["invoice_line_item"], 0) + line["amount"]
                    )
    return total, by_line


def invoice_line_credit(
    ctx: Context,
    invoice: Mapping[str, Any],
    given: Mapping[str, Any],
    index: int,
    credited: Mapping[str, int],
) -> dict[str, Any]:
    if "invoice_line_item" not in given:
        raise errors.parameter_missing(line_param(index, "invoice_line_item"))
    for name in ("description", "unit_amount", "unit_amount_decimal", "tax_amounts"):
        if name in given:
            raise errors.parameter_invalid(
                line_param(index, name), f"`{name}` is only valid on lines of type `custom_line_item`."
            )
    line_id = given["invoice_line_item"]
    item = next((i for i in ctx.store.items_of(invoice["id"]) if line_id in (i["_line_id"], i["id"])), None)
    if item is None:
        raise errors.resource_missing(
            "line item", line_id, param=line_param(index, "invoice_line_item"), status=400
        )
    if "amount" in given and "quantity" in given:
        raise errors.parameters_exclusive(line_param(index, "amount"), line_param(index, "quantity"))
    if "amount" in given:
        amount = given["amount"]
    else:
        quantity = Decimal(given.get("quantity", item["quantity"] or 1))
        whole = Decimal(item["quantity_decimal"] or 1)
        amount = int((Decimal(item["amount"]) * quantity / whole).to_integral_value(ROUND_HALF_UP))
    left = item["amount"] - credited.get(item["_line_id"], 0)
    if amount > left:
        raise errors.parameter_invalid(
            line_param(index, "amount"),
            f"The credit amount ({amount}) exceeds what is left to credit on line {item['_line_id']} "
            f"({left}).",
        )
    share = Decimal(amount) / Decimal(item["amount"]) if item["amount"] else Decimal(0)
    taxes = [
        {
            "amount": int((Decimal(tax["amount"]) * share).to_integral_value(ROUND_HALF_UP)),
            "taxable_amount": int((Decimal(tax["taxable_amount"]) * share).to_integral_value(ROUND_HALF_UP)),
            "tax_rate": tax["tax_rate"],
            "_inclusive": tax["inclusive"],
        }
        for tax in item.get("_tax_amounts", [])
    ]
    return {
        "type": "invoice_line_item",
        "invoice_line_item": item["_line_id"],
        "description": item["description"],
        "amount": amount,
        "quantity": given.get("quantity", 1),
        "unit_amount": None,
        "unit_amount_decimal": None,
        "_taxes": taxes,
        "metadata": {},
    }


def custom_line_credit(
    ctx: Context, given: Mapping[str, Any], index: int, known_rates: set[str]
) -> dict[str, Any]:
    for name in ("invoice_line_item", "amount"):
        if name in given:
            raise errors.parameter_invalid(
                line_param(index, name), f"`{name}` is only valid on lines of type `invoice_line_item`."
            )
    if "description" not in given:
        raise errors.parameter_missing(line_param(index, "description"))
    unit = unit_amount(given, lambda name: line_param(index, name))
    quantity = given.get("quantity", 1)
    amount = int((unit * quantity).to_integral_value(ROUND_HALF_UP))
    taxes = []
    for position, entry in enumerate(given.get("tax_amounts") or []):
        if entry["tax_rate"] not in known_rates:
            param = f"lines[{index}][tax_amounts][{position}][tax_rate]"
            raise errors.resource_missing("tax_rate", entry["tax_rate"], param=param, status=400)
        taxes.append({**entry, "_inclusive": False})
    return {
        "type": "custom_line_item",
        "invoice_line_item": None,
        "description": given["description"],
        "amount": amount,
        "quantity": quantity,
        "unit_amount": int(unit) if unit == unit.to_integral_value() else None,
        "unit_amount_decimal": decimal_text(unit),
        "_taxes": taxes,
        "metadata": dict(given.get("metadata") or {}),
    }
