"""Line `tax_amounts` (tax computed outside Stripe) through the official SDK: totals and refusals."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def _draft(client: stripe.StripeClient, currency: str = "usd") -> stripe.Invoice:
    customer = client.v1.customers.create(params={"name": "Acme", "email": "ap@acme.test"}).id
    params: dict[str, Any] = {"customer": customer, "auto_advance": False, "currency": currency}
    return client.v1.invoices.create(params=params)  # type: ignore[arg-type]


def _tax(amount: int, base: int, percentage: str = "8.25", inclusive: bool = False) -> dict[str, Any]:
    return {
        "amount": amount,
        "taxable_amount": base,
        "tax_rate_data": {"display_name": "CO-DEN", "inclusive": inclusive, "percentage": percentage},
    }


def test_exclusive_tax_amounts_add_to_total_and_show_on_lines(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    lines: Any = [
        {"amount": 10000, "tax_amounts": [_tax(825, 10000)]},
        {"amount": 500},
    ]
    updated = client.v1.invoices.add_lines(invoice.id, params={"lines": lines})
    assert (updated.subtotal, updated.total, updated.total_excluding_tax) == (10500, 11325, 10500)
    assert updated.amount_due == 11325
    assert [t.amount for t in updated.total_taxes or []] == [825]
    first = updated.lines.data[0]
    assert first.taxes and first.taxes[0].taxable_amount == 10000
    assert first.taxes[0].tax_behavior == "exclusive"
    assert updated.lines.data[1].taxes == []


def test_update_lines_replaces_and_empty_string_clears_tax(client: stripe.StripeClient) -> None:
    invoice = _draft(client, "jpy")
    added = client.v1.invoices.add_lines(
        invoice.id, params={"lines": [{"amount": 1000, "tax_amounts": [_tax(100, 1000, "10")]}]}
    )
    line_id = added.lines.data[0].id
    changed: Any = [{"id": line_id, "tax_amounts": [_tax(80, 1000, "8")]}]
    assert client.v1.invoices.update_lines(invoice.id, params={"lines": changed}).total == 1080
    cleared: Any = [{"id": line_id, "tax_amounts": ""}]
    after = client.v1.invoices.update_lines(invoice.id, params={"lines": cleared})
    assert (after.total, after.total_taxes) == (1000, [])


def test_inclusive_tax_does_not_raise_total(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    lines: Any = [{"amount": 1100, "tax_amounts": [_tax(100, 1000, "10", inclusive=True)]}]
    updated = client.v1.invoices.add_lines(invoice.id, params={"lines": lines})
    assert (updated.total, updated.total_excluding_tax) == (1100, 1000)


def test_missing_required_tax_rate_data_is_refused_like_stripe(client: stripe.StripeClient) -> None:
    invoice = _draft(client)
    bad: Any = [{"amount": 100, "tax_amounts": [{"amount": 8, "taxable_amount": 100}]}]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.add_lines(invoice.id, params={"lines": bad})
    assert "tax_rate_data" in str(caught.value.param)
    negative: Any = [{"amount": 100, "tax_amounts": [_tax(8, 100, "-1")]}]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.invoices.add_lines(invoice.id, params={"lines": negative})
    assert refused.value.param == "lines[0][tax_amounts][0][tax_rate_data][percentage]"
