"""Accounts hold their own objects, idempotency keys and search index, as Stripe keeps them apart; a
Connect platform's key acts on a connected account with `Stripe-Account`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_ACCOUNT,
    StripeEmulator,
    StripeEmulatorConfig,
)

from .conftest import make_client

US_KEY = "sk_test_emulator_us_0000000000000001"
EU_KEY = "sk_test_emulator_eu_0000000000000002"
PLATFORM_KEY = "sk_test_emulator_platform_000000003"
KEY_ACCOUNTS = {US_KEY: "acct_us", EU_KEY: "acct_eu", PLATFORM_KEY: "acct_platform"}


def _config(**changes: object) -> StripeEmulatorConfig:
    return StripeEmulatorConfig.of(
        api_keys=list(KEY_ACCOUNTS),
        key_accounts=KEY_ACCOUNTS,
        connected_accounts={"acct_connected": "acct_platform"},
        rate_limit_per_second=0,
        search_rate_limit_per_second=0,
        search_lag_seconds=0,
        **changes,
    )


@pytest.fixture
def accounts_server() -> Iterator[tuple[StripeEmulator, LoopbackServer]]:
    emulator = StripeEmulator(_config())
    with emulator.serve(port=0) as server:
        yield emulator, server
    emulator.close()


def test_each_account_sees_only_its_own_objects(
    accounts_server: tuple[StripeEmulator, LoopbackServer],
) -> None:
    emulator, server = accounts_server
    us, eu = make_client(server, US_KEY), make_client(server, EU_KEY)
    customer = us.v1.customers.create(params={"name": "Acme US", "metadata": {"jde_an8": "1001"}})
    invoice = us.v1.invoices.create(params={"customer": customer.id, "auto_advance": False})

    with pytest.raises(stripe.InvalidRequestError) as missing:
        eu.v1.customers.retrieve(customer.id)
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as foreign:
        eu.v1.invoices.create(params={"customer": customer.id})
    assert foreign.value.code == "resource_missing" and foreign.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError):
        eu.v1.invoices.retrieve(invoice.id)
    assert eu.v1.customers.list().data == [] and eu.v1.invoices.list().data == []
    assert eu.v1.customers.search(params={"query": "metadata['jde_an8']:'1001'"}).data == []
    assert [c.id for c in us.v1.customers.search(params={"query": "metadata['jde_an8']:'1001'"}).data] == [
        customer.id
    ]

    assert [c["id"] for c in emulator.objects("customer", "acct_us")] == [customer.id]
    assert emulator.objects("customer", "acct_eu") == []
    assert [c["id"] for c in emulator.objects("customer")] == [customer.id]  # every account
    assert emulator.stats()["accounts"]["acct_us"]["invoice"] == 1


def test_the_same_idempotency_key_in_two_accounts_makes_two_objects(
    accounts_server: tuple[StripeEmulator, LoopbackServer],
) -> None:
    _, server = accounts_server
    options: stripe.RequestOptions = {"idempotency_key": "customer-1001-create"}
    us = make_client(server, US_KEY).v1.customers.create(params={"name": "Acme"}, options=options)
    eu = make_client(server, EU_KEY).v1.customers.create(params={"name": "Acme Europe"}, options=options)
    assert us.id != eu.id  # not a replay, and not idempotency_error for the other params
    assert eu.last_response is not None and "Idempotent-Replayed" not in eu.last_response.headers
    again = make_client(server, US_KEY).v1.customers.create(params={"name": "Acme"}, options=options)
    assert again.id == us.id


def test_a_platform_key_acts_on_its_connected_account_only(
    accounts_server: tuple[StripeEmulator, LoopbackServer],
) -> None:
    emulator, server = accounts_server
    platform = make_client(server, PLATFORM_KEY)
    connected: stripe.RequestOptions = {"stripe_account": "acct_connected"}
    customer = platform.v1.customers.create(params={"name": "Acme Connected"}, options=connected)
    assert [c["id"] for c in emulator.objects("customer", "acct_connected")] == [customer.id]
    assert emulator.objects("customer", "acct_platform") == []
    assert platform.v1.customers.retrieve(customer.id, options=connected).id == customer.id
    with pytest.raises(stripe.InvalidRequestError):
        platform.v1.customers.retrieve(customer.id)  # the platform's own account has no such customer
    assert emulator.requests_log(account="acct_connected")

    with pytest.raises(stripe.PermissionError) as not_connected:
        platform.v1.customers.list(options={"stripe_account": "acct_us"})
    assert not_connected.value.http_status == 403
    assert "does not have access to account 'acct_us'" in str(not_connected.value.user_message)
    assert PLATFORM_KEY not in str(not_connected.value.user_message)
    with pytest.raises(stripe.PermissionError) as no_platform:
        make_client(server, US_KEY).v1.customers.list(options={"stripe_account": "acct_connected"})
    assert "Only Stripe Connect platforms" in str(no_platform.value.user_message)


def test_a_saved_store_keeps_each_account_apart(tmp_path: Path) -> None:
    db = tmp_path / "stripe.sqlite"
    first = StripeEmulator(_config(), db_path=db)
    with first.serve(port=0) as server:
        us = make_client(server, US_KEY).v1.customers.create(
            params={"name": "Acme"}, options={"idempotency_key": "k-1"}
        )
    first.close()
    second = StripeEmulator(_config(), db_path=db)
    with second.serve(port=0) as server:
        assert [c["id"] for c in second.objects("customer", "acct_us")] == [us.id]
        assert second.objects("customer", "acct_eu") == []
        replay = make_client(server, US_KEY).v1.customers.create(
            params={"name": "Acme"}, options={"idempotency_key": "k-1"}
        )
        assert replay.id == us.id
    second.close()


def test_a_file_from_before_accounts_is_the_default_accounts(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as old:
        old.executescript(
            "CREATE TABLE objects (kind TEXT, id TEXT, body TEXT, PRIMARY KEY (kind, id));"
            "CREATE TABLE idempotency (key TEXT PRIMARY KEY, body TEXT);"
        )
        old.execute(
            "INSERT INTO objects VALUES ('customer', 'cus_old', ?)",
            ('{"id": "cus_old", "object": "customer", "deleted": false, "_seq": 3}',),
        )
    old.close()
    emulator = StripeEmulator(StripeEmulatorConfig(), db_path=db)
    assert [c["id"] for c in emulator.objects("customer", DEFAULT_ACCOUNT)] == ["cus_old"]
    emulator.close()
