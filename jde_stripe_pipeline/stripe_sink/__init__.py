"""The Stripe side: one paced, idempotent client (`StripeSink`) and its error classes.

Environment (`StripeSinkSettings.from_env()`):
- `STRIPE_API_KEY`: the secret key, read anew on every call of the default key source (so a rotated key is
  picked up after a 401); another key source (a credential store) can be passed instead.
- `STRIPE_API_BASE`: default `https://api.stripe.com`; the emulator's URL in tests and the demo.
- `JDE_STRIPE_RATE_PER_SECOND`: client-side pace shared by all threads; default 20/s for test keys
  (Stripe allows 25) and 80/s for `sk_live_`/`rk_live_` keys (Stripe allows 100).
- `JDE_STRIPE_BURST` (5), `JDE_STRIPE_WORKERS` (4, for the engine's thread pool),
  `JDE_STRIPE_MAX_RETRIES` (6 retries after the first attempt), `JDE_STRIPE_BACKOFF_BASE_SECONDS` (0.5),
  `JDE_STRIPE_BACKOFF_MAX_SECONDS` (8), `JDE_STRIPE_TIMEOUT_SECONDS` (30, per HTTP request).
"""

from jde_stripe_pipeline.stripe_sink.client import StripeResult, StripeSink
from jde_stripe_pipeline.stripe_sink.errors import (
    StripeAuthError,
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSinkError,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.metrics import MetricsSnapshot
from jde_stripe_pipeline.stripe_sink.pacing import TokenBucket
from jde_stripe_pipeline.stripe_sink.settings import (
    EnvKeySource,
    KeySource,
    StaticKeySource,
    StripeSinkSettings,
    mask_key,
)

__all__ = [
    "EnvKeySource",
    "KeySource",
    "MetricsSnapshot",
    "StaticKeySource",
    "StripeAuthError",
    "StripeIdempotencyConflict",
    "StripeRequestRejected",
    "StripeResult",
    "StripeSink",
    "StripeSinkError",
    "StripeSinkSettings",
    "StripeUnavailable",
    "TokenBucket",
    "mask_key",
]
