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
from jde_stripe_pipeline.cli.settings import credential_source, load_settings, plain_errors, state_url_option
from jde_stripe_pipeline.sync.relink import relink


@click.command("relink")
@state_url_option
def relink_command(state_url: str | None) -> None:
    """List the whole Stripe account once; the ledger learns every unmapped record's Stripe object."""
    settings = load_settings()
    with (
        plain_errors(),
        runtime.stripe_sink(settings.stripe, credential_source()) as sink,
        runtime.open_ledger(state_url) as ledger,
    ):
        report = relink(ledger, sink, f"relink-{uuid.uuid4().hex[:12]}")
        where = ledger.display_url
    click.echo(f"{where}: {report.summary()}")
