"""`jde-stripe demo` and `jde-stripe sandbox` (both sandboxes in the foreground)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from jde_stripe_pipeline.demo.sandboxes import SandboxSpec, running_sandboxes
from jde_stripe_pipeline.sandboxes.ais.cli import ais_command
from jde_stripe_pipeline.sandboxes.foreground import wait_until_interrupted
from jde_stripe_pipeline.sandboxes.stripe_emulator.cli import stripe_command


def _echo(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


@click.command("demo")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the JDE data.")
@click.option("--customers", default=60, show_default=True, type=int, help="JDE customers to seed.")
@click.option("--invoices", default=120, show_default=True, type=int, help="JDE invoices (orders) to seed.")
@click.option(
    "--home",
    default=".demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Demo directory (Dagster instance + ledger); wiped at start, kept afterwards.",
)
@click.option("--days", type=click.IntRange(min=1), help="Sync only the latest N seeded days (default: all).")
@click.option("--no-changes", is_flag=True, help="Skip the JDE edits and the second sync.")
@click.option(
    "--source",
    type=click.Choice(["purchase_order", "ar_invoice"]),
    default="purchase_order",
    show_default=True,
    help="Invoice source profile (JDE_INVOICE_SOURCE): orders, or invoices posted to the G/L (A/R).",
)
@click.option(
    "--one-account",
    is_flag=True,
    help="One Stripe account for every JDE company (default: two, 00001 → us and 00200 → eu).",
)
@click.option("--ui", is_flag=True, help="Then keep the Dagster UI running on the sandboxes until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Host of the Dagster UI.")
@click.option(
    "--port", default=3000, show_default=True, type=int, help="Port of the Dagster UI (0: a free one)."
)
@click.option(
    "--timezone",
    default="America/Chicago",
    show_default=True,
    help="The AIS sandbox's zone: the demo's JDE_TIMEZONE (the shell's is not used).",
)
def demo_command(
    seed: int,
    customers: int,
    invoices: int,
    home: Path,
    days: int | None,
    no_changes: bool,
    source: str,
    one_account: bool,
    ui: bool,
    host: str,
    port: int,
    timezone: str,
) -> None:
    """Sync seeded JDE data to the Stripe emulator through Dagster, change a few records, sync again.

    Exits 1 if a reconciliation check fails or records other than the changed ones moved."""
    from jde_stripe_pipeline.demo.changes import DemoChangeError
    from jde_stripe_pipeline.demo.run import DemoError, DemoOptions, run_demo
    from jde_stripe_pipeline.demo.summary import format_report
    from jde_stripe_pipeline.sandboxes.ais.admin_client import AisAdminError

    options = DemoOptions(
        seed,
        customers,
        invoices,
        home,
        not no_changes,
        days,
        ui,
        host,
        port,
        timezone,
        source,
        not one_account,
    )
    try:
        report = run_demo(options, _echo, show=lambda report: _echo("\n" + format_report(report) + "\n"))
    except (DemoError, DemoChangeError, AisAdminError) as error:
        raise click.ClickException(str(error)) from error
    if not (report.passed and (report.second is None or report.only_changes_moved)):
        sys.exit(1)


def sandbox_options(command: Any) -> Any:
    """Options of `jde-stripe sandbox` itself (used when no subcommand is given)."""
    for option in reversed(
        [
            click.option("--seed", default=7, show_default=True, type=int),
            click.option("--customers", default=60, show_default=True, type=int),
            click.option("--invoices", default=120, show_default=True, type=int),
            click.option("--host", default="127.0.0.1", show_default=True),
            click.option(
                "--ais-port", default=8091, show_default=True, type=int, help="0 picks a free port."
            ),
            click.option(
                "--stripe-port", default=12111, show_default=True, type=int, help="0 picks a free port."
            ),
            click.option("--timezone", default="America/Chicago", show_default=True),
            click.option(
                "--one-account",
                is_flag=True,
                help="One emulated Stripe account (default: two, routed by JDE company).",
            ),
        ]
    ):
        command = option(command)
    return command


def serve_both_sandboxes(
    seed: int,
    customers: int,
    invoices: int,
    host: str,
    ais_port: int,
    stripe_port: int,
    timezone: str,
    one_account: bool = False,
) -> None:
    """Both sandboxes in the foreground until Ctrl-C; the export lines on stdout, the rest on stderr."""
    spec = SandboxSpec(
        seed, customers, invoices, timezone, host, ais_port, stripe_port, accounts=not one_account
    )
    with running_sandboxes(spec) as sandboxes:
        click.echo(
            f"AIS sandbox: {customers} customers, {invoices} invoices (seed {seed}, as of "
            f"{sandboxes.ais.as_of}) on {sandboxes.ais_server.url}/jderest/v2 "
            f"(admin: {sandboxes.ais_server.url}/_sandbox/)\n"
            f"Stripe emulator on {sandboxes.stripe_server.url} "
            f"(admin: {sandboxes.stripe_server.url}/_sandbox/config)"
            + "".join(
                f", account {a.emulator_account} bills JDE {a.company} ({a.name})" for a in sandboxes.accounts
            )
            + "\n"
            "Paste these lines into the shell that runs the pipeline; Ctrl-C stops both sandboxes.",
            err=True,
        )
        for line in sandboxes.export_lines():
            _echo(line)
        wait_until_interrupted()


@click.group("sandbox", invoke_without_command=True)
@sandbox_options
@click.pass_context
def sandbox(ctx: click.Context, **options: Any) -> None:
    """Run the embedded AIS sandbox and Stripe emulator (the demo's JDE and Stripe).

    Without a subcommand: both, in the foreground, printing the variables that point the pipeline at them."""
    if ctx.invoked_subcommand is None:
        serve_both_sandboxes(**options)


sandbox.add_command(ais_command, "ais")
sandbox.add_command(stripe_command)
