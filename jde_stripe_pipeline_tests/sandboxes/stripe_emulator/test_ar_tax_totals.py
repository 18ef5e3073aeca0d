"""JDE A/R documents' lines (mapping/ar_lines) through the SDK: Stripe's total = JDE's gross exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe

from jde_stripe_pipeline.jde.ar_documents import ar_documents
from jde_stripe_pipeline.mapping.ar_lines import ArSalesLine, ar_lines
from jde_stripe_pipeline.mapping.money import to_minor_units
from jde_stripe_pipeline_tests.jde.support import pay_item_row


def _row(currency: str, sfx: str, gross: str, tax: str, crrm: str = "D") -> dict[str, object]:
    amounts = ("ACR", "CTAM") if crrm == "F" else ("AG", "STAM")
    return pay_item_row(
        5001,
        sfx,
        CRRM=crrm,
        BCRC="USD" if crrm == "F" else currency,
        CRCD=currency,
        **{amounts[0]: Decimal(gross), amounts[1]: Decimal(tax)},
        TXA1="AREA1",
        EXR1="V",
        RMK=f"item {sfx}",
    )


@pytest.mark.parametrize(
    ("currency", "crrm", "items", "sales"),
    [
        ("USD", "D", [("001", "108.25", "8.25"), ("002", "54.13", "4.13")], ()),
        ("JPY", "F", [("001", "16241", "1241")], (("1.000", "7001"), ("2.000", "7999"))),
        ("KWD", "D", [("001", "10.340", "0.340")], (("1.000", "6.000"), ("2.000", "4.000"))),
    ],
)
def test_stripe_total_equals_jde_gross(
    client: stripe.StripeClient, currency: str, crrm: str, items: Any, sales: Any
) -> None:
    [document], errors = ar_documents([_row(currency, *item, crrm=crrm) for item in items])
    assert errors == []
    lines: Any = ar_lines(document, [ArSalesLine(key, key, Decimal(amount), True) for key, amount in sales])
    customer = client.v1.customers.create(params={"name": "Acme"}).id
    invoice = client.v1.invoices.create(
        params={"customer": customer, "auto_advance": False, "currency": document.currency}
    )
    updated = client.v1.invoices.add_lines(invoice.id, params={"lines": lines})
    assert updated.total == to_minor_units(document.gross, document.currency)
    assert sum(t.amount for t in updated.total_taxes or []) == to_minor_units(document.tax, document.currency)
