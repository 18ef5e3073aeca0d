"""Dagster resources: the parsed settings as resource fields (the UI's resource page shows them), and
thin handles that open the clients through `runtime`.

Each resource is built from the one `Settings` object (`build_resources`), so a run shows exactly what
it was configured with. No secret is a field: the JDE login and the Stripe key are resolved through
the `credentials` resource's source when a step runs, so they never enter run config and a Stripe key
rotated in the store is picked up by a running sink after a 401; the ledger URL (which may carry a
database password) is read when a step runs from `JDE_STRIPE_STATE_URL` unless `state_url` is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import dagster as dg

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, AccountRouting, StripeAccount
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.parallel import READ_WORKERS
from jde_stripe_pipeline.jde.profiles import InvoiceProfile
from jde_stripe_pipeline.jde.records import InvoiceProfileName, ShipToSource
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.mapping.config import (
    DEFAULT_LANGUAGE_LOCALES,
    CollectionMethod,
    CreditMemoOnDraft,
    CreditMemoOriginal,
    CustomField,
)
from jde_stripe_pipeline.orchestration.hand_over import HandOverIOManager
from jde_stripe_pipeline.orchestration.links import is_live_key, stripe_object_url
from jde_stripe_pipeline.settings import JdeSettings, Settings
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeSinkSettings

DEFAULT_SINK = StripeSinkSettings()
SINK_FIELDS = tuple(
    f.name for f in fields(StripeSinkSettings) if f.name not in ("key_source", "api_base", "stripe_account")
)
"""The sink settings a `StripeResource` carries (the key, API base and connected account are the
account's, resolved when a step runs)."""


class CredentialsResource(dg.ConfigurableResource):
    """Where secrets come from when a step runs: the environment first (`use_environment`), then the
    encrypted store (`store_file` / `master_key_file`; unset: where the environment says)."""

    use_environment: bool = True
    store_file: str | None = None
    master_key_file: str | None = None

    def source(self) -> CredentialSource:
        return CredentialSource(
            use_environment=self.use_environment,
            store_file=Path(self.store_file) if self.store_file else None,
            master_key_file=Path(self.master_key_file) if self.master_key_file else None,
        )


class LedgerResource(dg.ConfigurableResource):
    """The state ledger; `state_url` None reads `JDE_STRIPE_STATE_URL` when a step runs."""

    state_url: str | None = None

    @contextmanager
    def open(self) -> Iterator[Ledger]:
        with runtime.open_ledger(self.state_url) as ledger:
            yield ledger


class JdeAisResource(dg.ConfigurableResource):
    """A logged-in AIS session per step (`with jde.session() as session:`), logged out at its end."""

    timezone: str
    invoice_source: InvoiceProfileName = "purchase_order"
    ship_to_source: ShipToSource = "customer"
    page_size: int = 500
    ar_invoice_types: list[str] = ["RI"]
    ar_credit_memo_types: list[str] = ["RM"]
    read_workers: int = READ_WORKERS
    credentials: CredentialsResource

    @classmethod
    def of(cls, jde: JdeSettings, credentials: CredentialsResource) -> JdeAisResource:
        return cls(
            timezone=jde.timezone,
            invoice_source=jde.invoice_source,
            ship_to_source=jde.ship_to_source,
            page_size=jde.page_size,
            ar_invoice_types=list(jde.ar_invoice_types),
            ar_credit_memo_types=list(jde.ar_credit_memo_types),
            read_workers=jde.read_workers,
            credentials=credentials,
        )

    def settings(self) -> JdeSettings:
        return JdeSettings(
            self.timezone,
            self.invoice_source,
            self.ship_to_source,
            self.page_size,
            tuple(self.ar_invoice_types),
            tuple(self.ar_credit_memo_types),
            self.read_workers,
        )

    def profile(self) -> InvoiceProfile:
        return self.settings().profile()

    @contextmanager
    def session(self) -> Iterator[AisSession]:
        with runtime.ais_session(self.settings(), self.credentials.source()) as session:
            yield session


class StripeResource(dg.ConfigurableResource):
    """The paced, idempotent Stripe client with its settings (unset rates: by the key's mode; see
    `stripe_sink/settings.py`), and the Stripe accounts: `accounts` maps each account's name to the JDE
    companies it bills (`default` with none: one account for every company), `connected_accounts` a
    Connect account's name to its id. Each account's key is resolved through `credentials` when a step
    runs.

    `step_retries` / `step_retry_delay_seconds`: how often a Stripe step with failed records (or with
    Stripe unreachable) is re-run, waiting `delay * 2**retry` seconds (see assets.py)."""

    rate_per_second: float | None = None
    endpoint_rate_per_second: float | None = None
    search_rate_per_second: float | None = None
    max_in_flight: int = DEFAULT_SINK.max_in_flight
    burst: int = DEFAULT_SINK.burst
    workers: int = DEFAULT_SINK.workers
    max_retries: int = 6
    rate_limited_patience_seconds: float = DEFAULT_SINK.rate_limited_patience_seconds
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    timeout_seconds: float = 30.0
    key_grace_seconds: float = DEFAULT_SINK.key_grace_seconds
    key_grace_poll_seconds: float = DEFAULT_SINK.key_grace_poll_seconds
    budget_name: str | None = None
    budget_dir: str = DEFAULT_SINK.budget_dir
    step_retries: int = 3
    step_retry_delay_seconds: float = 30.0
    accounts: dict[str, list[str]] = {DEFAULT_ACCOUNT: []}
    connected_accounts: dict[str, str] = {}
    credentials: CredentialsResource

    @classmethod
    def of(
        cls,
        stripe: StripeSinkSettings,
        credentials: CredentialsResource,
        routing: AccountRouting | None = None,
        **step: Any,
    ) -> StripeResource:
        routing = routing or AccountRouting()
        return cls(
            **{name: getattr(stripe, name) for name in SINK_FIELDS},
            accounts={account.name: list(account.companies) for account in routing.accounts},
            connected_accounts={a.name: a.connected_account for a in routing.accounts if a.connected_account},
            credentials=credentials,
            **step,
        )

    def settings(self) -> StripeSinkSettings:
        return StripeSinkSettings(**{name: getattr(self, name) for name in SINK_FIELDS})

    def routing(self) -> AccountRouting:
        """Which account bills which JDE company, as the settings said."""
        return AccountRouting(
            tuple(
                StripeAccount(name, tuple(companies), self.connected_accounts.get(name))
                for name, companies in self.accounts.items()
            )
        )

    @contextmanager
    def sink(self, account: StripeAccount | None = None) -> Iterator[StripeSink]:
        """One account's sink (default: the one account of a site that does not route companies)."""
        with runtime.stripe_sink(self.settings(), self.credentials.source(), account) as client:
            yield client

    def account_link(self, account: StripeAccount) -> Callable[[str], str | None]:
        """Where a person finds one account's objects (its API base and key mode; no request)."""
        credentials = self.credentials.source().stripe(
            DEFAULT_ACCOUNT if account.connected_account else account.name
        )
        api_base = credentials.api_base or self.settings().api_base
        return lambda stripe_id: stripe_object_url(stripe_id, api_base=api_base, live=credentials.is_live)

    @staticmethod
    def object_url(client: StripeSink, stripe_id: str) -> str | None:
        """Dashboard link (test or live by the key) or, off api.stripe.com, the object's API URL."""
        return stripe_object_url(
            stripe_id, api_base=client.settings.api_base, live=is_live_key(client.masked_key)
        )


class MappingResource(dg.ConfigurableResource):
    """How JDE records become Stripe requests (see `mapping/config.py` for each field's meaning)."""

    timezone: str
    ship_to_source: ShipToSource = "customer"
    language_locales: dict[str, str] = dict(DEFAULT_LANGUAGE_LOCALES)
    blank_language_locale: str | None = "en"
    collection_method: CollectionMethod = "send_invoice"
    days_until_due: int | None = None
    default_days_until_due: int = 30
    payment_terms_days: dict[str, int] = {}
    number_template: str | None = "{DCTO}-{DOCO}-{KCOO}"
    custom_fields: dict[str, str] = {"JDE order": "{DCTO} {DOCO} {KCOO}"}
    """Name → template, in order (Stripe shows at most 4)."""
    cancelled_line_statuses: list[str] = ["980"]
    credit_memo_original: CreditMemoOriginal = "odoc"
    credit_memo_on_draft: CreditMemoOnDraft = "quarantine"

    @classmethod
    def of(cls, customers: CustomerMappingConfig, invoices: InvoiceMappingConfig) -> MappingResource:
        return cls(
            timezone=invoices.timezone,
            ship_to_source=customers.ship_to_source,
            language_locales=dict(customers.language_locales),
            blank_language_locale=customers.blank_language_locale,
            collection_method=invoices.collection_method,
            days_until_due=invoices.days_until_due,
            default_days_until_due=invoices.default_days_until_due,
            payment_terms_days=dict(invoices.payment_terms_days),
            number_template=invoices.number_template,
            custom_fields={custom.name: custom.template for custom in invoices.custom_fields},
            cancelled_line_statuses=sorted(invoices.cancelled_line_statuses),
            credit_memo_original=invoices.credit_memo_original,
            credit_memo_on_draft=invoices.credit_memo_on_draft,
        )

    def customer_config(self) -> CustomerMappingConfig:
        return CustomerMappingConfig(
            ship_to_source=self.ship_to_source,
            language_locales=self.language_locales,
            blank_language_locale=self.blank_language_locale,
        )

    def invoice_config(self) -> InvoiceMappingConfig:
        return InvoiceMappingConfig(
            timezone=self.timezone,
            collection_method=self.collection_method,
            days_until_due=self.days_until_due,
            default_days_until_due=self.default_days_until_due,
            payment_terms_days=self.payment_terms_days,
            number_template=self.number_template,
            custom_fields=tuple(CustomField(name, template) for name, template in self.custom_fields.items()),
            cancelled_line_statuses=frozenset(self.cancelled_line_statuses),
            credit_memo_original=self.credit_memo_original,
            credit_memo_on_draft=self.credit_memo_on_draft,
        )


def build_resources(
    settings: Settings,
    *,
    credentials: CredentialsResource | None = None,
    state_url: str | None = None,
    **stripe_step: Any,
) -> dict[str, dg.ConfigurableResource | HandOverIOManager]:
    """The resources of the definitions, every field from `settings` (`stripe_step`: the Stripe
    step's retry count and delay, for tests and the demo), and the IO manager of the hand-overs."""
    credentials = credentials or CredentialsResource()
    return {
        "jde": JdeAisResource.of(settings.jde, credentials),
        "stripe": StripeResource.of(settings.stripe, credentials, settings.accounts, **stripe_step),
        "mapping": MappingResource.of(settings.customer_mapping, settings.invoice_mapping),
        "ledger": LedgerResource(state_url=state_url),
        "io_manager": HandOverIOManager(),
    }
