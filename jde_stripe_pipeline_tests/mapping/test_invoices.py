"""JDE invoice → Stripe draft invoice request: lines, amounts, currencies, deletes and failures."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from jde_stripe_pipeline.jde.records import JdeDocumentKey
from jde_stripe_pipeline.mapping import (
    DeleteDraftInvoice,
    InvoiceMappingConfig,
    InvoiceRequest,
    MissingCustomerError,
    invoice_total_minor,
    map_invoice,
)
from jde_stripe_pipeline.mapping.invoices import canonical_lnid, line_description
from jde_stripe_pipeline_tests.mapping.builders import CONFIG, STAMP, invoice, line, mapped, refused


def test_full_invoice_create_params_and_lines() -> None:
    request = map_invoice(invoice(), CONFIG, customer_id="cus_123")
    assert isinstance(request, InvoiceRequest)
    assert request.params() == {
        "customer": "cus_123",
        "auto_advance": False,
        "pending_invoice_items_behavior": "exclude",
        "collection_method": "send_invoice",
        "days_until_due": 30,
        "currency": "usd",
        "number": "OP-1001-00070",
        "effective_at": int(datetime(2026, 11, 20, 6, 0, tzinfo=UTC).timestamp()),
        "shipping_details": {
            "name": "Acme Warehouse",
            "address": {
                "line1": "9 Dock Road",
                "city": "Chicago",
                "state": "IL",
                "postal_code": "60601",
                "country": "US",
            },
        },
        "custom_fields": [{"name": "JDE order", "value": "OP 1001 00070"}],
        "metadata": {
            "jde_kcoo": "00070",
            "jde_doco": "1001",
            "jde_dcto": "OP",
            "jde_sfxo": "000",
            "jde_an8": "10001",
            "jde_updated_at": "2026-11-20T09:30:15",
            "jde_profile": "purchase_order",
        },
    }
    assert [candidate.params() for candidate in request.lines] == [
        {
            "amount": 3750,
            "description": "100-200 Steel bracket (3 EA × 12.50)",
            "metadata": {
                "jde_lnid": "1.000",
                "jde_item": "100-200",
                "jde_quantity": "3",
                "jde_uom": "EA",
                "jde_unit_price": "12.50",
            },
        }
    ]


def test_create_without_customer_id_is_refused_loudly() -> None:
    request = mapped(invoice())
    with pytest.raises(MissingCustomerError):
        request.params()
    assert request.with_customer("cus_9").params()["customer"] == "cus_9"


def test_content_hash_depends_on_jde_content_and_config_not_on_the_customer_id() -> None:
    base = mapped(invoice())
    assert base.content_hash == mapped(invoice()).content_hash
    with_customer = map_invoice(invoice(), CONFIG, customer_id="cus_1")
    assert isinstance(with_customer, InvoiceRequest)
    assert with_customer.content_hash == base.content_hash
    assert base.with_customer("cus_2").content_hash == base.content_hash
    assert mapped(invoice(line(amount="37.51"))).content_hash != base.content_hash
    assert mapped(invoice(line(description="Steel bracket, zinc"))).content_hash != base.content_hash
    assert mapped(invoice(), InvoiceMappingConfig(days_until_due=10)).content_hash != base.content_hash


def test_change_hash_ignores_only_the_jde_version_stamp() -> None:
    base = mapped(invoice())
    touched = mapped(invoice(updated_at=STAMP + timedelta(hours=1)))
    assert touched.content_hash != base.content_hash
    assert touched.change_hash == base.change_hash
    assert mapped(invoice(line(amount="37.51"))).change_hash != base.change_hash


def test_a_cancelled_line_changing_does_not_change_what_is_sent() -> None:
    first = invoice(line("1.000"), line("2.000", amount="5.00", last_status="980"))
    second = invoice(line("1.000"), line("2.000", amount="9.00", last_status="980"))
    assert mapped(first).content_hash == mapped(second).content_hash


def test_lines_are_ordered_by_line_number_and_keyed_canonically() -> None:
    request = mapped(invoice(line("3"), line("1.0"), line("2.500")))
    assert [candidate.lnid for candidate in request.lines] == ["1.000", "2.500", "3.000"]
    assert request.line("2.500") is not None
    assert request.line("2.5") is None
    assert [candidate.metadata["jde_lnid"] for candidate in request.lines] == ["1.000", "2.500", "3.000"]


@pytest.mark.parametrize(
    ("raw", "canonical"), [("1", "1.000"), ("1.000", "1.000"), ("12.5", "12.500"), ("0", "0.000")]
)
def test_canonical_lnid(raw: str, canonical: str) -> None:
    assert canonical_lnid(Decimal(raw)) == canonical


@pytest.mark.parametrize("raw", ["1.0005", "-1"])
def test_a_line_number_that_is_not_a_jde_line_number_is_refused(raw: str) -> None:
    assert refused(invoice(line(raw))).field == "F4311.LNID"


def test_duplicate_line_numbers_are_refused() -> None:
    failure = refused(invoice(line("1"), line("1.000")))
    assert failure.field == "F4311.LNID"
    assert "twice" in failure.reason


def test_credit_lines_are_negative_and_the_total_matches_jde() -> None:
    request = mapped(invoice(line("1", amount="100.00"), line("2", amount="-25.10"), line("3", amount="0")))
    assert [candidate.amount for candidate in request.lines] == [10000, -2510, 0]
    assert invoice_total_minor(request) == request.total_minor == 7490


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("JPY", "1500", 1500), ("KWD", "12.340", 12340), ("EUR", "0.01", 1), ("usd", "1.5", 150)],
)
def test_amounts_in_each_currency(currency: str, amount: str, minor: int) -> None:
    request = mapped(invoice(line(amount=amount, unit_price=None), currency=currency))
    assert request.currency == currency.lower()
    assert request.lines[0].amount == minor


@pytest.mark.parametrize(
    ("currency", "amount", "profile", "field"),
    [
        ("JPY", "10.5", "purchase_order", "F4311.AEXP"),
        ("USD", "1.005", "purchase_order", "F4311.AEXP"),
        ("KWD", "1.234", "sales_order", "F4211.AEXP"),
        ("KWD", "1.2345", "sales_order", "F4211.AEXP"),
        ("USD", "1000000.00", "purchase_order", "F4311.AEXP"),  # over Stripe's 99,999,999 cents
        ("JPY", "-100000000", "purchase_order", "F4311.AEXP"),
    ],
)
def test_an_amount_stripe_cannot_take_exactly_refuses_the_whole_invoice(
    currency: str, amount: str, profile: str, field: str
) -> None:
    record = invoice(line("1", amount="10"), line("2", amount=amount), currency=currency, profile=profile)
    failure = refused(record)
    assert failure.field == field
    assert "line 2.000" in failure.reason


def test_the_largest_amount_stripe_takes_is_sent() -> None:
    assert mapped(invoice(line(amount="999999.99", unit_price=None))).lines[0].amount == 99_999_999


def test_unknown_currency_and_currency_mismatch_are_refused() -> None:
    assert refused(invoice(currency="XYZ")).field == "F4301.CRCD"
    assert refused(invoice(currency="XYZ", profile="sales_order")).field == "F4201.CRCD"
    mismatch = refused(invoice(line("1", currency="USD"), line("2", currency="EUR")))
    assert mismatch.field == "F4311.CRCD"
    assert "EUR" in mismatch.reason and "USD" in mismatch.reason
    assert refused(invoice(line(currency="QQQ"))).field == "F4311.CRCD"
    assert isinstance(map_invoice(invoice(line(currency=" usd ")), CONFIG), InvoiceRequest)


def test_250_lines_fit_251_are_refused_cancelled_ones_do_not_count() -> None:
    def lines(count: int) -> list:  # type: ignore[type-arg]
        return [line(str(number), amount="1.00") for number in range(1, count + 1)]

    assert len(mapped(invoice(*lines(250))).lines) == 250
    failure = refused(invoice(*lines(251)))
    assert "251 billable lines" in failure.reason
    cancelled = line("999", amount="1.00", last_status="980")
    assert len(mapped(invoice(*lines(250), cancelled)).lines) == 250


def test_cancelled_lines_are_not_billed() -> None:
    request = mapped(invoice(line("1", amount="10"), line("2", amount="20", last_status="980")))
    assert [candidate.lnid for candidate in request.lines] == ["1.000"]
    assert request.total_minor == 1000


def test_a_document_with_nothing_left_to_bill_maps_to_delete_draft() -> None:
    record = invoice(line("1", last_status="980"), line("2", last_status=" 980 "))
    result = map_invoice(record, CONFIG)
    assert isinstance(result, DeleteDraftInvoice)
    assert result.record_key == "00070/1001/OP/000"
    assert result.customer_an8 == 10001
    assert "cancelled" in result.reason
    empty = map_invoice(invoice(lines=()), CONFIG)
    assert isinstance(empty, DeleteDraftInvoice) and "no lines" in empty.reason
    assert result.content_hash == empty.content_hash  # the same target state: no draft
    other = map_invoice(
        invoice(line(last_status="980"), key=JdeDocumentKey(kcoo="1", doco=2, dcto="OP")), CONFIG
    )
    assert isinstance(other, DeleteDraftInvoice) and other.content_hash != result.content_hash


def test_cancelled_statuses_are_configurable() -> None:
    config = InvoiceMappingConfig(cancelled_line_statuses=frozenset({"980", "999"}))
    request = mapped(invoice(line("1"), line("2", last_status="999")), config)
    assert [candidate.lnid for candidate in request.lines] == ["1.000"]


@pytest.mark.parametrize(
    ("overrides", "currency", "description"),
    [
        ({}, "usd", "100-200 Steel bracket (3 EA × 12.50)"),
        ({"description2": "zinc plated"}, "usd", "100-200 Steel bracket zinc plated (3 EA × 12.50)"),
        ({"unit_price": Decimal("12.12345")}, "usd", "100-200 Steel bracket (3 EA × 12.12345)"),
        (
            {"unit_price": Decimal("1500"), "quantity": Decimal("2.50")},
            "jpy",
            "100-200 Steel bracket (2.5 EA × 1500)",
        ),
        (
            {"unit_price": Decimal("1.2"), "quantity": Decimal("0")},
            "kwd",
            "100-200 Steel bracket (0 EA × 1.200)",
        ),
        ({"item": None, "description": "", "unit_of_measure": None}, "usd", "3 × 12.50"),
    ],
)
def test_line_description(overrides: dict[str, object], currency: str, description: str) -> None:
    assert line_description(line(**overrides), currency) == description


def test_line_description_is_shortened_harmlessly_keeping_the_facts() -> None:
    long = line(description="Hydraulic pump assembly heavy duty", description2="with extended warranty")
    full = line_description(long, "usd")
    assert full == "100-200 Hydraulic pump assembly heavy duty with extended warranty (3 EA × 12.50)"
    without_dsc2 = line_description(long, "usd", max_length=60)
    assert without_dsc2 == "100-200 Hydraulic pump assembly heavy duty (3 EA × 12.50)"
    cut = line_description(long, "usd", max_length=40)
    assert len(cut) <= 40
    assert cut.endswith("… (3 EA × 12.50)")
    assert cut.startswith("100-200")
    assert len(line_description(long, "usd", max_length=10)) <= 10


def test_line_metadata_over_stripe_limits_is_refused() -> None:
    failure = refused(invoice(line(item="X" * 501)))
    assert failure.field == "metadata"
    assert "line 1.000" in failure.reason and "jde_item" in failure.reason
