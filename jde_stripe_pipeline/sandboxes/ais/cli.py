"""`jde-stripe sandbox ais`: run the AIS sandbox in the foreground, print how to point the pipeline at it."""

from __future__ import annotations

import datetime as dt
import shlex
import time

import click

from jde_stripe_pipeline.sandboxes.ais.config import (
    DEFAULT_DEVICE_NAME,
    DEFAULT_PASSWORD,
    DEFAULT_RESULT_SET_TIMEOUT_SECONDS,
    DEFAULT_ROLE,
    DEFAULT_USERNAME,
    AisSandboxConfig,
    AisUser,
)
from jde_stripe_pipeline.sandboxes.ais.sandbox import AisSandbox
from jde_stripe_pipeline.sandboxes.foreground import wait_until_interrupted


def export_line(url: str, config: AisSandboxConfig) -> str:
    """The shell line that points the pipeline at this sandbox (the sandbox password is not a secret)."""
    values = ais_environment(url, config)
    return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items())


def ais_environment(url: str, config: AisSandboxConfig) -> dict[str, str]:
    """The environment variables that point the pipeline at this sandbox."""
    username = DEFAULT_USERNAME if DEFAULT_USERNAME in config.users else next(iter(config.users))
    return {
        "JDE_AIS_URL": url,
        "JDE_AIS_USERNAME": username,
        "JDE_AIS_PASSWORD": config.users[username].password,
        "JDE_AIS_ENVIRONMENT": config.environment,
        "JDE_AIS_ROLE": DEFAULT_ROLE,
        "JDE_AIS_DEVICE_NAME": DEFAULT_DEVICE_NAME,
        "JDE_TIMEZONE": config.timezone,
    }


@click.command("ais")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8091, show_default=True, type=int, help="0 picks a free port.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--customers", default=50, show_default=True, type=int)
@click.option("--invoices", default=100, show_default=True, type=int)
@click.option("--db-path", type=click.Path(dir_okay=False), help="SQLite file (default: a temporary one).")
@click.option(
    "--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Seed stamps fall in the 28 days before."
)
@click.option("--timezone", default="America/Chicago", show_default=True)
@click.option(
    "--password", default=DEFAULT_PASSWORD, show_default=True, help=f"Password of user {DEFAULT_USERNAME}."
)
@click.option(
    "--date-format", default="MM/dd/yyyy", show_default=True, help=f"Date format of user {DEFAULT_USERNAME}."
)
@click.option("--token-max-age-seconds", type=float, default=3600.0, show_default=True)
@click.option("--token-max-calls", type=int, help="A token dies after N data calls.")
@click.option(
    "--result-set-timeout-seconds",
    type=float,
    default=DEFAULT_RESULT_SET_TIMEOUT_SECONDS,
    show_default=True,
    help="AIS resultSetTimeout: a paged read's next-page state dies this long after its query.",
)
@click.option(
    "--allowlist", multiple=True, help="Allowed client address or CIDR (repeatable; default everyone)."
)
@click.option("--fail-rate", type=float, default=0.0, show_default=True)
@click.option("--drop-rate", type=float, default=0.0, show_default=True)
@click.option("--latency-ms", type=int, default=0, show_default=True)
@click.option("--fault-seed", type=int, default=0, show_default=True)
def ais_command(
    host: str,
    port: int,
    seed: int,
    customers: int,
    invoices: int,
    db_path: str | None,
    as_of: dt.datetime | None,
    timezone: str,
    password: str,
    date_format: str,
    token_max_age_seconds: float,
    token_max_calls: int | None,
    result_set_timeout_seconds: float,
    allowlist: tuple[str, ...],
    fail_rate: float,
    drop_rate: float,
    latency_ms: int,
    fault_seed: int,
) -> None:
    """Run the JDE AIS sandbox in the foreground (Ctrl-C stops it)."""
    config = AisSandboxConfig(
        token_max_age_seconds=token_max_age_seconds,
        token_max_calls=token_max_calls,
        page_state_max_age_seconds=result_set_timeout_seconds,
        allowlist=allowlist or None,
        users={DEFAULT_USERNAME: AisUser(password, date_format)},
        fail_rate=fail_rate,
        drop_rate=drop_rate,
        latency_ms=latency_ms,
        fault_seed=fault_seed,
        timezone=timezone,
    )
    started = time.perf_counter()
    sandbox = AisSandbox(
        seed=seed,
        customers=customers,
        invoices=invoices,
        config=config,
        db_path=db_path,
        as_of=as_of.date() if as_of else None,
    )
    seconds = time.perf_counter() - started
    server = sandbox.server(host, port)
    click.echo(
        f"AIS sandbox: {customers} customers, {invoices} invoices (seed {seed}, as of {sandbox.as_of}) "
        f"seeded in {seconds:.1f}s; listening on {server.url}/jderest/v2 (admin: {server.url}/_sandbox/)",
        err=True,
    )
    click.echo(export_line(server.url, config))
    try:
        with server:
            wait_until_interrupted()
    finally:
        sandbox.close()
