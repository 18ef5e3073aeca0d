"""A second opinion: the same customer calls against localstripe (GPL-3.0, run as a separate process).

localstripe implements customers well enough to compare (create, update, list, paging); where the two
differ, the emulator follows Stripe's documentation and fixtures3.json — the differences are listed here
(and in the emulator's docstring) and asserted, so a change on either side is noticed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer

from .conftest import make_client

# Keys localstripe returns that Stripe's current API (2026-10-28) does not: removed long ago
# (`account_balance`, `business_vat_id`), or only returned when expanded since 2020-08-27 (`sources`,
# `subscriptions`, `tax_ids`).
ONLY_LOCALSTRIPE = {"account_balance", "business_vat_id", "sources", "subscriptions", "tax_ids"}
# Keys Stripe's example customer has that localstripe leaves out (an unset `business_name` /
# `individual_name` is absent in both, as in Stripe's OpenAPI spec).
ONLY_EMULATOR = {
    "balance",
    "customer_account",
    "invoice_prefix",
    "next_invoice_sequence",
    "tax_exempt",
    "test_clock",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = shutil.which("localstripe", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("localstripe is not installed (it is in the dev extra: pip install -e '.[dev]')")
    port = _free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--from-scratch"],
        cwd=tmp_path_factory.mktemp("localstripe"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(url + "/v1/customers", auth=("sk_test_x", ""), timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip("localstripe did not start")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _scenario(client: stripe.StripeClient) -> dict[str, Any]:
    created = client.v1.customers.create(
        params={
            "name": "Acme Corp",
            "email": "ap@acme.test",
            "phone": "+15555550100",
            "description": "JDE 1001",
            "address": {"line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country": "US"},
            "metadata": {"jde_an8": "1001", "jde_co": "00001"},
            "preferred_locales": ["en"],
        }
    ).to_dict()
    updated = client.v1.customers.update(
        created["id"], params={"name": "Acme Corporation", "metadata": {"jde_co": "00002"}}
    ).to_dict()
    for i in range(3):
        client.v1.customers.create(params={"name": f"extra {i}", "email": f"x{i}@acme.test"})
    first = client.v1.customers.list(params={"limit": 2})
    second = client.v1.customers.list(params={"limit": 2, "starting_after": first.data[-1].id})
    third = client.v1.customers.list(params={"limit": 2, "starting_after": second.data[-1].id})
    return {
        "created": created,
        "updated": updated,
        "pages": [[c.name for c in page.data] for page in (first, second, third)],
        "has_more": [page.has_more for page in (first, second, third)],
        "list_keys": set(first.to_dict()),
    }


def test_customer_calls_agree_with_localstripe(localstripe_url: str, server: LoopbackServer) -> None:
    ours = _scenario(make_client(server))
    theirs = _scenario(
        stripe.StripeClient(
            "sk_test_localstripe", base_addresses={"api": localstripe_url}, max_network_retries=0
        )
    )
    for field in (
        "name",
        "email",
        "phone",
        "description",
        "metadata",
        "object",
        "livemode",
        "preferred_locales",
    ):
        assert ours["created"][field] == theirs["created"][field], field
    assert ours["updated"]["name"] == theirs["updated"]["name"] == "Acme Corporation"
    assert (
        ours["updated"]["metadata"] == theirs["updated"]["metadata"] == {"jde_an8": "1001", "jde_co": "00002"}
    )
    # Same cursor paging and page sizes; but Stripe lists newest first, localstripe oldest first.
    assert [len(page) for page in ours["pages"]] == [len(page) for page in theirs["pages"]] == [2, 2, 0]
    ours_order = [name for page in ours["pages"] for name in page]
    assert ours_order == ["extra 2", "extra 1", "extra 0", "Acme Corporation"]
    assert [name for page in theirs["pages"] for name in page] == list(reversed(ours_order))
    assert ours["has_more"] == theirs["has_more"] == [True, False, False]
    # localstripe adds `total_count` to every list; Stripe only when `expand[]=total_count` is asked for.
    assert theirs["list_keys"] - ours["list_keys"] == {"total_count"}
    assert set(theirs["created"]) - set(ours["created"]) == ONLY_LOCALSTRIPE
    assert set(ours["created"]) - set(theirs["created"]) == ONLY_EMULATOR
    # localstripe leaves unset address parts out and picks a currency; Stripe (and we) show nulls / null.
    assert ours["created"]["address"]["line2"] is None and "line2" not in theirs["created"]["address"]
    assert ours["created"]["currency"] is None


def test_unset_rules_where_localstripe_departs_from_stripe(
    localstripe_url: str, server: LoopbackServer
) -> None:
    """Stripe: `""` unsets a field and removes a metadata key. localstripe stores the empty strings."""
    results = []
    for client in (
        make_client(server),
        stripe.StripeClient(
            "sk_test_localstripe", base_addresses={"api": localstripe_url}, max_network_retries=0
        ),
    ):
        customer = client.v1.customers.create(params={"phone": "1", "metadata": {"k": "v", "keep": "1"}})
        results.append(
            client.v1.customers.update(customer.id, params={"phone": "", "metadata": {"k": ""}}).to_dict()
        )
    ours, theirs = results
    assert ours["phone"] is None and ours["metadata"] == {"keep": "1"}
    assert theirs["phone"] == "" and theirs["metadata"] == {"k": "", "keep": "1"}
