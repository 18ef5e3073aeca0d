"""Stripe's limiters in the emulator: each trips at its number, answers Stripe's 429, and is counted."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    PROFILES,
    Limits,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.sandboxes.stripe_emulator.limits import Limiters

from .conftest import make_client

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
)


def _assert_stripe_429(response: requests.Response, reason: str) -> None:
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["type"], error["code"], error["message"]) == (
        "invalid_request_error",
        "rate_limit",
        MESSAGE,
    )
    assert response.headers["Stripe-Rate-Limited-Reason"] == reason
    assert "Retry-After" not in response.headers and "Stripe-Should-Retry" not in response.headers


def _span(log: list[dict[str, Any]]) -> float:
    return max(e["received_at"] for e in log) - min(e["received_at"] for e in log)


# --- the pure limiter ----------------------------------------------------------------------------------


def test_limiter_checks_global_then_endpoint_then_in_flight() -> None:
    limiters, limits = Limiters(), Limits(global_rate=4, endpoint_rate=2, search_rate=1, concurrency=4)
    admit = [limiters.admit(limits, "acct_a", "GET /v1/x", False, 0.0) for _ in range(3)]
    assert admit == [None, None, "endpoint"]  # the refused one still spent a global token
    assert limiters.admit(limits, "acct_a", "GET /v1/y", False, 0.0) is None
    assert limiters.admit(limits, "acct_a", "GET /v1/y", False, 0.0) == "global"
    assert limiters.admit(limits, "acct_b", "GET /v1/search", True, 0.0) is None
    assert limiters.admit(limits, "acct_b", "GET /v1/search", True, 0.0) == "search"
    assert limiters.admit(limits, "acct_a", "GET /v1/y", False, 0.5) is None  # refilled at 4/s, 2/s
    assert limiters.admit(limits, "acct_a", "GET /v1/z", False, 0.75) == "concurrency"  # 4 in flight
    limiters.release("acct_a")
    assert limiters.admit(limits, "acct_a", "GET /v1/z", False, 1.0) is None
    assert limiters.peak_in_flight() == {"acct_a": 4, "acct_b": 1}


def test_profiles_carry_stripes_numbers_and_the_default_is_the_old_single_bucket() -> None:
    assert StripeEmulatorConfig().limits == PROFILES["default"] == Limits(25.0, 0.0, 20.0, 0)
    assert StripeEmulatorConfig(profile="test").limits == Limits(25.0, 25.0, 20.0, 20)
    assert StripeEmulatorConfig(profile="live").limits == Limits(100.0, 25.0, 20.0, 20)
    assert StripeEmulatorConfig(profile="off").limits == Limits(0.0, 0.0, 0.0, 0)
    assert StripeEmulatorConfig(rate_limit_per_second=1000).limits.global_rate == 1000  # old knob still works
    assert StripeEmulatorConfig.of(profile="live", concurrency_limit="7").limits.concurrency == 7
    with pytest.raises(ValueError, match="profile must be one of"):
        StripeEmulatorConfig(profile="sandbox")


def test_choosing_a_profile_drops_numbers_set_before(emulator: StripeEmulator) -> None:
    emulator.update_config(profile="live", endpoint_rate_limit_per_second=5)
    assert emulator.config.limits == Limits(100.0, 5.0, 20.0, 20)
    emulator.update_config(concurrency_limit=2)
    assert emulator.config.limits == Limits(100.0, 5.0, 20.0, 2)
    emulator.update_config(profile="test")
    assert emulator.config.limits == PROFILES["test"]


# --- over loopback --------------------------------------------------------------------------------------


def test_global_limit_under_test_profile_refuses_a_burst_of_30_creates(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    # The test profile with its global rate lowered to 5/s, so that 30 creates sent at once are refused
    # in part however slowly a loaded machine sends them (at 25/s a burst spread over 0.2 s all passes).
    emulator.update_config(
        profile="test", rate_limit_per_second=5, api_keys=[DEFAULT_API_KEY, "sk_test_second_acct_0001"],
        key_accounts={"sk_test_second_acct_0001": "acct_second"},
    )  # fmt: skip
    client = make_client(server)  # max_network_retries=0

    def create(n: int) -> stripe.RateLimitError | None:
        try:
            client.v1.customers.create(params={"name": f"Burst {n}"})
        except stripe.RateLimitError as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(create, range(30)))
    errors = [e for e in outcomes if e is not None]
    created = len(emulator.objects("customer"))
    log = emulator.requests_log(endpoint="POST /v1/customers")
    assert created == 30 - len(errors) <= 5 + math.ceil(5 * _span(log))  # a refused create writes nothing
    reasons = [e.headers["Stripe-Rate-Limited-Reason"] for e in errors if e.headers]
    assert "global-rate" in reasons
    first = errors[0]
    assert first.error is not None and (first.http_status, first.error.code, first.error.type) == (
        429, "rate_limit", "invalid_request_error",
    )  # fmt: skip
    assert emulator.stats()["limited"]["global"] == reasons.count("global-rate")
    # Another account has its own budget.
    assert make_client(server, "sk_test_second_acct_0001").v1.balance.retrieve().object == "balance"


def test_endpoint_limit_under_live_profile_spares_other_endpoints(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    emulator.update_config(profile="live")
    http = requests.Session()
    http.headers.update(AUTH)
    customer = http.post(f"{server.url}/v1/customers", data={"name": "Hot"}).json()["id"]
    answers = [http.get(f"{server.url}/v1/customers/{customer}") for _ in range(40)]
    ok = [r for r in answers if r.status_code == 200]
    limited = [r for r in answers if r.status_code != 200]
    log = emulator.requests_log(endpoint="GET /v1/customers/{id}")
    assert 25 <= len(ok) <= 25 + math.ceil(25 * _span(log))
    assert limited
    for response in limited:
        _assert_stripe_429(response, "endpoint-rate")
    # The global budget (100/s) is not spent: other endpoints answer.
    assert all(http.get(f"{server.url}/v1/invoices").status_code == 200 for _ in range(10))
    assert http.post(f"{server.url}/v1/customers/{customer}", data={"name": "Cold"}).status_code == 200
    assert {e["limited_by"] for e in emulator.requests_log()} == {None, "endpoint"}


def test_search_limit_is_20_per_second(emulator: StripeEmulator, server: LoopbackServer) -> None:
    emulator.update_config(profile="live")
    http = requests.Session()
    http.headers.update(AUTH)
    url = f"{server.url}/v1/customers/search"
    answers = [http.get(url, params={"query": "name:'x'"}) for _ in range(30)]
    ok = [r for r in answers if r.status_code == 200]
    assert 20 <= len(ok) <= 20 + math.ceil(20 * _span(emulator.requests_log()))
    assert len(ok) < 30
    for response in answers:
        if response.status_code != 200:
            _assert_stripe_429(response, "endpoint-rate")
    assert emulator.stats()["limited"] == {"search": 30 - len(ok)}
    assert http.get(f"{server.url}/v1/customers").status_code == 200  # listing is not search


def test_concurrency_cap_refuses_requests_beyond_those_in_flight(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    emulator.update_config(profile="off", concurrency_limit=3, latency_ms=400)
    start = threading.Barrier(6)

    def call(_: int) -> requests.Response:
        start.wait()
        return requests.get(f"{server.url}/v1/balance", headers=AUTH, timeout=10)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(call, range(6)))
    ok = [r for r in answers if r.status_code == 200]
    limited = [r for r in answers if r.status_code != 200]
    assert len(ok) >= 3 and limited
    for response in limited:
        _assert_stripe_429(response, "global-concurrency")
    stats = emulator.stats()
    assert stats["peak_in_flight"] == {"acct_emulator": 3}
    assert stats["limited"] == {"concurrency": len(limited)} and stats["in_flight"] == {}
    # Refused requests are answered at once; admitted ones carry the delay.
    for entry in emulator.requests_log():
        assert entry["latency_ms"] == (400 if entry["status"] == 200 else 0)


def test_request_log_and_admin_api_show_each_request(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    config = requests.post(
        f"{server.url}/_sandbox/config", json={"profile": "test", "key_accounts": {}}
    ).json()
    assert config["profile"] == "test"
    assert config["limits_in_force"] == {
        "global_rate": 25.0, "endpoint_rate": 25.0, "search_rate": 20.0, "concurrency": 20,
    }  # fmt: skip
    client = make_client(server)
    customer = client.v1.customers.create(params={"name": "Logged"}, options={"idempotency_key": "k-1"})
    client.v1.customers.retrieve(customer.id)
    log = requests.get(
        f"{server.url}/_sandbox/requests",
        params={"endpoint": "POST /v1/customers", "account": "acct_emulator"},
    ).json()
    assert len(log) == 1
    entry = log[0]
    assert (entry["method"], entry["path"], entry["status"], entry["idempotency_key"]) == (
        "POST", "/v1/customers", 200, "k-1",
    )  # fmt: skip
    assert entry["received_at"] <= entry["answered_at"] and entry["limited_by"] is None
    retrieve = requests.get(f"{server.url}/_sandbox/requests", params={"endpoint": "GET /v1/customers/{id}"})
    assert [e["path"] for e in retrieve.json()] == [f"/v1/customers/{customer.id}"]
    refused = requests.post(f"{server.url}/_sandbox/config", json={"profile": "sandbox"})
    assert refused.status_code == 400 and "profile must be one of" in refused.json()["error"]["message"]
    masked = requests.post(
        f"{server.url}/_sandbox/config",
        json={"api_keys": [DEFAULT_API_KEY], "key_accounts": {DEFAULT_API_KEY: "acct_x"}},
    ).json()
    assert masked["key_accounts"] == {"sk_test_****p7dc": "acct_x"} and DEFAULT_API_KEY not in str(masked)


def test_a_rolled_key_stays_in_its_account(emulator: StripeEmulator) -> None:
    emulator.update_config(key_accounts={DEFAULT_API_KEY: "acct_rolled"})
    new_key = emulator.roll_key(DEFAULT_API_KEY, expires_in_seconds=60)
    assert emulator.config.account_of(new_key) == "acct_rolled"
    assert emulator.config.account_of("sk_test_unnamed_0009") == "acct_emulator"
