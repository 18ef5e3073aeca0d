"""Every setting of the connector, parsed once: the composition root reads the environment here.

`Settings.from_env(os.environ)` is called at the edges only — the Dagster definitions, each CLI
command, the benches — and the typed objects it returns are handed down; nothing below reads a
configuration variable (ruff's banned-api rule keeps `os.environ` out of the other modules). A bad
or missing value is a `SettingsError`: one line naming the variable and the fix.

Secrets are not settings: the JDE login, the Stripe key and the ledger URL (which may carry a
database password) are resolved when a step runs (`credentials/`, `ledger/database.py`), so that
they never enter run config and a rotated Stripe key is picked up mid-run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jde_stripe_pipeline.accounts import (
    CONNECTED_ACCOUNT_ID,
    ENV_ACCOUNTS,
    ENV_CONNECT_ACCOUNTS,
    AccountRouting,
    company_code,
)
from jde_stripe_pipeline.env_values import (
    SettingsError,
    env_choice,
    env_codes,
    env_number,
    env_pairs,
    env_text,
    parse_value,
)
from jde_stripe_pipeline.errors import ConfigurationError
from jde_stripe_pipeline.jde.parallel import MAX_READ_WORKERS, READ_WORKERS
from jde_stripe_pipeline.jde.profiles import PROFILES, InvoiceProfile, invoice_profile
from jde_stripe_pipeline.jde.records import InvoiceProfileName, ShipToSource
from jde_stripe_pipeline.mapping.config import (
    CollectionMethod,
    CreditMemoOnDraft,
    CreditMemoOriginal,
    CustomerMappingConfig,
    CustomField,
    InvoiceMappingConfig,
)
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings, parse_budget_dir

T = TypeVar("T")

ENV_TIMEZONE = "JDE_TIMEZONE"
ENV_INVOICE_SOURCE = "JDE_INVOICE_SOURCE"
ENV_START_DATE = "JDE_STRIPE_START_DATE"
ENV_BILLING_CRON = "JDE_STRIPE_BILLING_CRON"
ENV_AR_INVOICE_TYPES = "JDE_AR_INVOICE_TYPES"
ENV_AR_CREDIT_MEMO_TYPES = "JDE_AR_CREDIT_MEMO_TYPES"
ENV_AIS_READ_WORKERS = "JDE_AIS_READ_WORKERS"
DEFAULT_START_DATE = date(2026, 1, 1)
DEFAULT_BILLING_CRON = "0 6 * * *"
DEFAULT_AIS_PAGE_SIZE = 500

SINK_VARIABLES: Mapping[str, tuple[str, Callable[[str], Any]]] = {
    "rate_per_second": ("JDE_STRIPE_RATE_PER_SECOND", float),
    "burst": ("JDE_STRIPE_BURST", int),
    "workers": ("JDE_STRIPE_WORKERS", int),
    "max_retries": ("JDE_STRIPE_MAX_RETRIES", int),
    "backoff_base_seconds": ("JDE_STRIPE_BACKOFF_BASE_SECONDS", float),
    "backoff_max_seconds": ("JDE_STRIPE_BACKOFF_MAX_SECONDS", float),
    "timeout_seconds": ("JDE_STRIPE_TIMEOUT_SECONDS", float),
    "endpoint_rate_per_second": ("JDE_STRIPE_ENDPOINT_RATE_PER_SECOND", float),
    "search_rate_per_second": ("JDE_STRIPE_SEARCH_RATE_PER_SECOND", float),
    "max_in_flight": ("JDE_STRIPE_MAX_IN_FLIGHT", int),
    "rate_limited_patience_seconds": ("JDE_STRIPE_RATE_LIMITED_PATIENCE_SECONDS", float),
    "key_grace_seconds": ("JDE_STRIPE_KEY_GRACE_SECONDS", float),
    "key_grace_poll_seconds": ("JDE_STRIPE_KEY_GRACE_POLL_SECONDS", float),
    "budget_name": ("JDE_STRIPE_BUDGET_NAME", str),
    "budget_dir": ("JDE_STRIPE_BUDGET_DIR", parse_budget_dir),
}
"""`StripeSinkSettings` field → its variable and parser (the key and API base are credentials)."""


@dataclass(frozen=True)
class JdeSettings:
    """What the JDE side needs besides the login: the server's zone (UPMJ/UPMT are local times
    there), which invoice profile to read, whether customers bring their ship-to, and the page size."""

    timezone: str
    invoice_source: InvoiceProfileName = "purchase_order"
    ship_to_source: ShipToSource = "customer"
    page_size: int = DEFAULT_AIS_PAGE_SIZE
    ar_invoice_types: tuple[str, ...] = ("RI",)
    """`ar_invoice`: the F03B11 document types billed as invoices (`JDE_AR_INVOICE_TYPES`)."""
    ar_credit_memo_types: tuple[str, ...] = ("RM",)
    """`ar_invoice`: the ones credited as credit notes (`JDE_AR_CREDIT_MEMO_TYPES`)."""
    read_workers: int = READ_WORKERS
    """BROWSEs an extract has in flight at once on its one AIS session (`JDE_AIS_READ_WORKERS`; 1: one
    at a time)."""

    def profile(self) -> InvoiceProfile:
        """The invoice source profile these settings name (with the A/R document types)."""
        return invoice_profile(
            self.invoice_source,
            ar_invoice_types=self.ar_invoice_types,
            ar_credit_memo_types=self.ar_credit_memo_types,
        )


@dataclass(frozen=True)
class ScheduleSettings:
    """The partitions' first day and the billing-cycle cron (in the JDE zone)."""

    start_date: date = DEFAULT_START_DATE
    billing_cron: str = DEFAULT_BILLING_CRON


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one deployment, typed and validated."""

    jde: JdeSettings
    customer_mapping: CustomerMappingConfig
    invoice_mapping: InvoiceMappingConfig
    stripe: StripeSinkSettings = field(default_factory=StripeSinkSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    accounts: AccountRouting = field(default_factory=AccountRouting)
    """Which Stripe account bills which JDE company (`JDE_STRIPE_ACCOUNTS`; unset: one account)."""

    def __post_init__(self) -> None:
        if self.invoice_mapping.timezone != self.jde.timezone:
            raise SettingsError(
                f"the invoice mapping's zone {self.invoice_mapping.timezone} differs from the JDE zone "
                f"{self.jde.timezone}: build both from {ENV_TIMEZONE}"
            )
        if self.customer_mapping.ship_to_source != self.jde.ship_to_source:
            raise SettingsError(
                "the customer mapping and the extract must agree on JDE_STRIPE_SHIP_TO_SOURCE"
            )

    @property
    def timezone(self) -> str:
        return self.jde.timezone

    @classmethod
    def of(
        cls,
        timezone: str,
        *,
        invoice_source: InvoiceProfileName = "purchase_order",
        customer_mapping: CustomerMappingConfig | None = None,
        invoice_mapping: InvoiceMappingConfig | None = None,
        stripe: StripeSinkSettings | None = None,
        schedule: ScheduleSettings | None = None,
        page_size: int = DEFAULT_AIS_PAGE_SIZE,
        ar_document_types: tuple[tuple[str, ...], tuple[str, ...]] = (("RI",), ("RM",)),
        accounts: AccountRouting | None = None,
        read_workers: int = READ_WORKERS,
    ) -> Settings:
        """Settings from values (tests, the demo, the benches): the zone and ship-to are given once."""
        customers = customer_mapping or CustomerMappingConfig()
        invoices = invoice_mapping or InvoiceMappingConfig(timezone=timezone)
        if invoices.timezone != timezone:
            invoices = replace(invoices, timezone=timezone)
        return cls(
            jde=JdeSettings(
                timezone,
                invoice_source,
                customers.ship_to_source,
                page_size,
                *ar_document_types,
                read_workers=read_workers,
            ),
            customer_mapping=customers,
            invoice_mapping=invoices,
            stripe=stripe or StripeSinkSettings(),
            schedule=schedule or ScheduleSettings(),
            accounts=accounts or AccountRouting(),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Every configuration variable (see the README's table); unset ones keep their defaults."""
        timezone = timezone_from_env(env)
        customers = customer_mapping_from_env(env)
        return cls.of(
            timezone,
            invoice_source=_invoice_source(env),
            ar_document_types=(
                env_codes(env, ENV_AR_INVOICE_TYPES) or ("RI",),
                env_codes(env, ENV_AR_CREDIT_MEMO_TYPES) or ("RM",),
            ),
            customer_mapping=customers,
            invoice_mapping=invoice_mapping_from_env(env, timezone),
            stripe=stripe_sink_from_env(env),
            schedule=ScheduleSettings(
                start_date=_start_date(env),
                billing_cron=env_text(env, ENV_BILLING_CRON) or DEFAULT_BILLING_CRON,
            ),
            accounts=accounts_from_env(env),
            read_workers=_read_workers(env),
        )


