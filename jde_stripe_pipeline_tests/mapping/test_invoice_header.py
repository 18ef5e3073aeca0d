"""JDE invoice → Stripe draft invoice header: terms, number, dates, shipping, custom fields, updates,
metadata and the figures the reconciliation expects."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jde_stripe_pipeline.jde.records import JdeDocumentKey, JdeParty
from jde_stripe_pipeline.mapping import (
    CustomField,
    ExpectedInvoiceFigures,
    InvoiceMappingConfig,
    InvoiceRequest,
    MappingFailure,
    expected_invoice_figures,
)
from jde_stripe_pipeline.mapping.invoices import local_midnight_timestamp
from jde_stripe_pipeline_tests.mapping.builders import CONFIG, STAMP, address, invoice, line, mapped, refused


@pytest.mark.parametrize(
    ("terms", "config", "days"),
    [
        ("N30", CONFIG, 30),
        ("N45", CONFIG, 45),
        ("n15", CONFIG, 15),
        (None, CONFIG, 30),
        ("  ", InvoiceMappingConfig(default_days_until_due=14), 14),
        ("D10", InvoiceMappingConfig(payment_terms_days={"D10": 10}), 10),
        ("N30", InvoiceMappingConfig(payment_terms_days={"N30": 31}), 31),
        ("D10", InvoiceMappingConfig(days_until_due=7), 7),
    ],
)
def test_days_until_due_from_terms(terms: str | None, config: InvoiceMappingConfig, days: int) -> None:
    request = mapped(invoice(payment_terms=terms), config)
    assert request.days_until_due == days
    assert request.with_customer("cus_1").params()["days_until_due"] == days
    assert request.update_params()["days_until_due"] == days


def test_unknown_payment_terms_are_refused_not_guessed() -> None:
    failure = refused(invoice(payment_terms="D10"))
    assert failure.field == "F4301.PTC"
    assert "JDE_STRIPE_PAYMENT_TERMS_DAYS" in failure.reason


def test_charge_automatically_sends_no_days_until_due_and_ignores_terms() -> None:
    config = InvoiceMappingConfig(collection_method="charge_automatically")
    request = mapped(invoice(payment_terms="D10"), config)
    params = request.with_customer("cus_1").params()
    assert params["collection_method"] == "charge_automatically"
    assert "days_until_due" not in params
    assert "days_until_due" not in request.update_params()
    assert "days_until_due" not in request.owned_fields


def test_number_template_and_its_limit() -> None:
    assert mapped(invoice()).number == "OP-1001-00070"
    sfxo = InvoiceMappingConfig(number_template="{KCOO}{DCTO}{DOCO:08d}{SFXO}")
    assert mapped(invoice(), sfxo).number == "00070OP00001001000"
    long_key = invoice(key=JdeDocumentKey(kcoo="12345", doco=12345678, dcto="OP", sfxo="001"))
    long_config = InvoiceMappingConfig(number_template="JDE-{DCTO}-{DOCO}-{KCOO}-{SFXO}-X")
    failure = refused(long_key, long_config)
    assert failure.field == "number"
    assert "26" in failure.reason
    no_number = mapped(invoice(), InvoiceMappingConfig(number_template=None))
    assert no_number.number is None
    assert "number" not in no_number.with_customer("cus_1").params()
    assert "number" not in no_number.update_params()
    assert "number" not in no_number.owned_fields


def test_number_of_26_characters_fits() -> None:
    record = invoice(key=JdeDocumentKey(kcoo="12345", doco=12345678, dcto="OP", sfxo="001"))
    config = InvoiceMappingConfig(number_template="JDE-{DCTO}-{DOCO}-{KCOO}-{SFXO}X")
    number = mapped(record, config).number
    assert number is not None and len(number) == 26


@pytest.mark.parametrize(
    ("day", "zone", "utc"),
    [
        (date(2026, 11, 20), "America/Chicago", datetime(2026, 11, 20, 6, tzinfo=UTC)),
        (date(2026, 7, 1), "America/Chicago", datetime(2026, 7, 1, 5, tzinfo=UTC)),
        (date(2026, 3, 8), "America/Chicago", datetime(2026, 3, 8, 6, tzinfo=UTC)),  # DST starts 02:00
        (date(2026, 3, 9), "America/Chicago", datetime(2026, 3, 9, 5, tzinfo=UTC)),
        (date(2026, 11, 20), "Asia/Tokyo", datetime(2026, 11, 19, 15, tzinfo=UTC)),
        (date(2026, 11, 20), "UTC", datetime(2026, 11, 20, 0, tzinfo=UTC)),
        (date(2022, 9, 11), "America/Santiago", datetime(2022, 9, 11, 4, tzinfo=UTC)),  # 00:00 does not exist
    ],
)
def test_effective_at_is_the_first_instant_of_the_document_date_in_the_jde_zone(
    day: date, zone: str, utc: datetime
) -> None:
    assert local_midnight_timestamp(day, ZoneInfo(zone)) == int(utc.timestamp())
    request = mapped(invoice(document_date=day), InvoiceMappingConfig(timezone=zone))
    assert request.effective_at == int(utc.timestamp())
    instant = datetime.fromtimestamp(request.effective_at, ZoneInfo(zone))
    assert instant.date() == day
    assert datetime.fromtimestamp(request.effective_at - 1, ZoneInfo(zone)).date() == day - timedelta(days=1)


def test_shipping_details_from_the_ship_to_party() -> None:
    with_phone = JdeParty(an8=5, name="Dock 5", address=address(lines=("5 Pier",)), phone="555-0105")
    details = mapped(invoice(ship_to=with_phone)).shipping_details
    assert details is not None
    assert details.params()["phone"] == "555-0105"
    assert details.params()["address"]["line1"] == "5 Pier"
    none = mapped(invoice(ship_to=None))
    assert none.shipping_details is None
    assert "shipping_details" not in none.with_customer("cus_1").params()
    assert none.update_params()["shipping_details"] == ""
    assert mapped(invoice(ship_to=JdeParty(an8=5, name="Dock 5"))).shipping_details is None
    nameless = refused(invoice(ship_to=JdeParty(an8=5, name=" ", address=address())))
    assert nameless.field == "F0101.ALPH"
    assert "AN8 5" in nameless.reason


def test_custom_fields_from_templates_and_their_limit() -> None:
    config = InvoiceMappingConfig(
        custom_fields=(CustomField("PO", "{DCTO} {DOCO}"), CustomField("Customer", "{AN8}"))
    )
    params = mapped(invoice(), config).with_customer("cus_1").params()
    assert params["custom_fields"] == [
        {"name": "PO", "value": "OP 1001"},
        {"name": "Customer", "value": "10001"},
    ]
    none = mapped(invoice(), InvoiceMappingConfig(custom_fields=()))
    assert "custom_fields" not in none.with_customer("cus_1").params()
    assert "custom_fields" not in none.update_params()
    too_long = InvoiceMappingConfig(custom_fields=(CustomField("Ref", "{KCOO}" + "x" * 140),))
    assert refused(invoice(), too_long).field == "custom_fields"


def test_update_params_touch_only_owned_header_fields() -> None:
    request = mapped(invoice())
    update = request.update_params()
    assert set(update) == request.owned_fields
    for create_only in ("customer", "currency", "auto_advance", "pending_invoice_items_behavior"):
        assert create_only not in update
    assert set(update["metadata"]) == set(InvoiceRequest.OWNED_METADATA_KEYS)


def test_line_update_params_unset_owned_metadata_jde_dropped() -> None:
    request = mapped(invoice(line(item=None, unit_of_measure=None, unit_price=None)))
    only = request.lines[0]
    assert only.params()["metadata"] == {"jde_lnid": "1.000", "jde_quantity": "3"}
    assert only.update_params("il_123") == {
        "id": "il_123",
        "amount": 3750,
        "description": "Steel bracket (3)",
        "metadata": {
            "jde_lnid": "1.000",
            "jde_item": "",
            "jde_quantity": "3",
            "jde_uom": "",
            "jde_unit_price": "",
        },
    }
    assert (
        only.content_hash
        == mapped(invoice(line(item=None, unit_of_measure=None, unit_price=None))).lines[0].content_hash
    )


def test_expected_figures_for_reconciliation() -> None:
    record = invoice(
        line("1", amount="100.00"),
        line("2", amount="-25.10"),
        line("3", amount="999.99", last_status="980"),
        total=Decimal("1074.89"),
    )
    figures = expected_invoice_figures(record, CONFIG)
    assert figures == ExpectedInvoiceFigures(
        number="OP-1001-00070",
        effective_at=int(datetime(2026, 11, 20, 6, tzinfo=UTC).timestamp()),
        currency="usd",
        line_count=2,
        total_minor=7490,
    )
    request = mapped(record)
    assert request.total_minor == figures.total_minor
    assert len(request.lines) == figures.line_count
    assert request.effective_at == figures.effective_at
    bad = expected_invoice_figures(invoice(currency="XYZ"), CONFIG)
    assert isinstance(bad, MappingFailure) and bad.field == "F4301.CRCD"


def test_metadata_and_stamp() -> None:
    request = mapped(invoice(updated_at=STAMP + timedelta(hours=1), profile="sales_order"))
    assert request.metadata["jde_updated_at"] == "2026-11-20T10:30:15"
    assert request.metadata["jde_profile"] == "sales_order"
