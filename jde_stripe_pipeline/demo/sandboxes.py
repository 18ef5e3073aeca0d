"""Both sandboxes at once: the seeded AIS sandbox (the demo's JDE) and the Stripe emulator (its Stripe).

The demo and `jde-stripe sandbox` (no subcommand) start them through here, so both print the same
environment variables a user sets to point the pipeline, `dagster dev` or the CLI at them.

Two Stripe accounts by default (issue 13): the seed bills from JDE companies 00001 and 00200, and the
emulator holds two accounts apart, `acct_us` and `acct_eu`, each with its own key; the variables route
00001 to `us` and 00200 to `eu` (`JDE_STRIPE_ACCOUNTS`, `STRIPE_API_KEY_US`, `STRIPE_API_KEY_EU`).
`STRIPE_API_KEY` (the emulator's default account) is printed too: unset `JDE_STRIPE_ACCOUNTS` to sync
everything into that one account instead. `accounts=False` (`--one-account`) prints only that.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig
from jde_stripe_pipeline.sandboxes.ais.cli import ais_environment
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)


@dataclass(frozen=True)
class DemoAccount:
    """One emulated Stripe account of the demo: its name in the routing, the JDE company it bills, the
    emulator's account id and its key (the emulator's; not a secret, but treated as one by the pipeline)."""

    name: str
    company: str
    emulator_account: str
    key: str


DEMO_ACCOUNTS = (
    DemoAccount("us", "00001", "acct_us", "sk_test_emulator_us_7GqD2mWv9xLkRb4TnZs8Hc1p"),
    DemoAccount("eu", "00200", "acct_eu", "sk_test_emulator_eu_3JfP8sYq5vNdKm2XwTb6Lr9e"),
)


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
    """The seed's today; None: today in `timezone`, fixed once when the spec is made (`day`), so the
    sandbox and the run that reads it agree on the date even across midnight."""
    stripe_rate_limit: float = 25.0
    """Requests/second per account, Stripe's test-mode limit: the demo paces itself as it would for real."""
    accounts: bool = True
    """Two emulated Stripe accounts routed by company (`DEMO_ACCOUNTS`); False: the one default account."""

    def __post_init__(self) -> None:
        if self.as_of is None:
            object.__setattr__(self, "as_of", dt.datetime.now(ZoneInfo(self.timezone)).date())

    @property
    def day(self) -> dt.date:
        """The seed's today (`as_of`, resolved)."""
        assert self.as_of is not None  # set by __post_init__
        return self.as_of


@dataclass(frozen=True)
class RunningSandboxes:
    """Both sandboxes, started and listening."""

    ais: AisSandbox
    ais_server: LoopbackServer
    stripe: StripeEmulator
    stripe_server: LoopbackServer
    accounts: tuple[DemoAccount, ...] = ()

    def environment(self) -> dict[str, str]:
        """The variables that point the pipeline at these sandboxes (no real secret among them)."""
        routing = ",".join(f"{account.company}={account.name}" for account in self.accounts)
        return {
            **ais_environment(self.ais_server.url, self.ais.config),
            **({"JDE_STRIPE_ACCOUNTS": routing} if routing else {}),
            "STRIPE_API_KEY": self.stripe.config.api_keys[0],
            **{f"STRIPE_API_KEY_{account.name.upper()}": account.key for account in self.accounts},
            "STRIPE_API_BASE": self.stripe_server.url,
        }

    def emulator_account(self, name: str) -> str:
        """The emulator's account id of a routing name (the default account's for `default`)."""
        found = next((a.emulator_account for a in self.accounts if a.name == name), None)
        return found or DEFAULT_ACCOUNT

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
            as_of=spec.day,
        )
        stack.callback(ais.close)
        accounts = DEMO_ACCOUNTS if spec.accounts else ()
        emulator = StripeEmulator(
            StripeEmulatorConfig(
                api_keys=(DEFAULT_API_KEY, *(account.key for account in accounts)),
                key_accounts={account.key: account.emulator_account for account in accounts},
                rate_limit_per_second=spec.stripe_rate_limit,
            )
        )
        stack.callback(emulator.close)
        ais_server = stack.enter_context(ais.serve(spec.host, spec.ais_port))
        stripe_server = stack.enter_context(emulator.serve(spec.stripe_port, spec.host))
        yield RunningSandboxes(ais, ais_server, emulator, stripe_server, accounts)
