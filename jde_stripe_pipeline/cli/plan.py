"""`jde-stripe plan --from DATE --to DATE [--account NAME]`: what a sync would do, for a person to
review first, per Stripe account.

Reads JDE (the window's changed records) and Stripe (listing, retrieve) and the ledger; writes to
none of them. Settings come from the settings root, credentials from the environment or the encrypted
store (`jde-stripe credentials`), the ledger from `JDE_STRIPE_STATE_URL`: as a sync would.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import click

from jde_stripe_pipeline import runtime
from jde_stripe_pipeline.cli.settings import (
    account_option,
    credential_source,
    load_settings,
    plain_errors,
    selected_accounts,
)
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sync.accounts import AccountsPlan
from jde_stripe_pipeline.sync.render import render_plan

_KINDS = ("customers", "invoices", "all")


@click.command("plan")
@click.option(
    "--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (JDE time)."
)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, included.")
@click.option("--kind", type=click.Choice(_KINDS), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON lines instead of a table.")
@account_option
def plan_command(first: Any, last: Any, kind: str, as_json: bool, account: str | None) -> None:
    """Show the creates, updates (fields and lines), conflicts and quarantines a sync would make, per
    Stripe account (and the records whose JDE company no account bills)."""
    start: date = first.date()
    end: date = last.date() + timedelta(days=1)
    if end <= start:
        raise click.BadParameter("--to must not be before --from")
    settings = load_settings()
    only = selected_accounts(settings, account)
    credentials = credential_source()
    window = UpdateWindow.days(start, end)
    plans: list[AccountsPlan] = []
    with (
        plain_errors(),
        runtime.open_ledger() as ledger,
        runtime.ais_session(settings.jde, credentials) as session,
    ):
        syncs = runtime.account_syncs(
            settings,
            credentials,
            ledger,
            run_id=f"plan-{uuid.uuid4().hex[:12]}",
            partition_key=None,
            only=only,
        )
        if kind in ("customers", "all"):
            customers = extract_customers(session, window, ship_to_source=settings.jde.ship_to_source)
            plans.append(syncs.plan_customers(customers))
        if kind in ("invoices", "all"):
            profile = settings.jde.profile()
            plans.append(syncs.plan_invoices(extract_invoices(session, window, profile)))
    routed = settings.accounts.routed
    for plan in plans:
        for name, account_plan in plan.accounts:
            if routed:
                click.echo(f"== Stripe account {name} ==")
            click.echo(render_plan(account_plan, as_json=as_json))
        for record in plan.unrouted if only is None else ():
            click.echo(f"{record.kind:8} {record.record_key:22} quarantine  {record.field}: {record.reason}")
