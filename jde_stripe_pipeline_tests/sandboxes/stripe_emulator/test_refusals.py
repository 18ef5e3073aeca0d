"""Requests real Stripe refuses are refused the same way: parameters, metadata, currencies, invoice rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe


def _refused(call: Any, *args: Any, **kwargs: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        call(*args, **kwargs)
    assert raised.value.http_status in (400, 404)
    return raised.value


def _draft(client: stripe.StripeClient, currency: str = "usd", **extra: Any) -> stripe.Invoice:
    customer = client.v1.customers.create(params={"name": "Acme"})
    return client.v1.invoices.create(params={"customer": customer.id, "currency": currency, **extra})


def test_unknown_and_nested_unknown_parameters(client: stripe.StripeClient) -> None:
    error = _refused(client.v1.customers.create, params={"address": {"line1": "x", "street": "y"}})
    assert error.code == "parameter_unknown" and error.param == "address[street]"
    assert error.user_message == "Received unknown parameter: address[street]"


def test_missing_and_malformed_parameters(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    assert (
        _refused(client.v1.invoices.add_lines, invoice.id, params={"lines": []}).code == "parameter_missing"
    )
    error = _refused(client.v1.invoices.add_lines, invoice.id, params={"lines": [{"amount": "ten"}]})
    assert error.code == "parameter_invalid_integer" and error.param == "lines[0][amount]"
    error = _refused(
        client.v1.invoices.add_lines, invoice.id, params={"lines": [{"description": "no amount"}]}
    )
    assert error.code == "parameter_missing"
    error = _refused(
        client.v1.invoices.create, params={"customer": invoice.customer, "collection_method": "cash"}
    )
    assert error.param == "collection_method"
    error = _refused(
        client.v1.invoices.remove_lines, invoice.id, params={"lines": [{"id": "il_x", "behavior": "shred"}]}
    )
    assert error.param == "lines[0][behavior]"


def test_features_not_modelled_are_refused_not_ignored(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    error = _refused(client.v1.invoices.update, invoice.id, params={"default_tax_rates": ["txr_1"]})
    assert error.param == "default_tax_rates"
    error = _refused(
        client.v1.invoice_items.create,
        params={
            "invoice": invoice.id,
            "price_data": {"currency": "usd", "product": "prod_x", "unit_amount": 1},
        },
    )
    assert error.code == "resource_missing" and error.param == "price_data[product]"


@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        ({f"k{i}": "v" for i in range(51)}, "metadata"),
        ({"k" * 41: "v"}, "metadata[" + "k" * 41 + "]"),
        ({"key": "v" * 501}, "metadata[key]"),
        ({"a[b]": "v"}, "metadata[a[b]]"),
    ],
)
def test_metadata_limits(client: stripe.StripeClient, metadata: dict[str, str], param: str) -> None:
    error = _refused(client.v1.customers.create, params={"metadata": metadata})
    assert error.param == param


def test_metadata_limit_counts_existing_keys(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"metadata": {f"a{i}": "v" for i in range(40)}})
    _refused(client.v1.customers.update, customer.id, params={"metadata": {f"b{i}": "v" for i in range(11)}})
    ok = client.v1.customers.update(customer.id, params={"metadata": {f"b{i}": "v" for i in range(10)}})
    assert len(ok.metadata.to_dict()) == 50


def test_three_decimal_currency_needs_a_trailing_zero(client: stripe.StripeClient) -> None:
    invoice = _draft(client, currency="kwd")
    error = _refused(client.v1.invoices.add_lines, invoice.id, params={"lines": [{"amount": 12345}]})
    assert error.param == "lines[0][amount]"
    error = _refused(
        client.v1.invoice_items.create,
        params={"invoice": invoice.id, "unit_amount_decimal": Decimal("1.5"), "quantity": 3},
    )
    assert "three-decimal" in (error.user_message or "")
    assert client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 12340}]}).total == 12340


def test_zero_decimal_currency_amounts_are_whole_units(client: stripe.StripeClient) -> None:
    invoice = _draft(client, currency="jpy")
    assert client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 1234}]}).total == 1234
    error = _refused(client.v1.invoices.add_lines, invoice.id, params={"lines": [{"amount": "12.5"}]})
    assert error.code == "parameter_invalid_integer"


def test_currency_mismatch_between_line_and_invoice(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    error = _refused(
        client.v1.invoices.add_lines,
        invoice.id,
        params={
            "lines": [{"price_data": {"currency": "eur", "product_data": {"name": "W"}, "unit_amount": 5}}]
        },
    )
    assert error.param == "lines[0][price_data][currency]"
    error = _refused(
        client.v1.invoice_items.create, params={"invoice": invoice.id, "amount": 5, "currency": "eur"}
    )
    assert error.param == "currency"


def test_days_until_due_needs_send_invoice(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={})
    error = _refused(
        client.v1.invoices.create,
        params={"customer": customer.id, "collection_method": "charge_automatically", "days_until_due": 30},
    )
    assert error.param == "days_until_due"


def test_at_most_250_invoice_items(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 1}] * 250})
    error = _refused(client.v1.invoices.add_lines, invoice.id, params={"lines": [{"amount": 1}]})
    assert "250" in (error.user_message or "")
    _refused(client.v1.invoice_items.create, params={"invoice": invoice.id, "amount": 1})
    assert client.v1.invoices.retrieve(invoice.id).total == 250


def test_add_lines_is_all_or_nothing(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    _refused(
        client.v1.invoices.add_lines,
        invoice.id,
        params={"lines": [{"amount": 5}, {"amount": 1, "quantity": 2}]},
    )
    assert client.v1.invoices.retrieve(invoice.id).lines.data == []


def test_finalized_invoice_items_are_locked(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    line = client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 5}]}).lines.data[0]
    client.v1.invoices.finalize_invoice(invoice.id)
    item_id = line.parent.invoice_item_details.invoice_item  # type: ignore[union-attr]
    assert (
        _refused(client.v1.invoice_items.update, item_id, params={"amount": 6}).code == "invoice_not_editable"
    )
    assert _refused(client.v1.invoice_items.delete, item_id).code == "invoice_not_editable"
    error = _refused(
        client.v1.invoices.update_lines, invoice.id, params={"lines": [{"id": line.id, "amount": 6}]}
    )
    assert error.code == "invoice_not_editable"
    assert _refused(client.v1.invoices.finalize_invoice, invoice.id).code == "invoice_not_editable"
