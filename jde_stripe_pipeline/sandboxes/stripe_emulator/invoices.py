"""`/v1/invoices`: one-off invoices from draft to open, paid or void (create, retrieve, update, delete,
list, finalize, void); their totals follow their invoice items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .common import (
    find_invoice,
    find_live_customer,
    in_range,
    invoice_view,
    items_of_invoice,
    list_page,
    newest_first,
)
from .endpoint import Context
from .errors import ApiError
from .forms import UNSET
from .objects import ACCOUNT_CURRENCY, deleted_view, list_envelope, new_invoice
from .params import apply_metadata, custom_fields_value, set_scalars, shipping_value
from .taxes import tax_totals

MAX_INVOICE_ITEMS = 250


def too_many_items(invoice_id: str) -> ApiError:
    return errors.parameter_invalid(
        "invoice",
        f"An invoice can have at most {MAX_INVOICE_ITEMS} invoice items; {invoice_id} would have more.",
    )


def recompute_totals(ctx: Context, invoice: dict[str, Any]) -> None:
    items = items_of_invoice(ctx, invoice["id"])
    subtotal = sum(item["amount"] for item in items)
    exclusive, inclusive, total_taxes = tax_totals(items)
    invoice["subtotal"] = subtotal
    invoice["subtotal_excluding_tax"] = subtotal - inclusive
    invoice["total"] = subtotal + exclusive
    invoice["total_excluding_tax"] = subtotal - inclusive
    invoice["total_taxes"] = total_taxes
    amount_due = max(subtotal + exclusive + invoice["starting_balance"], 0)
    invoice["amount_due"] = amount_due
    invoice["amount_remaining"] = max(amount_due - invoice["amount_paid"], 0)


def require_draft(invoice: Mapping[str, Any], what: str) -> None:
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"You can only {what} draft invoices. This invoice ({invoice['id']}) is {invoice['status']}.",
        )


def _check_number_unique(ctx: Context, number: str, invoice_id: str | None) -> None:
    for other in ctx.store.objects["invoice"].values():
        if other["number"] == number and other["id"] != invoice_id:
            raise ApiError(
                400,
                f"Invoice number '{number}' is already in use by another invoice in this account "
                f"({other['id']}). Invoice numbers must be unique.",
                code="resource_already_exists",
                param="number",
            )


def _check_collection(invoice: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    if invoice["collection_method"] == "charge_automatically":
        for name in ("days_until_due", "due_date"):
            if params.get(name) is not None and params.get(name) is not UNSET:
                raise errors.parameter_invalid(
                    name,
                    f"You can only set `{name}` on invoices with `collection_method=send_invoice`; this "
                    "invoice uses `charge_automatically`.",
                )
    if "days_until_due" in params and "due_date" in params:
        raise errors.parameters_exclusive("days_until_due", "due_date")


def _apply_invoice_params(ctx: Context, invoice: dict[str, Any], params: Mapping[str, Any]) -> None:
    set_scalars(
        invoice,
        params,
        (
            "auto_advance",
            "automatically_finalizes_at",
            "collection_method",
            "description",
            "footer",
            "statement_descriptor",
            "effective_at",
        ),
    )
    if "automatic_tax" in params and params["automatic_tax"]["enabled"]:
        raise errors.unsupported_parameter("automatic_tax[enabled]")
    if "custom_fields" in params:
        invoice["custom_fields"] = custom_fields_value(params["custom_fields"])
    if "shipping_details" in params:
        invoice["shipping_details"] = shipping_value(params["shipping_details"])
    if "number" in params:
        number = None if params["number"] is UNSET else params["number"]
        if number is not None:
            _check_number_unique(ctx, number, invoice["id"])
        invoice["number"] = number
    _check_collection(invoice, params)
    if invoice["collection_method"] == "charge_automatically":
        invoice["due_date"] = None
        invoice["_days_until_due"] = None
    if "days_until_due" in params:
        invoice["_days_until_due"] = params["days_until_due"]
        invoice["due_date"] = invoice["created"] + 86400 * params["days_until_due"]
    if "due_date" in params:
        invoice["_days_until_due"] = None
        invoice["due_date"] = params["due_date"]
    if invoice["collection_method"] == "send_invoice" and invoice["due_date"] is None:
        # Stripe falls back to the account's default payment terms (30 days) for send_invoice.
        invoice["_days_until_due"] = 30
        invoice["due_date"] = invoice["created"] + 86400 * 30
    if "metadata" in params:
        apply_metadata(invoice, params["metadata"])


def create_invoice(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if "customer" not in params:
        raise errors.parameter_missing("customer")
    customer = find_live_customer(ctx, params["customer"], param="customer", status=400)
    currency = params.get("currency") or customer.get("currency") or ACCOUNT_CURRENCY
    invoice = new_invoice(ctx.timestamp, ctx.store.next_seq(), customer, currency)
    _apply_invoice_params(ctx, invoice, params)
    ctx.store.put("invoice", invoice)
    if params.get("pending_invoice_items_behavior") == "include":
        pending = [
            i
            for i in ctx.store.objects["invoiceitem"].values()
            if i["customer"] == customer["id"] and i["invoice"] is None and i["currency"] == currency
        ]
        if len(pending) > MAX_INVOICE_ITEMS:
            raise too_many_items(invoice["id"])
        for item in sorted(pending, key=lambda i: i["_seq"]):
            ctx.store.put("invoiceitem", {**item, "invoice": invoice["id"]})
        recompute_totals(ctx, invoice)
    return 200, invoice_view(ctx, invoice)


def retrieve_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, invoice_view(ctx, find_invoice(ctx, ids[0]))


_EDITABLE_WHEN_OPEN = {
    "auto_advance",
    "custom_fields",
    "days_until_due",
    "description",
    "due_date",
    "expand",
    "footer",
    "metadata",
    "statement_descriptor",
    "automatically_finalizes_at",
}


def update_invoice(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(find_invoice(ctx, ids[0]))
    status = invoice["status"]
    if status == "open":
        locked = sorted(set(params) - _EDITABLE_WHEN_OPEN)
        if locked:
            raise errors.invoice_not_editable(
                f"Finalized invoices can't be updated in this way: '{locked[0]}' can only be changed while "
                "the invoice is a draft.",
                param=locked[0],
            )
    elif status in ("paid", "void", "uncollectible"):
        locked = sorted(set(params) - {"metadata", "expand"})
        if locked:
            raise errors.invoice_not_editable(
                f"You can only update `metadata` on an invoice that is {status}.", param=locked[0]
            )
    _apply_invoice_params(ctx, invoice, params)
    ctx.store.put("invoice", invoice)
    return 200, invoice_view(ctx, invoice)


def delete_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = find_invoice(ctx, ids[0])
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            f"You can only delete draft invoices. This invoice ({invoice['id']}) is {invoice['status']}; "
            "void it instead."
        )
    for item in items_of_invoice(ctx, invoice["id"]):
        ctx.store.remove("invoiceitem", item["id"])
    ctx.store.remove("invoice", invoice["id"])
    return 200, deleted_view("invoice", invoice["id"])


def list_invoices(ctx: Context, _ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoices = list(ctx.store.objects["invoice"].values())
    for name in ("customer", "status", "collection_method"):
        if name in params:
            invoices = [i for i in invoices if i[name] == params[name]]
    for name in ("created", "due_date"):
        if name in params:
            invoices = [i for i in invoices if in_range(i[name], params[name])]
    page, has_more = list_page(newest_first(invoices), params, "invoice")
    return 200, list_envelope("/v1/invoices", [invoice_view(ctx, i) for i in page], has_more)


def _next_number(ctx: Context, invoice: Mapping[str, Any]) -> str:
    customer = ctx.store.get("customer", invoice["customer"])
    prefix = customer["invoice_prefix"] if customer and not customer.get("deleted") else "EMU"
    sequence = customer["next_invoice_sequence"] if customer and not customer.get("deleted") else 1
    taken = {i["number"] for i in ctx.store.objects["invoice"].values() if i["number"]}
    while f"{prefix}-{sequence:04d}" in taken:
        sequence += 1
    if customer and not customer.get("deleted"):
        ctx.store.put("customer", {**customer, "next_invoice_sequence": sequence + 1})
    return f"{prefix}-{sequence:04d}"


def finalize_invoice(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(find_invoice(ctx, ids[0]))
    if invoice["status"] != "draft":
        raise errors.invoice_not_editable(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    if "auto_advance" in params:
        invoice["auto_advance"] = params["auto_advance"]
    if invoice["number"] is None:
        invoice["number"] = _next_number(ctx, invoice)
    now = ctx.timestamp
    invoice["status"] = "open"
    invoice["status_transitions"] = {**invoice["status_transitions"], "finalized_at": now}
    if invoice["effective_at"] is None:
        invoice["effective_at"] = now
    if invoice.get("_days_until_due") is not None and invoice["collection_method"] == "send_invoice":
        invoice["due_date"] = now + 86400 * int(invoice["_days_until_due"])
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/emulator/{invoice['id']}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/emulator/{invoice['id']}/pdf"
    invoice["ending_balance"] = 0
    recompute_totals(ctx, invoice)
    if invoice["amount_due"] == 0:
        # Stripe marks an invoice with nothing to pay as paid the moment it is finalized.
        invoice["status"] = "paid"
        invoice["status_transitions"]["paid_at"] = now
    ctx.store.put("invoice", invoice)
    return 200, invoice_view(ctx, invoice)


def void_invoice(ctx: Context, ids: Sequence[str], _params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(find_invoice(ctx, ids[0]))
    if invoice["status"] == "draft":
        raise errors.invoice_not_editable(
            "You can only void invoices that have been finalized. Delete a draft invoice instead."
        )
    if invoice["status"] in ("paid", "void"):
        raise errors.invoice_not_editable(f"You cannot void an invoice that is {invoice['status']}.")
    invoice["status"] = "void"
    invoice["status_transitions"] = {**invoice["status_transitions"], "voided_at": ctx.timestamp}
    invoice["amount_remaining"] = 0
    ctx.store.put("invoice", invoice)
    return 200, invoice_view(ctx, invoice)
