"""The `jde-stripe` command line: the commands that are not Dagster (`plan`, `replay`, `audit`,
`extract`, `relink`) live in this package; `credentials`, `check` and `demo` with their domains.

Commands are imported when they run, not when the CLI starts: `jde-stripe --help` (and
`credentials`, `check`) work whatever the environment holds, and a misconfiguration is one line
naming the setting (`ConfigurationError`, exit 2), never a traceback from an import.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from jde_stripe_pipeline.errors import ConfigurationError

_COMMANDS: dict[str, tuple[str, str, str]] = {
    "audit": (
        "jde_stripe_pipeline.cli.audit",
        "audit",
        "The history of one JDE key or Stripe id.",
    ),
    "check": (
        "jde_stripe_pipeline.credentials.check_cli",
        "check_command",
        "Can the connector reach JDE and Stripe?",
    ),
    "credentials": ("jde_stripe_pipeline.credentials.cli", "credentials", "The encrypted credential store."),
    "demo": ("jde_stripe_pipeline.demo.cli", "demo_command", "The whole pipeline on the embedded sandboxes."),
    "extract": ("jde_stripe_pipeline.cli.extract", "extract_command", "What a sync would read from JDE."),
    "plan": ("jde_stripe_pipeline.cli.plan", "plan_command", "What a sync would do; writes nothing."),
    "relink": (
        "jde_stripe_pipeline.cli.relink",
        "relink_command",
        "List the Stripe account once; link what the ledger lacks.",
    ),
    "replay": (
        "jde_stripe_pipeline.cli.replay",
        "replay",
        "Re-send the failed records of partitions.",
    ),
    "sandbox": ("jde_stripe_pipeline.demo.cli", "sandbox", "Run the AIS sandbox and the Stripe emulator."),
}


class _ConfigurationProblem(click.ClickException):
    exit_code = 2


class _LazyGroup(click.Group):
    """Loads a command's module only when that command runs; `--help` lists the short help above."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attribute, _ = _COMMANDS[cmd_name]
        try:
            command = getattr(importlib.import_module(module), attribute)
        except ConfigurationError as problem:
            raise _ConfigurationProblem(str(problem)) from None
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, _, help_text) in sorted(_COMMANDS.items())])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as problem:
            raise _ConfigurationProblem(str(problem)) from None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jde-stripe-pipeline")
def main() -> None:
    """Keep Stripe in step with JD Edwards EnterpriseOne."""
