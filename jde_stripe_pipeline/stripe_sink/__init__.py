"""The Stripe side: one paced, idempotent client (`StripeSink`) and its error classes.

Settings (`StripeSinkSettings`, from the `JDE_STRIPE_*` variables through the settings root): the pace
(default 20/s for test keys, 80/s for live keys: below Stripe's 25 and 100), burst, worker threads,
retries with backoff and the per-request timeout. The key is read through a key source (the
credentials': environment, else the encrypted store) anew after a 401, so a rotated key is picked up.
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
    KeySource,
    StaticKeySource,
    StripeSinkSettings,
    mask_key,
)

__all__ = [
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