def timezone_from_env(env: Mapping[str, str]) -> str:
    """`JDE_TIMEZONE`: required (a wrong zone cuts every partition in the wrong place), a known zone."""
    name = env_text(env, ENV_TIMEZONE)
    if not name:
        raise SettingsError(
            f"{ENV_TIMEZONE} is not set: set it to the JDE server's IANA time zone, "
            f"e.g. {ENV_TIMEZONE}=America/Chicago"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{ENV_TIMEZONE}={name!r} is not a known IANA time zone: "
            "set it to the JDE server's zone, e.g. America/Chicago"
        ) from None
    return name


MAPPING_VARIABLES: Mapping[str, str] = {
    "ship_to_source": "JDE_STRIPE_SHIP_TO_SOURCE",
    "language_locales": "JDE_STRIPE_LANGUAGE_LOCALES",
    "blank_language_locale": "JDE_STRIPE_BLANK_LANGUAGE_LOCALE",
    "collection_method": "JDE_STRIPE_COLLECTION_METHOD",
    "days_until_due": "JDE_STRIPE_DAYS_UNTIL_DUE",
    "default_days_until_due": "JDE_STRIPE_DEFAULT_DAYS_UNTIL_DUE",
    "payment_terms_days": "JDE_STRIPE_PAYMENT_TERMS_DAYS",
    "number_template": "JDE_STRIPE_INVOICE_NUMBER_TEMPLATE",
    "custom field": "JDE_STRIPE_INVOICE_CUSTOM_FIELDS",
    "at most": "JDE_STRIPE_INVOICE_CUSTOM_FIELDS",
    "credit_memo_original": "JDE_STRIPE_CREDIT_MEMO_ORIGINAL",
    "credit_memo_on_draft": "JDE_STRIPE_CREDIT_MEMO_ON_DRAFT",
}
"""A mapping config's refusal starts with its field's name: the variable that set it, for the message."""


