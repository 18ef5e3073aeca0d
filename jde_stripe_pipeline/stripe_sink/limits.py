"""Stripe's documented limits, and the paces this client keeps below them (pure, no I/O).

Stripe (docs.stripe.com/rate-limits; `shared/reference/stripe.md`) limits each account by several
limiters at once: a global rate (live mode 100 requests/s, sandbox/test mode 25/s), a default rate per
endpoint of 25/s (an endpoint is a method + path template: `POST /v1/invoices` and
`POST /v1/invoices/{id}/add_lines` are two; requests for different ids count together), 20/s for search,
and a concurrency limiter whose number Stripe does not publish. Stricter limits also count against the
global one, so a request is paced by the global lane AND its endpoint's (or search's) lane.

Why a margin below each rate (`PACE_SHARE`, 96%, one request a second below 25/s):
- The account's other clients (the Dashboard, webhook handlers, other integrations) spend the same limits.
- A refused request still costs: a 429 from an endpoint's limiter has spent a global token too.
- Requests that leave this client evenly spaced reach Stripe unevenly (network and scheduler jitter, a
  thread that wakes late); that is the admission's to absorb (`pacing.admit`: a bucket at the limit that
  keeps 10% of a second's tokens for late arrivals), not the pace's.
The margin costs 4% of the peak (issue 10 asks for 90% of the binding limit); a 429 costs a retry and a
halved pace for a while (`pacing.py`). It was 92% while the admission also capped every 1.1 s at the
limit, which held the sustained rate to 91% of it whatever the pace: measured, 88% of the binding limit.

The in-flight cap (`DEFAULT_MAX_IN_FLIGHT`, 20): Stripe publishes no number for its concurrency limiter;
the emulator assumes 20. The client counts a request only while it is on the wire (`transport.WireClient`:
from the moment the built request leaves until the answer's bytes are in), so it never has more at Stripe
than it counts, and Stripe, which counts from its own receipt to its own answer, sees a little fewer:
measured with 20 places at 300 ms, the emulator saw 19.2 in the middle of a first load. With 19 places
(one left for the account's other clients) it saw ~18.3: 91% of the limit, no room left for ramp-up and
tail under issue 10's 90% target. Other clients still find room most of the time; a `global-concurrency`
429 (theirs is retried by them, ours halves this client's cap for a while) is the cost. A site whose
Dashboard users or other integrations need a guaranteed place sets `JDE_STRIPE_MAX_IN_FLIGHT` lower; one
whose account allows more raises it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from jde_stripe_pipeline.stripe_sink.keys import KeyMode

STRIPE_GLOBAL_LIMIT: Final[dict[KeyMode, float]] = {"live": 100.0, "test": 25.0}
STRIPE_ENDPOINT_LIMIT: Final = 25.0
STRIPE_SEARCH_LIMIT: Final = 20.0
PACE_SHARE: Final = 0.96
"""The share of each documented rate this client paces at (see the module docstring for why)."""
DEFAULT_MAX_IN_FLIGHT: Final = 20

GLOBAL_LANE: Final = "global"
SEARCH_LANE: Final = "search"
CONCURRENCY: Final = "concurrency"
"""Lane names: the global lane, search's, `endpoint <METHOD> <template>` for the others; and the name of
the in-flight limiter (not a lane: it caps requests at once, not per second)."""


def default_pace(limit: float) -> float:
    """96% of a documented limit, rounded down to a tenth: 25 → 24.0, 100 → 96.0, 20 → 19.2."""
    return math.floor(limit * PACE_SHARE * 10) / 10


@dataclass(frozen=True)
class Paces:
    """Requests per second for the global, each endpoint's and search's lane, and the in-flight cap."""

    global_rate: float
    endpoint_rate: float
    search_rate: float
    max_in_flight: int

    @classmethod
    def for_mode(
        cls,
        mode: KeyMode,
        *,
        global_rate: float | None = None,
        endpoint_rate: float | None = None,
        search_rate: float | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> Paces:
        """Stripe's documented numbers for the key's mode, less the margin; a number given wins."""
        return cls(
            global_rate=global_rate or default_pace(STRIPE_GLOBAL_LIMIT[mode]),
            endpoint_rate=endpoint_rate or default_pace(STRIPE_ENDPOINT_LIMIT),
            search_rate=search_rate or default_pace(STRIPE_SEARCH_LIMIT),
            max_in_flight=max_in_flight,
        )

    def lanes(self, endpoint: str) -> tuple[tuple[str, float], ...]:
        """The lanes (name, pace) a request to `endpoint` (`POST /v1/invoices`) is paced by."""
        if is_search(endpoint):
            return (GLOBAL_LANE, self.global_rate), (SEARCH_LANE, self.search_rate)
        return (GLOBAL_LANE, self.global_rate), (f"endpoint {endpoint}", self.endpoint_rate)


def endpoint_name(method: str, path: str) -> str:
    """`POST /v1/invoices/in_123/add_lines` → `POST /v1/invoices/{id}/add_lines`: Stripe's endpoint unit.
    A path already written as a template (`{id}`) is kept as it is."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    named = [p if i < 2 or i % 2 == 1 or p == "search" else "{id}" for i, p in enumerate(parts)]
    return f"{method.upper()} /" + "/".join(named)


def is_search(endpoint: str) -> bool:
    return endpoint.endswith("/search")


def lane_of_reason(endpoint: str, reason: str | None) -> tuple[str, ...]:
    """The limiter(s) a 429 names in `Stripe-Rate-Limited-Reason` (`global-rate`, `endpoint-rate`,
    `global-concurrency`). That header is not in the shared reference, so without it (or with a value
    not known here) both the global lane and the request's own lane are held responsible."""
    own = SEARCH_LANE if is_search(endpoint) else f"endpoint {endpoint}"
    value = (reason or "").strip().lower()
    if "concurrency" in value:
        return (CONCURRENCY,)
    if value.startswith("global"):
        return (GLOBAL_LANE,)
    if value.startswith("endpoint"):
        return (own,)
    return (GLOBAL_LANE, own)
