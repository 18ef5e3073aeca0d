"""Mapping configuration: defaults and validation (the variables: test_settings.py)."""

import pytest

from jde_stripe_pipeline.mapping import (
    CustomerMappingConfig,
    InvoiceMappingConfig,
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


def test_config_is_frozen() -> None:
    config = InvoiceMappingConfig()
    with pytest.raises(AttributeError):
        config.timezone = "UTC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.payment_terms_days["X"] = 1  # type: ignore[index]
