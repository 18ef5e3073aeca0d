"""`jde-stripe relink`: the explicit recovery that lists the whole Stripe account once.

A normal run never lists the account: the ledger notes every create before it is sent, so a record it
has no trace of is simply created. When the ledger cannot know — a restored or replaced state
database, objects made by another deployment — this lists every customer and invoice once, and each
unmapped record's Stripe object (found by its `jde_*` metadata) becomes known to the ledger: the next
sync re-reads and relinks it instead of creating a second one. (A run that finds the ledger empty does
the same by itself, once.) Reads Stripe, writes the ledger only; credentials from the environment or
the encrypted store, the ledger from `--state-url` / `JDE_STRIPE_STATE_URL`.
"""

from __future__ import annotations

import uuid

import click

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.cli.settings import (
    account_command_setup,
    account_option,
    plain_errors,
    state_url_option,
)
from jde_stripe_pipeline.sync.relink import relink


@click.command("relink")
@account_option
@state_url_option
def relink_command(account: str | None, state_url: str | None) -> None:
    """List a Stripe account once (each configured account, or `--account`); its ledger learns every
    unmapped record's Stripe object."""
    settings, accounts, credentials = account_command_setup(account)
    run_id = f"relink-{uuid.uuid4().hex[:12]}"
    with plain_errors(), runtime.open_ledger(state_url) as ledger:
        for stripe_account in accounts:
            with runtime.stripe_sink(settings.stripe, credentials, stripe_account) as sink:
                report = relink(ledger.for_account(stripe_account.name), sink, run_id)
            named = f" (account {stripe_account.name})" if settings.accounts.routed else ""
            click.echo(f"{ledger.display_url}{named}: {report.summary()}")
