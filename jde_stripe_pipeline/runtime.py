"""The imperative shell's one way to open what a run uses: settings + credentials → clients.

The Dagster resources, the CLI commands (`plan`, `replay`, `extract`), the demo and the benches all
open their AIS session, Stripe sinks (one per Stripe account: `account_syncs`), ledger and engines
here, from a `Settings` parsed once and a `CredentialSource` whose secrets are read when the client
opens (the Stripe key again after a 401).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT, StripeAccount, key_variable, store_command
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.jde.client import AisSession
from jde_stripe_pipeline.jde.settings import AisSettings
from jde_stripe_pipeline.ledger import Ledger
from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
from jde_stripe_pipeline.settings import JdeSettings, Settings
from jde_stripe_pipeline.stripe_sink import StripeSink, StripeSinkSettings
from jde_stripe_pipeline.sync import SyncEngine
from jde_stripe_pipeline.sync.accounts import AccountSyncs


def ais_settings(jde: JdeSettings, credentials: CredentialSource) -> AisSettings:
    """The AIS connection: the login as resolved now, the zone and profile from the settings."""
    login = credentials.jde()
    return AisSettings.from_values(
        **login.settings_values(), timezone=jde.timezone, invoice_source=jde.invoice_source
    )


@contextmanager
def ais_session(jde: JdeSettings, credentials: CredentialSource) -> Iterator[AisSession]:
    """A logged-in AIS session, logged out at the end of the block."""
    with AisSession(
        ais_settings(jde, credentials), page_size=jde.page_size, read_workers=jde.read_workers
    ) as session:
        yield session


def sink_settings(
    stripe: StripeSinkSettings, credentials: CredentialSource, account: StripeAccount | None = None
) -> StripeSinkSettings:
    """The pacing settings with the key source and API base of one account's credentials (default: the
    one account of an unrouted site): the key is re-read from its source (environment or store)
    whenever the sink asks again, e.g. after a 401. A Connect account uses the platform's key
    (`default`'s) with its connected account id."""
    account = account or StripeAccount(DEFAULT_ACCOUNT)
    key_source = AccountKeySource(credentials, DEFAULT_ACCOUNT if account.connected_account else account.name)
    api_base = credentials.stripe(key_source.account).api_base
    return replace(
        stripe,
        key_source=key_source,
        api_base=api_base or stripe.api_base,
        stripe_account=account.connected_account,
        budget_name=account_budget_name(stripe.budget_name, account),
    )


class AccountKeySource:
    """One Stripe account's key as its credentials hold it now (read again on every call); its repr,
    which the sink's messages show, names where to set it, never the key."""

    def __init__(self, credentials: CredentialSource, account: str) -> None:
        self.credentials = credentials
        self.account = account

    def __call__(self) -> str:
        return self.credentials.stripe(self.account).api_key.get_secret_value()

    def __repr__(self) -> str:
        return f"{key_variable(self.account)} or `{store_command(self.account)}`"


@contextmanager
def stripe_sink(
    stripe: StripeSinkSettings, credentials: CredentialSource, account: StripeAccount | None = None
) -> Iterator[StripeSink]:
    with StripeSink(sink_settings(stripe, credentials, account)) as sink:
        yield sink


def account_budget_name(configured: str | None, account: StripeAccount) -> str | None:
    """The pacing budget an account's sinks share (`stripe_sink/budget.py`): unset, the budget follows
    the key, so accounts with keys of their own pace apart; a Connect account paces apart from its
    platform and the other connected accounts (its requests count against its own limits, as the
    emulator models it); a configured `JDE_STRIPE_BUDGET_NAME` gets the account's name appended for
    any account but `default`, so two accounts never share one budget."""
    if account.connected_account:
        return f"{configured or 'connect'}:{account.connected_account}"
    if configured and account.name != DEFAULT_ACCOUNT:
        return f"{configured}:{account.name}"
    return configured


@contextmanager
def open_ledger(state_url: str | None = None) -> Iterator[Ledger]:
    """The ledger at `state_url`, else `JDE_STRIPE_STATE_URL` (read now: it may carry a password),
    else SQLite under `$DAGSTER_HOME`."""
    with Ledger.open(state_url) as ledger:
        yield ledger


def sync_engine(
    customer_mapping: CustomerMappingConfig,
    invoice_mapping: InvoiceMappingConfig,
    sink: StripeSink,
    ledger: Ledger,
    *,
    run_id: str,
    partition_key: str | None,
    progress: Callable[[int, int | None], None] | None = None,
) -> SyncEngine:
    return SyncEngine(
        stripe=sink,
        ledger=ledger,
        customer_config=customer_mapping,
        invoice_config=invoice_mapping,
        run_id=run_id,
        partition_key=partition_key,
        progress=progress,
    )


def account_syncs(
    settings: Settings,
    credentials: CredentialSource,
    ledger: Ledger,
    *,
    run_id: str,
    partition_key: str | None,
    only: Sequence[str] | None = None,
    progress: Callable[[str], Callable[[int, int | None], None] | None] | None = None,
) -> AccountSyncs:
    """The syncs of one run across the configured Stripe accounts (`only` some of them): each account
    with its own sink (key, API base, connected account, budget) and its own view of the ledger.
    `progress(account)`: the engine's progress callback for that account."""

    def open_sink(account: StripeAccount) -> AbstractContextManager[StripeSink]:
        return stripe_sink(settings.stripe, credentials, account)

    def engine(sink: StripeSink, account_ledger: Ledger) -> SyncEngine:
        return sync_engine(
            settings.customer_mapping,
            settings.invoice_mapping,
            sink,
            account_ledger,
            run_id=run_id,
            partition_key=partition_key,
            progress=progress(account_ledger.account) if progress is not None else None,
        )

    return AccountSyncs(
        routing=settings.accounts,
        ledger=ledger,
        open_sink=open_sink,
        engine=engine,
        run_id=run_id,
        partition_key=partition_key,
        only=only,
    )
