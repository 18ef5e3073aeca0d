"""API keys (several, rolled with an expiry), rate limits, request ids."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY, StripeEmulator

from .conftest import make_client


def test_missing_key_is_401(server: LoopbackServer) -> None:
    response = requests.get(f"{server.url}/v1/balance")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")
    assert response.headers["Request-Id"].startswith("req_")


def test_unknown_key_is_401_with_masked_key(server: LoopbackServer) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        make_client(server, "sk_test_not_a_real_key_abcd").v1.balance.retrieve()
    assert raised.value.http_status == 401
    error = raised.value.json_body["error"]
    assert error["message"] == "Invalid API Key provided: sk_test_****abcd"
    assert error["type"] == "invalid_request_error"
    assert "not_a_real" not in raised.value.http_body


def test_several_keys_at_once(emulator: StripeEmulator, server: LoopbackServer) -> None:
    emulator.update_config(api_keys=[DEFAULT_API_KEY, "sk_test_second_key_0002"])
    assert make_client(server, "sk_test_second_key_0002").v1.balance.retrieve().object == "balance"
    assert make_client(server).v1.balance.retrieve().object == "balance"


def test_rolled_key_works_until_expiry_then_401(emulator: StripeEmulator, server: LoopbackServer) -> None:
    new_key = emulator.roll_key(DEFAULT_API_KEY, expires_in_seconds=0.4)
    old, new = make_client(server), make_client(server, new_key)
    customer = old.v1.customers.create(params={"name": "A"})
    assert new.v1.customers.retrieve(customer.id).id == customer.id  # same account
    time.sleep(0.5)
    with pytest.raises(stripe.AuthenticationError) as raised:
        old.v1.balance.retrieve()
    assert (
        raised.value.json_body["error"]["message"]
        == f"Expired API Key provided: sk_test_****{DEFAULT_API_KEY[-4:]}"
    )
    assert raised.value.json_body["error"]["code"] == "api_key_expired"
    assert new.v1.balance.retrieve().object == "balance"
    assert emulator.api_key == new_key


def test_roll_key_through_admin_api(server: LoopbackServer) -> None:
    response = requests.post(
        f"{server.url}/_sandbox/roll_key", json={"key": DEFAULT_API_KEY, "expires_in_seconds": 0}
    )
    new_key = response.json()["key"]
    assert requests.get(f"{server.url}/v1/balance", auth=(new_key, "")).status_code == 200  # Basic auth too
    assert requests.get(f"{server.url}/v1/balance", auth=(DEFAULT_API_KEY, "")).status_code == 401


def test_rate_limit_answers_429_like_stripe(emulator: StripeEmulator, server: LoopbackServer) -> None:
    emulator.update_config(rate_limit_per_second=5)
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    statuses = [requests.get(f"{server.url}/v1/balance", headers=headers) for _ in range(12)]
    limited = [r for r in statuses if r.status_code == 429]
    assert 5 <= len([r for r in statuses if r.status_code == 200]) <= 7
    assert limited
    body = limited[0].json()["error"]
    assert body["type"] == "invalid_request_error"
    assert body["code"] == "rate_limit"
    assert "Retry-After" not in limited[0].headers
    assert "Stripe-Should-Retry" not in limited[0].headers
    time.sleep(0.5)  # the bucket refills at the configured rate
    assert requests.get(f"{server.url}/v1/balance", headers=headers).status_code == 200


def test_rate_limit_is_per_account_and_the_sdk_does_not_retry_it(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    same, other = "sk_test_same_account_0002", "sk_test_other_key_0003"
    emulator.update_config(
        rate_limit_per_second=3,
        api_keys=[DEFAULT_API_KEY, same, other],
        key_accounts={other: "acct_other"},
    )
    client = make_client(server, retries=3)
    with pytest.raises(stripe.RateLimitError):
        for _ in range(10):
            client.v1.balance.retrieve()
    with pytest.raises(stripe.RateLimitError):  # a second key of the same account shares its budget
        make_client(server, same).v1.balance.retrieve()
    assert make_client(server, other).v1.balance.retrieve().object == "balance"
    assert {e["account"] for e in emulator.requests_log()} == {"acct_emulator", "acct_other"}


def test_unrecognized_url_is_404(server: LoopbackServer) -> None:
    response = requests.get(
        f"{server.url}/v1/charges", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/charges)")
