"""Settings of the Stripe side (parsed from `JDE_STRIPE_*` by the settings root).

Pacing is on by default with Stripe's documented numbers for the key's mode, less a margin
(`limits.py`): test/sandbox keys 24/s global, live keys 96/s, each endpoint 24/s, search 19.2/s, at most
20 requests on the wire. Every number can be overridden. The key is not a setting: it comes from a key
source (`keys.py`), read again after a 401.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from jde_stripe_pipeline.stripe_sink.keys import KeySource, key_mode, no_key_source
from jde_stripe_pipeline.stripe_sink.limits import DEFAULT_MAX_IN_FLIGHT, Paces
from jde_stripe_pipeline.stripe_sink.shared import default_budget_dir
from jde_stripe_pipeline.urls import http_base_url

STRIPE_DEFAULT_API_BASE: Final = "https://api.stripe.com"
DEFAULT_BURST: Final = 5
"""Slots a lane may take at once after falling behind its pace (GCRA tolerance, `pacing.book`). Stripe's
limiters are token buckets (Stripe's engineering blog, "Scaling your API with rate limiters"), and the
admission (`pacing.admit`) already keeps every lane inside one that holds under a second's worth, so a
few slots at once cost Stripe nothing. Evenly spaced (1), a lane lost each slot no thread was ready
for: at 300 ms an initial load kept 19.4 of the 20 places busy, with 5 it keeps 19.8 (3: 19.7; 8: 19.8)."""
WORKERS_PER_PLACE: Final = 1.5
"""Engine threads per place in flight: a thread also waits for its paced slot and works outside Stripe
(decisions, ledger writes) between requests, so one thread per place would leave places empty."""
BUDGET_DIR_OFF: Final = ""
"""`budget_dir` for a budget kept in this process only (`JDE_STRIPE_BUDGET_DIR=off`)."""


@dataclass(frozen=True)
class StripeSinkSettings:
    """How the client reaches Stripe and how hard it may push it.

    Rates left None are chosen by the key's mode (`limits.Paces.for_mode`). `burst`: how many slots
    a lane that fell behind may take at once (`DEFAULT_BURST`; 1: evenly spaced, every missed slot lost).
    `workers=0` means: 1.5 engine threads per place in flight (`max_in_flight`), resolved here.
    `max_retries` counts retries of 409/5xx/connection errors after the first attempt; 429s do not spend
    them for `rate_limited_patience_seconds`. `budget_name`: sinks (and processes) naming the same account
    share one budget; default: the API base and the key. `budget_dir`: where the processes of this host
    share it; `""`: this process only.
    """

    key_source: KeySource = no_key_source
    api_base: str = STRIPE_DEFAULT_API_BASE
    rate_per_second: float | None = None
    endpoint_rate_per_second: float | None = None
    search_rate_per_second: float | None = None
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    burst: int = DEFAULT_BURST
    workers: int = 0
    max_retries: int = 6
    rate_limited_patience_seconds: float = 600.0
    """How long one request keeps retrying 429s without spending `max_retries` (0: 429s spend them too,
    for a caller that wants a quick answer, like the connection check)."""
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    timeout_seconds: float = 30.0
    key_grace_seconds: float = 60.0
    """After a 401, keep re-reading the key source this long for a rotated key before failing (issue 13)."""
    key_grace_poll_seconds: float = 1.0
    budget_name: str | None = None
    budget_dir: str = field(default_factory=lambda: str(default_budget_dir()))
    stripe_account: str | None = None
    """A Connect platform's key acting on this connected account (`Stripe-Account`); None: the key's own."""

    def __post_init__(self) -> None:
        for name in ("rate_per_second", "endpoint_rate_per_second", "search_rate_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {self.max_in_flight}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 1 (or 0: sized from max_in_flight), got {self.workers}")
        if self.workers == 0:
            object.__setattr__(self, "workers", math.ceil(self.max_in_flight * WORKERS_PER_PLACE))
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.rate_limited_patience_seconds < 0:
            raise ValueError(
                f"rate_limited_patience_seconds must be >= 0, got {self.rate_limited_patience_seconds}"
            )
        if self.backoff_base_seconds < 0 or self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError(
                "backoff needs 0 <= backoff_base_seconds <= backoff_max_seconds, got "
                f"{self.backoff_base_seconds} and {self.backoff_max_seconds}"
            )
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {self.timeout_seconds}")
        if self.key_grace_seconds < 0 or self.key_grace_poll_seconds <= 0:
            raise ValueError(
                "need key_grace_seconds >= 0 and key_grace_poll_seconds > 0, got "
                f"{self.key_grace_seconds} and {self.key_grace_poll_seconds}"
            )
        try:
            http_base_url(self.api_base)
        except ValueError as error:
            raise ValueError(f"api_base {error}, got {self.api_base!r}") from None

    def paces(self, key: str) -> Paces:
        """The paces for this key: Stripe's documented numbers for its mode unless set here."""
        return Paces.for_mode(
            key_mode(key),
            global_rate=self.rate_per_second,
            endpoint_rate=self.endpoint_rate_per_second,
            search_rate=self.search_rate_per_second,
            max_in_flight=self.max_in_flight,
        )

    def effective_rate(self, key: str) -> float:
        """The global pace for this key."""
        return self.paces(key).global_rate


def parse_budget_dir(text: str) -> str:
    """`JDE_STRIPE_BUDGET_DIR`'s value: a directory, or `off` for a budget kept in this process only."""
    return BUDGET_DIR_OFF if text.strip().lower() == "off" else text.strip()
