"""What the sink's tests and the sync's test world share: a sink paced for a loopback emulator, and a key
source a test can rotate."""

from __future__ import annotations

from typing import Any

from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY
from jde_stripe_pipeline.stripe_sink import KeySource, StaticKeySource, StripeSink, StripeSinkSettings

LOOPBACK_PACING: dict[str, Any] = {
    "rate_per_second": 1000.0,
    "endpoint_rate_per_second": 1000.0,
    "burst": 50,
    "max_retries": 8,
    "backoff_base_seconds": 0.01,
    "backoff_max_seconds": 0.1,
    "timeout_seconds": 10.0,
}
"""Stripe's own paces would only slow a loopback test down; the pacing itself is tested on its own."""


def loopback_sink(api_base: str, key_source: KeySource | None = None, **overrides: Any) -> StripeSink:
    """A sink on the emulator at `api_base`, with its default key unless `key_source` is given."""
    settings: dict[str, Any] = {
        "key_source": key_source or StaticKeySource(DEFAULT_API_KEY),
        "api_base": api_base,
        **LOOPBACK_PACING,
        **overrides,
    }
    return StripeSink(StripeSinkSettings(**settings))


class MutableKey:
    """A key source whose answer the test changes, as a credential store would after a rotation."""

    def __init__(self, key: str):
        self.key = key
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.key

    def __repr__(self) -> str:
        return "MutableKey()"
