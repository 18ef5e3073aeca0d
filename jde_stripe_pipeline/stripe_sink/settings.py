"""Settings of the Stripe side (parsed from `JDE_STRIPE_*` by the settings root), and where the key
comes from.

The key is never a settings field: it is read through a *key source* (a callable) so that a rotated key
is picked up on a 401 without a restart. The key is masked wherever it could be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from jde_stripe_pipeline.stripe_sink.errors import StripeAuthError

KeySource = Callable[[], str]
"""Returns the Stripe secret key to use now. Called once at start and once more after a 401."""

STRIPE_DEFAULT_API_BASE: Final = "https://api.stripe.com"
TEST_MODE_DEFAULT_RATE: Final = 20.0
"""Below Stripe's sandbox/test-mode limit of 25 requests/s, leaving room for other clients of the account."""
LIVE_MODE_DEFAULT_RATE: Final = 80.0
"""Below Stripe's live-mode limit of 100 requests/s, for the same reason."""


def mask_key(key: str | None) -> str:
    """`sk_test_51Habc…wxyz` → `sk_test_…wxyz`: enough to tell keys apart, never enough to use one."""
    if not key:
        return "<no key>"
    prefix = ""
    for candidate in ("sk_test_", "sk_live_", "rk_test_", "rk_live_"):
        if key.startswith(candidate):
            prefix = candidate
            break
    rest = key[len(prefix) :]
    if len(rest) < 12:
        return f"{prefix}…"
    return f"{prefix}…{rest[-4:]}"


def redact_key(text: str, key: str | None) -> str:
    """Replace every occurrence of the key in a text (an error message, a log line) by its mask."""
    if not key:
        return text
    return text.replace(key, mask_key(key))


def is_live_key(key: str) -> bool:
    return key.startswith(("sk_live_", "rk_live_"))


def default_rate_for_key(key: str) -> float:
    """Stripe allows 100 requests/s in live mode and 25 in test mode; stay below either."""
    return LIVE_MODE_DEFAULT_RATE if is_live_key(key) else TEST_MODE_DEFAULT_RATE


class StaticKeySource:
    """A fixed key (tests, a key handed over by a credential store); its repr shows the mask only."""

    def __init__(self, key: str):
        self._key = key

    def __call__(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"StaticKeySource({mask_key(self._key)})"


def no_key_source() -> str:
    """The default: a sink is given its key source (`runtime.stripe_sink` passes the credentials')."""
    raise StripeAuthError("No Stripe key source: open the sink through the credentials (runtime.stripe_sink)")


@dataclass(frozen=True)
class StripeSinkSettings:
    """How the client reaches Stripe and how hard it may push it.

    `rate_per_second=None` means: chosen by the key's mode (20/s for test keys, 80/s for `sk_live_`).
    `max_retries` counts retries after the first attempt of one logical request.
    """

    key_source: KeySource = no_key_source
    api_base: str = STRIPE_DEFAULT_API_BASE
    rate_per_second: float | None = None
    burst: int = 5
    workers: int = 4
    max_retries: int = 6
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    timeout_seconds: float = 30.0
    stripe_account: str | None = None
    """A Connect platform's key acting on this connected account (`Stripe-Account`); None: the key's own."""

    def __post_init__(self) -> None:
        if self.rate_per_second is not None and self.rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0, got {self.rate_per_second}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.backoff_base_seconds < 0 or self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError(
                "backoff needs 0 <= backoff_base_seconds <= backoff_max_seconds, got "
                f"{self.backoff_base_seconds} and {self.backoff_max_seconds}"
            )
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0, got {self.timeout_seconds}")
        if not self.api_base.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be an http(s) URL, got {self.api_base!r}")

    def effective_rate(self, key: str) -> float:
        return self.rate_per_second if self.rate_per_second is not None else default_rate_for_key(key)
