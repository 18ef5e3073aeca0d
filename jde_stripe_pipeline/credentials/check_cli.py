"""`jde-stripe check`: can the connector reach JDE AIS and Stripe with its credentials?

Prints one line for the JDE time zone and one per system (OK, or what failed and what to
do) and exits 1 if any check failed.
The clients' retry warnings are silenced unless `--verbose`: the answer is the two lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import click

from jde_stripe_pipeline.credentials.check import ConnectionCheckResult, run_connection_checks
from jde_stripe_pipeline.credentials.check_zone import check_timezone
from jde_stripe_pipeline.settings import SettingsError, accounts_from_env

NAME_WIDTH = 9
STATUS_WIDTH = 8


def format_result(result: ConnectionCheckResult, name_width: int = NAME_WIDTH) -> str:
    """`JDE AIS  OK      https://… (user …, environment …)`, or the failure followed by what to do."""
    status = "OK" if result.ok else "FAILED"
    line = f"{result.name:<{name_width}}{status:<{STATUS_WIDTH}}{_one_line(result.message)}"
    return f"{line} -> {_one_line(result.hint)}" if result.hint else line


def _one_line(text: str) -> str:
    """Server texts can hold line breaks; the answer stays one line per system."""
    return " ".join(text.split())


@contextlib.contextmanager
def _quiet_package_logs(verbose: bool) -> Iterator[None]:
    """Without a handler, Python prints the clients' retry warnings to stderr; keep them out unless asked."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        yield
        return
    logger = logging.getLogger("jde_stripe_pipeline")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@click.command("check")
@click.option("--verbose", is_flag=True, help="Also show the clients' log lines (retries, logout).")
@click.option(
    "--account",
    default=None,
    help="Probe only this Stripe account (a name of JDE_STRIPE_ACCOUNTS); default: every configured one.",
)
def check_command(verbose: bool, account: str | None) -> None:
    """Check that JDE AIS and every Stripe account answer with the configured credentials (environment,
    else store).

    The zone: `JDE_TIMEZONE` set to a known IANA zone (every run needs it). JDE: request a token,
    read one row of F03012, log out. Stripe: read each account's balance (`JDE_STRIPE_ACCOUNTS`; unset,
    the one account). Exits 1 if any fails; all are checked.
    """
    accounts = None
    if account is not None:
        try:
            accounts = accounts_from_env(os.environ).select([account])
        except (SettingsError, KeyError) as error:
            raise click.BadParameter(str(error).strip("'\""), param_hint="--account") from None
    with _quiet_package_logs(verbose):
        results = [check_timezone(), *run_connection_checks(accounts=accounts)]
    width = max(NAME_WIDTH, *(len(result.name) + 1 for result in results))
    for result in results:
        click.echo(format_result(result, width))
    if not all(result.ok for result in results):
        raise SystemExit(1)
