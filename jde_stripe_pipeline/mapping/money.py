"""Decimal amounts → Stripe integer minor units, exactly or not at all.

What is enforced, per currency (Stripe's API rules, docs.stripe.com/currencies, which differ from
ISO 4217 in places):
- two-decimal (the default for every supported currency not listed below): amount × 100;
- zero-decimal BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF: the amount itself
  (MGA and UGX have 2 decimals in ISO 4217, but Stripe takes whole units);
- three-decimal BHD JOD KWD OMR TND: amount × 1000, and the last digit must be 0 ("for compatibility
  with Stripe's payment partners") — so the JDE amount must be a whole number of hundredths
  (KWD 1.230 → 1230 is fine, KWD 1.234 → 1234 is refused, never rounded to 1230);
- ISK: two decimals in the API, but since 2023-04-14 amounts must be divisible by 100 (whole
  krónur): ISK 150 → 15000, ISK 150.50 is refused;
- HUF and TWD: two decimals in the API for charges and invoices; their "divisible by 100" rule is for
  payouts only, which this project never makes, so it is not enforced here.
A currency not in the table is an `UnknownCurrencyError`: better a quarantined record than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, Inexact, InvalidOperation, Rounded, localcontext

from jde_stripe_pipeline.mapping.errors import (
    AmountGranularityError,
    AmountTooLargeError,
    InexactAmountError,
    UnknownCurrencyError,
)
from jde_stripe_pipeline.mapping.limits import AMOUNT_MAX_MINOR_UNITS

ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
WHOLE_UNIT_TWO_DECIMAL_CURRENCIES = frozenset({"isk"})
"""Two decimals in the API, but only whole units (multiples of 100 minor units) accepted."""

_TWO_DECIMAL_CURRENCIES = frozenset(
    {
        "usd",
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "jmd",
        "kes",
        "kgs",
        "khr",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "qar",
        "ron",
        "rsd",
        "rub",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "uyu",
        "uzs",
        "wst",
        "xcd",
        "xcg",
        "yer",
        "zar",
        "zmw",
    }
)


@dataclass(frozen=True, slots=True)
class CurrencyRule:
    """How Stripe wants amounts of one currency: `exponent` decimals, in steps of `multiple_of`."""

    code: str
    exponent: int
    multiple_of: int = 1


def _build_rules() -> dict[str, CurrencyRule]:
    rules = {code: CurrencyRule(code, 2) for code in _TWO_DECIMAL_CURRENCIES}
    rules.update({code: CurrencyRule(code, 0) for code in ZERO_DECIMAL_CURRENCIES})
    rules.update({code: CurrencyRule(code, 3, multiple_of=10) for code in THREE_DECIMAL_CURRENCIES})
    rules.update({code: CurrencyRule(code, 2, multiple_of=100) for code in WHOLE_UNIT_TWO_DECIMAL_CURRENCIES})
    return rules


CURRENCY_RULES: dict[str, CurrencyRule] = _build_rules()


def normalize_currency(currency: str) -> str:
    """`' USD '` → `'usd'` (Stripe wants lower case), or `UnknownCurrencyError`."""
    code = currency.strip().lower()
    if code not in CURRENCY_RULES:
        raise UnknownCurrencyError(currency)
    return code


def currency_rule(currency: str) -> CurrencyRule:
    return CURRENCY_RULES[normalize_currency(currency)]


def currency_exponent(currency: str) -> int:
    return currency_rule(currency).exponent


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The exact Stripe integer for `amount`; raises a `MoneyError` rather than round."""
    rule = currency_rule(currency)
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__} (floats are never money)")
    if not amount.is_finite():
        raise InexactAmountError(amount, rule.code, rule.exponent)
    with localcontext() as context:
        # Enough precision that scaling by a power of ten is exact; trap anything that would round.
        context.prec = max(60, len(amount.as_tuple().digits) + rule.exponent + 2)
        context.traps[Inexact] = True
        context.traps[Rounded] = True
        try:
            scaled = amount.scaleb(rule.exponent)
        except (Inexact, Rounded, InvalidOperation) as error:
            raise InexactAmountError(amount, rule.code, rule.exponent) from error
    if scaled != scaled.to_integral_value():
        raise InexactAmountError(amount, rule.code, rule.exponent)
    minor = int(scaled)
    if minor % rule.multiple_of:
        raise AmountGranularityError(amount, rule.code, minor, rule.multiple_of)
    return minor


def line_minor_units(amount: Decimal, currency: str) -> int:
    """`to_minor_units` for one Stripe line: also refused beyond Stripe's largest amount."""
    minor = to_minor_units(amount, currency)
    if abs(minor) > AMOUNT_MAX_MINOR_UNITS:
        raise AmountTooLargeError(amount, currency, minor, AMOUNT_MAX_MINOR_UNITS)
    return minor


def from_minor_units(minor: int, currency: str) -> Decimal:
    """The inverse, for reports: `1234, 'usd'` → `Decimal('12.34')`."""
    rule = currency_rule(currency)
    return Decimal(minor).scaleb(-rule.exponent)
