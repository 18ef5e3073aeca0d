"""The `jde-stripe` command line. Each domain owns its commands; this module only gathers them."""

import click

from jde_stripe_pipeline.credentials.check_cli import check_command
from jde_stripe_pipeline.credentials.cli import credentials
from jde_stripe_pipeline.demo.cli import demo_command, sandbox
from jde_stripe_pipeline.jde.cli import extract_command
from jde_stripe_pipeline.orchestration.commands import audit
from jde_stripe_pipeline.orchestration.replay import replay
from jde_stripe_pipeline.sync.cli import plan_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jde-stripe-pipeline")
def main() -> None:
    """Keep Stripe in step with JD Edwards EnterpriseOne."""


main.add_command(credentials)
main.add_command(check_command)
main.add_command(audit)
main.add_command(replay)
main.add_command(plan_command)
main.add_command(demo_command)
main.add_command(extract_command, "extract")
main.add_command(sandbox)
