"""StripeSink through the official SDK against the Stripe emulator on loopback: no mocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jde_stripe_pipeline.sandboxes.stripe_emulator import (
    DEFAULT_API_KEY,
    StripeEmulator,
    StripeEmulatorConfig,
)
from jde_stripe_pipeline.stripe_sink import (
    StaticKeySource,
    StripeAuthError,
    StripeIdempotencyConflict,
    StripeRequestRejected,
    StripeSink,
    StripeSinkSettings,
    StripeUnavailable,
)
from jde_stripe_pipeline_tests.stripe_sink.support import MutableKey, loopback_sink
from jde_stripe_pipeline_tests.threads import in_threads


@dataclass
class Running:
    emulator: StripeEmulator
    url: str

    def sink(self, key_source: Any = None, **overrides: Any) -> StripeSink:
        return loopback_sink(self.url, key_source, **overrides)

    def log(self, path: str = "/v1/") -> list[dict[str, Any]]:
        return self.emulator.requests_log(path_prefix=path)

    def customers(self) -> list[dict[str, Any]]:
        return self.emulator.objects("customer")


@pytest.fixture
def stripe_api() -> Iterator[Running]:
    emulator = StripeEmulator(StripeEmulatorConfig(search_lag_seconds=0.0))
    try:
        with emulator.serve(port=0) as server:
            yield Running(emulator, server.url)
    finally:
        emulator.close()


def customer_params(an8: int) -> dict[str, Any]:
    return {"name": f"Customer {an8}", "metadata": {"jde_an8": str(an8)}}


def test_same_idempotency_key_twice_makes_one_customer(stripe_api: Running) -> None:
    with stripe_api.sink() as sink:
        first = sink.create_customer(customer_params(1001), idempotency_key="customer-1001-create-h1")
        second = sink.create_customer(customer_params(1001), idempotency_key="customer-1001-create-h1")
        assert first.object["id"] == second.object["id"]
        assert (first.replayed, second.replayed) == (False, True)
        assert first.request_id and first.request_id.startswith("req_")
        assert first.object["metadata"] == {"jde_an8": "1001"}
        assert len(stripe_api.customers()) == 1
        assert sink.metrics().replays == 1


def test_lost_answers_and_503s_still_end_each_create_exactly_once(stripe_api: Running) -> None:
    stripe_api.emulator.update_config(commit_then_fail_rate=0.25, unavailable_rate=0.2, fault_seed=11)
    # Generous retries: the point is exactly-once, and on a loaded machine 429s and timeouts shift which
    # attempt draws which fault, so a run of faults longer than the default bound can occur.
    with stripe_api.sink(max_retries=20) as sink:
        results = [
            sink.create_customer(customer_params(an8), idempotency_key=f"customer-{an8}-create")
            for an8 in range(1, 31)
        ]
        metrics = sink.metrics()
    faults = [entry["fault"] for entry in stripe_api.log()]
    assert faults.count("commit_then_fail") >= 3 and faults.count("unavailable") >= 3
    an8s = sorted(int(c["metadata"]["jde_an8"]) for c in stripe_api.customers())
    assert an8s == list(range(1, 31))  # every logical create landed once: none lost, none doubled
    assert {r.object["id"] for r in results} == {c["id"] for c in stripe_api.customers()}
    assert metrics.replays >= 3  # retries after a committed-but-lost answer were answered by replay
    assert metrics.logical_requests == 30
    assert metrics.attempts == len(stripe_api.log())


def test_saved_500s_fail_cleanly_and_never_duplicate(stripe_api: Running) -> None:
    stripe_api.emulator.update_config(fail_rate=0.2, commit_then_fail_rate=0.2, fault_seed=5)
    landed: dict[int, str] = {}
    failed: list[StripeUnavailable] = []
    with stripe_api.sink() as sink:
        for an8 in range(1, 41):
            try:
                result = sink.create_customer(customer_params(an8), idempotency_key=f"customer-{an8}-create")
                landed[an8] = result.object["id"]
            except StripeUnavailable as error:
                failed.append(error)
    assert failed, "the fault seed should produce some saved 500s"
    assert all(error.same_key_will_fail and error.http_status == 500 for error in failed)
    in_stripe = {int(c["metadata"]["jde_an8"]): c["id"] for c in stripe_api.customers()}
    assert in_stripe == landed  # exactly the successes exist, each once
    assert len(landed) + len(failed) == 40


def test_429s_are_retried_until_every_request_succeeds(stripe_api: Running) -> None:
    stripe_api.emulator.update_config(rate_limit_per_second=6)
    with stripe_api.sink(max_retries=30, backoff_base_seconds=0.05, backoff_max_seconds=0.4) as sink:

        def work(offset: int) -> None:
            for i in range(4):
                an8 = offset * 10 + i
                sink.create_customer(customer_params(an8), idempotency_key=f"customer-{an8}-create")

        errors = in_threads(work, 4)
        metrics = sink.metrics()
    assert errors == []
    statuses = [entry["status"] for entry in stripe_api.log()]
    assert statuses.count(429) > 0 and statuses.count(200) == 16
    assert metrics.rate_limited == statuses.count(429)
    assert len(stripe_api.customers()) == 16


def test_client_pacing_keeps_under_the_server_limit(stripe_api: Running) -> None:
    """16 requests from 4 threads would overrun a 10/s limit unpaced; paced at 8/s none is refused."""
    stripe_api.emulator.update_config(rate_limit_per_second=10)
    with stripe_api.sink(rate_per_second=8.0, burst=1, max_retries=0) as sink:

        def work(_: int) -> None:
            for _ in range(4):
                sink.retrieve_balance()

        errors = in_threads(work, 4)
        metrics = sink.metrics()
    assert errors == []
    statuses = [entry["status"] for entry in stripe_api.log()]
    assert statuses == [200] * 16
    assert metrics.rate_limited == 0
    assert metrics.token_wait_seconds > 1.0  # the bucket, not luck, spaced them out


def test_401_after_rotation_rereads_the_key_and_carries_on(stripe_api: Running) -> None:
    source = MutableKey(DEFAULT_API_KEY)
    with stripe_api.sink(key_source=source) as sink:
        sink.create_customer(customer_params(1), idempotency_key="c1")
        new_key = stripe_api.emulator.roll_key(DEFAULT_API_KEY, expires_in_seconds=0)
        source.key = new_key
        result = sink.create_customer(customer_params(2), idempotency_key="c2")
        assert result.object["metadata"]["jde_an8"] == "2"
        assert sink.metrics().key_refreshes == 1
        assert sink.masked_key.endswith(new_key[-4:])
    assert [entry["status"] for entry in stripe_api.log()] == [200, 401, 200]
    assert source.calls == 2  # once at start, once after the 401


def test_401_without_a_new_key_fails_naming_the_masked_key(stripe_api: Running) -> None:
    source = MutableKey(DEFAULT_API_KEY)
    with stripe_api.sink(key_source=source, key_grace_seconds=0) as sink:
        stripe_api.emulator.roll_key(DEFAULT_API_KEY, expires_in_seconds=0)
        with pytest.raises(StripeAuthError) as caught:
            sink.create_customer(customer_params(1), idempotency_key="c1")
    text = str(caught.value)
    assert "sk_test_…" + DEFAULT_API_KEY[-4:] in text
    assert DEFAULT_API_KEY not in text and DEFAULT_API_KEY not in repr(caught.value)
    assert "API key" in text and "401" in text
    assert [entry["status"] for entry in stripe_api.log()] == [401]  # same key: no pointless resend


def test_unknown_key_at_start_is_refused_clearly(stripe_api: Running) -> None:
    bad = "sk_test_thisKeyDoesNotExist0000wxyz"
    with stripe_api.sink(key_source=StaticKeySource(bad)) as sink:
        assert bad not in repr(sink)
        with pytest.raises(StripeAuthError, match="sk_test_…wxyz"):
            sink.retrieve_balance()


def test_400_is_typed_and_not_retried(stripe_api: Running) -> None:
    with stripe_api.sink() as sink, pytest.raises(StripeRequestRejected) as caught:
        sink.create_customer({"name": "X", "nmae": "typo"}, idempotency_key="c-typo")
    error = caught.value
    assert (error.http_status, error.param, error.code) == (400, "nmae", "parameter_unknown")
    assert "nmae" in error.message
    assert error.request_id and error.request_id.startswith("req_")
    assert error.operation == "customers.create"
    assert len(stripe_api.log()) == 1


def test_same_key_with_other_params_is_an_idempotency_conflict(stripe_api: Running) -> None:
    with stripe_api.sink() as sink:
        sink.create_customer(customer_params(1), idempotency_key="k")
        with pytest.raises(StripeIdempotencyConflict) as caught:
            sink.create_customer(customer_params(2), idempotency_key="k")
    assert caught.value.http_status == 400
    assert len(stripe_api.customers()) == 1


def test_missing_object_is_a_404_rejection(stripe_api: Running) -> None:
    with stripe_api.sink() as sink, pytest.raises(StripeRequestRejected) as caught:
        sink.retrieve_customer("cus_doesnotexist")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_unreachable_stripe_gives_up_after_bounded_retries() -> None:
    running = Running(StripeEmulator(), "http://127.0.0.1:9")  # nothing listens on the discard port
    with running.sink(max_retries=2) as sink, pytest.raises(StripeUnavailable) as caught:
        sink.retrieve_balance()
    assert caught.value.attempts == 3
    assert sink.metrics().requests == {"GET /v1/balance connection_error": 3}


def test_threads_share_one_client(stripe_api: Running) -> None:
    stripe_api.emulator.update_config(rate_limit_per_second=1000)
    with stripe_api.sink(rate_per_second=200.0, burst=5) as sink:
        ids: list[str] = []
        lock = threading.Lock()

        def work(offset: int) -> None:
            for i in range(6):
                an8 = offset * 100 + i
                result = sink.create_customer(customer_params(an8), idempotency_key=f"customer-{an8}")
                with lock:
                    ids.append(result.object["id"])

        errors = in_threads(work, 5)
        metrics = sink.metrics()
    assert errors == []
    assert len(set(ids)) == 30 == len(stripe_api.customers())
    assert metrics.logical_requests == 30 == metrics.attempts


def test_listing_pages_through_everything(stripe_api: Running) -> None:
    with stripe_api.sink() as sink:
        for an8 in range(5):
            sink.create_customer(customer_params(an8), idempotency_key=f"c{an8}")
        stripe_api.emulator.clear_requests_log()
        listed = list(sink.list_customers({"limit": 2}))
        assert sorted(int(c["metadata"]["jde_an8"]) for c in listed) == list(range(5))
        assert len(stripe_api.log()) == 3  # pages of 2, 2, 1


def test_invoice_lifecycle(stripe_api: Running) -> None:
    with stripe_api.sink() as sink:
        customer = sink.create_customer(customer_params(7), idempotency_key="c7").object["id"]
        invoice = sink.create_invoice(
            {
                "customer": customer,
                "currency": "usd",
                "auto_advance": False,
                "collection_method": "send_invoice",
                "days_until_due": 30,
                "metadata": {"jde_doco": "42"},
            },
            idempotency_key="inv-42-create",
        ).object
        assert invoice["status"] == "draft"
        lines = [
            {"amount": 1000 * n, "description": f"Line {n}", "metadata": {"jde_lnid": f"{n}.000"}}
            for n in (1, 2, 3)
        ]
        added = sink.add_invoice_lines(invoice["id"], {"lines": lines}, idempotency_key="inv-42-add-h1")
        assert added.object["subtotal"] == 6000
        all_lines = list(sink.list_invoice_lines(invoice["id"], {"limit": 2}))
        assert [line["metadata"]["jde_lnid"] for line in all_lines] == ["1.000", "2.000", "3.000"]
        by_lnid = {line["metadata"]["jde_lnid"]: line["id"] for line in all_lines}
        sink.update_invoice_lines(
            invoice["id"],
            {"lines": [{"id": by_lnid["2.000"], "amount": 2500}]},
            idempotency_key="inv-42-update-h2",
        )
        removed = sink.remove_invoice_lines(
            invoice["id"],
            {"lines": [{"id": by_lnid["1.000"], "behavior": "delete"}]},
            idempotency_key="inv-42-remove-h2",
        )
        assert removed.object["subtotal"] == 5500
        sink.update_invoice(invoice["id"], {"description": "PO 42"}, idempotency_key="inv-42-update-hdr")
        assert sink.retrieve_invoice(invoice["id"]).object["description"] == "PO 42"
        drafts = list(sink.list_invoices(customer=customer, status="draft"))
        assert [d["id"] for d in drafts] == [invoice["id"]]
        deleted = sink.delete_invoice(invoice["id"], idempotency_key="inv-42-delete")
        assert deleted.object["deleted"] is True and not deleted.replayed
        assert list(sink.list_invoices(customer=customer)) == []


def test_delete_whose_answer_was_lost_counts_as_done(stripe_api: Running) -> None:
    emulator = stripe_api.emulator

    def heal_then_sleep(_seconds: float) -> None:
        emulator.update_config(commit_then_fail_rate=0.0)

    settings = StripeSinkSettings(
        key_source=StaticKeySource(DEFAULT_API_KEY), api_base=stripe_api.url, rate_per_second=1000.0
    )
    with StripeSink(settings, sleep=heal_then_sleep) as sink:
        customer = sink.create_customer(customer_params(8), idempotency_key="c8").object["id"]
        invoice = sink.create_invoice(
            {"customer": customer, "currency": "usd", "auto_advance": False}, idempotency_key="inv-8"
        ).object["id"]
        emulator.update_config(commit_then_fail_rate=1.0)
        result = sink.delete_invoice(invoice, idempotency_key="inv-8-delete")
    assert result.object == {"id": invoice, "object": "invoice", "deleted": True}
    assert result.replayed
    statuses = [e["status"] for e in stripe_api.log(f"/v1/invoices/{invoice}")]
    assert statuses[0] in (0, 500) and statuses[-1] == 404


def test_balance_is_a_connection_check(stripe_api: Running) -> None:
    with stripe_api.sink() as sink:
        result = sink.retrieve_balance()
    assert result.object["object"] == "balance"
    assert not result.replayed


def test_writes_require_an_idempotency_key(stripe_api: Running) -> None:
    with stripe_api.sink() as sink, pytest.raises(ValueError, match="idempotency key"):
        sink.create_customer(customer_params(1), idempotency_key="")
    assert stripe_api.log() == []
