"""A/R document → Stripe lines: pay-item fallback, allocation, F0018 source, exact gross."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jde_stripe_pipeline.jde.ar_documents import ArDocument, ArPayItem
from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping.ar_lines import ArSalesLine, ar_lines
from jde_stripe_pipeline.mapping.tax import TaxMappingError


def _document(currency: str, *items: tuple[str, str, str]) -> ArDocument:
    return ArDocument(
        key=JdeDocumentKey(kcoo="00001", doco=1001, dcto="RI", sfxo="000"),
        status="posted",
        customer=4242,
        currency=currency,
        foreign=False,
        invoice_date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        pay_items=tuple(
            ArPayItem(sfx, Decimal(gross), Decimal(tax), Decimal(0), "CO-DEN", "S", f"rmk {sfx}", None)
            for sfx, gross, tax in items
        ),
    )


def _total(lines: list[dict[str, object]]) -> int:
    tax = sum(t["amount"] for line in lines for t in line.get("tax_amounts", []))  # type: ignore[attr-defined]
    return sum(int(line["amount"]) for line in lines) + int(tax)  # type: ignore[call-overload]


def test_no_sales_lines_gives_one_line_per_pay_item_with_its_remark_and_tax() -> None:
    document = _document("usd", ("001", "108.25", "8.25"), ("002", "50.00", "0"))
    lines = ar_lines(document)
    assert [(line["amount"], line["description"]) for line in lines] == [
        (10000, "rmk 001"),
        (5000, "rmk 002"),
    ]
    assert lines[0]["metadata"] == {"jde_line": "SFX 001", "jde_tax_source": "allocated"}
    assert "tax_amounts" not in lines[1]
    assert _total(lines) == 15825


def test_sales_lines_share_the_pay_item_tax_and_total_the_gross_in_three_decimals() -> None:
    document = _document("kwd", ("001", "10.340", "0.340"))
    sales = [
        ArSalesLine("1.000", "Widget", Decimal("6.000"), True),
        ArSalesLine("2.000", "Gadget", Decimal("4.000"), True),
    ]
    lines = ar_lines(document, sales)
    taxes = [line["tax_amounts"][0]["amount"] for line in lines]  # type: ignore[index]
    assert taxes == [200, 140]  # KWD amounts end in 0 at Stripe
    assert _total(lines) == 10340


def test_line_level_f0018_tax_is_used_and_a_wrong_total_refused() -> None:
    document = _document("jpy", ("001", "1100", "100"))
    sales = [ArSalesLine("1.000", "Widget", Decimal(1000), True)]
    [line] = ar_lines(document, sales, line_tax={"1.000": Decimal(100)})
    assert line["metadata"] == {"jde_line": "1.000", "jde_tax_source": "F0018"}
    with pytest.raises(TaxMappingError, match="JDE gross 1100"):
        ar_lines(document, sales, line_tax={"1.000": Decimal(90)})
