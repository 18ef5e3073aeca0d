"""Dagster resources: thin handles on the ledger, the AIS session and the Stripe client.

No secret is a resource field. The JDE login and the Stripe key are resolved when a step runs, through
`jde_stripe_pipeline.credentials` (the environment first, then the encrypted store), so that
`dagster definitions validate` needs no environment, secrets never enter run config, and a Stripe key
rotated in the store is picked up by a running client after a 401. The ledger URL (which may carry a
database password) is likewise read at run time from `JDE_STRIPE_STATE_URL`, else SQLite under
`$DAGSTER_HOME`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg

from jde_stripe_pipeline.credentials import resolve_jde_credentials, resolve_stripe_key
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.profiles import InvoiceProfile, invoice_profile
from jde_stripe_pipeline.jde.records import InvoiceProfileName, ShipToSource
from jde_stripe_pipeline.jde.settings import ENV_INVOICE_SOURCE, AisSettings
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig
from jde_stripe_pipeline.orchestration.links import is_live_key, stripe_object_url
from jde_stripe_pipeline.orchestration.partitions import jde_timezone
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeSinkSettings


class LedgerResource(dg.ConfigurableResource):
    """The state ledger. `state_url` overrides `JDE_STRIPE_STATE_URL` (tests, a second ledger)."""

    state_url: str | None = None

    @contextmanager
    def open(self) -> Iterator[Ledger]:
        with Ledger.open(self.state_url) as ledger:
            yield ledger


def current_stripe_key() -> str:
    """Re-read on every call (at start, and by the sink after a 401): a rotated key is used."""
    return resolve_stripe_key().api_key.get_secret_value()


class StripeResource(dg.ConfigurableResource):
    """The paced, idempotent Stripe client; pacing and retry knobs from JDE_STRIPE_* at run time.

    `step_retries` / `step_retry_delay_seconds`: how often a Stripe step with failed records (or with
    Stripe unreachable) is re-run, waiting `delay * 2**retry` seconds (see assets.py)."""

    step_retries: int = 3
    step_retry_delay_seconds: float = 30.0

    @contextmanager
    def sink(self) -> Iterator[StripeSink]:
        credentials = resolve_stripe_key()
        settings = StripeSinkSettings.from_env(key_source=current_stripe_key)
        if credentials.api_base:
            settings = dataclasses.replace(settings, api_base=credentials.api_base)
        with StripeSink(settings) as client:
            yield client

    @staticmethod
    def object_url(client: StripeSink, stripe_id: str) -> str | None:
        """Dashboard link (test or live by the key) or, off api.stripe.com, the object's API URL."""
        return stripe_object_url(
            stripe_id, api_base=client.settings.api_base, live=is_live_key(client.masked_key)
        )


class JdeAisResource(dg.ConfigurableResource):
    """A logged-in AIS session per step (`with jde.session() as session:`), logged out at its end.

    The login comes from `resolve_jde_credentials()` when a step runs (env JDE_AIS_URL / USERNAME /
    PASSWORD / ENVIRONMENT / ROLE / DEVICE_NAME / CA_BUNDLE, else the encrypted store). `timezone` and
    `invoice_source` are set from JDE_TIMEZONE / JDE_INVOICE_SOURCE when the definitions load: they
    shape the partitions, so they must be known before any run. `ship_to_source`
    (JDE_STRIPE_SHIP_TO_SOURCE, parsed by the customer mapping's config) says whether a customer
    extract also reads the customer's ship-to from its sales orders, and the sensor those tables."""

    timezone: str
    invoice_source: InvoiceProfileName = "purchase_order"
    ship_to_source: ShipToSource = "customer"
    page_size: int = 500

    def settings(self) -> AisSettings:
        login = resolve_jde_credentials()
        return AisSettings.from_values(
            **login.settings_values(), timezone=self.timezone, invoice_source=self.invoice_source
        )

    def profile(self) -> InvoiceProfile:
        return invoice_profile(self.invoice_source)

    @contextmanager
    def session(self) -> Iterator[AisSession]:
        with AisSession(self.settings(), page_size=self.page_size) as session:
            yield session


def jde_resource(env: Mapping[str, str] | None = None) -> JdeAisResource:
    """The JDE resource as configured by JDE_TIMEZONE and JDE_INVOICE_SOURCE (read at load time)."""
    env = os.environ if env is None else env
    source = env.get(ENV_INVOICE_SOURCE, "").strip() or "purchase_order"
    return JdeAisResource(
        timezone=jde_timezone(env),
        invoice_source=invoice_profile(source).name,
        ship_to_source=CustomerMappingConfig.from_env(env).ship_to_source,
    )
