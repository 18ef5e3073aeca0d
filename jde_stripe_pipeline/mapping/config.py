"""Mapping configuration: frozen, validated when built (the settings root, `settings.py`, parses the
`JDE_STRIPE_*` variables into it).

Everything a site may want to choose about the mapping lives here; every choice flows into what is
sent and therefore into the content hash, so changing a setting re-syncs exactly the records whose
Stripe request it changes. `timezone`'s default is the sandboxes' zone, for code and tests only: the
settings root requires `JDE_TIMEZONE`.

Environment variables (unset = default; see each field for the meaning):
  JDE_TIMEZONE                         IANA zone of the JDE server, e.g. America/Chicago
  JDE_STRIPE_SHIP_TO_SOURCE            customer | ship_to
  JDE_STRIPE_LANGUAGE_LOCALES          JDE LNGP → Stripe locale overrides, e.g. "F=fr-CA,X=nl"
  JDE_STRIPE_BLANK_LANGUAGE_LOCALE     locale for a blank LNGP; empty = send none
  JDE_STRIPE_INVOICE_NUMBER_TEMPLATE   e.g. "{DCTO}-{DOCO}-{KCOO}"; empty = let Stripe number it
  JDE_STRIPE_COLLECTION_METHOD         send_invoice | charge_automatically
  JDE_STRIPE_DAYS_UNTIL_DUE            fixed days for every invoice; empty = from payment terms
  JDE_STRIPE_DEFAULT_DAYS_UNTIL_DUE    days when the JDE payment terms are blank
  JDE_STRIPE_PAYMENT_TERMS_DAYS        terms code → days, e.g. "D10=10,EOM=30"
  JDE_STRIPE_INVOICE_CUSTOM_FIELDS     "Name=template;Name=template" (≤ 4); empty = none
  JDE_STRIPE_CANCELLED_LINE_STATUSES   LTTR values that mean cancelled, e.g. "980"
  JDE_STRIPE_CREDIT_MEMO_ORIGINAL      odoc | none: how a credit memo names its invoice (ar_invoice)
  JDE_STRIPE_CREDIT_MEMO_ON_DRAFT      quarantine | converge: a memo whose original is still a draft
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jde_stripe_pipeline.jde.records import ShipToSource
from jde_stripe_pipeline.mapping.errors import MappingConfigError
from jde_stripe_pipeline.mapping.limits import (
    CUSTOM_FIELD_NAME_MAX_LENGTH,
    CUSTOM_FIELDS_MAX,
    INVOICE_NUMBER_MAX_LENGTH,
)

CollectionMethod = Literal["send_invoice", "charge_automatically"]
CreditMemoOriginal = Literal["odoc", "none"]
CreditMemoOnDraft = Literal["quarantine", "converge"]

DEFAULT_TIMEZONE = "America/Chicago"

STRIPE_LOCALES = frozenset(
    {
        "ar",
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "en-GB",
        "es",
        "es-419",
        "et",
        "fi",
        "fil",
        "fr",
        "fr-CA",
        "he",
        "hr",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "lt",
        "lv",
        "ms",
        "mt",
        "nb",
        "nl",
        "pl",
        "pt",
        "pt-BR",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "th",
        "tr",
        "vi",
        "zh",
        "zh-HK",
        "zh-TW",
    }
)
"""Locales Stripe accepts in `preferred_locales` (customer-facing e-mails and PDFs)."""

DEFAULT_LANGUAGE_LOCALES: Mapping[str, str] = MappingProxyType(
    {
        "E": "en",
        "F": "fr",
        "G": "de",
        "I": "it",
        "S": "es",
        "P": "pt",
        "J": "ja",
        "KO": "ko",
        "CS": "zh",
        "CT": "zh-TW",
        "DU": "nl",
        "DN": "da",
        "SW": "sv",
        "NO": "nb",
        "FN": "fi",
        "PO": "pl",
        "RU": "ru",
        "TR": "tr",
        "GR": "el",
        "HU": "hu",
        "AR": "ar",
    }
)
"""JDE language preference codes (UDC 01/LP, as commonly delivered) → Stripe locales. Sites differ:
override with JDE_STRIPE_LANGUAGE_LOCALES. A code not in the table sends no preferred locale."""

TEMPLATE_FIELDS = ("KCOO", "DOCO", "DCTO", "SFXO", "AN8", "KCO", "DOC", "DCT")
"""Placeholders a number or custom-field template may use (`str.format` syntax, e.g. `{DOCO:08d}`);
KCO/DOC/DCT are the A/R names of the same document key (an order profile fills them alike)."""

_SAMPLE_TEMPLATE_VALUES: dict[str, object] = {
    "KCOO": "00070",
    "DOCO": 1001,
    "DCTO": "OP",
    "SFXO": "000",
    "AN8": 4242,
    "KCO": "00070",
    "DOC": 1001,
    "DCT": "OP",
}
_NET_DAYS = re.compile(r"^N(\d{1,3})$")


def _check_template(template: str, label: str) -> None:
    try:
        template.format(**_SAMPLE_TEMPLATE_VALUES)
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        raise MappingConfigError(
            f"{label} {template!r} is not a valid template over {', '.join(TEMPLATE_FIELDS)}: {error!r}"
        ) from error


def _check_choice(name: str, value: object, choices: Any) -> None:
    """`value` is one of the `Literal` type `choices`' values."""
    if value not in get_args(choices):
        raise MappingConfigError(f"{name} must be one of {get_args(choices)}, got {value!r}")


def _check_locale(locale: str, label: str) -> None:
    if locale not in STRIPE_LOCALES:
        raise MappingConfigError(
            f"{label}: {locale!r} is not a Stripe locale ({', '.join(sorted(STRIPE_LOCALES))})"
        )


