"""Settings of the Stripe side, parsed once (`StripeSinkSettings.from_env`).

Pacing is on by default with Stripe's documented numbers for the key's mode, less a margin
(`limits.py`): test/sandbox keys 23/s global, live keys 92/s, each endpoint 23/s, search 18.4/s, at most
18 requests in flight. Every number can be overridden.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, overload

from jde_stripe_pipeline.stripe_sink.keys import ENV_API_KEY, EnvKeySource, KeySource, key_mode
from jde_stripe_pipeline.stripe_sink.limits import DEFAULT_MAX_IN_FLIGHT, Paces
from jde_stripe_pipeline.stripe_sink.shared import default_budget_dir

STRIPE_DEFAULT_API_BASE: Final = "https://api.stripe.com"

WORKERS_PER_PLACE: Final = 1.5
"""Engine threads per place in flight: a thread also waits for its paced slot and works outside Stripe
(decisions, ledger writes) between requests, so one thread per place would leave places empty."""

ENV_API_BASE: Final = "STRIPE_API_BASE"
ENV_RATE: Final = "JDE_STRIPE_RATE_PER_SECOND"
ENV_ENDPOINT_RATE: Final = "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND"
ENV_SEARCH_RATE: Final = "JDE_STRIPE_SEARCH_RATE_PER_SECOND"
ENV_MAX_IN_FLIGHT: Final = "JDE_STRIPE_MAX_IN_FLIGHT"
ENV_BURST: Final = "JDE_STRIPE_BURST"
ENV_WORKERS: Final = "JDE_STRIPE_WORKERS"
ENV_MAX_RETRIES: Final = "JDE_STRIPE_MAX_RETRIES"
ENV_BACKOFF_BASE: Final = "JDE_STRIPE_BACKOFF_BASE_SECONDS"
ENV_BACKOFF_MAX: Final = "JDE_STRIPE_BACKOFF_MAX_SECONDS"
ENV_TIMEOUT: Final = "JDE_STRIPE_TIMEOUT_SECONDS"
ENV_KEY_GRACE: Final = "JDE_STRIPE_KEY_GRACE_SECONDS"
ENV_KEY_GRACE_POLL: Final = "JDE_STRIPE_KEY_GRACE_POLL_SECONDS"
ENV_BUDGET_NAME: Final = "JDE_STRIPE_BUDGET_NAME"
ENV_BUDGET_DIR: Final = "JDE_STRIPE_BUDGET_DIR"
BUDGET_DIR_OFF: Final = "off"


@dataclass(frozen=True)
class StripeSinkSettings:
    """How the client reaches Stripe and how hard it may push it.

    Rates left None are chosen by the key's mode (`limits.Paces.for_mode`). `burst` lets that many
    requests go at once after a quiet spell (1: evenly spaced; more can overfill one of Stripe's seconds).
    `workers=0` means: 1.5 engine threads per place in flight (`max_in_flight`), resolved here.
    `max_retries` counts retries of 409/5xx/connection errors after the first attempt; 429s do not spend
    them. `budget_name`: sinks (and processes) naming the same account share one budget; default: the API
    base and the key. `budget_dir`: where processes on this host share it; None: this process only.
    """

    key_source: KeySource = field(default_factory=EnvKeySource)
    api_base: str = STRIPE_DEFAULT_API_BASE
    rate_per_second: float | None = None
    endpoint_rate_per_second: float | None = None
    search_rate_per_second: float | None = None
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    burst: int = 1
    workers: int = 0
    max_retries: int = 6
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    timeout_seconds: float = 30.0
    key_grace_seconds: float = 60.0
    """After a 401, keep re-reading the key source this long for a rotated key before failing (issue 13)."""
    key_grace_poll_seconds: float = 1.0
    budget_name: str | None = None
    budget_dir: Path | None = field(default_factory=default_budget_dir)

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
            raise ValueError(f"workers must be >= 1 (or 0: one per place in flight), got {self.workers}")
        if self.workers == 0:
            object.__setattr__(self, "workers", math.ceil(self.max_in_flight * WORKERS_PER_PLACE))
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
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
        if not self.api_base.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be an http(s) URL, got {self.api_base!r}")

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

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, key_source: KeySource | None = None
    ) -> StripeSinkSettings:
        """Settings from `STRIPE_*` / `JDE_STRIPE_*` variables; unset ones keep their defaults.

        A bad value raises ValueError naming its variable. `key_source` defaults to reading
        `STRIPE_API_KEY` from the environment anew on every call.
        """
        env = os.environ if environ is None else environ
        return cls(
            key_source=key_source or EnvKeySource(ENV_API_KEY, environ),
            api_base=(env.get(ENV_API_BASE) or "").strip().rstrip("/") or STRIPE_DEFAULT_API_BASE,
            rate_per_second=_parse_float(env, ENV_RATE, None),
            endpoint_rate_per_second=_parse_float(env, ENV_ENDPOINT_RATE, None),
            search_rate_per_second=_parse_float(env, ENV_SEARCH_RATE, None),
            max_in_flight=_parse_int(env, ENV_MAX_IN_FLIGHT, cls.max_in_flight),
            burst=_parse_int(env, ENV_BURST, cls.burst),
            workers=_parse_int(env, ENV_WORKERS, cls.workers),
            max_retries=_parse_int(env, ENV_MAX_RETRIES, cls.max_retries),
            backoff_base_seconds=_parse_float(env, ENV_BACKOFF_BASE, cls.backoff_base_seconds),
            backoff_max_seconds=_parse_float(env, ENV_BACKOFF_MAX, cls.backoff_max_seconds),
            timeout_seconds=_parse_float(env, ENV_TIMEOUT, cls.timeout_seconds),
            key_grace_seconds=_parse_float(env, ENV_KEY_GRACE, cls.key_grace_seconds),
            key_grace_poll_seconds=_parse_float(env, ENV_KEY_GRACE_POLL, cls.key_grace_poll_seconds),
            budget_name=(env.get(ENV_BUDGET_NAME) or "").strip() or None,
            budget_dir=_parse_budget_dir(env),
        )


def _parse_budget_dir(env: Mapping[str, str]) -> Path | None:
    raw = (env.get(ENV_BUDGET_DIR) or "").strip()
    if not raw:
        return default_budget_dir()
    if raw.lower() == BUDGET_DIR_OFF:
        return None
    return Path(raw).expanduser()


@overload
def _parse_float(env: Mapping[str, str], name: str, default: float) -> float: ...
@overload
def _parse_float(env: Mapping[str, str], name: str, default: None) -> float | None: ...
def _parse_float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


def _parse_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
