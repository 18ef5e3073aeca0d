"""`/v1/invoiceitems`: create, retrieve, update, delete, list; an item on a draft invoice is one of its
lines (`apply_item_params` turns create or update params into the item, for invoice_lines.py too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .common import find_invoice, find_item, find_live_customer, in_range, items_of_invoice, list_page
from .endpoint import Context
from .invoices import MAX_INVOICE_ITEMS, recompute_totals, require_draft, too_many_items
from .objects import (
    ACCOUNT_CURRENCY,
    decimal_text,
    deleted_view,
    line_amount,
    list_envelope,
    new_invoice_item,
    public,
)
from .params import apply_metadata
from .pricing import check_amount, currency_mismatch, line_pricing, nested_param
from .taxes import apply_tax_amounts


def apply_item_params(
    ctx: Context, item: dict[str, Any], given: Mapping[str, Any], param: str, creating: bool
) -> None:
    """Apply create/update params to an invoice item; amounts are recomputed, exactly, in minor units."""
    priced = line_pricing(ctx, given, item, item["currency"], param)
    if priced is None and creating:
        raise errors.parameter_missing(nested_param(param, "amount"))
    if priced is not None:
        unit, quantity, pricing = priced
        amount = line_amount(unit, quantity)
        check_amount(amount, item["currency"], nested_param(param, "amount"))
        item["amount"] = amount
        item["net_amount"] = amount
        item["pricing"] = pricing
        whole = quantity == quantity.to_integral_value()
        item["quantity"] = int(quantity) if whole else None
        item["quantity_decimal"] = decimal_text(quantity)
    if "description" in given:
        item["description"] = given["description"]
    elif creating and given.get("price_data", {}).get("product_data"):
        item["description"] = given["price_data"]["product_data"]["name"]
    if "discountable" in given:
        item["discountable"] = given["discountable"]
    if "period" in given:
        if given["period"]["end"] < given["period"]["start"]:
            raise errors.parameter_invalid(
                nested_param(param, "period[end]"), "The period end must be on or after its start."
            )
        item["period"] = {"end": given["period"]["end"], "start": given["period"]["start"]}
    if "metadata" in given:
        apply_metadata(item, given["metadata"], nested_param(param, "metadata"))
    if "tax_amounts" in given:
        apply_tax_amounts(item, given["tax_amounts"], param)


def check_room_for_items(ctx: Context, invoice: Mapping[str, Any], adding: int) -> None:
    if len(items_of_invoice(ctx, invoice["id"])) + adding > MAX_INVOICE_ITEMS:
        raise too_many_items(invoice["id"])


def create_item(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = None
    if "invoice" in params:
        invoice = find_invoice(ctx, params["invoice"], param="invoice", status=400)
        require_draft(invoice, "add invoice items to")
    if "customer" in params:
        customer = find_live_customer(ctx, params["customer"], param="customer", status=400)
    elif invoice is not None:
        customer = find_live_customer(ctx, invoice["customer"], param="invoice", status=400)
    else:
        raise errors.parameter_missing("customer")
    if invoice is not None and invoice["customer"] != customer["id"]:
        raise errors.parameter_invalid(
            "invoice", f"The invoice {invoice['id']} belongs to another customer than {customer['id']}."
        )
    currency = (
        params.get("currency") or (invoice["currency"] if invoice else None) or customer.get("currency")
    )
    if currency is None:
        currency = params.get("price_data", {}).get("currency") or ACCOUNT_CURRENCY
    if invoice is not None and currency != invoice["currency"]:
        raise currency_mismatch(currency, invoice["currency"], "currency")
    if invoice is not None:
        check_room_for_items(ctx, invoice, 1)
    item = new_invoice_item(ctx.timestamp, ctx.store.next_seq(), customer["id"], currency)
    item["invoice"] = invoice["id"] if invoice else None
    apply_item_params(ctx, item, params, "", creating=True)
    ctx.store.put("invoiceitem", item)
    if invoice is not None:
        updated = dict(invoice)
        recompute_totals(ctx, updated)
        ctx.store.put("invoice", updated)
    return 200, public(item)


def retrieve_item(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, public(find_item(ctx, ids[0]))


def _owning_draft(ctx: Context, item: Mapping[str, Any]) -> dict[str, Any] | None:
    if item["invoice"] is None:
        return None
    invoice = find_invoice(ctx, item["invoice"])
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"The invoice item {item['id']} is on invoice {invoice['id']}, which is {invoice['status']}; "
            "the items of a finalized invoice can no longer be changed."
        )
    return dict(invoice)


def update_item(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    item = dict(find_item(ctx, ids[0]))
    invoice = _owning_draft(ctx, item)
    apply_item_params(ctx, item, params, "", creating=False)
    ctx.store.put("invoiceitem", item)
    if invoice is not None:
        recompute_totals(ctx, invoice)
        ctx.store.put("invoice", invoice)
    return 200, public(item)


def delete_item(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    item = find_item(ctx, ids[0])
    invoice = _owning_draft(ctx, item)
    ctx.store.remove("invoiceitem", item["id"])
    if invoice is not None:
        recompute_totals(ctx, invoice)
        ctx.store.put("invoice", invoice)
    return 200, deleted_view("invoiceitem", item["id"])


def list_items(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    items = list(ctx.store.objects["invoiceitem"].values())
    for name in ("customer", "invoice"):
        if name in params:
            items = [i for i in items if i[name] == params[name]]
    if "pending" in params:
        items = [i for i in items if (i["invoice"] is None) == params["pending"]]
    if "created" in params:
        items = [i for i in items if in_range(i["date"], params["created"])]
    ordered = sorted(items, key=lambda i: (i["date"], i["_seq"]), reverse=True)
    page, has_more = list_page(ordered, params, "invoiceitem")
    return 200, list_envelope("/v1/invoiceitems", [public(i) for i in page], has_more)
