"""An invoice sync writes the customers Stripe lacks while it writes the invoices (issue 10's initial
load): both endpoints busy at once, each invoice after its own customer, nothing written twice."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jde_stripe_pipeline.jde.read import fetch_customers
from jde_stripe_pipeline.jde.records import JdeCustomer, QuarantinedRecord
from jde_stripe_pipeline.mapping import InvoiceMappingConfig, InvoiceRequest, map_invoice
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulatorConfig
from jde_stripe_pipeline.sync import SyncEngine, SyncReport
from jde_stripe_pipeline.sync.customer_lane import CustomerLane, in_order_of_need, lane_order, lane_tail
from jde_stripe_pipeline.sync.results import RecordResult
from jde_stripe_pipeline.sync.work import Work
from jde_stripe_pipeline_tests.mapping import builders
from jde_stripe_pipeline_tests.sync.conftest import AS_OF, World, assert_stripe_matches_jde, make_world


def _invoice(key: str, an8: int) -> Work:
    request = map_invoice(builders.invoice(an8=an8), InvoiceMappingConfig())
    assert isinstance(request, InvoiceRequest)
    return Work(key, datetime(2026, 11, 26), request)


def test_customers_go_in_the_order_invoices_need_them_and_ready_invoices_go_first() -> None:
    an8s = {"i1": 30, "i2": 10, "i3": 30, "i4": 20, "i5": 99}
    items = [_invoice(key, an8) for key, an8 in an8s.items()]
    lane = CustomerLane(in_order_of_need(items, {"10", "20", "30"}))
    assert lane.an8s == ["30", "10", "20"]
    ordered = [w.record_key for w in lane.first_needed(items)]
    assert ordered == ["i5", "i1", "i3", "i2", "i4"]  # 99 is in Stripe already: it need not wait
    assert lane.waits_for("30") and not lane.waits_for("99") and not lane.waits_for(None)


def test_an_invoice_does_not_wait_for_the_update_of_a_customer_stripe_has() -> None:
    """The lane also updates changed customers the invoices name; their invoices need only the id."""
    items = [_invoice("i1", 30), _invoice("i2", 10), _invoice("i3", 40)]
    lane = CustomerLane(["30", "40", "10"], unwaited={"40"})  # 40 is in Stripe: an update
    assert lane.waits_for("30") and lane.waits_for("10") and not lane.waits_for("40")
    assert [w.record_key for w in lane.first_needed(items)] == ["i3", "i1", "i2"]


def test_a_wait_ends_with_the_customers_result_or_when_the_lane_closes() -> None:
    lane = CustomerLane(["10", "20"])
    seen: dict[str, Any] = {}

    def wait(an8: str) -> None:
        seen[an8] = lane.wait(an8)

    waiters = [threading.Thread(target=wait, args=(an8,), daemon=True) for an8 in ("10", "20")]
    for thread in waiters:
        thread.start()
    done = RecordResult("customer", "10", "created", "create", "cus_1", None, 1, None)
    lane.done(done)
    waiters[0].join(timeout=5)
    assert seen == {"10": done} and waiters[1].is_alive()  # 20 still waits for its own customer
    lane.close()  # the lane ended without reaching 20 (its JDE row was not handed over)
    waiters[1].join(timeout=5)
    assert seen == {"10": done, "20": None}


def test_a_first_invoice_sync_writes_customers_and_invoices_at_once(tmp_path: Path) -> None:
    """Every request 50 ms at the emulator, so the lanes' overlap is a matter of order, not of luck."""
    config = StripeEmulatorConfig(rate_limit_per_second=1000.0, search_lag_seconds=0.0, latency_ms=50)
    with make_world(tmp_path, customers=20, invoices=40, emulator_config=config) as world:
        engine = world.engine(workers=4)
        with world.session() as session:
            report = engine.sync_invoices(
                world.invoices(), fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF)
            )
        log = world.emulator.requests_log(path_prefix="/v1/")
        customer_writes = [e for e in log if e["endpoint"] == "POST /v1/customers"]
        invoice_creates = [e for e in log if e["endpoint"] == "POST /v1/invoices"]
        assert report.customers is not None
        created = [r for r in report.customers.results if r.outcome == "created"]
        assert len(customer_writes) == len(created) > 5
        assert all(r.requests == 1 for r in created)  # 1 request per new customer, as before
        # overlap: invoices were being created before the last customer was
        assert min(_at(e) for e in invoice_creates) < max(_at(e) for e in customer_writes)
        # and each invoice only once Stripe had answered its own customer's create
        customer_done = {_record_key(e): float(e["answered_at"]) for e in customer_writes}
        an8_of = {str(i.key): str(i.an8) for i in world.good_invoices()}
        for entry in invoice_creates:
            assert customer_done[an8_of[_record_key(entry)]] <= _at(entry), entry["idempotency_key"]
        customers_again = engine.sync_customers(world.customers())  # the customers step after it
        assert {r.record_key for r in customers_again.results if r.outcome != "unchanged"}.isdisjoint(
            {r.record_key for r in created}
        )
        assert_stripe_matches_jde(world)


