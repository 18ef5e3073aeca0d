"""Credit notes through the SDK: on open/paid invoices only, custom and invoice lines, tax on the
invoice's own tax rate, settlement of what exceeds the amount due, idempotency, list and shapes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe
from stripe._credit_note import CreditNote
from stripe._credit_note_line_item import CreditNoteLineItem

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.stripe_emulator.test_shapes import AUTH, fixtures, shape_differences

__all__ = ["fixtures"]

TAX = {
    "amount": 825,
    "taxable_amount": 10000,
    "tax_rate_data": {"display_name": "IL-COOK", "inclusive": False, "percentage": "8.25"},
}


def _invoice(client: stripe.StripeClient, *, finalize: bool = True, currency: str = "usd") -> Any:
    customer = client.v1.customers.create(params={"name": "Acme"}).id
    invoice = client.v1.invoices.create(
        params={"customer": customer, "auto_advance": False, "currency": currency, "number": f"RI-{customer}"}
    )
    lines: Any = [
        {"amount": 10000, "description": "Widget", "tax_amounts": [TAX]},
        {"amount": 5000, "description": "Service"},
    ]
    client.v1.invoices.add_lines(invoice.id, params={"lines": lines})
    return client.v1.invoices.finalize_invoice(invoice.id) if finalize else invoice


def _rate(invoice: Any) -> str:
    return str(invoice.lines.data[0].taxes[0].tax_rate_details.tax_rate)


def _refusal(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_a_custom_line_with_tax_on_the_invoices_rate_credits_an_open_invoice(
    client: stripe.StripeClient,
) -> None:
    invoice = _invoice(client)
    assert (invoice.status, invoice.amount_remaining) == ("open", 15825)
    line: Any = {
        "type": "custom_line_item",
        "description": "Damaged",
        "unit_amount": 2000,
        "quantity": 1,
        "tax_amounts": [{"amount": 165, "taxable_amount": 2000, "tax_rate": _rate(invoice)}],
    }
    params: Any = {
        "invoice": invoice.id,
        "lines": [line],
        "memo": "JDE RM 950001",
        "metadata": {"jde_doco": "1"},
    }
    note = client.v1.credit_notes.create(params=params, options={"idempotency_key": "cn-1"})
    assert (note.amount, note.subtotal, note.total, note.status) == (2165, 2000, 2165, "issued")
    assert (note.pre_payment_amount, note.post_payment_amount, note.type) == (2165, 0, "pre_payment")
    assert (note.memo, note.metadata.to_dict(), note.number) == (
        "JDE RM 950001",
        {"jde_doco": "1"},
        f"{invoice.number}-CN-01",
    )
    assert [t.amount for t in note.lines.data[0].taxes or []] == [165]
    after = client.v1.invoices.retrieve(invoice.id)
    assert (after.amount_remaining, after.pre_payment_credit_notes_amount) == (15825 - 2165, 2165)
    replay = client.v1.credit_notes.create(
        params=params, options={"idempotency_key": "cn-1"}
    )  # the same again
    assert replay.id == note.id
    listed = client.v1.credit_notes.list(params={"invoice": invoice.id})
    assert [n.id for n in listed.data] == [note.id]
    assert client.v1.credit_notes.retrieve(note.id).to_dict() == note.to_dict()
    assert client.v1.credit_notes.list(params={"invoice": _invoice(client).id}).data == []


def test_drafts_and_voided_invoices_are_refused(client: stripe.StripeClient) -> None:
    line: Any = {"type": "custom_line_item", "description": "x", "unit_amount": 100}
    draft = _invoice(client, finalize=False)
    error = _refusal(lambda: client.v1.credit_notes.create(params={"invoice": draft.id, "lines": [line]}))
    assert (error.http_status, error.code, error.param) == (400, "invoice_not_editable", "invoice")
    assert "draft" in str(error.user_message)
    voided = client.v1.invoices.void_invoice(_invoice(client).id)
    error = _refusal(lambda: client.v1.credit_notes.create(params={"invoice": voided.id, "lines": [line]}))
    assert error.code == "invoice_not_editable"
    error = _refusal(lambda: client.v1.credit_notes.create(params={"invoice": "in_missing", "lines": [line]}))
    assert (error.code, error.param) == ("resource_missing", "invoice")
    assert client.v1.credit_notes.list().data == []


def test_invoice_lines_are_credited_with_their_tax_and_never_beyond(client: stripe.StripeClient) -> None:
    invoice = _invoice(client)
    widget = invoice.lines.data[0].id
    line: Any = {"type": "invoice_line_item", "invoice_line_item": widget, "amount": 5000}
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [line]})
    assert (note.amount, note.lines.data[0].invoice_line_item) == (5000 + 413, widget)
    line["amount"] = 5001
    error = _refusal(lambda: client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [line]}))
    assert error.param == "lines[0][amount]"
    unknown: Any = {
        "type": "custom_line_item",
        "description": "x",
        "unit_amount": 100,
        "tax_amounts": [{"amount": 8, "taxable_amount": 100, "tax_rate": "txr_unknown"}],
    }
    error = _refusal(
        lambda: client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [unknown]})
    )
    assert (error.code, error.param) == ("resource_missing", "lines[0][tax_amounts][0][tax_rate]")
    too_much: Any = {"type": "custom_line_item", "description": "x", "unit_amount": 20000}
    error = _refusal(
        lambda: client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [too_much]})
    )
    assert "exceeds" in str(error.user_message)


def test_a_full_credit_pays_an_open_invoice(client: stripe.StripeClient) -> None:
    invoice = _invoice(client)
    whole: Any = {"type": "custom_line_item", "description": "all", "unit_amount": 15825}
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [whole]})
    assert note.pre_payment_amount == 15825
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"
    line: Any = {"type": "custom_line_item", "description": "x", "unit_amount": 10}
    error = _refusal(
        lambda: client.v1.credit_notes.create(
            params={"invoice": invoice.id, "lines": [line], "out_of_band_amount": 10}
        )
    )
    assert "exceeds" in str(error.user_message)


def test_a_credit_on_a_paid_invoice_must_be_settled(client: stripe.StripeClient) -> None:
    paid = client.v1.invoices.pay(_invoice(client).id, params={"paid_out_of_band": True})
    assert (paid.status, paid.amount_remaining) == ("paid", 0)
    line: Any = {"type": "custom_line_item", "description": "x", "unit_amount": 100}
    error = _refusal(lambda: client.v1.credit_notes.create(params={"invoice": paid.id, "lines": [line]}))
    assert error.param == "credit_amount"
    assert "(0) must equal the post-payment amount of this credit note (100)" in str(error.user_message)
    error = _refusal(
        lambda: client.v1.credit_notes.create(
            params={"invoice": paid.id, "lines": [line], "refund_amount": 100}
        )
    )
    assert error.param == "refund_amount"
    note = client.v1.credit_notes.create(
        params={"invoice": paid.id, "lines": [line], "out_of_band_amount": 100}
    )
    assert (note.type, note.post_payment_amount, note.out_of_band_amount) == ("post_payment", 100, 100)
    balance = client.v1.credit_notes.create(
        params={"invoice": paid.id, "lines": [line], "credit_amount": 100}
    )
    assert balance.customer_balance_transaction is not None
    assert client.v1.customers.retrieve(str(paid.customer)).balance == -100


def _sdk_fields(cls: type) -> dict[str, bool]:
    """The attributes the SDK declares for an object, and whether each may be null."""
    return {
        name: "Optional[" in str(hint) or "NoneType" in str(hint)
        for name, hint in cls.__annotations__.items()
    }


def test_credit_notes_have_stripes_shape(
    client: stripe.StripeClient, server: LoopbackServer, fixtures: dict[str, Any]
) -> None:
    invoice = _invoice(client)
    line: Any = {"type": "custom_line_item", "description": "x", "unit_amount": 100}
    owed: Any = {"type": "invoice_line_item", "invoice_line_item": invoice.lines.data[1].id, "amount": 100}
    created = client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": [owed, line]})
    note = requests.get(f"{server.url}/v1/credit_notes/{created.id}", headers=AUTH, timeout=10).json()
    expected = {k: v for k, v in fixtures["credit_note"].items() if k not in ("shipping_cost", "refunds")}
    assert shape_differences(expected, note) == []
    assert shape_differences(fixtures["credit_note_line_item"], note["lines"]["data"][0]) == []
    custom = {k: v for k, v in fixtures["credit_note"]["lines"]["data"][1].items()}
    assert shape_differences(custom, note["lines"]["data"][1]) == []
    for obj, cls in ((note, CreditNote), *((entry, CreditNoteLineItem) for entry in note["lines"]["data"])):
        fields = _sdk_fields(cls)
        assert sorted(set(obj) - set(fields)) == []
        assert sorted(name for name, value in obj.items() if value is None and not fields[name]) == []
