"""The Stripe side: one paced, idempotent client (`StripeSink`) and its error classes.

Modules: `client` (the endpoints), `transport` (one logical request: permits, retries, key refresh),
`budget` (an account's lanes and requests in flight, Little's law), `pacing` (the pure arithmetic:
GCRA lanes, admission, AIMD), `limits` (Stripe's documented numbers and the margin kept below them),
`shared` (the budget shared in-process or by the processes of a host), `keyring` and `keys` (the key,
its rotation grace, masking), `retry` (what to retry), `settings`, `metrics`, `errors`.

Settings (`StripeSinkSettings`, from the `JDE_STRIPE_*` variables through the settings root):
- `JDE_STRIPE_RATE_PER_SECOND` (global; default 24/s for test keys, 96/s for live keys),
  `JDE_STRIPE_ENDPOINT_RATE_PER_SECOND` (each endpoint, 24), `JDE_STRIPE_SEARCH_RATE_PER_SECOND` (19.2),
  `JDE_STRIPE_MAX_IN_FLIGHT` (20): Stripe's 100/25, 25, 20 less a margin (the in-flight cap at the 20
  the emulator assumes: Stripe publishes none); `JDE_STRIPE_BURST` (5): slots a lane that fell behind
  may take at once, inside the admission's token bucket.
- `JDE_STRIPE_WORKERS` (default: 1.5 engine threads per place in flight),
  `JDE_STRIPE_MAX_RETRIES` (6 retries of 409/5xx/connection errors; 429s are retried apart),
  `JDE_STRIPE_BACKOFF_BASE_SECONDS` (0.5), `JDE_STRIPE_BACKOFF_MAX_SECONDS` (8),
  `JDE_STRIPE_TIMEOUT_SECONDS` (30, per HTTP request).
- `JDE_STRIPE_KEY_GRACE_SECONDS` (60), `JDE_STRIPE_KEY_GRACE_POLL_SECONDS` (1): after a 401, how long and
  how often the key source is re-read for a rotated key.
- `JDE_STRIPE_BUDGET_NAME` (sinks naming one account share its budget; default: API base + key),
  `JDE_STRIPE_BUDGET_DIR` (where the processes of a host share it; `off`: this process only).
The key is read through a key source (the credentials': environment, else the encrypted store), again
after a 401, so a rotated key is picked up.
"""

from jde_stripe_pipeline.stripe_sink.client import StripeSink
from jde_stripe_pipeline.stripe_sink.errors import (
    StripeAuthError,
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSinkError,
    StripeUnavailable,
)
from jde_stripe_pipeline.stripe_sink.keys import KeySource, StaticKeySource, mask_key
from jde_stripe_pipeline.stripe_sink.limits import Paces
from jde_stripe_pipeline.stripe_sink.metrics import MetricsSnapshot
from jde_stripe_pipeline.stripe_sink.settings import StripeSinkSettings
from jde_stripe_pipeline.stripe_sink.transport import StripeResult

__all__ = [
    "KeySource",
    "MetricsSnapshot",
    "Paces",
    "StaticKeySource",
    "StripeAuthError",
    "StripeIdempotencyConflict",
    "StripeRequestRejected",
    "StripeResult",
    "StripeSink",
    "StripeSinkError",
    "StripeSinkSettings",
    "StripeUnavailable",
    "mask_key",
]
