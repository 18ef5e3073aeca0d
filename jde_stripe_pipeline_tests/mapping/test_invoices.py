"""JDE invoice → Stripe draft invoice request, lines, deletes and failures."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jde_stripe_pipeline.jde.records import JdeDocumentKey, JdeInvoice, JdeParty
from jde_stripe_pipeline.mapping import (
    CustomField,
    DeleteDraftInvoice,
    ExpectedInvoiceFigures,
    InvoiceMappingConfig,
    InvoiceRequest,
    MappingFailure,
    MissingCustomerError,
    expected_invoice_figures,
    invoice_total_minor,
    map_invoice,
)
from jde_stripe_pipeline.mapping.invoices import canonical_lnid, line_description, local_midnight_timestamp
from jde_stripe_pipeline_tests.mapping.builders import STAMP, address, invoice, line

CONFIG = InvoiceMappingConfig()


def mapped(record: JdeInvoice, config: InvoiceMappingConfig = CONFIG) -> InvoiceRequest:
    result = map_invoice(record, config)
    assert isinstance(result, InvoiceRequest), result
    return result


def refused(record: JdeInvoice, config: InvoiceMappingConfig = CONFIG) -> MappingFailure:
    result = map_invoice(record, config)
    assert isinstance(result, MappingFailure), result
    assert result.kind == "invoice"
    assert result.record_key == str(record.key)
    assert result.to_quarantined_record().raw == record.model_dump(mode="json")
    return result


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