def _mapping_config(build: Callable[[], T]) -> T:
    """Build a mapping config; its refusal becomes a `SettingsError` naming the variable."""
    try:
        return build()
    except ConfigurationError as error:
        message = str(error)
        variable = next((v for k, v in MAPPING_VARIABLES.items() if message.startswith(k)), None)
        raise SettingsError(f"{variable}: {message}" if variable else message) from None


def customer_mapping_from_env(env: Mapping[str, str]) -> CustomerMappingConfig:
    return _mapping_config(lambda: _customer_mapping(env))


def invoice_mapping_from_env(env: Mapping[str, str], timezone: str) -> InvoiceMappingConfig:
    return _mapping_config(lambda: _invoice_mapping(env, timezone))


def _customer_mapping(env: Mapping[str, str]) -> CustomerMappingConfig:
    defaults = CustomerMappingConfig()
    locales = dict(defaults.language_locales)
    locales.update(env_pairs(env, "JDE_STRIPE_LANGUAGE_LOCALES"))
    blank = env.get("JDE_STRIPE_BLANK_LANGUAGE_LOCALE")
    return CustomerMappingConfig(
        ship_to_source=cast(
            ShipToSource, env_choice(env, "JDE_STRIPE_SHIP_TO_SOURCE", ShipToSource, defaults.ship_to_source)
        ),
        language_locales=locales,
        blank_language_locale=defaults.blank_language_locale if blank is None else (blank.strip() or None),
    )


