"""Emulated response time: a seeded log-normal per endpoint (a median and a long tail), plus a fixed delay.

Stripe publishes no latency figures; the reference says writes commonly take a few hundred milliseconds
with a long tail. The `stripe` preset (reads 100 ms, writes 300 ms median, p99 = 4 × median) is our
estimate, not Stripe's word. Deterministic: each endpoint draws from its own stream seeded by
(seed, endpoint), so the n-th request to an endpoint gets the same delay in every run with that seed,
whatever the other endpoints do. Samples are capped at p99 × ratio (about 4.65 σ) so one draw cannot
stall a test.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

Z99 = 2.3263478740408408
"""The standard normal's 99th percentile: p99 = median × exp(σ × Z99)."""

WRITE_METHODS = frozenset({"POST", "DELETE"})


@dataclass(frozen=True)
class LatencyPreset:
    read_ms: float
    write_ms: float
    p99_ratio: float


LATENCY_PRESETS: dict[str, LatencyPreset] = {
    "off": LatencyPreset(read_ms=0.0, write_ms=0.0, p99_ratio=4.0),
    "stripe": LatencyPreset(read_ms=100.0, write_ms=300.0, p99_ratio=4.0),
}


@dataclass(frozen=True)
class LatencySettings:
    """Medians in milliseconds (0: no sampled delay), the p99/median ratio (1: constant), the seed,
    per-endpoint medians (`"POST /v1/invoices"` → ms) and a fixed delay added to every request."""

    read_ms: float = 0.0
    write_ms: float = 0.0
    p99_ratio: float = 4.0
    seed: int = 0
    endpoints: Mapping[str, float] = field(default_factory=dict)
    fixed_ms: float = 0.0

    def median_ms(self, endpoint: str) -> float:
        if endpoint in self.endpoints:
            return float(self.endpoints[endpoint])
        method = endpoint.split(" ", 1)[0]
        return self.write_ms if method in WRITE_METHODS else self.read_ms


class LatencyModel:
    def __init__(self, settings: LatencySettings) -> None:
        self.settings = settings
        self._streams: dict[str, random.Random] = {}
        self._sigma = math.log(max(settings.p99_ratio, 1.0)) / Z99

    def sample_ms(self, endpoint: str | None) -> float:
        """The delay of the next request to `endpoint` (None: an unknown URL gets the fixed delay only)."""
        fixed = self.settings.fixed_ms
        if endpoint is None:
            return fixed
        median = self.settings.median_ms(endpoint)
        if median <= 0:
            return fixed
        stream = self._streams.get(endpoint)
        if stream is None:
            stream = self._streams[endpoint] = random.Random(f"{self.settings.seed}/{endpoint}")
        draw = median * math.exp(self._sigma * stream.gauss(0.0, 1.0))
        cap = median * max(self.settings.p99_ratio, 1.0) ** 2
        return fixed + min(draw, cap)
