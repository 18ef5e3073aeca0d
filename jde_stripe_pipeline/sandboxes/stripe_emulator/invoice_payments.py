"""`POST /v1/invoices/{id}/pay`, out of band only: how a test makes an invoice `paid` (no charges here).

Stripe marks an open invoice paid outside Stripe with `paid_out_of_band=true`. Departures: any other
way to pay (a payment method, a source, `forgive`, `mandate`, `off_session`) is refused since nothing
here can be charged; a draft is refused rather than finalized first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import errors
from .common import find_invoice, invoice_view
from .endpoint import Context, Route, make_route
from .forms import Bool, Unsupported
from .schemas import EXPAND

INVOICE_PAY = {
    "expand": EXPAND,
    "forgive": Unsupported(),
    "mandate": Unsupported(),
    "off_session": Unsupported(),
    "paid_out_of_band": Bool(),
    "payment_method": Unsupported(),
    "source": Unsupported(),
}


def pay_invoice(ctx: Context, ids: Sequence[str], params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    invoice = dict(find_invoice(ctx, ids[0]))
    if invoice["status"] != "open":
        raise errors.invoice_not_editable(
            f"You can only pay an open invoice. This invoice ({invoice['id']}) is {invoice['status']}."
        )
    if not params.get("paid_out_of_band"):
        raise errors.parameter_invalid(
            "paid_out_of_band",
            "The Stripe emulator has no payment methods: pay with paid_out_of_band=true.",
        )
    invoice["amount_paid_off_stripe"] = invoice["amount_remaining"]
    invoice["amount_remaining"] = 0
    invoice["status"] = "paid"
    invoice["status_transitions"] = {**invoice["status_transitions"], "paid_at": ctx.timestamp}
    ctx.store.put("invoice", invoice)
    return 200, invoice_view(ctx, invoice)


ROUTES: tuple[Route, ...] = (make_route("POST", "/v1/invoices/{id}/pay", INVOICE_PAY, pay_invoice),)
