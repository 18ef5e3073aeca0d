"""Mapping configuration: defaults, validation, and the JDE_STRIPE_* environment variables."""

import pytest

from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    CustomField,
    InvoiceMappingConfig,
    MappingConfigError,
)


def test_defaults() -> None:
    invoice = InvoiceMappingConfig()
    assert invoice.timezone == "America/Chicago"
    assert invoice.collection_method == "send_invoice"
    assert invoice.number_template == "{DCTO}-{DOCO}-{KCOO}"
    assert invoice.cancelled_line_statuses == frozenset({"980"})
    assert invoice.days_for_terms("N30") == 30
    assert invoice.days_for_terms(None) == 30
    assert invoice.days_for_terms("XYZ") is None
    customer = CustomerMappingConfig()
    assert customer.ship_to_source == "customer"
    assert customer.language_locales["F"] == "fr"
    assert customer.blank_language_locale == "en"


def test_an_environment_with_only_the_zone_gives_the_defaults() -> None:
    assert InvoiceMappingConfig.from_env({"JDE_TIMEZONE": "America/Chicago"}) == InvoiceMappingConfig()
    assert CustomerMappingConfig.from_env({}) == CustomerMappingConfig()


@pytest.mark.parametrize("zone", ["", "  "])
def test_the_zone_has_no_silent_default(zone: str) -> None:
    with pytest.raises(MappingConfigError, match=r"^JDE_TIMEZONE is not set: set it to .*America/Chicago$"):
        InvoiceMappingConfig.from_env({"JDE_TIMEZONE": zone} if zone else {})


def test_every_variable_is_read() -> None:
    invoice = InvoiceMappingConfig.from_env(
        {
            "JDE_TIMEZONE": "Europe/Berlin",
            "JDE_STRIPE_COLLECTION_METHOD": "charge_automatically",
            "JDE_STRIPE_DAYS_UNTIL_DUE": "12",
            "JDE_STRIPE_DEFAULT_DAYS_UNTIL_DUE": "0",
            "JDE_STRIPE_PAYMENT_TERMS_DAYS": "d10=10, EOM=30",
            "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "{KCOO}-{DOCO}",
            "JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "PO={DCTO} {DOCO}; Ship={AN8}",
            "JDE_STRIPE_CANCELLED_LINE_STATUSES": "980, 999",
        }
    )
    assert invoice == InvoiceMappingConfig(
        timezone="Europe/Berlin",
        collection_method="charge_automatically",
        days_until_due=12,
        default_days_until_due=0,
        payment_terms_days={"D10": 10, "EOM": 30},
        number_template="{KCOO}-{DOCO}",
        custom_fields=(CustomField("PO", "{DCTO} {DOCO}"), CustomField("Ship", "{AN8}")),
        cancelled_line_statuses=frozenset({"980", "999"}),
    )
    customer = CustomerMappingConfig.from_env(
        {
            "JDE_STRIPE_SHIP_TO_SOURCE": "ship_to",
            "JDE_STRIPE_LANGUAGE_LOCALES": "f=fr-CA,X=nl",
            "JDE_STRIPE_BLANK_LANGUAGE_LOCALE": "",
        }
    )
    assert customer.ship_to_source == "ship_to"
    assert customer.language_locales["F"] == "fr-CA"
    assert customer.language_locales["X"] == "nl"
    assert customer.language_locales["G"] == "de"  # defaults kept
    assert customer.blank_language_locale is None


def test_empty_values_switch_features_off() -> None:
    invoice = InvoiceMappingConfig.from_env(
        {
            "JDE_TIMEZONE": "America/Chicago",
            "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "",
            "JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "",
            "JDE_STRIPE_DAYS_UNTIL_DUE": "",
        }
    )
    assert invoice.number_template is None
    assert invoice.custom_fields == ()
    assert invoice.days_until_due is None


@pytest.mark.parametrize(
    "environ",
    [
        {"JDE_TIMEZONE": "Mars/Olympus"},
        {"JDE_STRIPE_COLLECTION_METHOD": "by_carrier_pigeon"},
        {"JDE_STRIPE_DAYS_UNTIL_DUE": "thirty"},
        {"JDE_STRIPE_DAYS_UNTIL_DUE": "-1"},
        {"JDE_STRIPE_PAYMENT_TERMS_DAYS": "N30"},
        {"JDE_STRIPE_PAYMENT_TERMS_DAYS": "N30=x"},
        {"JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "{ORDER}"},
        {"JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "{DOCO"},
        {"JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "INVOICE-FROM-JDE-{DCTO}-{DOCO}-{KCOO}"},
        {"JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "no equals sign"},
        {"JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "A={DOCO};B={DOCO};C={DOCO};D={DOCO};E={DOCO}"},
        {"JDE_STRIPE_INVOICE_CUSTOM_FIELDS": "N" * 41 + "={DOCO}"},
    ],
)
def test_bad_invoice_settings_fail_when_the_config_is_built(environ: dict[str, str]) -> None:
    with pytest.raises(MappingConfigError) as raised:
        InvoiceMappingConfig.from_env({"JDE_TIMEZONE": "America/Chicago", **environ})
    assert "JDE_TIMEZONE" not in str(raised.value)


@pytest.mark.parametrize(
    "environ",
    [
        {"JDE_STRIPE_SHIP_TO_SOURCE": "warehouse"},
        {"JDE_STRIPE_LANGUAGE_LOCALES": "F=french"},
        {"JDE_STRIPE_BLANK_LANGUAGE_LOCALE": "english"},
    ],
)
def test_bad_customer_settings_fail_when_the_config_is_built(environ: dict[str, str]) -> None:
    with pytest.raises(MappingConfigError):
        CustomerMappingConfig.from_env(environ)


def test_config_is_frozen() -> None:
    config = InvoiceMappingConfig()
    with pytest.raises(AttributeError):
        config.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.payment_terms_days["X"] = 1  # type: ignore[index]
