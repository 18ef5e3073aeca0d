"""A draft invoice's lines: add, update and remove them in bulk (all or nothing), list them, update one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .common import _invoice, _invoice_view, _item, _items_of, _page
from .endpoint import Context
from .invoice_items import _apply_line, _attach_check
from .invoices import _recompute_totals, _require_draft
from .objects import line_item_view, list_envelope, new_invoice_item
from .params import _apply_metadata
from .pricing import _currency_mismatch, _p


def _item_by_line(ctx: Context, invoice: Mapping[str, Any], line_id: str, param: str) -> dict[str, Any]:
    for item in _items_of(ctx, invoice["id"]):
        if line_id in (item["_line_id"], item["id"]):
            return dict(item)
    raise errors.resource_missing("line item", line_id, param=param, status=400 if param != "id" else 404)


def _bulk_prelude(ctx: Context, ids: Sequence[str], params: Mapping[str, Any], what: str) -> dict[str, Any]:
    invoice = dict(_invoice(ctx, ids[0]))
    _require_draft(invoice, what)
    if "lines" not in params or not params["lines"]:
        raise errors.parameter_missing("lines")
    return invoice


def _bulk_finish(
    ctx: Context, invoice: dict[str, Any], params: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    if "invoice_metadata" in params:
        _apply_metadata(invoice, params["invoice_metadata"], "invoice_metadata")
    _recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, _invoice_view(ctx, invoice)


def add_lines(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = _bulk_prelude(ctx, ids, params, "add lines to")
    _attach_check(ctx, invoice, len(params["lines"]))
    staged: list[dict[str, Any]] = []
    for index, line in enumerate(params["lines"]):
        param = f"lines[{index}]"
        if "invoice_item" in line:
            item = dict(_item(ctx, line["invoice_item"], param=_p(param, "[invoice_item]"), status=400))
            if item["invoice"] is not None:
                raise errors.parameter_invalid(
                    _p(param, "[invoice_item]"),
                    f"The invoice item {item['id']} is already attached to invoice {item['invoice']}.",
                )
            if item["customer"] != invoice["customer"]:
                raise errors.parameter_invalid(
                    _p(param, "[invoice_item]"), f"The invoice item {item['id']} belongs to another customer."
                )
            if item["currency"] != invoice["currency"]:
                raise _currency_mismatch(item["currency"], invoice["currency"], _p(param, "[invoice_item]"))
            _apply_line(
                ctx, item, {k: v for k, v in line.items() if k != "invoice_item"}, param, creating=False
            )
        else:
            item = new_invoice_item(
                ctx.timestamp, ctx.store.next_seq(), invoice["customer"], invoice["currency"]
            )
            _apply_line(ctx, item, line, param, creating=True)
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
        item = _item_by_line(ctx, invoice, line["id"], _p(param, "[id]"))
        _apply_line(ctx, item, {k: v for k, v in line.items() if k != "id"}, param, creating=False)
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
    invoice = _invoice(ctx, ids[0])
    lines = [line_item_view(item) for item in _items_of(ctx, invoice["id"])]
    page, has_more = _page(lines, params, "line item")
    return 200, list_envelope(f"/v1/invoices/{invoice['id']}/lines", page, has_more)


def update_line(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(_invoice(ctx, ids[0]))
    _require_draft(invoice, "update lines of")
    item = _item_by_line(ctx, invoice, ids[1], "id")
    _apply_line(ctx, item, {k: v for k, v in params.items() if k != "expand"}, "", creating=False)
    ctx.store.put("invoiceitem", item)
    _recompute_totals(ctx, invoice)
    ctx.store.put("invoice", invoice)
    return 200, line_item_view(item)
