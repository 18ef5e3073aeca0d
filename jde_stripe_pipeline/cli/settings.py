"""What every CLI command opens with: the settings parsed once from the environment, and the credential
source (environment, else the encrypted store). Failures of the outside world become one line and a
non-zero exit, never a traceback; a misconfiguration is the group's exit 2 (`ConfigurationError`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from jde_stripe_pipeline.accounts import StripeAccount
from jde_stripe_pipeline.credentials import CredentialsError, CredentialSource
from jde_stripe_pipeline.jde.errors import AisError
from jde_stripe_pipeline.ledger import LedgerError
from jde_stripe_pipeline.settings import Settings
from jde_stripe_pipeline.stripe_sink import StripeSinkError


def load_settings() -> Settings:
    return Settings.from_env(os.environ)


def credential_source() -> CredentialSource:
    return CredentialSource()


@contextmanager
def plain_errors() -> Iterator[None]:
    """The outside world's refusals as their own message and exit 1."""
    try:
        yield
    except (CredentialsError, AisError, StripeSinkError, LedgerError) as error:
        raise click.ClickException(str(error)) from None


state_url_option = click.option(
    "--state-url",
    envvar="JDE_STRIPE_STATE_URL",
    default=None,
    show_envvar=True,
    help="Ledger database URL (default: SQLite under $DAGSTER_HOME).",
)
"""The ledger a command reads: as a run would find it (the URL may carry a password: never echoed)."""


account_option = click.option(
    "--account",
    "account",
    default=None,
    help="Only this Stripe account (a name of JDE_STRIPE_ACCOUNTS); default: every configured account.",
)
"""The Stripe account a command works on; unset, every account the settings configure."""


def selected_accounts(settings: Settings, account: str | None) -> list[str] | None:
    """`--account`'s name checked against the settings (None: every account)."""
    if account is None:
        return None
    if account not in settings.accounts.names:
        configured = ", ".join(settings.accounts.names)
        raise click.BadParameter(
            f"{account!r} is not a configured Stripe account (JDE_STRIPE_ACCOUNTS names: {configured})",
            param_hint="--account",
        )
    return [account]


def account_command_setup(
    account: str | None,
) -> tuple[Settings, tuple[StripeAccount, ...], CredentialSource]:
    """What a command working account by account opens with: the settings, the accounts `--account`
    picks (every configured one when unset) and the credential source."""
    settings = load_settings()
    accounts = settings.accounts.select(selected_accounts(settings, account) or settings.accounts.names)
    return settings, accounts, credential_source()
