"""`jde-stripe plan --from DATE --to DATE`: what a sync would do, for a person to review first.

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
from jde_stripe_pipeline.cli.settings import credential_source, load_settings, plain_errors
from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
from jde_stripe_pipeline.jde.window import UpdateWindow
from jde_stripe_pipeline.sync.render import render_plan
from jde_stripe_pipeline.sync.results import Plan

_KINDS = ("customers", "invoices", "all")


@click.command("plan")
@click.option(
    "--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (JDE time)."
)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, included.")
@click.option("--kind", type=click.Choice(_KINDS), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON lines instead of a table.")
def plan_command(first: Any, last: Any, kind: str, as_json: bool) -> None:
    """Show the creates, updates (fields and lines), conflicts and quarantines a sync would make."""
    start: date = first.date()
    end: date = last.date() + timedelta(days=1)
    if end <= start:
        raise click.BadParameter("--to must not be before --from")
    settings = load_settings()
    credentials = credential_source()
    window = UpdateWindow.days(start, end)
    plans: list[Plan] = []
    with (
        plain_errors(),
        runtime.stripe_sink(settings.stripe, credentials) as sink,
        runtime.open_ledger() as ledger,
        runtime.ais_session(settings.jde, credentials) as session,
    ):
        engine = runtime.sync_engine(
            settings.customer_mapping,
            settings.invoice_mapping,
            sink,
            ledger,
            run_id=f"plan-{uuid.uuid4().hex[:12]}",
            partition_key=None,
        )
        if kind in ("customers", "all"):
            customers = extract_customers(session, window, ship_to_source=settings.jde.ship_to_source)
            plans.append(engine.plan_customers(customers))
        if kind in ("invoices", "all"):
            profile = settings.jde.profile()
            plans.append(engine.plan_invoices(extract_invoices(session, window, profile)))
    for plan in plans:
        click.echo(render_plan(plan, as_json=as_json))