@dataclass(frozen=True, slots=True)
class CustomerMappingConfig:
    ship_to_source: ShipToSource = "customer"
    """`customer`: the Stripe customer's `shipping` is the customer's own address; `ship_to`: the
    record's ship-to party (falls back to the own address when the record has none). The extract
    reads the ship-to only when given the same value (`extract_customers(..., ship_to_source=)`)."""
    language_locales: Mapping[str, str] = field(default_factory=lambda: DEFAULT_LANGUAGE_LOCALES)
    blank_language_locale: str | None = "en"
    """Locale for a blank LNGP (JDE's base language); None sends no preferred locale."""

    def __post_init__(self) -> None:
        _check_choice("ship_to_source", self.ship_to_source, ShipToSource)
        for code, locale in self.language_locales.items():
            _check_locale(locale, f"language_locales[{code!r}]")
        if self.blank_language_locale is not None:
            _check_locale(self.blank_language_locale, "blank_language_locale")
        object.__setattr__(
            self,
            "language_locales",
            MappingProxyType({k.strip().upper(): v for k, v in self.language_locales.items()}),
        )


@dataclass(frozen=True, slots=True)
class CustomField:
    """One invoice custom field: a fixed `name` and a `template` over the document keys."""

    name: str
    template: str


@dataclass(frozen=True, slots=True)
class InvoiceMappingConfig:
    timezone: str = DEFAULT_TIMEZONE
    """The JDE server's zone: `effective_at` is the document date's midnight there."""
    collection_method: CollectionMethod = "send_invoice"
    days_until_due: int | None = None
    """Fixed days for every `send_invoice` invoice; None = from the JDE payment terms."""
    default_days_until_due: int = 30
    """Days when the JDE payment terms are blank."""
    payment_terms_days: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Terms code → days. Codes `N<days>` (N10, N30, N45…) need no entry; any other code must be
    listed or the invoice is quarantined (a guessed due date would be wrong on paper)."""
    number_template: str | None = "{DCTO}-{DOCO}-{KCOO}"
    """None = no `number` is sent (Stripe numbers the invoice at finalization)."""
    custom_fields: tuple[CustomField, ...] = (CustomField("JDE order", "{DCTO} {DOCO} {KCOO}"),)
    cancelled_line_statuses: frozenset[str] = frozenset({"980"})
    credit_memo_original: CreditMemoOriginal = "odoc"
    """`odoc`: a credit memo credits the invoice its F03B11 ODOC/ODCT/OKCO name; `none`: the site does
    not fill them, so every credit memo is quarantined (no invoice to credit; see the README)."""
    credit_memo_on_draft: CreditMemoOnDraft = "quarantine"
    """A credit memo whose original is still a Stripe draft: `quarantine` it until the draft is
    finalized, or `converge` the draft (the memo's lines are added to it)."""

    def __post_init__(self) -> None:
        _check_choice("credit_memo_original", self.credit_memo_original, CreditMemoOriginal)
        _check_choice("credit_memo_on_draft", self.credit_memo_on_draft, CreditMemoOnDraft)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise MappingConfigError(f"timezone {self.timezone!r} is not a known IANA time zone") from error
        _check_choice("collection_method", self.collection_method, CollectionMethod)
        for label, days in (
            ("days_until_due", self.days_until_due),
            ("default_days_until_due", self.default_days_until_due),
        ):
            if days is not None and days < 0:
                raise MappingConfigError(f"{label} must not be negative, got {days}")
        terms = {code.strip().upper(): days for code, days in self.payment_terms_days.items()}
        for code, days in terms.items():
            if not code or days < 0:
                raise MappingConfigError(f"payment_terms_days entry {code!r}={days} is invalid")
        object.__setattr__(self, "payment_terms_days", MappingProxyType(terms))
        if self.number_template is not None:
            if not self.number_template.strip():
                raise MappingConfigError("number_template must not be blank (use None for no number)")
            _check_template(self.number_template, "number_template")
            sample = self.number_template.format(**_SAMPLE_TEMPLATE_VALUES)
            if len(sample) > INVOICE_NUMBER_MAX_LENGTH:
                raise MappingConfigError(
                    f"number_template {self.number_template!r} gives {sample!r} for a small document, "
                    "already over "
                    f"Stripe's {INVOICE_NUMBER_MAX_LENGTH} characters"
                )
        if len(self.custom_fields) > CUSTOM_FIELDS_MAX:
            raise MappingConfigError(
                f"at most {CUSTOM_FIELDS_MAX} custom fields, got {len(self.custom_fields)}"
            )
        for custom in self.custom_fields:
            if not custom.name.strip() or len(custom.name) > CUSTOM_FIELD_NAME_MAX_LENGTH:
                raise MappingConfigError(
                    f"custom field name {custom.name!r} must be 1-{CUSTOM_FIELD_NAME_MAX_LENGTH} characters"
                )
            _check_template(custom.template, f"custom field {custom.name!r} template")
        object.__setattr__(
            self, "cancelled_line_statuses", frozenset(s.strip() for s in self.cancelled_line_statuses)
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def days_for_terms(self, terms: str | None) -> int | None:
        """Days until due for a JDE payment terms code; None when the code is unknown."""
        if self.days_until_due is not None:
            return self.days_until_due
        code = (terms or "").strip().upper()
        if not code:
            return self.default_days_until_due
        if code in self.payment_terms_days:
            return self.payment_terms_days[code]
        net = _NET_DAYS.match(code)
        return int(net.group(1)) if net else None
