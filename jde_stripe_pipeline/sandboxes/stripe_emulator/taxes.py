"""Invoice-line `tax_amounts` (tax computed outside Stripe), as Stripe takes and totals them.

Why: the `ar_invoice` profile sends JDE's own tax per line (no Stripe Tax, no tax rates). Stripe
accepts `lines[][tax_amounts][]` on add_lines/update_lines/lines/{id} with `amount`,
`taxable_amount` and `tax_rate_data{display_name, inclusive, percentage}` (all required, spec3);
`""` clears them. The invoice total is subtotal + exclusive tax; inclusive tax is inside the line
amount, so it only lowers `total_excluding_tax`.
Departures: Stripe creates a reusable tax rate per distinct `tax_rate_data`; here each distinct
(display_name, inclusive, percentage) gets one stable `txr_` id derived from it, and
`taxability_reason` is echoed (default `standard_rated`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import errors
from .forms import UNSET, Arr, Bool, Dec, Enum, Int, Obj, Str

_TAXABILITY = (
    "customer_exempt",
    "not_collecting",
    "not_subject_to_tax",
    "not_supported",
    "portion_product_exempt",
    "portion_reduced_rated",
    "portion_standard_rated",
    "product_exempt",
    "product_exempt_holiday",
    "proportionally_rated",
    "reduced_rated",
    "reverse_charge",
    "standard_rated",
    "taxable_basis_reduced",
    "zero_rated",
)

TAX_AMOUNTS = Arr(
    emptyable=True,
    item=Obj(
        fields={
            "amount": Int(),
            "taxable_amount": Int(),
            "taxability_reason": Enum(values=_TAXABILITY),
            "tax_rate_data": Obj(
                fields={
                    "country": Str(max_length=5000),
                    "description": Str(max_length=5000),
                    "display_name": Str(max_length=200),
                    "inclusive": Bool(),
                    "jurisdiction": Str(max_length=200),
                    "percentage": Dec(),
                    "state": Str(max_length=5000),
                },
                required=("display_name", "inclusive", "percentage"),
            ),
        },
        required=("amount", "tax_rate_data", "taxable_amount"),
    ),
)


def apply_tax_amounts(item: dict[str, Any], given: object, param: str) -> None:
    """Store a line's tax amounts (UNSET clears them); a negative percentage is refused."""
    if given is UNSET:
        item["_tax_amounts"] = []
        return
    stored: list[dict[str, Any]] = []
    entries: Sequence[Mapping[str, Any]] = given  # type: ignore[assignment]
    for index, entry in enumerate(entries):
        data = entry["tax_rate_data"]
        percentage = Decimal(data["percentage"])
        if percentage < 0 or percentage > 100:
            raise errors.parameter_invalid(
                f"{param}[tax_amounts][{index}][tax_rate_data][percentage]"
                if param
                else f"tax_amounts[{index}][tax_rate_data][percentage]",
                "The percentage must be between 0 and 100.",
            )
        key = f"{data['display_name']}|{bool(data['inclusive'])}|{format(percentage.normalize(), 'f')}"
        rate = "txr_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        stored.append(
            {
                "amount": entry["amount"],
                "inclusive": bool(data["inclusive"]),
                "tax_rate": rate,
                "taxability_reason": entry.get("taxability_reason", "standard_rated"),
                "taxable_amount": entry["taxable_amount"],
            }
        )
    item["_tax_amounts"] = stored


def line_taxes(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A line's `taxes` as Stripe renders them (also the invoice's `total_taxes` entries)."""
    return [
        {
            "amount": tax["amount"],
            "tax_behavior": "inclusive" if tax["inclusive"] else "exclusive",
            "tax_rate_details": {"tax_rate": tax["tax_rate"]},
            "taxability_reason": tax["taxability_reason"],
            "taxable_amount": tax["taxable_amount"],
            "type": "tax_rate_details",
        }
        for tax in item.get("_tax_amounts", [])
    ]


def tax_totals(items: Sequence[Mapping[str, Any]]) -> tuple[int, int, list[dict[str, Any]]]:
    """(exclusive tax, inclusive tax, total_taxes) over an invoice's items."""
    taxes = [tax for item in items for tax in line_taxes(item)]
    exclusive = sum(t["amount"] for t in taxes if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for t in taxes if t["tax_behavior"] == "inclusive")
    return exclusive, inclusive, taxes
