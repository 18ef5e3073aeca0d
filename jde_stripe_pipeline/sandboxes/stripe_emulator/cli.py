"""`jde-stripe sandbox stripe`: the emulator in the foreground, for the demo and for poking at by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..foreground import wait_until_interrupted
from .config import DEFAULT_API_KEY, StripeEmulatorConfig
from .latency import LATENCY_PRESETS
from .limits import PROFILES
from .server import StripeEmulator


def _n(value: float, unit: str) -> str:
    return f"{value:g}{unit}" if value else "off"


_PROFILE_HELP = "; ".join(
    f"{name}: global {_n(p.global_rate, '/s')}, endpoint {_n(p.endpoint_rate, '/s')}, "
    f"search {_n(p.search_rate, '/s')}, in flight {_n(p.concurrency, '')}"
    for name, p in PROFILES.items()
)


def _key_account(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, account = value.partition("=")
        if not sep or not key or not account:
            raise click.BadParameter(f"expected KEY=ACCOUNT, got {value!r}")
        pairs[key] = account
    return pairs


@click.command("stripe")
@click.option(
    "--port", type=int, default=12111, show_default=True, help="Loopback port (0 picks a free one)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file that keeps state across restarts (default: in memory).",
)
@click.option(
    "--api-key", "api_keys", multiple=True, help=f"Accepted API key (repeatable; default {DEFAULT_API_KEY})."
)
@click.option(
    "--key-account",
    "key_accounts",
    multiple=True,
    callback=_key_account,
    help="KEY=ACCOUNT: the key's account, whose limits it shares (repeatable; default acct_emulator).",
)
@click.option(
    "--profile",
    type=click.Choice(list(PROFILES)),
    default="default",
    show_default=True,
    help=f"Stripe's limiters per account ({_PROFILE_HELP}).",
)
@click.option("--rate-limit", type=float, default=None, help="Global requests/second per account (0: off).")
@click.option(
    "--endpoint-rate-limit", type=float, default=None, help="Requests/second per endpoint (0: off)."
)
@click.option("--search-rate-limit", type=float, default=None, help="Search requests/second (0: off).")
@click.option("--concurrency-limit", type=int, default=None, help="Requests in flight per account (0: off).")
@click.option(
    "--search-lag", type=float, default=1.0, show_default=True, help="Seconds before search sees a write."
)
@click.option(
    "--latency",
    type=click.Choice(list(LATENCY_PRESETS)),
    default="off",
    show_default=True,
    help="Sampled response times: stripe = reads 100 ms, writes 300 ms median, p99 4 × median.",
)
@click.option("--latency-read-ms", type=float, default=None, help="Median delay of reads (ms).")
@click.option("--latency-write-ms", type=float, default=None, help="Median delay of writes (ms).")
@click.option(
    "--latency-p99-ratio", type=float, default=None, help="p99 / median of the delay (1: constant)."
)
@click.option("--latency-seed", type=int, default=0, show_default=True)
@click.option(
    "--latency-ms", type=int, default=0, show_default=True, help="Fixed delay added to every request."
)
@click.option("--fail-rate", type=float, default=0.0, show_default=True)
@click.option("--commit-then-fail-rate", type=float, default=0.0, show_default=True)
@click.option("--fault-seed", type=int, default=0, show_default=True)
def stripe_command(
    port: int,
    host: str,
    db_path: Path | None,
    api_keys: tuple[str, ...],
    search_lag: float,
    rate_limit: float | None,
    endpoint_rate_limit: float | None,
    search_rate_limit: float | None,
    concurrency_limit: int | None,
    **options: Any,
) -> None:
    """Run the Stripe emulator until Ctrl-C; prints the environment a client needs."""
    overrides = {
        "rate_limit_per_second": rate_limit,
        "endpoint_rate_limit_per_second": endpoint_rate_limit,
        "search_rate_limit_per_second": search_rate_limit,
        "concurrency_limit": concurrency_limit,
    }
    try:
        config = StripeEmulatorConfig.of(
            api_keys=api_keys or (DEFAULT_API_KEY,),
            search_lag_seconds=search_lag,
            **{name: value for name, value in {**options, **overrides}.items() if value is not None},
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    emulator = StripeEmulator(config=config, db_path=db_path)
    try:
        with emulator.serve(port=port, host=host) as server:
            click.echo(f"export STRIPE_API_KEY={emulator.api_key} STRIPE_API_BASE={server.url}", err=False)
            click.echo(
                f"Stripe emulator on {server.url} (admin: {server.url}/_sandbox/config); Ctrl-C stops it.",
                err=True,
            )
            wait_until_interrupted()
    finally:
        emulator.close()
