"""Allowlist, injected failures, dropped connections and latency: deterministic from fault_seed."""

from __future__ import annotations

import time

import pytest
import requests

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig, ConfigError
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline_tests.sandboxes.ais.conftest import AS_OF, browse, login


def test_allowlist_refuses_before_anything_else_but_admin_stays_open(server: LoopbackServer) -> None:
    token = login(server.url)
    changed = requests.post(f"{server.url}/_sandbox/config", json={"allowlist": ["10.0.0.0/8"]}, timeout=10)
    assert changed.status_code == 200 and changed.json()["allowlist"] == ["10.0.0.0/8"]
    refused = browse(server.url, token, "F0101")
    assert refused.status_code == 403 and "127.0.0.1" in refused.json()["message"]
    bad_json = requests.post(
        f"{server.url}/jderest/v2/tokenrequest",
        data="{",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad_json.status_code == 403
    assert requests.get(f"{server.url}/_sandbox/stats", timeout=10).status_code == 200
    fixed = requests.post(
        f"{server.url}/_sandbox/config", json={"allowlist": ["10.0.0.0/8", "127.0.0.0/8"]}, timeout=10
    )
    assert fixed.status_code == 200
    assert browse(server.url, token, "F0101").status_code == 200
    requests.post(f"{server.url}/_sandbox/config", json={"allowlist": None}, timeout=10)
    assert browse(server.url, token, "F0101").status_code == 200


def test_fail_rate_one_fails_every_data_call(server: LoopbackServer, sandbox: AisSandbox) -> None:
    token = login(server.url)
    sandbox.update_config(fail_rate=1.0)
    failed = browse(server.url, token, "F0101")
    assert failed.status_code == 500 and failed.json()["status"] == "ERROR"
    assert sandbox.stats()["injected_failures"] == 1


def _fault_pattern(server: LoopbackServer, sandbox: AisSandbox) -> list[int]:
    sandbox.update_config(fail_rate=0.0)
    token = login(server.url)
    sandbox.update_config(fail_rate=0.5, fault_seed=42)
    return [browse(server.url, token, "F0101", maxPageSize="1").status_code for _ in range(12)]


def test_faults_repeat_for_the_same_fault_seed(server: LoopbackServer, sandbox: AisSandbox) -> None:
    first = _fault_pattern(server, sandbox)
    second = _fault_pattern(server, sandbox)
    assert first == second
    assert set(first) == {200, 500}


def test_drop_rate_drops_the_connection(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        login(server.url)
    assert sandbox.stats()["dropped_connections"] == 1
    sandbox.update_config(drop_rate=0.0)
    login(server.url)


def test_latency_delays_answers(server: LoopbackServer, sandbox: AisSandbox) -> None:
    sandbox.update_config(latency_ms=150)
    started = time.perf_counter()
    login(server.url)
    assert time.perf_counter() - started >= 0.15


def test_config_round_trip_and_validation(server: LoopbackServer) -> None:
    config = requests.get(f"{server.url}/_sandbox/config", timeout=10).json()
    assert config["seed"] == 7 and config["timezone"] == "America/Chicago" and config["as_of"] == "2026-11-26"
    assert config["users"]["JDE"] == {"password": "***", "date_format": "MM/dd/yyyy"}
    for bad in (
        {"fail_rate": 2},
        {"nope": 1},
        {"allowlist": ["not-an-ip"]},
        {"seed": 3},
        {"timezone": "UTC"},
    ):
        answer = requests.post(f"{server.url}/_sandbox/config", json=bad, timeout=10)
        assert answer.status_code == 400, bad
    updated = requests.post(f"{server.url}/_sandbox/config", json={"token_max_calls": 5}, timeout=10).json()
    assert updated["token_max_calls"] == 5 and updated["fail_rate"] == 0.0


def test_python_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="drop_rate"):
        AisSandboxConfig(drop_rate=-0.1)
    with pytest.raises(ValueError, match="date format"):
        AisSandbox(
            customers=1,
            invoices=0,
            as_of=AS_OF,
            config=AisSandboxConfig(users={"X": {"password": "p", "date_format": "yy-M-d"}}),
        )  # type: ignore[dict-item]
