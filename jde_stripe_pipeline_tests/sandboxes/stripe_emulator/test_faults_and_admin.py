"""Injected faults (deterministic by seed), the admin API, concurrency, persistence across restarts."""

from __future__ import annotations

import contextlib
from pathlib import Path

import requests
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline_tests.threads import in_threads

from .conftest import make_client

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def test_commit_then_fail_with_sdk_retries_creates_exactly_one(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    emulator.update_config(commit_then_fail_rate=0.5, fault_seed=3)
    client = make_client(server, retries=6)
    ids = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(10)]
    assert len(set(ids)) == 10
    assert len(emulator.objects("customer")) == 10  # every retry was a replay, never a second create
    log = emulator.requests_log(method="POST")
    assert any(entry["fault"] == "commit_then_fail" for entry in log)
    assert any(entry["replayed"] for entry in log)
    assert any(entry["status"] == 0 for entry in log)  # a dropped connection


def test_commit_then_fail_without_idempotency_key_duplicates(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    emulator.update_config(commit_then_fail_rate=1.0)
    for _ in range(2):  # a naive client retrying without a key
        with contextlib.suppress(requests.ConnectionError):
            requests.post(f"{server.url}/v1/customers", data={"name": "dup"}, headers=AUTH, timeout=5)
    assert len(emulator.objects("customer")) == 2


def test_faults_are_deterministic_for_a_seed(server: LoopbackServer, emulator: StripeEmulator) -> None:
    def run() -> list[int]:
        emulator.reset()
        emulator.update_config(fail_rate=0.3, fault_seed=42)
        statuses = []
        for i in range(15):
            response = requests.post(f"{server.url}/v1/customers", data={"name": str(i)}, headers=AUTH)
            statuses.append(response.status_code)
        return statuses

    first, second = run(), run()
    assert first == second
    assert 500 in first and 200 in first


def test_unavailable_is_not_saved_so_a_retry_succeeds(
    emulator: StripeEmulator, server: LoopbackServer
) -> None:
    emulator.update_config(unavailable_rate=1.0)
    headers = {**AUTH, "Idempotency-Key": "u-1"}
    assert requests.post(f"{server.url}/v1/customers", data={"name": "A"}, headers=headers).status_code == 503
    emulator.update_config(unavailable_rate=0.0)
    response = requests.post(f"{server.url}/v1/customers", data={"name": "A"}, headers=headers)
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers


def test_latency_is_applied(emulator: StripeEmulator, client: stripe.StripeClient) -> None:
    import time

    emulator.update_config(latency_ms=200)
    started = time.monotonic()
    client.v1.balance.retrieve()
    assert time.monotonic() - started >= 0.2


def test_admin_config_requests_stats_reset(server: LoopbackServer) -> None:
    config = requests.get(f"{server.url}/_sandbox/config").json()
    assert config["api_keys"] == [f"sk_test_****{DEFAULT_API_KEY[-4:]}"]  # keys are never shown in clear
    changed = requests.post(
        f"{server.url}/_sandbox/config", json={"latency_ms": 5, "search_lag_seconds": 2}
    ).json()
    assert changed["latency_ms"] == 5 and changed["search_lag_seconds"] == 2
    bad = requests.post(f"{server.url}/_sandbox/config", json={"no_such_knob": 1})
    assert bad.status_code == 400
    requests.post(f"{server.url}/v1/customers", data={"name": "A"}, headers={**AUTH, "Idempotency-Key": "a"})
    requests.get(f"{server.url}/v1/balance", headers=AUTH)
    log = requests.get(f"{server.url}/_sandbox/requests", params={"method": "POST"}).json()
    assert log[0]["method"] == "POST" and log[0]["path"] == "/v1/customers"
    assert log[0]["idempotency_key"] == "a" and log[0]["status"] == 200 and log[0]["replayed"] is False
    assert len(log) == 1
    stats = requests.get(f"{server.url}/_sandbox/stats").json()
    assert stats["objects"]["customer"] == 1 and stats["requests"]["200"] == 2
    requests.delete(f"{server.url}/_sandbox/requests")
    assert requests.get(f"{server.url}/_sandbox/requests").json() == []
    requests.post(f"{server.url}/_sandbox/reset")
    assert requests.get(f"{server.url}/_sandbox/stats").json()["objects"]["customer"] == 0


def test_concurrent_clients(emulator: StripeEmulator, server: LoopbackServer) -> None:
    client = make_client(server)
    invoice = client.v1.invoices.create(params={"customer": client.v1.customers.create(params={}).id})

    def work(worker: int) -> None:
        for i in range(5):
            client.v1.customers.create(params={"name": f"{worker}-{i}"})
            client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 1}]})

    assert in_threads(work, 6) == []
    assert len(emulator.objects("customer")) == 31
    assert client.v1.invoices.retrieve(invoice.id).total == 30


def test_sqlite_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "stripe.sqlite"
    first = StripeEmulator(config=StripeEmulatorConfig(rate_limit_per_second=0), db_path=db)
    with first.serve() as server:
        client = make_client(server)
        customer = client.v1.customers.create(params={"name": "Kept"}, options={"idempotency_key": "keep"})
        invoice = client.v1.invoices.create(params={"customer": customer.id})
        client.v1.invoices.add_lines(invoice.id, params={"lines": [{"amount": 250}]})
    first.close()
    second = StripeEmulator(config=StripeEmulatorConfig(rate_limit_per_second=0), db_path=db)
    with second.serve() as server:
        client = make_client(server)
        assert client.v1.invoices.retrieve(invoice.id).total == 250
        replay = client.v1.customers.create(params={"name": "Kept"}, options={"idempotency_key": "keep"})
        assert replay.id == customer.id
        assert replay.last_response.headers["Idempotent-Replayed"] == "true"
        assert [c.id for c in client.v1.customers.search(params={"query": "name:'Kept'"}).data] == [
            customer.id
        ]
        second_customer = client.v1.customers.create(params={"name": "New"})
        assert second_customer.id != customer.id
    second.close()
