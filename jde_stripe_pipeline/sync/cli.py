"""`jde-stripe plan --from DATE --to DATE`: what a sync would do, for a person to review first.
`jde-stripe relink`: the explicit recovery that lists the whole Stripe account once.

`plan` reads JDE (the window's changed records), Stripe (retrieves) and the ledger; writes to none of
them. `relink` reads Stripe and writes the ledger only: each unmapped record's Stripe object (found by
its `jde_*` metadata) becomes known to the ledger, so the next sync relinks it instead of creating it —
for a restored or replaced state database, or objects made by another deployment. Credentials come
from the environment or the encrypted store (`jde-stripe credentials`), mapping settings from
`JDE_STRIPE_*` variables, the ledger from `JDE_STRIPE_STATE_URL`.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import click

from jde_stripe_pipeline.sync.render import render_plan
from jde_stripe_pipeline.sync.results import Plan

if TYPE_CHECKING:
    from jde_stripe_pipeline.stripe_sink import StripeSink

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
    from jde_stripe_pipeline.credentials import resolve_jde_credentials
    from jde_stripe_pipeline.jde.client import AisSession
    from jde_stripe_pipeline.jde.profiles import invoice_profile
    from jde_stripe_pipeline.jde.read import extract_customers, extract_invoices
    from jde_stripe_pipeline.jde.settings import AisSettings
    from jde_stripe_pipeline.jde.window import UpdateWindow
    from jde_stripe_pipeline.ledger import Ledger
    from jde_stripe_pipeline.mapping import CustomerMappingConfig, InvoiceMappingConfig
    from jde_stripe_pipeline.sync.engine import SyncEngine

    start: date = first.date()
    end: date = last.date() + timedelta(days=1)
    if end <= start:
        raise click.BadParameter("--to must not be before --from")
    env = dict(os.environ)
    jde = resolve_jde_credentials(env)
    values: dict[str, object] = {
        "url": jde.url,
        "username": jde.username,
        "password": jde.password.get_secret_value(),
        "environment": jde.environment or env.get("JDE_AIS_ENVIRONMENT", ""),
        "timezone": env.get("JDE_TIMEZONE", ""),
        "role": jde.role,
        "device_name": jde.device_name,
        "ca_bundle": jde.ca_bundle,
        "invoice_source": env.get("JDE_INVOICE_SOURCE"),
    }
    ais = AisSettings.from_values(**{name: value for name, value in values.items() if value})
    window = UpdateWindow.days(start, end)
    plans: list[Plan] = []
    with (
        _stripe_sink(env) as sink,
        Ledger.open() as ledger,
        AisSession(ais) as session,
    ):
        customer_config = CustomerMappingConfig.from_env(env)
        engine = SyncEngine(
            stripe=sink,
            ledger=ledger,
            customer_config=customer_config,
            invoice_config=InvoiceMappingConfig.from_env(env),
            run_id=f"plan-{uuid.uuid4().hex[:12]}",
            partition_key=None,
        )
        if kind in ("customers", "all"):
            customers = extract_customers(session, window, ship_to_source=customer_config.ship_to_source)
            plans.append(engine.plan_customers(customers))
        if kind in ("invoices", "all"):
            profile = invoice_profile(ais.invoice_source)
            plans.append(engine.plan_invoices(extract_invoices(session, window, profile)))
    for plan in plans:
        click.echo(render_plan(plan, as_json=as_json))


@click.command("relink")
def relink_command() -> None:
    """List the whole Stripe account once; the ledger learns every unmapped record's Stripe object."""
    from jde_stripe_pipeline.ledger import Ledger
    from jde_stripe_pipeline.sync.relink import relink

    with _stripe_sink(dict(os.environ)) as sink, Ledger.open() as ledger:
        report = relink(ledger, sink, f"relink-{uuid.uuid4().hex[:12]}")
        ledger_url = ledger.display_url
    click.echo(f"{ledger_url}: {report.summary()}")


def _stripe_sink(env: dict[str, str]) -> StripeSink:
    from jde_stripe_pipeline.credentials import resolve_stripe_key
    from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings

    stripe_credentials = resolve_stripe_key(env)
    if stripe_credentials.api_base:
        env["STRIPE_API_BASE"] = stripe_credentials.api_base
    settings = StripeSinkSettings.from_env(
        env, key_source=StaticKeySource(stripe_credentials.api_key.get_secret_value())
    )
    return StripeSink(settings)
