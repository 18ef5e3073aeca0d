"""Emulated latency: a seeded log-normal per endpoint, writes slower than reads, read back from the log."""

from __future__ import annotations

import statistics
from collections.abc import Iterator

import pytest

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig
from jde_stripe_pipeline.sandboxes.stripe_emulator.latency import LatencyModel, LatencySettings

from .conftest import make_client


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def test_samples_have_the_median_and_tail_asked_for() -> None:
    model = LatencyModel(LatencySettings(read_ms=100, write_ms=300, p99_ratio=4, seed=11))
    writes = [model.sample_ms("POST /v1/invoices") for _ in range(4000)]
    reads = [model.sample_ms("GET /v1/invoices/{id}") for _ in range(4000)]
    assert 270 <= statistics.median(writes) <= 330
    assert 90 <= statistics.median(reads) <= 110
    ratio = _quantile(writes, 0.99) / statistics.median(writes)
    assert 3.2 <= ratio <= 5.0
    assert max(writes) <= 300 * 16  # the cap: p99 × ratio


def test_a_seed_gives_the_same_delays_per_endpoint_whatever_else_runs() -> None:
    settings = LatencySettings(read_ms=50, write_ms=200, seed=3)
    alone = LatencyModel(settings)
    first = [alone.sample_ms("POST /v1/invoices") for _ in range(20)]
    mixed = LatencyModel(settings)
    interleaved = []
    for _ in range(20):
        mixed.sample_ms("GET /v1/customers/{id}")
        interleaved.append(mixed.sample_ms("POST /v1/invoices"))
    assert interleaved == first
    other_seed = LatencyModel(LatencySettings(read_ms=50, write_ms=200, seed=4))
    assert [other_seed.sample_ms("POST /v1/invoices") for _ in range(20)] != first


def test_stripe_preset_makes_writes_slower_and_is_off_by_default() -> None:
    assert StripeEmulatorConfig().latency_settings.median_ms("POST /v1/invoices") == 0
    settings = StripeEmulatorConfig.of(latency="stripe").latency_settings
    assert settings.median_ms("POST /v1/invoices/{id}/add_lines") >= 200
    assert settings.median_ms("GET /v1/invoices/{id}") < settings.median_ms("POST /v1/invoices")
    tuned = StripeEmulatorConfig.of(latency="stripe", latency_endpoints_ms={"POST /v1/invoices": 900})
    assert tuned.latency_settings.median_ms("POST /v1/invoices") == 900
    assert StripeEmulatorConfig.of(latency_p99_ratio=1, latency_read_ms=5).latency_settings.p99_ratio == 1
    with pytest.raises(ValueError, match="latency_p99_ratio must be >= 1"):
        StripeEmulatorConfig.of(latency_p99_ratio=0.5)


@pytest.fixture
def slow_emulator() -> Iterator[StripeEmulator]:
    emu = StripeEmulator(
        StripeEmulatorConfig.of(
            profile="off", latency_read_ms=4, latency_write_ms=12, latency_p99_ratio=3, latency_seed=5
        )
    )
    yield emu
    emu.close()


def _run(server: LoopbackServer) -> None:
    client = make_client(server)
    for n in range(12):
        customer = client.v1.customers.create(params={"name": f"Slow {n}"})
        client.v1.customers.retrieve(customer.id)


def test_the_log_shows_each_delay_and_a_seed_repeats_them(slow_emulator: StripeEmulator) -> None:
    with slow_emulator.serve() as server:
        _run(server)
    log = slow_emulator.requests_log()
    writes = [e["latency_ms"] for e in log if e["endpoint"] == "POST /v1/customers"]
    reads = [e["latency_ms"] for e in log if e["endpoint"] == "GET /v1/customers/{id}"]
    assert len(writes) == len(reads) == 12
    assert statistics.median(writes) > statistics.median(reads) > 0
    assert all(e["answered_at"] - e["received_at"] >= e["latency_ms"] / 1000 * 0.9 for e in log)
    again = StripeEmulator(slow_emulator.config)
    try:
        with again.serve() as server:
            _run(server)
        assert [e["latency_ms"] for e in again.requests_log()] == [e["latency_ms"] for e in log]
    finally:
        again.close()
    slow_emulator.reset()  # a reset starts the streams over
    with slow_emulator.serve() as server:
        _run(server)
    assert [e["latency_ms"] for e in slow_emulator.requests_log()] == [e["latency_ms"] for e in log]
