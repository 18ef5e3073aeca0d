"""Issue 13's rotation grace: after a 401 the sink re-reads the key source for a while before failing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from jde_stripe_pipeline.accounts import DEFAULT_ACCOUNT
from jde_stripe_pipeline.credentials import CredentialSource
from jde_stripe_pipeline.credentials.master_key import load_master_key
from jde_stripe_pipeline.credentials.models import StoredCredentials, build_stripe_credentials
from jde_stripe_pipeline.credentials.store import create_store, read_store, write_store
from jde_stripe_pipeline.runtime import AccountKeySource
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import StaticKeySource, StripeAuthError, StripeSink, StripeSinkSettings
from jde_stripe_pipeline_tests.stripe_sink.support import MutableKey
from jde_stripe_pipeline_tests.sync.conftest import make_world


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


STORED_LATE_SECONDS = 20.0
"""Issue 13's done-when: the new key reaches the store this long after the old one expired."""


def _store_key(credentials: CredentialSource, key: str) -> None:
    """What `jde-stripe credentials set stripe` writes: the store re-encrypted with the account's new key."""
    assert credentials.store_file is not None
    master_key = load_master_key(credentials.environment())
    stored = read_store(credentials.store_file, master_key)
    new = build_stripe_credentials({"api_key": key}, source=f"store {credentials.store_file}")
    write_store(credentials.store_file, stored.with_stripe(DEFAULT_ACCOUNT, new), master_key)


def test_a_key_rolled_to_expire_now_and_stored_20s_later_does_not_fail_a_running_sync(tmp_path: Path) -> None:
    """A sync of 10 customers and 20 invoices, paced to last a few seconds, reading its key from the
    encrypted credential store (as a Dagster run does). Half a second in, the key is rolled through the
    emulator's admin API with immediate expiry; 20 s later the new key is written to the store. Every
    worker thread that met a 401 waits within the 60 s default grace, then carries on with the new key:
    nothing fails and Stripe holds each record exactly once. About 25 s: the wait is the point."""
    with make_world(tmp_path, customers=10, invoices=20) as world:
        credentials = CredentialSource(
            use_environment=False, store_file=tmp_path / "store.enc", master_key_file=tmp_path / "master.key"
        )
        assert credentials.store_file is not None and credentials.master_key_file is not None
        old = build_stripe_credentials({"api_key": DEFAULT_API_KEY}, source="test")
        create_store(credentials.store_file, credentials.master_key_file, StoredCredentials(stripe=old))
        sink = world.sink(
            key_source=AccountKeySource(credentials, DEFAULT_ACCOUNT),
            rate_per_second=25.0,
            endpoint_rate_per_second=25.0,
            key_grace_poll_seconds=0.5,
        )
        assert sink.keys.grace_seconds == 60.0  # the default window
        rolled: list[tuple[float, str]] = []

        def roll() -> None:
            answer = requests.post(
                f"{world.stripe_url}/_sandbox/roll_key",
                json={"key": DEFAULT_API_KEY, "expires_in_seconds": 0},
                timeout=10,
            )
            rolled.append((time.monotonic(), answer.json()["key"]))

        def store_new_key() -> None:
            _store_key(credentials, rolled[0][1])
            rolled.append((time.monotonic(), ""))

        timers = [threading.Timer(0.5, roll), threading.Timer(0.5 + STORED_LATE_SECONDS, store_new_key)]
        for timer in timers:
            timer.start()
        try:
            customers, invoices = world.sync(world.engine(sink=sink))
            ended = time.monotonic()
        finally:
            for timer in timers:
                timer.join()
        assert rolled[1][0] - rolled[0][0] >= STORED_LATE_SECONDS - 0.1
        assert ended > rolled[1][0]  # the sync was still running when the key reached the store
        outcomes = Counter(r.outcome for r in (*customers.results, *invoices.results))
        assert outcomes["failed"] == 0, [r.reason for r in invoices.results if r.outcome == "failed"]
        assert set(outcomes) <= {"created", "unchanged"}
        log = world.emulator.requests_log(path_prefix="/v1/")
        statuses = [e["status"] for e in log]
        assert 401 in statuses and statuses[-1] == 200  # the roll did hit the run mid-way
        assert sink.metrics().key_refreshes == 1
        assert sink.masked_key.endswith(rolled[0][1][-4:])
        in_stripe = [c for c in world.emulator.objects("customer") if "jde_an8" in c["metadata"]]
        assert sorted(c["metadata"]["jde_an8"] for c in in_stripe) == sorted(
            {str(r.record_key) for r in customers.results if r.outcome == "created"}
        )
        invoice_keys = [
            "/".join(str(i["metadata"][k]) for k in ("jde_kcoo", "jde_doco", "jde_dcto", "jde_sfxo"))
            for i in world.emulator.objects("invoice")
        ]
        assert len(invoice_keys) == len(set(invoice_keys)) == len(invoices.results) > 0  # exact: once each
