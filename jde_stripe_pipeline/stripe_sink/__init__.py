"""The Stripe side: one paced, idempotent client and its error classes."""

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