def _invoice_mapping(env: Mapping[str, str], timezone: str) -> InvoiceMappingConfig:
    defaults = InvoiceMappingConfig(timezone=timezone)
    number = env.get("JDE_STRIPE_INVOICE_NUMBER_TEMPLATE")
    custom = env.get("JDE_STRIPE_INVOICE_CUSTOM_FIELDS")
    statuses = env.get("JDE_STRIPE_CANCELLED_LINE_STATUSES")
    return InvoiceMappingConfig(
        timezone=timezone,
        collection_method=cast(
            CollectionMethod,
            env_choice(env, "JDE_STRIPE_COLLECTION_METHOD", CollectionMethod, defaults.collection_method),
        ),
        days_until_due=env_number(env, "JDE_STRIPE_DAYS_UNTIL_DUE", int, None),
        default_days_until_due=env_number(
            env, "JDE_STRIPE_DEFAULT_DAYS_UNTIL_DUE", int, defaults.default_days_until_due
        ),
        payment_terms_days={
            code: parse_value(days, f"JDE_STRIPE_PAYMENT_TERMS_DAYS ({code})", int)
            for code, days in env_pairs(env, "JDE_STRIPE_PAYMENT_TERMS_DAYS").items()
        },
        number_template=defaults.number_template if number is None else (number.strip() or None),
        custom_fields=defaults.custom_fields if custom is None else _custom_fields(custom),
        cancelled_line_statuses=defaults.cancelled_line_statuses
        if statuses is None
        else frozenset(s.strip() for s in statuses.split(",") if s.strip()),
        credit_memo_original=cast(
            CreditMemoOriginal,
            env_choice(
                env, "JDE_STRIPE_CREDIT_MEMO_ORIGINAL", CreditMemoOriginal, defaults.credit_memo_original
            ),
        ),
        credit_memo_on_draft=cast(
            CreditMemoOnDraft,
            env_choice(
                env, "JDE_STRIPE_CREDIT_MEMO_ON_DRAFT", CreditMemoOnDraft, defaults.credit_memo_on_draft
            ),
        ),
    )


def accounts_from_env(env: Mapping[str, str]) -> AccountRouting:
    """`JDE_STRIPE_ACCOUNTS` (`COMPANY=account` pairs) and `JDE_STRIPE_CONNECT_ACCOUNTS`
    (`account=acct_…` pairs); both unset: one account, `default`, billing every company."""
    companies = env_pairs(env, ENV_ACCOUNTS, upper=False)
    connected = env_pairs(env, ENV_CONNECT_ACCOUNTS, upper=False)
    for name, account_id in connected.items():
        if not CONNECTED_ACCOUNT_ID.match(account_id):
            raise SettingsError(
                f"{ENV_CONNECT_ACCOUNTS}: {account_id!r} (for {name}) is not a Stripe account id (acct_…)"
            )
    seen: dict[str, str] = {}
    for company, name in companies.items():
        code = company_code(company)
        if seen.setdefault(code, name) != name:
            raise SettingsError(f"{ENV_ACCOUNTS}: company {code} is routed to both {seen[code]} and {name}")
    try:
        return AccountRouting.of(companies, connected)
    except ValueError as error:
        variable = ENV_CONNECT_ACCOUNTS if "connected account" in str(error) else ENV_ACCOUNTS
        raise SettingsError(f"{variable}: {error}") from None


def stripe_sink_from_env(env: Mapping[str, str]) -> StripeSinkSettings:
    """Pacing, retries and timeouts (`JDE_STRIPE_*`); the key and API base are credentials."""
    values = {
        name: env_number(env, variable, parser, None) for name, (variable, parser) in SINK_VARIABLES.items()
    }
    try:
        return StripeSinkSettings(**{name: value for name, value in values.items() if value is not None})
    except ValueError as error:
        raise SettingsError(f"Stripe pacing settings: {error}") from None


def _invoice_source(env: Mapping[str, str]) -> InvoiceProfileName:
    name = env_text(env, ENV_INVOICE_SOURCE) or "purchase_order"
    if name not in PROFILES:
        raise SettingsError(
            f"{ENV_INVOICE_SOURCE}={name!r} is not a known invoice source: use one of {', '.join(PROFILES)}"
        )
    return name


def _read_workers(env: Mapping[str, str]) -> int:
    workers = env_number(env, ENV_AIS_READ_WORKERS, int, READ_WORKERS)
    if not 1 <= workers <= MAX_READ_WORKERS:
        raise SettingsError(
            f"{ENV_AIS_READ_WORKERS}={workers} is out of range: use 1 (one read at a time) "
            f"to {MAX_READ_WORKERS} (default {READ_WORKERS})"
        )
    return workers


def _start_date(env: Mapping[str, str]) -> date:
    raw = env_text(env, ENV_START_DATE)
    if not raw:
        return DEFAULT_START_DATE
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{ENV_START_DATE}={raw!r} is not a date: use YYYY-MM-DD") from None


def _custom_fields(text: str) -> tuple[CustomField, ...]:
    fields: list[CustomField] = []
    for item in text.split(";"):
        if not item.strip():
            continue
        name, sep, template = item.partition("=")
        if not sep or not name.strip() or not template.strip():
            raise SettingsError(
                "JDE_STRIPE_INVOICE_CUSTOM_FIELDS: expected Name=template pairs separated by ';', "
                f"got {item.strip()!r}"
            )
        fields.append(CustomField(name.strip(), template.strip()))
    return tuple(fields)
