"""Draft invoices and their lines through the official SDK: totals, bulk line operations, state rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe


def _customer(client: stripe.StripeClient) -> str:
    return client.v1.customers.create(params={"name": "Acme", "email": "ap@acme.test"}).id


def _draft(client: stripe.StripeClient, **extra: Any) -> stripe.Invoice:
    params: dict[str, Any] = {
        "customer": _customer(client),
        "auto_advance": False,
        "currency": "usd",
        **extra,
    }
    return client.v1.invoices.create(params=params)  # type: ignore[arg-type]


def test_create_draft_invoice(client: stripe.StripeClient) -> None:
    invoice = _draft(
        client,
        collection_method="send_invoice",
        days_until_due=30,
        description="PO 4711",
        footer="Thanks",
        metadata={"jde_doco": "4711"},
        custom_fields=[{"name": "JDE order", "value": "OP 4711"}],
    ).to_dict()
    assert invoice["id"].startswith("in_")
    assert invoice["status"] == "draft"
    assert invoice["number"] is None
    assert invoice["total"] == 0 and invoice["amount_due"] == 0
    assert invoice["lines"] == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/invoices/{invoice['id']}/lines",
    }
    assert invoice["due_date"] == invoice["created"] + 30 * 86400
    assert invoice["custom_fields"] == [{"name": "JDE order", "value": "OP 4711"}]
    assert invoice["customer_email"] == "ap@acme.test"


def test_add_lines_recomputes_totals_exactly(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    updated = client.v1.invoices.add_lines(
        invoice.id,
        params={
            "lines": [
                {"amount": 1000, "description": "Freight", "metadata": {"jde_lnid": "1.000"}},
                {
                    "price_data": {
                        "currency": "usd",
                        "product_data": {"name": "Widget"},
                        "unit_amount_decimal": Decimal("12.345"),
                    },
                    "quantity": 3,
                    "description": "Widget x3",
                },
                {
                    "price_data": {"currency": "usd", "product_data": {"name": "Bolt"}, "unit_amount": 7},
                    "quantity_decimal": Decimal("2.5"),
                },
            ],
            "invoice_metadata": {"synced": "yes"},
        },
    ).to_dict()
    amounts = [line["amount"] for line in updated["lines"]["data"]]
    assert amounts == [1000, 37, 18]  # 37.035 -> 37, 17.5 -> 18 (half up)
    assert (
        updated["subtotal"]
        == updated["total"]
        == updated["amount_due"]
        == updated["amount_remaining"]
        == 1055
    )
    assert updated["metadata"] == {"synced": "yes"}
    line = updated["lines"]["data"][1]
    assert line["id"].startswith("il_")
    assert line["pricing"]["unit_amount_decimal"] == Decimal("12.345")  # the SDK decodes decimal strings
    assert line["quantity"] == 3
    assert updated["lines"]["data"][2]["quantity_decimal"] == Decimal("2.5")
    assert updated["lines"]["data"][2]["description"] == "Bolt"


def test_update_and_remove_lines(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    lines = client.v1.invoices.add_lines(
        invoice.id, params={"lines": [{"amount": 100}, {"amount": 200}, {"amount": 300}]}
    ).lines.data
    changed = client.v1.invoices.update_lines(
        invoice.id, params={"lines": [{"id": lines[0].id, "amount": 150, "description": "changed"}]}
    )
    assert changed.total == 650
    removed = client.v1.invoices.remove_lines(
        invoice.id,
        params={
            "lines": [{"id": lines[1].id, "behavior": "delete"}, {"id": lines[2].id, "behavior": "unassign"}]
        },
    )
    assert removed.total == 150
    assert [line.description for line in removed.lines.data] == ["changed"]
    item_id = lines[2].parent.invoice_item_details.invoice_item  # type: ignore[union-attr]
    assert client.v1.invoice_items.retrieve(item_id).invoice is None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.invoice_items.retrieve(lines[1].parent.invoice_item_details.invoice_item)  # type: ignore[union-attr]
    assert raised.value.http_status == 404


def test_lines_list_pages_in_invoice_order(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": i + 1} for i in range(12)]})
    embedded = client.v1.invoices.retrieve(invoice.id).lines
    assert len(embedded.data) == 10 and embedded.has_more is True
    all_lines = list(client.v1.invoices.line_items.list(invoice.id, params={"limit": 5}).auto_paging_iter())
    assert [line.amount for line in all_lines] == list(range(1, 13))


def test_invoice_items_attach_to_draft(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    item = client.v1.invoice_items.create(
        params={
            "invoice": invoice.id,
            "unit_amount_decimal": Decimal("10.5"),
            "quantity": 4,
            "description": "Bolts",
            "period": {"start": 1700000000, "end": 1700086400},
        }
    )
    assert item.id.startswith("ii_") and item.amount == 42 and item.currency == "usd"
    assert client.v1.invoices.retrieve(invoice.id).total == 42
    client.v1.invoice_items.update(item.id, params={"quantity": 2})
    assert client.v1.invoices.retrieve(invoice.id).total == 21
    client.v1.invoice_items.delete(item.id)
    assert client.v1.invoices.retrieve(invoice.id).total == 0


def test_finalize_assigns_number_and_locks(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 500}]})
    final = client.v1.invoices.finalize_invoice(invoice.id)
    assert final.status == "open"
    assert final.number and final.number.endswith("-0001")
    assert final.status_transitions.finalized_at is not None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 1}]})
    assert raised.value.code == "invoice_not_editable"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.update(invoice.id, params={"number": "X-1"})
    assert (
        client.v1.invoices.update(invoice.id, params={"description": "still fine"}).description
        == "still fine"
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.delete(invoice.id)
    voided = client.v1.invoices.void_invoice(invoice.id)
    assert voided.status == "void"


def test_finalize_keeps_chosen_number_and_numbers_are_unique(client: stripe.StripeClient) -> None:
    first = _draft(client, number="JDE-OP-4711")
    client.v1.invoices.add_lines(first.id, params={"lines": [{"amount": 500}]})
    assert client.v1.invoices.finalize_invoice(first.id).number == "JDE-OP-4711"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        _draft(client, number="JDE-OP-4711")
    assert raised.value.param == "number"


def test_delete_draft(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    assert client.v1.invoices.delete(invoice.id).to_dict() == {
        "id": invoice.id,
        "object": "invoice",
        "deleted": True,
    }
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(invoice.id)


def test_list_invoices_by_customer_and_status(client: stripe.StripeClient) -> None:
    a = _draft(client)
    b = _draft(client)
    assert [i.id for i in client.v1.invoices.list(params={"customer": a.customer}).data] == [a.id]  # type: ignore[typeddict-item]
    assert [i.id for i in client.v1.invoices.list(params={"status": "draft"}).data] == [b.id, a.id]


def test_expand_customer_on_invoice_and_in_lists(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    expanded = client.v1.invoices.retrieve(invoice.id, params={"expand": ["customer"]})
    assert expanded.customer.name == "Acme"  # type: ignore[union-attr]
    listed = client.v1.invoices.list(params={"expand": ["data.customer"]})
    assert listed.data[0].customer.object == "customer"  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.invoices.retrieve(invoice.id, params={"expand": ["footer"]})
    assert raised.value.param == "expand"


def test_finalizing_a_zero_invoice_marks_it_paid(client: stripe.StripeClient) -> None:
    final = client.v1.invoices.finalize_invoice(_draft(client).id)
    assert final.status == "paid" and final.status_transitions.paid_at is not None


def test_pending_items_are_pulled_in_only_when_asked(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "P"})
    client.v1.invoice_items.create(params={"customer": customer.id, "amount": 300, "currency": "usd"})
    excluded = client.v1.invoices.create(params={"customer": customer.id})
    assert excluded.total == 0
    included = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    assert included.total == 300
    pending = client.v1.invoice_items.list(params={"customer": customer.id, "pending": True})
    assert pending.data == []


def test_assign_an_unattached_item_with_add_lines(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    item = client.v1.invoice_items.create(
        params={"customer": invoice.customer, "amount": 90, "currency": "usd"}
    )
    updated = client.v1.invoices.add_lines(invoice.id, params={"lines": [{"invoice_item": item.id}]})
    assert updated.total == 90
    assert client.v1.invoice_items.retrieve(item.id).invoice == invoice.id