def test_a_customer_lane_that_fails_does_not_leave_invoices_waiting(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=6, invoices=12) as world:
        engine = world.engine(workers=2)

        def broken_fetch(an8s: Sequence[int]) -> list[Any]:
            raise ConnectionError(f"AIS went away while fetching {len(an8s)} customers")

        finished = threading.Event()

        def run() -> None:
            with pytest.raises(ConnectionError, match="AIS went away"):
                engine.sync_invoices(world.invoices(), fetch_customers=broken_fetch)
            finished.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert finished.wait(timeout=60), "the invoice sync hung on customers that never came"


def _record_key(entry: dict[str, Any]) -> str:
    """`jde-stripe:<kind>:<record key>:<operation>:<hash>` → the record key."""
    return str(entry["idempotency_key"]).split(":")[2]


def _at(entry: dict[str, Any]) -> float:
    return float(entry["received_at"])


def _writing(lane: CustomerLane) -> tuple[threading.Thread, list[str]]:
    """A thread admitting the lane's customers one by one, and what it admitted within 0.3 s."""
    admitted: list[str] = []

    def write_customers() -> None:
        for an8 in lane.an8s:
            lane.admit(an8)
            admitted.append(an8)

    writer = threading.Thread(target=write_customers, daemon=True)
    writer.start()
    writer.join(timeout=0.3)
    return writer, admitted


def test_the_lane_keeps_only_its_lead_ahead_of_the_invoices_that_need_it() -> None:
    lane = CustomerLane([str(n) for n in range(10)], lead=2)
    writer, admitted = _writing(lane)
    assert admitted == ["0", "1"]  # nothing asked yet: the lead alone
    lane.reached("3")  # an invoice of customer 3 waits for it
    writer.join(timeout=0.3)
    assert admitted == ["0", "1", "2", "3", "4", "5"]
    lane.let_go()  # the invoices ended (or a customer went to a later round)
    writer.join(timeout=5)
    assert admitted == lane.an8s and not writer.is_alive()


def test_the_days_other_new_customers_are_spread_among_those_invoices_need() -> None:
    needed = [f"n{i}" for i in range(6)]
    assert lane_order(needed, ["o1", "o2"]) == ["n0", "n1", "o1", "n2", "n3", "o2", "n4", "n5"]
    assert lane_order([], ["o1", "o2"]) == ["o1", "o2"] and lane_order(needed, []) == needed


def test_the_lanes_last_lead_customers_are_others_so_it_ends_with_the_invoices() -> None:
    needed, others = [f"n{i}" for i in range(6)], [f"o{i}" for i in range(4)]
    assert lane_tail(needed, others, lead=2) == 2 and lane_tail(needed, ["o0"], lead=2) == 1
    assert lane_tail([], others, lead=2) == 0  # no invoice needs a customer: the others are the lane
    assert lane_order(needed, others, tail=2) == ["n0", "n1", "o0", "n2", "n3", "o1", "n4", "n5", "o2", "o3"]


def test_the_lanes_tail_waits_for_the_last_invoices() -> None:
    needed = [f"n{i}" for i in range(6)]
    order = lane_order(needed, ["o0", "o1"], tail=2)
    lane = CustomerLane(order, lead=2, invoices=6, tail=2)
    writer, admitted = _writing(lane)
    assert admitted == ["n0", "n1"]
    for _ in range(4):
        lane.started()  # 4 of 6 invoices began: every needed customer, not yet the tail
    writer.join(timeout=0.3)
    assert admitted == needed
    lane.started()  # the fifth: the tail begins beside the last invoices
    writer.join(timeout=0.3)
    assert admitted == [*needed, "o0"]
    lane.started()
    writer.join(timeout=5)
    assert admitted == order and not writer.is_alive()
    with pytest.raises(ValueError, match="tail"):
        CustomerLane(order, lead=1, tail=2)


