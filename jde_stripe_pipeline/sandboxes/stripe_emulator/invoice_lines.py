"""A draft invoice's lines: add, update and remove them in bulk (all or nothing), list them, update one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .common import find_invoice, find_item, invoice_view, items_of_invoice, list_page
from .endpoint import Context
from .invoice_items import apply_item_params, check_room_for_items
from .invoices import recompute_totals, require_draft
from .objects import line_item_view, list_envelope, new_invoice_item
from .params import apply_metadata
from .pricing import currency_mismatch, nested_param


def _item_by_line(ctx: Context, invoice: Mapping[str, Any], line_id: str, param: str) -> dict[str, Any]:
    for item in items_of_invoice(ctx, invoice["id"]):
        if line_id in (item["_line_id"], item["id"]):
            return dict(item)
    raise errors.resource_missing("line item", line_id, param=param, status=400 if param != "id" else 404)


def _bulk_prelude(ctx: Context, ids: Sequence[str], params: Mapping[str, Any], what: str) -> dict[str, Any]:
    invoice = dict(find_invoice(ctx, ids[0]))
    require_draft(invoice, what)
    if "lines" not in params or not params["lines"]:
        raise errors.parameter_missing("lines")
    return invoice


def _bulk_finish(
    ctx: Context, invoice: dict[str, Any], params: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    if "invoice_metadata" in params:
        apply_metadata(invoice, params["invoice_metadata"], "invoice_metadata")
    recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, invoice_view(ctx, invoice)


def add_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "add lines to")
    check_room_for_items(ctx, invoice, len(params["lines"]))
    staged: list[dict[str, Any]] = []
    for index, line in enumerate(params["lines"]):
        param = f"lines[{index}]"
        if "invoice_item" in line:
            item = dict(
                find_item(ctx, line["invoice_item"], param=nested_param(param, "[invoice_item]"), status=400)
            )
            if item["invoice"] is not None:
                raise errors.parameter_invalid(
                    nested_param(param, "[invoice_item]"),
                    f"The invoice item {item['id']} is already attached to invoice {item['invoice']}.",
                )
            if item["customer"] != invoice["customer"]:
                raise errors.parameter_invalid(
                    nested_param(param, "[invoice_item]"),
                    f"The invoice item {item['id']} belongs to another customer.",
                )
            if item["currency"] != invoice["currency"]:
                raise currency_mismatch(
                    item["currency"], invoice["currency"], nested_param(param, "[invoice_item]")
                )
            apply_item_params(
                ctx, item, {k: v for k, v in line.items() if k != "invoice_item"}, param, creating=False
            )
        else:
            item = new_invoice_item(
                ctx.timestamp, ctx.store.next_seq(), invoice["customer"], invoice["currency"]
            )
            apply_item_params(ctx, item, line, param, creating=True)
        item["invoice"] = invoice["id"]
        staged.append(item)
    for item in staged:  # all lines checked before any is stored: the call is all or nothing
        ctx.store.put("invoiceitem", item)
    return _bulk_finish(ctx, invoice, params)


def update_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "update lines of")
    staged = []
    for index, line in enumerate(params["lines"]):
        param = f"lines[{index}]"
        item = _item_by_line(ctx, invoice, line["id"], nested_param(param, "[id]"))
        apply_item_params(ctx, item, {k: v for k, v in line.items() if k != "id"}, param, creating=False)
        staged.append(item)
    for item in staged:
        ctx.store.put("invoiceitem", item)
    return _bulk_finish(ctx, invoice, params)


def remove_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "remove lines from")
    staged = [
        (line["behavior"], _item_by_line(ctx, invoice, line["id"], f"lines[{index}][id]"))
        for index, line in enumerate(params["lines"])
    ]
    for behavior, item in staged:
        if behavior == "delete":
            ctx.store.remove("invoiceitem", item["id"])
        else:
            ctx.store.put("invoiceitem", {**item, "invoice": None})
    return _bulk_finish(ctx, invoice, params)


def list_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = find_invoice(ctx, ids[0])
    lines = [line_item_view(item) for item in items_of_invoice(ctx, invoice["id"])]
    page, has_more = list_page(lines, params, "line item")
    return 200, list_envelope(f"/v1/invoices/{invoice['id']}/lines", page, has_more)


def update_line(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(find_invoice(ctx, ids[0]))
    require_draft(invoice, "update lines of")
    item = _item_by_line(ctx, invoice, ids[1], "id")
    apply_item_params(ctx, item, {k: v for k, v in params.items() if k != "expand"}, "", creating=False)
    ctx.store.put("invoiceitem", item)
    recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, line_item_view(item)
