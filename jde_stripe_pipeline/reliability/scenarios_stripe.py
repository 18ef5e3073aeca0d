"""Stripe faults, one kind at a time, through the emulator's knobs and hooks.

Pacing: the runs use the operator's fast loopback settings (`arena.FAST_PACING`) unless a scenario is
about the limiters, where the sink runs with its own defaults for a test key (20/s) or is pushed past
the emulator's `test` / `live` profile on purpose.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from jde_stripe_pipeline.reliability.arena import Arena
from jde_stripe_pipeline.reliability.matrix import Scenario
from jde_stripe_pipeline.reliability.servers import Answer, HttpRequest, HttpResponse


def stripe_write(pattern: str = r"/v1/.*") -> Callable[[HttpRequest, Answer], bool]:
    """A write to a path matching `pattern` that Stripe answered 200 (it took effect)."""
    compiled = re.compile(pattern)

    def match(request: HttpRequest, answer: Answer) -> bool:
        return (
            request.method in ("POST", "DELETE")
            and compiled.fullmatch(request.path) is not None
            and isinstance(answer, HttpResponse)
            and answer.status == 200
        )

    return match


def _one_run(arena: Arena, env: dict[str, str] | None = None, **stripe: object) -> None:
    arena.env_overrides.update(env or {})
    arena.servers.stripe_config(**stripe)
    arena.run()


def server_errors(arena: Arena) -> None:
    """500s saved under the idempotency key (Stripe-Should-Retry: false) and 503s before it."""
    _one_run(arena, fail_rate=0.1, unavailable_rate=0.1, fault_seed=21)


def commit_then_fail(arena: Arena) -> None:
    """A fifth of the writes take effect but their answer is lost (a 500 or a dropped connection)."""
    _one_run(arena, commit_then_fail_rate=0.2, fault_seed=22)


def storm_test_profile(arena: Arena) -> None:
    """Stripe test mode (25/s, 25/s per endpoint, 20 in flight), the sink pushed to 100/s, 8 workers."""
    env = {"JDE_STRIPE_RATE_PER_SECOND": "100", "JDE_STRIPE_BURST": "100", "JDE_STRIPE_WORKERS": "8"}
    _one_run(arena, env, profile="test")


def storm_live_profile(arena: Arena) -> None:
    """Live mode (100/s, but 25/s per endpoint): the endpoint limiter answers, the sink at 150/s on
    every endpoint (with the endpoints at the sink's default 24/s, a first load now paces each customer
    beside its invoices and meets no limiter at all: the scenario would test nothing)."""
    env = {
        "JDE_STRIPE_RATE_PER_SECOND": "150",
        "JDE_STRIPE_ENDPOINT_RATE_PER_SECOND": "150",
        "JDE_STRIPE_BURST": "150",
        "JDE_STRIPE_WORKERS": "8",
    }
    _one_run(arena, env, profile="live")


def storm_concurrency(arena: Arena) -> None:
    """Two requests in flight at most while writes take 150 ms: the concurrency limiter answers."""
    env = {"JDE_STRIPE_WORKERS": "8"}
    _one_run(arena, env, concurrency_limit=2, latency_write_ms=150, latency_p99_ratio=1)


def sink_defaults_test_profile(arena: Arena) -> None:
    """The sink's own defaults for a test key (20/s, 4 workers) against Stripe test mode."""
    arena.env_overrides.update(
        {
            "JDE_STRIPE_RATE_PER_SECOND": "",
            "JDE_STRIPE_BURST": "",
            "JDE_STRIPE_BACKOFF_BASE_SECONDS": "",
            "JDE_STRIPE_BACKOFF_MAX_SECONDS": "",
        }
    )
    _one_run(arena, profile="test")


def in_flight_conflicts(arena: Arena) -> None:
    """Creates take 1.2 s, the client gives up after 0.4 s and retries with the same key: 409s
    (`idempotency_key_in_use`) until the first attempt finishes, then Stripe's replay."""
    env = {"JDE_STRIPE_TIMEOUT_SECONDS": "0.4", "JDE_STRIPE_MAX_RETRIES": "12"}
    slow = {"POST /v1/invoices": 1200, "POST /v1/customers": 1200}
    _one_run(arena, env, latency_endpoints_ms=slow, latency_p99_ratio=1)


def latency(arena: Arena) -> None:
    """Stripe-like response times (log-normal, reads 100 ms, writes 300 ms median, long tail)."""
    _one_run(arena, latency="stripe", latency_seed=5)


def _roll_after(arena: Arena, writes: int, store_after_seconds: float, expires_in: float = 0.0) -> None:
    arena.store_stripe_key(arena.servers.emulator.api_key)
    seen = 0
    lock = threading.Lock()
    is_write = stripe_write()

    def hook(request: HttpRequest, answer: Answer) -> Answer:
        nonlocal seen
        with lock:
            if not is_write(request, answer):
                return answer
            seen += 1
            if seen != writes:
                return answer
        old = arena.servers.emulator.api_key
        new = arena.servers.emulator.roll_key(old, expires_in_seconds=expires_in)
        arena.faults["Stripe key rolled"] += 1
        if store_after_seconds <= 0:
            arena.store_stripe_key(new)
        else:
            timer = threading.Timer(store_after_seconds, arena.store_stripe_key, args=(new,))
            timer.start()
            arena.stoppers.append(timer.join)
        return answer

    arena.servers.stripe.add(hook)
    arena.run()


def key_rolled_with_grace(arena: Arena) -> None:
    """After the 15th write the key is rolled, the old one kept 2 s (Stripe's roll with an expiry), the
    new key stored 0.5 s later: the run must move to the new key when the old one dies."""
    _roll_after(arena, 15, 0.5, expires_in=2.0)


def key_revoked_then_stored(arena: Arena) -> None:
    """As above, but the new key reaches the store 5 s after the old one died (issue 13's grace)."""
    _roll_after(arena, 15, 5.0)


SCENARIOS = [
    Scenario("stripe_5xx", "10% of Stripe calls 500 (saved under the key), 10% 503", server_errors),
    Scenario(
        "stripe_commit_then_fail", "20% of Stripe calls commit, then the answer is lost", commit_then_fail
    ),
    Scenario(
        "stripe_429_test_profile",
        "test mode limits (25/s, 25/s per endpoint), sink at 100/s",
        storm_test_profile,
        scale=3,
    ),
    Scenario(
        "stripe_429_live_profile",
        "live mode limits (100/s, 25/s per endpoint), sink at 150/s",
        storm_live_profile,
        scale=3,
    ),
    Scenario(
        "stripe_429_concurrency",
        "2 requests in flight at most, 8 workers, 150 ms writes",
        storm_concurrency,
        scale=2,
    ),
    Scenario(
        "stripe_test_profile_sink_defaults",
        "test mode limits, the sink's own defaults",
        sink_defaults_test_profile,
        scale=2,
        injects=False,
    ),
    Scenario(
        "stripe_409_in_flight",
        "creates take 1.2 s, client timeout 0.4 s: retries meet 409",
        in_flight_conflicts,
    ),
    Scenario("stripe_latency", "Stripe-like latency (100/300 ms medians, long tail)", latency),
    Scenario(
        "stripe_key_rolled_with_grace",
        "key rolled after 15 writes, old key valid 2 s more, new key stored after 0.5 s",
        key_rolled_with_grace,
    ),
    Scenario(
        "stripe_key_revoked_then_stored",
        "key revoked after 15 writes, the new key stored 5 s later",
        key_revoked_then_stored,
    ),
]
