"""Both sandboxes at once: the seeded AIS sandbox (the demo's JDE) and the Stripe emulator (its Stripe).

The demo and `jde-stripe sandbox` (no subcommand) start them through here, so both print the same
environment variables a user sets to point the pipeline, `dagster dev` or the CLI at them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig


@dataclass(frozen=True)
class SandboxSpec:
    """What to seed and where to listen (port 0 picks a free loopback port)."""

    seed: int = 7
    customers: int = 60
    invoices: int = 120
    timezone: str = "America/Chicago"
    host: str = "127.0.0.1"
    ais_port: int = 0
    stripe_port: int = 0
    as_of: dt.date | None = None
    stripe_rate_limit: float = 25.0
    """Requests/second per key, Stripe's test-mode limit: the demo paces itself as it would for real."""


@dataclass(frozen=True)
class RunningSandboxes:
    """Both sandboxes, started and listening."""

    ais: AisSandbox
    ais_server: LoopbackServer
    stripe: StripeEmulator
    stripe_server: LoopbackServer

    def environment(self) -> dict[str, str]:
        """The variables that point the pipeline at these sandboxes (no real secret among them)."""
        return {
            **ais_environment(self.ais_server.url, self.ais.config),
            "STRIPE_API_KEY": self.stripe.api_key,
            "STRIPE_API_BASE": self.stripe_server.url,
        }

    def export_lines(self) -> list[str]:
        return export_lines(self.environment())


def export_lines(environment: Mapping[str, str]) -> list[str]:
    """Shell lines, JDE's and Stripe's apart, to paste into another terminal."""
    groups = (
        {k: v for k, v in environment.items() if k.startswith("JDE_")},
        {k: v for k, v in environment.items() if not k.startswith("JDE_")},
    )
    return [
        "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in group.items()) for group in groups if group
    ]


@contextlib.contextmanager
def running_sandboxes(spec: SandboxSpec) -> Iterator[RunningSandboxes]:
    """Seed and start both; on exit stop both servers and delete the sandboxes' temporary files."""
    with contextlib.ExitStack() as stack:
        ais = AisSandbox(
            seed=spec.seed,
            customers=spec.customers,
            invoices=spec.invoices,
            config=AisSandboxConfig(timezone=spec.timezone),
            as_of=spec.as_of,
        )
        stack.callback(ais.close)
        emulator = StripeEmulator(StripeEmulatorConfig(rate_limit_per_second=spec.stripe_rate_limit))
        stack.callback(emulator.close)
        ais_server = stack.enter_context(ais.serve(spec.host, spec.ais_port))
        stripe_server = stack.enter_context(emulator.serve(spec.stripe_port, spec.host))
        yield RunningSandboxes(ais, ais_server, emulator, stripe_server)
