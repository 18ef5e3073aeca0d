"""`jde-stripe sandbox stripe`: the emulator in the foreground, for the demo and for poking at by hand."""

from __future__ import annotations

from pathlib import Path

import click

from .server import DEFAULT_API_KEY, StripeEmulator, StripeEmulatorConfig


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
    "--rate-limit", type=float, default=25.0, show_default=True, help="Requests/second per API key (0: off)."
)
@click.option(
    "--search-lag", type=float, default=1.0, show_default=True, help="Seconds before search sees a write."
)
@click.option("--latency-ms", type=int, default=0, show_default=True)
@click.option("--fail-rate", type=float, default=0.0, show_default=True)
@click.option("--commit-then-fail-rate", type=float, default=0.0, show_default=True)
@click.option("--fault-seed", type=int, default=0, show_default=True)
def stripe_command(
    port: int,
    host: str,
    db_path: Path | None,
    api_keys: tuple[str, ...],
    rate_limit: float,
    search_lag: float,
    latency_ms: int,
    fail_rate: float,
    commit_then_fail_rate: float,
    fault_seed: int,
) -> None:
    """Run the Stripe emulator until Ctrl-C; prints the environment a client needs."""
    config = StripeEmulatorConfig(
        api_keys=api_keys or (DEFAULT_API_KEY,),
        rate_limit_per_second=rate_limit,
        search_lag_seconds=search_lag,
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        commit_then_fail_rate=commit_then_fail_rate,
        fault_seed=fault_seed,
    )
    emulator = StripeEmulator(config=config, db_path=db_path)
    try:
        with emulator.serve(port=port, host=host) as server:
            click.echo(f"export STRIPE_API_KEY={emulator.api_key} STRIPE_API_BASE={server.url}", err=False)
            click.echo(
                f"Stripe emulator on {server.url} (admin: {server.url}/_sandbox/config); Ctrl-C stops it.",
                err=True,
            )
            try:
                while True:
                    import time

                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        emulator.close()
