"""Object shapes, as Stripe's published example objects (fixtures3.json) and OpenAPI schemas
(spec3.subset.json, 2026-07-29.dahlia) have them, for API 2026-10-28.endive: an invoice's subscription
lives under `parent` (null for a one-off invoice), not `invoice.subscription`; `amount_paid_off_stripe`
is always there; a customer's unset `business_name`/`individual_name` are absent, not null.

Objects are stored as the JSON Stripe returns (plain dicts), plus a few private `_` keys the views strip.
Only `lines` of an invoice is computed when rendered, so totals and lines never disagree.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .taxes import line_taxes

_ALPHABET = string.ascii_letters + string.digits

THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

ACCOUNT_COUNTRY = "US"
ACCOUNT_CURRENCY = "usd"


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def request_id() -> str:
    return new_id("req_", 14)


def empty_address() -> dict[str, Any]:
    return {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}


ABSENT_WHEN_UNSET = {"customer": frozenset({"business_name", "individual_name"})}
"""Fields Stripe leaves out of an object while they are unset (not nullable in the OpenAPI spec)."""


def public(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as Stripe returns it: private `_` keys dropped, unset absent-when-unset fields left out."""
    absent = ABSENT_WHEN_UNSET.get(obj.get("object", ""), frozenset())
    return {k: v for k, v in obj.items() if not k.startswith("_") and not (k in absent and v is None)}


def new_customer(now: int, seq: int) -> dict[str, Any]:
    return {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
        "_seq": seq,
    }


def new_invoice(now: int, seq: int, customer: Mapping[str, Any], currency: str) -> dict[str, Any]:
    return {
        "id": new_id("in_"),
        "object": "invoice",
        "account_country": ACCOUNT_COUNTRY,
        "account_name": "JDE Stripe Emulator",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": "manual",
        "collection_method": "charge_automatically",
        "created": now,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": now,
        "period_start": now,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
        "_seq": seq,
    }


def new_invoice_item(now: int, seq: int, customer_id: str, currency: str) -> dict[str, Any]:
    item_id = new_id("ii_")
    return {
        "id": item_id,
        "object": "invoiceitem",
        "amount": 0,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "date": now,
        "description": None,
        "discountable": True,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": 0,
        "parent": None,
        "period": {"end": now, "start": now},
        "pricing": None,
        "proration": False,
        "quantity": 1,
        "quantity_decimal": "1",
        "tax_rates": [],
        "test_clock": None,
        "_seq": seq,
        "_line_id": "il_" + item_id[3:],
    }


def line_amount(unit_amount_decimal: Decimal, quantity: Decimal) -> int:
    """Stripe multiplies the unit amount by the quantity and rounds to a whole minor unit (half up)."""
    return int((unit_amount_decimal * quantity).to_integral_value(rounding=ROUND_HALF_UP))


def decimal_text(value: Decimal) -> str:
    """Decimal as Stripe prints it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def line_item_view(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": item["_line_id"],
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": [],
        "invoice": item["invoice"],
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": item["pricing"],
        "quantity": item["quantity"],
        "quantity_decimal": item["quantity_decimal"],
        "subscription": None,
        "subtotal": item["amount"],
        "taxes": line_taxes(item),
    }


def list_envelope(url: str, data: Sequence[Mapping[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": list(data), "has_more": has_more, "url": url}


def search_envelope(
    url: str, data: Sequence[Mapping[str, Any]], next_page: str | None, total_count: int | None
) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "object": "search_result",
        "data": list(data),
        "has_more": next_page is not None,
        "next_page": next_page,
        "url": url,
    }
    if total_count is not None:
        envelope["total_count"] = total_count
    return envelope


def deleted_view(object_name: str, object_id: str) -> dict[str, Any]:
    return {"id": object_id, "object": object_name, "deleted": True}


def balance_view() -> dict[str, Any]:
    zero = {"amount": 0, "currency": ACCOUNT_CURRENCY, "source_types": {"card": 0}}
    return {
        "object": "balance",
        "available": [dict(zero)],
        "connect_reserved": [{"amount": 0, "currency": ACCOUNT_CURRENCY}],
        "livemode": False,
        "pending": [dict(zero)],
    }
