"""The time Stripe's documented limiters allow for a set of requests, and how full a run kept them. Pure.

For requests counted per endpoint (`"POST /v1/invoices"`, …) under a profile's limits, each limiter
alone needs:
- global: all requests / the global rate (25/s test, 100/s live);
- each endpoint: its requests / the endpoint rate (25/s), search endpoints / the search rate (20/s);
- in flight: the sum of the requests' latencies / the concurrency cap (20; the emulator's, Stripe
  publishes none) — Little's law: at most `cap` requests can be waiting at any moment.
The limiters run together, so the time they allow is at least the largest of these (the *binding*
limit). The lower bound of a scenario is that time for its minimum requests, with each latency at the
mean of the emulator's log-normal (median × e^(σ²/2)), plus one write's median for the last answer to
come back. A run's *share of the binding limit* is the same time for the requests it actually sent
(their actual latencies) over the time its write phase took: 100% means a limit was full throughout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z99 = 2.3263478740408408
WRITE_METHODS = ("POST", "DELETE")


@dataclass(frozen=True)
class Profile:
    """A limits profile (requests/s; 0 = off) and the latency model: write median, read median, p99/median."""

    name: str
    global_rate: float
    endpoint_rate: float
    search_rate: float
    concurrency: int
    write_ms: float = 0.0
    read_ms: float = 0.0
    p99_ratio: float = 4.0

    def median_ms(self, endpoint: str) -> float:
        return self.write_ms if endpoint.split(" ", 1)[0] in WRITE_METHODS else self.read_ms

    def mean_seconds(self, endpoint: str) -> float:
        sigma = math.log(max(self.p99_ratio, 1.0)) / Z99
        return self.median_ms(endpoint) * math.exp(sigma * sigma / 2) / 1000.0


def is_search(endpoint: str) -> bool:
    return endpoint.split("?", 1)[0].endswith("/search")


def limiter_seconds(counts: Mapping[str, int], profile: Profile, latency_seconds: float) -> dict[str, float]:
    """Each limiter's own time for these requests (see the module docstring); off limiters left out."""
    terms: dict[str, float] = {}
    total = sum(counts.values())
    if profile.global_rate > 0:
        terms["global"] = total / profile.global_rate
    for endpoint, count in counts.items():
        rate = profile.search_rate if is_search(endpoint) else profile.endpoint_rate
        if rate > 0 and count:
            terms[endpoint] = count / rate
    if profile.concurrency > 0:
        terms["in flight"] = latency_seconds / profile.concurrency
    return terms


def binding(terms: Mapping[str, float]) -> tuple[str, float]:
    """The limiter that needs the longest, and its time ('-', 0 when none applies)."""
    if not terms:
        return "-", 0.0
    name = max(terms, key=lambda key: terms[key])
    return name, terms[name]


def lower_bound(minimum: Mapping[str, int], profile: Profile) -> tuple[float, str]:
    """(seconds, binding limiter) for the minimum requests, mean latencies, plus the last answer."""
    latency = sum(count * profile.mean_seconds(endpoint) for endpoint, count in minimum.items())
    name, seconds = binding(limiter_seconds(minimum, profile, latency))
    if not minimum:
        return 0.0, "-"
    return seconds + profile.write_ms / 1000.0, name


def share_of_binding(
    counts: Mapping[str, int], profile: Profile, latency_seconds: float, elapsed: float
) -> tuple[float, str]:
    """(share, limiter): the limiters' time for these requests over the `elapsed` seconds they took."""
    name, seconds = binding(limiter_seconds(counts, profile, latency_seconds))
    return (seconds / elapsed if elapsed > 0 else 0.0), name
