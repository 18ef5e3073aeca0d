"""Errors of the mapping layer.

Two kinds, on purpose:
- exceptions (this module) for programming and configuration mistakes and for the money helpers,
  which callers use directly and must not ignore;
- `MappingFailure` values (see `failures.py`) for bad *records*: returned, never raised, so one bad
  record is quarantined while the rest of the batch goes on.
"""

from __future__ import annotations

from jde_stripe_pipeline.errors import ConfigurationError


class MappingError(Exception):
    """Base class of every exception the mapping raises."""


class MappingConfigError(MappingError, ConfigurationError):
    """A mapping configuration value is invalid (raised when the config is built, not per record)."""


class MissingCustomerError(MappingError):
    """An invoice create was asked for before the engine filled in the Stripe customer id."""


class MoneyError(MappingError, ValueError):
    """An amount cannot be sent to Stripe exactly."""


class UnknownCurrencyError(MoneyError):
    """The currency is not one Stripe supports (or not a currency code at all)."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"unknown or unsupported currency {currency!r}")
        self.currency = currency


class AmountError(MoneyError):
    """An amount in a currency that Stripe cannot take as it is; names both."""

    def __init__(self, message: str, amount: object, currency: str) -> None:
        super().__init__(message)
        self.amount = amount
        self.currency = currency


class InexactAmountError(AmountError):
    """The amount has more decimals than the currency's minor unit: converting would round."""

    def __init__(self, amount: object, currency: str, exponent: int) -> None:
        code = currency.upper()
        super().__init__(
            f"{amount} {code} is not a whole number of minor units ({code} has {exponent} decimal(s) at "
            "Stripe); refusing to round",
            amount,
            currency,
        )
        self.exponent = exponent


class AmountGranularityError(AmountError):
    """Exact in minor units, but Stripe requires a multiple of a coarser step for this currency."""

    def __init__(self, amount: object, currency: str, minor: int, multiple_of: int) -> None:
        code = currency.upper()
        super().__init__(
            f"{amount} {code} is {minor} minor units; Stripe requires {code} amounts in multiples of "
            f"{multiple_of} minor units; refusing to round",
            amount,
            currency,
        )
        self.minor = minor
        self.multiple_of = multiple_of


class AmountTooLargeError(AmountError):
    """More minor units than Stripe takes in one amount (99,999,999): Stripe answers `amount_too_large`."""

    def __init__(self, amount: object, currency: str, minor: int, maximum: int) -> None:
        super().__init__(
            f"{amount} {currency.upper()} is {minor} minor units; Stripe takes at most {maximum:,} in one "
            "amount (split the line in JDE)",
            amount,
            currency,
        )
        self.minor = minor
