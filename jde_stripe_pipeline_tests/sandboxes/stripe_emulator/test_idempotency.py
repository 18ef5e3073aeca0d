"""Idempotency as Stripe documents it: replay, mismatch, in flight, expiry, what is and is not saved."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import DEFAULT_API_KEY, StripeEmulator

from .conftest import make_client

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def test_same_key_same_params_replays_first_response(server: LoopbackServer) -> None:
    headers = {**AUTH, "Idempotency-Key": "cust-1001"}
    first = requests.post(
        f"{server.url}/v1/customers", data={"name": "A", "metadata[an8]": "1001"}, headers=headers
    )
    again = requests.post(
        f"{server.url}/v1/customers", data={"metadata[an8]": "1001", "name": "A"}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Original-Request"] == first.headers["Request-Id"]
    assert again.headers["Request-Id"] != first.headers["Request-Id"]
    listed = requests.get(f"{server.url}/v1/customers", headers=AUTH).json()
    assert len(listed["data"]) == 1


def test_same_key_other_params_is_idempotency_error(client: stripe.StripeClient) -> None:
    client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k-1"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.create(params={"name": "B"}, options={"idempotency_key": "k-1"})
    assert raised.value.http_status == 400
    assert raised.value.json_body["error"]["type"] == "idempotency_error"
    assert raised.value.json_body["error"]["message"] == (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        "Try using a key other than 'k-1' if you meant to execute a different request."
    )


def test_same_key_other_endpoint_is_idempotency_error(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k-2"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.update(customer.id, params={"name": "A"}, options={"idempotency_key": "k-2"})
    assert "same endpoint" in raised.value.json_body["error"]["message"]


def test_key_in_flight_is_409(emulator: StripeEmulator, server: LoopbackServer) -> None:
    emulator.update_config(latency_ms=400)
    headers = {**AUTH, "Idempotency-Key": "slow-1"}
    results: list[requests.Response] = []

    def send() -> None:
        results.append(requests.post(f"{server.url}/v1/customers", data={"name": "A"}, headers=headers))

    first = threading.Thread(target=send)
    first.start()
    time.sleep(0.15)
    second = requests.post(f"{server.url}/v1/customers", data={"name": "A"}, headers=headers)
    first.join()
    assert results[0].status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["type"] == "idempotency_error"
    assert second.json()["error"]["code"] == "idempotency_key_in_use"


def test_sdk_retries_a_409_until_the_first_finishes(emulator: StripeEmulator, server: LoopbackServer) -> None:
    emulator.update_config(latency_ms=300)
    results: list[str] = []

    def send() -> None:
        customer = make_client(server, retries=5).v1.customers.create(
            params={"name": "A"}, options={"idempotency_key": "same"}
        )
        results.append(customer.id)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert len(emulator.objects("customer")) == 1


def test_key_expires_after_ttl_and_runs_anew(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    emulator.update_config(idempotency_ttl_seconds=0.3)
    first = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "ttl"})
    time.sleep(0.4)
    second = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "ttl"})
    assert second.id != first.id
    assert second.last_response.headers.get("Idempotent-Replayed") is None


def test_validation_errors_are_not_saved(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"name": "A", "bogus": "1"}, options={"idempotency_key": "v-1"})
    assert raised.value.code == "parameter_unknown"
    # The endpoint never ran, so the key is free for the corrected request.
    customer = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "v-1"})
    assert customer.id.startswith("cus_")


def test_endpoint_errors_are_saved_and_replayed(server: LoopbackServer) -> None:
    headers = {**AUTH, "Idempotency-Key": "inv-1"}
    first = requests.post(f"{server.url}/v1/invoices", data={"customer": "cus_missing"}, headers=headers)
    again = requests.post(f"{server.url}/v1/invoices", data={"customer": "cus_missing"}, headers=headers)
    assert first.status_code == again.status_code == 400
    assert first.json()["error"]["code"] == "resource_missing"
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_500_is_saved_and_replayed(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    emulator.update_config(fail_rate=1.0)
    with pytest.raises(stripe.APIError) as raised:
        client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "boom"})
    assert raised.value.http_status == 500
    assert raised.value.headers["Stripe-Should-Retry"] == "false"
    emulator.update_config(fail_rate=0.0)
    with pytest.raises(stripe.APIError) as replayed:
        client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "boom"})
    assert replayed.value.headers["Idempotent-Replayed"] == "true"
    assert emulator.objects("customer") == []


def test_gets_ignore_idempotency_keys(server: LoopbackServer) -> None:
    headers = {**AUTH, "Idempotency-Key": "get-1"}
    first = requests.get(f"{server.url}/v1/balance", headers=headers)
    again = requests.get(f"{server.url}/v1/balance", headers=headers)
    assert "Idempotent-Replayed" not in again.headers
    assert first.status_code == again.status_code == 200


def test_key_longer_than_255_is_refused(server: LoopbackServer) -> None:
    response = requests.post(
        f"{server.url}/v1/customers", data={"name": "A"}, headers={**AUTH, "Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"


def test_a_request_cut_off_mid_body_is_never_seen_and_saves_nothing(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    """A client killed while sending (SIGKILL mid-request) leaves headers with an idempotency key and
    part of the body. A real server never dispatches that; processing it as a request with the params
    received would save the key with other params, and the client's real retry would get
    `idempotency_error`."""
    body = b"name=Complete+Name&metadata[jde_an8]=1001"
    head = (
        f"POST /v1/customers HTTP/1.1\r\nHost: {server.host}\r\nAuthorization: Bearer {DEFAULT_API_KEY}\r\n"
        f"Idempotency-Key: cut-off\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(head + body[:10])
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1024) == b""  # no answer: the connection is closed
    assert emulator.requests_log() == [] and emulator.objects("customer") == []
    retry = requests.post(
        f"{server.url}/v1/customers",
        data=body,
        headers={**AUTH, "Idempotency-Key": "cut-off", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert retry.status_code == 200 and retry.json()["name"] == "Complete Name"
