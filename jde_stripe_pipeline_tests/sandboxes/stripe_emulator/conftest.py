"""Fixtures: a fresh emulator served on loopback, and the official SDK pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)


def make_client(
    server: LoopbackServer, api_key: str = DEFAULT_API_KEY, retries: int = 0
) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": server.url}, max_network_retries=retries)


@pytest.fixture
def emulator() -> Iterator[StripeEmulator]:
    # Rate limit off and no search lag by default; the tests of those features switch them on.
    emu = StripeEmulator(
        config=StripeEmulatorConfig(
            rate_limit_per_second=0, search_rate_limit_per_second=0, search_lag_seconds=0
        )
    )
    yield emu
    emu.close()


@pytest.fixture
def server(emulator: StripeEmulator) -> Iterator[LoopbackServer]:
    with emulator.serve(port=0) as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> stripe.StripeClient:
    return make_client(server)
