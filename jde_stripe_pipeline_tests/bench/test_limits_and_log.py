"""The bench's pure parts: the limiters' lower bound, and reading the emulator's request log."""

from __future__ import annotations

import pytest

from jde_stripe_pipeline.bench import requests_log as log
from jde_stripe_pipeline.bench.limits import Profile, lower_bound, share_of_binding

TEST = Profile("test", 25.0, 25.0, 20.0, 20, write_ms=300.0, read_ms=100.0, p99_ratio=1.0)
LIVE = Profile("live", 100.0, 25.0, 20.0, 20, write_ms=300.0, read_ms=100.0, p99_ratio=1.0)
LOAD = {"POST /v1/customers": 100, "POST /v1/invoices": 200, "POST /v1/invoices/{id}/add_lines": 200}


def test_test_mode_is_bound_by_the_global_rate() -> None:
    seconds, limiter = lower_bound(LOAD, TEST)
    assert limiter == "global"
    assert seconds == pytest.approx(500 / 25 + 0.3)


def test_live_mode_is_bound_by_the_busiest_endpoint_not_the_global_rate() -> None:
    seconds, limiter = lower_bound(LOAD, LIVE)
    assert limiter == "POST /v1/invoices"
    assert seconds == pytest.approx(200 / 25 + 0.3)


def test_at_long_latency_the_in_flight_cap_binds() -> None:
    slow = Profile("test", 25.0, 25.0, 20.0, 20, write_ms=1000.0, read_ms=333.0, p99_ratio=1.0)
    seconds, limiter = lower_bound(LOAD, slow)
    assert limiter == "in flight"
    assert seconds == pytest.approx(500 * 1.0 / 20 + 1.0)


def test_search_counts_against_its_own_rate() -> None:
    seconds, limiter = lower_bound({"GET /v1/customers/search": 100}, LIVE)
    assert (limiter, seconds) == ("GET /v1/customers/search", pytest.approx(100 / 20 + 0.3))


def test_a_run_that_kept_the_global_limit_full_has_a_share_of_one() -> None:
    share, limiter = share_of_binding({"POST /v1/customers": 250}, TEST, latency_seconds=75.0, elapsed=10.0)
    assert (share, limiter) == (pytest.approx(1.0), "global")


def _entry(endpoint: str, path: str, key: str | None = None, status: int = 200) -> dict[str, object]:
    return {
        "endpoint": endpoint,
        "path": path,
        "idempotency_key": key,
        "status": status,
        "received_at": 0.0,
        "answered_at": 0.2,
        "limited_by": "global" if status == 429 else None,
    }


def test_requests_are_attributed_by_idempotency_key_stripe_id_or_listing() -> None:
    ids = {"in_1": ("invoice", "00001/1001/OP/000")}
    entries = [
        _entry("POST /v1/customers", "/v1/customers", "jde-stripe:customer:10001:create:" + "a" * 64),
        _entry(
            "POST /v1/invoices", "/v1/invoices", "jde-stripe:invoice:00001/1002/OP/000:create:" + "b" * 64
        ),
        _entry("POST /v1/customers", "/v1/customers", "jde-stripe:customer:A~3AB:create:" + "c" * 64),
        _entry("GET /v1/invoices/{id}", "/v1/invoices/in_1"),
        _entry("GET /v1/invoices", "/v1/invoices"),
        _entry("GET /v1/invoices/{id}", "/v1/invoices/in_unknown"),
        _entry("POST /v1/customers", "/v1/customers", status=429),
    ]
    per_record, listing, unknown = log.per_record(entries, ids)
    assert per_record == {
        ("customer", "10001"): 1,
        ("invoice", "00001/1002/OP/000"): 1,
        ("customer", "A:B"): 1,
        ("invoice", "00001/1001/OP/000"): 1,
    }
    assert (listing, unknown) == (1, 1)
    assert log.throttled(entries) == {"global": 1}
