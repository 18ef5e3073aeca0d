"""What the endpoint modules share: lookups by id, list filters and paging, the customer and invoice
views, and `expand` (which needs those views)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .endpoint import Context
from .objects import deleted_view, line_item_view, list_envelope, public

EMBEDDED_LINES = 10
"""Lines an invoice or credit note embeds in `lines`, as Stripe does; the rest via its lines list."""


# --- shared helpers ----------------------------------------------------------------------------------


def find_live_customer(
    ctx: Context, customer_id: str, param: str = "id", status: int = 404
) -> dict[str, Any]:
    customer = ctx.store.get("customer", customer_id)
    if customer is None or customer.get("deleted"):
        raise errors.resource_missing("customer", customer_id, param=param, status=status)
    return customer


def find_invoice(ctx: Context, invoice_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
    invoice = ctx.store.get("invoice", invoice_id)
    if invoice is None:
        raise errors.resource_missing("invoice", invoice_id, param=param, status=status)
    return invoice


def find_item(ctx: Context, item_id: str, param: str = "id", status: int = 404) -> dict[str, Any]:
    item = ctx.store.get("invoiceitem", item_id)
    if item is None:
        raise errors.resource_missing("invoiceitem", item_id, param=param, status=status)
    return item


def items_of_invoice(ctx: Context, invoice_id: str) -> list[dict[str, Any]]:
    return ctx.store.items_of(invoice_id)


def newest_first(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objects, key=lambda o: (o["created"], o["_seq"]), reverse=True)


def in_range(value: int | None, bounds: Mapping[str, int]) -> bool:
    if value is None:
        return False
    checks = {
        "eq": value == bounds.get("eq", value),
        "gt": value > bounds.get("gt", value - 1),
        "gte": value >= bounds.get("gte", value),
        "lt": value < bounds.get("lt", value + 1),
        "lte": value <= bounds.get("lte", value),
    }
    return all(checks[name] for name in bounds)


def list_page(
    ordered: Sequence[dict[str, Any]], params: Mapping[str, Any], object_name: str, key: str = "id"
) -> tuple[list[dict[str, Any]], bool]:
    """Cursor paging as Stripe does it: `starting_after` / `ending_before` name an object in the list."""
    limit = params.get("limit", 10)
    if "starting_after" in params and "ending_before" in params:
        raise errors.parameters_exclusive("starting_after", "ending_before")
    ids = [o[key] for o in ordered]
    if "starting_after" in params:
        cursor = params["starting_after"]
        if cursor not in ids:
            raise errors.resource_missing(object_name, cursor, param="starting_after", status=400)
        rest = list(ordered[ids.index(cursor) + 1 :])
        return rest[:limit], len(rest) > limit
    if "ending_before" in params:
        cursor = params["ending_before"]
        if cursor not in ids:
            raise errors.resource_missing(object_name, cursor, param="ending_before", status=400)
        before = list(ordered[: ids.index(cursor)])
        return before[-limit:], len(before) > limit
    return list(ordered[:limit]), len(ordered) > limit


# --- views -------------------------------------------------------------------------------------------


def customer_view(customer: Mapping[str, Any]) -> dict[str, Any]:
    if customer.get("deleted"):
        return deleted_view("customer", customer["id"])
    return public(customer)


def invoice_view(ctx: Context, invoice: Mapping[str, Any]) -> dict[str, Any]:
    view = public(invoice)
    items = items_of_invoice(ctx, invoice["id"])
    view["lines"] = list_envelope(
        f"/v1/invoices/{invoice['id']}/lines",
        [line_item_view(item) for item in items[:EMBEDDED_LINES]],
        len(items) > EMBEDDED_LINES,
    )
    return view


# --- expansion ---------------------------------------------------------------------------------------


def _expand(ctx: Context, body: dict[str, Any], expand: Sequence[str], is_list: bool) -> dict[str, Any]:
    for path in expand:
        parts = path.split(".")
        if is_list:
            if parts[0] != "data" or len(parts) < 2:
                raise errors.parameter_invalid("expand", f"This property cannot be expanded ({path}).")
            for obj in body["data"]:
                _expand_one(ctx, obj, parts[1:], path)
        elif parts == ["total_count"]:
            continue
        else:
            _expand_one(ctx, body, parts, path)
    return body


def _expand_one(ctx: Context, obj: dict[str, Any], parts: Sequence[str], path: str) -> None:
    name = parts[0]
    expandable = {("invoice", "customer"), ("invoiceitem", "customer"), ("invoiceitem", "invoice")}
    if (obj.get("object"), name) not in expandable or len(parts) > 2:
        raise errors.parameter_invalid("expand", f"This property cannot be expanded ({path}).")
    target_id = obj.get(name)
    if target_id is None:
        return
    if name == "customer":
        customer = ctx.store.get("customer", target_id)
        obj[name] = customer_view(customer) if customer is not None else target_id
    else:
        invoice = ctx.store.get("invoice", target_id)
        obj[name] = invoice_view(ctx, invoice) if invoice is not None else target_id


def expand_result(ctx: Context, body: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    expand = params.get("expand") or []
    if not expand or "error" in body or body.get("deleted"):
        return body
    return _expand(ctx, body, expand, body.get("object") in ("list", "search_result"))
