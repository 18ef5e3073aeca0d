"""Issue 13's rotation grace: after a 401 the sink re-reads the key source for a while before failing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeAuthError, StripeSink, StripeSinkSettings
from jde_stripe_pipeline_tests.sync.conftest import make_world


class MutableKey:
    """A key source whose answer the test changes, as a credential store would after a rotation."""

    def __init__(self, key: str):
        self.key = key
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.key

    def __repr__(self) -> str:
        return "MutableKey()"


@pytest.fixture
def emulator() -> Iterator[tuple[StripeEmulator, str]]:
    emulator = StripeEmulator(StripeEmulatorConfig(search_lag_seconds=0.0))
    try:
        with emulator.serve(port=0) as server:
            yield emulator, server.url
    finally:
        emulator.close()


def _sink(url: str, source: object, **overrides: object) -> StripeSink:
    settings = StripeSinkSettings(key_source=source, api_base=url, rate_per_second=1000.0, **overrides)  # type: ignore[arg-type]
    return StripeSink(settings)


def test_401_waits_for_a_key_rotated_in_later_within_the_grace(emulator: tuple[StripeEmulator, str]) -> None:
    """The old key expires at once, the new one reaches the store 0.5 s later; no failure."""
    stripe, url = emulator
    source = MutableKey(DEFAULT_API_KEY)
    with _sink(url, source, key_grace_poll_seconds=0.1) as sink:
        new_key = stripe.roll_key(DEFAULT_API_KEY, expires_in_seconds=0)
        timer = threading.Timer(0.5, lambda: setattr(source, "key", new_key))
        timer.start()
        try:
            result = sink.create_customer({"name": "C1"}, idempotency_key="c1")
        finally:
            timer.join()
        assert result.object["name"] == "C1"
        assert sink.metrics().key_refreshes == 1
    assert [entry["status"] for entry in stripe.requests_log(path_prefix="/v1/")] == [401, 200]
    assert source.calls > 2  # re-read while waiting


def test_401_grace_ends_with_the_masked_key_and_the_window(emulator: tuple[StripeEmulator, str]) -> None:
    stripe, url = emulator
    with _sink(url, MutableKey(DEFAULT_API_KEY), key_grace_seconds=0.3, key_grace_poll_seconds=0.1) as sink:
        stripe.roll_key(DEFAULT_API_KEY, expires_in_seconds=0)
        with pytest.raises(StripeAuthError) as caught:
            sink.create_customer({"name": "C1"}, idempotency_key="c1")
    text = str(caught.value)
    assert "sk_test_…" + DEFAULT_API_KEY[-4:] in text and "within 0.3 s" in text
    assert "JDE_STRIPE_KEY_GRACE_SECONDS" in text and DEFAULT_API_KEY not in text


def test_a_static_key_cannot_change_so_a_401_fails_at_once(emulator: tuple[StripeEmulator, str]) -> None:
    stripe, url = emulator
    with _sink(url, StaticKeySource(DEFAULT_API_KEY)) as sink:  # default grace of 60 s: not spent
        assert sink.keys.grace_seconds == 0
        stripe.roll_key(DEFAULT_API_KEY, expires_in_seconds=0)
        with pytest.raises(StripeAuthError, match="no grace window"):
            sink.retrieve_balance()


def test_a_key_rolled_to_expire_now_and_stored_later_does_not_fail_a_running_sync(tmp_path: Path) -> None:
    """A sync of 10 customers and 20 invoices, paced to last a few seconds; half a second in, the key is
    rolled through the emulator's admin API with immediate expiry; 1.5 s later the new key reaches the key
    source. Every worker thread that met a 401 waits, then carries on with the new key: nothing fails."""
    with make_world(tmp_path, customers=10, invoices=20) as world:
        source = MutableKey(DEFAULT_API_KEY)
        sink = world.sink(
            key_source=source, rate_per_second=25.0, endpoint_rate_per_second=25.0, key_grace_poll_seconds=0.2
        )
        rolled: list[str] = []

        def roll() -> None:
            answer = requests.post(
                f"{world.stripe_url}/_sandbox/roll_key",
                json={"key": DEFAULT_API_KEY, "expires_in_seconds": 0},
                timeout=10,
            )
            rolled.append(answer.json()["key"])

        def store_new_key() -> None:
            source.key = rolled[0]

        timers = [threading.Timer(0.5, roll), threading.Timer(2.0, store_new_key)]
        for timer in timers:
            timer.start()
        try:
            customers, invoices = world.sync(world.engine(sink=sink))
        finally:
            for timer in timers:
                timer.join()
        outcomes = Counter(r.outcome for r in (*customers.results, *invoices.results))
        assert outcomes["failed"] == 0, [r.reason for r in invoices.results if r.outcome == "failed"]
        statuses = [e["status"] for e in world.emulator.requests_log(path_prefix="/v1/")]
        assert 401 in statuses and statuses[-1] == 200  # the roll did hit the run mid-way
        assert sink.metrics().key_refreshes == 1
        assert sink.masked_key.endswith(rolled[0][-4:])
        in_stripe = [c for c in world.emulator.objects("customer") if "jde_an8" in c["metadata"]]
        assert sum(r.outcome == "created" for r in customers.results) == len(in_stripe) > 0
        assert (
            sum(r.outcome == "created" for r in invoices.results)
            == len(world.emulator.objects("invoice"))
            > 0
        )