def test_the_lane_keeps_up_with_the_invoices_even_when_none_needs_its_customers() -> None:
    lane = CustomerLane([str(n) for n in range(10)], lead=1, invoices=5)
    writer, admitted = _writing(lane)
    assert admitted == ["0"]
    lane.started()  # one invoice of five began: a fifth of the lane (2 customers), and the lead
    writer.join(timeout=0.3)
    assert admitted == ["0", "1", "2"]
    for _ in range(4):
        lane.started()
    writer.join(timeout=5)
    assert admitted == lane.an8s and not writer.is_alive()


def _invoice_step(
    world: World, engine: SyncEngine
) -> tuple[list[JdeCustomer | QuarantinedRecord], SyncReport]:
    """The day's customers, and an invoice sync handed them (as the invoice step is) with its customer
    reads through AIS; its customers' report is there."""
    day = world.customers()
    with world.session() as session:
        report = engine.sync_invoices(
            world.invoices(),
            fetch_customers=lambda an8s: fetch_customers(session, an8s, as_of=AS_OF),
            day_customers=day,
        )
    assert report.customers is not None
    return day, report.customers


def test_an_invoice_sync_also_writes_the_days_customers_no_invoice_names(tmp_path: Path) -> None:
    with make_world(tmp_path, customers=20, invoices=10) as world:
        engine = world.engine(workers=4)
        day, customers = _invoice_step(world, engine)
        created = {r.record_key for r in customers.results if r.outcome == "created"}
        named = {str(i.an8) for i in world.good_invoices()}
        others = {str(c.an8) for c in day if isinstance(c, JdeCustomer) and str(c.an8) not in named}
        assert others and others <= created  # not only the customers the invoices name
        assert customers.requests_sent == len(created)  # 1 request per new customer
        customers_again = engine.sync_customers(day)  # the customers step after it writes nothing
        assert customers_again.requests_sent == 0
        assert_stripe_matches_jde(world)


def test_the_customer_step_after_the_lane_repeats_no_audit_row_and_another_run_records_unchanged(
    tmp_path: Path,
) -> None:
    with make_world(tmp_path, customers=6, invoices=4) as world:
        engine = world.engine(workers=2)
        day, customers = _invoice_step(world, engine)
        created = sorted(r.record_key for r in customers.results if r.outcome == "created")
        ledger = world.ledger()

        def outcomes(key: str) -> list[str]:
            return [entry.outcome for entry in ledger.history(key, object_type="customer")]

        assert created and all(outcomes(key) == ["created"] for key in created)
        same_run = engine.sync_customers(day)  # the customers step of the same run
        assert {
            r.record_key: r.outcome for r in same_run.results if r.record_key in created
        } == dict.fromkeys(created, "unchanged")
        assert all(outcomes(key) == ["created"] for key in created), "the lane's row is the run's record"
        world.engine(workers=2).sync_customers(day)  # the next run
        assert all(outcomes(key) == ["created", "unchanged"] for key in created)


@pytest.mark.parametrize("named", [False, True], ids=["no invoice names it", "an invoice names it"])
def test_a_changed_customer_is_updated_beside_the_invoices(tmp_path: Path, named: bool) -> None:
    """Its update goes on the invoice step's lane, not alone after the invoices (issue 10's incremental
    day: 200 updates at `POST /v1/customers/{id}`'s pace, a third of the run); an invoice naming it does
    not wait for it (it needs only the id); the customer step after it sends nothing."""
    with make_world(tmp_path, customers=20, invoices=10) as world:
        _invoice_step(world, world.engine(workers=4))
        billed = {str(i.an8) for i in world.good_invoices()}
        renamed = next(str(c.an8) for c in world.customers() if (str(c.an8) in billed) == named)
        world.upsert("F0101", [{"AN8": int(renamed), "ALPH": "Renamed In JDE"}])
        engine = world.engine(workers=4)
        day, customers = _invoice_step(world, engine)
        updated = [r.record_key for r in customers.results if r.outcome == "updated"]
        assert updated == [renamed] and customers.requests_sent == 1
        assert engine.sync_customers(day).requests_sent == 0
        assert_stripe_matches_jde(world)
