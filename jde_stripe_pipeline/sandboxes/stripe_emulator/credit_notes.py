"""`/v1/credit_notes`: credit notes on finalized invoices (create, retrieve, list, list lines).

As Stripe (stripe.md; the SDK's CreditNoteCreateParams; fixtures3.json's `credit_note`): a credit
note needs an `open` or `paid` invoice (a draft is edited instead, a void one is history); `lines` of
type `invoice_line_item` (a line of that invoice, `amount` or `quantity` of it) or `custom_line_item`
(`description`, `unit_amount`/`unit_amount_decimal`, `quantity`); `tax_amounts` on a line name a tax
rate Stripe created (`tax_rate`, here: one an invoice line's `tax_amounts` made), with `amount` and
`taxable_amount`; `memo`, `metadata`, `effective_at`, `reason`; one of `amount` or `lines`. The
credit note's `amount`/`total` include exclusive tax. On an open invoice the credit first lowers what
is still due (`pre_payment_amount`); what exceeds it, and all of it on a paid invoice, is
`post_payment_amount` and must be settled as `refund_amount` + `credit_amount` (customer balance) +
`out_of_band_amount`. Idempotency is the server's, as for every POST.
Departures, ours not Stripe's word: refusal texts (Stripe's exact ones are unpublished); no charges
exist, so `refund_amount` is refused; an `invoice_line_item` line credits its line's tax in
proportion (half up) and may not carry `tax_amounts`; a credit note that brings an open invoice's
`amount_remaining` to 0 marks it paid; `number` is the invoice's number + `-CN-` + a sequence;
no void (`POST /v1/credit_notes/{id}/void`), preview, update, PDF or shipping; nothing expands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import errors
from .common import EMBEDDED_LINES, find_invoice, in_range, list_page
from .credit_note_lines import (
    already_credited,
    custom_line_credit,
    invoice_line_credit,
    known_tax_rates,
    line_param,
)
from .endpoint import Context, Route, make_route
from .forms import Arr, Dec, Enum, Int, IntOrRange, Metadata, Obj, Str, Unsupported, merge_metadata
from .objects import list_envelope, new_id, public
from .pricing import check_amount
from .schemas import EXPAND, RETRIEVE

CREDITABLE = ("open", "paid")
_TAX_AMOUNT = Obj(
    fields={"amount": Int(), "taxable_amount": Int(), "tax_rate": Str()},
    required=("amount", "tax_rate", "taxable_amount"),
)
_LINE = Obj(
    fields={
        "amount": Int(minimum=0),
        "description": Str(max_length=5000),
        "discount_amounts": Unsupported(),
        "invoice_line_item": Str(),
        "metadata": Metadata(),
        "quantity": Int(minimum=1),
        "tax_amounts": Arr(item=_TAX_AMOUNT, max_items=20),
        "tax_rates": Unsupported(),
        "type": Enum(values=("custom_line_item", "invoice_line_item")),
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": Dec(),
    },
    required=("type",),
)
CREDIT_NOTE_CREATE = {
    "amount": Int(minimum=1),
    "credit_amount": Int(minimum=0),
    "effective_at": Int(),
    "email_type": Enum(values=("credit_note", "none")),
    "expand": EXPAND,
    "invoice": Str(),
    "lines": Arr(item=_LINE),
    "memo": Str(max_length=5000),
    "metadata": Metadata(),
    "out_of_band_amount": Int(minimum=0),
    "reason": Enum(values=("duplicate", "fraudulent", "order_change", "product_unsatisfactory")),
    "refund_amount": Int(minimum=0),
    "refunds": Unsupported(),
    "shipping_cost": Unsupported(),
}
CREDIT_NOTE_LIST = {
    "created": IntOrRange(),
    "customer": Str(),
    "customer_account": Unsupported(),
    "ending_before": Str(),
    "expand": EXPAND,
    "invoice": Str(),
    "limit": Int(minimum=1, maximum=100),
    "starting_after": Str(),
}
LINES_LIST = {k: v for k, v in CREDIT_NOTE_LIST.items() if k in ("ending_before", "limit", "starting_after")}


def _taxes(entries: Sequence[Mapping[str, Any]], inclusive: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "amount": entry["amount"],
            "tax_behavior": "inclusive" if inclusive else "exclusive",
            "tax_rate_details": {"tax_rate": entry["tax_rate"]},
            "taxability_reason": "standard_rated",
            "taxable_amount": entry["taxable_amount"],
            "type": "tax_rate_details",
        }
        for entry in entries
    ]


def _settlement(invoice: Mapping[str, Any], total: int, params: Mapping[str, Any]) -> tuple[int, int]:
    """(pre-payment, post-payment) parts of a credit of `total`, checked against the settlement asked."""
    pre = min(total, invoice["amount_remaining"]) if invoice["status"] == "open" else 0
    post = total - pre
    if params.get("refund_amount"):
        raise errors.parameter_invalid(
            "refund_amount",
            f"Invoice {invoice['id']} was not paid by a charge in Stripe: there is nothing to refund.",
        )
    settled = params.get("credit_amount", 0) + params.get("out_of_band_amount", 0)
    if settled != post:
        raise errors.parameter_invalid(
            "out_of_band_amount" if "out_of_band_amount" in params else "credit_amount",
            f"The sum of credit_amount, refund_amount and out_of_band_amount ({settled}) must equal the "
            f"post-payment amount of this credit note ({post}) on {invoice['status']} invoice "
            f"{invoice['id']}.",
        )
    return pre, post


def create_credit_note(
    ctx: Context, _ids: Sequence[str], params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    if "invoice" not in params:
        raise errors.parameter_missing("invoice")
    invoice = dict(find_invoice(ctx, params["invoice"], param="invoice", status=400))
    if invoice["status"] not in CREDITABLE:
        raise errors.invoice_not_editable(
            f"You can only create credit notes on invoices that are open or paid. Invoice {invoice['id']} is "
            f"{invoice['status']}" + ("; edit the draft instead." if invoice["status"] == "draft" else "."),
            param="invoice",
        )
    if "amount" in params and "lines" in params:
        raise errors.parameters_exclusive("amount", "lines")
    if "amount" not in params and not params.get("lines"):
        raise errors.parameter_missing("lines")
    credited_total, credited_lines = already_credited(ctx, invoice["id"])
    rates = known_tax_rates(ctx)
    lines = []
    for index, given in enumerate(params.get("lines") or []):
        if given["type"] == "invoice_line_item":
            line = invoice_line_credit(ctx, invoice, given, index, credited_lines)
        else:
            line = custom_line_credit(ctx, given, index, rates)
        check_amount(line["amount"], invoice["currency"], line_param(index, "amount"))
        for tax in line["_taxes"]:
            check_amount(tax["amount"], invoice["currency"], line_param(index, "tax_amounts"))
        lines.append(line)
    if "amount" in params:
        check_amount(params["amount"], invoice["currency"], "amount")
        subtotal, exclusive = params["amount"], 0
    else:
        subtotal = sum(line["amount"] for line in lines)
        exclusive = sum(t["amount"] for line in lines for t in line["_taxes"] if not t["_inclusive"])
    total = subtotal + exclusive
    if total <= 0:
        raise errors.parameter_invalid("lines", "The credit note amount must be greater than 0.")
    if credited_total + total > invoice["total"]:
        raise errors.parameter_invalid(
            "lines" if lines else "amount",
            f"The credit note amount ({total}) exceeds what is left to credit on invoice {invoice['id']} "
            f"({invoice['total'] - credited_total}).",
        )
    pre, post = _settlement(invoice, total, params)
    sequence = 1 + sum(1 for n in ctx.store.objects["credit_note"].values() if n["invoice"] == invoice["id"])
    note = _new_credit_note(ctx, invoice, lines, subtotal, total, pre, post, params, sequence)
    ctx.store.put("credit_note", note)
    invoice["pre_payment_credit_notes_amount"] += pre
    invoice["post_payment_credit_notes_amount"] += post
    invoice["amount_remaining"] -= pre
    if invoice["status"] == "open" and invoice["amount_remaining"] == 0:
        invoice["status"] = "paid"
        invoice["status_transitions"] = {**invoice["status_transitions"], "paid_at": ctx.timestamp}
    ctx.store.put("invoice", invoice)
    if params.get("credit_amount"):
        customer = ctx.store.get("customer", invoice["customer"])
        if customer is not None and not customer.get("deleted"):
            ctx.store.put("customer", {**customer, "balance": customer["balance"] - params["credit_amount"]})
    return 200, credit_note_view(note)


def _new_credit_note(
    ctx: Context,
    invoice: Mapping[str, Any],
    lines: list[dict[str, Any]],
    subtotal: int,
    total: int,
    pre: int,
    post: int,
    params: Mapping[str, Any],
    sequence: int,
) -> dict[str, Any]:
    note_id = new_id("cn_")
    kind = "pre_payment" if not post else "post_payment" if not pre else "mixed"
    for line in lines:
        line["id"] = new_id("cnli_")
    return {
        "id": note_id,
        "object": "credit_note",
        "amount": total,
        "amount_shipping": 0,
        "created": ctx.timestamp,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "customer_account": None,
        "customer_balance_transaction": new_id("cbtxn_") if params.get("credit_amount") else None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": params.get("effective_at", ctx.timestamp),
        "invoice": invoice["id"],
        "livemode": False,
        "memo": params.get("memo"),
        "metadata": merge_metadata({}, params.get("metadata", {})),
        "number": f"{invoice['number']}-CN-{sequence:02d}",
        "out_of_band_amount": params.get("out_of_band_amount"),
        "pdf": f"https://pay.stripe.com/credit_notes/emulator/{note_id}/pdf",
        "post_payment_amount": post,
        "pre_payment_amount": pre,
        "pretax_credit_amounts": [],
        "reason": params.get("reason"),
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total": total,
        "total_excluding_tax": subtotal,
        "total_taxes": [t for line in lines for t in _taxes(line["_taxes"])],
        "type": kind,
        "voided_at": None,
        "_seq": ctx.store.next_seq(),
        "_lines": lines,
    }


def line_view(note: Mapping[str, Any], line: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in line.items() if not k.startswith("_")}
    view.update(
        object="credit_note_line_item",
        discount_amount=0,
        discount_amounts=[],
        livemode=False,
        pretax_credit_amounts=[],
        tax_rates=[],
        taxes=_taxes(line["_taxes"]),
    )
    if line["type"] == "custom_line_item":
        view.pop("invoice_line_item", None)
    return view


def credit_note_view(note: Mapping[str, Any]) -> dict[str, Any]:
    view = public(note)
    lines = [line_view(note, line) for line in note["_lines"]]
    view["lines"] = list_envelope(
        f"/v1/credit_notes/{note['id']}/lines", lines[:EMBEDDED_LINES], len(lines) > EMBEDDED_LINES
    )
    return view


def _credit_note(ctx: Context, note_id: str) -> dict[str, Any]:
    note = ctx.store.get("credit_note", note_id)
    if note is None:
        raise errors.resource_missing("credit_note", note_id)
    return note


def retrieve_credit_note(
    ctx: Context, ids: Sequence[str], _params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, credit_note_view(_credit_note(ctx, ids[0]))


def list_credit_notes(
    ctx: Context, _ids: Sequence[str], params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    notes = list(ctx.store.objects["credit_note"].values())
    for name in ("invoice", "customer"):
        if name in params:
            notes = [n for n in notes if n[name] == params[name]]
    if "created" in params:
        notes = [n for n in notes if in_range(n["created"], params["created"])]
    ordered = sorted(notes, key=lambda n: (n["created"], n["_seq"]), reverse=True)
    page, has_more = list_page(ordered, params, "credit_note")
    return 200, list_envelope("/v1/credit_notes", [credit_note_view(n) for n in page], has_more)


def list_credit_note_lines(
    ctx: Context, ids: Sequence[str], params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    note = _credit_note(ctx, ids[0])
    lines = [line_view(note, line) for line in note["_lines"]]
    page, has_more = list_page(lines, params, "credit_note_line_item")
    return 200, list_envelope(f"/v1/credit_notes/{note['id']}/lines", page, has_more)


ROUTES: tuple[Route, ...] = (
    make_route("POST", "/v1/credit_notes", CREDIT_NOTE_CREATE, create_credit_note, required=("invoice",)),
    make_route("GET", "/v1/credit_notes", CREDIT_NOTE_LIST, list_credit_notes),
    make_route("GET", "/v1/credit_notes/{id}", RETRIEVE, retrieve_credit_note),
    make_route("GET", "/v1/credit_notes/{id}/lines", LINES_LIST, list_credit_note_lines),
)
