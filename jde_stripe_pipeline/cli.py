"""The `jde-stripe` command line. Each domain owns its commands; this module only gathers them."""

from typing import Any

import click

from jde_stripe_pipeline.credentials.check_cli import check_command
from jde_stripe_pipeline.credentials.cli import credentials
from jde_stripe_pipeline.demo.cli import demo_command, sandbox_options, serve_both_sandboxes
from jde_stripe_pipeline.jde.cli import extract_command
from jde_stripe_pipeline.orchestration.commands import audit
from jde_stripe_pipeline.orchestration.replay import replay
from jde_stripe_pipeline.sandboxes.ais.cli import ais_command
from jde_stripe_pipeline.sandboxes.stripe_emulator.cli import stripe_command
from jde_stripe_pipeline.sync.cli import plan_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jde-stripe-pipeline")
def main() -> None:
    """Keep Stripe in step with JD Edwards EnterpriseOne."""


@main.group(invoke_without_command=True)
@sandbox_options
@click.pass_context
def sandbox(ctx: click.Context, **options: Any) -> None:
    """Run the embedded AIS sandbox and Stripe emulator (the demo's JDE and Stripe).

    Without a subcommand: both, in the foreground, printing the variables that point the pipeline at them."""
    if ctx.invoked_subcommand is None:
        serve_both_sandboxes(**options)


main.add_command(credentials)
main.add_command(check_command)
main.add_command(audit)
main.add_command(replay)
main.add_command(plan_command)
main.add_command(demo_command)
main.add_command(extract_command, "extract")

sandbox.add_command(ais_command, "ais")
sandbox.add_command(stripe_command)
