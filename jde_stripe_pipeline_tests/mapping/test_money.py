"""Decimal → Stripe minor units: exact, or a typed error; never rounded."""

from decimal import Decimal

import pytest

from jde_stripe_pipeline.mapping.errors import (
    AmountGranularityError,
    InexactAmountError,
    MoneyError,
    UnknownCurrencyError,
)
from jde_stripe_pipeline.mapping.money import (
    CURRENCY_RULES,
    currency_exponent,
    from_minor_units,
    normalize_currency,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "usd", 1234),
        ("12.34", "USD", 1234),
        ("-12.34", "usd", -1234),
        ("0", "usd", 0),
        ("12.3", "eur", 1230),
        ("12.3400", "gbp", 1234),
        ("1000000.00", "cad", 100000000),
        ("500", "jpy", 500),
        ("500.000", "jpy", 500),
        ("-500", "jpy", -500),
        ("1.23", "kwd", 1230),
        ("1.230", "kwd", 1230),
        ("12.5", "bhd", 12500),
        ("150", "isk", 15000),
        ("10.45", "huf", 1045),
        ("10.45", "twd", 1045),
        ("1E+2", "usd", 10000),
    ],
)
def test_exact_amounts_convert(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.5", "jpy"),
        ("1.005", "usd"),
        ("-0.001", "usd"),
        ("1.2345", "kwd"),
        ("1.2341", "kwd"),
        ("0.5", "vnd"),
        ("12345678901234567890123456789.001", "usd"),
    ],
)
def test_amounts_with_too_many_decimals_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(InexactAmountError) as raised:
        to_minor_units(Decimal(amount), currency)
    assert currency.upper() in str(raised.value)


@pytest.mark.parametrize(
    ("amount", "currency", "multiple"),
    [
        ("1.234", "kwd", 10),  # exact in fils, but Stripe wants the last digit 0
        ("0.001", "bhd", 10),
        ("5.125", "tnd", 10),
        ("150.50", "isk", 100),  # ISK: whole krónur only since 2023
    ],
)
def test_stripe_granularity_rules_are_refused_not_rounded(amount: str, currency: str, multiple: int) -> None:
    with pytest.raises(AmountGranularityError) as raised:
        to_minor_units(Decimal(amount), currency)
    assert raised.value.multiple_of == multiple
    assert "refusing to round" in str(raised.value)


@pytest.mark.parametrize("currency", ["xyz", "", "us", "dollars", "btc"])
def test_unknown_currency_is_an_error(currency: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        to_minor_units(Decimal("1"), currency)


def test_every_money_error_is_a_value_error_and_one_family() -> None:
    for error_type in (UnknownCurrencyError, InexactAmountError, AmountGranularityError):
        assert issubclass(error_type, MoneyError)
        assert issubclass(error_type, ValueError)


def test_floats_and_non_finite_values_are_not_money() -> None:
    with pytest.raises(TypeError):
        to_minor_units(1.5, "usd")  # type: ignore[arg-type]
    for special in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(InexactAmountError):
            to_minor_units(Decimal(special), "usd")


def test_exponents_of_the_special_currencies() -> None:
    assert currency_exponent("JPY") == 0
    assert currency_exponent("ugx") == 0  # ISO says 2; Stripe takes whole units
    assert currency_exponent("mga") == 0
    assert currency_exponent("kwd") == 3
    assert currency_exponent("isk") == 2
    assert currency_exponent("usd") == 2
    assert normalize_currency(" Eur ") == "eur"
    assert len(CURRENCY_RULES) > 130


def test_from_minor_units_is_the_inverse() -> None:
    for amount, currency in [("12.34", "usd"), ("500", "jpy"), ("1.230", "kwd"), ("-7.10", "eur")]:
        minor = to_minor_units(Decimal(amount), currency)
        assert from_minor_units(minor, currency) == Decimal(amount)
