"""Pacing ON by default against the emulator's `test` and `live` profiles at Stripe-like latency: many
concurrent creates on two endpoints, nothing fails, and the emulator's limiters (token buckets, as Stripe's)
refuse (almost) nothing. Counts just large enough that a client pacing too fast is refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    PROFILES,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeSink, StripeSinkSettings

LIVE_KEY = "sk_live_emulator_0000000000000000wxyz"


@pytest.fixture
def emulator() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(
        StripeEmulatorConfig(api_keys=(DEFAULT_API_KEY, LIVE_KEY), search_lag_seconds=0)
    )
    try:
        yield emulator
    finally:
        emulator.close()


def _settings(url: str, key: str, **overrides: Any) -> StripeSinkSettings:
    """Stripe's defaults for the key's mode; fast retries so a test never sits in a long backoff."""
    return StripeSinkSettings(
        key_source=StaticKeySource(key),
        api_base=url,
        backoff_base_seconds=0.05,
        backoff_max_seconds=0.5,
        **overrides,
    )


def _create_on_two_endpoints(sinks: list[StripeSink], per_endpoint: int) -> list[BaseException]:
    """`per_endpoint` customers and as many invoices, from the sinks' worker threads all at once."""
    customer = sinks[0].create_customer({"name": "Payer"}, idempotency_key="payer").object["id"]
    jobs = []
    for n in range(per_endpoint):
        sink = sinks[n % len(sinks)]
        jobs.append((sink.create_customer, {"name": f"C{n}"}, f"customer-{n}"))
        invoice = {"customer": customer, "currency": "usd", "auto_advance": False}
        jobs.append((sink.create_invoice, invoice, f"invoice-{n}"))
    errors: list[BaseException] = []

    def run(job: tuple[Any, dict[str, Any], str]) -> None:
        create, params, key = job
        try:
            create(params, idempotency_key=key)
        except BaseException as error:
            errors.append(error)

    with ThreadPoolExecutor(max_workers=sum(s.settings.workers for s in sinks)) as pool:
        list(pool.map(run, jobs))
    return errors


def _assert_within_every_limiter(emulator: StripeEmulator, profile: str) -> None:
    """Judged by the emulator's limiters, token buckets holding a second's worth as Stripe's are: at most
    1% of requests refused by any of them, and never more in flight than the concurrency cap.

    Not judged: arrivals counted in a sliding one-second window. The client spaces its *sends* (no
    second of sends over the pace: `test_pacing.py`), but how they *arrive* depends on the machine's
    load: on a busy CI host 32 requests once reached the emulator within one second from sends spaced
    at 24/s, and its bucket (like Stripe's) took them all. `make bench` reports that window as a figure.
    """
    limits = PROFILES[profile]
    log = emulator.requests_log(path_prefix="/v1/")
    statuses = Counter(e["status"] for e in log)
    assert statuses[429] <= len(log) // 100, (statuses, emulator.stats()["limited"])
    assert sum(emulator.stats()["limited"].values()) <= len(log) // 100, emulator.stats()["limited"]
    assert max(emulator.stats()["peak_in_flight"].values()) <= limits.concurrency


@pytest.mark.parametrize(
    ("profile", "key", "per_endpoint"), [("test", DEFAULT_API_KEY, 60), ("live", LIVE_KEY, 60)]
)
def test_default_pacing_fills_two_endpoints_without_tripping_a_limiter(
    emulator: StripeEmulator, profile: str, key: str, per_endpoint: int
) -> None:
    emulator.update_config(profile=profile, latency="stripe", latency_seed=3)
    with emulator.serve(port=0) as server, StripeSink(_settings(server.url, key)) as sink:
        errors = _create_on_two_endpoints([sink], per_endpoint)
        metrics = sink.metrics()
    assert errors == []
    assert len(emulator.objects("customer")) == per_endpoint + 1
    assert len(emulator.objects("invoice")) == per_endpoint
    _assert_within_every_limiter(emulator, profile)
    assert metrics.latency_seconds is not None and metrics.latency_seconds > 0.1  # Stripe-like latency seen
    assert metrics.peak_in_flight > 4  # more than the old fixed pool of 4 threads kept in flight


def test_two_sinks_of_one_account_share_its_budget(emulator: StripeEmulator) -> None:
    """Two sinks (two runs in one process) on the same key: together still within the `test` limits."""
    emulator.update_config(profile="test", latency="stripe", latency_seed=5)
    with emulator.serve(port=0) as server:
        settings = _settings(server.url, DEFAULT_API_KEY)
        with StripeSink(settings) as first, StripeSink(settings) as second:
            assert first.budget is second.budget
            errors = _create_on_two_endpoints([first, second], 16)
    assert errors == []
    _assert_within_every_limiter(emulator, "test")


def test_a_limit_lower_than_the_pace_is_found_by_backing_off_and_fails_nothing(
    emulator: StripeEmulator,
) -> None:
    """The account's endpoint limit is 5/s (Stripe lowered it): the sink, pacing at 24/s, meets 429s,
    halves the named endpoint's pace until they stop, and every create succeeds."""
    emulator.update_config(profile="test", endpoint_rate_limit_per_second=5)
    with emulator.serve(port=0) as server, StripeSink(_settings(server.url, DEFAULT_API_KEY)) as sink:
        errors = _create_on_two_endpoints([sink], 14)
        metrics = sink.metrics()
    assert errors == []
    assert len(emulator.objects("invoice")) == 14
    assert metrics.rate_limited > 0 and metrics.pace_cuts.get("endpoint POST /v1/customers", 0) >= 1
    assert "global" not in metrics.pace_cuts  # the reason header named the endpoint, not the account
