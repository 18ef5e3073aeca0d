"""The settings root: every configuration variable parsed once, typed, and refused in one line naming
the variable and the fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, AccountRouting, StripeAccount
from jde_stripe_pipeline.errors import ConfigurationError
from jde_stripe_pipeline.mapping import CustomerMappingConfig, CustomField, InvoiceMappingConfig
from jde_stripe_pipeline.settings import (
    DEFAULT_BILLING_CRON,
    DEFAULT_START_DATE,
    Settings,
    SettingsError,
)
from jde_stripe_pipeline.stripe_sink import StripeSinkSettings

ZONE = {"JDE_TIMEZONE": "America/Chicago"}


def _invoice_mapping(env: dict[str, str]) -> InvoiceMappingConfig:
    return Settings.from_env(env).invoice_mapping


def _customer_mapping(env: dict[str, str]) -> CustomerMappingConfig:
    return Settings.from_env({**ZONE, **env}).customer_mapping


def test_only_the_zone_is_required_and_the_rest_has_defaults() -> None:
    settings = Settings.from_env({"JDE_TIMEZONE": " Europe/Berlin "})
    assert settings.timezone == settings.jde.timezone == settings.invoice_mapping.timezone == "Europe/Berlin"
    assert settings.jde.invoice_source == "purchase_order"
    assert settings.jde.read_workers == 4
    assert settings.schedule.start_date == DEFAULT_START_DATE
    assert settings.schedule.billing_cron == DEFAULT_BILLING_CRON
    assert settings.stripe == StripeSinkSettings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, r"^JDE_TIMEZONE is not set: set it to the JDE server's IANA time zone, e\.g\. JDE_TIMEZONE="),
        (
            {"JDE_TIMEZONE": "Mars/Olympus"},
            r"^JDE_TIMEZONE='Mars/Olympus' is not a known IANA time zone: set",
        ),
        (
            {**ZONE, "JDE_STRIPE_START_DATE": "01/02/2026"},
            r"^JDE_STRIPE_START_DATE='01/02/2026' is not a date",
        ),
        (
            {**ZONE, "JDE_INVOICE_SOURCE": "ledger"},
            r"^JDE_INVOICE_SOURCE='ledger' is not a known invoice source",
        ),
        ({**ZONE, "JDE_STRIPE_WORKERS": "many"}, r"^JDE_STRIPE_WORKERS='many' is not a whole number$"),
        ({**ZONE, "JDE_AIS_READ_WORKERS": "0"}, r"^JDE_AIS_READ_WORKERS=0 is out of range: use 1 \(one read"),
        ({**ZONE, "JDE_AIS_READ_WORKERS": "two"}, r"^JDE_AIS_READ_WORKERS='two' is not a whole number$"),
        ({**ZONE, "JDE_STRIPE_RATE_PER_SECOND": "-1"}, r"rate_per_second must be > 0"),
        ({**ZONE, "JDE_STRIPE_LANGUAGE_LOCALES": "F=french"}, r"^JDE_STRIPE_LANGUAGE_LOCALES: "),
        ({**ZONE, "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE": "{ORDER}"}, r"^JDE_STRIPE_INVOICE_NUMBER_TEMPLATE: "),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        Settings.from_env(env)
    assert isinstance(raised.value, ConfigurationError) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "text", "read", "expected"),
    [
        ("JDE_STRIPE_START_DATE", "2026-03-01", lambda s: str(s.schedule.start_date), "2026-03-01"),
        ("JDE_STRIPE_BILLING_CRON", "30 5 * * 1-5", lambda s: s.schedule.billing_cron, "30 5 * * 1-5"),
        ("JDE_INVOICE_SOURCE", "sales_order", lambda s: s.jde.invoice_source, "sales_order"),
        ("JDE_AIS_READ_WORKERS", "2", lambda s: s.jde.read_workers, 2),
        ("JDE_STRIPE_RATE_PER_SECOND", "7.5", lambda s: s.stripe.rate_per_second, 7.5),
        ("JDE_STRIPE_BURST", "3", lambda s: s.stripe.burst, 3),
        ("JDE_STRIPE_WORKERS", "6", lambda s: s.stripe.workers, 6),
        ("JDE_STRIPE_MAX_RETRIES", "0", lambda s: s.stripe.max_retries, 0),
        ("JDE_STRIPE_BACKOFF_BASE_SECONDS", "0.01", lambda s: s.stripe.backoff_base_seconds, 0.01),
        ("JDE_STRIPE_BACKOFF_MAX_SECONDS", "2", lambda s: s.stripe.backoff_max_seconds, 2.0),
        ("JDE_STRIPE_TIMEOUT_SECONDS", "5", lambda s: s.stripe.timeout_seconds, 5.0),
        ("JDE_STRIPE_ENDPOINT_RATE_PER_SECOND", "24", lambda s: s.stripe.endpoint_rate_per_second, 24),
        ("JDE_STRIPE_SEARCH_RATE_PER_SECOND", "4", lambda s: s.stripe.search_rate_per_second, 4),
        ("JDE_STRIPE_MAX_IN_FLIGHT", "12", lambda s: (s.stripe.max_in_flight, s.stripe.workers), (12, 18)),
        ("JDE_STRIPE_KEY_GRACE_SECONDS", "30", lambda s: s.stripe.key_grace_seconds, 30.0),
        ("JDE_STRIPE_KEY_GRACE_POLL_SECONDS", "2", lambda s: s.stripe.key_grace_poll_seconds, 2.0),
        ("JDE_STRIPE_BUDGET_NAME", "acct-main", lambda s: s.stripe.budget_name, "acct-main"),
        ("JDE_STRIPE_BUDGET_DIR", "/var/tmp/budgets", lambda s: s.stripe.budget_dir, "/var/tmp/budgets"),
        ("JDE_STRIPE_BUDGET_DIR", "off", lambda s: s.stripe.budget_dir, ""),
    ],
)
def test_each_setting_is_read(
    variable: str, text: str, read: Callable[[Settings], object], expected: object
) -> None:
    """One row a variable: the value read differs from the default, so the row shows it was read."""
    assert read(Settings.from_env(ZONE)) != expected
    assert read(Settings.from_env({**ZONE, variable: text})) == expected


def test_ship_to_is_one_setting_for_the_extract_and_the_mapping() -> None:
    settings = Settings.from_env({**ZONE, "JDE_STRIPE_SHIP_TO_SOURCE": "ship_to"})
    assert settings.jde.ship_to_source == settings.customer_mapping.ship_to_source == "ship_to"
    with pytest.raises(SettingsError, match="SHIP_TO_SOURCE"):
        Settings(settings.jde, CustomerMappingConfig(), settings.invoice_mapping)


def test_an_environment_with_only_the_zone_gives_the_defaults() -> None:
    assert _invoice_mapping({"JDE_TIMEZONE": "America/Chicago"}) == InvoiceMappingConfig()
    assert _customer_mapping({}) == CustomerMappingConfig()


@pytest.mark.parametrize("zone", ["", "  "])
def test_the_zone_has_no_silent_default(zone: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^JDE_TIMEZONE is not set: set it to .*America/Chicago$"):
        _invoice_mapping({"JDE_TIMEZONE": zone} if zone else {})


def test_every_variable_is_read() -> None:
    invoice = _invoice_mapping(
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
    customer = _customer_mapping(
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
    invoice = _invoice_mapping(
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
def test_bad_invoice_settings_fail_naming_their_variable(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _invoice_mapping({"JDE_TIMEZONE": "America/Chicago", **environ})
    [variable] = environ
    assert str(raised.value).startswith(variable), "the message names the variable first"


@pytest.mark.parametrize(
    "environ",
    [
        {"JDE_STRIPE_SHIP_TO_SOURCE": "warehouse"},
        {"JDE_STRIPE_LANGUAGE_LOCALES": "F=french"},
        {"JDE_STRIPE_BLANK_LANGUAGE_LOCALE": "english"},
    ],
)
def test_bad_customer_settings_fail_when_the_config_is_built(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        _customer_mapping(environ)


def test_accounts_route_companies_and_unset_is_one_default_account() -> None:
    assert Settings.from_env(ZONE).accounts == AccountRouting()
    assert Settings.from_env(ZONE).accounts.account_of("00999") == DEFAULT_ACCOUNT
    routed = Settings.from_env(
        {
            **ZONE,
            "JDE_STRIPE_ACCOUNTS": " 1=us, 00200=eu ,00002=us",
            "JDE_STRIPE_CONNECT_ACCOUNTS": "eu=acct_1EuConnected",
        }
    ).accounts
    assert routed.accounts == (
        StripeAccount("us", ("00001", "00002")),
        StripeAccount("eu", ("00200",), "acct_1EuConnected"),
    )
    assert (routed.account_of("00001"), routed.account_of("200"), routed.account_of("00300")) == (
        "us",
        "eu",
        None,
    )
    reason = routed.unrouted_reason("00300")
    assert "JDE company 00300" in reason and "JDE_STRIPE_ACCOUNTS" in reason


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JDE_STRIPE_ACCOUNTS": "00001"}, r"^JDE_STRIPE_ACCOUNTS: expected CODE=VALUE pairs"),
        ({"JDE_STRIPE_ACCOUNTS": "00001=US"}, r"^JDE_STRIPE_ACCOUNTS: account name 'US' must be lower-case"),
        ({"JDE_STRIPE_ACCOUNTS": "1=us,00001=eu"}, r"^JDE_STRIPE_ACCOUNTS: company 00001 is routed to both"),
        ({"JDE_STRIPE_CONNECT_ACCOUNTS": "eu=acct_1"}, r"^JDE_STRIPE_CONNECT_ACCOUNTS: .* unknown account"),
        (
            {"JDE_STRIPE_ACCOUNTS": "1=eu", "JDE_STRIPE_CONNECT_ACCOUNTS": "eu=1234"},
            r"^JDE_STRIPE_CONNECT_ACCOUNTS: '1234' \(for eu\) is not a Stripe account id",
        ),
    ],
)
def test_a_bad_account_setting_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.from_env({**ZONE, **env})
    assert "\n" not in str(refused.value)
