"""What a line costs: `amount`, `price_data` or `unit_amount_decimal` with a quantity, checked in the
invoice's currency (also used by credit notes' custom lines)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from . import errors
from .endpoint import Context
from .errors import ApiError
from .objects import THREE_DECIMAL, decimal_text, new_id

MAX_AMOUNT = 99_999_999


def check_amount(amount: int, currency: str, param: str) -> None:
    if abs(amount) > MAX_AMOUNT:
        raise ApiError(
            400,
            "Amount must be no more than 99,999,999 in the currency's minor unit.",
            code="amount_too_large",
            param=param,
        )
    if currency in THREE_DECIMAL and amount % 10 != 0:
        raise errors.parameter_invalid(
            param,
            f"Invalid amount for {currency.upper()}: for three-decimal currencies the last digit of the "
            f"amount in minor units must be 0 (got {amount}).",
        )


def line_pricing(
    ctx: Context, given: Mapping[str, Any], line: Mapping[str, Any], currency: str, param: str
) -> tuple[Decimal, Decimal, dict[str, Any]] | None:
    """Work out (unit amount, quantity, pricing) from a create or update; None when no amount is touched."""
    has_amount = "amount" in given
    price_data = given.get("price_data")
    top_unit = given.get("unit_amount_decimal")
    if "pricing" in given and given["pricing"].get("price"):
        raise errors.resource_missing(
            "price", given["pricing"]["price"], param=nested_param(param, "pricing[price]"), status=400
        )
    if has_amount and price_data is not None:
        raise errors.parameters_exclusive(nested_param(param, "amount"), nested_param(param, "price_data"))
    if has_amount and top_unit is not None:
        raise errors.parameters_exclusive(
            nested_param(param, "amount"), nested_param(param, "unit_amount_decimal")
        )
    if "quantity" in given and "quantity_decimal" in given:
        raise errors.parameters_exclusive(
            nested_param(param, "quantity"), nested_param(param, "quantity_decimal")
        )
    quantity_decimal = "quantity_decimal" in given
    if "quantity" in given:
        quantity = Decimal(given["quantity"])
    elif quantity_decimal:
        quantity = given["quantity_decimal"]
    else:
        quantity = (
            Decimal(line["quantity_decimal"]) if line.get("quantity_decimal") is not None else Decimal(1)
        )
    price_details: dict[str, Any] | None = None
    if has_amount:
        if quantity != 1:
            raise errors.parameter_invalid(
                nested_param(param, "quantity"),
                "When `amount` is given, `quantity` must be 1 (or left out); give `unit_amount_decimal` "
                "and `quantity` instead.",
            )
        unit = Decimal(given["amount"])
    elif price_data is not None:
        if price_data["currency"] != currency:
            raise currency_mismatch(
                price_data["currency"], currency, nested_param(param, "price_data[currency]")
            )
        unit = unit_amount(price_data, lambda name: nested_param(param, f"price_data[{name}]"))
        if "product" in price_data and "product_data" in price_data:
            raise errors.parameters_exclusive(
                nested_param(param, "price_data[product]"), nested_param(param, "price_data[product_data]")
            )
        if "product" in price_data:
            raise errors.resource_missing(
                "product", price_data["product"], param=nested_param(param, "price_data[product]"), status=400
            )
        if "product_data" not in price_data:
            raise errors.parameter_missing(nested_param(param, "price_data[product_data]"))
        price_details = {"price": new_id("price_"), "product": new_id("prod_", 14)}
    elif top_unit is not None:
        unit = top_unit
    elif "quantity" in given or quantity_decimal:
        # Only the quantity changes: keep the unit amount.
        if line.get("pricing") is None:
            return None
        unit = Decimal(line["pricing"]["unit_amount_decimal"])
        price_details = line["pricing"].get("price_details")
    else:
        return None
    pricing: dict[str, Any] = {
        "price_details": price_details,
        "type": "price_details",
        "unit_amount_decimal": decimal_text(unit),
    }
    if price_details is None:
        pricing = {"type": "price_details", "unit_amount_decimal": decimal_text(unit)}
    return unit, quantity, pricing


def unit_amount(given: Mapping[str, Any], name: Callable[[str], str]) -> Decimal:
    """A price's unit amount in minor units: `unit_amount` or `unit_amount_decimal`, exactly one
    (`name` turns a field into the parameter path an error names)."""
    if "unit_amount" in given and "unit_amount_decimal" in given:
        raise errors.parameters_exclusive(name("unit_amount"), name("unit_amount_decimal"))
    if "unit_amount" in given:
        return Decimal(given["unit_amount"])
    if "unit_amount_decimal" in given:
        return Decimal(given["unit_amount_decimal"])
    raise errors.parameter_missing(name("unit_amount"))


def nested_param(prefix: str, name: str) -> str:
    """A name inside a list entry: ("lines[0]", "price_data[currency]") → lines[0][price_data][currency]."""
    if not prefix:
        return name
    head, bracket, rest = name.partition("[")
    return f"{prefix}[{head}]" + (bracket + rest if bracket else "")


def currency_mismatch(given: str, expected: str, param: str) -> ApiError:
    return errors.parameter_invalid(
        param,
        f"The currency of this invoice item ({given}) must match the currency of the invoice ({expected}).",
    )
